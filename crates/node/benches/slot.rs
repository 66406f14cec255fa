//! One slot of six tiny-spec validator nodes in one thread, every output delivered at once: one
//! block authored, imported by all six, announced, fetched; with GRANDPA, the round's votes and
//! commits too. The reference in the same run is what the slot cannot do without: authoring and
//! importing one block (`orrery-author`'s bench measures those alone).

use std::collections::VecDeque;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use orrery_author::{author_block, genesis, slot_author, Pools};
use orrery_import::{import_block, ChainState, ImportOptions};
use orrery_keys::ValidatorKeys;
use orrery_node::{Input, Node, NodeConfig, NodeOptions, Output, PeerId};
use orrery_store::{Chain, Redb, Start};
use orrery_testkit::{genesis as trace_genesis, tiny_import_context, tiny_ring, tiny_state};
use orrery_types::ChainSpec;

const SLOT_MS: u64 = 6000;

struct Net {
    nodes: Vec<Node>,
    ids: Vec<PeerId>,
    now: u64,
}

impl Net {
    fn new(options: NodeOptions) -> Self {
        let spec = ChainSpec::tiny();
        let ctx = Arc::new(tiny_import_context());
        let keys: Vec<ValidatorKeys> = (0..6).map(ValidatorKeys::dev).collect();
        let trace = trace_genesis("fallback");
        let base = tiny_state(&trace.state).state().clone();
        let state =
            ChainState::from_state(genesis::with_validators(&spec, &tiny_ring(), base, &keys).unwrap());
        let now = u64::from(state.state().timeslot + 1) * SLOT_MS;
        let nodes = (0..6)
            .map(|i| {
                let start = Start::genesis(trace.header.clone(), state.clone());
                let db = Box::new(Redb::in_memory().unwrap());
                let chain = Chain::open(ctx.clone(), db, Some(start), u32::MAX).unwrap();
                let config = NodeConfig {
                    spec: spec.clone(),
                    keys: Some(ValidatorKeys::dev(i)),
                    slot_ms: SLOT_MS,
                    grandpa_gossip_ms: 500,
                };
                Node::with_options(config, options, chain, now).unwrap()
            })
            .collect();
        let mut net = Self { nodes, ids: keys.iter().map(|k| k.ed25519_public()).collect(), now };
        let mut queue = VecDeque::new();
        for i in 0..6 {
            for j in 0..6 {
                if i != j {
                    queue.push_back((i, Input::PeerConnected { peer: net.ids[j], builder: false }));
                }
            }
        }
        net.drain(queue);
        net
    }

    fn drain(&mut self, mut queue: VecDeque<(usize, Input)>) {
        while let Some((to, input)) = queue.pop_front() {
            let me = self.ids[to];
            for output in self.nodes[to].handle(self.now, input) {
                let (peer, input) = match output {
                    Output::Send { peer, message } => (peer, Input::Message { peer: me, message }),
                    Output::Request { peer, id, request } => (peer, Input::Request { peer: me, id, request }),
                    Output::Respond { peer, id, response } => {
                        (peer, Input::Response { peer: me, id, response: Ok(response) })
                    }
                    _ => continue,
                };
                if let Some(i) = self.ids.iter().position(|p| *p == peer) {
                    queue.push_back((i, input));
                }
            }
        }
    }

    /// Runs the next slot: every wake-up in it, in time order.
    fn slot(&mut self) {
        let end = (self.now / SLOT_MS + 1) * SLOT_MS;
        loop {
            let next = self.nodes.iter().map(Node::next_wake).min().unwrap_or(end).max(self.now);
            if next >= end {
                self.now = end;
                let queue = (0..6).map(|i| (i, Input::Tick)).collect();
                self.drain(queue);
                return;
            }
            self.now = next;
            let queue =
                (0..6).filter(|i| self.nodes[*i].next_wake() <= next).map(|i| (i, Input::Tick)).collect();
            self.drain(queue);
        }
    }
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("node");
    group.sample_size(20);
    let mut plain = Net::new(NodeOptions { tickets: false, grandpa: false, ..NodeOptions::default() });
    group.bench_function("node::slot/validators=6", |b| b.iter(|| plain.slot()));
    let mut grandpa = Net::new(NodeOptions { tickets: false, grandpa: true, ..NodeOptions::default() });
    group.bench_function("node::slot/validators=6,grandpa", |b| b.iter(|| grandpa.slot()));

    // Reference: one block authored and imported once, outside any node.
    let spec = ChainSpec::tiny();
    let ring = tiny_ring();
    let ctx = tiny_import_context();
    let keys: Vec<ValidatorKeys> = (0..6).map(ValidatorKeys::dev).collect();
    let trace = trace_genesis("fallback");
    let base = tiny_state(&trace.state).state().clone();
    let chain = ChainState::from_state(genesis::with_validators(&spec, &ring, base, &keys).unwrap());
    let slot = chain.state().timeslot + 1;
    let author =
        keys.iter().find(|k| slot_author(&spec, &ring, chain.state(), slot, k).unwrap().is_some()).unwrap();
    let parent = orrery_import::header_hash(&trace.header);
    group.bench_function("node::author_and_import_reference/validators=6", |b| {
        b.iter(|| {
            let block = author_block(&spec, &ring, &chain, parent, slot, author, &Pools::default()).unwrap();
            import_block(&ctx, &chain, &block, &ImportOptions::default()).unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
