//! One operator's magnitudes in one strategy, and the settings that gate them
//! (`AllocationManager.sol`, `AllocationManagerView.sol`).
//!
//! An operator starts with a max magnitude of `WAD` per strategy and allocates parts of it to
//! operator sets. An allocation encumbers magnitude at once but becomes slashable only after the
//! operator's allocation delay; a deallocation from a set that can slash it stays slashable for the
//! deallocation delay and frees magnitude only after it. A slash of `wadToSlash` takes
//! `ceil(allocated · wadToSlash / WAD)` magnitude from the set's allocation, the encumbered total and
//! the max magnitude alike, and the same proportion (again rounded up) from a pending deallocation.

use alloc::collections::{BTreeMap, VecDeque};

use crate::history::History;
use crate::math::{div_wad, mul_wad, mul_wad_round_up, WAD};
use crate::{add_blocks, Error};

/// An operator's allocation to one operator set in one strategy (`IAllocationManager.Allocation`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Allocation {
    /// Magnitude allocated and slashable now.
    pub current_magnitude: u64,
    /// A change waiting for `effect_block`: positive to allocate, negative to deallocate.
    pub pending_diff: i128,
    /// When the pending change applies; zero when nothing is pending.
    pub effect_block: u32,
}

/// The max and encumbered magnitude a change is checked against (`StrategyInfo`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StrategyInfo {
    /// What the operator could allocate in total.
    pub max_magnitude: u64,
    /// What is allocated or pending allocation, plus deallocations not yet freed.
    pub encumbered_magnitude: u64,
}

/// What a slash did to one strategy (`AllocationManager._slashOperator`, one strategy).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slash {
    /// Magnitude taken: `ceil(current · wadToSlash / WAD)`.
    pub slashed_magnitude: u64,
    /// That as a proportion of the max magnitude before the slash (`slashed ·WAD / prevMax`,
    /// the `OperatorSlashed` event's `wadSlashed`).
    pub wad_slashed: u128,
    /// The max magnitude before; with [`Self::new_max_magnitude`] what the delegation side needs.
    pub prev_max_magnitude: u64,
    /// The max magnitude after.
    pub new_max_magnitude: u64,
}

/// How a [`OperatorStrategy::modify_allocation`] call is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Modify {
    /// The current block.
    pub now: u32,
    /// The operator's allocation delay in effect now ([`AllocationDelay::effective`]); `None` is
    /// [`Error::UninitializedAllocationDelay`].
    pub allocation_delay: Option<u32>,
    /// The protocol's `DEALLOCATION_DELAY`.
    pub deallocation_delay: u32,
    /// Whether the set could slash this allocation: the set uses the strategy and the operator is
    /// registered to it or within its post-deregistration window ([`Registration::is_slashable`]).
    pub slashable: bool,
}

/// `a + b` for a magnitude and a signed change, which must land in `u64` (`_addInt128`).
fn add_diff(a: u64, b: i128) -> Result<u64, Error> {
    u64::try_from(a as i128 + b).map_err(|_| Error::Overflow)
}

/// One operator's magnitudes in one strategy, across the operator sets `K` it allocates to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperatorStrategy<K> {
    max_magnitude: History<u64>,
    encumbered_magnitude: u64,
    allocations: BTreeMap<K, Allocation>,
    deallocation_queue: VecDeque<K>,
}

impl<K: Ord + Copy> Default for OperatorStrategy<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Ord + Copy> OperatorStrategy<K> {
    /// A fresh operator: max magnitude `WAD`, nothing allocated.
    pub fn new() -> Self {
        Self {
            max_magnitude: History::new(),
            encumbered_magnitude: 0,
            allocations: BTreeMap::new(),
            deallocation_queue: VecDeque::new(),
        }
    }

    /// The max magnitude now.
    pub fn max_magnitude(&self) -> u64 {
        self.max_magnitude.latest(WAD)
    }

    /// The max magnitude as of `block` (`getMaxMagnitudesAtBlock`), what a withdrawal completes with.
    pub fn max_magnitude_at(&self, block: u32) -> u64 {
        self.max_magnitude.upper_lookup(block, WAD)
    }

    /// The max magnitude's history (one entry per block it changed in).
    pub fn max_magnitude_history(&self) -> &History<u64> {
        &self.max_magnitude
    }

    /// The encumbered magnitude as stored, before completable deallocations are applied.
    pub fn stored_encumbered_magnitude(&self) -> u64 {
        self.encumbered_magnitude
    }

