//! Steps of our lanes that another implementation failed on, kept as trace steps (written by
//! `orrery fuzz`'s own generator: `cargo run --release -p orrery-fuzzer --example write_step`) and
//! checked against Orrery's import. docs/fuzzing.md has each one's story and verdict.

use orrery_codec::Encode;
use orrery_import::formats::BlockFile;
use orrery_import::{import_block, ChainState, ImportOptions};
use orrery_testkit::tiny_import_context;
use orrery_types::ChainSpec;

fn step(name: &str) -> orrery_import::formats::TraceStep {
    let path = format!("{}/tests/traces/{name}.bin", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let Ok(BlockFile::Step(trace)) = BlockFile::decode(&ChainSpec::tiny(), &bytes) else {
        panic!("{path}: not a trace step")
    };
    *trace
}

/// Mutations lane, seed 2, step 1919: a `TicketAttempt` mutant whose attempt is 128 or more. Orrery
/// wrote that attempt as one octet, which a decoder to the letter of GP 0.7.2 (appendix C: the
/// attempt is a natural in the general encoding) reads as the first of two, so fastroll could not
/// decode the message and ended the session (as the fuzzer protocol says to). Now the attempt is
/// two octets, `0x80` then the attempt, and the block is refused by the attempt rule (eq. 6.29).
#[test]
fn mutations_2_step_1919_an_attempt_from_128_up_is_two_octets_and_refused() {
    let trace = step("mutations-2-00001919");
    let tickets = &trace.block.extrinsic.tickets;
    let wide: Vec<_> = tickets.iter().filter(|t| t.attempt >= 128).collect();
    assert_eq!(wide.len(), 1, "attempts: {:?}", tickets.iter().map(|t| t.attempt).collect::<Vec<_>>());
    let envelope = wide[0].encode();
    assert_eq!(&envelope[..2], &[0x80, wide[0].attempt]);
    assert_eq!(envelope.len(), 2 + 784);

    assert_eq!(trace.post_state, trace.pre_state, "a rejected block's trace keeps its pre-state");
    let pre = ChainState::from_pairs(&ChainSpec::tiny(), trace.pre_state.pairs()).unwrap();
    assert_eq!(pre.root(), trace.pre_state.state_root);
    let ctx = tiny_import_context();
    let error = import_block(&ctx, &pre, &trace.block, &ImportOptions::default()).unwrap_err();
    assert!(error.to_string().contains("bad_ticket_attempt"), "{error}");
}
