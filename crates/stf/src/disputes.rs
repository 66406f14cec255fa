//! Judgments: ψ → ψ' and ρ → ρ† from the disputes extrinsic (GP 0.7.2 §10).
//!
//! Every check runs before anything is written, so an invalid extrinsic leaves the state as it was
//! and names the first condition it broke. The structural conditions come first and the signatures
//! last, all verified in one batch.

use std::collections::BTreeSet;

use orrery_codec::Encode;
use orrery_crypto::{blake2b_256, ed25519_verify_batch};
use orrery_state::{AvailabilityAssignments, DisputesRecords, ValidatorsData};
use orrery_types::{ChainSpec, DisputesExtrinsic, Ed25519Public, TimeSlot, WorkReportHash};

use crate::contexts;

/// Why a disputes extrinsic is invalid. Codes are the vectors' names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DisputesError {
    #[error("already_judged: a verdict's report is already in the good, bad or wonky set")]
    AlreadyJudged,
    #[error("bad_vote_split: a verdict's positive votes are not 0, ⌊V/3⌋ or ⌊2V/3⌋+1 of ⌊2V/3⌋+1")]
    BadVoteSplit,
    #[error("verdicts_not_sorted_unique: verdicts are not sorted by report hash without duplicates")]
    VerdictsNotSortedUnique,
    #[error("judgements_not_sorted_unique: a verdict's judgments are not sorted by validator index")]
    JudgementsNotSortedUnique,
    #[error("culprits_not_sorted_unique: culprits are not sorted by key without duplicates")]
    CulpritsNotSortedUnique,
    #[error("faults_not_sorted_unique: faults are not sorted by key without duplicates")]
    FaultsNotSortedUnique,
    #[error("not_enough_culprits: a bad verdict has fewer than two culprits")]
    NotEnoughCulprits,
    #[error("not_enough_faults: a good verdict has no fault")]
    NotEnoughFaults,
    #[error("culprits_verdict_not_bad: a culprit's report is not judged bad")]
    CulpritsVerdictNotBad,
    #[error("fault_verdict_wrong: a fault's vote agrees with its report's verdict")]
    FaultVerdictWrong,
    #[error("offender_already_reported: an offender's key is already in the punish set")]
    OffenderAlreadyReported,
    #[error("bad_judgement_age: a verdict's epoch is neither the current nor the previous one")]
    BadJudgementAge,
    #[error("bad_validator_index: a judgment names a validator index past V")]
    BadValidatorIndex,
    #[error("bad_signature: a judgment, culprit or fault signature does not verify")]
    BadSignature,
    #[error("bad_guarantor_key: a culprit's key is not a current or previous validator's")]
    BadGuarantorKey,
    #[error("bad_auditor_key: a fault's key is not a current or previous validator's")]
    BadAuditorKey,
}

impl DisputesError {
    /// The vectors' name for this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::AlreadyJudged => "already_judged",
            Self::BadVoteSplit => "bad_vote_split",
            Self::VerdictsNotSortedUnique => "verdicts_not_sorted_unique",
            Self::JudgementsNotSortedUnique => "judgements_not_sorted_unique",
            Self::CulpritsNotSortedUnique => "culprits_not_sorted_unique",
            Self::FaultsNotSortedUnique => "faults_not_sorted_unique",
            Self::NotEnoughCulprits => "not_enough_culprits",
            Self::NotEnoughFaults => "not_enough_faults",
            Self::CulpritsVerdictNotBad => "culprits_verdict_not_bad",
            Self::FaultVerdictWrong => "fault_verdict_wrong",
            Self::OffenderAlreadyReported => "offender_already_reported",
            Self::BadJudgementAge => "bad_judgement_age",
            Self::BadValidatorIndex => "bad_validator_index",
            Self::BadSignature => "bad_signature",
            Self::BadGuarantorKey => "bad_guarantor_key",
            Self::BadAuditorKey => "bad_auditor_key",
        }
    }
}

/// The prior state the disputes transition reads.
#[derive(Debug, Clone, Copy)]
pub struct DisputesInput<'a> {
    /// `ψ`.
    pub records: &'a DisputesRecords,
    /// `ρ`.
    pub pending: &'a AvailabilityAssignments,
    /// `τ`: the prior slot, which fixes the current epoch.
    pub prior_slot: TimeSlot,
    /// `κ`.
    pub active: &'a ValidatorsData,
    /// `λ`.
    pub previous: &'a ValidatorsData,
}

/// What the disputes transition yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisputesOutput {
    /// `ψ'`.
    pub records: DisputesRecords,
    /// `ρ†`: the pending reports without those judged bad or wonky.
    pub pending: AvailabilityAssignments,
    /// `H_o`: the new offenders, culprits' keys then faults' keys.
    pub offenders_mark: Vec<Ed25519Public>,
}

/// The outcome of one verdict: how many of its judgments said "valid".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Good,
    Bad,
    Wonky,
}

