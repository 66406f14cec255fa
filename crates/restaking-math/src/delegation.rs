//! Stakers' shares, operators' delegated shares and the withdrawal queue in one strategy
//! (`DelegationManager.sol`, with `StrategyManager`'s deposit-share bookkeeping).
//!
//! An operator's delegated shares are the sum of its stakers' withdrawable shares. A slash lowers
//! them by `calcSlashedAmount` and lowers every staker's withdrawable shares through the max
//! magnitude. Shares a staker queues for withdrawal leave the operator at once but stay slashable
//! for `MIN_WITHDRAWAL_DELAY_BLOCKS`: the withdrawal records *scaled* shares (no slashing factor
//! applied) and pays them out at the slashing factor of its last slashable block. The operator keeps
//! a running total of scaled shares queued, by block, so a slash can also take the part of the
//! queue that is still slashable.
//!
//! Undelegating (`_undelegate`) is [`queue_withdrawal`] of all of a staker's deposit shares in each
//! strategy, at the slashing factor of the operator being left.

use crate::history::History;
use crate::math::{mul_wad, WAD};
use crate::shares::{calc_slashed_amount, scale_for_complete_withdrawal, DepositScalingFactor};
use crate::{add, add_blocks, sub, Error};

/// A staker's holding in one strategy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Staker {
    /// Deposit shares (`StrategyManager.stakerDepositShares`, or the EigenPod's shares).
    pub deposit_shares: u128,
    /// The staker's deposit scaling factor for the strategy.
    pub dsf: DepositScalingFactor,
}

impl Staker {
    /// Shares the staker could withdraw under `slashing_factor` (`getWithdrawableShares`).
    pub fn withdrawable_shares(&self, slashing_factor: u128) -> Result<u128, Error> {
        self.dsf.calc_withdrawable(self.deposit_shares, slashing_factor)
    }
}

/// An operator's delegated shares in one strategy and its withdrawal-queue totals.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OperatorShares {
    /// Delegated shares (`operatorShares`).
    pub shares: u128,
    /// Scaled shares ever queued for withdrawal from this operator, cumulative, by block
    /// (`_cumulativeScaledSharesHistory`).
    cumulative_scaled_queued: History<u128>,
}

/// What a slash took from an operator in one strategy (`slashOperatorShares`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SharesSlashed {
    /// Taken from the operator's delegated shares.
    pub from_operator: u128,
    /// Taken from withdrawals queued within the last `MIN_WITHDRAWAL_DELAY_BLOCKS` (they pay out
    /// less when completed; nothing is moved now).
    pub from_queue: u128,
}

impl SharesSlashed {
    /// Everything burnt or redistributed (`totalDepositSharesToSlash`).
    pub fn total(&self) -> Result<u128, Error> {
        add(self.from_operator, self.from_queue)
    }
}

/// A queued withdrawal of one strategy (`Withdrawal`, one strategy).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueuedWithdrawal {
    /// The block it was queued in.
    pub start_block: u32,
    /// Deposit shares times the staker's deposit scaling factor at queue time.
    pub scaled_shares: u128,
    /// Whether the staker was delegated (only then can slashing reduce it).
    pub delegated: bool,
    /// What it was worth when queued (the `SlashingWithdrawalQueued` event's shares).
    pub withdrawable_when_queued: u128,
}

impl QueuedWithdrawal {
    /// The last block in which it can be slashed: `start + MIN_WITHDRAWAL_DELAY_BLOCKS`.
    pub fn slashable_until(&self, min_withdrawal_delay: u32) -> Result<u32, Error> {
        add_blocks(self.start_block, min_withdrawal_delay)
    }

    /// Shares it pays out if completed at `now` (`completeQueuedWithdrawal`), given the slashing
    /// factor as of [`Self::slashable_until`] — for a delegated withdrawal the operator's max
    /// magnitude then (`OperatorStrategy::max_magnitude_at`), times the beacon-chain factor for
    /// native ETH; `WAD` when it was not delegated. Completing at or before that block is
    /// [`Error::WithdrawalDelayNotElapsed`].
    pub fn complete(
        &self,
        now: u32,
        min_withdrawal_delay: u32,
        slashing_factor_at_slashable_until: u128,
    ) -> Result<u128, Error> {
        let slashable_until = self.slashable_until(min_withdrawal_delay)?;
        if now <= slashable_until {
            return Err(Error::WithdrawalDelayNotElapsed { slashable_until });
        }
        scale_for_complete_withdrawal(self.scaled_shares, slashing_factor_at_slashable_until)
    }
}

impl OperatorShares {
    /// No shares, nothing queued.
    pub fn new() -> Self {
        Self::default()
    }

    /// The state from its stored parts: delegated shares and the history
    /// [`Self::cumulative_scaled_queued_history`] gave, for a caller that keeps it between calls.
    pub fn from_parts(shares: u128, cumulative_scaled_queued: History<u128>) -> Self {
        Self { shares, cumulative_scaled_queued }
    }

    /// The cumulative scaled shares queued, by block.
    pub fn cumulative_scaled_queued_history(&self) -> &History<u128> {
        &self.cumulative_scaled_queued
    }

    /// Scaled shares queued from this operator ever, as of now.
    pub fn cumulative_scaled_queued(&self) -> u128 {
        self.cumulative_scaled_queued.latest(0)
    }

