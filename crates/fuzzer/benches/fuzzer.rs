//! Generation speed per lane (a step: authoring with `orrery-author` and Orrery's own import,
//! mutants and forks included), and the whole loop of the happy lane against Orrery's target
//! session in the same process (generation, then the target's import of the same block) for
//! reference in the same run. The safrole lane's steps include its contests' ring proofs
//! (about a second per validator and epoch on tiny), amortised over the epoch's blocks.

use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use orrery_fuzz::protocol::{Initialize, Message};
use orrery_fuzz::target::Session;
use orrery_fuzzer::{Config, Generator, Lane};
use orrery_import::formats::KeyValue;
use orrery_testkit::tiny_import_context;

fn generator(lane: Lane) -> Generator {
    Generator::new(Arc::new(tiny_import_context()), Config::lane(lane, 1)).unwrap()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("fuzzer");
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    for lane in [Lane::Happy, Lane::Mutations, Lane::Safrole] {
        let mut g = generator(lane);
        if lane == Lane::Safrole {
            group.measurement_time(Duration::from_secs(40));
        }
        group.bench_function(format!("generate/lane={}/spec=tiny", lane.name()), |b| {
            b.iter(|| g.next_step().unwrap())
        });
    }
    group.measurement_time(Duration::from_secs(10));

    let mut g = generator(Lane::Happy);
    let mut session = Session::new(Arc::new(tiny_import_context()));
    let (header, state) = g.genesis();
    let init = Initialize {
        header: header.clone(),
        keyvals: state.pairs().map(|(k, v)| KeyValue { key: *k, value: v.to_vec() }).collect(),
        ancestry: Vec::new(),
    };
    session.handle(Message::Initialize(Box::new(init))).unwrap();
    group.bench_function("loop/lane=happy/spec=tiny", |b| {
        b.iter(|| {
            let step = g.next_step().unwrap();
            session.handle(Message::ImportBlock(Box::new(step.block))).unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
