//! Accumulation throughput on the `stf/accumulate` vectors: each case is the whole sub-transition
//! (queue editing, Δ+ with every PVM invocation and host call, merging, statistics) on the case's
//! pre-state, loaded once; every case is checked against its expected output and post-state before
//! timing.
//!
//! - `accumulate::vectors/spec=…`: the transition of all 30 cases of a spec, one after another,
//!   with one program cache shared across them as a node shares it across blocks; copying each
//!   prior state is set-up, not timed. Throughput is cases per second.
//! - `accumulate::check/spec=…`: the same cases as the conformance runner checks them, from the
//!   vector's shapes to the comparison of encoded post-states.
//! - `accumulate::case/name=…`: single cases that store the most: the test service accumulating 9
//!   work items (9 storage writes), and the bootstrap services' transfer-and-eject case.
//! - `accumulate::case_cold/name=…`: the same with a fresh program cache each time, so every
//!   service's code (35 KB and 137 KB blobs) is decoded again.

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use orrery_conformance::{workspace_vectors, AccumulateCase};
use orrery_invocation::ProgramCache;
use orrery_types::ChainSpec;

fn cases(spec: &ChainSpec) -> Vec<(String, AccumulateCase)> {
    let dir = workspace_vectors().join("stf/accumulate").join(spec.name);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "bin"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|path| {
            let case = AccumulateCase::decode(spec, &std::fs::read(path).unwrap()).unwrap();
            assert!(case.check(&ProgramCache::new()), "{} must pass before it is timed", path.display());
            (stem(path), case)
        })
        .collect()
}

fn stem(path: &Path) -> String {
    path.file_stem().unwrap().to_string_lossy().into_owned()
}

fn accumulate(c: &mut Criterion) {
    for spec in [ChainSpec::tiny(), ChainSpec::full()] {
        let cases = cases(&spec);
        let mut group = c.benchmark_group("accumulate::vectors");
        group.throughput(Throughput::Elements(cases.len() as u64));
        let cache = ProgramCache::new();
        group.bench_function(format!("spec={}", spec.name), |b| {
            b.iter_batched(
                || cases.iter().map(|(_, case)| case.prior()).collect::<Vec<_>>(),
                |priors| {
                    for ((_, case), prior) in cases.iter().zip(priors) {
                        black_box(case.transition(prior, &cache));
                    }
                },
                BatchSize::SmallInput,
            )
        });
        group.finish();
        let mut group = c.benchmark_group("accumulate::check");
        group.throughput(Throughput::Elements(cases.len() as u64));
        group.bench_function(format!("spec={}", spec.name), |b| {
            b.iter(|| {
                for (_, case) in &cases {
                    black_box(case.check(&cache));
                }
            })
        });
        group.finish();
    }

    let cases = cases(&ChainSpec::tiny());
    for name in ["accumulate_ready_queued_reports-1", "transfer_for_ejected_service-1"] {
        let case = &cases.iter().find(|(n, _)| n == name).expect("case").1;
        let mut group = c.benchmark_group("accumulate::case");
        group.throughput(Throughput::Elements(1));
        let cache = ProgramCache::new();
        group.bench_function(format!("name={name}"), |b| {
            b.iter_batched(
                || case.prior(),
                |prior| black_box(case.transition(prior, &cache)),
                BatchSize::SmallInput,
            )
        });
        group.finish();
        let mut group = c.benchmark_group("accumulate::case_cold");
        group.throughput(Throughput::Elements(1));
        group.bench_function(format!("name={name}"), |b| {
            b.iter_batched(
                || (case.prior(), ProgramCache::new()),
                |(prior, cache)| black_box(case.transition(prior, &cache)),
                BatchSize::SmallInput,
            )
        });
        group.finish();
    }
}

criterion_group!(benches, accumulate);
criterion_main!(benches);
