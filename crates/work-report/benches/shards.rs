//! What a guarantor pays to hand out a package's availability data on the full spec (1,023
//! validators, 342 data shards): erasure-coding the bundle and the exports with their paged proofs
//! and every validator's co-path (`availability_shards`), against the erasure root alone by the
//! same coding (`availability_spec`, which now calls it, so the two differ only by the result's
//! copies). A 64 KiB bundle and 64 exported segments (one page of proofs).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use orrery_types::constants::SEGMENT_SIZE;
use orrery_types::ChainSpec;
use orrery_work_report::{availability_shards, availability_spec};

fn bench(c: &mut Criterion) {
    let spec = ChainSpec::full();
    let bundle: Vec<u8> = (0..64 * 1024).map(|i| (i * 7 % 251) as u8).collect();
    let exports: Vec<Vec<u8>> = (0..64u8).map(|i| vec![i; SEGMENT_SIZE]).collect();
    let mut group = c.benchmark_group("work_report");
    group.sample_size(10);
    group.bench_function("availability_shards/spec=full,bundle=64KiB,exports=64", |b| {
        b.iter(|| availability_shards(&spec, black_box(&bundle), black_box(&exports)).unwrap())
    });
    group.bench_function("availability_spec/spec=full,bundle=64KiB,exports=64", |b| {
        b.iter(|| availability_spec(&spec, [0; 32], black_box(&bundle), black_box(&exports)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
