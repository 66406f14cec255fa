//! Authoring one tiny block on a dev genesis: with an empty pool, and with a pool of all six
//! validators' tickets (three chosen, each proof verified); and, for reference in the same run,
//! one validator's ticket generation (a ring prover and `N` ring proofs), and importing the
//! authored block.

use criterion::{criterion_group, criterion_main, Criterion};
use orrery_author::{author_block, generate_tickets, genesis, slot_author, Pools};
use orrery_import::{header_hash, import_block, ChainState, ImportOptions};
use orrery_keys::ValidatorKeys;
use orrery_testkit::{genesis as trace_genesis, tiny_import_context, tiny_ring, tiny_state};
use orrery_types::ChainSpec;

fn bench(c: &mut Criterion) {
    let spec = ChainSpec::tiny();
    let ring = tiny_ring();
    let keys: Vec<ValidatorKeys> = (0..6).map(ValidatorKeys::dev).collect();
    let trace = trace_genesis("fallback");
    let base = tiny_state(&trace.state).state().clone();
    let chain = ChainState::from_state(genesis::with_validators(&spec, &ring, base, &keys).unwrap());
    let parent = header_hash(&trace.header);
    let slot = chain.state().timeslot + 1;
    let author =
        keys.iter().find(|k| slot_author(&spec, &ring, chain.state(), slot, k).unwrap().is_some()).unwrap();
    let empty = Pools::default();
    let mut full = Pools::default();
    for k in &keys {
        full.tickets.extend(generate_tickets(&spec, &ring, chain.state(), slot, k).unwrap());
    }

    let mut group = c.benchmark_group("author");
    group.sample_size(10);
    group.bench_function("author::block/tickets=0", |b| {
        b.iter(|| author_block(&spec, &ring, &chain, parent, slot, author, &empty).unwrap())
    });
    group.bench_function("author::block/tickets=3", |b| {
        b.iter(|| author_block(&spec, &ring, &chain, parent, slot, author, &full).unwrap())
    });
    group.bench_function("author::generate_tickets/attempts=3", |b| {
        b.iter(|| generate_tickets(&spec, &ring, chain.state(), slot, &keys[0]).unwrap())
    });
    let ctx = tiny_import_context();
    let block = author_block(&spec, &ring, &chain, parent, slot, author, &full).unwrap();
    group.bench_function("author::import_reference/tickets=3", |b| {
        b.iter(|| import_block(&ctx, &chain, &block, &ImportOptions::default()).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
