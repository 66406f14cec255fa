//! Disputes with hand-built extrinsics: the paper's error for each kind of malformed or
//! adversarial input, and the expected posterior for well-formed ones.

mod common;

use common::*;
use orrery_codec::Encode;
use orrery_crypto::blake2b_256;
use orrery_state::{AvailabilityAssignment, AvailabilityAssignments, DisputesRecords, ValidatorsData};
use orrery_stf::contexts;
use orrery_stf::disputes::{apply, DisputesError, DisputesInput, DisputesOutput};
use orrery_types::{Culprit, DisputesExtrinsic, Fault, Judgement, Verdict};

struct World {
    records: DisputesRecords,
    pending: AvailabilityAssignments,
    active: ValidatorsData,
    previous: ValidatorsData,
    prior_slot: u32,
}

impl World {
    fn new() -> Self {
        Self {
            records: DisputesRecords::default(),
            pending: AvailabilityAssignments::empty(2),
            active: validators(0),
            previous: validators(10),
            prior_slot: 30, // epoch 2 in tiny (E = 12)
        }
    }

    fn apply(&self, extrinsic: &DisputesExtrinsic) -> Result<DisputesOutput, DisputesError> {
        let prior = DisputesInput {
            records: &self.records,
            pending: &self.pending,
            prior_slot: self.prior_slot,
            active: &self.active,
            previous: &self.previous,
        };
        apply(&spec(), prior, extrinsic)
    }
}

/// A verdict on `target` by validators `0..5` of the current set, the first `positive` voting valid.
fn verdict(target: [u8; 32], age: u32, positive: usize) -> Verdict {
    let votes = (0..5)
        .map(|i| {
            let vote = i < positive;
            Judgement {
                vote,
                index: i as u16,
                signature: sign(i, &contexts::judgment_message(vote, &target)),
            }
        })
        .collect();
    Verdict { target, age, votes }
}

fn culprit(target: [u8; 32], validator: usize) -> Culprit {
    let message = [contexts::GUARANTEE, &target].concat();
    Culprit { target, key: public(validator), signature: sign(validator, &message) }
}

fn fault(target: [u8; 32], vote: bool, validator: usize) -> Fault {
    Fault {
        target,
        vote,
        key: public(validator),
        signature: sign(validator, &contexts::judgment_message(vote, &target)),
    }
}

fn sorted_culprits(target: [u8; 32], validators: &[usize]) -> Vec<Culprit> {
    let mut culprits: Vec<_> = validators.iter().map(|&v| culprit(target, v)).collect();
    culprits.sort_by_key(|c| c.key);
    culprits
}

#[test]
fn a_bad_verdict_with_two_culprits_records_them_and_clears_the_core() {
    let mut world = World::new();
    let bad = report(1, 7);
    let target = blake2b_256(&bad.encode());
    world.pending.0[1] = Some(AvailabilityAssignment { report: bad, timeout: 29 });
    world.pending.0[0] = Some(AvailabilityAssignment { report: report(0, 8), timeout: 29 });
    let culprits = sorted_culprits(target, &[3, 4]);
    let extrinsic = DisputesExtrinsic {
        verdicts: vec![verdict(target, 2, 0)],
        culprits: culprits.clone(),
        faults: vec![],
    };

    let out = world.apply(&extrinsic).unwrap();
    assert!(out.records.bad.contains(&target));
    assert_eq!(out.records.offenders.len(), 2);
    assert_eq!(out.offenders_mark, culprits.iter().map(|c| c.key).collect::<Vec<_>>());
    assert!(out.pending.0[1].is_none(), "the bad report leaves its core");
    assert!(out.pending.0[0].is_some(), "other cores keep theirs");
}

