//! The CE 149-152 bytes: hand-worked layouts, round trips, and garbage that must fail cleanly.

use orrery_grandpa::wire::{WireError, MAX_COMMIT_PRECOMMITS};
use orrery_grandpa::{
    signed_payload, CatchUp, Commit, Message, Neighbour, SignedVote, Target, VoteKind, CE_CATCH_UP,
    CE_COMMIT, CE_STATE, CE_VOTE,
};
use proptest::prelude::*;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

#[test]
fn a_vote_is_round_set_stage_hash_slot_signature_voter() {
    let vote = SignedVote {
        round: 0x0102,
        set_id: 7,
        kind: VoteKind::Precommit,
        target: Target { hash: [0xaa; 32], slot: 0x0a0b0c0d },
        voter: 0x0304,
        signature: [0x55; 64],
    };
    let expected =
        [hex("0201000000000000 07000000 01"), vec![0xaa; 32], hex("0d0c0b0a"), vec![0x55; 64], hex("0403")]
            .concat();
    let message = Message::Vote(vote);
    assert_eq!(message.stream_kind(), CE_VOTE);
    assert_eq!(message.to_bytes(), expected);
    assert_eq!(Message::from_bytes(CE_VOTE, &expected), Ok(message));
}

#[test]
fn a_commit_and_a_state_are_laid_out_as_documented() {
    let commit = Commit {
        round: 1,
        set_id: 2,
        target: Target { hash: [1; 32], slot: 3 },
        precommits: vec![(Target { hash: [4; 32], slot: 5 }, 6, [7; 64])],
    };
    let expected = [
        hex("0100000000000000 02000000"),
        vec![1; 32],
        hex("03000000 01"),
        vec![4; 32],
        hex("05000000"),
        vec![7; 64],
        hex("0600"),
    ]
    .concat();
    assert_eq!(Message::Commit(commit.clone()).to_bytes(), expected);
    assert_eq!(Message::from_bytes(CE_COMMIT, &expected), Ok(Message::Commit(commit)));

    let state =
        Message::State(Neighbour { round: 9, set_id: 1, finalized: Target { hash: [2; 32], slot: 4 } });
    let expected = [hex("0900000000000000 01000000"), vec![2; 32], hex("04000000")].concat();
    assert_eq!(state.stream_kind(), CE_STATE);
    assert_eq!(state.to_bytes(), expected);
}

#[test]
fn the_signed_payload_is_context_stage_hash_slot_round_set() {
    let payload = signed_payload(VoteKind::Prevote, &Target { hash: [9; 32], slot: 1 }, 2, 3);
    let expected =
        [b"jam_grandpa_vote".to_vec(), vec![0], vec![9; 32], hex("01000000 0200000000000000 03000000")]
            .concat();
    assert_eq!(payload.to_vec(), expected);
}

#[test]
fn bad_stage_unknown_stream_truncation_trailing_bytes_and_oversized_lists_fail() {
    let vote = Message::Vote(SignedVote {
        round: 1,
        set_id: 0,
        kind: VoteKind::Prevote,
        target: Target { hash: [0; 32], slot: 0 },
        voter: 0,
        signature: [0; 64],
    });
    let bytes = vote.to_bytes();
    let mut bad = bytes.clone();
    bad[12] = 3;
    assert_eq!(Message::from_bytes(CE_VOTE, &bad), Err(WireError::BadStage(3)));
    assert_eq!(Message::from_bytes(148, &bytes), Err(WireError::UnknownStream(148)));
    for cut in 0..bytes.len() {
        assert!(Message::from_bytes(CE_VOTE, &bytes[..cut]).is_err());
    }
    let mut long = bytes.clone();
    long.push(0);
    assert!(matches!(Message::from_bytes(CE_VOTE, &long), Err(WireError::Codec(_))));

    // A commit claiming 2047 precommits: refused before reading them.
    let mut commit = [vec![0; 12], vec![0; 36]].concat();
    orrery_codec::natural::encode_to(MAX_COMMIT_PRECOMMITS as u64 + 1, &mut commit);
    assert_eq!(Message::from_bytes(CE_COMMIT, &commit), Err(WireError::TooManyPrecommits(2047)));
    // Claiming 2046 with no bytes behind: an error, not an allocation.
    let mut commit = [vec![0; 12], vec![0; 36]].concat();
    orrery_codec::natural::encode_to(MAX_COMMIT_PRECOMMITS as u64, &mut commit);
    assert!(matches!(Message::from_bytes(CE_COMMIT, &commit), Err(WireError::Codec(_))));
}

fn target() -> impl Strategy<Value = Target> {
    (any::<[u8; 32]>(), any::<u32>()).prop_map(|(hash, slot)| Target { hash, slot })
}

fn signature() -> impl Strategy<Value = [u8; 64]> {
    (any::<[u8; 32]>(), any::<[u8; 32]>()).prop_map(|(a, b)| {
        let mut s = [0; 64];
        s[..32].copy_from_slice(&a);
        s[32..].copy_from_slice(&b);
        s
    })
}

fn votes() -> impl Strategy<Value = Vec<(Target, u16, [u8; 64])>> {
    prop::collection::vec((target(), any::<u16>(), signature()), 0..8)
}

fn message() -> impl Strategy<Value = Message> {
    let kind =
        prop_oneof![Just(VoteKind::Prevote), Just(VoteKind::Precommit), Just(VoteKind::PrimaryPropose)];
    prop_oneof![
        (any::<u64>(), any::<u32>(), kind, target(), any::<u16>(), signature()).prop_map(
            |(round, set_id, kind, target, voter, signature)| Message::Vote(SignedVote {
                round,
                set_id,
                kind,
                target,
                voter,
                signature
            })
        ),
        (any::<u64>(), any::<u32>(), target(), votes()).prop_map(|(round, set_id, target, precommits)| {
            Message::Commit(Commit { round, set_id, target, precommits })
        }),
        (any::<u64>(), any::<u32>(), target())
            .prop_map(|(round, set_id, finalized)| Message::State(Neighbour { round, set_id, finalized })),
        (any::<u64>(), any::<u32>(), votes(), votes(), target()).prop_map(
            |(round, set_id, prevotes, precommits, base)| Message::CatchUp(CatchUp {
                round,
                set_id,
                prevotes,
                precommits,
                base
            })
        ),
    ]
}

proptest! {
    #[test]
    fn every_message_round_trips(message in message()) {
        let bytes = message.to_bytes();
        prop_assert_eq!(Message::from_bytes(message.stream_kind(), &bytes), Ok(message.clone()));
        // One byte short never decodes.
        prop_assert!(Message::from_bytes(message.stream_kind(), &bytes[..bytes.len() - 1]).is_err());
    }

    #[test]
    fn garbage_never_panics(kind in prop_oneof![Just(CE_VOTE), Just(CE_COMMIT), Just(CE_STATE), Just(CE_CATCH_UP), any::<u8>()],
                            bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        if let Ok(message) = Message::from_bytes(kind, &bytes) {
            // What decodes re-encodes to the same bytes: the layout has one encoding per message.
            prop_assert_eq!(message.to_bytes(), bytes);
        }
    }
}
