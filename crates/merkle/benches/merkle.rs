//! State-trie benchmarks: the one-shot root of 100k and 1M random pairs, building the incremental
//! trie, and updating 10k keys of a 1M-pair trie then taking its root.
//!
//! Keys are 31 random bytes and values 32–128 random bytes, so most leaves hash their value.
//! Set `RAYON_NUM_THREADS=1` to measure on one thread.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use orrery_merkle::trie::{root_of_sorted, Key, Trie};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn random_value(rng: &mut impl Rng) -> Vec<u8> {
    let len = rng.gen_range(32..=128);
    (0..len).map(|_| rng.gen()).collect()
}

fn random_pairs(n: usize, seed: u64) -> Vec<(Key, Vec<u8>)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut pairs: Vec<(Key, Vec<u8>)> = (0..n).map(|_| (rng.gen(), random_value(&mut rng))).collect();
    pairs.sort_unstable_by_key(|p| p.0);
    pairs.dedup_by_key(|p| p.0);
    pairs
}

fn root(c: &mut Criterion) {
    let mut group = c.benchmark_group("trie::root");
    group.sample_size(10);
    for n in [100_000, 1_000_000] {
        let pairs = random_pairs(n, 1);
        group.throughput(Throughput::Elements(pairs.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(format!("entries={n}")), &pairs, |b, pairs| {
            b.iter(|| root_of_sorted(black_box(pairs)).unwrap())
        });
    }
    group.finish();
}

fn build(c: &mut Criterion) {
    let mut group = c.benchmark_group("trie::build_and_root");
    group.sample_size(10);
    let n = 1_000_000;
    let pairs = random_pairs(n, 1);
    group.throughput(Throughput::Elements(pairs.len() as u64));
    group.bench_function(format!("entries={n}"), |b| {
        b.iter_batched(
            || pairs.clone(),
            |pairs| {
                let trie = Trie::from_sorted(pairs).unwrap();
                black_box(trie.root());
                trie
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

fn update(c: &mut Criterion) {
    let mut group = c.benchmark_group("trie::update_and_root");
    group.sample_size(10);
    let (n, changes) = (1_000_000, 10_000);
    let pairs = random_pairs(n, 1);
    let base = Trie::from_sorted(pairs.clone()).unwrap();
    let base_root = base.root();
    // Half the changes overwrite existing keys, half insert new ones.
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let batch: Vec<(Key, Vec<u8>)> = (0..changes)
        .map(|i| {
            let key = if i % 2 == 0 { pairs[rng.gen_range(0..pairs.len())].0 } else { rng.gen() };
            (key, random_value(&mut rng))
        })
        .collect();
    group.throughput(Throughput::Elements(changes as u64));
    group.bench_function(format!("entries={n},changes={changes}"), |b| {
        b.iter_batched(
            || (base.clone(), batch.clone()),
            |(mut trie, batch)| {
                for (key, value) in batch {
                    trie.insert(key, value);
                }
                assert_ne!(black_box(trie.root()), base_root);
                trie
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, root, build, update);
criterion_main!(benches);
