//! One Yuma epoch of one subnet, as subtensor's `epoch_mechanism` computes it
//! (`pallets/subtensor/src/epoch/run_epoch.rs`), as a pure function of the subnet's state.
//!
//! The steps, in subtensor's order and arithmetic:
//! 1. activity: a neuron is inactive when `last_update + activity_cutoff < current_block`;
//! 2. stake: stakes under the threshold (the owner's excepted) are zeroed, the rest normalized in I64F64 and
//!    narrowed to I32F32; the top `max_allowed_validators` non-zero stakes get next epoch's permits;
//! 3. active stake: stake of inactive neurons and of neurons without a permit is zeroed, then normalized;
//! 4. weights: rows of neurons without a permit are dropped, self-weights dropped (the owner's kept), cells
//!    that name a neuron registered at or after the setter's last update dropped (and, under commit-reveal,
//!    after its earliest live commit), rows normalized;
//! 5. consensus: the stake-weighted median of each column at κ; weights clipped to it; validator trust is
//!    the sum of a row's clipped weights; ranks `Σ_i clipped_ij · s_i`, normalized, are the incentive;
//! 6. bonds: weights for bonds interpolate the weights and the clipped weights by the bonds penalty; then
//!    either the legacy rule (bonds read column-normalized, ΔB = W∘S column-normalized, EMA with
//!    `1 − bonds_moving_average / 10⁶`, column-normalized; dividends `Σ_j B_ij · I_j`) or Yuma 3 (bonds read
//!    as proportions, EMA per cell with the liquid alpha sigmoid or with the fixed alpha, dividends
//!    `(Σ_j B̂_ij I_j) · s_i` with B̂ column-normalized); bonds of columns re-registered since the last epoch
//!    are dropped first;
//! 7. emission: incentive and dividends are normalized over their joint sum and multiplied by the epoch's
//!    emission in I96F32; if that sum is 0 the validators' share follows the active stake (or the stake).
//!
//! Values kept between epochs (bonds, permits) go out and come back in the same `u16` forms as subtensor
//! stores them, so a chain of epochs run through this function matches one run on chain.

use crate::math::*;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;
use substrate_fixed::types::{I32F32, I64F64, I96F32};

/// A subnet's epoch parameters, in subtensor's storage units.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EpochParams {
    /// κ on the `u16` scale (`κ = kappa / 65535`); subtensor's default 32767 (≈ 0.5).
    pub kappa: u16,
    /// How far bonds follow clipped rather than raw weights, on the `u16` scale (65535 = fully clipped).
    pub bonds_penalty: u16,
    /// The bonds moving average in millionths: the EMA keeps `bonds_moving_average / 10⁶` of the old bonds.
    pub bonds_moving_average: u64,
    /// Blocks after a neuron's last update during which it counts as active.
    pub activity_cutoff: u64,
    /// How many of the largest stakes get a validator permit.
    pub max_allowed_validators: u16,
    /// Stake (in the units of [`Neuron::stake`]) under which a neuron's stake counts as 0.
    pub stake_threshold: u64,
    /// Yuma 3 bonds (per-validator bond shares and stake-scaled dividends) instead of the legacy rule.
    pub yuma3: bool,
    /// Liquid alpha: a per-cell EMA alpha from a sigmoid of the disagreement (used by the Yuma 3 rule only,
    /// as in subtensor).
    pub liquid_alpha: bool,
    /// Liquid alpha's bounds, on the `u16` scale (subtensor's defaults 45875 and 58982: 0.7 and 0.9).
    pub alpha_low: u16,
    /// See [`EpochParams::alpha_low`].
    pub alpha_high: u16,
    /// The liquid alpha sigmoid's steepness (the sigmoid is taken of `−steepness/100 · (diff − 0.5)`).
    pub alpha_sigmoid_steepness: i16,
}

impl Default for EpochParams {
    /// Subtensor's runtime defaults (Yuma 3 and liquid alpha off).
    fn default() -> Self {
        EpochParams {
            kappa: 32_767,
            bonds_penalty: u16::MAX,
            bonds_moving_average: 900_000,
            activity_cutoff: 5_000,
            max_allowed_validators: 128,
            stake_threshold: 0,
            yuma3: false,
            liquid_alpha: false,
            alpha_low: 45_875,
            alpha_high: 58_982,
            alpha_sigmoid_steepness: 1_000,
        }
    }
}

