//! `orrery conformance`: one line per family, failing cases with a short diff, then a total.

use std::path::Path;
use std::process::ExitCode;

use orrery_conformance::{discover, resolve, run as run_family, Family};

pub fn run(vectors: &Path, requested: &[String], verbose: bool) -> ExitCode {
    let mut families: Vec<Family> = Vec::new();
    let mut missing = 0;
    if requested.is_empty() {
        match discover(vectors) {
            Ok(found) => families = found,
            Err(err) => {
                eprintln!("error: {err}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        for name in requested {
            match resolve(vectors, name) {
                Ok(found) => families.extend(found),
                Err(err) => {
                    eprintln!("error: {err}");
                    missing += 1;
                }
            }
        }
    }

    let (mut passed, mut failed) = (0, 0);
    for family in &families {
        let report = run_family(family);
        println!("{}: {} passed, {} failed", report.family, report.passed(), report.failed());
        for case in &report.cases {
            match &case.failure {
                Some(why) => {
                    let mut lines = why.lines();
                    println!("  FAIL {}: {}", case.name, lines.next().unwrap_or_default());
                    for line in lines.take(12) {
                        println!("       {line}");
                    }
                }
                None if verbose => println!("  ok   {}", case.name),
                None => {}
            }
        }
        passed += report.passed();
        failed += report.failed();
    }
    println!("total: {passed} passed, {failed} failed");
    if failed > 0 || missing > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
