//! Cases ported from eigenlayer-contracts `src/test/unit/DelegationUnit.t.sol` and
//! `src/test/unit/libraries/SlashingLibUnit.t.sol` (at `f84a51510`), each named after the test it
//! ports. Expected numbers are the Solidity tests' own; where a test only checks a relation, the
//! exact values are worked from the contract's formulas (shown inline, computed outside this code).
//!
//! The file's `setUp` rolls to `MIN_WITHDRAWAL_DELAY_BLOCKS + 1`; the allocation manager is a mock
//! whose max magnitude is a history by block (`setMaxMagnitude` pushes at the current block), which
//! is [`History`] with a default of `WAD` here.

use orrery_restaking_math::delegation::{delegate, deposit, queue_withdrawal, OperatorShares, Staker};
use orrery_restaking_math::history::History;
use orrery_restaking_math::shares::{
    beacon_chain_shares_to_remove, reduce_beacon_chain_factor, scale_for_complete_withdrawal,
    slashing_factor, BeaconChainSlash, DepositScalingFactor,
};
use orrery_restaking_math::{Error, WAD};

const MIN_WITHDRAWAL_DELAY_BLOCKS: u32 = 126_000;
const E18: u128 = 1_000_000_000_000_000_000;
const START: u32 = MIN_WITHDRAWAL_DELAY_BLOCKS + 1;

/// `strategyManagerMock.addDeposit`: deposit shares appear without the delegation manager.
fn staker_with(deposit_shares: u128) -> Staker {
    Staker { deposit_shares, dsf: DepositScalingFactor::default() }
}

fn magnitudes(at: u32, value: u64) -> History<u64> {
    let mut h = History::new();
    h.push(at, value).unwrap();
    h
}

pub fn test_revert_invalid_deposit_scaling_factor() {
    // SlashingLibUnitTests::test_Revert_InvalidDepositScalingFactor: dsf 1, then 1e18 + 1 shares
    // worth (1e18 ·w 1 ·w (WAD − 1) = 0) + 1 = 1 give 1 ·WAD / (1e18 + 1) = 0.
    let mut dsf = DepositScalingFactor::from_raw(1);
    assert_eq!(dsf.update(E18, 1, (WAD - 1) as u128), Err(Error::InvalidDepositScalingFactor));
    assert_eq!(dsf.raw(), 1);
}

pub fn test_increase_delegated_shares_deposit_repeatedly() {
    let initial_magnitude: u64 = 999_999_999_999_990_009;
    let shares: u128 = 44_182_209_037_560_531_097_078_597_505;
    let mut staker = staker_with(shares);
    let mut operator = OperatorShares::new();
    delegate(&mut staker, &mut operator, initial_magnitude, None).unwrap();
    let factor = slashing_factor(initial_magnitude, None);
    for _ in 0..1000 {
        deposit(&mut staker, Some(&mut operator), 1000, factor).unwrap();
    }
    assert_eq!(staker.deposit_shares, shares + 1_000_000);
    let withdrawable = staker.withdrawable_shares(factor).unwrap();
    // "drift should be 4.418e13 from previous tests"
    assert_eq!(operator.shares - withdrawable, 44_182_209_037_566);
}

pub fn test_slash_operator_shares_slashed_repeatedly() {
    let initial_magnitude: u64 = 90_009;
    let shares: u128 = 40_000_000_004_182_209_037_560_531_097_078_597_505;
    let mut staker = staker_with(shares);
    let mut operator = OperatorShares::new();
    delegate(&mut staker, &mut operator, initial_magnitude, None).unwrap();
    let mut magnitude = initial_magnitude;
    for now in START..START + 100 {
        magnitude -= 100;
        let slashed = operator.slash(magnitude + 100, magnitude, now, MIN_WITHDRAWAL_DELAY_BLOCKS).unwrap();
        // The OperatorSharesSlashed event's amount, the same every time.
        assert_eq!(slashed.total(), Ok(44_440_000_449_046_438_731_194_137_360_795_695));
        assert_eq!(staker.deposit_shares, shares);
        let withdrawable = staker.withdrawable_shares(slashing_factor(magnitude, None)).unwrap();
        assert!(withdrawable <= operator.shares, "withdrawable above operator shares");
    }
}

