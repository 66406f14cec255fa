//! Availability assurances: ρ† → ρ‡ and the newly available reports W (GP 0.7.2 §11.2).

use orrery_crypto::{blake2b_256_concat, Ed25519Batch};
use orrery_state::{AvailabilityAssignments, ValidatorsData};
use orrery_types::{AvailAssurance, ChainSpec, HeaderHash, TimeSlot, WorkReport};

use crate::contexts;

/// Why an assurances extrinsic is invalid. Codes are the vectors' names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AssurancesError {
    #[error("bad_attestation_parent: an assurance is not anchored on the parent block")]
    BadAttestationParent,
    #[error("bad_validator_index: an assurance names a validator index past V")]
    BadValidatorIndex,
    #[error("core_not_engaged: an assurance marks a core with no report pending")]
    CoreNotEngaged,
    #[error("bad_signature: an assurance's signature does not verify")]
    BadSignature,
    #[error(
        "not_sorted_or_unique_assurers: assurances are not sorted by validator index without duplicates"
    )]
    NotSortedOrUniqueAssurers,
}

impl AssurancesError {
    /// The vectors' name for this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadAttestationParent => "bad_attestation_parent",
            Self::BadValidatorIndex => "bad_validator_index",
            Self::CoreNotEngaged => "core_not_engaged",
            Self::BadSignature => "bad_signature",
            Self::NotSortedOrUniqueAssurers => "not_sorted_or_unique_assurers",
        }
    }
}

/// What the assurances transition yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssurancesOutput {
    /// `ρ‡`: without the reports that became available or timed out.
    pub pending: AvailabilityAssignments,
    /// `W`: the reports that became available, in core order.
    pub available: Vec<WorkReport>,
}

/// Applies `E_A` to `ρ†` (GP 0.7.2 §11.2). `active` holds the keys assurers sign with,
/// `slot` is `H_t` and `parent` is `H_p`.
pub fn apply(
    spec: &ChainSpec,
    pending: &AvailabilityAssignments,
    active: &ValidatorsData,
    slot: TimeSlot,
    parent: &HeaderHash,
    assurances: &[AvailAssurance],
) -> Result<AssurancesOutput, AssurancesError> {
    let (output, signatures) = apply_deferring_signatures(spec, pending, active, slot, parent, assurances)?;
    signatures.verify().map_err(|_| AssurancesError::BadSignature)?;
    Ok(output)
}

/// [`apply`] but for the assurers' signatures, returned unverified for the caller to verify
/// (with [`AssurancesError::BadSignature`] if they fail) before the output means anything. Every
/// other rule is checked first in `apply` too, and nothing can fail after the signatures, so
/// this gives `apply`'s verdict.
pub fn apply_deferring_signatures(
    spec: &ChainSpec,
    pending: &AvailabilityAssignments,
    active: &ValidatorsData,
    slot: TimeSlot,
    parent: &HeaderHash,
    assurances: &[AvailAssurance],
) -> Result<(AssurancesOutput, Ed25519Batch), AssurancesError> {
    let cores = usize::from(spec.cores_count);
    // Structure first, then every signature in one batch: the signature checks dominate, and a
    // batch costs far less than as many single checks.
    let mut signed = Ed25519Batch::new();
    let mut previous: Option<u16> = None;
    for assurance in assurances {
        if assurance.anchor != *parent {
            return Err(AssurancesError::BadAttestationParent);
        }
        let validator =
            active.get(usize::from(assurance.validator_index)).ok_or(AssurancesError::BadValidatorIndex)?;
        if previous.is_some_and(|p| p >= assurance.validator_index) {
            return Err(AssurancesError::NotSortedOrUniqueAssurers);
        }
        previous = Some(assurance.validator_index);
        // A bitfield of the wrong width cannot be the one signed for this chain's cores.
        if assurance.bitfield.len() != cores {
            return Err(AssurancesError::CoreNotEngaged);
        }
        for core in 0..cores {
            if assurance.bitfield.get(core) == Some(true) && pending.0.get(core).is_none_or(Option::is_none) {
                return Err(AssurancesError::CoreNotEngaged);
            }
        }
        // X_A ⌢ H(E(H_p, f)): the parent and the packed bitfield, with no length prefix.
        let payload = blake2b_256_concat(&[parent, assurance.bitfield.as_bytes()]);
        signed.push(validator.ed25519, [contexts::AVAILABLE, &payload].concat(), assurance.signature);
    }

    // A report is available once strictly more than two thirds of validators assure its core.
    let mut counts = vec![0usize; cores];
    for assurance in assurances {
        for (core, count) in counts.iter_mut().enumerate() {
            if assurance.bitfield.get(core) == Some(true) {
                *count += 1;
            }
        }
    }
    let threshold = 2 * usize::from(spec.validators_count);
    let mut pending = pending.clone();
    let mut available = Vec::new();
    for (core, entry) in pending.0.iter_mut().enumerate() {
        let Some(assignment) = entry else { continue };
        let is_available = counts.get(core).is_some_and(|&n| 3 * n > threshold);
        let timed_out =
            u64::from(slot) >= u64::from(assignment.timeout) + u64::from(spec.availability_timeout);
        if is_available {
            available.push(assignment.report.clone());
        }
        if is_available || timed_out {
            *entry = None;
        }
    }
    Ok((AssurancesOutput { pending, available }, signed))
}