    /// The allocation as stored (no pending change applied).
    pub fn stored_allocation(&self, set: &K) -> Allocation {
        self.allocations.get(set).copied().unwrap_or_default()
    }

    /// The sets with deallocations waiting to be freed, oldest first.
    pub fn deallocation_queue(&self) -> impl Iterator<Item = &K> {
        self.deallocation_queue.iter()
    }

    /// The allocations as stored, by set (no pending change applied).
    pub fn stored_allocations(&self) -> impl Iterator<Item = (&K, &Allocation)> {
        self.allocations.iter()
    }

    /// The state from its stored parts (what [`Self::max_magnitude_history`],
    /// [`Self::stored_encumbered_magnitude`], [`Self::stored_allocations`] and
    /// [`Self::deallocation_queue`] gave), for a caller that keeps it between calls. A default
    /// allocation is dropped, as [`Self::modify_allocation`] never stores one.
    pub fn from_parts(
        max_magnitude: History<u64>,
        encumbered_magnitude: u64,
        allocations: impl IntoIterator<Item = (K, Allocation)>,
        deallocation_queue: impl IntoIterator<Item = K>,
    ) -> Self {
        Self {
            max_magnitude,
            encumbered_magnitude,
            allocations: allocations.into_iter().filter(|(_, a)| *a != Allocation::default()).collect(),
            deallocation_queue: deallocation_queue.into_iter().collect(),
        }
    }

    /// The allocation to `set` as of `now`, a due change applied (`getAllocation`).
    pub fn allocation(&self, set: &K, now: u32) -> Result<Allocation, Error> {
        Ok(self.updated_allocation(set, now)?.1)
    }

    /// Encumbered magnitude as of `now`: the stored value less the deallocations at the front of the
    /// queue that are due (`getEncumberedMagnitude`).
    pub fn encumbered_magnitude(&self, now: u32) -> Result<u64, Error> {
        let mut encumbered = self.encumbered_magnitude;
        for set in &self.deallocation_queue {
            let allocation = self.stored_allocation(set);
            if now < allocation.effect_block {
                break;
            }
            encumbered = add_diff(encumbered, allocation.pending_diff)?;
        }
        Ok(encumbered)
    }

    /// Magnitude free to allocate as of `now` (`getAllocatableMagnitude`).
    pub fn allocatable_magnitude(&self, now: u32) -> Result<u64, Error> {
        self.max_magnitude().checked_sub(self.encumbered_magnitude(now)?).ok_or(Error::Overflow)
    }

    /// Stake `set` can slash: `operator_shares ·w (current ÷w max)`, where a deallocation due by
    /// `future_block` is counted as done (`getAllocatedStake` with `future_block = now`,
    /// `getMinimumSlashableStake` otherwise; the caller zeroes it for a non-slashable operator).
    pub fn allocated_stake(
        &self,
        set: &K,
        operator_shares: u128,
        now: u32,
        future_block: u32,
    ) -> Result<u128, Error> {
        let max = self.max_magnitude();
        if max == 0 {
            return Ok(0);
        }
        let mut allocation = self.allocation(set, now)?;
        if allocation.effect_block <= future_block && allocation.pending_diff < 0 {
            allocation.current_magnitude = add_diff(allocation.current_magnitude, allocation.pending_diff)?;
        }
        let proportion = div_wad(allocation.current_magnitude as u128, max as u128)?;
        mul_wad(operator_shares, proportion)
    }

    /// The magnitudes and the allocation to `set` with its change applied if due at `now`
    /// (`_getUpdatedAllocation`).
    fn updated_allocation(&self, set: &K, now: u32) -> Result<(StrategyInfo, Allocation), Error> {
        let mut info = StrategyInfo {
            max_magnitude: self.max_magnitude(),
            encumbered_magnitude: self.encumbered_magnitude,
        };
        let mut allocation = self.stored_allocation(set);
        if now < allocation.effect_block {
            return Ok((info, allocation));
        }
        allocation.current_magnitude = add_diff(allocation.current_magnitude, allocation.pending_diff)?;
        // An allocation encumbered its magnitude when made; only a deallocation frees some now.
        if allocation.pending_diff < 0 {
            info.encumbered_magnitude = add_diff(info.encumbered_magnitude, allocation.pending_diff)?;
        }
        allocation.effect_block = 0;
        allocation.pending_diff = 0;
        Ok((info, allocation))
    }