#[test]
fn a_verdict_from_the_previous_epoch_uses_the_previous_keys() {
    let world = World::new();
    let target = [9; 32];
    // Signed by validators 10.. (the previous set) with age 1 = epoch 2 − 1.
    let votes = (0..5)
        .map(|i| Judgement {
            vote: false,
            index: i as u16,
            signature: sign(10 + i, &contexts::judgment_message(false, &target)),
        })
        .collect();
    let culprits = sorted_culprits(target, &[0, 1]);
    let extrinsic =
        DisputesExtrinsic { verdicts: vec![Verdict { target, age: 1, votes }], culprits, faults: vec![] };
    assert!(world.apply(&extrinsic).is_ok());
    // The same judgments claimed for the current epoch do not verify against κ.
    let mut current = extrinsic.clone();
    current.verdicts[0].age = 2;
    assert_eq!(world.apply(&current), Err(DisputesError::BadSignature));
}

#[test]
fn judgment_ages_outside_the_two_epochs_are_rejected_without_overflow() {
    let mut world = World::new();
    for age in [0, 3, u32::MAX] {
        let extrinsic = DisputesExtrinsic { verdicts: vec![verdict([1; 32], age, 5)], ..Default::default() };
        assert_eq!(world.apply(&extrinsic), Err(DisputesError::BadJudgementAge), "age {age}");
    }
    // In epoch 0 there is no previous epoch to underflow into.
    world.prior_slot = 0;
    let extrinsic = DisputesExtrinsic { verdicts: vec![verdict([1; 32], u32::MAX, 5)], ..Default::default() };
    assert_eq!(world.apply(&extrinsic), Err(DisputesError::BadJudgementAge));
}

#[test]
fn out_of_range_judge_index() {
    let world = World::new();
    let mut v = verdict([1; 32], 2, 5);
    v.votes[4].index = u16::MAX;
    let extrinsic =
        DisputesExtrinsic { verdicts: vec![v], faults: vec![fault([1; 32], false, 5)], culprits: vec![] };
    assert_eq!(world.apply(&extrinsic), Err(DisputesError::BadValidatorIndex));
}

#[test]
fn unsorted_or_duplicate_entries() {
    let world = World::new();
    let good = |t: u8| verdict([t; 32], 2, 5);
    let dup_verdicts = DisputesExtrinsic { verdicts: vec![good(1), good(1)], ..Default::default() };
    assert_eq!(world.apply(&dup_verdicts), Err(DisputesError::VerdictsNotSortedUnique));
    let unsorted = DisputesExtrinsic { verdicts: vec![good(2), good(1)], ..Default::default() };
    assert_eq!(world.apply(&unsorted), Err(DisputesError::VerdictsNotSortedUnique));

    let mut v = good(1);
    v.votes[1] = v.votes[0].clone();
    let dup_votes = DisputesExtrinsic { verdicts: vec![v], ..Default::default() };
    assert_eq!(world.apply(&dup_votes), Err(DisputesError::JudgementsNotSortedUnique));

    let target = [3; 32];
    let mut culprits = sorted_culprits(target, &[1, 2]);
    culprits.reverse();
    let extrinsic = DisputesExtrinsic { verdicts: vec![verdict(target, 2, 0)], culprits, faults: vec![] };
    assert_eq!(world.apply(&extrinsic), Err(DisputesError::CulpritsNotSortedUnique));

    let same = vec![fault([1; 32], false, 5), fault([1; 32], false, 5)];
    let extrinsic = DisputesExtrinsic { verdicts: vec![good(1)], culprits: vec![], faults: same };
    assert_eq!(world.apply(&extrinsic), Err(DisputesError::FaultsNotSortedUnique));
}

#[test]
fn a_verdict_with_the_wrong_number_of_votes_is_a_bad_split() {
    let world = World::new();
    let mut v = verdict([1; 32], 2, 5);
    v.votes.pop();
    let extrinsic = DisputesExtrinsic { verdicts: vec![v], ..Default::default() };
    assert_eq!(world.apply(&extrinsic), Err(DisputesError::BadVoteSplit));
    // Three of five valid is none of 0, ⌊6/3⌋ = 2 or 5.
    let extrinsic = DisputesExtrinsic { verdicts: vec![verdict([1; 32], 2, 3)], ..Default::default() };
    assert_eq!(world.apply(&extrinsic), Err(DisputesError::BadVoteSplit));
}

