//! EigenLayer's restaking arithmetic, exact to Layr-Labs/eigenlayer-contracts: what an Orrery
//! `restaking` service computes when stakers deposit and delegate, operators allocate magnitude to
//! operator sets, AVSs slash, and withdrawals complete after their delay.
//!
//! `#![no_std]` with `alloc` and no dependencies, so the same code runs natively in tests and inside
//! PVM services built with `orrery-service-sdk`. Every function is a pure state transition: block
//! numbers (for us, timeslots) come in as arguments, nothing reads a clock.
//!
//! # Modules
//!
//! - [`math`]: `mulDiv` with a 256-bit product and OpenZeppelin's rounding; `mulWad`, `divWad`,
//!   `mulWadRoundUp` (`SlashingLib.sol`).
//! - [`shares`]: deposit shares and withdrawable shares, the deposit scaling factor, slashing
//!   factors (operator max magnitude times the beacon-chain factor), `calcSlashedAmount`
//!   (`SlashingLib.sol`, `DelegationManager._getSlashingFactor`, `EigenPodManager._reduceSlashingFactor`).
//! - [`allocation`]: one operator's magnitudes in one strategy — max magnitude and its history,
//!   encumbered magnitude, allocations to operator sets with the allocation and deallocation delays,
//!   the deallocation queue, slashing `ceil(magnitude · wadToSlash / WAD)`, allocated stake; the
//!   operator's allocation-delay setting and set registration (`AllocationManager.sol` and its view).
//! - [`delegation`]: a staker's position and an operator's delegated shares in one strategy:
//!   deposit, delegate, queue a withdrawal, slash the operator's shares (those still in the
//!   withdrawal queue too), complete a withdrawal after `MIN_WITHDRAWAL_DELAY_BLOCKS`
//!   (`DelegationManager.sol`, `StrategyManager.sol`).
//! - [`history`]: values by block with "as of block b" lookups (`Snapshots.sol`), for the max
//!   magnitude and the operator's cumulative queued withdrawals.
//! - [`rewards`]: the operator's rewards split in basis points with its activation delay
//!   (`RewardsCoordinator.sol`).
//!
//! # Not here
//!
//! - Identities, signatures, pausing, permissions and events: the service owns who may call what.
//! - Strategy exchange rates (tokens to shares): callers pass shares.
//! - The rewards distribution itself: EigenLayer computes per-earner amounts off chain (the
//!   sidecar) and posts Merkle roots; the contracts hold only the split, which [`rewards`] covers.
//! - Legacy (pre-slashing) withdrawals and negative beacon-chain shares.
//!
//! # Exactness
//!
//! Every rounding is the contracts' (down except the slashed magnitude and the operator-share
//! remainder, which round up), and every `mulDiv` keeps its product at 256 bits, as does the value
//! between the two `mulWad`s of a withdrawable-share conversion. Two deliberate differences, both
//! where the contracts would revert or be far out of range:
//! - stored amounts (shares, scaled shares, scaling factors) are `u128`, not `uint256`; a value of
//!   2^128 or more is [`Error::Overflow`] where the contract would still store it. Token amounts are
//!   far below (all ether is under 2^87 wei); scaled shares reach it only for a staker who delegated
//!   to an operator slashed to about 1e-13 of its magnitude with more than about 3e25 shares;
//! - the slashable-shares-in-queue lookback `block − MIN_WITHDRAWAL_DELAY_BLOCKS − 1` underflows in
//!   the contract before that many blocks exist (a revert); here it reads as "nothing queued yet".
//!
//! Reference: eigenlayer-contracts at `f84a51510` (main, "ci: fix binding failure (#1752)").

#![no_std]

extern crate alloc;

pub mod allocation;
pub mod delegation;
pub mod history;
pub mod math;
pub mod rewards;
pub mod shares;

pub use math::{Rounding, WAD};

