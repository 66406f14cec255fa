//! Decoding a WorkReport from untrusted bytes: never a panic, and a value that decodes re-encodes to
//! exactly the input (the codec gives every value one encoding).
#![no_main]

use libfuzzer_sys::fuzz_target;
use orrery_codec::{decode_exact, Encode};
use orrery_types::{ChainSpec, WorkReport};

fuzz_target!(|data: &[u8]| {
    for spec in [ChainSpec::tiny(), ChainSpec::full()] {
        if let Ok(value) = decode_exact::<WorkReport>(data, spec.lengths()) {
            assert_eq!(value.encode(), data);
        }
    }
});
