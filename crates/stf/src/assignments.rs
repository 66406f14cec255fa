//! Guarantor assignments `M` and `M*` (GP 0.7.2 §11.3): which core each
//! validator guarantees for in a rotation, and the keys it signs with; [`guarantor_keys`]: which
//! of them a guarantee's credential names (eq. 11.26).

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
        // A guarantee can only be from the previous rotation once one has passed (τ' ≥ R); before
        // that the clamp to slot 0 is never used.
        let earlier = slot.saturating_sub(spec.rotation_period);
        let (entropy, keys) = if previous_rotation_in_epoch(spec, slot) {
            (&entropy.0[2], active)
        } else {
            (&entropy.0[3], previous)
        };
        Self { cores: permute(spec, entropy, earlier), keys: keys.iter().map(|v| v.ed25519).collect() }
    }
}

/// Whether the rotation before the one of `slot` began in `slot`'s epoch: `⌊(τ' − R)/E⌋ = ⌊τ'/E⌋`
/// (eq. 11.22), so that `M*` takes `η'_2` and `κ'` rather than `η'_3` and `λ'`.
fn previous_rotation_in_epoch(spec: &ChainSpec, slot: TimeSlot) -> bool {
    let epoch = spec.epoch_length.max(1);
    slot.saturating_sub(spec.rotation_period) / epoch == slot / epoch
}

/// The validator set whose indices the credential of a guarantee made at `report_slot` names, for
/// the block at slot `included` that carries it (eq. 11.26): `M`'s keys `κ'` when the two slots are
/// in one rotation, else `M*`'s: `κ'` when that previous rotation began in the same epoch, `λ'`
/// otherwise (eq. 11.22). The sets are read from a posterior state at slot `at` and its `active`
/// (`κ`) and `previous` (`λ`) sets: the including block's own, or a later block's in the same
/// epoch or the next (where the including block's `κ'` has become `λ`); `None` for a state later
/// than that. Whether `report_slot` is in either rotation at all is import's check, not this one.
///
/// Both the shards' fetch and the auditor find a report's guarantors with it; the reports
/// transition computes the full assignments ([`GuarantorAssignments`]) by the same rule.
pub fn guarantor_keys<'a>(
    spec: &ChainSpec,
    at: TimeSlot,
    active: &'a ValidatorsData,
    previous: &'a ValidatorsData,
    included: TimeSlot,
    report_slot: TimeSlot,
) -> Option<&'a ValidatorsData> {
    let rotation = spec.rotation_period.max(1);
    let epoch = spec.epoch_length.max(1);
    let kappa = report_slot / rotation == included / rotation || previous_rotation_in_epoch(spec, included);
    // How many epoch changes separate the state read from the including block.
    match (at / epoch).checked_sub(included / epoch)? {
        0 if kappa => Some(active),
        0 => Some(previous),
        1 if kappa => Some(previous),
        _ => None,
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

#[cfg(test)]
mod tests {
    use super::*;
    use orrery_state::ValidatorData;

    fn set(byte: u8) -> ValidatorsData {
        ValidatorsData(vec![ValidatorData { ed25519: [byte; 32], ..ValidatorData::NULL }; 6])
    }

    /// The tiny spec (E = 12, R = 4), worked by hand: rotations begin at slots 0, 4, 8 | 12, 16, 20 |
    /// 24, …, epochs at 0, 12, 24.
    #[test]
    fn guarantor_keys_by_rotation_and_epoch() {
        let spec = ChainSpec::tiny();
        assert_eq!((spec.epoch_length, spec.rotation_period), (12, 4));
        let (kappa, lambda) = (set(1), set(2));
        let keys = |at, included, report| guarantor_keys(&spec, at, &kappa, &lambda, included, report);
        // Read from the including block's own state.
        // Same rotation (12..16): M, κ'.
        assert_eq!(keys(13, 13, 12), Some(&kappa));
        // Previous rotation (8..12) began in epoch 0, the block is in epoch 1: M* with λ'.
        assert_eq!(keys(13, 13, 11), Some(&lambda));
        // Previous rotation (16..20) began in the block's epoch: M* with κ'.
        assert_eq!(keys(21, 21, 19), Some(&kappa));
        assert_eq!(keys(23, 21, 20), Some(&kappa));
        // Read from a later block's state one epoch on: the including block's κ' is its λ.
        assert_eq!(keys(25, 21, 19), Some(&lambda));
        assert_eq!(keys(25, 23, 23), Some(&lambda));
        // The including block's λ' is two sets back from epoch 2: not in the state any more.
        assert_eq!(keys(25, 13, 11), None);
        // Two epochs on, neither is.
        assert_eq!(keys(37, 21, 20), None);
        // A state older than the including block says nothing.
        assert_eq!(keys(11, 13, 12), None);
    }
}
