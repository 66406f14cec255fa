//! The `restaking` service (`services/restaking/restaking.jam`, as committed) run through Ψ_R and
//! Ψ_A: EigenLayer's unit-test cases that run end to end (deposit, delegate, allocate, slash by an
//! AVS's transfer, queue and complete a withdrawal) replayed through signed work items and
//! transfers. Every expected number is the Solidity test's own (`DelegationUnit.t.sol`,
//! `AllocationManagerUnit.t.sol` at `f84a51510`, the same cases `crates/restaking-math/tests` port
//! natively), or worked by hand from the contract's formulas (shown inline); the stored records are
//! also compared with `orrery-restaking-math` run natively on the same steps. Then bad input, each
//! refused with the service's storage unchanged.

mod common;

use common::*;
use orrery_restaking::memo::Memo;
use orrery_restaking::store::{withdrawal_key, LogKind};
use orrery_restaking::wire::{Action, OperatorSet, Refusal, Verdict};
use orrery_restaking::{MIN_WITHDRAWAL_DELAY, SHARES_PER_UNIT};
use orrery_restaking_math::allocation::{AllocationDelay, Modify, OperatorStrategy};
use orrery_restaking_math::delegation::{delegate, deposit, queue_withdrawal, OperatorShares, Staker};
use orrery_restaking_math::WAD;

const E18: u128 = 1_000_000_000_000_000_000;
const SET: OperatorSet = OperatorSet { avs: AVS, id: 1 };

fn operator_key() -> ed25519_zebra::SigningKey {
    key(1)
}

fn staker_key() -> ed25519_zebra::SigningKey {
    key(2)
}

/// At `slot`: the AVS creates set 1; the operator registers with `delay`, joins the set and
/// allocates all its magnitude; a payer deposits `units` for the staker, who delegates.
fn setup(chain: &mut Chain, slot: u32, delay: u32, units: u64) {
    let (op, st) = (operator_key(), staker_key());
    let commands = [
        sign(&op, 1, Action::RegisterOperator { allocation_delay: delay }),
        sign(&op, 2, Action::RegisterForSet { set: SET }),
        sign(&op, 3, Action::Allocate { set: SET, magnitude: WAD }),
        sign(&st, 1, Action::Delegate { operator: public(&op) }),
    ];
    let transfers = [
        memo_transfer(AVS, 0, Memo::CreateOperatorSet { id: 1 }),
        memo_transfer(PAYER, units, Memo::Deposit { staker: public(&st) }),
    ];
    let step = chain.step(slot, &commands, &transfers);
    assert!(step.verdicts().iter().all(|v| matches!(v, Verdict::Accepted(_))), "{:?}", step.verdicts());
    assert!(step.logs().iter().all(|l| !l.contains("refused")), "{:?}", step.logs());
}

fn slash(wad_to_slash: u128) -> (u32, u64, [u8; 128]) {
    memo_transfer(AVS, 0, Memo::Slash { set: SET, operator: public(&operator_key()), wad_to_slash })
}

/// The same steps natively: the operator's magnitudes and shares and the staker's holding as
/// `orrery-restaking-math` computes them, to compare with what the service stored.
struct Native {
    strategy: OperatorStrategy<u64>,
    shares: OperatorShares,
    staker: Staker,
}

impl Native {
    fn setup(slot: u32, delay: u32, units: u64) -> Self {
        let mut d = AllocationDelay::default();
        d.set(delay, true, slot, orrery_restaking::ALLOCATION_CONFIGURATION_DELAY).unwrap();
        let mut strategy = OperatorStrategy::new();
        let how = Modify {
            now: slot,
            allocation_delay: d.effective(slot),
            deallocation_delay: orrery_restaking::DEALLOCATION_DELAY,
            slashable: true,
        };
        strategy.modify_allocation(SET.key(), WAD, how).unwrap();
        let mut staker = Staker::default();
        deposit(&mut staker, None, u128::from(units) * SHARES_PER_UNIT, WAD as u128).unwrap();
        let mut shares = OperatorShares::new();
        delegate(&mut staker, &mut shares, WAD, None).unwrap();
        Native { strategy, shares, staker }
    }

    fn slash(&mut self, wad: u128, slot: u32) {
        let s = self.strategy.slash(SET.key(), wad, true, slot).unwrap().unwrap();
        self.shares.slash(s.prev_max_magnitude, s.new_max_magnitude, slot, MIN_WITHDRAWAL_DELAY).unwrap();
    }

