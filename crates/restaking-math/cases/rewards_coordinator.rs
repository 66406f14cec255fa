//! Cases ported from eigenlayer-contracts `src/test/unit/RewardsCoordinatorUnit.t.sol` (at
//! `f84a51510`), the operator-split tests, with one fixed value for each fuzzed input. The file's
//! `setUp` uses `activationDelay = 7 days` and `defaultSplitBips = 1000`.

use orrery_restaking_math::rewards::{OperatorSplit, ONE_HUNDRED_IN_BIPS};
use orrery_restaking_math::Error;

const ACTIVATION_DELAY: u32 = 7 * 24 * 60 * 60;
const DEFAULT_SPLIT_BIPS: u16 = 1000;
/// Any timestamp after the epoch will do; the contract's only needs `block.timestamp > 0`.
const NOW: u32 = 1_700_000_000;

pub fn test_fuzz_set_operator_avs_split_first_time() {
    let mut split = OperatorSplit::default();
    assert_eq!(split.get(NOW, DEFAULT_SPLIT_BIPS), DEFAULT_SPLIT_BIPS);
    split.set(2_500, NOW, ACTIVATION_DELAY).unwrap();
    // The default changed to 5000 before activation: the first split is not active yet, so the
    // (new) default applies.
    assert_eq!(split.get(NOW, 5000), 5000);
    assert_eq!(split.get(NOW + ACTIVATION_DELAY - 1, 5000), 5000);
    assert_eq!(split.get(NOW + ACTIVATION_DELAY, 5000), 2_500);
}

pub fn test_fuzz_revert_set_operator_avs_split_second_time_before_prior_activation() {
    let mut split = OperatorSplit::default();
    split.set(2_500, NOW, ACTIVATION_DELAY).unwrap();
    let before = split;
    // Any time up to and including the activation is refused.
    for warp in [NOW, NOW + 1, NOW + ACTIVATION_DELAY] {
        assert_eq!(split.set(7_000, warp, ACTIVATION_DELAY), Err(Error::PreviousSplitPending));
    }
    assert_eq!(split, before);
}

pub fn test_fuzz_set_operator_avs_split_second_time_after_prior_activation() {
    let mut split = OperatorSplit::default();
    split.set(2_500, NOW, ACTIVATION_DELAY).unwrap();
    let warp = NOW + ACTIVATION_DELAY + 1;
    split.set(7_000, warp, ACTIVATION_DELAY).unwrap();
    // The first split holds until the second activates.
    assert_eq!(split.get(warp, DEFAULT_SPLIT_BIPS), 2_500);
    assert_eq!(split.get(warp + ACTIVATION_DELAY, DEFAULT_SPLIT_BIPS), 7_000);
}

pub fn test_fuzz_revert_when_split_greater_than_100() {
    let mut split = OperatorSplit::default();
    assert_eq!(split.set(ONE_HUNDRED_IN_BIPS + 1, NOW, ACTIVATION_DELAY), Err(Error::SplitExceedsMax));
    assert_eq!(split, OperatorSplit::default());
    split.set(ONE_HUNDRED_IN_BIPS, NOW, ACTIVATION_DELAY).unwrap();
}
