//! Cases ported from eigenlayer-contracts `src/test/unit/AllocationManagerUnit.t.sol` (at
//! `f84a51510`), each test named after the one it ports. Expected numbers are the Solidity test's
//! own, or worked by hand from the contract's formulas where the test computes them (shown inline).
//!
//! The fixture is the file's `setUp`: the default operator sets its allocation delay to
//! `DEFAULT_OPERATOR_ALLOCATION_DELAY` at block 1 (not newly registered, so it takes effect after
//! `ALLOCATION_CONFIGURATION_DELAY + 1`), the chain rolls there, the operator registers to the
//! default set (id 0) and holds `DEFAULT_OPERATOR_SHARES` delegated (the mock's
//! `slashOperatorShares` applies `calcSlashedAmount`, as `OperatorShares::slash` does).

use alloc::vec::Vec;
use orrery_restaking_math::allocation::{
    Allocation, AllocationDelay, Modify, OperatorStrategy, Registration,
};
use orrery_restaking_math::delegation::OperatorShares;
use orrery_restaking_math::{Error, WAD};

/// `14 days / 12 seconds`.
const DEALLOCATION_DELAY: u32 = 100_800;
/// `17.5 days / 12 seconds`.
const ALLOCATION_CONFIGURATION_DELAY: u32 = 126_000;
/// `1 days / 12 seconds`.
const DEFAULT_OPERATOR_ALLOCATION_DELAY: u32 = 7_200;
const DEFAULT_OPERATOR_SHARES: u128 = 1_000_000_000_000_000_000;
const E15: u64 = 1_000_000_000_000_000;
const E16: u64 = 10 * E15;
const E17: u64 = 100 * E15;

struct Fixture {
    now: u32,
    op: OperatorStrategy<u32>,
    delay: AllocationDelay,
    registrations: [Registration; 8],
    shares: OperatorShares,
}

impl Fixture {
    fn new() -> Self {
        let mut delay = AllocationDelay::default();
        delay.set(DEFAULT_OPERATOR_ALLOCATION_DELAY, false, 1, ALLOCATION_CONFIGURATION_DELAY).unwrap();
        let now = 1 + ALLOCATION_CONFIGURATION_DELAY + 1;
        let mut shares = OperatorShares::new();
        shares.shares = DEFAULT_OPERATOR_SHARES;
        let mut f =
            Fixture { now, op: OperatorStrategy::new(), delay, registrations: Default::default(), shares };
        f.register(0);
        f
    }

    fn register(&mut self, set: u32) {
        self.registrations[set as usize].register(self.now).unwrap();
    }

    fn roll(&mut self, blocks: u32) {
        self.now += blocks;
    }

    fn modify(&mut self, set: u32, magnitude: u64) -> Result<Allocation, Error> {
        let how = Modify {
            now: self.now,
            allocation_delay: self.delay.effective(self.now),
            deallocation_delay: DEALLOCATION_DELAY,
            slashable: self.registrations[set as usize].is_slashable(self.now),
        };
        self.op.modify_allocation(set, magnitude, how)
    }

    /// `slashOperator` for one strategy, then the delegation side as the mock does it.
    fn slash(
        &mut self,
        set: u32,
        wad: u128,
    ) -> Result<Option<orrery_restaking_math::allocation::Slash>, Error> {
        let slashable = self.registrations[set as usize].is_slashable(self.now);
        let slash = self.op.slash(set, wad, slashable, self.now)?;
        if let Some(s) = slash {
            let removed = orrery_restaking_math::shares::calc_slashed_amount(
                self.shares.shares,
                s.prev_max_magnitude,
                s.new_max_magnitude,
            )?;
            self.shares.shares -= removed;
        }
        Ok(slash)
    }

    fn clear(&mut self) -> usize {
        self.op.clear_deallocation_queue(self.now, u16::MAX).unwrap()
    }

    fn allocation(&self, set: u32) -> Allocation {
        self.op.allocation(&set, self.now).unwrap()
    }

    /// `_checkAllocationStorage`'s magnitudes: (encumbered, max, allocatable).
    fn magnitudes(&self) -> (u64, u64, u64) {
        (
            self.op.encumbered_magnitude(self.now).unwrap(),
            self.op.max_magnitude(),
            self.op.allocatable_magnitude(self.now).unwrap(),
        )
    }

