//! `orrery fuzz-target` (serve the conformance fuzzer protocol on a Unix socket) and
//! `orrery fuzz-client` (drive any target with trace folders or recorded sessions, timing each
//! import).

use std::io::ErrorKind;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use orrery_fuzz::client::{example_pairs_in, replay, run_trace, Client, ExampleOutcome, Summary};
use orrery_types::ChainSpec;

use crate::Node;

pub fn target(node: &Node, socket: &Path, idle: Duration) -> ExitCode {
    // The socket first: a live target already there is reported before seconds go into loading
    // the context.
    let listener = match orrery_fuzz::target::bind(socket) {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let ctx = match node.context() {
        Ok(ctx) => ctx,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let log = |line: &str| eprintln!("fuzz-target: {line}");
    log(&format!("listening on {}", socket.display()));
    let limits = orrery_fuzz::target::Limits { idle, ..Default::default() };
    match Arc::new(orrery_fuzz::target::Server::new(Arc::new(ctx), limits)).serve(listener, log) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}: {e}", socket.display());
            ExitCode::FAILURE
        }
    }
}

/// How long a socket that exists but refuses connections is retried: a target binds its socket
/// before it listens, for an instant.
const CONNECT_GRACE: Duration = Duration::from_secs(2);

pub(crate) fn connect(socket: &Path) -> Result<UnixStream, String> {
    let hint = || format!("is `orrery fuzz-target --socket {}` running?", socket.display());
    if std::fs::symlink_metadata(socket).is_err() {
        return Err(format!("no socket at {}: {}", socket.display(), hint()));
    }
    let start = Instant::now();
    loop {
        match UnixStream::connect(socket) {
            Ok(stream) => return Ok(stream),
            Err(e)
                if matches!(e.kind(), ErrorKind::ConnectionRefused | ErrorKind::NotFound)
                    && start.elapsed() < CONNECT_GRACE =>
            {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => {
                return Err(format!(
                "connecting to {}: {e}: nothing listens there (a socket left by a target that exited?); {}",
                socket.display(),
                hint()
            ))
            }
            Err(e) => return Err(format!("connecting to {}: {e}", socket.display())),
        }
    }
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
    if folders.is_empty() {
        eprintln!(
            "error: no folders given: name trace folders (holding genesis.bin), or recorded sessions \
             (NNNNNNNN_fuzzer_*.bin) with --examples"
        );
        return ExitCode::FAILURE;
    }
    // Every folder of recordings is read before the target is driven: a wrong folder is
    // reported before any session.
    let mut recorded = Vec::new();
    if examples {
        for dir in folders {
            match example_pairs_in(dir) {
                Ok(pairs) if pairs.is_empty() => {
                    eprintln!(
                        "error: {}: no recorded session in it (no NNNNNNNN_fuzzer_*.bin files)",
                        dir.display()
                    );
                    return ExitCode::FAILURE;
                }
                Ok(pairs) => recorded.push(pairs),
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    let mut failed = false;
    for (i, dir) in folders.iter().enumerate() {
        let stream = match connect(socket) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        };
        if let Some(pairs) = recorded.get(i) {
            // The recording starts with its own handshake, which is replayed too.
            let mut client = Client::new(stream, spec.clone());
            match replay(&mut client, pairs) {
                Ok(outcomes) => {
                    let identical = outcomes.iter().filter(|o| o.1 == ExampleOutcome::Identical).count();
                    let same_kind =
                        outcomes.iter().filter(|o| matches!(o.1, ExampleOutcome::SameKind(_))).count();
                    let different: Vec<_> =
                        outcomes.iter().filter(|o| matches!(o.1, ExampleOutcome::Different(_))).collect();
                    outln!(
                        "{}: {} answers, {identical} identical, {same_kind} of the same kind (peer_info, error), {} different",
                        dir.display(),
                        outcomes.len(),
                        different.len()
                    );
                    for (name, outcome, _) in different {
                        outln!("  DIFF {name}: {outcome:?}");
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
            Ok(steps) if steps.is_empty() => {
                eprintln!("error: {}: a genesis but no steps (no other .bin files) to import", dir.display());
                failed = true;
            }
            Ok(steps) => {
                let wrong: Vec<_> = steps.iter().filter(|s| !s.as_expected).collect();
                let imported: Vec<Duration> =
                    steps.iter().filter(|s| !s.rejected).map(|s| s.elapsed).collect();
                let summary = Summary::of(&imported);
                match summary {
                    Some(s) => outln!(
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
                    None => outln!("{}: no blocks imported", dir.display()),
                }
                if verbose {
                    for s in &steps {
                        outln!(
                            "  {} {:.3} ms{}",
                            s.name,
                            s.elapsed.as_secs_f64() * 1e3,
                            if s.as_expected { "" } else { " WRONG" }
                        );
                    }
                }
                for s in wrong {
                    outln!("  WRONG {}", s.name);
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
