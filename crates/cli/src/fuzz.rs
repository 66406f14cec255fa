//! `orrery fuzz-target` (serve the conformance fuzzer protocol on a Unix socket) and
//! `orrery fuzz-client` (drive any target with trace folders or recorded sessions, timing each
//! import).

use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use orrery_fuzz::client::{example_pairs_in, replay, run_trace, Client, ExampleOutcome, Summary};
use orrery_types::ChainSpec;

use crate::Node;

pub fn target(node: &Node, socket: &Path) -> ExitCode {
    let ctx = match node.context() {
        Ok(ctx) => ctx,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    match orrery_fuzz::target::listen(Arc::new(ctx), socket, |line| eprintln!("fuzz-target: {line}")) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}: {e}", socket.display());
            ExitCode::FAILURE
        }
    }
}

fn connect(socket: &Path) -> Result<UnixStream, String> {
    // A target just started may not be listening yet.
    for _ in 0..100 {
        if let Ok(stream) = UnixStream::connect(socket) {
            return Ok(stream);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    UnixStream::connect(socket).map_err(|e| format!("connecting to {}: {e}", socket.display()))
}

/// Drives the target at `socket` through each trace folder (one session each), or replays each
/// folder of recorded example pairs, printing a line per folder.
pub fn client(
    spec: &ChainSpec,
    socket: &Path,
    folders: &[PathBuf],
    examples: bool,
    verbose: bool,
) -> ExitCode {
    let mut failed = false;
    for dir in folders {
        let stream = match connect(socket) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        };
        if examples {
            // The recording starts with its own handshake, which is replayed too.
            let mut client = Client::new(stream, spec.clone());
            let pairs = match example_pairs_in(dir) {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::FAILURE;
                }
            };
            match replay(&mut client, &pairs) {
                Ok(outcomes) => {
                    let identical = outcomes.iter().filter(|o| o.1 == ExampleOutcome::Identical).count();
                    let same_kind =
                        outcomes.iter().filter(|o| matches!(o.1, ExampleOutcome::SameKind(_))).count();
                    let different: Vec<_> =
                        outcomes.iter().filter(|o| matches!(o.1, ExampleOutcome::Different(_))).collect();
                    println!(
                        "{}: {} answers, {identical} identical, {same_kind} of the same kind (peer_info, error), {} different",
                        dir.display(),
                        outcomes.len(),
                        different.len()
                    );
                    for (name, outcome, _) in different {
                        println!("  DIFF {name}: {outcome:?}");
                        failed = true;
                    }
                }
                Err(e) => {
                    eprintln!("error: {}: {e}", dir.display());
                    failed = true;
                }
            }
            continue;
        }
        let mut client = Client::new(stream, spec.clone());
        let peer = match client.handshake() {
            Ok(peer) => peer,
            Err(e) => {
                eprintln!("error: {}: handshake: {e}", dir.display());
                return ExitCode::FAILURE;
            }
        };
        match run_trace(&mut client, dir) {
            Ok(steps) => {
                let wrong: Vec<_> = steps.iter().filter(|s| !s.as_expected).collect();
                let imported: Vec<Duration> =
                    steps.iter().filter(|s| !s.rejected).map(|s| s.elapsed).collect();
                let summary = Summary::of(&imported);
                match summary {
                    Some(s) => println!(
                        "{} ({}): {} steps, {} as expected; import ms: mean {:.3} p50 {:.3} p99 {:.3} max {:.3}",
                        dir.display(),
                        peer.app_name,
                        steps.len(),
                        steps.len() - wrong.len(),
                        s.mean,
                        s.p50,
                        s.p99,
                        s.max
                    ),
                    None => println!("{}: no blocks imported", dir.display()),
                }
                if verbose {
                    for s in &steps {
                        println!(
                            "  {} {:.3} ms{}",
                            s.name,
                            s.elapsed.as_secs_f64() * 1e3,
                            if s.as_expected { "" } else { " WRONG" }
                        );
                    }
                }
                for s in wrong {
                    println!("  WRONG {}", s.name);
                    failed = true;
                }
            }
            Err(e) => {
                eprintln!("error: {}: {e}", dir.display());
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
