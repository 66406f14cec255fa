//! Deposit shares, withdrawable shares and the factors between them (`SlashingLib.sol`).
//!
//! A staker holds *deposit shares* (what the strategy or the EigenPod records). What they can
//! withdraw is `deposit · dsf · slashing_factor` (each product a `mulWad`), where the deposit
//! scaling factor `dsf` is the staker's own and the slashing factor is their operator's max
//! magnitude (times the staker's beacon-chain factor for native ETH). Slashing lowers the max
//! magnitude, and so every delegated staker's withdrawable shares at once, without touching their
//! deposit shares; the `dsf` is what keeps new deposits from being slashed retroactively.

use crate::math::{div_wad, mul_div, mul_wad, mul_wad_mul_wad, Rounding, WAD};
use crate::{add, sub, Error};

/// A staker's deposit scaling factor in one strategy. Zero stored means `WAD`, as in the contract,
/// so a reset and a fresh staker are the same state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DepositScalingFactor {
    raw: u128,
}

impl DepositScalingFactor {
    /// A factor of exactly `value` (zero meaning `WAD`).
    pub fn from_raw(value: u128) -> Self {
        Self { raw: value }
    }

    /// The stored value (zero for "never set or reset").
    pub fn raw(&self) -> u128 {
        self.raw
    }

    /// The factor in use: `WAD` when unset.
    pub fn scaling_factor(&self) -> u128 {
        if self.raw == 0 {
            WAD as u128
        } else {
            self.raw
        }
    }

    /// Back to `WAD`, when the staker's deposit shares reach zero (a full withdrawal or undelegation).
    pub fn reset(&mut self) {
        self.raw = 0;
    }

    /// The factor after `added_shares` are deposited on top of `prev_deposit_shares` under
    /// `slashing_factor` (`SlashingLib.update`).
    ///
    /// A first deposit (or a delegation, which re-adds everything with `prev = 0`) divides the
    /// factor by the slashing factor, forgiving slashing that happened before the stake arrived.
    /// Otherwise the factor is set so the staker's withdrawable shares become exactly
    /// `withdrawable(prev) + added`.
    pub fn updated(
        &self,
        prev_deposit_shares: u128,
        added_shares: u128,
        slashing_factor: u128,
    ) -> Result<Self, Error> {
        if prev_deposit_shares == 0 {
            return Ok(Self { raw: div_wad(self.scaling_factor(), slashing_factor)? });
        }
        let current = self.calc_withdrawable(prev_deposit_shares, slashing_factor)?;
        let new_shares = add(current, added_shares)?;
        let raw = div_wad(div_wad(new_shares, add(prev_deposit_shares, added_shares)?)?, slashing_factor)?;
        if raw == 0 {
            return Err(Error::InvalidDepositScalingFactor);
        }
        Ok(Self { raw })
    }

    /// [`Self::updated`] in place; on error the factor is unchanged.
    pub fn update(
        &mut self,
        prev_deposit_shares: u128,
        added_shares: u128,
        slashing_factor: u128,
    ) -> Result<(), Error> {
        *self = self.updated(prev_deposit_shares, added_shares, slashing_factor)?;
        Ok(())
    }

    /// Withdrawable shares for `deposit_shares`: `(deposit ·w dsf) ·w slashing_factor`
    /// (`SlashingLib.calcWithdrawable`).
    pub fn calc_withdrawable(&self, deposit_shares: u128, slashing_factor: u128) -> Result<u128, Error> {
        mul_wad_mul_wad(deposit_shares, self.scaling_factor(), slashing_factor)
    }

    /// Deposit shares for `withdrawable_shares`, the inverse with its own rounding
    /// (`SlashingLib.calcDepositShares`).
    pub fn calc_deposit_shares(
        &self,
        withdrawable_shares: u128,
        slashing_factor: u128,
    ) -> Result<u128, Error> {
        div_wad(div_wad(withdrawable_shares, self.scaling_factor())?, slashing_factor)
    }

