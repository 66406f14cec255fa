//! The storage engine on what block import asks of it: committing one block's batch durably, and
//! reopening a database that holds a chain. (At commit 'store: criterion bench of redb against
//! fjall' the same bench ran fjall beside it; `docs/performance/import.md` has both.)
//!
//! The batches are made from the `storage` trace of the vectors: for a step, the block record is
//! the encoded block (plus the few fields the chain adds), the diff is the rows that differ
//! between the step's pre- and post-state, and the best-block marker. Every iteration commits a
//! new block (a fresh key), synced to disk before the commit returns, as `Chain::import` does.
//! Reopening opens the engine on a database holding the genesis state, 100 block records and the
//! diffs of the last 24, then reads the three tables the chain reads back.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use orrery_codec::Encode;
use orrery_import::formats::TraceStep;
use orrery_store::{Backend, Redb, Table, Write};
use orrery_testkit::{genesis, trace_step};

/// One block's writes, keyed by `n` so that each is a new block.
fn block_batch(step: &TraceStep, n: u64) -> Vec<Write> {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&n.to_le_bytes());
    let pre: BTreeMap<_, _> = step.pre_state.keyvals.iter().map(|kv| (kv.key, &kv.value)).collect();
    let post: BTreeMap<_, _> = step.post_state.keyvals.iter().map(|kv| (kv.key, &kv.value)).collect();
    let mut diff = Vec::new();
    for (k, v) in &post {
        if pre.get(k) != Some(v) {
            diff.extend_from_slice(k);
            diff.extend_from_slice(&(Some((*v).clone())).encode());
        }
    }
    for k in pre.keys().filter(|k| !post.contains_key(*k)) {
        diff.extend_from_slice(k);
        diff.push(0);
    }
    let mut record = step.block.encode();
    record.extend_from_slice(&[0u8; 72]);
    vec![
        Write { table: Table::Blocks, key: key.to_vec(), value: Some(record) },
        Write { table: Table::Diffs, key: key.to_vec(), value: Some(diff) },
        Write { table: Table::Meta, key: b"best".to_vec(), value: Some(key.to_vec()) },
    ]
}

fn steps() -> Vec<TraceStep> {
    (1..=100).map(|n| trace_step("storage", n)).collect()
}

type Open = fn(&Path) -> Box<dyn Backend>;

const ENGINES: [(&str, Open); 1] = [("redb", |dir| Box::new(Redb::open(dir).expect("redb")))];

fn commit(c: &mut Criterion) {
    let steps = steps();
    let mean_batch: usize = steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            block_batch(s, i as u64).iter().map(|w| w.value.as_ref().map_or(0, Vec::len)).sum::<usize>()
        })
        .sum::<usize>()
        / steps.len();
    eprintln!("store::commit: {mean_batch} bytes per block batch on average (storage trace)");
    let mut group = c.benchmark_group("store::commit");
    for (name, open) in ENGINES {
        let dir = tempfile::tempdir().expect("a scratch folder");
        let db = open(dir.path());
        let mut n = 0u64;
        group.bench_function(BenchmarkId::from_parameter(format!("engine={name}")), |b| {
            b.iter(|| {
                let batch = block_batch(&steps[(n % 100) as usize], n);
                n += 1;
                db.commit(&batch).expect("a commit");
            })
        });
    }
    group.finish();
}

fn reopen(c: &mut Criterion) {
    let steps = steps();
    let genesis = genesis("storage");
    let mut group = c.benchmark_group("store::reopen");
    for (name, open) in ENGINES {
        let dir = tempfile::tempdir().expect("a scratch folder");
        {
            let db = open(dir.path());
            let base: Vec<Write> = genesis
                .state
                .keyvals
                .iter()
                .map(|kv| Write { table: Table::Base, key: kv.key.to_vec(), value: Some(kv.value.clone()) })
                .collect();
            db.commit(&base).expect("the base");
            for (i, step) in steps.iter().enumerate() {
                let mut batch = block_batch(step, i as u64);
                if i < 76 {
                    // Final blocks keep their record only.
                    batch.retain(|w| w.table != Table::Diffs);
                }
                db.commit(&batch).expect("a block");
            }
        }
        group.bench_function(BenchmarkId::from_parameter(format!("engine={name}")), |b| {
            b.iter(|| {
                let db = open(dir.path());
                let rows: usize = [Table::Meta, Table::Blocks, Table::Diffs, Table::Base]
                    .iter()
                    .map(|t| db.scan(*t).expect("a scan").len())
                    .sum();
                assert_eq!(rows, 1 + 100 + 24 + genesis.state.keyvals.len());
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));
    targets = commit, reopen
}
criterion_main!(benches);
