//! The operator's share of rewards, in basis points, with its activation delay
//! (`RewardsCoordinator._setOperatorSplit` and `_getOperatorSplit`).
//!
//! Splits are set per operator and AVS, per operator for programmatic incentives, and per operator
//! set; all three follow the same rule, which this models once. A new split takes effect
//! `activation_delay` after it is set (timestamps in the contract; whatever clock the caller uses
//! here), a second one cannot be set until the first is active, and until a first split activates
//! the coordinator's default applies.
//!
//! The amounts each earner receives are computed off chain by EigenLayer (the sidecar) and claimed
//! against posted Merkle roots; the contracts have no arithmetic for them, so neither does this.

use crate::Error;

/// 100% in basis points (`ONE_HUNDRED_IN_BIPS`).
pub const ONE_HUNDRED_IN_BIPS: u16 = 10_000;

/// Marks a split that was never active before its first activation.
const NEVER_SET: u16 = u16::MAX;

/// One operator split (`IRewardsCoordinatorTypes.OperatorSplit`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OperatorSplit {
    /// The split before `activated_at` (`u16::MAX` if there was none).
    pub old_split_bips: u16,
    /// The split from `activated_at` on.
    pub new_split_bips: u16,
    /// When `new_split_bips` applies; zero if never set.
    pub activated_at: u32,
}

impl OperatorSplit {
    /// The split at `now`, `default_split_bips` before the first one activates.
    pub fn get(&self, now: u32, default_split_bips: u16) -> u16 {
        if self.activated_at == 0 || (self.old_split_bips == NEVER_SET && now < self.activated_at) {
            default_split_bips
        } else if now >= self.activated_at {
            self.new_split_bips
        } else {
            self.old_split_bips
        }
    }

    /// Sets `split_bips` at `now`, active from `now + activation_delay`.
    pub fn set(&mut self, split_bips: u16, now: u32, activation_delay: u32) -> Result<(), Error> {
        if split_bips > ONE_HUNDRED_IN_BIPS {
            return Err(Error::SplitExceedsMax);
        }
        if now <= self.activated_at {
            return Err(Error::PreviousSplitPending);
        }
        let activated_at = now.checked_add(activation_delay).ok_or(Error::Overflow)?;
        self.old_split_bips = if self.activated_at == 0 { NEVER_SET } else { self.new_split_bips };
        self.new_split_bips = split_bips;
        self.activated_at = activated_at;
        Ok(())
    }
}
