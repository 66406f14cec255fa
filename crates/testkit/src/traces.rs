//! The block-import traces on the tiny spec (every trace of the vectors is `tiny`: V = 6).

use std::path::Path;
use std::sync::{Arc, OnceLock};

use orrery_codec::decode_exact;
use orrery_crypto::bandersnatch::RingContext;
use orrery_import::formats::{Genesis, RawState, TraceStep};
use orrery_import::{ChainState, ImportContext};
use orrery_types::ChainSpec;

use crate::{srs_path, trace_dir, trace_step_path};

/// Step `n` (from 1) of a trace, decoded.
pub fn trace_step(name: &str, n: usize) -> TraceStep {
    let path = trace_step_path(name, n);
    decode_exact(&read(&path), ChainSpec::tiny().lengths())
        .unwrap_or_else(|e| panic!("{}: not a trace step: {e}", path.display()))
}

/// A trace's `genesis.bin`, decoded.
pub fn genesis(name: &str) -> Genesis {
    let path = trace_dir(name).join("genesis.bin");
    decode_exact(&read(&path), ChainSpec::tiny().lengths())
        .unwrap_or_else(|e| panic!("{}: not a genesis: {e}", path.display()))
}

/// The tiny spec's chain state of a trace's raw state (a genesis' or a step's pre- or post-state).
pub fn tiny_state(raw: &RawState) -> ChainState {
    ChainState::from_pairs(&ChainSpec::tiny(), raw.pairs())
        .unwrap_or_else(|e| panic!("a state that does not deserialize: {e}"))
}

/// The tiny spec's ring context (6 validators) from the SRS at [`srs_path`], built once per process
/// and shared: what it remembers (ring roots, verifiers) is shared too, so a test that asserts on
/// that builds its own with `RingContext::from_srs_file`.
pub fn tiny_ring() -> Arc<RingContext> {
    static RING: OnceLock<Arc<RingContext>> = OnceLock::new();
    RING.get_or_init(|| {
        let path = srs_path();
        let size = usize::from(ChainSpec::tiny().validators_count);
        let ring = RingContext::from_srs_file(&path, size)
            .unwrap_or_else(|e| panic!("the SRS at {} (set ORRERY_SRS): {e}", path.display()));
        Arc::new(ring)
    })
    .clone()
}

/// A new import context for the tiny spec on the shared [`tiny_ring`], with the default options.
pub fn tiny_import_context() -> ImportContext {
    ImportContext::new(ChainSpec::tiny(), tiny_ring())
}

/// A file's bytes; a missing or unreadable file panics with its path.
fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
