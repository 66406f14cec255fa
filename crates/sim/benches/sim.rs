//! `sim::slots/validators=6`: simulated slots per second of wall time, six dev validators on the
//! tiny spec, GRANDPA on, a calm network, fallback-sealed (tickets off: with them, one epoch in
//! twelve slots pays six ring provers and eighteen ring proofs, measured by the soak run instead).
//! Each iteration runs 24 slots on a fresh simulation; the set-up (six in-memory databases
//! written with the genesis state, six nodes) is not timed, nor is dropping it.

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use orrery_node::NodeOptions;
use orrery_sim::{Genesis, Sim, SimConfig};
use orrery_testkit::tiny_import_context;

const SLOTS: u32 = 24;

fn slots(c: &mut Criterion) {
    let genesis = Genesis::dev(Arc::new(tiny_import_context())).unwrap();
    let mut group = c.benchmark_group("sim");
    group.sample_size(10);
    group.throughput(Throughput::Elements(u64::from(SLOTS)));
    group.bench_function("slots/validators=6", |b| {
        let mut seed = 0;
        b.iter_batched(
            || {
                seed += 1;
                let mut config = SimConfig::new(seed, &genesis);
                config.options = NodeOptions { tickets: false, grandpa: true, ..NodeOptions::default() };
                Sim::new(&genesis, config).unwrap()
            },
            |mut sim| {
                sim.run_slots(SLOTS).unwrap();
                assert!(sim.summary().nodes[0].finalized.unwrap().slot > sim.first_slot());
                sim
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, slots);
criterion_main!(benches);
