//! Guarantor assignments `M` and `M*` (GP 0.7.2 §11.3): which core each
//! validator guarantees for in a rotation, and the keys it signs with.

use orrery_state::{EntropyBuffer, ValidatorsData};
use orrery_types::{ChainSpec, CoreIndex, Ed25519Public, Entropy, TimeSlot};

/// One rotation's assignments: per validator index, its core and its Ed25519 key.
///
/// The paper's `Φ` zeroes offenders' keys; the keys here are kept whole and callers reject an
/// offender's credential by name instead, so the error says why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuarantorAssignments {
    pub cores: Vec<CoreIndex>,
    pub keys: Vec<Ed25519Public>,
}

impl GuarantorAssignments {
    /// `M = (P(η'_2, τ'), Φ(κ'))`.
    pub fn current(
        spec: &ChainSpec,
        entropy: &EntropyBuffer,
        slot: TimeSlot,
        active: &ValidatorsData,
    ) -> Self {
        Self { cores: permute(spec, &entropy.0[2], slot), keys: active.iter().map(|v| v.ed25519).collect() }
    }

    /// `M*`: the assignments of the previous rotation, `P(e, τ' − R)`, with the epoch's entropy and
    /// keys when that rotation fell in the previous epoch (`η'_3`, `λ'`).
    pub fn previous(
        spec: &ChainSpec,
        entropy: &EntropyBuffer,
        slot: TimeSlot,
        active: &ValidatorsData,
        previous: &ValidatorsData,
    ) -> Self {
        let epoch = spec.epoch_length.max(1);
        // A guarantee can only be from the previous rotation once one has passed (τ' ≥ R); before
        // that the clamp to slot 0 is never used.
        let earlier = slot.saturating_sub(spec.rotation_period);
        let (entropy, keys) =
            if earlier / epoch == slot / epoch { (&entropy.0[2], active) } else { (&entropy.0[3], previous) };
        Self { cores: permute(spec, entropy, earlier), keys: keys.iter().map(|v| v.ed25519).collect() }
    }
}

/// `P(e, t) = R(F([⌊C·i/V⌋ | i ← N_V], e), ⌊(t mod E)/R⌋)`: the shuffled core of every validator,
/// rotated by the rotations elapsed in the epoch.
pub fn permute(spec: &ChainSpec, entropy: &Entropy, slot: TimeSlot) -> Vec<CoreIndex> {
    let validators = u64::from(spec.validators_count);
    let cores = u64::from(spec.cores_count).max(1);
    // ⌊C·i/V⌋ < C ≤ 2^16, so every value fits a core index.
    let initial: Vec<CoreIndex> = (0..validators).map(|i| (cores * i / validators) as CoreIndex).collect();
    let shifted = u64::from((slot % spec.epoch_length.max(1)) / spec.rotation_period.max(1));
    orrery_shuffle::shuffle(&initial, entropy)
        .into_iter()
        .map(|core| ((u64::from(core) + shifted) % cores) as CoreIndex)
        .collect()
}