/// One neuron (uid = its index) as the epoch reads it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Neuron {
    /// Its stake weight (subtensor's `alpha + tao · tao_weight`, here already combined), in base units.
    pub stake: u64,
    /// The block of its last weight update.
    pub last_update: u64,
    /// The block it was (last) registered at.
    pub block_at_registration: u64,
    /// Whether it holds a validator permit (from the previous epoch's output).
    pub validator_permit: bool,
    /// Its weights as stored: `(uid, weight)` with the row max-upscaled to 65535
    /// ([`vec_u16_max_upscale_to_u16`]), columns distinct and below the neuron count.
    pub weights: Vec<(u16, u16)>,
    /// Its bonds as stored by the previous epoch ([`NeuronOutput::bonds`]).
    pub bonds: Vec<(u16, u16)>,
    /// Under commit-reveal, the block of its earliest live weight commit: its weights on neurons registered
    /// after that block are dropped.
    pub earliest_commit_block: Option<u64>,
}

/// The whole input of one epoch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EpochInput {
    /// The subnet's parameters.
    pub params: EpochParams,
    /// The block the epoch runs at.
    pub current_block: u64,
    /// The subnet's tempo (blocks between epochs).
    pub tempo: u64,
    /// The block of the previous successful epoch, if any (subtensor's `LastMechansimStepBlock`, 0 = none).
    pub last_epoch_block: u64,
    /// The subnet owner's uid, if the owner's hotkey is registered: it always holds a permit, its stake is
    /// never thresholded away and its self-weight counts.
    pub owner_uid: Option<u16>,
    /// The neurons, by uid.
    pub neurons: Vec<Neuron>,
    /// The emission to share out, in base units (subtensor's `rao_emission`).
    pub emission: u64,
}

/// What the epoch gives one neuron.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NeuronOutput {
    /// Active (updated within the activity cutoff).
    pub active: bool,
    /// Normalized stake, as a `u16` proportion.
    pub stake_weight: u16,
    /// Consensus weight of this neuron as a miner, `u16` proportion.
    pub consensus: u16,
    /// Incentive (normalized rank), `u16` proportion.
    pub incentive: u16,
    /// Dividends, `u16` proportion.
    pub dividend: u16,
    /// Validator trust (sum of its clipped weights), `u16` proportion.
    pub validator_trust: u16,
    /// Whether it holds a validator permit for the next epoch.
    pub validator_permit: bool,
    /// Its emission as a miner, base units.
    pub server_emission: u64,
    /// Its emission as a validator, base units.
    pub validator_emission: u64,
    /// Its combined emission (normalized incentive + dividends), base units: what subtensor records.
    pub emission: u64,
    /// Its bonds to store for the next epoch (empty without a permit).
    pub bonds: Vec<(u16, u16)>,
}

/// The epoch's result, by uid, and the I32F32 vectors behind it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EpochOutput {
    /// Per neuron, by uid.
    pub neurons: Vec<NeuronOutput>,
    /// Consensus per column.
    pub consensus: Vec<I32F32>,
    /// Incentive per neuron.
    pub incentive: Vec<I32F32>,
    /// Dividends per neuron.
    pub dividends: Vec<I32F32>,
    /// Validator trust per neuron.
    pub validator_trust: Vec<I32F32>,
    /// The EMA bonds (legacy: column max-upscaled; Yuma 3: proportions), before narrowing to `u16`.
    pub ema_bonds: SparseMatrix,
}

/// Why an epoch input was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EpochError {
    /// Subtensor numbers neurons with `u16` uids.
    TooManyNeurons(usize),
    /// A weight or bond names a uid that does not exist.
    UnknownUid {
        /// The row's uid.
        row: usize,
        /// The column named.
        column: u16,
    },
    /// A weight or bond row names the same column twice (subtensor refuses duplicate uids in weights).
    DuplicateUid {
        /// The row's uid.
        row: usize,
        /// The column named twice.
        column: u16,
    },
    /// The owner uid is not a neuron.
    UnknownOwner(u16),
    /// The stakes add up beyond I64F64's range (2⁶³), where subtensor's normalization sum would overflow.
    StakeOverflow,
    /// A row of weights adds up beyond I32F32's range (2³¹), where subtensor's row normalization would
    /// overflow.
    WeightSumOverflow(usize),
}