    fn assert_same_as(&self, chain: &Chain) {
        let op = chain.operator(&public(&operator_key()));
        assert_eq!(op.strategy, self.strategy, "the operator's magnitudes");
        assert_eq!(op.shares, self.shares, "the operator's shares");
        assert_eq!(chain.staker(&public(&staker_key())).staker, self.staker, "the staker's holding");
    }
}

/// `DelegationUnitTests_ConvertToDepositShares::test_convertToDepositShares_withSlashing` end to
/// end: 100e18 shares (10¹¹ units) delegated; the operator slashed to a magnitude of WAD / 3 =
/// 333333333333333333 (a slash of `wadToSlash` = WAD − that, which takes exactly that much of a
/// full allocation); half the deposit shares queued, completed after the delay and paid by
/// transfer: 16666666666666666650 shares, 16666666666 units (the test's numbers).
#[test]
fn test_convert_to_deposit_shares_with_slashing_in_the_pvm() {
    let mut chain = Chain::new();
    let units = 100_000_000_000;
    setup(&mut chain, 10, 0, units);
    let mut native = Native::setup(10, 0, units);
    native.assert_same_as(&chain);
    let staker = public(&staker_key());
    assert_eq!(chain.staker(&staker).staker.deposit_shares, 100 * E18);
    assert_eq!(chain.operator(&public(&operator_key())).shares.shares, 100 * E18);

    let third: u64 = 333_333_333_333_333_333;
    let step = chain.step(11, &[], &[slash(WAD as u128 - third as u128)]);
    assert!(step.logs().iter().any(|l| l.contains("slashed")), "{:?}", step.logs());
    native.slash(WAD as u128 - third as u128, 11);
    native.assert_same_as(&chain);
    let op = chain.operator(&public(&operator_key()));
    assert_eq!(op.strategy.max_magnitude(), third);
    let held = chain.staker(&staker).staker;
    // The test's withdrawable shares; the operator keeps ceil(100e18 · m / WAD), the same here.
    assert_eq!(held.withdrawable_shares(third.into()), Ok(33_333_333_333_333_333_300));
    assert_eq!(op.shares.shares, 33_333_333_333_333_333_300);
    // Slashing did not touch the staker's record: O(1) in the operator's stakers.
    assert_eq!(held.deposit_shares, 100 * E18);

    let st = staker_key();
    chain.step(12, &[sign(&st, 2, Action::QueueWithdrawal { shares: 50 * E18 })], &[]);
    let w = native.staker;
    queue_withdrawal(&mut native.staker, Some(&mut native.shares), 50 * E18, third.into(), 12).unwrap();
    assert_ne!(w, native.staker);
    native.assert_same_as(&chain);
    assert!(chain.storage(&withdrawal_key(&staker, 0)).is_some());

    // At its last slashable slot it cannot complete: refused, nothing changes.
    let before = chain.snapshot();
    let complete = |nonce| sign(&st, nonce, Action::CompleteWithdrawal { index: 0, payee: PAYEE });
    let step = chain.step(12 + MIN_WITHDRAWAL_DELAY, &[complete(3)], &[]);
    assert!(step.logs().iter().any(|l| l.contains("WithdrawalDelayNotElapsed")), "{:?}", step.logs());
    assert_eq!(chain.snapshot(), before);
    assert!(step.accumulated.transfers.is_empty());

    // A slot later it pays.
    let payee_before = chain.balance(PAYEE);
    let step = chain.step(12 + MIN_WITHDRAWAL_DELAY + 1, &[complete(4)], &[]);
    let transfers = &step.accumulated.transfers;
    assert_eq!(transfers.len(), 1);
    assert_eq!((transfers[0].dest, transfers[0].amount), (PAYEE, 16_666_666_666));
    assert_eq!(&transfers[0].memo[..2], &[1, 128]);
    assert_eq!(chain.balance(PAYEE), payee_before + 16_666_666_666);
    assert!(chain.storage(&withdrawal_key(&staker, 0)).is_none());
    let last = *chain.log().last().unwrap();
    assert_eq!(
        (last.kind, last.amount, last.after),
        (LogKind::Complete, 16_666_666_666_666_666_650, 16_666_666_666)
    );

    // Every balance change is in the log, in order.
    let kinds: Vec<LogKind> = chain.log().iter().map(|e| e.kind).collect();
    use LogKind::*;
    assert_eq!(kinds, [Deposit, Delegate, Slash, SlashQueued, Queue, Complete]);
    let t = chain.totals();
    assert_eq!(
        (t.held_units, t.deposited_units, t.paid_units),
        (units - 16_666_666_666, units.into(), 16_666_666_666)
    );
    // 100e18 − 33333333333333333300 taken from the operator, nothing from the (empty) queue.
    assert_eq!(t.slashed_shares, 66_666_666_666_666_666_700);
}

