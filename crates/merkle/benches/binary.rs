//! Every item's trace `T(v, i, H)` of a well-balanced tree at once, as a guarantor hands each of
//! the 1,023 validators its co-path (JAMNP-S CE 137): `traces` (one pass, `O(n log n)` hashes)
//! against the reference of calling `trace` for each index (`O(n²)`), in the same run. Items are
//! 64-byte leaves, as the erasure root's are.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use orrery_crypto::blake2b_256;
use orrery_merkle::{trace, traces};

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("merkle");
    group.sample_size(10);
    for n in [6usize, 1023] {
        let items: Vec<Vec<u8>> = (0..n).map(|i| [(i as u64).to_le_bytes(); 8].concat()).collect();
        assert_eq!(traces(&items, &blake2b_256)[n / 2], trace(&items, n / 2, &blake2b_256));
        group.bench_function(format!("traces/n={n}"), |b| b.iter(|| traces(black_box(&items), &blake2b_256)));
        group.bench_function(format!("trace_each/n={n}"), |b| {
            b.iter(|| (0..n).map(|i| trace(black_box(&items), i, &blake2b_256)).collect::<Vec<_>>())
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