impl fmt::Display for EpochError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EpochError::TooManyNeurons(n) => write!(f, "{n} neurons: uids are u16, at most 65535 neurons"),
            EpochError::UnknownUid { row, column } => {
                write!(f, "neuron {row}'s weights or bonds name uid {column}, which does not exist")
            }
            EpochError::DuplicateUid { row, column } => {
                write!(f, "neuron {row}'s weights or bonds name uid {column} twice")
            }
            EpochError::UnknownOwner(uid) => write!(f, "owner uid {uid} is not a neuron"),
            EpochError::StakeOverflow => write!(f, "the stakes add up to 2^63 or more"),
            EpochError::WeightSumOverflow(row) => write!(f, "neuron {row}'s weights add up to 2^31 or more"),
        }
    }
}

impl core::error::Error for EpochError {}

fn check_row(row_uid: usize, row: &[(u16, u16)], seen: &mut [bool]) -> Result<(), EpochError> {
    for &(j, _) in row {
        let slot = seen.get_mut(j as usize).ok_or(EpochError::UnknownUid { row: row_uid, column: j })?;
        if core::mem::replace(slot, true) {
            return Err(EpochError::DuplicateUid { row: row_uid, column: j });
        }
    }
    for &(j, _) in row {
        seen[j as usize] = false;
    }
    Ok(())
}

fn validate(input: &EpochInput) -> Result<(), EpochError> {
    let n = input.neurons.len();
    if n > u16::MAX as usize {
        return Err(EpochError::TooManyNeurons(n));
    }
    if let Some(owner) = input.owner_uid {
        if owner as usize >= n {
            return Err(EpochError::UnknownOwner(owner));
        }
    }
    let total_stake: u128 = input.neurons.iter().map(|x| u128::from(x.stake)).sum();
    if total_stake >= 1 << 63 {
        return Err(EpochError::StakeOverflow);
    }
    let mut seen = vec![false; n];
    for (i, neuron) in input.neurons.iter().enumerate() {
        if neuron.weights.iter().map(|&(_, w)| u64::from(w)).sum::<u64>() >= 1 << 31 {
            return Err(EpochError::WeightSumOverflow(i));
        }
        check_row(i, &neuron.weights, &mut seen)?;
        check_row(i, &neuron.bonds, &mut seen)?;
    }
    Ok(())
}

fn to_sparse(row: &[(u16, u16)]) -> Vec<(u16, I32F32)> {
    row.iter().map(|&(j, v)| (j, u16_to_fixed(v))).collect()
}

/// Subtensor's `alpha_sigmoid`: the EMA alpha of one (validator, miner) cell under liquid alpha.
///
/// A validator buying into a miner (weight ≥ bond) is judged by how far its weight exceeds consensus, one
/// selling by how far its bond exceeds its weight; the sigmoid of that distance picks alpha in
/// `[alpha_low, alpha_high]`.
pub fn alpha_sigmoid(
    consensus: I32F32,
    weight: I32F32,
    bond: I32F32,
    alpha_low: I32F32,
    alpha_high: I32F32,
    steepness: I32F32,
) -> I32F32 {
    let zero = I32F32::from_num(0);
    let one = I32F32::from_num(1);
    let diff = if weight >= bond {
        clamp_value(weight.saturating_sub(consensus), zero, one)
    } else {
        clamp_value(bond.saturating_sub(weight), zero, one)
    };
    let exponent = steepness
        .saturating_div(I32F32::from_num(-100))
        .saturating_mul(diff.saturating_sub(I32F32::from_num(0.5)));
    let sigmoid = one.saturating_div(one.saturating_add(exp_safe(exponent)));
    let alpha = alpha_low.saturating_add(sigmoid.saturating_mul(alpha_high.saturating_sub(alpha_low)));
    clamp_value(alpha, alpha_low, alpha_high)
}

/// The fixed EMA alpha: `1 − bonds_moving_average / 10⁶`, computed in I64F64 then narrowed as subtensor does.
pub fn fixed_alpha(bonds_moving_average: u64) -> I32F32 {
    let kept = I64F64::saturating_from_num(bonds_moving_average)
        .checked_div(I64F64::saturating_from_num(1_000_000))
        .unwrap_or(I64F64::from_num(0));
    I32F32::saturating_from_num(1).saturating_sub(I32F32::saturating_from_num(kept))
}

