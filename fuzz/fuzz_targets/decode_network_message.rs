//! Decoding JAMNP-S messages (UP 0, CE 128, CE 129, CE 131/132) from untrusted bytes: never a panic, and
//! a value that decodes re-encodes to exactly the input. The first byte picks the decoder and the chain
//! spec.
#![no_main]

use libfuzzer_sys::fuzz_target;
use orrery_codec::Encode;
use orrery_network::message::{
    decode_blocks, decode_boundary_nodes, decode_key_values, encode_blocks, encode_boundary_nodes,
    encode_key_values, Announcement, BlockRequest, Handshake, StateRequest, TicketMessage,
};
use orrery_types::ChainSpec;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else { return };
    let lengths = if selector & 0x80 == 0 { ChainSpec::tiny().lengths() } else { ChainSpec::full().lengths() };
    match selector % 8 {
        0 => {
            if let Ok(v) = Handshake::decode(bytes) {
                assert_eq!(v.encode(), bytes);
            }
        }
        1 => {
            if let Ok(v) = Announcement::decode(bytes, lengths) {
                assert_eq!(v.encode(), bytes);
            }
        }
        2 => {
            if let Ok(v) = BlockRequest::decode(bytes) {
                assert_eq!(v.encode(), bytes);
            }
        }
        3 => {
            if let Ok(v) = decode_blocks(bytes, lengths, 64) {
                assert_eq!(encode_blocks(&v), bytes);
            }
        }
        4 => {
            if let Ok(v) = StateRequest::decode(bytes) {
                assert_eq!(v.encode(), bytes);
            }
        }
        5 => {
            if let Ok(v) = decode_boundary_nodes(bytes) {
                assert_eq!(encode_boundary_nodes(&v), bytes);
            }
        }
        6 => {
            if let Ok(v) = decode_key_values(bytes) {
                assert_eq!(encode_key_values(&v), bytes);
            }
        }
        _ => {
            if let Ok(v) = TicketMessage::decode(bytes) {
                assert_eq!(v.encode(), bytes);
            }
        }
    }
});
