//! Block import per trace of the vectors: the mean time to import one block, state warm (the
//! parent's state in memory, as a running node has it), checks, transition and posterior root
//! included.
//!
//! Each iteration imports the next block of the trace onto its parent's state (kept from a first
//! pass), cycling through the trace's 100 blocks, so the mean is over the whole trace.
//! `cache=cold` gives every block a fresh program cache, so decoding the services' PVM code is
//! part of every block that accumulates; `cache=warm` keeps one cache across blocks, as
//! `orrery import` and a node do. Those rows run services on the interpreter; the rows with
//! `,pvm=recompiler` (the two traces whose blocks run service code, warm) run them on the
//! recompiler, in the same run. The recompiler's compiled code lives in a process-wide cache,
//! which no row clears.

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use orrery_import::{import_block, ChainState, ImportContext, ImportOptions};
use orrery_invocation::Backend;
use orrery_testkit::{genesis, tiny_ring, tiny_state, trace_step};
use orrery_types::{Block, ChainSpec};

/// Every block of a trace, with its parent's state (from the genesis on, through our import).
fn trace(ctx: &ImportContext, name: &str) -> Vec<(ChainState, Block)> {
    let mut state = tiny_state(&genesis(name).state);
    let mut out = Vec::new();
    for n in 1..=100 {
        let step = trace_step(name, n);
        let imported =
            import_block(ctx, &state, &step.block, &ImportOptions::default()).expect("a valid block");
        assert_eq!(imported.state.root(), step.post_state.state_root, "{name}/{n}");
        out.push((state, step.block));
        state = imported.state;
    }
    out
}

fn import(c: &mut Criterion) {
    let spec = ChainSpec::tiny();
    let ring = tiny_ring();
    let warm = ImportContext::new(spec.clone(), ring.clone());
    let mut group = c.benchmark_group("import::block");
    let mut runs: Vec<(&str, &str, Backend)> = Vec::new();
    for name in ["fallback", "safrole", "storage", "preimages"] {
        runs.push((name, "cold", Backend::Interpreter));
        runs.push((name, "warm", Backend::Interpreter));
        if Backend::Recompiler.is_supported() && matches!(name, "storage" | "preimages") {
            runs.push((name, "warm", Backend::Recompiler));
        }
    }
    let mut traces = std::collections::HashMap::new();
    for (name, cache, backend) in runs {
        Backend::set_current(backend).expect("supported");
        let blocks = traces.entry(name).or_insert_with(|| trace(&warm, name));
        let suffix = if backend == Backend::Recompiler { ",pvm=recompiler" } else { "" };
        {
            let mut n = 0usize;
            group.bench_function(
                BenchmarkId::from_parameter(format!("trace={name},cache={cache}{suffix}")),
                |b| {
                    // Timed on a pool of its own, as `orrery import`, the fuzz target and a node
                    // import blocks (the pool's start is outside the timing).
                    b.iter_custom(|iters| {
                        orrery_import::on_import_pool("bench", || {
                            let start = Instant::now();
                            for _ in 0..iters {
                                let (state, block) = &blocks[n % blocks.len()];
                                n += 1;
                                let imported = if cache == "cold" {
                                    let ctx = ImportContext::new(spec.clone(), ring.clone());
                                    import_block(&ctx, state, block, &ImportOptions::default())
                                } else {
                                    import_block(&warm, state, block, &ImportOptions::default())
                                };
                                drop(imported.expect("a valid block"));
                            }
                            start.elapsed()
                        })
                    })
                },
            );
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    // 100 blocks per trace: enough samples that every block is imported several times.
    config = Criterion::default().sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(6));
    targets = import
}
criterion_main!(benches);