/// `DelegationUnitTests_slashing::test_sharesBurnableAtMinDelayBlocks` end to end: 100e18 shares
/// delegated and all queued; at the withdrawal's last slashable slot the AVS slashes the whole
/// allocation: the 100e18 queued shares are burnt (the test's `slashOperatorShares` amount) and
/// completing a slot later pays nothing.
#[test]
fn test_shares_burnable_at_min_delay_blocks_in_the_pvm() {
    let mut chain = Chain::new();
    setup(&mut chain, 10, 0, 100_000_000_000);
    let st = staker_key();
    chain.step(20, &[sign(&st, 2, Action::QueueWithdrawal { shares: 100 * E18 })], &[]);
    chain.step(20 + MIN_WITHDRAWAL_DELAY, &[], &[slash(WAD as u128)]);
    let log = chain.log();
    let (taken, queued) = (log[log.len() - 2], log[log.len() - 1]);
    assert_eq!((taken.kind, taken.amount), (LogKind::Slash, 0));
    assert_eq!((queued.kind, queued.amount, queued.after), (LogKind::SlashQueued, 100 * E18, 0));
    assert_eq!(chain.totals().slashed_shares, 100 * E18);

    let step = chain.step(
        21 + MIN_WITHDRAWAL_DELAY,
        &[sign(&st, 3, Action::CompleteWithdrawal { index: 0, payee: PAYEE })],
        &[],
    );
    assert!(step.accumulated.transfers.is_empty(), "nothing to pay");
    let last = *chain.log().last().unwrap();
    assert_eq!((last.kind, last.amount, last.after), (LogKind::Complete, 0, 0));
    assert!(chain.storage(&withdrawal_key(&public(&st), 0)).is_none());
}

/// `AllocationManagerUnitTests_SlashOperator::test_operatorAllocated_notActive` then
/// `test_slashPostAllocation` end to end: the operator's allocation delay is
/// `DEFAULT_OPERATOR_ALLOCATION_DELAY` (7200); a slash before it has passed finds nothing
/// slashable (refused, nothing changes); after it, a 25% slash leaves max, encumbered and current
/// magnitude at 75e16 and the operator's `DEFAULT_OPERATOR_SHARES` (1e18: 10⁹ units) at 75e16.
#[test]
fn test_slash_post_allocation_in_the_pvm() {
    let mut chain = Chain::new();
    setup(&mut chain, 10, 7200, 1_000_000_000);
    let before = chain.snapshot();
    let step = chain.step(10, &[], &[slash(WAD as u128)]);
    assert!(step.logs().iter().any(|l| l.contains("NothingAllocated")), "{:?}", step.logs());
    assert_eq!(chain.snapshot(), before);

    let mut native = Native::setup(10, 7200, 1_000_000_000);
    chain.step(10 + 7200, &[], &[slash(25 * E18 / 100)]);
    native.slash(25 * E18 / 100, 10 + 7200);
    native.assert_same_as(&chain);
    let e16 = 10_000_000_000_000_000u64;
    let op = chain.operator(&public(&operator_key()));
    let allocation = op.strategy.allocation(&SET.key(), 10 + 7200).unwrap();
    assert_eq!(allocation.current_magnitude, 75 * e16);
    assert_eq!(op.strategy.max_magnitude(), 75 * e16);
    assert_eq!(op.strategy.encumbered_magnitude(10 + 7200), Ok(75 * e16));
    assert_eq!(op.shares.shares, 75 * e16 as u128);
}

/// Runs `transfers` and `commands` at `slot` and checks that they are refused for `why` and that
/// the service's storage did not change; returns the step.
fn refused(
    chain: &mut Chain,
    slot: u32,
    commands: &[orrery_restaking::wire::Signed],
    transfers: &[(u32, u64, [u8; 128])],
    why: Refusal,
) -> Step {
    let before = chain.snapshot();
    let step = chain.step(slot, commands, transfers);
    let name = format!("{why:?}");
    assert!(
        step.logs().iter().any(|l| l.contains("refused") && l.contains(&name)),
        "want {name}: {:?}",
        step.logs()
    );
    assert_eq!(chain.snapshot(), before, "{name} changed storage");
    step
}

