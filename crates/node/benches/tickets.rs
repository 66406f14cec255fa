//! The node's longest step at an epoch's start: the slot at which a validator makes its Safrole
//! tickets (JAMNP-S: phase `⌊E/30⌋ + ⌊E/60⌋`, at least 2; slot 2 of the epoch on the tiny spec).
//! The node only asks for the proofs there (`Output::MakeTickets`) and its driver makes them off
//! the node's thread. The reference in the same run is the same step with the proofs made inline
//! and handed back at once, which is what the node's thread did before the proofs left it.
//!
//! One tiny-spec validator on the dev genesis, GRANDPA on, alone (its tickets go to nobody, which
//! costs nothing); every iteration starts from a fresh node, made and dropped outside the timing.

use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use orrery_author::genesis;
use orrery_import::{ChainState, ImportContext};
use orrery_keys::ValidatorKeys;
use orrery_node::{Input, Node, NodeConfig, NodeOptions, Output};
use orrery_store::{Chain, Redb, Start};
use orrery_testkit::{genesis as trace_genesis, tiny_import_context, tiny_ring, tiny_state};
use orrery_types::{ChainSpec, Header};

const SLOT_MS: u64 = 6000;

struct Fixture {
    ctx: Arc<ImportContext>,
    header: Header,
    state: ChainState,
    /// The start of the slot at which tickets are made.
    now: u64,
}

impl Fixture {
    fn new() -> Self {
        let spec = ChainSpec::tiny();
        let keys: Vec<ValidatorKeys> = (0..6).map(ValidatorKeys::dev).collect();
        let trace = trace_genesis("fallback");
        let base = tiny_state(&trace.state).state().clone();
        let state =
            ChainState::from_state(genesis::with_validators(&spec, &tiny_ring(), base, &keys).unwrap());
        let length = spec.epoch_length;
        let due = orrery_network::policy::epoch_change_delay(length)
            + orrery_network::policy::ticket_send_delay(length);
        let first = state.state().timeslot + 1;
        let slot = (first..).find(|s| s % length == due).unwrap();
        Self {
            ctx: Arc::new(tiny_import_context()),
            header: trace.header,
            state,
            now: u64::from(slot) * SLOT_MS,
        }
    }

    fn node(&self) -> Node {
        let start = Start::genesis(self.header.clone(), self.state.clone());
        let chain =
            Chain::open(self.ctx.clone(), Box::new(Redb::in_memory().unwrap()), Some(start), u32::MAX)
                .unwrap();
        let config = NodeConfig {
            spec: ChainSpec::tiny(),
            keys: Some(ValidatorKeys::dev(0)),
            slot_ms: SLOT_MS,
            grandpa_gossip_ms: 500,
        };
        Node::with_options(config, NodeOptions::default(), chain, self.now - 1).unwrap()
    }
}

/// The step at the ticket slot; with `inline`, the proofs too, handed back at once.
fn step(node: &mut Node, now: u64, inline: bool) -> usize {
    let mut outputs = node.handle(now, Input::Tick);
    if inline {
        let works: Vec<Input> = outputs
            .iter()
            .filter_map(|o| match o {
                Output::MakeTickets(work) => Some(work.run()),
                _ => None,
            })
            .collect();
        for input in works {
            outputs.extend(node.handle(now, input));
        }
    }
    outputs.len()
}

fn bench(c: &mut Criterion) {
    let fixture = Fixture::new();
    // The step asks for tickets, and what it asks for makes them.
    let mut node = fixture.node();
    let epoch = (fixture.now / SLOT_MS) as u32 / ChainSpec::tiny().epoch_length;
    let outputs = node.handle(fixture.now, Input::Tick);
    let work = outputs
        .iter()
        .find_map(|o| match o {
            Output::MakeTickets(work) => Some(work.clone()),
            _ => None,
        })
        .expect("the ticket slot asks for tickets");
    node.handle(fixture.now, work.run());
    assert_eq!(node.pooled_tickets(epoch + 1), usize::from(ChainSpec::tiny().tickets_per_validator));

    let mut group = c.benchmark_group("node");
    group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(10));
    let now = fixture.now;
    group.bench_function("node::ticket_slot_step/tickets=driver", |b| {
        b.iter_batched(
            || fixture.node(),
            |mut node| {
                let n = step(&mut node, now, false);
                (node, n)
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function("node::ticket_slot_step/tickets=inline_reference", |b| {
        b.iter_batched(
            || fixture.node(),
            |mut node| {
                let n = step(&mut node, now, true);
                (node, n)
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
