//! Decoding GRANDPA messages (CE 149 vote, 150 commit, 151 state, 152 catch-up) from untrusted bytes:
//! never a panic, and a message that decodes re-encodes to exactly the input. The first byte picks
//! the stream kind.
#![no_main]

use libfuzzer_sys::fuzz_target;
use orrery_grandpa::wire::{CE_CATCH_UP, CE_COMMIT, CE_STATE, CE_VOTE};
use orrery_grandpa::Message;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else { return };
    let kind = [CE_VOTE, CE_COMMIT, CE_STATE, CE_CATCH_UP][usize::from(selector % 4)];
    if let Ok(message) = Message::from_bytes(kind, bytes) {
        assert_eq!(message.stream_kind(), kind);
        assert_eq!(message.to_bytes(), bytes);
    }
});
