//! Writes one step of a seeded lane (tiny spec) as a trace step in the vectors' format
//! (`pre_state`, `block`, `post_state`), to replay a step a target failed on in a run made
//! without `--out`, or to keep one as a test. The lane is deterministic per seed, so step `N` here
//! is the block `orrery fuzz --lane LANE --seed SEED` sent as its `N`th.
//!
//! Usage: cargo run --release -p orrery-fuzzer --example write_step -- LANE SEED STEP DIR

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use orrery_fuzzer::driver::write_trace;
use orrery_fuzzer::{Config, Generator, Lane};
use orrery_testkit::tiny_import_context;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [lane, seed, step, dir] = args.as_slice() else {
        eprintln!("usage: write_step LANE SEED STEP DIR");
        return ExitCode::FAILURE;
    };
    let Some(lane) = Lane::by_name(lane) else {
        eprintln!("error: unknown lane {lane:?} (happy, mutations or safrole)");
        return ExitCode::FAILURE;
    };
    let (Ok(seed), Ok(step)) = (seed.parse::<u64>(), step.parse::<u64>()) else {
        eprintln!("error: SEED and STEP are numbers");
        return ExitCode::FAILURE;
    };
    if step == 0 {
        eprintln!("error: steps count from 1");
        return ExitCode::FAILURE;
    }
    let mut generator = match Generator::new(Arc::new(tiny_import_context()), Config::lane(lane, seed)) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    for n in 1..=step {
        let s = match generator.next_step() {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error at step {n}: {e}");
                return ExitCode::FAILURE;
            }
        };
        if n == step {
            let name = format!("{}-{seed}-{n:08}", lane.name());
            return match write_trace(&PathBuf::from(dir), &name, &s) {
                Ok(path) => {
                    println!(
                        "step {n} ({:?}, Orrery's import: {:?}): {}",
                        s.kind,
                        s.outcome.as_ref().err(),
                        path.display()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            };
        }
    }
    ExitCode::SUCCESS
}