    /// `_checkSlashableStake`: `getMinimumSlashableStake` at the current block.
    fn slashable_stake(&self, set: u32) -> u128 {
        self.op.allocated_stake(&set, self.shares.shares, self.now, self.now).unwrap()
    }
}

fn alloc(current_magnitude: u64, pending_diff: i128, effect_block: u32) -> Allocation {
    Allocation { current_magnitude, pending_diff, effect_block }
}

pub fn test_operator_allocated_not_active() {
    let mut f = Fixture::new();
    f.modify(0, WAD).unwrap();
    let before = f.magnitudes();
    // Nothing is slashable before the allocation delay: no slash, nothing changes.
    assert_eq!(f.slash(0, WAD as u128), Ok(None));
    assert_eq!(f.magnitudes(), before);
    f.roll(DEFAULT_OPERATOR_ALLOCATION_DELAY);
    assert_eq!(f.allocation(0), alloc(WAD, 0, 0));
    assert_eq!(f.magnitudes(), (WAD, WAD, 0));
}

pub fn test_slash_post_allocation() {
    let mut f = Fixture::new();
    f.modify(0, WAD).unwrap();
    f.roll(DEFAULT_OPERATOR_ALLOCATION_DELAY);
    let slash = f.slash(0, 25 * E16 as u128).unwrap().unwrap();
    // _checkSlashEvents: wadToSlash 25e16, currentMag = maxMag = encumberedMag = 75e16.
    assert_eq!(slash.wad_slashed, 25 * E16 as u128);
    assert_eq!(slash.new_max_magnitude, 75 * E16);
    assert_eq!(f.allocation(0), alloc(75 * E16, 0, 0));
    assert_eq!(f.magnitudes(), (75 * E16, 75 * E16, 0));
    // DEFAULT_OPERATOR_SHARES.mulWad(75e16)
    assert_eq!(f.slashable_stake(0), 75 * E16 as u128);
}

pub fn test_repeat_until_full_slash() {
    let mut f = Fixture::new();
    f.modify(0, WAD).unwrap();
    f.roll(DEFAULT_OPERATOR_ALLOCATION_DELAY);

    let s1 = f.slash(0, 99 * E16 as u128).unwrap().unwrap();
    assert_eq!(s1.wad_slashed, 99 * E16 as u128);
    assert_eq!(f.allocation(0), alloc(E16, 0, 0));
    assert_eq!(f.magnitudes(), (E16, E16, 0));

    let s2 = f.slash(0, 9999 * 100_000_000_000_000).unwrap().unwrap();
    assert_eq!(s2.wad_slashed, 9999 * 100_000_000_000_000);
    assert_eq!(f.allocation(0), alloc(1_000_000_000_000, 0, 0));
    assert_eq!(f.magnitudes(), (1_000_000_000_000, 1_000_000_000_000, 0));

    // WAD − 1e3 of 1e12 is 1e12 − 1e-3, which rounds up to everything: wadSlashed is WAD.
    let s3 = f.slash(0, (WAD - 1_000) as u128).unwrap().unwrap();
    assert_eq!(s3.wad_slashed, WAD as u128);
    assert_eq!(f.allocation(0), alloc(0, 0, 0));
    assert_eq!(f.magnitudes(), (0, 0, 0));
    assert_eq!(f.slashable_stake(0), 0);
}

pub fn test_revert_allocate_after_slashed_entirely() {
    let mut f = Fixture::new();
    f.modify(0, WAD).unwrap();
    f.roll(DEFAULT_OPERATOR_ALLOCATION_DELAY);
    let slash = f.slash(0, WAD as u128).unwrap().unwrap();
    assert_eq!(slash.wad_slashed, WAD as u128);
    assert_eq!(f.allocation(0), alloc(0, 0, 0));
    assert_eq!(f.magnitudes(), (0, 0, 0));
    f.register(1);
    assert_eq!(f.modify(1, 1), Err(Error::InsufficientMagnitude { needed: 1, max: 0 }));
}

