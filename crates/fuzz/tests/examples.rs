//! Replays the recorded fuzzer sessions of jam-conformance (`fuzz-proto/examples/0.7.2/no_forks`
//! and `forks`) against the target over a real Unix socket, and checks every answer against the
//! recording: octet for octet, except `peer_info` (the fields the protocol says must agree: the
//! protocol version, the JAM version and the session's features) and `error` (whose text the
//! protocol leaves to the target; an error must still come exactly where the recording has one).
//!
//! The recordings are read from `$JAM_CONFORMANCE_DIR/fuzz-proto/examples/0.7.2`. Without the
//! variable the test says it skipped, unless `ORRERY_REQUIRE_JAM_CONFORMANCE=1`, which makes a
//! missing folder a failure.

mod common;

use std::path::PathBuf;

use orrery_fuzz::client::{example_pairs_in, replay, Client, ExampleOutcome};
use orrery_types::ChainSpec;

fn examples_dir() -> Option<PathBuf> {
    let required = std::env::var("ORRERY_REQUIRE_JAM_CONFORMANCE").is_ok_and(|v| v == "1");
    let Some(root) = std::env::var_os("JAM_CONFORMANCE_DIR") else {
        assert!(!required, "ORRERY_REQUIRE_JAM_CONFORMANCE=1 but JAM_CONFORMANCE_DIR is not set");
        println!(
            "SKIPPED: the fuzzer-protocol example sessions were not replayed; set JAM_CONFORMANCE_DIR to a \
             checkout of https://github.com/davxy/jam-conformance (the folder holding fuzz-proto/) to run them"
        );
        return None;
    };
    let dir = PathBuf::from(root).join("fuzz-proto/examples/0.7.2");
    if !dir.is_dir() {
        assert!(!required, "{} is missing (JAM_CONFORMANCE_DIR)", dir.display());
        println!("SKIPPED: {} is missing; the example sessions were not replayed", dir.display());
        return None;
    }
    Some(dir)
}

/// Replays one session on its own connection; returns (identical, same kind) counts.
fn replay_session(target: &common::Target, dir: &std::path::Path) -> (usize, usize) {
    let pairs = example_pairs_in(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let answers = std::fs::read_dir(dir)
        .expect("the session folder")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.contains("_target_") && n.ends_with(".bin"))
        .count();
    assert_eq!(pairs.len(), answers, "{}: every recorded answer pairs with one request", dir.display());
    assert!(pairs.len() > 2, "{}: a session with blocks", dir.display());

    let mut client = Client::new(target.connect(), ChainSpec::tiny());
    let outcomes = replay(&mut client, &pairs)
        .unwrap_or_else(|e| panic!("{}: {e}\ntarget log: {:?}", dir.display(), target.log_lines()));
    let different: Vec<_> = outcomes.iter().filter(|o| matches!(o.1, ExampleOutcome::Different(_))).collect();
    assert!(
        different.is_empty(),
        "{}: {} of {} answers differ from the recording: {different:#?}",
        dir.display(),
        different.len(),
        outcomes.len()
    );
    // Only the handshake and errors may be compared by kind.
    for (name, outcome, _) in &outcomes {
        match outcome {
            ExampleOutcome::SameKind("peer_info") => assert!(name.ends_with("_fuzzer_peer_info"), "{name}"),
            ExampleOutcome::SameKind("error") | ExampleOutcome::Identical => {}
            other => panic!("{name}: {other:?}"),
        }
    }
    let identical = outcomes.iter().filter(|o| o.1 == ExampleOutcome::Identical).count();
    (identical, outcomes.len() - identical)
}

#[test]
fn recorded_sessions_replay_over_a_unix_socket() {
    let Some(examples) = examples_dir() else { return };
    let target = common::Target::start();
    for session in ["no_forks", "forks"] {
        let dir = examples.join(session);
        let started = std::time::Instant::now();
        let (identical, same_kind) = replay_session(&target, &dir);
        println!(
            "{session}: {} answers, {identical} identical, {same_kind} by kind (peer_info, error), {:.1} s",
            identical + same_kind,
            started.elapsed().as_secs_f64()
        );
    }
}