/// Deposit 100e18, delegate at `WAD`, queue everything at `START`.
fn queued_everything() -> (Staker, OperatorShares, orrery_restaking_math::delegation::QueuedWithdrawal) {
    let mut staker = staker_with(100 * E18);
    let mut operator = OperatorShares::new();
    delegate(&mut staker, &mut operator, WAD, None).unwrap();
    let w = queue_withdrawal(&mut staker, Some(&mut operator), 100 * E18, WAD as u128, START).unwrap();
    (staker, operator, w)
}

pub fn test_shares_burnable_at_min_delay_blocks() {
    let (_, mut operator, w) = queued_everything();
    let now = w.start_block + MIN_WITHDRAWAL_DELAY_BLOCKS;
    let mut max = magnitudes(1, WAD);
    assert_eq!(operator.slashable_shares_in_queue(WAD, 0, now, MIN_WITHDRAWAL_DELAY_BLOCKS), Ok(100 * E18));
    max.push(now, 0).unwrap();
    let slashed = operator.slash(WAD, 0, now, MIN_WITHDRAWAL_DELAY_BLOCKS).unwrap();
    assert_eq!((slashed.from_operator, slashed.from_queue), (0, 100 * E18));
    assert_eq!(
        operator.slashable_shares_in_queue(max.latest(WAD), 0, now, MIN_WITHDRAWAL_DELAY_BLOCKS),
        Ok(0)
    );
    // Completed the block after as tokens: nothing is paid.
    let until = w.slashable_until(MIN_WITHDRAWAL_DELAY_BLOCKS).unwrap();
    assert_eq!(w.complete(now + 1, MIN_WITHDRAWAL_DELAY_BLOCKS, max.upper_lookup(until, WAD) as u128), Ok(0));
}

pub fn test_get_slashable_shares_in_queue_returns_zero_when_fully_slashed() {
    let (_, mut operator, _) = queued_everything();
    operator.slash(WAD, 0, START, MIN_WITHDRAWAL_DELAY_BLOCKS).unwrap();
    assert_eq!(operator.slashable_shares_in_queue(0, 0, START, MIN_WITHDRAWAL_DELAY_BLOCKS), Ok(0));
}

pub fn test_shares_not_burnable_when_withdrawal_completable() {
    let (_, mut operator, w) = queued_everything();
    let now = w.start_block + MIN_WITHDRAWAL_DELAY_BLOCKS + 1;
    assert_eq!(operator.slashable_shares_in_queue(WAD, 0, now, MIN_WITHDRAWAL_DELAY_BLOCKS), Ok(0));
    let mut max = magnitudes(1, WAD);
    max.push(now, 0).unwrap();
    operator.slash(WAD, 0, now, MIN_WITHDRAWAL_DELAY_BLOCKS).unwrap();
    // withdrawSharesAsTokens(…, 100e18): the slash came after the last slashable block.
    let until = w.slashable_until(MIN_WITHDRAWAL_DELAY_BLOCKS).unwrap();
    assert_eq!(
        w.complete(now, MIN_WITHDRAWAL_DELAY_BLOCKS, max.upper_lookup(until, WAD) as u128),
        Ok(100 * E18)
    );
}

pub fn test_slashable_shares_in_queue() {
    let deposit_amount = 120 * E18;
    let mut staker = staker_with(deposit_amount);
    let mut operator = OperatorShares::new();
    delegate(&mut staker, &mut operator, WAD, None).unwrap();
    for i in 0..5 {
        queue_withdrawal(&mut staker, Some(&mut operator), deposit_amount / 6, WAD as u128, START + i)
            .unwrap();
    }
    let now = START + 1 + MIN_WITHDRAWAL_DELAY_BLOCKS + 1;
    assert_eq!(
        operator.slashable_shares_in_queue(WAD, 0, now, MIN_WITHDRAWAL_DELAY_BLOCKS),
        Ok(deposit_amount / 6 * 3)
    );
    let slashed = operator.slash(WAD, 0, now, MIN_WITHDRAWAL_DELAY_BLOCKS).unwrap();
    // OperatorSharesDecreased(…, depositAmount / 6): the one withdrawal never queued.
    assert_eq!(slashed.from_operator, deposit_amount / 6);
    assert_eq!(operator.slashable_shares_in_queue(0, 0, now, MIN_WITHDRAWAL_DELAY_BLOCKS), Ok(0));
}

