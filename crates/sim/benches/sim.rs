//! `warp/verify`: a fresh node's check of a CE 153 warp proof (`orrery_node::warp::verify`) served
//! by a validator after 8 epochs of the tiny spec (8 handovers and the latest justification: 9
//! commits of 5–6 Ed25519 precommits each, their headers hashed), from the bytes; per proof and per
//! handover.
//!
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

fn warp(c: &mut Criterion) {
    use orrery_node::warp::{verify, TrustedSet, WarpProof};
    let genesis = Genesis::dev(Arc::new(tiny_import_context())).unwrap();
    let epoch = genesis.ctx.spec.epoch_length;
    let lengths = genesis.ctx.spec.lengths();
    let mut config = SimConfig::new(7, &genesis);
    config.options = NodeOptions { tickets: false, grandpa: true, ..NodeOptions::default() };
    let mut sim = Sim::new(&genesis, config).unwrap();
    sim.run_slots(8 * epoch).unwrap();
    let trusted = TrustedSet::genesis(genesis.hash(), genesis.slot(), epoch, genesis.state.state());
    let bytes = sim.node(0).unwrap().warp_proof(trusted.set_id).to_bytes();
    let handovers = WarpProof::from_bytes(&bytes, lengths).unwrap().handovers.len() as u64;
    let mut group = c.benchmark_group("warp");
    group.throughput(Throughput::Elements(handovers));
    group.bench_function("verify", |b| {
        b.iter(|| {
            let proof = WarpProof::from_bytes(&bytes, lengths).unwrap();
            let (_, finalized) = verify(trusted.clone(), &proof, epoch).unwrap();
            assert!(finalized.is_some());
        })
    });
    group.finish();
    println!("warp proof after 8 tiny epochs: {} octets, {handovers} handovers", bytes.len());
}

criterion_group!(benches, slots, warp);
criterion_main!(benches);
