//! The emission split, against subtensor's coinbase tests (opentensor/subtensor,
//! `pallets/subtensor/src/tests/coinbase.rs`). Those tests run the whole coinbase on the mock runtime, where
//! one block's subnet alpha emission is 10⁹ units; here that block emission is the input.

use orrery_yuma::emission::{share_validator_alpha, split_block, validator_alpha, BlockSplit};
use orrery_yuma::U96F32;

fn units(x: u64) -> U96F32 {
    U96F32::from_num(x)
}

/// `test_owner_cut_base`: an owner cut of 0 takes nothing, one of 65535 takes the whole block.
pub fn test_owner_cut_base() {
    assert_eq!(split_block(units(1_000_000_000), 0, true, units(0)).owner_cut, 0);
    let full = split_block(units(1_000_000_000), u16::MAX, true, units(0));
    assert_eq!(full.owner_cut, 1_000_000_000);
    assert_eq!(full.epoch_emission(), 0);
}

/// `test_pending_emission`: root holds a quarter of the stake (root proportion 1/(1+3)), the mock's owner
/// cut is 0: miners get half, validators half less root's 1/2 · 1/4, within subtensor's epsilon of 1.
pub fn test_pending_emission() {
    let split = split_block(units(1_000_000_000), 0, true, U96F32::from_num(0.25));
    assert!(split.server.abs_diff(500_000_000) <= 1, "{split:?}");
    assert!(split.validator.abs_diff(500_000_000 - 125_000_000) <= 1, "{split:?}");
    assert!(split.root.abs_diff(125_000_000) <= 1, "{split:?}");
}

/// `test_disabling_owner_cut_sends_subnet_emission_to_miners_and_validators`: with the owner cut disabled
/// the owner gets nothing (the cut set to 65535/10 notwithstanding) and the whole block goes to miners and
/// validators.
pub fn test_disabling_owner_cut_sends_subnet_emission_to_miners_and_validators() {
    let split = split_block(units(1_000_000_000), u16::MAX / 10, false, units(0));
    assert_eq!(split.owner_cut, 0);
    assert!(split.server > 0 && split.validator > 0);
    assert_eq!(split.epoch_emission(), 1_000_000_000);
}

/// Hand-worked: subtensor's default cut 11796/65535 of 10⁹ is 179,995,422.32..., so the owner gets
/// 179,995,422 and the 820,004,577.67... left splits in halves of 410,002,288 (truncated).
pub fn default_owner_cut_hand_worked() {
    let split = split_block(units(1_000_000_000), 11_796, true, units(0));
    assert_eq!(split.owner_cut, 179_995_422);
    assert_eq!(split.server, 410_002_288);
    assert_eq!(split.validator, 410_002_288);
    assert_eq!(split.root, 0);
}

/// Hand-worked: with no incentive the validators also take the miners' half; their alpha is shared pro
/// rata to epoch validator emission. Shares are U96F32 quotients, truncated to 32 fraction bits: 1/3 is
/// 1431655765 / 2³², so 300 · 1/3 = 99.99999997... gives 99 and 300 · 2/3 gives 199.
pub fn validator_share_hand_worked() {
    let pending = BlockSplit { owner_cut: 0, server: 100, validator: 200, root: 0 };
    assert_eq!(validator_alpha(&pending, 0), 300);
    assert_eq!(validator_alpha(&pending, 1), 200);
    assert_eq!(share_validator_alpha(300, &[1, 2, 0]), [99, 199, 0]);
    assert_eq!(share_validator_alpha(100, &[1, 1, 1]), [33, 33, 33]);
    assert_eq!(share_validator_alpha(100, &[0, 0]), [0, 0]);
}
