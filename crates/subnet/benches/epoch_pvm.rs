//! One Yuma epoch at 256 miners × 64 validators natively (`orrery_yuma::epoch`) and inside the
//! `subnet` service's accumulation on Orrery's PVM backend (the recompiler on x86-64 Linux, the
//! interpreter elsewhere or with `ORRERY_PVM=interpreter`): PVM ÷ native is the figure.
//!
//! The PVM case is a whole epoch-only accumulation of `services/subnet/subnet.jam`: reading the 320
//! neuron records from storage, the epoch, writing the bonds, permits and outputs back and
//! recording the emission owed. The subnet is `crates/yuma/benches/epoch.rs`'s (legacy bonds, full
//! bond rows), registered and weighted through signed work items (`tests/common`).
//!
//! `cargo bench -p orrery-subnet --bench epoch_pvm` (add `ORRERY_PVM=interpreter` for the
//! interpreter); figures in docs/PERFORMANCE.md.

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};

fn bench(c: &mut Criterion) {
    let (miners, validators) = (256usize, 64usize);
    let gas = 10_000_000_000;
    let chain = common::big_subnet(miners, validators, gas);
    let input = chain.epoch_input(0, (miners + validators) as u16);
    let mut group = c.benchmark_group("yuma");
    group.sample_size(10);
    let name = format!("miners={miners},validators={validators}");
    group.bench_function(format!("epoch/native/{name}"), |b| {
        b.iter(|| orrery_yuma::epoch(black_box(&input)).expect("well-formed"))
    });
    group.bench_function(format!("epoch/pvm/{name}"), |b| b.iter(|| chain.dry_run(black_box(4), gas)));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