pub fn test_slash_allocate_all_deallocate_all() {
    let mut f = Fixture::new();
    f.modify(0, WAD).unwrap();
    f.roll(DEFAULT_OPERATOR_ALLOCATION_DELAY);
    let effect = f.now + DEALLOCATION_DELAY + 1;
    assert_eq!(f.modify(0, 0), Ok(alloc(WAD, -(WAD as i128), effect)));
    f.slash(0, WAD as u128).unwrap().unwrap();
    // The pending deallocation is slashed to nothing; its effect block stays.
    assert_eq!(f.allocation(0), alloc(0, 0, effect));
    assert_eq!(f.magnitudes(), (0, 0, 0));
    f.roll(DEALLOCATION_DELAY + 1);
    f.clear();
    assert_eq!(f.op.allocatable_magnitude(f.now), Ok(0));
}

pub fn test_allocate_deallocate_slash_after_deallocation() {
    let mut f = Fixture::new();
    f.modify(0, WAD).unwrap();
    f.roll(DEFAULT_OPERATOR_ALLOCATION_DELAY);
    f.modify(0, 5 * E17).unwrap();
    f.roll(DEALLOCATION_DELAY + 1);
    let slash = f.slash(0, 25 * E16 as u128).unwrap().unwrap();
    // SlashingLib.mulWadRoundUp(5e17, 25e16) = 125e15, of a max magnitude of WAD.
    assert_eq!(slash.slashed_magnitude, 125 * E15);
    assert_eq!(slash.wad_slashed, 125 * E15 as u128);
    assert_eq!(slash.new_max_magnitude, 875 * E15);
    f.clear();
    assert_eq!(f.allocation(0), alloc(375 * E15, 0, 0));
    // allocatable = max − encumbered = 875e15 − 375e15.
    assert_eq!(f.magnitudes(), (375 * E15, 875 * E15, 5 * E17));
}

pub fn test_no_funds_slashed_after_deallocation_delay() {
    let mut f = Fixture::new();
    f.modify(0, WAD).unwrap();
    f.roll(DEFAULT_OPERATOR_ALLOCATION_DELAY);
    f.modify(0, 0).unwrap();
    f.roll(DEALLOCATION_DELAY + 1);
    assert_eq!(f.slash(0, WAD as u128), Ok(None));
    assert_eq!(f.op.allocatable_magnitude(f.now), Ok(WAD));
    assert_eq!(f.op.max_magnitude(), WAD);
}

pub fn test_revert_no_funds_slashed_after_deregistration() {
    let mut f = Fixture::new();
    f.modify(0, WAD).unwrap();
    f.roll(DEFAULT_OPERATOR_ALLOCATION_DELAY);
    f.registrations[0].deregister(f.now, DEALLOCATION_DELAY).unwrap();
    f.roll(DEALLOCATION_DELAY + 1);
    let before = f.op.clone();
    assert_eq!(f.slash(0, WAD as u128), Err(Error::OperatorNotSlashable));
    assert_eq!(f.op, before);
}

pub fn test_deallocation_slashed_just_before_effect_block() {
    let mut f = Fixture::new();
    f.modify(0, WAD).unwrap();
    f.roll(DEFAULT_OPERATOR_ALLOCATION_DELAY);
    f.modify(0, 0).unwrap();
    f.roll(DEALLOCATION_DELAY);
    f.slash(0, WAD as u128).unwrap().unwrap();
    assert_eq!(f.op.allocatable_magnitude(f.now), Ok(0));
    assert_eq!(f.op.max_magnitude(), 0);
}

pub fn test_deregistered_operator_slashable_before_delay() {
    let mut f = Fixture::new();
    f.modify(0, WAD).unwrap();
    f.roll(DEFAULT_OPERATOR_ALLOCATION_DELAY);
    f.registrations[0].deregister(f.now, DEALLOCATION_DELAY).unwrap();
    f.roll(DEALLOCATION_DELAY);
    f.slash(0, WAD as u128).unwrap().unwrap();
    assert_eq!(f.op.allocatable_magnitude(f.now), Ok(0));
    assert_eq!(f.op.max_magnitude(), 0);
}

pub fn test_slash_update_slasher_slash_again() {
    // Who may slash is the service's concern; the arithmetic is two 50% slashes.
    let mut f = Fixture::new();
    f.modify(0, WAD).unwrap();
    f.roll(DEFAULT_OPERATOR_ALLOCATION_DELAY);
    f.slash(0, 5 * E17 as u128).unwrap().unwrap();
    f.roll(ALLOCATION_CONFIGURATION_DELAY + 1);
    f.slash(0, 5 * E17 as u128).unwrap().unwrap();
    assert_eq!(f.allocation(0), alloc(25 * E16, 0, 0));
    assert_eq!(f.magnitudes(), (25 * E16, 25 * E16, 0));
    assert_eq!(f.slashable_stake(0), 25 * E16 as u128);
}

