//! A slash and a withdrawal's completion, each natively (`orrery-restaking-math` on the same state)
//! and inside the `restaking` service's accumulation on both PVM backends (the interpreter and
//! the recompiler, switched in the same run): PVM ÷ native is the figure.
//!
//! The state is `tests/service.rs`'s worked example: an operator with all its magnitude allocated
//! to an AVS's set, a staker with 100e18 shares delegated to it who has queued 50e18. The PVM
//! cases are whole accumulations of `services/restaking/restaking.jam`, not kept (so each
//! iteration starts from the same state): the slash is one transfer in from the AVS (reading the
//! operator's record, the math, writing it back with two log entries and the totals); the
//! completion is one refined command (refine's signature check is not timed), reading the
//! staker, withdrawal and operator records, the math, paying by transfer, the log. Native is the
//! math alone: `OperatorStrategy::slash` with `OperatorShares::slash`, and
//! `QueuedWithdrawal::complete` at the magnitude its history gives. For scale, `fund` is an
//! accumulation of one transfer whose memo asks for nothing: what any accumulation of the service
//! costs before its work (the state view, loading the 146 kB blob, its memory).
//!
//! `cargo bench -p orrery-restaking --bench restaking_pvm`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;

use common::*;
use criterion::{criterion_group, criterion_main, Criterion};
use orrery_invocation::Backend;
use orrery_restaking::memo::Memo;
use orrery_restaking::store::{withdrawal_key, WithdrawalRecord};
use orrery_restaking::wire::{encode_payload, Action, OperatorSet};
use orrery_restaking::MIN_WITHDRAWAL_DELAY;
use orrery_restaking_math::WAD;

const SET: OperatorSet = OperatorSet { avs: AVS, id: 1 };
const GAS: u64 = 10_000_000;

fn bench(c: &mut Criterion) {
    let mut chain = Chain::new();
    let (op, st) = (key(1), key(2));
    let commands = [
        sign(&op, 1, Action::RegisterOperator { allocation_delay: 0 }),
        sign(&op, 2, Action::RegisterForSet { set: SET }),
        sign(&op, 3, Action::Allocate { set: SET, magnitude: WAD }),
        sign(&st, 1, Action::Delegate { operator: public(&op) }),
    ];
    let transfers = [
        memo_transfer(AVS, 0, Memo::CreateOperatorSet { id: 1 }),
        memo_transfer(PAYER, 100_000_000_000, Memo::Deposit { staker: public(&st) }),
    ];
    chain.step(10, &commands, &transfers);
    chain.step(12, &[sign(&st, 2, Action::QueueWithdrawal { shares: 50 * WAD as u128 })], &[]);

    let wad_to_slash = WAD as u128 / 2;
    let slash = [memo_transfer(AVS, 0, Memo::Slash { set: SET, operator: public(&op), wad_to_slash })];
    let fund = [memo_transfer(AVS, 0, Memo::Fund)];
    let done = MIN_WITHDRAWAL_DELAY + 13;
    let payload = encode_payload(&[sign(&st, 3, Action::CompleteWithdrawal { index: 0, payee: PAYEE })]);
    let (hash, refined) = chain.refine(done, &payload, GAS);
    let record = chain.operator(&public(&op));
    let withdrawal =
        WithdrawalRecord::decode(&chain.storage(&withdrawal_key(&public(&st), 0)).unwrap()).unwrap().queued();
    // Both accumulations do their work (checked once, outside the timing).
    let out = chain.accumulate(13, None, &slash, GAS);
    assert!(out.logs.iter().any(|l| String::from_utf8_lossy(&l.message).contains("slashed")));
    assert_eq!(chain.accumulate(done, Some((hash, &payload, &refined)), &[], GAS).transfers.len(), 1);

    let mut group = c.benchmark_group("restaking");
    group.bench_function("slash/backend=native", |b| {
        b.iter(|| {
            let (mut strategy, mut shares) = (record.strategy.clone(), record.shares.clone());
            let s = strategy.slash(SET.key(), black_box(wad_to_slash), true, 13).unwrap().unwrap();
            shares.slash(s.prev_max_magnitude, s.new_max_magnitude, 13, MIN_WITHDRAWAL_DELAY).unwrap()
        })
    });
    group.bench_function("complete/backend=native", |b| {
        b.iter(|| {
            let until = withdrawal.slashable_until(MIN_WITHDRAWAL_DELAY).unwrap();
            let factor = record.strategy.max_magnitude_at(until).into();
            black_box(&withdrawal).complete(done, MIN_WITHDRAWAL_DELAY, factor).unwrap()
        })
    });
    for backend in [Backend::Interpreter, Backend::Recompiler] {
        if Backend::set_current(backend).is_err() {
            eprintln!("{backend:?} is not built on this platform: skipped");
            continue;
        }
        let name = format!("{backend:?}").to_lowercase();
        group.bench_function(format!("slash/backend={name}"), |b| {
            b.iter(|| chain.accumulate(black_box(13), None, &slash, GAS))
        });
        // The same accumulation with nothing to do but read one memo: the invocation's fixed cost.
        group.bench_function(format!("fund/backend={name}"), |b| {
            b.iter(|| chain.accumulate(black_box(13), None, &fund, GAS))
        });
        group.bench_function(format!("complete/backend={name}"), |b| {
            b.iter(|| chain.accumulate(black_box(done), Some((hash, &payload, &refined)), &[], GAS))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