#[test]
fn bad_input_is_refused_with_nothing_changed() {
    let mut chain = Chain::new();
    setup(&mut chain, 10, 0, 100_000_000_000);
    let (op, st) = (public(&operator_key()), public(&staker_key()));

    // A slash from a service that is not the set's AVS; its amount is sent back.
    let balance = chain.balance(RESTAKING);
    let other = chain.balance(OTHER);
    let forged = memo_transfer(OTHER, 5, Memo::Slash { set: SET, operator: op, wad_to_slash: WAD as u128 });
    let step = refused(&mut chain, 11, &[], &[forged], Refusal::NotTheAvs);
    assert_eq!(step.accumulated.transfers.len(), 1);
    assert_eq!(&step.accumulated.transfers[0].memo[..3], &[1, 129, Refusal::NotTheAvs as u8]);
    assert_eq!((chain.balance(RESTAKING), chain.balance(OTHER)), (balance, other + 5));

    // Slashing beyond what is allocated (more than all of it), and nothing.
    refused(&mut chain, 11, &[], &[slash(WAD as u128 + 1)], Refusal::InvalidWadToSlash);
    refused(&mut chain, 11, &[], &[slash(0)], Refusal::InvalidWadToSlash);
    // An unknown set, and an operator not registered to the set.
    let unknown = OperatorSet { avs: AVS, id: 9 };
    let t = memo_transfer(AVS, 0, Memo::Slash { set: unknown, operator: op, wad_to_slash: 1 });
    refused(&mut chain, 11, &[], &[t], Refusal::UnknownSet);
    let stranger = key(3);
    chain.step(11, &[sign(&stranger, 1, Action::RegisterOperator { allocation_delay: 0 })], &[]);
    let t = memo_transfer(AVS, 0, Memo::Slash { set: SET, operator: public(&stranger), wad_to_slash: 1 });
    refused(&mut chain, 11, &[], &[t], Refusal::OperatorNotSlashable);
    let t = memo_transfer(AVS, 0, Memo::Slash { set: SET, operator: [9; 32], wad_to_slash: 1 });
    refused(&mut chain, 11, &[], &[t], Refusal::UnknownOperator);
    // Allocating more than the operator has.
    let a = sign(&operator_key(), 4, Action::Allocate { set: SET, magnitude: WAD + 1 });
    refused(&mut chain, 11, &[a], &[], Refusal::InsufficientMagnitude);

    // Stake overflow: what the service holds for stakers would pass 2⁶⁴ − 1 units. (The service's
    // balance saturates in this test chain, so only storage is compared; the amount goes back.)
    let huge = u64::MAX - 100_000_000_000 + 1;
    let step = refused(
        &mut chain,
        12,
        &[],
        &[memo_transfer(PAYER, huge, Memo::Deposit { staker: st })],
        Refusal::StakeOverflow,
    );
    let back = &step.accumulated.transfers;
    assert_eq!((back[0].dest, back[0].amount, back[0].memo[2]), (PAYER, huge, Refusal::StakeOverflow as u8));
    chain.accounts.get_mut(&RESTAKING).unwrap().info.balance = balance;
    // A zero deposit; a memo that is not a layout (its amount goes back).
    refused(
        &mut chain,
        12,
        &[],
        &[memo_transfer(PAYER, 0, Memo::Deposit { staker: st })],
        Refusal::SharesAmountZero,
    );
    let mut garbage = Memo::Fund.encode();
    garbage[100] = 1;
    let step = refused(&mut chain, 12, &[], &[(PAYER, 7, garbage)], Refusal::BadMemo);
    assert_eq!(step.accumulated.transfers[0].amount, 7);
    // A second set with the same id from the same AVS.
    refused(
        &mut chain,
        12,
        &[],
        &[memo_transfer(AVS, 0, Memo::CreateOperatorSet { id: 1 })],
        Refusal::SetExists,
    );

    // A bad signature: refine refuses it.
    let mut forged = sign(&staker_key(), 2, Action::QueueWithdrawal { shares: E18 });
    forged.signature[0] ^= 1;
    let step = refused(&mut chain, 13, &[forged], &[], Refusal::BadSignature);
    assert_eq!(step.verdicts(), [Verdict::Refused(Refusal::BadSignature)]);
    // Garbage for a payload.
    let before = chain.snapshot();
    let step = chain.step_with_gas(13, Some(b"garbage"), &[], chain.spec.max_accumulate_gas);
    assert_eq!(step.verdicts(), [Verdict::Refused(Refusal::Malformed)]);
    assert_eq!(chain.snapshot(), before);
    // A replayed command (the staker's delegation, nonce 1).
    let replay = sign(&staker_key(), 1, Action::Delegate { operator: op });
    refused(&mut chain, 13, &[replay], &[], Refusal::StaleNonce);
    // Queueing more than held, nothing, and completing a withdrawal that does not exist.
    refused(
        &mut chain,
        13,
        &[sign(&staker_key(), 2, Action::QueueWithdrawal { shares: 100 * E18 + 1 })],
        &[],
        Refusal::SharesAmountTooHigh,
    );
    refused(
        &mut chain,
        13,
        &[sign(&staker_key(), 2, Action::QueueWithdrawal { shares: 0 })],
        &[],
        Refusal::SharesAmountZero,
    );
    let c = sign(&staker_key(), 2, Action::CompleteWithdrawal { index: 0, payee: PAYEE });
    refused(&mut chain, 13, &[c], &[], Refusal::UnknownWithdrawal);
    // Delegating twice; a command for an unknown operator.
    let d = sign(&staker_key(), 2, Action::Delegate { operator: op });
    refused(&mut chain, 13, &[d], &[], Refusal::AlreadyDelegated);
    let r = sign(&key(4), 1, Action::RegisterForSet { set: SET });
    refused(&mut chain, 13, &[r], &[], Refusal::UnknownOperator);

    // A completed withdrawal whose payee service does not exist: not paid, nothing changes, and it
    // can still be completed to a payee that exists.
    chain.step(14, &[sign(&staker_key(), 2, Action::QueueWithdrawal { shares: E18 })], &[]);
    let done = 15 + MIN_WITHDRAWAL_DELAY;
    let c = sign(&staker_key(), 3, Action::CompleteWithdrawal { index: 0, payee: 99_999 });
    let step = refused(&mut chain, done, &[c], &[], Refusal::PaymentFailed);
    assert!(step.accumulated.transfers.is_empty());
    let c = sign(&staker_key(), 3, Action::CompleteWithdrawal { index: 0, payee: PAYEE });
    let step = chain.step(done, &[c], &[]);
    assert_eq!(step.accumulated.transfers[0].amount, 1_000_000_000);
}