/// Applies `E_D` (GP 0.7.2 §10.2–10.3).
pub fn apply(
    spec: &ChainSpec,
    prior: DisputesInput<'_>,
    extrinsic: &DisputesExtrinsic,
) -> Result<DisputesOutput, DisputesError> {
    let records = prior.records;
    let validators = usize::from(spec.validators_count);
    let supermajority = spec.super_majority();
    let epoch = prior.prior_slot / spec.epoch_length;

    // Verdicts: sorted by report hash, none already judged.
    if !strictly_increasing(extrinsic.verdicts.iter().map(|v| &v.target)) {
        return Err(DisputesError::VerdictsNotSortedUnique);
    }
    // Structure first, every signature afterwards in one batch (they dominate the cost).
    let mut signed: Vec<(&Ed25519Public, Vec<u8>, &[u8; 64])> = Vec::new();
    let mut outcomes: Vec<(WorkReportHash, Outcome)> = Vec::with_capacity(extrinsic.verdicts.len());
    for verdict in &extrinsic.verdicts {
        if records.is_judged(&verdict.target) {
            return Err(DisputesError::AlreadyJudged);
        }
        // The verdict's epoch picks the key set: κ for the current epoch, λ for the one before.
        let keys = if verdict.age == epoch {
            prior.active
        } else if epoch.checked_sub(1) == Some(verdict.age) {
            prior.previous
        } else {
            return Err(DisputesError::BadJudgementAge);
        };
        if !strictly_increasing(verdict.votes.iter().map(|j| j.index)) {
            return Err(DisputesError::JudgementsNotSortedUnique);
        }
        for judgment in &verdict.votes {
            let key = keys.get(usize::from(judgment.index)).ok_or(DisputesError::BadValidatorIndex)?;
            let message = contexts::judgment_message(judgment.vote, &verdict.target);
            signed.push((&key.ed25519, message, &judgment.signature));
        }
        let positive = verdict.votes.iter().filter(|j| j.vote).count();
        let outcome = match positive {
            _ if verdict.votes.len() != supermajority => return Err(DisputesError::BadVoteSplit),
            0 => Outcome::Bad,
            p if p == supermajority => Outcome::Good,
            p if p == validators / 3 => Outcome::Wonky,
            _ => return Err(DisputesError::BadVoteSplit),
        };
        outcomes.push((verdict.target, outcome));
    }
    let posterior_has = |target: &WorkReportHash, wanted: Outcome| {
        outcomes.iter().any(|(t, o)| t == target && *o == wanted)
            || match wanted {
                Outcome::Good => records.good.contains(target),
                Outcome::Bad => records.bad.contains(target),
                Outcome::Wonky => records.wonky.contains(target),
            }
    };

    // Offenders may be any current or previous validator not already punished.
    let known_key =
        |key: &Ed25519Public| prior.active.iter().chain(prior.previous.iter()).any(|v| v.ed25519 == *key);

    // Culprits: guarantors of a report judged bad.
    if !strictly_increasing(extrinsic.culprits.iter().map(|c| &c.key)) {
        return Err(DisputesError::CulpritsNotSortedUnique);
    }
    for culprit in &extrinsic.culprits {
        if !posterior_has(&culprit.target, Outcome::Bad) {
            return Err(DisputesError::CulpritsVerdictNotBad);
        }
        if records.offenders.contains(&culprit.key) {
            return Err(DisputesError::OffenderAlreadyReported);
        }
        if !known_key(&culprit.key) {
            return Err(DisputesError::BadGuarantorKey);
        }
        signed.push((&culprit.key, [contexts::GUARANTEE, &culprit.target].concat(), &culprit.signature));
    }

    // Faults: judges who voted against the verdict. The report must be judged either
    // good or bad, and the fault's vote must be the opposite of that judgment.
    if !strictly_increasing(extrinsic.faults.iter().map(|f| &f.key)) {
        return Err(DisputesError::FaultsNotSortedUnique);
    }
    for fault in &extrinsic.faults {
        let bad = posterior_has(&fault.target, Outcome::Bad);
        let good = posterior_has(&fault.target, Outcome::Good);
        if bad == good || fault.vote != bad {
            return Err(DisputesError::FaultVerdictWrong);
        }
        if records.offenders.contains(&fault.key) {
            return Err(DisputesError::OffenderAlreadyReported);
        }
        if !known_key(&fault.key) {
            return Err(DisputesError::BadAuditorKey);
        }
        signed.push((&fault.key, contexts::judgment_message(fault.vote, &fault.target), &fault.signature));
    }

    // A good verdict needs a fault and a bad one two culprits.
    for (target, outcome) in &outcomes {
        match outcome {
            Outcome::Good if !extrinsic.faults.iter().any(|f| f.target == *target) => {
                return Err(DisputesError::NotEnoughFaults);
            }
            Outcome::Bad if extrinsic.culprits.iter().filter(|c| c.target == *target).count() < 2 => {
                return Err(DisputesError::NotEnoughCulprits);
            }
            _ => {}
        }
    }

    ed25519_verify_batch(
        signed.iter().map(|(key, message, signature)| (*key, message.as_slice(), *signature)),
    )
    .map_err(|_| DisputesError::BadSignature)?;

    // Everything checks: build the posterior values.
    let mut records = records.clone();
    for (target, outcome) in &outcomes {
        match outcome {
            Outcome::Good => records.good.insert(*target),
            Outcome::Bad => records.bad.insert(*target),
            Outcome::Wonky => records.wonky.insert(*target),
        };
    }
    let offenders_mark: Vec<Ed25519Public> =
        extrinsic.culprits.iter().map(|c| c.key).chain(extrinsic.faults.iter().map(|f| f.key)).collect();
    records.offenders.extend(offenders_mark.iter().copied());

    // ρ†: reports judged bad or wonky in this block leave their core.
    let cleared: BTreeSet<WorkReportHash> =
        outcomes.iter().filter(|(_, o)| *o != Outcome::Good).map(|(t, _)| *t).collect();
    let mut pending = prior.pending.clone();
    if !cleared.is_empty() {
        for slot in &mut pending.0 {
            if slot.as_ref().is_some_and(|a| cleared.contains(&blake2b_256(&a.report.encode()))) {
                *slot = None;
            }
        }
    }
    Ok(DisputesOutput { records, pending, offenders_mark })
}

fn strictly_increasing<T: Ord>(items: impl IntoIterator<Item = T>) -> bool {
    let mut items = items.into_iter();
    let Some(mut last) = items.next() else { return true };
    for item in items {
        if item <= last {
            return false;
        }
        last = item;
    }
    true
}