/// The Yuma 3 bond EMA under liquid alpha: subtensor's `compute_liquid_alpha_values_sparse` followed by
/// `mat_ema_alpha_sparse`, with the same result.
///
/// Subtensor computes an alpha (a sigmoid, so an `exp`) for every cell of the square matrix; the moving
/// average then reads only the cells a row of `weights` names. Here only those alphas are computed, which
/// changes nothing else: the weight and bond an alpha is taken of are still found as subtensor finds them,
/// by one forward walk per row over all columns (which finds a cell only when the row's columns come in
/// increasing order: stored bonds always do, weights do when submitted sorted).
fn liquid_ema(
    weights: &[Vec<(u16, I32F32)>],
    bonds: &[Vec<(u16, I32F32)>],
    consensus: &[I32F32],
    params: &EpochParams,
) -> SparseMatrix {
    let zero = I32F32::from_num(0);
    let one = I32F32::from_num(1);
    let steepness = I32F32::saturating_from_num(params.alpha_sigmoid_steepness);
    let low = u16_proportion_to_fixed(params.alpha_low);
    let high = u16_proportion_to_fixed(params.alpha_high);
    let columns = consensus.len();
    let walk = |row: &[(u16, I32F32)], into: &mut [I32F32]| {
        let mut cursor = 0usize;
        for (j, cell) in into.iter_mut().enumerate() {
            *cell = zero;
            while let Some(&(c, v)) = row.get(cursor) {
                if (c as usize) < j {
                    cursor += 1;
                } else {
                    if c as usize == j {
                        *cell = v;
                    }
                    break;
                }
            }
        }
    };
    let mut w_seen = vec![zero; columns];
    let mut b_seen = vec![zero; columns];
    let mut old_dense = vec![zero; columns];
    weights
        .iter()
        .zip(bonds)
        .map(|(w_row, b_row)| {
            if w_row.is_empty() {
                return Vec::new();
            }
            walk(w_row, &mut w_seen);
            walk(b_row, &mut b_seen);
            // The moving average's own read of the old bonds: last entry of a column wins.
            for &(j, v) in b_row {
                if let Some(d) = old_dense.get_mut(j as usize) {
                    *d = v;
                }
            }
            let row = w_row
                .iter()
                .filter_map(|&(j, new)| {
                    let j = j as usize;
                    let c = *consensus.get(j)?;
                    let a = alpha_sigmoid(c, w_seen[j], b_seen[j], low, high, steepness);
                    let decayed = one.saturating_sub(a).saturating_mul(old_dense[j]);
                    let v = decayed.saturating_add(a.saturating_mul(new).max(zero)).min(one);
                    (v > zero).then_some((j as u16, v))
                })
                .collect();
            for &(j, _) in b_row {
                if let Some(d) = old_dense.get_mut(j as usize) {
                    *d = zero;
                }
            }
            row
        })
        .collect()
}

