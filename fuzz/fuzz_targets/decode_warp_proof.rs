//! Decoding a CE 153 warp-sync response from untrusted bytes: never a panic, and a proof that
//! decodes re-encodes to exactly the input. The first byte picks the chain spec (its lengths size
//! the headers' epoch and ticket markers).
#![no_main]

use libfuzzer_sys::fuzz_target;
use orrery_node::warp::WarpProof;
use orrery_types::ChainSpec;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else { return };
    let spec = if selector & 1 == 0 { ChainSpec::tiny() } else { ChainSpec::full() };
    if let Ok(proof) = WarpProof::from_bytes(bytes, spec.lengths()) {
        assert_eq!(proof.to_bytes(), bytes);
    }
});
