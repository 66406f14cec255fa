//! Cost of one slash and of one withdrawal, natively, in the arithmetic a `restaking` service runs
//! per operation. There is no reference implementation to run beside it here (the contracts are
//! Solidity); the PVM ÷ native ratio the issue asks for comes when the service exists.
//!
//! - `restaking::slash/sets=N`: an operator allocated to N operator sets in one strategy, one set
//!   slashing 10% with a deallocation pending: the allocation side (`OperatorStrategy::slash`) and
//!   the delegation side (`OperatorShares::slash`, 64 withdrawals in its queue history).
//! - `restaking::withdrawal/queue` and `restaking::withdrawal/complete`: a delegated staker queueing
//!   half its shares, and completing a withdrawal against the max magnitude at its last slashable
//!   block (history of 64 slashes).
//! - `restaking::mul_div/{narrow,wide}`: the 256-bit `mulDiv` with a divisor below and above 2^64.

use std::hint::black_box;

use criterion::{BatchSize, Criterion};
use orrery_restaking_math::allocation::{Modify, OperatorStrategy};
use orrery_restaking_math::delegation::{delegate, deposit, queue_withdrawal, OperatorShares, Staker};
use orrery_restaking_math::math::{mul_div, Rounding};
use orrery_restaking_math::WAD;

const DEALLOCATION_DELAY: u32 = 100_800;
const MIN_WITHDRAWAL_DELAY: u32 = 126_000;
const ALLOCATION_DELAY: u32 = 7_200;

fn allocated(sets: u32) -> OperatorStrategy<u32> {
    let mut op = OperatorStrategy::new();
    let share = WAD / (sets as u64 + 1);
    let how = Modify {
        now: 1,
        allocation_delay: Some(ALLOCATION_DELAY),
        deallocation_delay: DEALLOCATION_DELAY,
        slashable: true,
    };
    for set in 0..sets {
        op.modify_allocation(set, share, how).expect("allocate");
    }
    // Set 0 starts deallocating half, so the slash also scales a pending deallocation.
    let later = Modify { now: 1 + ALLOCATION_DELAY, ..how };
    op.modify_allocation(0, share / 2, later).expect("deallocate");
    op
}

fn operator_with_queue() -> (Staker, OperatorShares) {
    let mut staker = Staker::default();
    let mut operator = OperatorShares::new();
    deposit(&mut staker, None, 1_000_000 * WAD as u128, WAD as u128).expect("deposit");
    delegate(&mut staker, &mut operator, WAD, None).expect("delegate");
    for block in 0..64 {
        queue_withdrawal(&mut staker, Some(&mut operator), WAD as u128, WAD as u128, 10_000 + block)
            .expect("queue");
    }
    (staker, operator)
}

fn bench(c: &mut Criterion) {
    // Inside set 0's deallocation delay (it ends at block 108_001); all 64 queued withdrawals
    // (blocks 10_000…10_063) are still slashable.
    let slash_at = 50_000;
    for sets in [1u32, 64] {
        let op = allocated(sets);
        let (_, shares) = operator_with_queue();
        c.bench_function(&format!("restaking::slash/sets={sets}"), |b| {
            b.iter_batched_ref(
                || (op.clone(), shares.clone()),
                |(op, shares)| {
                    let slash =
                        op.slash(0, WAD as u128 / 10, true, slash_at).expect("slash").expect("allocated");
                    black_box(
                        shares
                            .slash(
                                slash.prev_max_magnitude,
                                slash.new_max_magnitude,
                                slash_at,
                                MIN_WITHDRAWAL_DELAY,
                            )
                            .expect("shares"),
                    )
                },
                BatchSize::SmallInput,
            )
        });
    }

    let now = 300_000;
    let (staker, shares) = operator_with_queue();
    c.bench_function("restaking::withdrawal/queue", |b| {
        b.iter_batched_ref(
            || (staker, shares.clone()),
            |(staker, shares)| {
                let half = staker.deposit_shares / 2;
                black_box(
                    queue_withdrawal(staker, Some(shares), half, 9 * WAD as u128 / 10, now).expect("queue"),
                )
            },
            BatchSize::SmallInput,
        )
    });

    // 64 slashes of 1% at blocks 1_000, 2_000, …; the withdrawal looks up one in the middle.
    let mut op = allocated(1);
    for i in 0..64 {
        op.slash(0, WAD as u128 / 100, true, 1_000 * (i + 10)).expect("slash");
    }
    let mut staker = staker;
    let mut shares = shares;
    let withdrawal =
        queue_withdrawal(&mut staker, Some(&mut shares), WAD as u128, op.max_magnitude() as u128, 40_000)
            .expect("queue");
    c.bench_function("restaking::withdrawal/complete", |b| {
        b.iter(|| {
            let until = withdrawal.slashable_until(MIN_WITHDRAWAL_DELAY).expect("until");
            let factor = op.max_magnitude_at(until) as u128;
            black_box(
                withdrawal.complete(black_box(until + 1), MIN_WITHDRAWAL_DELAY, factor).expect("complete"),
            )
        })
    });

    c.bench_function("restaking::mul_div/narrow", |b| {
        b.iter(|| {
            mul_div(
                black_box(44_182_209_037_560_531_097_078_597_505),
                black_box(WAD as u128),
                black_box(999_999_999_999_990_009),
                Rounding::Up,
            )
        })
    });
    c.bench_function("restaking::mul_div/wide", |b| {
        b.iter(|| {
            mul_div(
                black_box(44_182_209_037_560_531_097_078_597_505),
                black_box(WAD as u128),
                black_box(44_182_209_037_560_531_097_079_597_505),
                Rounding::Down,
            )
        })
    });
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}