/// Runs one epoch. Refuses malformed input (see [`EpochError`]); every well-formed input gives an output.
pub fn epoch(input: &EpochInput) -> Result<EpochOutput, EpochError> {
    validate(input)?;
    let p = &input.params;
    let neurons = &input.neurons;
    let n = neurons.len();
    let columns = n as u16;
    let zero = I32F32::from_num(0);
    let owner = input.owner_uid.map(usize::from);

    // Activity.
    let inactive: Vec<bool> = neurons
        .iter()
        .map(|x| x.last_update.saturating_add(p.activity_cutoff) < input.current_block)
        .collect();

    // Stake, thresholded (never the owner's) and normalized in I64F64.
    let mut stake64: Vec<I64F64> = neurons
        .iter()
        .enumerate()
        .map(|(uid, x)| {
            let s = I64F64::saturating_from_num(x.stake);
            if owner != Some(uid) && fixed64_to_u64(s) < p.stake_threshold {
                I64F64::from_num(0)
            } else {
                s
            }
        })
        .collect();
    inplace_normalize_64(&mut stake64);
    let stake: Vec<I32F32> = vec_fixed64_to_fixed32(stake64);

    // Permits: this epoch's decide who validates now, the new ones are for the next epoch.
    let mut permits: Vec<bool> = neurons.iter().map(|x| x.validator_permit).collect();
    let mut new_permits = is_topk_nonzero(&stake, p.max_allowed_validators as usize);
    if let Some(o) = owner {
        permits[o] = true;
        new_permits[o] = true;
    }
    let forbids: Vec<bool> = permits.iter().map(|&b| !b).collect();

    let mut active_stake = stake.clone();
    inplace_mask_vector(&inactive, &mut active_stake);
    inplace_mask_vector(&forbids, &mut active_stake);
    inplace_normalize(&mut active_stake);

    // Weights.
    let last_update: Vec<u64> = neurons.iter().map(|x| x.last_update).collect();
    let registered: Vec<u64> = neurons.iter().map(|x| x.block_at_registration).collect();
    let raw: SparseMatrix = neurons.iter().map(|x| to_sparse(&x.weights)).collect();
    let mut weights = mask_rows_sparse(&forbids, &raw);
    weights = match input.owner_uid {
        Some(o) => mask_diag_sparse_except_index(&weights, o),
        None => mask_diag_sparse(&weights),
    };
    weights = vec_mask_sparse_matrix(&weights, &last_update, &registered, &|updated, reg| updated <= reg);
    if neurons.iter().any(|x| x.earliest_commit_block.is_some()) {
        let commits: Vec<u64> = neurons.iter().map(|x| x.earliest_commit_block.unwrap_or(u64::MAX)).collect();
        weights = vec_mask_sparse_matrix(&weights, &commits, &registered, &|commit, reg| commit < reg);
    }
    inplace_row_normalize_sparse(&mut weights);

    // Consensus, clipping, trust, incentive.
    let kappa = fixed_to_fixed_u16_proportion(u16_to_fixed(p.kappa));
    let consensus = weighted_median_col_sparse(&active_stake, &weights, columns, kappa);
    let clipped = col_clip_sparse(&weights, &consensus);
    let validator_trust = row_sum_sparse(&clipped);
    let mut incentive = matmul_sparse(&clipped, &active_stake, columns);
    inplace_normalize(&mut incentive);

    // Bonds and dividends.
    let penalty = fixed_to_fixed_u16_proportion(u16_to_fixed(p.bonds_penalty));
    let weights_for_bonds = interpolate_sparse(&weights, &clipped, columns, penalty);
    let last_tempo = if input.last_epoch_block == 0 {
        input.current_block.saturating_sub(input.tempo)
    } else {
        input.last_epoch_block.saturating_add(1)
    };
    let stored: SparseMatrix = neurons.iter().map(|x| to_sparse(&x.bonds)).collect();
    let mut dividends: Vec<I32F32>;
    let ema_bonds: SparseMatrix;
    if p.yuma3 {
        let mut bonds = stored;
        for (_, v) in bonds.iter_mut().flatten() {
            *v = fixed_to_fixed_u16_proportion(*v);
        }
        bonds = scalar_vec_mask_sparse_matrix(&bonds, last_tempo, &registered, &|t, reg| t <= reg);
        ema_bonds = if p.liquid_alpha && consensus.iter().any(|&c| c != zero) {
            liquid_ema(&weights_for_bonds, &bonds, &consensus, p)
        } else {
            mat_ema_sparse(&weights_for_bonds, &bonds, fixed_alpha(p.bonds_moving_average))
        };
        let mut shares = ema_bonds.clone();
        inplace_col_normalize_sparse(&mut shares, columns);
        let per_validator = row_sum_sparse(&mat_vec_mul_sparse(&shares, &incentive));
        dividends = vec_mul(&per_validator, &active_stake);
        inplace_normalize(&mut dividends);
    } else {
        let mut bonds = scalar_vec_mask_sparse_matrix(&stored, last_tempo, &registered, &|t, reg| t <= reg);
        inplace_col_normalize_sparse(&mut bonds, columns);
        let mut delta = row_hadamard_sparse(&weights_for_bonds, &active_stake);
        inplace_col_normalize_sparse(&mut delta, columns);
        let mut ema = mat_ema_sparse(&delta, &bonds, fixed_alpha(p.bonds_moving_average));
        inplace_col_normalize_sparse(&mut ema, columns);
        dividends = matmul_transpose_sparse(&ema, &incentive);
        inplace_normalize(&mut dividends);
        inplace_col_max_upscale_sparse(&mut ema, columns);
        ema_bonds = ema;
    }

    // Emission.
    let combined: Vec<I32F32> = incentive.iter().zip(&dividends).map(|(i, d)| i.saturating_add(*d)).collect();
    let emission_sum: I32F32 = combined.iter().sum();
    let mut server_share = incentive.clone();
    let mut validator_share = dividends.clone();
    let mut combined_share = combined;
    inplace_normalize_using_sum(&mut server_share, emission_sum);
    inplace_normalize_using_sum(&mut validator_share, emission_sum);
    inplace_normalize(&mut combined_share);
    if emission_sum == zero {
        // No usable weights: validators are paid by stake, active stake if there is any.
        let by = if is_zero(&active_stake) { &stake } else { &active_stake };
        validator_share.clone_from(by);
        combined_share.clone_from(by);
    }
    let total = I96F32::saturating_from_num(input.emission);
    let pay = |share: &[I32F32]| -> Vec<u64> {
        share
            .iter()
            .map(|s| I96F32::saturating_from_num(*s).saturating_mul(total).saturating_to_num::<u64>())
            .collect()
    };
    let server_emission = pay(&server_share);
    let validator_emission = pay(&validator_share);
    let combined_emission = pay(&combined_share);

    let u16_at = |v: &[I32F32], i: usize| v.get(i).copied().map(fixed_proportion_to_u16).unwrap_or(0);
    let out = (0..n)
        .map(|i| NeuronOutput {
            active: !inactive[i],
            stake_weight: u16_at(&stake, i),
            consensus: u16_at(&consensus, i),
            incentive: u16_at(&incentive, i),
            dividend: u16_at(&dividends, i),
            validator_trust: u16_at(&validator_trust, i),
            validator_permit: new_permits[i],
            server_emission: server_emission.get(i).copied().unwrap_or(0),
            validator_emission: validator_emission.get(i).copied().unwrap_or(0),
            emission: combined_emission.get(i).copied().unwrap_or(0),
            bonds: if new_permits[i] {
                ema_bonds
                    .get(i)
                    .map(|row| row.iter().map(|&(j, v)| (j, fixed_proportion_to_u16(v))).collect())
                    .unwrap_or_default()
            } else {
                vec![]
            },
        })
        .collect();
    Ok(EpochOutput { neurons: out, consensus, incentive, dividends, validator_trust, ema_bonds })
}

