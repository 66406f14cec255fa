//! State-trie benchmarks: the one-shot root of 100k and 1M random pairs, building the incremental
//! trie, and updating 10k keys of a 1M-pair trie then taking its root.
//!
//! Keys are 31 random bytes and values 32–128 random bytes, so most leaves hash their value.
//! The update benchmarks clone a 1M-pair trie whose root is known (an O(1) clone sharing every
//! node), so they also pay for copying the paths they change, as a fork of the state would.
//!
//! Wall-clock time by default. With `ORRERY_BENCH_CPU=1` the same benchmarks measure the process's
//! CPU time (all threads) instead, under group names ending in `_cpu`: on a machine shared with
//! other work that figure moves far less than wall time. `RAYON_NUM_THREADS=1` keeps to one thread.
//! With `ORRERY_BENCH_NAIVE=1` it instead times the root of 1M pairs against a plain recursive
//! implementation (node by node, `orrery_crypto::blake2b_256`) in the same process, checks that
//! both agree, and prints the ratio.

use std::hint::black_box;
use std::time::Duration;

use cpu_time::ProcessTime;
use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput};
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

fn root<M: Measurement>(c: &mut Criterion<M>, suffix: &str) {
    let mut group = c.benchmark_group(format!("trie::root{suffix}"));
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

fn build<M: Measurement>(c: &mut Criterion<M>, suffix: &str) {
    let mut group = c.benchmark_group(format!("trie::build_and_root{suffix}"));
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

fn update<M: Measurement>(c: &mut Criterion<M>, suffix: &str) {
    let mut group = c.benchmark_group(format!("trie::update_and_root{suffix}"));
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
    // `apply` merges the sorted batch in one descent; `insert` walks from the root for each key.
    group.bench_function(format!("apply/entries={n},changes={changes}"), |b| {
        b.iter_batched(
            || (base.clone(), batch.clone()),
            |(mut trie, batch)| {
                trie.apply(batch.into_iter().map(|(key, value)| (key, Some(value))));
                assert_ne!(black_box(trie.root()), base_root);
                trie
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function(format!("insert/entries={n},changes={changes}"), |b| {
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

/// A plain recursive root, one node at a time with `orrery_crypto::blake2b_256` and one bit per
/// level: the straightforward reading of GP eq. D.5, to compare the batched root with.
fn naive_root(pairs: &[(Key, Vec<u8>)], depth: usize) -> [u8; 32] {
    use orrery_crypto::blake2b_256;
    use orrery_merkle::trie::{branch_node, leaf_node};
    match pairs {
        [] => [0; 32],
        [(key, value)] => blake2b_256(&leaf_node(key, value)),
        _ => {
            let bit = |k: &Key| (k[depth / 8] >> (7 - depth % 8)) & 1;
            let mid = pairs.partition_point(|(k, _)| bit(k) == 0);
            let (l, r) = pairs.split_at(mid);
            blake2b_256(&branch_node(&naive_root(l, depth + 1), &naive_root(r, depth + 1)))
        }
    }
}

/// Runs the batched and the naive root on the same 1M pairs and prints their CPU times and ratio.
fn compare_with_naive() {
    let pairs = random_pairs(1_000_000, 1);
    let time = |f: &dyn Fn() -> [u8; 32]| {
        let mut best = Duration::MAX;
        let mut out = [0; 32];
        for _ in 0..3 {
            let start = ProcessTime::now();
            out = f();
            best = best.min(start.elapsed());
        }
        (best, out)
    };
    let (ours, ours_root) = time(&|| root_of_sorted(&pairs).unwrap());
    let (naive, naive_root_hash) = time(&|| naive_root(&pairs, 0));
    assert_eq!(ours_root, naive_root_hash, "the two roots differ");
    println!(
        "trie::root/entries=1000000 vs naive recursive root: {:.1} ms cpu vs {:.1} ms cpu, {:.2}x less cpu",
        ours.as_secs_f64() * 1e3,
        naive.as_secs_f64() * 1e3,
        naive.as_secs_f64() / ours.as_secs_f64()
    );
}

fn all<M: Measurement>(c: &mut Criterion<M>, suffix: &str) {
    root(c, suffix);
    build(c, suffix);
    update(c, suffix);
}

/// The CPU time of the whole process (every thread), in nanoseconds.
struct ProcessCpu;

impl Measurement for ProcessCpu {
    type Intermediate = ProcessTime;
    type Value = Duration;
    fn start(&self) -> ProcessTime {
        ProcessTime::now()
    }
    fn end(&self, start: ProcessTime) -> Duration {
        start.elapsed()
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &CpuFormatter
    }
}

struct CpuFormatter;

impl ValueFormatter for CpuFormatter {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (divisor, unit) = match typical {
            t if t >= 1e9 => (1e9, "s cpu"),
            t if t >= 1e6 => (1e6, "ms cpu"),
            t if t >= 1e3 => (1e3, "µs cpu"),
            _ => (1.0, "ns cpu"),
        };
        values.iter_mut().for_each(|v| *v /= divisor);
        unit
    }
    fn scale_throughputs(&self, _typical: f64, throughput: &Throughput, values: &mut [f64]) -> &'static str {
        let per = match throughput {
            Throughput::Elements(n) | Throughput::Bytes(n) | Throughput::BytesDecimal(n) => *n as f64,
        };
        values.iter_mut().for_each(|v| *v = per * 1e9 / *v / 1e3);
        match throughput {
            Throughput::Elements(_) => "Kelem/s cpu",
            _ => "KB/s cpu",
        }
    }
    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}

fn main() {
    if std::env::var_os("ORRERY_BENCH_NAIVE").is_some() {
        compare_with_naive();
        return;
    }
    if std::env::var_os("ORRERY_BENCH_CPU").is_some() {
        let mut c = Criterion::default().with_measurement(ProcessCpu).configure_from_args();
        all(&mut c, "_cpu");
        c.final_summary();
    } else {
        let mut c = Criterion::default().configure_from_args();
        all(&mut c, "");
        c.final_summary();
    }
}