pub fn test_clear_withdrawal_fully_slashed() {
    let (mut staker, mut operator, w) = queued_everything();
    let now = w.start_block + MIN_WITHDRAWAL_DELAY_BLOCKS;
    let mut max = magnitudes(1, WAD);
    max.push(now, 0).unwrap();
    operator.slash(WAD, 0, now, MIN_WITHDRAWAL_DELAY_BLOCKS).unwrap();
    let until = w.slashable_until(MIN_WITHDRAWAL_DELAY_BLOCKS).unwrap();
    let paid =
        w.complete(now + 1, MIN_WITHDRAWAL_DELAY_BLOCKS, max.upper_lookup(until, WAD) as u128).unwrap();
    // Received as shares: zero shares are skipped, nothing is added back.
    assert_eq!(paid, 0);
    assert_eq!(operator.shares, 0);
    assert_eq!(staker.withdrawable_shares(max.latest(WAD) as u128), Ok(0));
    // And adding zero would have been refused outright (StrategyManager.SharesAmountZero).
    assert_eq!(deposit(&mut staker, Some(&mut operator), paid, WAD as u128), Err(Error::SharesAmountZero));
}

pub fn test_get_queued_withdrawals_uses_correct_operator_magnitude() {
    let mut staker = staker_with(100 * E18);
    let mut operator = OperatorShares::new();
    delegate(&mut staker, &mut operator, WAD, None).unwrap();
    let half = (WAD / 2) as u128;
    let w = queue_withdrawal(&mut staker, Some(&mut operator), 100 * E18, half, START).unwrap();
    assert_eq!(w.withdrawable_when_queued, 50 * E18);
    // Not yet completable: getQueuedWithdrawal reads the operator's current magnitude.
    assert_eq!(scale_for_complete_withdrawal(w.scaled_shares, half), Ok(50 * E18));
    assert_eq!(
        w.complete(START + MIN_WITHDRAWAL_DELAY_BLOCKS, MIN_WITHDRAWAL_DELAY_BLOCKS, half),
        Err(Error::WithdrawalDelayNotElapsed { slashable_until: START + MIN_WITHDRAWAL_DELAY_BLOCKS })
    );
}

pub fn test_convert_to_deposit_shares_with_slashing() {
    let mut staker = staker_with(100 * E18);
    let mut operator = OperatorShares::new();
    delegate(&mut staker, &mut operator, WAD, None).unwrap();
    let third = slashing_factor(WAD / 3, None);
    // 100e18 ·w WAD ·w 333333333333333333 = 33333333333333333300, which converts back to 100e18.
    let withdrawable = staker.withdrawable_shares(third).unwrap();
    assert_eq!(withdrawable, 33_333_333_333_333_333_300);
    assert_eq!(staker.dsf.calc_deposit_shares(withdrawable, third), Ok(100 * E18));

    // _queueAndCompleteWithdrawalForSingleStrategy(half), received as shares.
    let w = queue_withdrawal(&mut staker, Some(&mut operator), 50 * E18, third, START).unwrap();
    let now = START + MIN_WITHDRAWAL_DELAY_BLOCKS + 1;
    let paid = w.complete(now, MIN_WITHDRAWAL_DELAY_BLOCKS, third).unwrap();
    assert_eq!(paid, 16_666_666_666_666_666_650);
    deposit(&mut staker, Some(&mut operator), paid, third).unwrap();
    // From the formulas: dsf = (33333333333333333300 ÷w 66666666666666666650) ÷w third
    // = 1499999999999999998; withdrawable 33333333333333333247 converts to 66666666666666666648,
    // within 1e-10 of, and not above, the expected 50e18 + 33333333333333333300 / 2.
    let expected = 50 * E18 + withdrawable / 2;
    assert_eq!(staker.dsf.raw(), 1_499_999_999_999_999_998);
    let withdrawable = staker.withdrawable_shares(third).unwrap();
    assert_eq!(withdrawable, 33_333_333_333_333_333_247);
    let converted = staker.dsf.calc_deposit_shares(withdrawable, third).unwrap();
    assert_eq!(converted, 66_666_666_666_666_666_648);
    assert!(converted <= expected);
    assert!((expected - converted) * E18 <= expected * 100_000_000, "outside APPROX_REL_DIFF");
}