/// A command whose storage the service's balance cannot pay for (GP 0.7.2 §9.3's threshold) is
/// refused whole with `StorageFull`, where `write` would have failed half-way; and a withdrawal
/// whose record the balance left after paying cannot keep is not paid.
#[test]
fn storage_the_balance_cannot_pay_for_is_refused_whole() {
    let mut chain = Chain::new();
    setup(&mut chain, 10, 0, 100_000_000_000);
    let st = staker_key();
    chain.step(12, &[sign(&st, 2, Action::QueueWithdrawal { shares: 50 * E18 })], &[]);
    let set_balance = |chain: &mut Chain, balance: u64| {
        chain.accounts.get_mut(&RESTAKING).unwrap().info.balance = balance;
    };
    let threshold = chain.accounts[&RESTAKING].threshold_balance();

    // 50 units above the threshold: a new operator's record (one item, 10, and 34 + key + value
    // octets) does not fit.
    set_balance(&mut chain, threshold + 50);
    let newcomer = key(9);
    refused(
        &mut chain,
        13,
        &[sign(&newcomer, 1, Action::RegisterOperator { allocation_delay: 0 })],
        &[],
        Refusal::StorageFull,
    );
    // With room it does.
    set_balance(&mut chain, threshold + 10_000);
    let step = chain.step(14, &[sign(&newcomer, 1, Action::RegisterOperator { allocation_delay: 0 })], &[]);
    assert!(step.logs().iter().all(|l| !l.contains("refused")), "{:?}", step.logs());

    // The withdrawal pays 5·10¹⁰ units (50e18 shares at 10⁹ a unit); the balance left after
    // paying them would be half the threshold: refused before paying, nothing sent or written.
    let units = 50_000_000_000;
    let threshold = chain.accounts[&RESTAKING].threshold_balance();
    set_balance(&mut chain, units + threshold / 2);
    let complete = |nonce| sign(&st, nonce, Action::CompleteWithdrawal { index: 0, payee: PAYEE });
    let at = 12 + MIN_WITHDRAWAL_DELAY + 1;
    let step = refused(&mut chain, at, &[complete(3)], &[], Refusal::StorageFull);
    assert!(step.accumulated.transfers.is_empty(), "paid: {:?}", step.accumulated.transfers);
    // Funded again, the same withdrawal completes and pays.
    set_balance(&mut chain, BALANCE);
    let step = chain.step(at + 1, &[complete(3)], &[]);
    assert_eq!(step.accumulated.transfers.len(), 1, "{:?}", step.logs());
    assert_eq!(step.accumulated.transfers[0].amount, units);
}
