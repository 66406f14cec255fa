//! Which reports a validator audits (GP 0.7.2 §17.3, "Selection of Reports").

use orrery_crypto::bandersnatch::{self, BandersnatchError, PublicKey, VrfOutput};
use orrery_crypto::context;
use orrery_keys::ValidatorKeys;
use orrery_types::{CoreIndex, Hash};

use crate::{AUDIT_BIAS_FACTOR, TRANCHE_SECONDS};

/// Tranche 0 draws this many cores (`p_{..10}`, eq. 17.3); those with no report are dropped.
pub const TRANCHE0_CORES: usize = 10;

/// The VRF input of tranche 0: `$jam_audit ⌢ Y(H_v)`, `Y(H_v)` the block's entropy-source output.
pub fn tranche0_input(block_vrf_output: &VrfOutput) -> Vec<u8> {
    [context::AUDIT, block_vrf_output.as_slice()].concat()
}

/// The VRF input of tranche `n > 0` for report `report_hash`: `$jam_audit ⌢ Y(H_v) ⌢ H(w) ⌢ n`
/// (eq. 17.7).
pub fn later_tranche_input(block_vrf_output: &VrfOutput, report_hash: &Hash, tranche: u8) -> Vec<u8> {
    [context::AUDIT, block_vrf_output.as_slice(), report_hash.as_slice(), &[tranche]].concat()
}

/// A validator's tranche-0 draw: its evidence `s_0` and the cores it must audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tranche0 {
    /// `s_0`, an IETF VRF signature with no additional data.
    pub evidence: [u8; 96],
    /// `a_0`: the cores, in the order of the shuffle, whose report must be audited.
    pub cores: Vec<CoreIndex>,
}

/// `a_0` given `Y(s_0)`: the first ten of `F([(c, q_c) | c ∈ N_C], Y(s_0))` that hold a report.
/// `auditable[c]` says whether core `c` has a report that just became available (`q_c ≠ ∅`).
pub fn tranche0_cores(evidence_output: &VrfOutput, auditable: &[bool]) -> Vec<CoreIndex> {
    let cores: Vec<CoreIndex> = (0..auditable.len()).filter_map(|c| CoreIndex::try_from(c).ok()).collect();
    orrery_shuffle::shuffle(&cores, evidence_output)
        .into_iter()
        .take(TRANCHE0_CORES)
        .filter(|&c| auditable[usize::from(c)])
        .collect()
}

/// Our tranche-0 draw for a block whose entropy source gives `block_vrf_output`.
pub fn draw_tranche0(
    keys: &ValidatorKeys,
    block_vrf_output: &VrfOutput,
    auditable: &[bool],
) -> Result<Tranche0, BandersnatchError> {
    let evidence = keys.ietf_sign(&tranche0_input(block_vrf_output), &[])?;
    let output = bandersnatch::vrf_output(&evidence)?;
    Ok(Tranche0 { evidence, cores: tranche0_cores(&output, auditable) })
}

/// Checks another validator's tranche-0 evidence and gives the cores it drew.
pub fn verify_tranche0(
    public: &PublicKey,
    block_vrf_output: &VrfOutput,
    evidence: &[u8; 96],
    auditable: &[bool],
) -> Result<Vec<CoreIndex>, BandersnatchError> {
    let output = bandersnatch::ietf_vrf_verify(public, &tranche0_input(block_vrf_output), &[], evidence)?;
    Ok(tranche0_cores(&output, auditable))
}

/// Whether a later-tranche draw `Y(s_n(w))` selects its validator: `V / (256 F) · Y_0 < m_n`
/// (eq. 17.7), with `m_n` the no-shows of the tranche before. Written `V · Y_0 < 256 F m_n` so that
/// no division rounds.
pub fn later_tranche_selected(validators: u16, evidence_output: &VrfOutput, no_shows: usize) -> bool {
    let lhs = u64::from(validators) * u64::from(evidence_output[0]);
    let rhs = 256 * AUDIT_BIAS_FACTOR * no_shows as u64;
    lhs < rhs
}

/// Our draw for report `report_hash` at tranche `n > 0`: the evidence and whether we are selected.
pub fn draw_later_tranche(
    keys: &ValidatorKeys,
    validators: u16,
    block_vrf_output: &VrfOutput,
    report_hash: &Hash,
    tranche: u8,
    no_shows: usize,
) -> Result<([u8; 96], bool), BandersnatchError> {
    let evidence = keys.ietf_sign(&later_tranche_input(block_vrf_output, report_hash, tranche), &[])?;
    let output = bandersnatch::vrf_output(&evidence)?;
    Ok((evidence, later_tranche_selected(validators, &output, no_shows)))
}

/// Checks another validator's later-tranche evidence: whether the draw selects it.
pub fn verify_later_tranche(
    public: &PublicKey,
    validators: u16,
    block_vrf_output: &VrfOutput,
    report_hash: &Hash,
    tranche: u8,
    evidence: &[u8; 96],
    no_shows: usize,
) -> Result<bool, BandersnatchError> {
    let input = later_tranche_input(block_vrf_output, report_hash, tranche);
    let output = bandersnatch::ietf_vrf_verify(public, &input, &[], evidence)?;
    Ok(later_tranche_selected(validators, &output, no_shows))
}

