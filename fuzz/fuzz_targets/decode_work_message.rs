//! Decoding the small work-package messages from untrusted bytes: CE 134's answer, CE 137's request
//! and answer (segment shards, justification), CE 141 assurances, CE 142 announcements, CE 143's
//! request, CE 139's request and answer. Never a panic, and what decodes re-encodes to exactly the input. The first byte picks the
//! decoder and the chain spec.
#![no_main]

use libfuzzer_sys::fuzz_target;
use orrery_codec::Encode;
use orrery_network::message::{
    decode_justification, decode_preimage_request, decode_segment_shard_answer, encode_justification,
    AssuranceMessage, PreimageAnnouncement, ReportSignature, SegmentShardRequest, ShardRequest,
    ShardResponse, ShardSizes,
};
use orrery_types::ChainSpec;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else { return };
    let spec = if selector & 0x80 == 0 { ChainSpec::tiny() } else { ChainSpec::full() };
    match selector % 6 {
        0 => {
            if let Ok(v) = decode_justification(bytes) {
                assert_eq!(encode_justification(&v), bytes);
            }
        }
        1 => {
            let sizes = ShardSizes::of(&spec);
            if let Ok(v) = ShardResponse::decode_segment_shards(bytes, sizes) {
                assert!(v.iter().all(|shard| shard.len() == sizes.segment_shard));
                assert_eq!(v.concat(), bytes);
            }
        }
        2 => {
            if let Ok(v) = AssuranceMessage::decode(bytes, spec.lengths()) {
                assert_eq!(v.bitfield.len(), spec.cores_count as usize);
                assert_eq!(v.encode(), bytes);
            }
        }
        3 => {
            if let Ok(v) = PreimageAnnouncement::decode(bytes) {
                assert_eq!(v.encode(), bytes);
            }
            if let Ok(v) = decode_preimage_request(bytes) {
                assert_eq!(v.as_slice(), bytes);
            }
        }
        4 => {
            if let Ok(v) = SegmentShardRequest::decode(bytes) {
                assert!(v.shard_count() <= orrery_network::message::work::MAX_SEGMENT_SHARD_REQUEST);
                assert_eq!(v.encode(), bytes);
            }
            // The answer's count is the request's; the first byte gives one here.
            let sizes = ShardSizes::of(&spec);
            let count = bytes.first().map_or(0, |b| usize::from(*b));
            if let Ok(v) = decode_segment_shard_answer(bytes, count, sizes) {
                assert_eq!(v.len(), count);
                assert_eq!(v.concat(), bytes);
            }
        }
        _ => {
            if let Ok(v) = ReportSignature::decode(bytes) {
                assert_eq!(v.encode(), bytes);
            }
            if let Ok(v) = ShardRequest::decode(bytes) {
                assert_eq!(v.encode(), bytes);
            }
        }
    }
});