/// Feeds an epoch's output back as the next epoch's stored state: bonds and permits.
pub fn carry_over(neurons: &mut [Neuron], output: &EpochOutput) {
    for (x, o) in neurons.iter_mut().zip(&output.neurons) {
        x.bonds.clone_from(&o.bonds);
        x.validator_permit = o.validator_permit;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `liquid_ema` against subtensor's two steps taken literally: every cell's alpha, then
    /// `mat_ema_alpha_sparse`, on a pseudo-random square matrix with sorted rows and some empty ones.
    #[test]
    fn liquid_ema_is_the_dense_alphas_then_the_sparse_ema() {
        let n = 23usize;
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut sparse_row = |density: u64| -> Vec<(u16, I32F32)> {
            (0..n as u16)
                .filter_map(|j| {
                    let r = next();
                    (r % 4 < density).then(|| (j, I32F32::from_bits((r >> 33) as i64 & 0xffff_ffff)))
                })
                .collect()
        };
        let weights: SparseMatrix = (0..n).map(|i| if i % 5 == 4 { vec![] } else { sparse_row(2) }).collect();
        let bonds: SparseMatrix = (0..n).map(|_| sparse_row(1)).collect();
        let consensus: Vec<I32F32> =
            (0..n).map(|j| I32F32::from_num(j as u32) / I32F32::from_num(n as u32)).collect();
        let params = EpochParams { liquid_alpha: true, yuma3: true, ..EpochParams::default() };
        let find = |row: &[(u16, I32F32)], j: usize| {
            row.iter().find(|(c, _)| *c as usize == j).map(|&(_, v)| v).unwrap_or(I32F32::from_num(0))
        };
        let low = u16_proportion_to_fixed(params.alpha_low);
        let high = u16_proportion_to_fixed(params.alpha_high);
        let steep = I32F32::from_num(params.alpha_sigmoid_steepness);
        let alphas: Vec<Vec<I32F32>> = weights
            .iter()
            .zip(&bonds)
            .map(|(w, b)| {
                (0..n)
                    .map(|j| alpha_sigmoid(consensus[j], find(w, j), find(b, j), low, high, steep))
                    .collect()
            })
            .collect();
        let reference = mat_ema_alpha_sparse(&weights, &bonds, &alphas);
        assert_eq!(liquid_ema(&weights, &bonds, &consensus, &params), reference);
        assert!(reference.iter().map(|r| r.len()).sum::<usize>() > n);
    }
}