pub fn test_revert_slash_zero_and_greater_than_wad() {
    // test_revert_slashZero, test_revert_slashGreaterThanWAD
    let mut f = Fixture::new();
    f.modify(0, WAD).unwrap();
    f.roll(DEFAULT_OPERATOR_ALLOCATION_DELAY);
    assert_eq!(f.slash(0, 0), Err(Error::InvalidWadToSlash { wad_to_slash: 0 }));
    let over = WAD as u128 + 1;
    assert_eq!(f.slash(0, over), Err(Error::InvalidWadToSlash { wad_to_slash: over }));
    assert_eq!(f.magnitudes(), (WAD, WAD, 0));
}

pub fn test_revert_not_member_of_set() {
    // test_revert_NotMemberOfSet: never registered to set 3.
    let mut f = Fixture::new();
    assert_eq!(f.slash(3, WAD as u128), Err(Error::OperatorNotSlashable));
}

pub fn test_revert_allocation_delay_not_set_and_not_in_effect() {
    // test_revert_allocationDelayNotSet
    let how =
        Modify { now: 10, allocation_delay: None, deallocation_delay: DEALLOCATION_DELAY, slashable: true };
    let mut op = OperatorStrategy::<u32>::new();
    assert_eq!(op.modify_allocation(0, 1, how), Err(Error::UninitializedAllocationDelay));
    // test_revert_allocationDelayNotInEffect: set, not yet in effect.
    let mut delay = AllocationDelay::default();
    delay.set(5, false, 10, ALLOCATION_CONFIGURATION_DELAY).unwrap();
    assert_eq!(delay.effective(10), None);
}

pub fn test_revert_modification_already_pending() {
    // test_revert_multiAlloc_modificationAlreadyPending_diffTx
    let mut f = Fixture::new();
    let first = f.modify(0, 5 * E17).unwrap();
    f.roll(DEFAULT_OPERATOR_ALLOCATION_DELAY - 1);
    assert_eq!(
        f.modify(0, 5 * E17),
        Err(Error::ModificationAlreadyPending { effect_block: first.effect_block })
    );
    // test_revert_allocateDeallocate_modificationPending
    assert_eq!(
        f.modify(0, 5 * E17 - 1),
        Err(Error::ModificationAlreadyPending { effect_block: first.effect_block })
    );
    // test_revert_deallocateTwice_modificationPending
    f.roll(1);
    let dealloc = f.modify(0, 5 * E17 - 1).unwrap();
    assert_eq!(
        f.modify(0, 5 * E17 - 1),
        Err(Error::ModificationAlreadyPending { effect_block: dealloc.effect_block })
    );
}

pub fn test_revert_allocate_same_or_zero_magnitude() {
    // test_revert_allocateZeroMagnitude
    let mut f = Fixture::new();
    assert_eq!(f.modify(0, 0), Err(Error::SameMagnitude));
    // test_revert_allocateSameMagnitude
    f.modify(0, 3 * E17).unwrap();
    f.roll(DEFAULT_OPERATOR_ALLOCATION_DELAY);
    assert_eq!(f.modify(0, 3 * E17), Err(Error::SameMagnitude));
    // testFuzz_revert_insufficientAllocatableMagnitude, at WAD + 1.
    assert_eq!(f.modify(0, WAD + 1), Err(Error::InsufficientMagnitude { needed: WAD + 1, max: WAD }));
}

pub fn test_revert_safe_cast_overflow() {
    let mut f = Fixture::new();
    f.register(1);
    f.register(2);
    f.modify(0, WAD).unwrap();
    assert_eq!(f.op.allocatable_magnitude(f.now), Ok(0));
    assert_eq!(f.op.encumbered_magnitude(f.now), Ok(WAD));
    // WAD + (2^64 − 1 − WAD + 1) = 2^64 does not fit a uint64.
    assert_eq!(f.modify(1, u64::MAX - WAD + 1), Err(Error::Overflow));
    assert_eq!(f.modify(2, WAD), Err(Error::InsufficientMagnitude { needed: 2 * WAD, max: WAD }));
    assert_eq!(f.modify(2, 1), Err(Error::InsufficientMagnitude { needed: WAD + 1, max: WAD }));
}