/// Why an operation was refused. Each names the contract's error it mirrors; an operation that
/// returns an error has changed nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// A result does not fit (a `u128` amount, a `u64` magnitude, a `u32` block): the contracts'
    /// checked arithmetic and `SafeCast` revert.
    Overflow,
    /// A `mulDiv` by zero (`Math.mulDiv` reverts).
    DivisionByZero,
    /// A deposit scaling factor rounded to zero (`SlashingLib.InvalidDepositScalingFactor`).
    InvalidDepositScalingFactor,
    /// A slash of zero or of more than everything allocated: `wadToSlash` must be in `(0, WAD]`
    /// (`AllocationManager.InvalidWadToSlash`).
    InvalidWadToSlash {
        /// The proportion asked for.
        wad_to_slash: u128,
    },
    /// The operator is neither registered to the set nor inside its post-deregistration window
    /// (`AllocationManager.OperatorNotSlashable`).
    OperatorNotSlashable,
    /// The operator has not set an allocation delay, or it is not in effect yet
    /// (`AllocationManager.UninitializedAllocationDelay`).
    UninitializedAllocationDelay,
    /// The allocation already has a change waiting for its effect block: a deallocation cannot be
    /// changed before its delay has passed (`AllocationManager.ModificationAlreadyPending`).
    ModificationAlreadyPending {
        /// When the pending change takes effect.
        effect_block: u32,
    },
    /// The new magnitude equals the current one (`AllocationManager.SameMagnitude`).
    SameMagnitude,
    /// Allocating would encumber more than the max magnitude (`AllocationManager.InsufficientMagnitude`).
    InsufficientMagnitude {
        /// Encumbered magnitude the allocation would need.
        needed: u64,
        /// The operator's max magnitude.
        max: u64,
    },
    /// Registering to a set the operator is already slashable by (`AllocationManager.AlreadyMemberOfSet`).
    AlreadyMemberOfSet,
    /// Deregistering from a set the operator is not registered to (`AllocationManager.NotMemberOfSet`).
    NotMemberOfSet,
    /// A history entry older than the latest one (`Snapshots.InvalidSnapshotOrdering`).
    InvalidSnapshotOrdering,
    /// The operator (or, for beacon-chain ETH, the staker) is slashed to a factor of zero
    /// (`DelegationManager.FullySlashed`).
    FullySlashed,
    /// A zero share amount (`StrategyManager.SharesAmountZero`).
    SharesAmountZero,
    /// Withdrawing more deposit shares than the staker has (`StrategyManager.SharesAmountTooHigh`).
    SharesAmountTooHigh {
        /// Deposit shares held.
        held: u128,
        /// Deposit shares asked for.
        asked: u128,
    },
    /// A withdrawal completed at or before its last slashable block
    /// (`DelegationManager.WithdrawalDelayNotElapsed`).
    WithdrawalDelayNotElapsed {
        /// The last block the withdrawal can be slashed in; completion needs a later one.
        slashable_until: u32,
    },
    /// A split above 10,000 basis points (`RewardsCoordinator.SplitExceedsMax`).
    SplitExceedsMax,
    /// A new split set before the previous one activated (`RewardsCoordinator.PreviousSplitPending`).
    PreviousSplitPending,
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::Overflow => f.write_str("arithmetic overflow"),
            Error::DivisionByZero => f.write_str("mulDiv by zero"),
            Error::InvalidDepositScalingFactor => f.write_str("deposit scaling factor would be zero"),
            Error::InvalidWadToSlash { wad_to_slash } => {
                write!(f, "wadToSlash {wad_to_slash} outside (0, 1e18]: nothing or more than allocated")
            }
            Error::OperatorNotSlashable => f.write_str("operator is not slashable by this operator set"),
            Error::UninitializedAllocationDelay => {
                f.write_str("operator's allocation delay is not in effect")
            }
            Error::ModificationAlreadyPending { effect_block } => {
                write!(f, "allocation change already pending until block {effect_block}")
            }
            Error::SameMagnitude => f.write_str("new magnitude equals the current one"),
            Error::InsufficientMagnitude { needed, max } => {
                write!(f, "allocation needs encumbered magnitude {needed}, above max magnitude {max}")
            }
            Error::AlreadyMemberOfSet => f.write_str("operator already slashable by this operator set"),
            Error::NotMemberOfSet => f.write_str("operator is not registered to this operator set"),
            Error::InvalidSnapshotOrdering => f.write_str("history entry older than the latest one"),
            Error::FullySlashed => f.write_str("slashing factor is zero (fully slashed)"),
            Error::SharesAmountZero => f.write_str("share amount is zero"),
            Error::SharesAmountTooHigh { held, asked } => {
                write!(f, "withdrawing {asked} deposit shares of {held}")
            }
            Error::WithdrawalDelayNotElapsed { slashable_until } => {
                write!(f, "withdrawal slashable until block {slashable_until}; completable after it")
            }
            Error::SplitExceedsMax => f.write_str("split above 10000 basis points"),
            Error::PreviousSplitPending => f.write_str("previous split not yet active"),
        }
    }
}

impl core::error::Error for Error {}

/// Checked `u128` addition as an [`Error::Overflow`].
pub(crate) fn add(a: u128, b: u128) -> Result<u128, Error> {
    a.checked_add(b).ok_or(Error::Overflow)
}

/// Checked `u128` subtraction as an [`Error::Overflow`] (Solidity's underflow revert).
pub(crate) fn sub(a: u128, b: u128) -> Result<u128, Error> {
    a.checked_sub(b).ok_or(Error::Overflow)
}

/// Checked block arithmetic (`uint32`).
pub(crate) fn add_blocks(a: u32, b: u32) -> Result<u32, Error> {
    a.checked_add(b).ok_or(Error::Overflow)
}
