//! Codec speed on the `block` vector: decode and encode, tiny and full.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use orrery_codec::{decode_exact, Encode};
use orrery_types::{Block, ChainSpec};

fn codec(c: &mut Criterion) {
    let root = orrery_testkit::vectors();
    for spec in [ChainSpec::tiny(), ChainSpec::full()] {
        let bytes =
            std::fs::read(root.join(format!("codec/{}/block.bin", spec.name))).expect("codec vectors");
        let block: Block = decode_exact(&bytes, spec.lengths()).expect("block decodes");
        let mut group = c.benchmark_group("codec");
        group.throughput(Throughput::Elements(1));
        group.bench_function(format!("decode/block={}", spec.name), |b| {
            b.iter(|| decode_exact::<Block>(std::hint::black_box(&bytes), spec.lengths()).unwrap())
        });
        group.bench_function(format!("encode/block={}", spec.name), |b| {
            b.iter(|| std::hint::black_box(&block).encode())
        });
        group.finish();
    }
}

criterion_group!(benches, codec);
criterion_main!(benches);