pub fn test_modify_allocations_pending_diff_zero() {
    let mut f = Fixture::new();
    f.modify(0, 501).unwrap();
    f.roll(DEFAULT_OPERATOR_ALLOCATION_DELAY);
    let original = f.modify(0, 500).unwrap().effect_block;
    // ceil(501 · ½) = 251 slashed; the pending −1 loses ceil(1 · ½) = 1 and becomes 0.
    f.slash(0, 5 * E17 as u128).unwrap().unwrap();
    assert_eq!(f.allocation(0), alloc(250, 0, original));
    assert_eq!(f.modify(0, 1000), Err(Error::ModificationAlreadyPending { effect_block: original }));
    assert_eq!(f.allocation(0), alloc(250, 0, original));
}

fn queue_effect_blocks(f: &Fixture) -> Vec<u32> {
    f.op.deallocation_queue().map(|set| f.op.stored_allocation(set).effect_block).collect()
}

pub fn test_modify_allocations_pending_diff_zero_check_ordered_deallocation_queue() {
    let mut f = Fixture::new();
    f.register(1);
    f.register(2);
    f.modify(1, 1001).unwrap();
    f.modify(2, 1000).unwrap();
    f.roll(DEFAULT_OPERATOR_ALLOCATION_DELAY);
    f.modify(1, 1000).unwrap();
    f.roll(100);
    f.modify(2, 0).unwrap();
    f.slash(1, 5 * E17 as u128).unwrap().unwrap();
    f.roll(100);
    let pending = f.op.stored_allocation(&1).effect_block;
    assert_eq!(f.modify(1, 400), Err(Error::ModificationAlreadyPending { effect_block: pending }));
    // _checkDeallocationQueueOrder: two entries, effect blocks ascending.
    let blocks = queue_effect_blocks(&f);
    assert_eq!(blocks.len(), 2);
    assert!(blocks[0] < blocks[1]);
}

pub fn test_modify_allocations_pending_diff_zero_allocation() {
    let mut f = Fixture::new();
    f.register(1);
    f.register(2);
    f.modify(1, 1001).unwrap();
    f.modify(2, 1000).unwrap();
    // `DEALLOCATION_DELAY + 10 days` in the test's units; rolled only to the configuration delay,
    // so not yet in effect.
    f.delay.set(DEALLOCATION_DELAY + 864_000, false, f.now, ALLOCATION_CONFIGURATION_DELAY).unwrap();
    f.roll(ALLOCATION_CONFIGURATION_DELAY);
    f.modify(1, 1000).unwrap();
    f.roll(100);
    f.modify(2, 0).unwrap();
    f.slash(1, 5 * E17 as u128).unwrap().unwrap();
    let pending = f.op.stored_allocation(&1).effect_block;
    assert_eq!(f.modify(1, 5000), Err(Error::ModificationAlreadyPending { effect_block: pending }));
    let blocks = queue_effect_blocks(&f);
    assert_eq!(blocks.len(), 2);
    assert!(blocks[0] < blocks[1]);
}

pub fn test_deallocate_all() {
    let mut f = Fixture::new();
    f.modify(0, WAD).unwrap();
    f.roll(DEFAULT_OPERATOR_ALLOCATION_DELAY);
    let dealloc = f.modify(0, 0).unwrap();
    // _checkDeallocationEvent: magnitude 0 at block.number + DEALLOCATION_DELAY + 1.
    assert_eq!(dealloc.effect_block, f.now + DEALLOCATION_DELAY + 1);
    f.roll(DEALLOCATION_DELAY + 1);
    assert_eq!(f.op.clear_deallocation_queue(f.now, 1), Ok(1));
    assert_eq!(f.allocation(0), alloc(0, 0, 0));
    assert_eq!(f.magnitudes(), (0, WAD, WAD));
    assert_eq!(f.op.stored_encumbered_magnitude(), 0);
}