    /// Withdrawable shares in the queue that a slash lowering the max magnitude from `prev_max` to
    /// `new_max` at `now` would take (`_getSlashableSharesInQueue`): those queued in the last
    /// `min_withdrawal_delay` blocks, `now` included. With `new_max = 0` it is everything slashable
    /// in the queue (`getSlashableSharesInQueue`).
    pub fn slashable_shares_in_queue(
        &self,
        prev_max: u64,
        new_max: u64,
        now: u32,
        min_withdrawal_delay: u32,
    ) -> Result<u128, Error> {
        if prev_max == 0 {
            return Ok(0);
        }
        let current = self.cumulative_scaled_queued.latest(0);
        // The contract's lookback underflows (reverts) in the first blocks of a chain; before the
        // chain had that many blocks nothing can have been queued, so read zero.
        let before = match now.checked_sub(min_withdrawal_delay).and_then(|b| b.checked_sub(1)) {
            Some(block) => self.cumulative_scaled_queued.upper_lookup(block, 0),
            None => 0,
        };
        let scaled = sub(current, before)?;
        calc_slashed_amount(mul_wad(scaled, prev_max as u128)?, prev_max, new_max)
    }

    /// Applies a slash that lowered the max magnitude from `prev_max` to `new_max` at `now`
    /// (`slashOperatorShares`).
    pub fn slash(
        &mut self,
        prev_max: u64,
        new_max: u64,
        now: u32,
        min_withdrawal_delay: u32,
    ) -> Result<SharesSlashed, Error> {
        let from_operator = calc_slashed_amount(self.shares, prev_max, new_max)?;
        let from_queue = self.slashable_shares_in_queue(prev_max, new_max, now, min_withdrawal_delay)?;
        let slashed = SharesSlashed { from_operator, from_queue };
        slashed.total()?;
        self.shares = sub(self.shares, from_operator)?;
        Ok(slashed)
    }
}

/// Adds `added_shares` to a staker (a deposit, or a completed withdrawal received as shares), and to
/// its operator's delegated shares if delegated (`StrategyManager._addShares` then
/// `DelegationManager._increaseDelegation`). `slashing_factor` is the staker's now.
pub fn deposit(
    staker: &mut Staker,
    operator: Option<&mut OperatorShares>,
    added_shares: u128,
    slashing_factor: u128,
) -> Result<(), Error> {
    if added_shares == 0 {
        return Err(Error::SharesAmountZero);
    }
    let prev = staker.deposit_shares;
    let deposit_shares = add(prev, added_shares)?;
    if slashing_factor == 0 {
        return Err(Error::FullySlashed);
    }
    let dsf = staker.dsf.updated(prev, added_shares, slashing_factor)?;
    if let Some(operator) = operator {
        operator.shares = add(operator.shares, added_shares)?;
    }
    staker.deposit_shares = deposit_shares;
    staker.dsf = dsf;
    Ok(())
}

/// Delegates a staker's holding to an operator (`DelegationManager._delegate`, one strategy):
/// everything withdrawable is re-added with `prev = 0`, forgiving the operator's earlier slashing
/// in the staker's scaling factor. `operator_max_magnitude` is the operator's now;
/// `beacon_chain_factor` is the staker's, for native ETH only.
pub fn delegate(
    staker: &mut Staker,
    operator: &mut OperatorShares,
    operator_max_magnitude: u64,
    beacon_chain_factor: Option<u64>,
) -> Result<(), Error> {
    let withdrawable = match beacon_chain_factor {
        Some(factor) => staker.dsf.calc_withdrawable(staker.deposit_shares, factor as u128)?,
        None => staker.deposit_shares,
    };
    // The contract reads the operator's factors for staker address 0, whose beacon factor is WAD.
    let slashing_factor = operator_max_magnitude as u128;
    if slashing_factor == 0 {
        return Err(Error::FullySlashed);
    }
    if withdrawable == 0 {
        return Ok(());
    }
    let dsf = staker.dsf.updated(0, withdrawable, slashing_factor)?;
    let shares = add(operator.shares, withdrawable)?;
    staker.dsf = dsf;
    operator.shares = shares;
    Ok(())
}

/// Queues `deposit_shares` of a staker for withdrawal at `now` (`_removeSharesAndQueueWithdrawal`,
/// one strategy). `slashing_factor` is the staker's now. The shares leave the staker and, if
/// delegated, the operator; the staker's scaling factor resets when nothing is left.
pub fn queue_withdrawal(
    staker: &mut Staker,
    operator: Option<&mut OperatorShares>,
    deposit_shares: u128,
    slashing_factor: u128,
    now: u32,
) -> Result<QueuedWithdrawal, Error> {
    if deposit_shares == 0 {
        return Err(Error::SharesAmountZero);
    }
    let withdrawable = staker.dsf.calc_withdrawable(deposit_shares, slashing_factor)?;
    let scaled = staker.dsf.scale_for_queue_withdrawal(deposit_shares)?;
    let remaining = staker
        .deposit_shares
        .checked_sub(deposit_shares)
        .ok_or(Error::SharesAmountTooHigh { held: staker.deposit_shares, asked: deposit_shares })?;
    let delegated = operator.is_some();
    if let Some(operator) = operator {
        let shares = sub(operator.shares, withdrawable)?;
        let queued = add(operator.cumulative_scaled_queued.latest(0), scaled)?;
        operator.cumulative_scaled_queued.push(now, queued)?;
        operator.shares = shares;
    }
    staker.deposit_shares = remaining;
    if remaining == 0 {
        staker.dsf.reset();
    }
    Ok(QueuedWithdrawal {
        start_block: now,
        scaled_shares: scaled,
        delegated,
        withdrawable_when_queued: withdrawable,
    })
}

/// The slashing factor for an undelegated staker of a non-ETH strategy: nothing has slashed them.
pub const UNSLASHED: u128 = WAD as u128;
