//! One voter fed hand-made messages over a fixed tree: what it accepts, rejects, buffers and
//! finalizes. Expected values are worked out from the scenario (6 voters need 5 votes).

mod sim;

use std::collections::{HashMap, HashSet};

use orrery_grandpa::{
    signed_payload, Commit, Config, Input, Message, Neighbour, Output, SignedVote, Target, VoteKind, Voter,
    VoterSet,
};
use orrery_keys::ValidatorKeys;
use orrery_types::HeaderHash;
use sim::{fork_block, main_block, View, GENESIS};

const T: u64 = 100;

/// genesis - b1 - b2 - b3, and f2 (a child of b1).
fn tree() -> HashMap<HeaderHash, (u32, HeaderHash)> {
    let mut blocks = HashMap::new();
    blocks.insert(main_block(1).hash, (1, GENESIS));
    blocks.insert(main_block(2).hash, (2, main_block(1).hash));
    blocks.insert(main_block(3).hash, (3, main_block(2).hash));
    blocks.insert(fork_block(2).hash, (2, main_block(1).hash));
    blocks
}

fn all(blocks: &HashMap<HeaderHash, (u32, HeaderHash)>) -> HashSet<HeaderHash> {
    blocks.keys().copied().collect()
}

fn keys() -> Vec<ValidatorKeys> {
    (0..6).map(ValidatorKeys::dev).collect()
}

fn set(set_id: u32) -> VoterSet {
    VoterSet { set_id, keys: keys().iter().map(|k| k.ed25519_public()).collect() }
}

fn genesis() -> Target {
    Target { hash: GENESIS, slot: 0 }
}

fn voter(me: Option<u16>, base: Target, set_id: u32) -> Voter {
    let me = me.map(|i| (i, *keys()[usize::from(i)].ed25519_secret()));
    Voter::new(Config { gossip_ms: T }, set(set_id), base, me, 1000)
}

fn vote(by: u16, kind: VoteKind, target: Target, round: u64, set_id: u32) -> SignedVote {
    let signature = keys()[usize::from(by)].ed25519_sign(&signed_payload(kind, &target, round, set_id));
    SignedVote { round, set_id, kind, target, voter: by, signature }
}

fn input(vote: SignedVote) -> Input {
    let from = keys().get(usize::from(vote.voter)).map(|k| k.ed25519_public());
    Input::Message { from, message: Message::Vote(vote) }
}

fn misbehaviour(out: &[Output]) -> Vec<&str> {
    out.iter()
        .filter_map(|o| match o {
            Output::Misbehaviour { reason, .. } => Some(reason.as_str()),
            _ => None,
        })
        .collect()
}