    /// The scaled shares a queued withdrawal records: `deposit ·w dsf`, with no slashing factor, so
    /// slashing during the delay is applied at completion (`SlashingLib.scaleForQueueWithdrawal`).
    pub fn scale_for_queue_withdrawal(&self, deposit_shares: u128) -> Result<u128, Error> {
        mul_wad(deposit_shares, self.scaling_factor())
    }
}

/// Shares a completed withdrawal pays: `scaled ·w slashing_factor`, the factor as of the
/// withdrawal's last slashable block (`SlashingLib.scaleForCompleteWithdrawal`).
pub fn scale_for_complete_withdrawal(scaled_shares: u128, slashing_factor: u128) -> Result<u128, Error> {
    mul_wad(scaled_shares, slashing_factor)
}

/// Operator shares removed when the max magnitude drops from `prev` to `new`:
/// `shares − ceil(shares · new / prev)` (`SlashingLib.calcSlashedAmount`). The remainder rounds up,
/// so the amount slashed rounds down and the operator never ends below what its stakers can withdraw.
pub fn calc_slashed_amount(
    operator_shares: u128,
    prev_max_magnitude: u64,
    new_max_magnitude: u64,
) -> Result<u128, Error> {
    let kept = mul_div(operator_shares, new_max_magnitude as u128, prev_max_magnitude as u128, Rounding::Up)?;
    sub(operator_shares, kept)
}

/// A staker's slashing factor in a strategy (`DelegationManager._getSlashingFactor`): the operator's
/// max magnitude, times (`mulWad`) the staker's beacon-chain slashing factor for native ETH.
/// An undelegated staker's "operator" max magnitude is `WAD`.
pub fn slashing_factor(operator_max_magnitude: u64, beacon_chain_factor: Option<u64>) -> u128 {
    match beacon_chain_factor {
        // Both factors are at most 2^64, so the product fits and the quotient is below 2^64.
        Some(beacon) => (operator_max_magnitude as u128 * beacon as u128) / WAD as u128,
        None => operator_max_magnitude as u128,
    }
}

/// A beacon-chain balance drop, as `EigenPodManager._reduceSlashingFactor` records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BeaconChainSlash {
    /// The pod owner's new beacon-chain slashing factor.
    pub new_factor: u64,
    /// How much it fell (what `decreaseDelegatedShares` takes).
    pub decrease: u64,
}

/// The pod owner's beacon-chain factor after the restaked balance falls from `prev_balance_wei` by
/// `decreased_wei`: `prev_factor · new_balance / prev_balance`, rounded down.
pub fn reduce_beacon_chain_factor(
    prev_factor: u64,
    prev_balance_wei: u128,
    decreased_wei: u128,
) -> Result<BeaconChainSlash, Error> {
    let new_balance = sub(prev_balance_wei, decreased_wei)?;
    let new_factor = mul_div(prev_factor as u128, new_balance, prev_balance_wei, Rounding::Down)?;
    // new_balance ≤ prev_balance, so the quotient is at most prev_factor.
    let new_factor = u64::try_from(new_factor).map_err(|_| Error::Overflow)?;
    Ok(BeaconChainSlash { new_factor, decrease: prev_factor - new_factor })
}

/// Operator shares a beacon-chain balance drop removes from a delegated pod owner
/// (`DelegationManager.decreaseDelegatedShares`): the staker's withdrawable shares under the
/// factor `max_magnitude ·w decrease`.
pub fn beacon_chain_shares_to_remove(
    dsf: &DepositScalingFactor,
    current_deposit_shares: u128,
    operator_max_magnitude: u64,
    factor_decrease: u64,
) -> Result<u128, Error> {
    let factor = mul_wad(operator_max_magnitude as u128, factor_decrease as u128)?;
    dsf.calc_withdrawable(current_deposit_shares, factor)
}