/// The tranche current at `now_ms` for a block of `slot`: `⌊(T − P·H_t) / Ctrancheseconds⌋`
/// (eq. 17.4), with the wall clock in milliseconds since the JAM common era and `slot_ms` the
/// slot length (`P` seconds on a real chain, shorter on a dev testnet, where the tranche length
/// shrinks in proportion so that a tranche stays `8/6` of a slot). Saturates at 255 and is 0
/// before the slot starts.
pub fn tranche_at(now_ms: u64, slot: u32, slot_ms: u64, slot_seconds: u64) -> u8 {
    let start = u64::from(slot).saturating_mul(slot_ms);
    u8::try_from(now_ms.saturating_sub(start) / tranche_ms(slot_ms, slot_seconds)).unwrap_or(u8::MAX)
}

/// The length of a tranche in milliseconds: `Ctrancheseconds` scaled like the slot, `slot_ms` for
/// a slot of `slot_seconds` (at least 1 ms).
pub fn tranche_ms(slot_ms: u64, slot_seconds: u64) -> u64 {
    (TRANCHE_SECONDS * slot_ms / slot_seconds.max(1)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tranche0_takes_every_auditable_core_when_there_are_few() {
        // With two cores (the tiny spec) the first ten of the shuffle are both cores, whatever the
        // seed: the draw is every core with a report.
        for seed in 0..8u32 {
            let keys = ValidatorKeys::dev(seed);
            let draw = draw_tranche0(&keys, &[seed as u8; 32], &[true, false]).unwrap();
            assert_eq!(draw.cores, vec![0]);
            let draw = draw_tranche0(&keys, &[seed as u8; 32], &[true, true]).unwrap();
            let mut cores = draw.cores.clone();
            cores.sort();
            assert_eq!(cores, vec![0, 1]);
        }
    }

    #[test]
    fn tranche0_draws_ten_distinct_cores_of_many() {
        let keys = ValidatorKeys::dev(3);
        let draw = draw_tranche0(&keys, &[7; 32], &[true; 341]).unwrap();
        assert_eq!(draw.cores.len(), TRANCHE0_CORES);
        let mut distinct = draw.cores.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), TRANCHE0_CORES);
        // The same cores as the shuffle of 0..341 by Y(s_0), taken from the evidence alone.
        let output = bandersnatch::vrf_output(&draw.evidence).unwrap();
        let cores: Vec<u16> = (0..341).collect();
        let shuffled = orrery_shuffle::shuffle(&cores, &output);
        assert_eq!(draw.cores, shuffled[..10].to_vec());
    }

    #[test]
    fn tranche0_evidence_verifies_for_its_signer_only() {
        let keys = ValidatorKeys::dev(1);
        let auditable = [true; 20];
        let draw = draw_tranche0(&keys, &[9; 32], &auditable).unwrap();
        let cores =
            verify_tranche0(&keys.bandersnatch_public(), &[9; 32], &draw.evidence, &auditable).unwrap();
        assert_eq!(cores, draw.cores);
        // Another block's output, or another validator's key: refused.
        assert!(verify_tranche0(&keys.bandersnatch_public(), &[8; 32], &draw.evidence, &auditable).is_err());
        let other = ValidatorKeys::dev(2).bandersnatch_public();
        assert!(verify_tranche0(&other, &[9; 32], &draw.evidence, &auditable).is_err());
    }

    #[test]
    fn later_tranche_threshold_worked_by_hand() {
        // V = 6, F = 2, one no-show: selected iff 6·Y_0 < 512, that is Y_0 ≤ 85.
        let y = |b: u8| [b; 32];
        assert!(later_tranche_selected(6, &y(85), 1));
        assert!(!later_tranche_selected(6, &y(86), 1));
        // V = 1023: one no-show selects only Y_0 = 0 (1023·1 = 1023 ≥ 512); two, Y_0 ≤ 1.
        assert!(later_tranche_selected(1023, &y(0), 1));
        assert!(!later_tranche_selected(1023, &y(1), 1));
        assert!(later_tranche_selected(1023, &y(1), 2));
        assert!(!later_tranche_selected(1023, &y(2), 2));
        // No no-shows: nobody.
        assert!(!later_tranche_selected(6, &y(0), 0));
    }

    #[test]
    fn later_tranche_evidence_round_trips() {
        let keys = ValidatorKeys::dev(4);
        let (evidence, selected) = draw_later_tranche(&keys, 6, &[1; 32], &[2; 32], 3, 2).unwrap();
        let public = keys.bandersnatch_public();
        assert_eq!(verify_later_tranche(&public, 6, &[1; 32], &[2; 32], 3, &evidence, 2).unwrap(), selected);
        // The tranche number is signed.
        assert!(verify_later_tranche(&public, 6, &[1; 32], &[2; 32], 4, &evidence, 2).is_err());
    }

    #[test]
    fn tranches_every_eight_seconds_scaled_to_the_slot() {
        // A real slot (6 s): tranche 0 for the first 8 s after the slot starts, 1 for the next 8.
        assert_eq!(tranche_at(10 * 6000, 10, 6000, 6), 0);
        assert_eq!(tranche_at(10 * 6000 + 7999, 10, 6000, 6), 0);
        assert_eq!(tranche_at(10 * 6000 + 8000, 10, 6000, 6), 1);
        // A 1.5 s dev slot: tranches of 2 s.
        assert_eq!(tranche_at(4 * 1500 + 4100, 4, 1500, 6), 2);
        // Before the slot: 0; far after: saturated.
        assert_eq!(tranche_at(0, 10, 6000, 6), 0);
        assert_eq!(tranche_at(u64::MAX, 0, 6000, 6), 255);
    }
}
