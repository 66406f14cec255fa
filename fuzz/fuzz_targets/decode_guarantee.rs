//! Decoding CE 135 guaranteed work reports from untrusted bytes: never a panic, two or three
//! signatures on whatever decodes, and it re-encodes to exactly the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use orrery_network::message::{decode_guarantee, encode_guarantee};

fuzz_target!(|bytes: &[u8]| {
    if let Ok(guarantee) = decode_guarantee(bytes) {
        assert!((2..=3).contains(&guarantee.signatures.len()));
        assert_eq!(encode_guarantee(&guarantee), bytes);
    }
});
