use orrery_types::{ChainSpec, Extrinsic, Header};
use proptest::prelude::*;

use super::*;

fn header(slot: u32) -> Header {
    Header {
        parent: [1; 32],
        parent_state_root: [2; 32],
        extrinsic_hash: [3; 32],
        slot,
        epoch_mark: None,
        tickets_mark: None,
        author_index: 5,
        entropy_source: [6; 96],
        offenders_mark: vec![],
        seal: [7; 96],
    }
}

#[test]
fn handshake_layout_by_hand() {
    let handshake = Handshake {
        finalized: BlockRef { hash: [1; 32], slot: 7 },
        leaves: vec![BlockRef { hash: [2; 32], slot: 0x0100 }],
    };
    let mut expected = vec![1u8; 32];
    expected.extend_from_slice(&[7, 0, 0, 0, 1]);
    expected.extend_from_slice(&[2; 32]);
    expected.extend_from_slice(&[0, 1, 0, 0]);
    assert_eq!(handshake.encode(), expected);
    assert_eq!(Handshake::decode(&expected).unwrap(), handshake);
    // A missing leaf byte, and a trailing byte.
    assert!(Handshake::decode(&expected[..expected.len() - 1]).is_err());
    expected.push(0);
    assert!(Handshake::decode(&expected).is_err());
}

#[test]
fn handshake_leaf_cap() {
    let handshake = Handshake {
        finalized: BlockRef { hash: [0; 32], slot: 0 },
        leaves: vec![BlockRef { hash: [0; 32], slot: 0 }; MAX_LEAVES + 1],
    };
    assert!(matches!(Handshake::decode(&handshake.encode()), Err(MessageError::TooMany { count: 1025, .. })));
}

#[test]
fn announcement_is_header_then_final() {
    let lengths = ChainSpec::tiny().lengths();
    let announcement = Announcement { header: header(42), finalized: BlockRef { hash: [9; 32], slot: 40 } };
    let bytes = announcement.encode();
    // 3 hashes + slot + two absent markers + author + entropy VRF + no offenders + seal, then Final.
    assert_eq!(bytes.len(), 96 + 4 + 1 + 1 + 2 + 96 + 1 + 96 + 36);
    assert_eq!(&bytes[bytes.len() - 36..bytes.len() - 4], &[9; 32]);
    assert_eq!(&bytes[bytes.len() - 4..], &[40, 0, 0, 0]);
    assert_eq!(Announcement::decode(&bytes, lengths).unwrap(), announcement);
    assert!(Announcement::decode(&bytes[..bytes.len() - 1], lengths).is_err());
}

#[test]
fn block_request_layout_by_hand() {
    let request = BlockRequest { hash: [9; 32], direction: Direction::DescendingInclusive, max_blocks: 10 };
    let mut expected = vec![9u8; 32];
    expected.extend_from_slice(&[1, 10, 0, 0, 0]);
    assert_eq!(request.encode(), expected);
    assert_eq!(BlockRequest::decode(&expected).unwrap(), request);
    expected[32] = 2;
    assert!(BlockRequest::decode(&expected).is_err());
}

#[test]
fn block_response_concatenates_and_caps() {
    let lengths = ChainSpec::tiny().lengths();
    let blocks: Vec<Block> =
        (1..=3).map(|slot| Block { header: header(slot), extrinsic: Extrinsic::default() }).collect();
    let bytes = encode_blocks(&blocks);
    // Each empty extrinsic is four empty sequences and three empty dispute sequences: 7 zero bytes.
    assert_eq!(bytes.len(), 3 * (297 + 7));
    assert_eq!(decode_blocks(&bytes, lengths, 3).unwrap(), blocks);
    assert!(matches!(decode_blocks(&bytes, lengths, 2), Err(MessageError::TooMany { .. })));
    assert!(decode_blocks(&bytes[..bytes.len() - 1], lengths, 3).is_err());
    assert_eq!(decode_blocks(&[], lengths, 0).unwrap(), vec![]);
}

#[test]
fn state_request_and_response_by_hand() {
    let request = StateRequest { hash: [1; 32], start: [0; 31], end: [0xff; 31], max_size: 4096 };
    let bytes = request.encode();
    assert_eq!(bytes.len(), 32 + 31 + 31 + 4);
    assert_eq!(&bytes[94..], &[0, 16, 0, 0]);
    assert_eq!(StateRequest::decode(&bytes).unwrap(), request);

    let pairs =
        vec![KeyValue { key: [3; 31], value: vec![0xab, 0xcd] }, KeyValue { key: [4; 31], value: vec![] }];
    let bytes = encode_key_values(&pairs);
    let mut expected = vec![3u8; 31];
    expected.extend_from_slice(&[2, 0xab, 0xcd]);
    expected.extend_from_slice(&[4; 31]);
    expected.push(0);
    assert_eq!(bytes, expected);
    assert_eq!(decode_key_values(&bytes).unwrap(), pairs);
    let swapped = encode_key_values(&[pairs[1].clone(), pairs[0].clone()]);
    assert_eq!(decode_key_values(&swapped), Err(MessageError::UnsortedKeys));
    let twice = encode_key_values(&[pairs[0].clone(), pairs[0].clone()]);
    assert_eq!(decode_key_values(&twice), Err(MessageError::UnsortedKeys));
    // A value length beyond the message.
    let mut long = vec![3u8; 31];
    long.extend_from_slice(&[5, 1]);
    assert!(decode_key_values(&long).is_err());
}