pub fn beacon_chain_balance_drop_hand_worked() {
    // EigenPodManager._reduceSlashingFactor: 32 ETH restaked drops by 8: factor WAD · 24/32.
    let drop = reduce_beacon_chain_factor(WAD, 32 * E18, 8 * E18).unwrap();
    assert_eq!(
        drop,
        BeaconChainSlash { new_factor: 750_000_000_000_000_000, decrease: 250_000_000_000_000_000 }
    );
    // decreaseDelegatedShares: 32e18 ·w WAD ·w (WAD ·w 25e16) = 8e18 leave the operator.
    let dsf = DepositScalingFactor::default();
    assert_eq!(beacon_chain_shares_to_remove(&dsf, 32 * E18, WAD, drop.decrease), Ok(8 * E18));
    // The staker's slashing factor: operator at 0.5 times beacon 0.75 = 0.375.
    assert_eq!(slashing_factor(WAD / 2, Some(drop.new_factor)), 375_000_000_000_000_000);
    // A third of a gwei-rounded balance rounds the factor down: WAD · 2/3 = 666666666666666666.
    assert_eq!(reduce_beacon_chain_factor(WAD, 3 * E18, E18).unwrap().new_factor, 666_666_666_666_666_666);
}

pub fn bad_input_is_refused_without_change() {
    let (mut staker, mut operator, _) = queued_everything();
    deposit(&mut staker, Some(&mut operator), 10 * E18, WAD as u128).unwrap();
    let (s0, o0) = (staker, operator.clone());
    assert_eq!(
        queue_withdrawal(&mut staker, Some(&mut operator), 11 * E18, WAD as u128, START + 5),
        Err(Error::SharesAmountTooHigh { held: 10 * E18, asked: 11 * E18 })
    );
    assert_eq!(
        queue_withdrawal(&mut staker, Some(&mut operator), 0, WAD as u128, START + 5),
        Err(Error::SharesAmountZero)
    );
    // A history entry before the latest one (block START) is refused.
    assert_eq!(
        queue_withdrawal(&mut staker, Some(&mut operator), E18, WAD as u128, START - 1),
        Err(Error::InvalidSnapshotOrdering)
    );
    assert_eq!(deposit(&mut staker, Some(&mut operator), E18, 0), Err(Error::FullySlashed));
    assert_eq!(deposit(&mut staker, Some(&mut operator), u128::MAX, WAD as u128), Err(Error::Overflow));
    assert_eq!((staker, operator), (s0, o0));
}

pub fn test_fuzz_undelegate_delegate_again_with_rounding_one_case() {
    // testFuzz_undelegate_delegateAgainWithRounding with shares = 123456789123456789123 at the
    // test's magnitude 333333333333333333. From the formulas: dsf = WAD ÷w m = 3000000000000000003;
    // undelegating queues 123456789123456789122 withdrawable (scaled 370370367370370367739), leaving
    // 1 share of rounding dust with the operator; completing as shares after delegating again pays
    // 123456789123456789122 back, so the operator ends at 123456789123456789123 (≤ before).
    let magnitude: u64 = 333_333_333_333_333_333;
    let shares: u128 = 123_456_789_123_456_789_123;
    let factor = slashing_factor(magnitude, None);
    let mut staker = staker_with(shares);
    let mut operator = OperatorShares::new();
    delegate(&mut staker, &mut operator, magnitude, None).unwrap();
    assert_eq!(staker.dsf.raw(), 3_000_000_000_000_000_003);
    let before = operator.shares;

    let w = queue_withdrawal(&mut staker, Some(&mut operator), shares, factor, START).unwrap();
    assert_eq!(w.withdrawable_when_queued, 123_456_789_123_456_789_122);
    assert_eq!(w.scaled_shares, 370_370_367_370_370_367_739);
    assert_eq!(operator.shares, 1);
    assert_eq!(staker.withdrawable_shares(factor), Ok(0));
    assert_eq!(staker.dsf.raw(), 0, "reset once nothing is left");

    delegate(&mut staker, &mut operator, magnitude, None).unwrap();
    let paid =
        w.complete(START + MIN_WITHDRAWAL_DELAY_BLOCKS + 1, MIN_WITHDRAWAL_DELAY_BLOCKS, factor).unwrap();
    assert_eq!(paid, 123_456_789_123_456_789_122);
    deposit(&mut staker, Some(&mut operator), paid, factor).unwrap();
    assert_eq!(operator.shares, 123_456_789_123_456_789_123);
    assert!(operator.shares <= before);
}
