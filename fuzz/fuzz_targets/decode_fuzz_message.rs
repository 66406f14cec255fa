//! Decoding a fuzzer-protocol message (jam-conformance `fuzz-proto`, what `orrery fuzz-target`
//! reads from its socket) from untrusted bytes: never a panic, and a message that decodes
//! re-encodes to exactly the input. The frame reader gets the same bytes as a stream.
#![no_main]

use libfuzzer_sys::fuzz_target;
use orrery_fuzz_proto::protocol::{read_frame, Message};
use orrery_types::ChainSpec;

fuzz_target!(|data: &[u8]| {
    for spec in [ChainSpec::tiny(), ChainSpec::full()] {
        if let Ok(message) = Message::decode(&spec, data) {
            assert_eq!(message.encode(), data);
        }
    }
    let mut stream = data;
    while let Ok(Some(_)) = read_frame(&mut stream) {}
});
