//! How a subnet's emission is split before and after the epoch, as subtensor's coinbase does
//! (`pallets/subtensor/src/coinbase/run_coinbase.rs`, `run_coinbase` step 3 and `drain_pending_emission`).
//!
//! Every block, the subnet's alpha emission loses the owner's cut first (`cut / 65535` of it); half of what
//! remains is pending for miners, the other half for validators less the root validators' part
//! (`root_proportion / 2` of the remainder). Each pending amount is accumulated truncated to whole units. At
//! the epoch, the epoch runs on the sum of the three pending amounts; miners receive the epoch's server
//! emission; the validators' pending alpha is shared in proportion to the epoch's validator emission — all of
//! it, miners' half included, when no miner earned incentive.
//!
//! Not here: root dividends, parent/child key takes and delegation (subtensor's
//! `calculate_dividend_distribution` and `get_parent_child_dividends_distribution`): the share below is the
//! one they give when no hotkey has root stake, children or parents.

use alloc::vec::Vec;
use substrate_fixed::types::U96F32;

/// Subtensor's default owner cut: 11796 / 65535 ≈ 18 %.
pub const DEFAULT_OWNER_CUT: u16 = 11_796;

/// One block's split of a subnet's alpha emission, in whole units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlockSplit {
    /// To the subnet owner.
    pub owner_cut: u64,
    /// Pending for miners.
    pub server: u64,
    /// Pending for the subnet's validators.
    pub validator: u64,
    /// Pending for root validators.
    pub root: u64,
}

impl BlockSplit {
    /// What the epoch shares out: everything but the owner's cut.
    pub fn epoch_emission(&self) -> u64 {
        self.server.saturating_add(self.validator).saturating_add(self.root)
    }

    /// Adds another block's split (subtensor accumulates pending amounts block by block).
    pub fn accumulate(&mut self, other: &BlockSplit) {
        self.owner_cut = self.owner_cut.saturating_add(other.owner_cut);
        self.server = self.server.saturating_add(other.server);
        self.validator = self.validator.saturating_add(other.validator);
        self.root = self.root.saturating_add(other.root);
    }
}

/// Splits one block's alpha emission `alpha_out` (owner cut on the `u16` scale; `owner_cut_enabled` as the
/// subnet's flag; `root_proportion` in [0, 1]).
pub fn split_block(
    alpha_out: U96F32,
    owner_cut: u16,
    owner_cut_enabled: bool,
    root_proportion: U96F32,
) -> BlockSplit {
    let half = U96F32::saturating_from_num(0.5);
    let mut remaining = alpha_out;
    let mut cut = 0;
    if owner_cut_enabled {
        let percent = U96F32::saturating_from_num(owner_cut)
            .checked_div(U96F32::saturating_from_num(u16::MAX))
            .unwrap_or(U96F32::from_num(0));
        let owner = remaining.saturating_mul(percent);
        remaining = remaining.saturating_sub(owner);
        cut = owner.saturating_to_num::<u64>();
    }
    let root = root_proportion.saturating_mul(remaining).saturating_mul(half);
    let server = remaining.saturating_mul(half);
    let validator = remaining.saturating_sub(server).saturating_sub(root);
    BlockSplit {
        owner_cut: cut,
        server: server.saturating_to_num::<u64>(),
        validator: validator.saturating_to_num::<u64>(),
        root: root.saturating_to_num::<u64>(),
    }
}

/// The validators' alpha at the epoch: their pending amount, plus the miners' when no incentive was earned.
pub fn validator_alpha(pending: &BlockSplit, incentive_sum: u64) -> u64 {
    if incentive_sum == 0 {
        pending.validator.saturating_add(pending.server)
    } else {
        pending.validator
    }
}

/// Shares `validator_alpha` among validators in proportion to their epoch validator emission (U96F32
/// shares, truncated to whole units at the end, as the stake is credited).
pub fn share_validator_alpha(validator_alpha: u64, validator_emission: &[u64]) -> Vec<u64> {
    let zero = U96F32::from_num(0);
    let total =
        validator_emission.iter().fold(zero, |acc, &e| acc.saturating_add(U96F32::saturating_from_num(e)));
    let pot = U96F32::saturating_from_num(validator_alpha);
    validator_emission
        .iter()
        .map(|&e| {
            let share = U96F32::saturating_from_num(e).checked_div(total).unwrap_or(zero);
            pot.saturating_mul(share).saturating_to_num::<u64>()
        })
        .collect()
}