#[test]
fn state_response_respects_the_request() {
    let request = StateRequest { hash: [0; 32], start: [2; 31], end: [5; 31], max_size: 100 };
    let pair = |k: u8, len: usize| KeyValue { key: [k; 31], value: vec![0; len] };
    assert_eq!(request.check_response(&[pair(2, 1), pair(5, 1)], 66), Ok(()));
    assert_eq!(request.check_response(&[pair(1, 1)], 33), Err(MessageError::KeyOutOfRange));
    assert_eq!(request.check_response(&[pair(6, 1)], 33), Err(MessageError::KeyOutOfRange));
    // One pair may exceed the maximum; two may not.
    assert_eq!(request.check_response(&[pair(3, 500)], 533), Ok(()));
    assert_eq!(
        request.check_response(&[pair(3, 60), pair(4, 60)], 186),
        Err(MessageError::ResponseTooLarge { size: 186, max: 100 })
    );
}

#[test]
fn boundary_nodes() {
    let nodes = [[1u8; 64], [2u8; 64]];
    let bytes = encode_boundary_nodes(&nodes);
    assert_eq!(decode_boundary_nodes(&bytes).unwrap(), nodes);
    assert!(matches!(decode_boundary_nodes(&bytes[..100]), Err(MessageError::Ragged { len: 100, .. })));
    assert_eq!(
        decode_boundary_nodes(&encode_boundary_nodes(&[[1; 64], [1; 64]])),
        Err(MessageError::DuplicateNode)
    );
    let many: Vec<BoundaryNode> = (0..=MAX_BOUNDARY_NODES)
        .map(|i| {
            let mut n = [0u8; 64];
            n[..8].copy_from_slice(&(i as u64).to_le_bytes());
            n
        })
        .collect();
    assert!(matches!(
        decode_boundary_nodes(&encode_boundary_nodes(&many)),
        Err(MessageError::TooMany { .. })
    ));
}

#[test]
fn ticket_message_is_789_bytes() {
    let ticket = TicketMessage { epoch: 3, attempt: 1, proof: [0x5a; 784] };
    let bytes = ticket.encode();
    assert_eq!(bytes.len(), TICKET_MESSAGE_SIZE);
    assert_eq!(&bytes[..5], &[3, 0, 0, 0, 1]);
    assert_eq!(TicketMessage::decode(&bytes).unwrap(), ticket);
    assert!(TicketMessage::decode(&bytes[..788]).is_err());
    assert_eq!(max_message_size(crate::StreamKind::TICKET_TO_PROXY) as usize, TICKET_MESSAGE_SIZE);
}

/// Runs every decoder on `bytes`; each must return, and what decodes must re-encode to the input.
fn decode_everything(bytes: &[u8]) {
    if let Ok(v) = Handshake::decode(bytes) {
        assert_eq!(v.encode(), bytes);
    }
    if let Ok(v) = BlockRequest::decode(bytes) {
        assert_eq!(v.encode(), bytes);
    }
    if let Ok(v) = StateRequest::decode(bytes) {
        assert_eq!(v.encode(), bytes);
    }
    if let Ok(v) = TicketMessage::decode(bytes) {
        assert_eq!(v.encode(), bytes);
    }
    if let Ok(v) = decode_key_values(bytes) {
        assert_eq!(encode_key_values(&v), bytes);
    }
    if let Ok(v) = decode_boundary_nodes(bytes) {
        assert_eq!(encode_boundary_nodes(&v), bytes);
    }
    for spec in [ChainSpec::tiny(), ChainSpec::full()] {
        if let Ok(v) = Announcement::decode(bytes, spec.lengths()) {
            assert_eq!(v.encode(), bytes);
        }
        if let Ok(v) = decode_blocks(bytes, spec.lengths(), 16) {
            assert_eq!(encode_blocks(&v), bytes);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        decode_everything(&bytes);
    }

    #[test]
    fn mutated_messages_never_panic(
        slot in any::<u32>(),
        leaves in 0usize..8,
        flip in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        // Valid messages with one bit flipped reach deeper into the decoders than random bytes.
        let handshake = Handshake {
            finalized: BlockRef { hash: [1; 32], slot },
            leaves: vec![BlockRef { hash: [2; 32], slot }; leaves],
        };
        let announcement = Announcement { header: header(slot), finalized: BlockRef { hash: [3; 32], slot } };
        for mut bytes in [handshake.encode(), announcement.encode()] {
            let i = flip.index(bytes.len());
            bytes[i] ^= 1 << bit;
            decode_everything(&bytes);
        }
    }
}
