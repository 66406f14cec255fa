//! Issue 19's size for restaking, 1,000 stakers, through the service: the gas of one accumulation
//! of 1,000 deposits, of 1,000 delegations, of a slash of an operator with 1,000 delegators (the
//! same as with one: slashing is O(1) in the stakers, EigenLayer's scaling factors carry it to
//! them), and of one withdrawal queued and completed, each against one accumulation's limit `G_A`
//! (10⁷ in the tiny and full chain specs). The numbers are printed for docs/SERVICES.md.

mod common;

use common::*;
use orrery_restaking::memo::Memo;
use orrery_restaking::wire::{encode_payload, Action, OperatorSet, Signed};
use orrery_restaking::MIN_WITHDRAWAL_DELAY;
use orrery_restaking_math::WAD;

const SET: OperatorSet = OperatorSet { avs: AVS, id: 1 };
const GENEROUS: u64 = 10_000_000_000;

/// An operator allocated to set 1 at slot 1 and `n` stakers of 10⁹ units each delegated to it at
/// slots 2 and 3; returns the chain, the gas of the deposits' accumulation and of the delegations'.
fn stakers(n: u64) -> (Chain, u64, u64) {
    let mut chain = Chain::new();
    let op = key(1);
    let commands = [
        sign(&op, 1, Action::RegisterOperator { allocation_delay: 0 }),
        sign(&op, 2, Action::RegisterForSet { set: SET }),
        sign(&op, 3, Action::Allocate { set: SET, magnitude: WAD }),
    ];
    chain.step(1, &commands, &[memo_transfer(AVS, 0, Memo::CreateOperatorSet { id: 1 })]);
    let keys: Vec<_> = (0..n).map(|i| key(100 + i)).collect();
    let deposits: Vec<_> = keys
        .iter()
        .map(|k| memo_transfer(PAYER, 1_000_000_000, Memo::Deposit { staker: public(k) }))
        .collect();
    let step = chain.step_with_gas(2, None, &deposits, GENEROUS);
    assert!(step.halted() && step.logs().iter().all(|l| !l.contains("refused")), "{:?}", step.logs());
    let deposit_gas = step.accumulated.gas_used;
    let delegations: Vec<Signed> =
        keys.iter().map(|k| sign(k, 1, Action::Delegate { operator: public(&op) })).collect();
    let mut delegate_gas = 0;
    // Refine's output (74 octets a delegation) must fit `W_R` = 48 KiB per item.
    for chunk in delegations.chunks(500) {
        let step = chain.step_with_gas(3, Some(&encode_payload(chunk)), &[], GENEROUS);
        assert!(step.halted() && step.logs().iter().all(|l| !l.contains("refused")), "{:?}", step.logs());
        delegate_gas += step.accumulated.gas_used;
    }
    assert_eq!(chain.operator(&public(&op)).delegators as u64, n);
    assert_eq!(chain.operator(&public(&op)).shares.shares, u128::from(n) * 1_000_000_000_000_000_000);
    (chain, deposit_gas, delegate_gas)
}

fn slash_gas(chain: &Chain, slot: u32) -> u64 {
    let memo = Memo::Slash { set: SET, operator: public(&key(1)), wad_to_slash: WAD as u128 / 2 };
    let step = chain.run(slot, None, &[memo_transfer(AVS, 0, memo)], GENEROUS);
    assert!(step.halted() && step.logs().iter().any(|l| l.contains("slashed")), "{:?}", step.logs());
    step.accumulated.gas_used
}

#[test]
fn gas_for_1000_stakers_is_measured_against_g_a() {
    let limit = Chain::new().spec.max_accumulate_gas;
    let (mut chain, deposit_gas, delegate_gas) = stakers(1000);
    let (one, one_deposit, one_delegate) = stakers(1);
    let slash_1000 = slash_gas(&chain, 4);
    let slash_1 = slash_gas(&one, 4);

    let k = key(100);
    let step = chain.step_with_gas(
        4,
        Some(&encode_payload(&[sign(&k, 2, Action::QueueWithdrawal { shares: 1_000_000_000_000_000_000 })])),
        &[],
        GENEROUS,
    );
    let queue_gas = step.accumulated.gas_used;
    let complete = sign(&k, 3, Action::CompleteWithdrawal { index: 0, payee: PAYEE });
    let step =
        chain.step_with_gas(5 + MIN_WITHDRAWAL_DELAY, Some(&encode_payload(&[complete])), &[], GENEROUS);
    assert_eq!(step.accumulated.transfers.len(), 1, "{:?}", step.logs());
    let complete_gas = step.accumulated.gas_used;
    let refine_one = step.refined.as_ref().unwrap().gas_used;

    let pct = |g: u64| g as f64 * 100.0 / limit as f64;
    println!("G_A = {limit}");
    println!(
        "1000 deposits in one accumulation: {deposit_gas} gas ({:.1}% of G_A); 1 deposit: {one_deposit}",
        pct(deposit_gas)
    );
    println!(
        "1000 delegations in two items: {delegate_gas} gas ({:.1}% of G_A); 1 delegation: {one_delegate}",
        pct(delegate_gas)
    );
    println!(
        "slash of an operator with 1000 delegators: {slash_1000} gas ({:.2}% of G_A); with 1: {slash_1}",
        pct(slash_1000)
    );
    println!("queue one withdrawal: {queue_gas} gas ({:.2}%); complete and pay it: {complete_gas} gas ({:.2}%); refine of one signed command: {refine_one} gas", pct(queue_gas), pct(complete_gas));

    // Slashing is O(1) in the stakers: the records it reads and writes are the operator's. (Not
    // the same gas to the unit: the 256-bit products and the log line's numbers are longer.)
    assert!(slash_1000.abs_diff(slash_1) * 20 < slash_1, "{slash_1000} vs {slash_1}");
    for g in [slash_1000, queue_gas, complete_gas] {
        assert!(g < limit / 10, "{g}");
    }
}