#[test]
fn offender_keys_must_be_validators_and_signatures_must_verify() {
    let world = World::new();
    let target = [4; 32];
    let mut culprits = sorted_culprits(target, &[1, 2]);
    // Not a validator's key (and not even a curve point).
    culprits[1].key = [0xff; 32];
    let extrinsic = DisputesExtrinsic { verdicts: vec![verdict(target, 2, 0)], culprits, faults: vec![] };
    assert_eq!(world.apply(&extrinsic), Err(DisputesError::BadGuarantorKey));

    let mut culprits = sorted_culprits(target, &[1, 2]);
    culprits[0].signature[0] ^= 1;
    let extrinsic = DisputesExtrinsic { verdicts: vec![verdict(target, 2, 0)], culprits, faults: vec![] };
    assert_eq!(world.apply(&extrinsic), Err(DisputesError::BadSignature));

    let mut bad_fault = fault([1; 32], false, 5);
    bad_fault.key = [7; 32];
    let extrinsic = DisputesExtrinsic {
        verdicts: vec![verdict([1; 32], 2, 5)],
        culprits: vec![],
        faults: vec![bad_fault],
    };
    assert_eq!(world.apply(&extrinsic), Err(DisputesError::BadAuditorKey));
}

#[test]
fn offences_against_unknown_or_agreeing_verdicts() {
    let mut world = World::new();
    // A culprit for a report nobody judged bad.
    let extrinsic = DisputesExtrinsic { culprits: sorted_culprits([5; 32], &[1, 2]), ..Default::default() };
    assert_eq!(world.apply(&extrinsic), Err(DisputesError::CulpritsVerdictNotBad));
    // A fault whose vote agrees with the good verdict.
    let extrinsic = DisputesExtrinsic {
        verdicts: vec![verdict([1; 32], 2, 5)],
        culprits: vec![],
        faults: vec![fault([1; 32], true, 5)],
    };
    assert_eq!(world.apply(&extrinsic), Err(DisputesError::FaultVerdictWrong));
    // Offences may name verdicts of earlier blocks, but not punish a key twice.
    world.records.bad.insert([5; 32]);
    let extrinsic = DisputesExtrinsic { culprits: sorted_culprits([5; 32], &[1, 2]), ..Default::default() };
    assert!(world.apply(&extrinsic).is_ok());
    world.records.offenders.insert(public(2));
    assert_eq!(world.apply(&extrinsic), Err(DisputesError::OffenderAlreadyReported));
}

#[test]
fn verdicts_need_their_offences_and_may_not_repeat() {
    let mut world = World::new();
    let extrinsic = DisputesExtrinsic { verdicts: vec![verdict([1; 32], 2, 5)], ..Default::default() };
    assert_eq!(world.apply(&extrinsic), Err(DisputesError::NotEnoughFaults));
    let target = [2; 32];
    let extrinsic = DisputesExtrinsic {
        verdicts: vec![verdict(target, 2, 0)],
        culprits: vec![culprit(target, 1)],
        faults: vec![],
    };
    assert_eq!(world.apply(&extrinsic), Err(DisputesError::NotEnoughCulprits));
    // A wonky verdict (⌊V/3⌋ = 2 valid) needs neither.
    let extrinsic = DisputesExtrinsic { verdicts: vec![verdict([6; 32], 2, 2)], ..Default::default() };
    let out = world.apply(&extrinsic).unwrap();
    assert!(out.records.wonky.contains(&[6; 32]));
    world.records = out.records;
    assert_eq!(world.apply(&extrinsic), Err(DisputesError::AlreadyJudged));
}
