//! `orrery conformance`: one line per family, failing cases with a short diff, then a total.

use std::path::Path;
use std::process::ExitCode;

use orrery_conformance::{discover, resolve_all, run as run_family, Family};

pub fn run(vectors: &Path, requested: &[String], verbose: bool) -> ExitCode {
    let families: Vec<Family>;
    let mut missing = 0;
    let mut other_failures = 0;
    if requested.is_empty() {
        match discover(vectors) {
            Ok(found) => {
                families = found.families;
                for other in &found.others {
                    if other.has_vectors {
                        other_failures += 1;
                        outln!(
                            "{}: FAILED: holds vector files of a kind this runner does not know",
                            other.name
                        );
                    } else {
                        outln!("{}: not run: no vector files in it (scripts, schemas)", other.name);
                    }
                }
            }
            Err(err) => {
                eprintln!("error: {err}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        let errors;
        (families, errors) = resolve_all(vectors, requested);
        for err in &errors {
            eprintln!("error: {err}");
        }
        missing = errors.len();
    }

    let (mut passed, mut failed) = (0, 0);
    for family in &families {
        let report = run_family(family);
        outln!("{}: {} passed, {} failed", report.family, report.passed(), report.failed());
        for case in &report.cases {
            match &case.failure {
                Some(why) => {
                    let mut lines = why.lines();
                    outln!("  FAIL {}: {}", case.name, lines.next().unwrap_or_default());
                    for line in lines.take(12) {
                        outln!("       {line}");
                    }
                }
                None if verbose => outln!("  ok   {}", case.name),
                None => {}
            }
        }
        passed += report.passed();
        failed += report.failed();
    }
    outln!("total: {passed} passed, {failed} failed");
    outln!("{}", crate::pvm_summary());
    if passed + failed == 0 {
        eprintln!(
            "error: no case ran: the vectors folder {} holds no cases for what was asked",
            vectors.display()
        );
        return ExitCode::FAILURE;
    }
    if failed > 0 || missing > 0 || other_failures > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