    /// Stores what `updated_allocation` and a change produced (`_updateAllocationInfo`).
    fn store(&mut self, set: K, info: StrategyInfo, allocation: Allocation) {
        self.encumbered_magnitude = info.encumbered_magnitude;
        if allocation == Allocation::default() {
            self.allocations.remove(&set);
        } else {
            self.allocations.insert(set, allocation);
        }
    }

    /// Frees up to `num_to_clear` due deallocations from the front of the queue, stopping at the
    /// first one not yet due (`clearDeallocationQueue`); returns how many were cleared.
    pub fn clear_deallocation_queue(&mut self, now: u32, num_to_clear: u16) -> Result<usize, Error> {
        let mut cleared = 0;
        while cleared < num_to_clear as usize {
            let Some(&set) = self.deallocation_queue.front() else { break };
            let (info, allocation) = self.updated_allocation(&set, now)?;
            if now < allocation.effect_block {
                break;
            }
            self.store(set, info, allocation);
            self.deallocation_queue.pop_front();
            cleared += 1;
        }
        Ok(cleared)
    }

    /// Sets the allocation to `set` to `new_magnitude` (`modifyAllocations`, one set and strategy).
    ///
    /// Due deallocations are freed first. An increase encumbers magnitude now and becomes slashable
    /// after the allocation delay; a decrease of a slashable allocation is queued and frees its
    /// magnitude `deallocation_delay + 1` blocks on; a decrease nothing can slash applies at once.
    /// Returns the allocation as stored. On error nothing changes.
    pub fn modify_allocation(
        &mut self,
        set: K,
        new_magnitude: u64,
        how: Modify,
    ) -> Result<Allocation, Error> {
        let delay = how.allocation_delay.ok_or(Error::UninitializedAllocationDelay)?;
        // Work on a copy: the queue clearing that comes first must not survive a refused change.
        let mut next = self.clone();
        let allocation = next.modify_in_place(set, new_magnitude, delay, how)?;
        *self = next;
        Ok(allocation)
    }

    fn modify_in_place(
        &mut self,
        set: K,
        new_magnitude: u64,
        delay: u32,
        how: Modify,
    ) -> Result<Allocation, Error> {
        self.clear_deallocation_queue(how.now, u16::MAX)?;
        let (mut info, mut allocation) = self.updated_allocation(&set, how.now)?;
        if allocation.effect_block != 0 {
            return Err(Error::ModificationAlreadyPending { effect_block: allocation.effect_block });
        }
        let slashable = how.slashable && allocation.current_magnitude != 0;
        allocation.pending_diff = new_magnitude as i128 - allocation.current_magnitude as i128;
        if allocation.pending_diff == 0 {
            return Err(Error::SameMagnitude);
        }
        if allocation.pending_diff < 0 {
            if slashable {
                // Slashable through the deallocation delay inclusive; freed the block after.
                allocation.effect_block = add_blocks(add_blocks(how.now, how.deallocation_delay)?, 1)?;
                self.deallocation_queue.push_back(set);
            } else {
                info.encumbered_magnitude = add_diff(info.encumbered_magnitude, allocation.pending_diff)?;
                allocation.current_magnitude = new_magnitude;
                allocation.pending_diff = 0;
                allocation.effect_block = how.now;
            }
        } else {
            let needed = add_diff(info.encumbered_magnitude, allocation.pending_diff)?;
            if needed > info.max_magnitude {
                return Err(Error::InsufficientMagnitude { needed, max: info.max_magnitude });
            }
            info.encumbered_magnitude = needed;
            allocation.effect_block = add_blocks(how.now, delay)?;
        }
        self.store(set, info, allocation);
        Ok(allocation)
    }