pub fn test_allocate_deallocate_allocate() {
    let mut f = Fixture::new();
    f.modify(0, 5 * E17).unwrap();
    f.roll(DEFAULT_OPERATOR_ALLOCATION_DELAY);
    let dealloc_effect = f.now + DEALLOCATION_DELAY + 1;
    assert_eq!(f.modify(0, 25 * E16).unwrap().effect_block, dealloc_effect);
    f.register(5);
    let alloc_effect = f.now + DEFAULT_OPERATOR_ALLOCATION_DELAY;
    assert_eq!(f.modify(5, 33 * E16).unwrap().effect_block, alloc_effect);
    f.now = alloc_effect;
    assert_eq!(f.clear(), 0);
    assert_eq!(f.op.allocatable_magnitude(f.now), Ok(WAD - 33 * E16 - 5 * E17));
    f.modify(5, 10 * E16).unwrap();
    f.now = dealloc_effect;
    // _checkClearDeallocationQueueEvents: encumbered magnitude 58e16.
    assert_eq!(f.clear(), 1);
    assert_eq!(f.op.stored_encumbered_magnitude(), 58 * E16);
}

pub fn test_regression_deallocation_not_blocked() {
    let mut f = Fixture::new();
    let allocation_delay = DEALLOCATION_DELAY * 2;
    f.delay.set(allocation_delay, false, f.now, ALLOCATION_CONFIGURATION_DELAY).unwrap();
    f.roll(ALLOCATION_CONFIGURATION_DELAY + 1);
    assert_eq!(f.delay.effective(f.now), Some(allocation_delay));
    f.modify(0, 5 * E17).unwrap();
    f.roll(allocation_delay);
    f.register(6);
    assert_eq!(f.modify(6, 5 * E17).unwrap().effect_block, f.now + allocation_delay);
    let dealloc_effect = f.now + DEALLOCATION_DELAY + 1;
    assert_eq!(f.modify(0, 0).unwrap().effect_block, dealloc_effect);
    f.now = dealloc_effect;
    f.clear();
    assert_eq!(f.op.encumbered_magnitude(f.now), Ok(5 * E17));
    f.modify(0, 5 * E17).unwrap();
}

pub fn test_regression_boundary() {
    // AllocationManagerUnitTests_SetAllocationDelay::test_regression_boundary
    let start = 126_002;
    let mut delay = AllocationDelay::default();
    delay.set(0, false, start, ALLOCATION_CONFIGURATION_DELAY).unwrap();
    assert_eq!(delay.effective(start + ALLOCATION_CONFIGURATION_DELAY), None);
    assert_eq!(delay.effective(start + ALLOCATION_CONFIGURATION_DELAY + 1), Some(0));
}

pub fn test_set_allocation_delay_newly_registered_sets_delay_and_is_set_immediately() {
    let mut delay = AllocationDelay::default();
    delay.set(100, true, 77, ALLOCATION_CONFIGURATION_DELAY).unwrap();
    assert_eq!(delay, AllocationDelay { delay: 100, is_set: true, pending_delay: 100, effect_block: 77 });
    assert_eq!(delay.effective(77), Some(100));
}

pub fn test_set_allocation_delay_existing_operator_delay_not_set_immediately() {
    let mut delay = AllocationDelay::default();
    delay.set(100, true, 77, ALLOCATION_CONFIGURATION_DELAY).unwrap();
    delay.set(200, false, 77, ALLOCATION_CONFIGURATION_DELAY).unwrap();
    assert_eq!(delay.delay, 100);
    assert_eq!(delay.pending_delay, 200);
    assert!(delay.is_set);
    assert_eq!(delay.effective(77 + ALLOCATION_CONFIGURATION_DELAY), Some(100));
    assert_eq!(delay.effective(77 + ALLOCATION_CONFIGURATION_DELAY + 1), Some(200));
}

pub fn test_fuzz_set_delay_one_value() {
    // testFuzz_setDelay with delay = 12345: (false, 0) until block + configuration delay + 1.
    let mut delay = AllocationDelay::default();
    delay.set(12_345, false, 500, ALLOCATION_CONFIGURATION_DELAY).unwrap();
    assert_eq!(delay.effect_block, 500 + ALLOCATION_CONFIGURATION_DELAY + 1);
    assert_eq!(delay.effective(500), None);
    assert_eq!(delay.effective(500 + ALLOCATION_CONFIGURATION_DELAY + 1), Some(12_345));
}

