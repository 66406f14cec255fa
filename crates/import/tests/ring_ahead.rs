//! The next epoch's ring root, computed ahead: after the first block of the `storage` trace, the
//! ring context holds (or is computing) the root the epoch change at slot 12 sets, and it is the
//! trace's `γ'_Z` there.

use std::sync::Arc;

use orrery_crypto::bandersnatch::RingContext;
use orrery_import::formats::TraceStep;
use orrery_import::{import_block, ImportContext, ImportOptions};
use orrery_testkit::{genesis, srs_path, tiny_state, trace_step};
use orrery_types::ChainSpec;

fn step(n: usize) -> TraceStep {
    trace_step("storage", n)
}

#[test]
fn next_epochs_ring_root_is_computed_ahead() {
    let spec = ChainSpec::tiny();
    // Rings of their own, not the shared `tiny_ring`: the test asserts on what they remember.
    let srs = srs_path();
    let ring = Arc::new(RingContext::from_srs_file(&srs, usize::from(spec.validators_count)).unwrap());
    let ctx = ImportContext::new(spec.clone(), ring.clone());
    let state = tiny_state(&genesis("storage").state);

    // What the trace says the epoch change at slot 12 sets: γ'_P and γ'_Z.
    let epoch_change = step(12);
    assert_eq!(epoch_change.block.header.slot, 12);
    let post = tiny_state(&epoch_change.post_state);
    let keys: Vec<_> = post.state().safrole.pending_validators.iter().map(|k| k.bandersnatch).collect();
    let expected = post.state().safrole.ring_root;
    assert_eq!(ring.remembered_root(&keys), None);

    let first = step(1);
    import_block(&ctx, &state, &first.block, &ImportOptions::default()).unwrap();
    ctx.wait_for_ring_roots();
    assert_eq!(ring.remembered_root(&keys), Some(expected));

    // Turned off, nothing is computed ahead.
    let quiet_ring = Arc::new(RingContext::from_srs_file(&srs, usize::from(spec.validators_count)).unwrap());
    let mut quiet = ImportContext::new(spec.clone(), quiet_ring.clone());
    quiet.ring_roots_ahead = false;
    import_block(&quiet, &state, &first.block, &ImportOptions::default()).unwrap();
    quiet.wait_for_ring_roots();
    assert_eq!(quiet_ring.remembered_root(&keys), None);
}