    /// Slashes `wad_to_slash` (a proportion in `(0, WAD]`) of the allocation to `set`
    /// (`slashOperator`, one strategy). `operator_slashable` is the set's view of the operator
    /// ([`Registration::is_slashable`]).
    ///
    /// `Ok(None)` when nothing is allocated (yet) to the set: the contract skips such a strategy.
    /// Otherwise the returned max magnitudes feed [`crate::delegation::OperatorShares::slash`].
    pub fn slash(
        &mut self,
        set: K,
        wad_to_slash: u128,
        operator_slashable: bool,
        now: u32,
    ) -> Result<Option<Slash>, Error> {
        if !operator_slashable {
            return Err(Error::OperatorNotSlashable);
        }
        if wad_to_slash == 0 || wad_to_slash > WAD as u128 {
            return Err(Error::InvalidWadToSlash { wad_to_slash });
        }
        let (mut info, mut allocation) = self.updated_allocation(&set, now)?;
        if allocation.current_magnitude == 0 {
            return Ok(None);
        }
        // wad_to_slash ≤ WAD, so the slashed magnitude is at most the current one.
        let slashed = mul_wad_round_up(allocation.current_magnitude as u128, wad_to_slash)? as u64;
        let prev_max = info.max_magnitude;
        let wad_slashed = div_wad(slashed as u128, prev_max as u128)?;
        allocation.current_magnitude -= slashed;
        info.max_magnitude = prev_max.checked_sub(slashed).ok_or(Error::Overflow)?;
        info.encumbered_magnitude = info.encumbered_magnitude.checked_sub(slashed).ok_or(Error::Overflow)?;
        if allocation.pending_diff < 0 {
            // A deallocation still in its delay is slashed in the same proportion, so less is freed.
            let slashed_pending = mul_wad_round_up(allocation.pending_diff.unsigned_abs(), wad_to_slash)?;
            allocation.pending_diff += slashed_pending as i128;
        }
        // The only fallible write goes first, so a refusal leaves everything as it was.
        self.max_magnitude.push(now, info.max_magnitude)?;
        self.store(set, info, allocation);
        Ok(Some(Slash {
            slashed_magnitude: slashed,
            wad_slashed,
            prev_max_magnitude: prev_max,
            new_max_magnitude: info.max_magnitude,
        }))
    }
}

/// An operator's allocation delay and a pending change to it (`AllocationDelayInfo`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AllocationDelay {
    /// The delay in effect before `effect_block`.
    pub delay: u32,
    /// Whether `delay` has ever taken effect.
    pub is_set: bool,
    /// The delay from `effect_block` on.
    pub pending_delay: u32,
    /// When `pending_delay` takes effect; zero if never set.
    pub effect_block: u32,
}

impl AllocationDelay {
    /// The delay in effect at `now`, `None` if none has taken effect yet (`getAllocationDelay`).
    pub fn effective(&self, now: u32) -> Option<u32> {
        if self.effect_block != 0 && now >= self.effect_block {
            Some(self.pending_delay)
        } else if self.is_set {
            Some(self.delay)
        } else {
            None
        }
    }

    /// Sets the delay to `delay` (`setAllocationDelay`): at once for an operator registering now,
    /// otherwise `configuration_delay + 1` blocks on (`ALLOCATION_CONFIGURATION_DELAY`).
    pub fn set(
        &mut self,
        delay: u32,
        newly_registered: bool,
        now: u32,
        configuration_delay: u32,
    ) -> Result<(), Error> {
        let mut next = *self;
        if next.effect_block != 0 && now >= next.effect_block {
            next.delay = next.pending_delay;
            next.is_set = true;
        }
        next.pending_delay = delay;
        if newly_registered {
            next.delay = delay;
            next.is_set = true;
            next.effect_block = now;
        } else {
            next.effect_block = add_blocks(add_blocks(now, configuration_delay)?, 1)?;
        }
        *self = next;
        Ok(())
    }
}

/// An operator's membership of one operator set (`RegistrationStatus`). As in the contract, a
/// status never written counts as slashable in block 0 (`0 <= slashable_until`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Registration {
    /// Registered now.
    pub registered: bool,
    /// After deregistering, the last block the set can still slash in.
    pub slashable_until: u32,
}

impl Registration {
    /// Whether the set can slash the operator at `now` (`isOperatorSlashable`).
    pub fn is_slashable(&self, now: u32) -> bool {
        self.registered || now <= self.slashable_until
    }

    /// Registers (`registerForOperatorSets`); refused while the set can still slash the operator.
    pub fn register(&mut self, now: u32) -> Result<(), Error> {
        if self.is_slashable(now) {
            return Err(Error::AlreadyMemberOfSet);
        }
        self.registered = true;
        Ok(())
    }

    /// Deregisters (`deregisterFromOperatorSets`): slashable for `deallocation_delay` more blocks.
    pub fn deregister(&mut self, now: u32, deallocation_delay: u32) -> Result<(), Error> {
        if !self.registered {
            return Err(Error::NotMemberOfSet);
        }
        *self = Registration { registered: false, slashable_until: add_blocks(now, deallocation_delay)? };
        Ok(())
    }
}
