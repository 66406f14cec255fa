//! Replays the recorded fuzzer sessions of jam-conformance (`fuzz-proto/examples/0.7.2/no_forks`
//! and `forks`) against the target over a real Unix socket, and checks every answer against the
//! recording: octet for octet, except `peer_info` (the fields the protocol says must agree: the
//! protocol version, the JAM version and the session's features) and `error` (whose text the
//! protocol leaves to the target; an error must still come exactly where the recording has one).
//!
//! The recordings are read from `$JAM_CONFORMANCE_DIR/fuzz-proto/examples/0.7.2`, by default
//! `../shared/jam-conformance` beside the repository (`<CARGO_MANIFEST_DIR>/../../..`). A missing
//! folder fails the test, naming the path it wanted.

mod common;

use std::path::Path;

use orrery_fuzz::client::{example_pairs_in, replay, Client, ExampleOutcome};
use orrery_types::ChainSpec;

/// Replays one session on its own connection; returns (identical, same kind) counts.
fn replay_session(target: &common::Target, dir: &Path) -> (usize, usize) {
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
    let examples = orrery_testkit::recorded_sessions_dir();
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