pub fn test_registered_and_deregistered_operator_slashable() {
    // test_registeredOperator, test_deregisteredOperatorAndSlashable
    let mut r = Registration::default();
    r.register(1_000).unwrap();
    assert!(r.is_slashable(1_000));
    assert_eq!(r.register(1_000), Err(Error::AlreadyMemberOfSet));
    r.deregister(2_000, DEALLOCATION_DELAY).unwrap();
    assert!(r.is_slashable(2_000 + DEALLOCATION_DELAY));
    assert!(!r.is_slashable(2_000 + DEALLOCATION_DELAY + 1));
    assert_eq!(r.deregister(2_001, DEALLOCATION_DELAY), Err(Error::NotMemberOfSet));
    // Re-registering inside the window is refused: the set can still slash.
    assert_eq!(r.register(2_001), Err(Error::AlreadyMemberOfSet));
}

pub fn slash_while_deallocation_pending_one_case() {
    // testFuzz_SlashWhileDeallocationPending with allocation 7e17, deallocation to 3e17, slash 1/3
    // (333333333333333333): slashed = ceil(7e17 · 0.333… ) = 233333333333333334 (7e17·333333333333333333
    // /1e18 = 233333333333333333.1), pending −4e17 loses ceil(4e17 · 0.333…) = 133333333333333334
    // (…333333.2), so −266666666666666666; max becomes WAD − 233333333333333334.
    let mut f = Fixture::new();
    f.modify(0, 7 * E17).unwrap();
    f.roll(DEFAULT_OPERATOR_ALLOCATION_DELAY);
    let effect = f.modify(0, 3 * E17).unwrap().effect_block;
    let s = f.slash(0, 333_333_333_333_333_333).unwrap().unwrap();
    assert_eq!(s.slashed_magnitude, 233_333_333_333_333_334);
    assert_eq!(s.new_max_magnitude, WAD - 233_333_333_333_333_334);
    let current = 7 * E17 - 233_333_333_333_333_334;
    assert_eq!(f.allocation(0), alloc(current, -266_666_666_666_666_666, effect));
    assert_eq!(f.op.encumbered_magnitude(f.now), Ok(current));
    f.now = effect;
    f.clear();
    let after = current - 266_666_666_666_666_666;
    assert_eq!(f.allocation(0), alloc(after, 0, 0));
    // allocatable = uint128(-expectedPendingDiff) when everything had been allocated… here the
    // operator had allocated 7e17 of WAD, so also the 3e17 never allocated.
    assert_eq!(f.magnitudes(), (after, WAD - 233_333_333_333_333_334, 266_666_666_666_666_666 + 3 * E17));
}

pub fn refused_modification_changes_nothing() {
    // A due deallocation sits in the queue; a refused change must not clear it.
    let mut f = Fixture::new();
    f.register(1);
    f.modify(0, 5 * E17).unwrap();
    f.modify(1, 5 * E17).unwrap();
    f.roll(DEFAULT_OPERATOR_ALLOCATION_DELAY);
    f.modify(0, 0).unwrap();
    f.roll(DEALLOCATION_DELAY + 1);
    let before = f.op.clone();
    assert_eq!(f.modify(1, 5 * E17), Err(Error::SameMagnitude));
    assert_eq!(f.op, before);
    assert_eq!(f.op.stored_encumbered_magnitude(), WAD);
}

/// A service keeps the state between calls as its parts: rebuilt from them (after an allocation,
/// a deallocation and a slash, so every part is non-trivial) it is the same state and behaves the
/// same.
pub fn state_rebuilt_from_its_parts_is_the_same() {
    let mut f = Fixture::new();
    f.modify(0, 5 * E17).unwrap();
    f.roll(DEFAULT_OPERATOR_ALLOCATION_DELAY);
    f.modify(0, 25 * E16).unwrap();
    f.slash(0, 25 * E16 as u128).unwrap().unwrap();
    let op = &f.op;
    let rebuilt = OperatorStrategy::from_parts(
        orrery_restaking_math::history::History::from_entries(op.max_magnitude_history().entries().to_vec())
            .unwrap(),
        op.stored_encumbered_magnitude(),
        op.stored_allocations().map(|(k, a)| (*k, *a)),
        op.deallocation_queue().copied(),
    );
    assert_eq!(&rebuilt, op);
    assert_eq!(rebuilt.deallocation_queue().count(), 1);
    let shares =
        OperatorShares::from_parts(f.shares.shares, f.shares.cumulative_scaled_queued_history().clone());
    assert_eq!(shares, f.shares);
}