fn finalized(out: &[Output]) -> Vec<(Target, Commit)> {
    out.iter()
        .filter_map(|o| match o {
            Output::Finalized { target, justification } => Some((*target, justification.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn a_bad_signature_a_non_voter_and_a_far_set_are_rejected() {
    let blocks = tree();
    let known = all(&blocks);
    let view = View { blocks: &blocks, known: &known };
    let mut v = voter(Some(0), genesis(), 5);

    // Signed by a key outside the set, claiming to be voter 1.
    let mut forged = vote(1, VoteKind::Prevote, main_block(3), 1, 5);
    forged.signature =
        ValidatorKeys::dev(9).ed25519_sign(&signed_payload(VoteKind::Prevote, &main_block(3), 1, 5));
    let out = v.handle(1001, input(forged), &view);
    assert!(misbehaviour(&out).iter().any(|r| r.contains("signature")), "{out:?}");

    // Right key, but signed for another round than the one claimed.
    let mut replayed = vote(1, VoteKind::Prevote, main_block(3), 2, 5);
    replayed.round = 1;
    let out = v.handle(1001, input(replayed), &view);
    assert!(misbehaviour(&out).iter().any(|r| r.contains("signature")), "{out:?}");

    let mut outsider = vote(1, VoteKind::Prevote, main_block(3), 1, 5);
    outsider.voter = 6;
    let out = v.handle(1001, input(outsider), &view);
    assert!(misbehaviour(&out).iter().any(|r| r.contains("not in the set")), "{out:?}");

    let out = v.handle(1001, input(vote(1, VoteKind::Prevote, main_block(3), 1, 9)), &view);
    assert!(misbehaviour(&out).iter().any(|r| r.contains("set id 9")), "{out:?}");

    let out = v.handle(1001, input(vote(1, VoteKind::Prevote, main_block(3), 1, 1 << 20)), &view);
    assert_eq!(misbehaviour(&out).len(), 1);

    let out = v.handle(1001, input(vote(1, VoteKind::Prevote, main_block(3), u64::MAX / 2, 5)), &view);
    assert!(misbehaviour(&out).iter().any(|r| r.contains("far ahead")), "{out:?}");
}

#[test]
fn the_previous_and_next_sets_are_ignored_without_blame() {
    let blocks = tree();
    let known = all(&blocks);
    let view = View { blocks: &blocks, known: &known };
    let mut v = voter(Some(0), genesis(), 5);
    for set_id in [0, 4, 6] {
        let out = v.handle(1001, input(vote(1, VoteKind::Prevote, main_block(3), 1, set_id)), &view);
        assert!(out.is_empty(), "set {set_id}: {out:?}");
        let state = Message::State(Neighbour { round: 40, set_id, finalized: main_block(3) });
        assert!(v.handle(1001, Input::Message { from: None, message: state }, &view).is_empty());
    }
}

#[test]
fn an_equivocation_is_reported_once_and_repeats_are_quiet() {
    let blocks = tree();
    let known = all(&blocks);
    let view = View { blocks: &blocks, known: &known };
    let mut v = voter(Some(0), genesis(), 0);
    assert!(v.handle(1001, input(vote(1, VoteKind::Prevote, main_block(3), 1, 0)), &view).is_empty());
    assert!(v.handle(1002, input(vote(1, VoteKind::Prevote, main_block(3), 1, 0)), &view).is_empty());
    let out = v.handle(1003, input(vote(1, VoteKind::Prevote, fork_block(2), 1, 0)), &view);
    assert_eq!(
        out,
        vec![Output::Misbehaviour {
            from: Some(keys()[1].ed25519_public()),
            reason: "equivocation: voter 1 cast two Prevotes in round 1 (slots 3 and 2)".into()
        }]
    );
    assert!(v.handle(1004, input(vote(1, VoteKind::Prevote, fork_block(2), 1, 0)), &view).is_empty());
}

#[test]
fn votes_for_unknown_blocks_wait_for_them_and_then_finalize() {
    let blocks = tree();
    let mut known = HashSet::new();
    let mut v = voter(Some(0), genesis(), 0);
    for by in 1..6 {
        for kind in [VoteKind::Prevote, VoteKind::Precommit] {
            let view = View { blocks: &blocks, known: &known };
            let out = v.handle(1001, input(vote(by, kind, main_block(2), 1, 0)), &view);
            assert!(finalized(&out).is_empty() && misbehaviour(&out).is_empty(), "{out:?}");
        }
    }
    assert_eq!(v.pending(), (10, 0));
    known.insert(main_block(1).hash);
    let view = View { blocks: &blocks, known: &known };
    assert!(finalized(&v.handle(1002, Input::BlockImported(main_block(1).hash), &view)).is_empty());
    known.insert(main_block(2).hash);
    let view = View { blocks: &blocks, known: &known };
    let out = v.handle(1003, Input::BlockImported(main_block(2).hash), &view);
    let done = finalized(&out);
    assert_eq!(done.len(), 1, "{out:?}");
    assert_eq!(done[0].0, main_block(2));
    // Five of six precommits (voters 1 to 5) justify it.
    let voters: Vec<u16> = done[0].1.precommits.iter().map(|p| p.1).collect();
    assert_eq!(voters, vec![1, 2, 3, 4, 5]);
    assert_eq!(v.finalized(), main_block(2));
    assert!(out.contains(&Output::Broadcast(Message::Commit(done[0].1.clone()))));
    assert_eq!(v.pending(), (0, 0));
}

#[test]
fn the_buffer_of_votes_for_unknown_blocks_is_bounded() {
    let blocks = tree();
    let known = HashSet::new();
    let view = View { blocks: &blocks, known: &known };
    let mut v = voter(Some(0), genesis(), 0);
    for i in 0..200u32 {
        let target = Target { hash: [i as u8 + 1; 32], slot: i + 1 };
        let _ = v.handle(1001, input(vote(1 + (i % 5) as u16, VoteKind::Prevote, target, 1, 0)), &view);
    }
    // 4 per voter plus 16.
    assert_eq!(v.pending().0, 4 * 6 + 16);
}

fn commit(round: u64, target: Target, by: &[(u16, Target)]) -> Commit {
    let precommits = by
        .iter()
        .map(|(i, t)| {
            let signature =
                keys()[usize::from(*i)].ed25519_sign(&signed_payload(VoteKind::Precommit, t, round, 0));
            (*t, *i, signature)
        })
        .collect();
    Commit { round, set_id: 0, target, precommits }
}

fn commit_input(commit: Commit) -> Input {
    Input::Message { from: Some([7; 32]), message: Message::Commit(commit) }
}

#[test]
fn an_observer_follows_valid_commits_and_rejects_short_or_forged_ones() {
    let blocks = tree();
    let known = all(&blocks);
    let view = View { blocks: &blocks, known: &known };
    let mut observer = voter(None, genesis(), 0);

    // Four for b3 and one for the fork: four of the five count, five needed.
    let short = commit(
        3,
        main_block(3),
        &[(0, main_block(3)), (1, main_block(3)), (2, main_block(3)), (3, main_block(3)), (4, fork_block(2))],
    );
    let out = observer.handle(1001, commit_input(short), &view);
    assert!(misbehaviour(&out).iter().any(|r| r.contains("4 precommits")), "{out:?}");

    let mut forged = commit(
        3,
        main_block(2),
        &[(0, main_block(3)), (1, main_block(2)), (2, main_block(3)), (3, main_block(3)), (4, main_block(2))],
    );
    forged.precommits[2].2[0] ^= 1;
    let out = observer.handle(1001, commit_input(forged), &view);
    assert!(misbehaviour(&out).iter().any(|r| r.contains("precommit 2: signature")), "{out:?}");

    let repeated = commit(
        3,
        main_block(2),
        &[(0, main_block(3)), (0, main_block(3)), (1, main_block(2)), (2, main_block(3)), (3, main_block(3))],
    );
    let out = observer.handle(1001, commit_input(repeated), &view);
    assert!(misbehaviour(&out).iter().any(|r| r.contains("repeats voter 0")), "{out:?}");

    // Precommits for b2 or its descendant b3 from five voters justify b2.
    let good = commit(
        3,
        main_block(2),
        &[(0, main_block(3)), (1, main_block(2)), (2, main_block(3)), (3, main_block(3)), (5, main_block(2))],
    );
    let out = observer.handle(1001, commit_input(good.clone()), &view);
    assert_eq!(out, vec![Output::Finalized { target: main_block(2), justification: good.clone() }]);
    assert_eq!(observer.finalized(), main_block(2));
    // Again: nothing new.
    assert!(observer.handle(1002, commit_input(good), &view).is_empty());
    // Observers ignore votes.
    assert!(observer.handle(1003, input(vote(1, VoteKind::Prevote, main_block(3), 1, 0)), &view).is_empty());
}

#[test]
fn a_commit_for_a_later_round_moves_a_voter_there() {
    let blocks = tree();
    let known = all(&blocks);
    let view = View { blocks: &blocks, known: &known };
    let mut v = voter(Some(0), genesis(), 0);
    let by: Vec<_> = (1..6).map(|i| (i, main_block(3))).collect();
    let c = commit(40, main_block(3), &by);
    let out = v.handle(1001, commit_input(c.clone()), &view);
    assert_eq!(finalized(&out), vec![(main_block(3), c)]);
    assert_eq!(v.round(), 41);
    assert_eq!(v.finalized(), main_block(3));
}

#[test]
fn timers_follow_the_gossip_bound() {
    let blocks = tree();
    let known = all(&blocks);
    let view = View { blocks: &blocks, known: &known };
    // Voter 2 is not round 1's primary (voter 1 is), so nothing happens before 2T.
    let mut v = voter(Some(2), genesis(), 0);
    assert_eq!(v.next_wake(), 1000 + 2 * T);
    let out = v.handle(1000 + 2 * T, Input::Tick, &view);
    // The prevote is for the head of the best chain containing the base: b3.
    assert_eq!(out, vec![Output::Broadcast(Message::Vote(vote(2, VoteKind::Prevote, main_block(3), 1, 0)))]);
    assert_eq!(v.next_wake(), 1000 + 4 * T);
}

#[test]
fn a_voter_can_start_from_any_final_block() {
    let blocks = tree();
    let known = all(&blocks);
    let view = View { blocks: &blocks, known: &known };
    let mut v = voter(Some(0), main_block(2), 3);
    assert_eq!(v.finalized(), main_block(2));
    assert_eq!(v.set_id(), 3);
    let mut last = Vec::new();
    for by in 1..6 {
        for kind in [VoteKind::Prevote, VoteKind::Precommit] {
            last = v.handle(1001, input(vote(by, kind, main_block(3), 1, 3)), &view);
        }
    }
    assert_eq!(finalized(&last).first().map(|f| f.0), Some(main_block(3)), "{last:?}");
}

#[test]
fn an_equivocator_counts_for_every_block_in_a_commit() {
    let blocks = tree();
    let known = all(&blocks);
    let view = View { blocks: &blocks, known: &known };
    let b3 = main_block(3);
    let honest: Vec<_> = (1..5).map(|i| (i, b3)).collect();
    // Four precommits for b3 and voter 5's for f2 (not b3's descendant): four of five needed.
    let short = commit(7, b3, &[honest.clone(), vec![(5, fork_block(2))]].concat());
    let mut observer = voter(None, genesis(), 0);
    let out = observer.handle(1001, commit_input(short), &view);
    assert!(misbehaviour(&out).iter().any(|r| r.contains("4 precommits")), "{out:?}");
    // Voter 5 precommitted both f2 and b1, neither b3 nor a descendant: as an equivocator it
    // counts for every block, so b3 has five.
    let equivocated = commit(7, b3, &[honest, vec![(5, fork_block(2)), (5, main_block(1))]].concat());
    let out = observer.handle(1002, commit_input(equivocated.clone()), &view);
    assert_eq!(out, vec![Output::Finalized { target: b3, justification: equivocated }]);
}

fn signed(kind: VoteKind, round: u64, by: &[(u16, Target)]) -> Vec<(Target, u16, [u8; 64])> {
    by.iter()
        .map(|(i, t)| (*t, *i, keys()[usize::from(*i)].ed25519_sign(&signed_payload(kind, t, round, 0))))
        .collect()
}

#[test]
fn a_catch_up_that_completes_its_round_moves_a_voter_past_it() {
    let blocks = tree();
    let known = all(&blocks);
    let view = View { blocks: &blocks, known: &known };
    let by: Vec<_> = (1..6).map(|i| (i, main_block(3))).collect();
    let catch_up = |by: &[(u16, Target)]| orrery_grandpa::CatchUp {
        round: 5,
        set_id: 0,
        prevotes: signed(VoteKind::Prevote, 5, by),
        precommits: signed(VoteKind::Precommit, 5, by),
        base: genesis(),
    };
    let mut v = voter(Some(0), genesis(), 0);
    // Four of each: the round could still go elsewhere, so it is not completable.
    let out =
        v.handle(1001, Input::Message { from: None, message: Message::CatchUp(catch_up(&by[..4])) }, &view);
    assert!(misbehaviour(&out).iter().any(|r| r.contains("does not complete")), "{out:?}");
    assert_eq!(v.round(), 1);
    // Five of each for b3: complete, and b3 is final; the voter is in round 6.
    let out = v.handle(1002, Input::Message { from: None, message: Message::CatchUp(catch_up(&by)) }, &view);
    assert_eq!(finalized(&out).iter().map(|f| f.0).collect::<Vec<_>>(), vec![main_block(3)]);
    assert_eq!(v.round(), 6);
    // A forged signature anywhere spoils it.
    let mut v = voter(Some(0), genesis(), 0);
    let mut forged = catch_up(&by);
    forged.precommits[4].2[7] ^= 1;
    let out = v.handle(1001, Input::Message { from: None, message: Message::CatchUp(forged) }, &view);
    assert!(misbehaviour(&out).iter().any(|r| r.contains("vote 9: signature")), "{out:?}");
}

mod hostile {
    use super::*;
    use orrery_grandpa::CatchUp;
    use proptest::prelude::*;

    fn extreme_u64() -> impl Strategy<Value = u64> {
        prop_oneof![Just(0), Just(1), Just(2), Just(u64::MAX), Just(u64::MAX - 1), any::<u64>()]
    }

    fn target() -> impl Strategy<Value = Target> {
        prop_oneof![
            Just(main_block(1)),
            Just(main_block(3)),
            Just(fork_block(2)),
            (any::<[u8; 32]>(), any::<u32>()).prop_map(|(hash, slot)| Target { hash, slot }),
        ]
    }

    fn message() -> impl Strategy<Value = Message> {
        let kind =
            prop_oneof![Just(VoteKind::Prevote), Just(VoteKind::Precommit), Just(VoteKind::PrimaryPropose)];
        fn list() -> impl Strategy<Value = Vec<(Target, u16, [u8; 64])>> {
            prop::collection::vec((target(), 0u16..8, any::<u8>()), 0..8)
                .prop_map(|v| v.into_iter().map(|(t, i, s)| (t, i, [s; 64])).collect())
        }
        let set = prop_oneof![Just(0u32), Just(1), Just(u32::MAX), any::<u32>()];
        prop_oneof![
            (extreme_u64(), set.clone(), kind, target(), 0u16..8, any::<bool>()).prop_map(
                |(round, set_id, kind, target, voter, sign)| {
                    let mut v = vote(voter.min(5), kind, target, round, set_id);
                    v.voter = voter;
                    if !sign {
                        v.signature = [1; 64];
                    }
                    Message::Vote(v)
                }
            ),
            (extreme_u64(), set.clone(), target(), list()).prop_map(|(round, set_id, target, precommits)| {
                Message::Commit(Commit { round, set_id, target, precommits })
            }),
            (extreme_u64(), set.clone(), target()).prop_map(|(round, set_id, finalized)| Message::State(
                Neighbour { round, set_id, finalized }
            )),
            (extreme_u64(), set, list(), list(), target()).prop_map(
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
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Whatever arrives, in any order and at any time, the voter neither panics nor finalizes
        /// anything: no message here carries five valid precommits.
        #[test]
        fn hostile_messages_never_panic_nor_finalize(
            messages in prop::collection::vec((message(), 0u64..2000), 1..40),
            observer in any::<bool>(),
        ) {
            let blocks = tree();
            let known = all(&blocks);
            let view = View { blocks: &blocks, known: &known };
            let mut v = voter((!observer).then_some(0), genesis(), 0);
            let mut now = 1000;
            for (message, dt) in messages {
                now += dt;
                let out = v.handle(now, Input::Message { from: None, message }, &view);
                prop_assert!(finalized(&out).is_empty());
                let out = v.handle(now, Input::Tick, &view);
                prop_assert!(finalized(&out).is_empty());
                prop_assert!(v.next_wake() > now);
            }
        }
    }
}
