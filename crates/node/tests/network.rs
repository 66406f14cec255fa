//! Nodes talking to each other through a minimal in-test driver: every output is delivered at once,
//! in order, with no loss (the seeded simulator with latency, loss, partitions and crashes is
//! `orrery-sim`'s). Each node has its own in-memory redb chain on the tiny spec; the genesis is the
//! trace genesis with the six dev validators' keys (JIP-5) in every validator set; all chains share
//! one import context (one ring context per process, as `orrery-store` expects).

use std::collections::VecDeque;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use orrery_author::{author_block, genesis, slot_author, Pools};
use orrery_import::{header_hash, ChainState, ImportContext};
use orrery_keys::ValidatorKeys;
use orrery_network::message::{Announcement, BlockRef};
use orrery_node::{
    Event, Failure, Input, Message, Node, NodeConfig, NodeOptions, Output, PeerId, Request, Response,
};
use orrery_store::{Chain, Redb, Start};
use orrery_testkit::{genesis as trace_genesis, tiny_import_context, tiny_ring, tiny_state};
use orrery_types::{Block, ChainSpec, Header};

const SLOT_MS: u64 = 6000;

fn context() -> Arc<ImportContext> {
    static CTX: OnceLock<Arc<ImportContext>> = OnceLock::new();
    CTX.get_or_init(|| Arc::new(tiny_import_context())).clone()
}

fn keys(i: u32) -> ValidatorKeys {
    ValidatorKeys::dev(i)
}

fn dev_genesis() -> (Header, ChainState) {
    static GENESIS: OnceLock<(Header, ChainState)> = OnceLock::new();
    GENESIS
        .get_or_init(|| {
            let spec = ChainSpec::tiny();
            let trace = trace_genesis("fallback");
            let base = tiny_state(&trace.state).state().clone();
            let all: Vec<ValidatorKeys> = (0..6).map(keys).collect();
            let state = genesis::with_validators(&spec, &tiny_ring(), base, &all).unwrap();
            (trace.header, ChainState::from_state(state))
        })
        .clone()
}

fn chain() -> Chain {
    let (header, state) = dev_genesis();
    Chain::open(
        context(),
        Box::new(Redb::in_memory().unwrap()),
        Some(Start::genesis(header, state)),
        u32::MAX,
    )
    .unwrap()
}

fn genesis_slot() -> u32 {
    dev_genesis().1.state().timeslot
}

fn node(i: u32, options: NodeOptions, now: u64) -> Node {
    let config =
        NodeConfig { spec: ChainSpec::tiny(), keys: Some(keys(i)), slot_ms: SLOT_MS, grandpa_gossip_ms: 500 };
    Node::with_options(config, options, chain(), now).unwrap()
}

fn id(i: u32) -> PeerId {
    keys(i).ed25519_public()
}

/// Nodes and the messages between them.
struct Net {
    nodes: Vec<Node>,
    ids: Vec<PeerId>,
    online: Vec<bool>,
    now: u64,
    queue: VecDeque<(usize, Input)>,
    events: Vec<(usize, Event)>,
    disconnects: Vec<(usize, PeerId, String)>,
}

impl Net {
    fn new(count: u32, options: NodeOptions, now: u64) -> Self {
        Self {
            nodes: (0..count).map(|i| node(i, options, now)).collect(),
            ids: (0..count).map(id).collect(),
            online: vec![false; count as usize],
            now,
            queue: VecDeque::new(),
            events: Vec::new(),
            disconnects: Vec::new(),
        }
    }

    fn index(&self, peer: &PeerId) -> Option<usize> {
        self.ids.iter().position(|p| p == peer)
    }

    /// Brings node `i` online, connected to every other online node.
    fn connect(&mut self, i: usize) {
        self.online[i] = true;
        for j in 0..self.nodes.len() {
            if j != i && self.online[j] {
                self.queue.push_back((i, Input::PeerConnected { peer: self.ids[j], builder: false }));
                self.queue.push_back((j, Input::PeerConnected { peer: self.ids[i], builder: false }));
            }
        }
        self.drain();
    }

    fn deliver(&mut self, from: usize, outputs: Vec<Output>) {
        let me = self.ids[from];
        for output in outputs {
            match output {
                Output::Send { peer, message } => {
                    if let Some(to) = self.index(&peer) {
                        self.queue.push_back((to, Input::Message { peer: me, message }));
                    }
                }
                Output::Request { peer, id, request } => {
                    if let Some(to) = self.index(&peer) {
                        self.queue.push_back((to, Input::Request { peer: me, id, request }));
                    }
                }
                Output::Respond { peer, id, response } => {
                    if let Some(to) = self.index(&peer) {
                        self.queue.push_back((to, Input::Response { peer: me, id, response: Ok(response) }));
                    }
                }
                Output::Refuse { peer, id } => {
                    if let Some(to) = self.index(&peer) {
                        let response = Err(orrery_node::RequestFailure::Failed);
                        self.queue.push_back((to, Input::Response { peer: me, id, response }));
                    }
                }
                Output::Disconnect { peer, reason } => {
                    self.disconnects.push((from, peer, reason));
                    if let Some(to) = self.index(&peer) {
                        self.queue.push_back((to, Input::PeerDisconnected { peer: me }));
                    }
                }
                Output::WantPeers(_) => {}
                // The proofs, at once: what the simulator does.
                Output::MakeTickets(work) => self.queue.push_back((from, work.run())),
                Output::Event(event) => self.events.push((from, event)),
            }
        }
    }

    fn drain(&mut self) {
        let mut steps = 0;
        while let Some((to, input)) = self.queue.pop_front() {
            steps += 1;
            assert!(steps < 1_000_000, "the message exchange does not settle");
            if !self.online[to] {
                continue;
            }
            let outputs = self.nodes[to].handle(self.now, input);
            self.deliver(to, outputs);
        }
    }

    /// Runs to time `until`, waking each node when it asks.
    fn run_until(&mut self, until: u64) {
        loop {
            let next = (0..self.nodes.len())
                .filter(|i| self.online[*i])
                .map(|i| self.nodes[i].next_wake())
                .min()
                .unwrap_or(until)
                .max(self.now);
            if next > until {
                self.now = until;
                return;
            }
            self.now = next;
            for i in 0..self.nodes.len() {
                if self.online[i] && self.nodes[i].next_wake() <= self.now {
                    let outputs = self.nodes[i].handle(self.now, Input::Tick);
                    self.deliver(i, outputs);
                }
            }
            self.drain();
        }
    }

    fn best(&self, i: usize) -> BlockRef {
        self.nodes[i].status().best
    }
}

fn start_time() -> u64 {
    u64::from(genesis_slot() + 1) * SLOT_MS
}

fn quiet() -> NodeOptions {
    NodeOptions { tickets: false, grandpa: false, ..NodeOptions::default() }
}

#[test]
fn six_validators_author_every_slot_and_agree() {
    let start = start_time();
    let mut net = Net::new(6, quiet(), start);
    for i in 0..6 {
        net.connect(i);
    }
    let slots = 14u64;
    let timer = Instant::now();
    net.run_until(start + slots * SLOT_MS - 1);
    let per_slot = timer.elapsed() / slots as u32;
    eprintln!("6 nodes: {per_slot:?} per slot (one block authored, six imports, their messages)");

    // One block per slot, each authored once and imported by all six.
    let authored: Vec<u32> = net
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Authored { slot, .. } => Some(*slot),
            _ => None,
        })
        .collect();
    let first = genesis_slot() + 1;
    assert_eq!(authored, (first..first + slots as u32).collect::<Vec<_>>());
    let best = net.best(0);
    assert_eq!(best.slot, first + slots as u32 - 1);
    for i in 1..6 {
        assert_eq!(net.best(i), best, "node {i}");
    }
    assert!(!net
        .events
        .iter()
        .any(|(_, e)| matches!(e, Event::Rejected { .. } | Event::Equivocation { .. })));
    assert!(net.disconnects.is_empty());
}

#[test]
fn a_late_node_syncs_by_block_requests_and_follows_finality() {
    let start = start_time();
    let options = NodeOptions { tickets: false, grandpa: true, ..NodeOptions::default() };
    let mut net = Net::new(6, options, start);
    for i in 0..5 {
        net.connect(i);
    }
    // More slots than one CE 128 request carries (64), across several epochs (voter sets).
    net.run_until(start + 90 * SLOT_MS - 1);
    let before = net.best(0);
    let final_before = net.nodes[0].status().finalized;
    // Validator 5's slots had no block; the five others' did, and they finalize without it.
    assert!(before.slot > genesis_slot() + 60, "{before:?}");
    assert!(final_before.slot + 3 >= before.slot, "{final_before:?} {before:?}");
    assert_eq!(net.best(5).slot, genesis_slot());

    let timer = Instant::now();
    net.connect(5);
    eprintln!("late node: {} blocks synced in {:?}", before.slot, timer.elapsed());
    // The handshake alone brings it up to date (ascending requests from the genesis, 64 a time).
    assert_eq!(net.best(5), before);
    net.run_until(start + 96 * SLOT_MS - 1);
    let best = net.best(0);
    assert!(best.slot >= before.slot + 4);
    for i in 1..6 {
        assert_eq!(net.best(i), best, "node {i}");
    }
    // Node 5 follows finality (a newer voter set's commits, checked against that set's keys).
    let finalized = net.nodes[0].status().finalized;
    assert!(finalized.slot > final_before.slot);
    assert_eq!(net.nodes[5].status().finalized, finalized);
    // And it authors its slots on the common chain (the fallback keys give it one slot in six on
    // average: within two epochs surely).
    let authored_by_5 =
        |net: &Net| net.events.iter().any(|(i, e)| *i == 5 && matches!(e, Event::Authored { .. }));
    let mut t = start + 96 * SLOT_MS;
    while !authored_by_5(&net) && t < start + 120 * SLOT_MS {
        t += SLOT_MS;
        net.run_until(t - 1);
    }
    assert!(authored_by_5(&net));
    let best = net.best(0);
    for i in 1..6 {
        assert_eq!(net.best(i), best, "node {i}");
    }
    assert!(net.disconnects.is_empty(), "{:?}", net.disconnects);
}

/// A peer that is not a node: the test speaks for it.
fn stranger() -> PeerId {
    keys(100).ed25519_public()
}

#[test]
fn a_peer_sending_garbage_is_counted_and_disconnected() {
    let start = start_time();
    let mut n = node(0, quiet(), start);
    let bad = stranger();
    let out = n.handle(start, Input::PeerConnected { peer: bad, builder: false });
    assert!(matches!(&out[..], [Output::Send { message: Message::Handshake(_), .. }, ..]));

    // An invalid block: a real one (validator 1 seals the slot) with its seal broken.
    let (_, genesis_state) = dev_genesis();
    let spec = ChainSpec::tiny();
    let ring = tiny_ring();
    let slot = genesis_slot() + 1;
    let author =
        (0..6).find(|i| slot_author(&spec, &ring, genesis_state.state(), slot, &keys(*i)).unwrap().is_some());
    let author = author.expect("an author for the slot");
    let parent = n.chain().genesis();
    let mut block =
        author_block(&spec, &ring, &genesis_state, parent, slot, &keys(author), &Pools::default()).unwrap();
    block.header.seal[0] ^= 1;
    let hash = header_hash(&block.header);
    let finalized = n.status().finalized;
    let announcement = Announcement { header: block.header.clone(), finalized };
    let out = n.handle(start, Input::Message { peer: bad, message: Message::Announcement(announcement) });
    let Some((rid, request)) = out.iter().find_map(|o| match o {
        Output::Request { peer, id, request } if *peer == bad => Some((*id, request.clone())),
        _ => None,
    }) else {
        panic!("the unknown block is requested: {out:?}")
    };
    let Request::Blocks(request) = request else { panic!("a block request") };
    assert_eq!(request.hash, hash);
    let sent = block.clone();
    let out =
        n.handle(start, Input::Response { peer: bad, id: rid, response: Ok(Response::Blocks(vec![block])) });
    // A bad seal is a verification failure (JIP-3 44, not 46), carrying the block for its outline.
    assert!(
        out.iter().any(
            |o| matches!(o, Output::Event(Event::Rejected { hash: h, failure: Failure::Verification(b), .. })
        if *h == hash && **b == sent)
        ),
        "{out:?}"
    );
    assert_eq!(n.peer_score(&bad), Some(25));
    assert_eq!(n.status().best.slot, genesis_slot());

    // An answer to nothing asked, then undecodable bytes twice: the fourth strike.
    let out = n.handle(start, Input::Response { peer: bad, id: 999, response: Ok(Response::Blocks(vec![])) });
    assert!(out.iter().all(|o| !matches!(o, Output::Disconnect { .. })));
    n.handle(start, Input::Misbehaved { peer: bad, what: "undecodable".into() });
    n.handle(start, Input::Misbehaved { peer: bad, what: "oversized frame".into() });
    assert_eq!(n.peer_score(&bad), Some(75));
    let out = n.handle(start, Input::Misbehaved { peer: bad, what: "unknown stream kind".into() });
    assert!(out.iter().any(|o| matches!(o, Output::Disconnect { peer, .. } if *peer == bad)));
    assert_eq!(n.status().peers, 0);
    // Refused when it comes back.
    let out = n.handle(start, Input::PeerConnected { peer: bad, builder: false });
    assert!(out.iter().any(|o| matches!(o, Output::Disconnect { peer, .. } if *peer == bad)));
}

/// Feeds `block` to `n` as `peer` would: announced, requested, delivered.
fn feed(n: &mut Node, now: u64, peer: PeerId, block: Block) -> Vec<Output> {
    let finalized = n.status().finalized;
    let announcement = Announcement { header: block.header.clone(), finalized };
    let mut out = n.handle(now, Input::Message { peer, message: Message::Announcement(announcement) });
    let requests: Vec<u64> = out
        .iter()
        .filter_map(|o| match o {
            Output::Request { peer: p, id, .. } if *p == peer => Some(*id),
            _ => None,
        })
        .collect();
    for rid in requests {
        let response = Ok(Response::Blocks(vec![block.clone()]));
        out.extend(n.handle(now, Input::Response { peer, id: rid, response }));
    }
    out
}

#[test]
fn an_equivocation_is_detected_and_the_best_chain_avoids_it() {
    let start = start_time();
    // Node 0 alone authors its slots; the stranger brings two blocks for one slot by one author.
    let mut n = node(0, quiet(), start);
    let peer = stranger();
    n.handle(start, Input::PeerConnected { peer, builder: false });
    let (_, g) = dev_genesis();
    let spec = ChainSpec::tiny();
    let ring = tiny_ring();
    let genesis = n.chain().genesis();
    // Two slots whose sealer is not validator 0: one block by its author on the genesis, and
    // a second one at the later slot on the first.
    let s1 = genesis_slot() + 1;
    let a1 = (1..6).find(|i| slot_author(&spec, &ring, g.state(), s1, &keys(*i)).unwrap().is_some());
    let Some(a1) = a1 else { panic!("validator 0 seals slot {s1}; pick other slots") };
    let b1 = author_block(&spec, &ring, &g, genesis, s1, &keys(a1), &Pools::default()).unwrap();
    let s2 = s1 + 1;
    let now = u64::from(s2) * SLOT_MS;
    let out = feed(&mut n, now, peer, b1.clone());
    assert!(out.iter().any(|o| matches!(o, Output::Event(Event::Imported { best: true, .. }))), "{out:?}");
    let b1_hash = header_hash(&b1.header);
    let s1_state = n.chain().state(&b1_hash).unwrap().clone();
    let a2 = (1..6).find(|i| slot_author(&spec, &ring, s1_state.state(), s2, &keys(*i)).unwrap().is_some());
    let a2 = a2.expect("an author for the second slot other than validator 0");
    let on_b1 = author_block(&spec, &ring, &s1_state, b1_hash, s2, &keys(a2), &Pools::default()).unwrap();
    // The same author and slot on the genesis: a different, equally valid block.
    let on_genesis = author_block(&spec, &ring, &g, genesis, s2, &keys(a2), &Pools::default());
    let Ok(on_genesis) = on_genesis else {
        panic!("validator {a2} does not seal slot {s2} on the genesis too")
    };
    feed(&mut n, now, peer, on_b1.clone());
    assert_eq!(n.status().best.hash, header_hash(&on_b1.header));
    let out = feed(&mut n, now, peer, on_genesis);
    assert!(
        out.iter().any(|o| matches!(o, Output::Event(Event::Equivocation { slot, author }) if *slot == s2 && *author == a2 as u16)),
        "{out:?}"
    );
    // Both blocks of the equivocation are out of the best chain: back to b1.
    assert_eq!(n.status().best.hash, b1_hash);
}

#[test]
fn tickets_flow_and_later_epochs_are_ticket_sealed() {
    let start = start_time();
    let options = NodeOptions { tickets: true, grandpa: false, ..NodeOptions::default() };
    let mut net = Net::new(6, options, start);
    for i in 0..6 {
        net.connect(i);
    }
    let spec = ChainSpec::tiny();
    let e = u64::from(spec.epoch_length);
    // Into the second slot of the next epoch: the contest of this one (tickets made at its phase
    // 2, one ring prover and N proofs per validator, about 1.5 s each) fills the accumulator, and
    // the next epoch is sealed by its tickets. Stopping there spares a second round of tickets.
    let first = u64::from(genesis_slot() + 1);
    let end = ((first / e) + 1) * e + 2;
    let timer = Instant::now();
    net.run_until(end * SLOT_MS - 1);
    eprintln!("tickets on: {:?} for {} slots", timer.elapsed(), end - first);
    let best = net.best(0);
    for i in 1..6 {
        assert_eq!(net.best(i), best, "node {i}");
    }
    assert!(net.nodes[0].best_ticket_sealed() > 0, "no ticket-sealed block");
    assert!(!net.events.iter().any(|(_, e)| matches!(e, Event::Rejected { .. })), "{:?}", net.events);
    // Every validator's N tickets reached every pool.
    let next_epoch = (end / e) as u32;
    for n in &net.nodes {
        assert_eq!(n.pooled_tickets(next_epoch), 6 * usize::from(spec.tickets_per_validator));
    }
}

/// The ticket proofs leave the node's step: at the ticket slot the node asks for them
/// (`Output::MakeTickets`) and pools nothing; what the driver hands back is pooled when it answers
/// that request in time, and dropped when it answers nothing or comes after the contest closed.
#[test]
fn tickets_are_made_by_the_driver_and_pooled_only_in_time() {
    let spec = ChainSpec::tiny();
    let options = NodeOptions { tickets: true, grandpa: false, ..NodeOptions::default() };
    // Tiny spec: tickets are made at phase max(⌊12/30⌋, 1) + max(⌊12/60⌋, 1) = 2 of an epoch.
    let slot = (genesis_slot() + 1..).find(|s| s % spec.epoch_length == 2).unwrap();
    let epoch = slot / spec.epoch_length;
    let now = u64::from(slot) * SLOT_MS;
    let asks = |out: &[Output]| -> Vec<orrery_node::TicketWork> {
        out.iter()
            .filter_map(|o| match o {
                Output::MakeTickets(work) => Some(work.clone()),
                _ => None,
            })
            .collect()
    };

    let mut n = node(0, options, now - SLOT_MS);
    assert!(asks(&n.handle(now - SLOT_MS, Input::Tick)).is_empty(), "not before phase 2");
    let works = asks(&n.handle(now, Input::Tick));
    assert_eq!(works.len(), 1);
    assert_eq!(works[0].epoch, epoch);
    assert_eq!(n.pooled_tickets(epoch + 1), 0, "the step makes no proofs");
    // Once per epoch.
    assert!(asks(&n.handle(now + SLOT_MS, Input::Tick)).is_empty());

    let made = works[0].run();
    let Input::TicketsMade { epoch: made_epoch, tickets: Ok(tickets) } = &made else { panic!("{made:?}") };
    assert_eq!((*made_epoch, tickets.len()), (epoch, usize::from(spec.tickets_per_validator)));
    // An answer for another contest is not ours to pool.
    let stray = Input::TicketsMade { epoch: epoch + 1, tickets: Ok(tickets.clone()) };
    n.handle(now + SLOT_MS, stray);
    assert_eq!(n.pooled_tickets(epoch + 1), 0);
    n.handle(now + SLOT_MS, made.clone());
    assert_eq!(n.pooled_tickets(epoch + 1), usize::from(spec.tickets_per_validator));

    // The same answer to a node whose contest has closed (phase Y = 10) in the meantime.
    let mut late = node(0, options, now - SLOT_MS);
    assert_eq!(asks(&late.handle(now, Input::Tick)).len(), 1);
    let closed = u64::from(epoch * spec.epoch_length + spec.ticket_submission_end) * SLOT_MS;
    late.handle(closed, made);
    assert_eq!(late.pooled_tickets(epoch + 1), 0);
}

#[test]
fn grandpa_finalizes_behind_the_head_and_all_agree() {
    let start = start_time();
    let options = NodeOptions { tickets: false, grandpa: true, ..NodeOptions::default() };
    let mut net = Net::new(6, options, start);
    for i in 0..6 {
        net.connect(i);
    }
    let slots = 14u64;
    let timer = Instant::now();
    net.run_until(start + slots * SLOT_MS - 1);
    let per_slot = timer.elapsed() / slots as u32;
    eprintln!("6 nodes with GRANDPA: {per_slot:?} per slot");
    let head = net.best(0);
    let finalized = net.nodes[0].status().finalized;
    eprintln!("head {} finalized {}", head.slot, finalized.slot);
    assert!(finalized.slot + 3 >= head.slot, "finality trails: head {} final {}", head.slot, finalized.slot);
    for (i, n) in net.nodes.iter().enumerate() {
        let status = n.status();
        assert_eq!(status.best, head, "node {i}");
        assert!(status.finalized.slot + 1 >= finalized.slot, "node {i}");
        // The store finalized too: its final block is the node's.
        assert_eq!(n.chain().finalized(), status.finalized.hash, "node {i}");
    }
    // The finalized block's state root is the same everywhere.
    let root = net.nodes[0].chain().state_root(&finalized.hash).unwrap();
    for n in &net.nodes[1..] {
        if n.status().finalized == finalized {
            assert_eq!(n.chain().state_root(&finalized.hash).unwrap(), root);
        }
    }
    assert!(net.events.iter().any(|(_, e)| matches!(e, Event::Finalized { .. })));
}

#[test]
fn ce129_serves_the_range_with_boundary_nodes_that_hash_to_the_state_root() {
    use orrery_network::message::StateRequest;
    let start = start_time();
    let mut n = node(0, quiet(), start);
    let peer = stranger();
    n.handle(start, Input::PeerConnected { peer, builder: false });
    let genesis = n.chain().genesis();
    let state = dev_genesis().1;
    let ask = |n: &mut Node, max_size| {
        let request =
            Request::State(StateRequest { hash: genesis, start: [0; 31], end: [0xff; 31], max_size });
        let out = n.handle(start, Input::Request { peer, id: 7, request });
        match &out[..] {
            [Output::Respond { id: 7, response: Response::State { boundary, pairs }, .. }] => {
                (boundary.clone(), pairs.clone())
            }
            other => panic!("{other:?}"),
        }
    };
    // The whole state: every pair, and the root node first.
    let (boundary, pairs) = ask(&mut n, u32::MAX);
    assert_eq!(pairs.len(), state.len());
    assert!(pairs.iter().zip(state.pairs()).all(|(p, (k, v))| p.key == *k && p.value == v));
    assert_eq!(orrery_crypto::blake2b_256(&boundary[0]), state.root());
    // A size cap of one byte: still one pair (the spec's exception), and the path to it.
    let (boundary, pairs) = ask(&mut n, 1);
    assert_eq!(pairs.len(), 1);
    assert_eq!(orrery_crypto::blake2b_256(&boundary[0]), state.root());
    let last = boundary.last().unwrap();
    // The path ends at the first key's leaf: its key sits in bytes 1..32 (GP eq. D.4).
    assert_eq!(&last[1..32], &pairs[0].key[..]);
    // An unknown block: nothing.
    let request =
        Request::State(StateRequest { hash: [9; 32], start: [0; 31], end: [0xff; 31], max_size: 100 });
    let out = n.handle(start, Input::Request { peer, id: 8, request });
    assert!(
        matches!(&out[..], [Output::Respond { response: Response::State { boundary, pairs }, .. }] if boundary.is_empty() && pairs.is_empty())
    );
}

/// Every output of every node, in order, as text: what one run did.
fn transcript(slots: u64) -> (Vec<String>, Vec<BlockRef>) {
    let start = start_time();
    let mut net = Net::new(6, NodeOptions { tickets: false, grandpa: true, ..NodeOptions::default() }, start);
    for i in 0..6 {
        net.connect(i);
    }
    net.run_until(start + slots * SLOT_MS - 1);
    let log = net.events.iter().map(|(i, e)| format!("{i} {e:?}")).collect();
    (log, (0..6).map(|i| net.nodes[i].status().finalized).collect())
}

#[test]
fn the_same_inputs_give_the_same_run() {
    let (a, fa) = transcript(6);
    let (b, fb) = transcript(6);
    assert!(a.len() > 6 * 6);
    assert_eq!(a, b);
    assert_eq!(fa, fb);
}

#[test]
fn a_restarted_node_rebuilds_its_tree_from_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let (header, state) = dev_genesis();
    let open = |start: Option<Start>| {
        Chain::open(context(), Box::new(Redb::open(dir.path()).unwrap()), start, u32::MAX).unwrap()
    };
    let config = |i: u32| NodeConfig {
        spec: ChainSpec::tiny(),
        keys: Some(keys(i)),
        slot_ms: SLOT_MS,
        grandpa_gossip_ms: 500,
    };
    let t0 = start_time();
    // Node 0 with the others' blocks fed by a small network run, then its own store reopened.
    let mut net = Net::new(6, quiet(), t0);
    net.nodes[0] =
        Node::with_options(config(0), quiet(), open(Some(Start::genesis(header, state))), t0).unwrap();
    for i in 0..6 {
        net.connect(i);
    }
    net.run_until(t0 + 8 * SLOT_MS - 1);
    let before = net.nodes[0].status();
    assert!(before.best.slot > genesis_slot() + 5);
    let node = net.nodes.swap_remove(0);
    drop(node);
    let restarted = Node::with_options(config(0), quiet(), open(None), t0 + 8 * SLOT_MS).unwrap();
    assert_eq!(restarted.status().best, before.best);
    assert_eq!(restarted.status().finalized, before.finalized);
}

#[test]
fn the_validators_endpoints_from_their_metadata_are_the_wanted_peers() {
    use orrery_network::policy::metadata_for_endpoint;
    let (header, state) = dev_genesis();
    let mut s = state.state().clone();
    let addr = |i: usize| std::net::SocketAddr::from(([127, 0, 0, 1], 40000 + i as u16));
    for set in [&mut s.previous_validators, &mut s.active_validators, &mut s.safrole.pending_validators] {
        for (i, v) in set.0.iter_mut().enumerate() {
            v.metadata = metadata_for_endpoint(addr(i));
        }
    }
    let chain = Chain::open(
        context(),
        Box::new(Redb::in_memory().unwrap()),
        Some(Start::genesis(header, ChainState::from_state(s))),
        u32::MAX,
    )
    .unwrap();
    let config =
        NodeConfig { spec: ChainSpec::tiny(), keys: Some(keys(2)), slot_ms: SLOT_MS, grandpa_gossip_ms: 500 };
    let mut n = Node::with_options(config, quiet(), chain, start_time()).unwrap();
    let out = n.handle(start_time(), Input::Tick);
    let wanted: Vec<_> = out
        .iter()
        .find_map(|o| match o {
            Output::WantPeers(w) => Some(w.clone()),
            _ => None,
        })
        .expect("the wanted peers");
    // Everyone but ourselves (validator 2), by key.
    let mut expected: Vec<_> = [0, 1, 3, 4, 5].iter().map(|&i| (id(i as u32), addr(i))).collect();
    expected.sort();
    assert_eq!(wanted, expected);
    // Asked once: the set has not changed since.
    let out = n.handle(start_time() + 1, Input::Tick);
    assert!(!out.iter().any(|o| matches!(o, Output::WantPeers(_))));
}

#[test]
fn a_flood_of_unknown_announcements_is_counted() {
    let start = start_time();
    let mut n = node(0, quiet(), start);
    let bad = stranger();
    n.handle(start, Input::PeerConnected { peer: bad, builder: false });
    let (_, g) = dev_genesis();
    let spec = ChainSpec::tiny();
    let ring = tiny_ring();
    let slot = genesis_slot() + 1;
    let author =
        (0..6).find(|i| slot_author(&spec, &ring, g.state(), slot, &keys(*i)).unwrap().is_some()).unwrap();
    let block =
        author_block(&spec, &ring, &g, n.chain().genesis(), slot, &keys(author), &Pools::default()).unwrap();
    let finalized = n.status().finalized;
    let mut disconnected = false;
    // Headers nobody made: the first 8 in a slot are let through, each further one costs 5 points.
    for k in 0..40u8 {
        let mut header = block.header.clone();
        header.extrinsic_hash[0] = k;
        let announcement = Announcement { header, finalized };
        let out = n.handle(start, Input::Message { peer: bad, message: Message::Announcement(announcement) });
        if out.iter().any(|o| matches!(o, Output::Disconnect { peer, .. } if *peer == bad)) {
            disconnected = true;
            // 8 free, then 20 at 5 points reach the limit of 100.
            assert_eq!(k, 27);
            break;
        }
    }
    assert!(disconnected);
}

/// The slots the author of the first slot, alone, authors in 12 slots; with `hostile`, a peer
/// announces a block nobody made at every slot and never answers the request.
fn authored_alone(hostile: bool) -> Vec<u32> {
    let start = start_time();
    let (_, g) = dev_genesis();
    let spec = ChainSpec::tiny();
    let ring = tiny_ring();
    let slot = genesis_slot() + 1;
    let author =
        (0..6).find(|i| slot_author(&spec, &ring, g.state(), slot, &keys(*i)).unwrap().is_some()).unwrap();
    let mut n = node(author, quiet(), start);
    let genesis = n.chain().genesis();
    let fake = author_block(&spec, &ring, &g, genesis, slot, &keys(author), &Pools::default()).unwrap();
    let bad = stranger();
    let mut outputs = Vec::new();
    for k in 0..12u32 {
        let now = start + u64::from(k) * SLOT_MS;
        if k == 0 {
            outputs.extend(n.handle(now, Input::PeerConnected { peer: bad, builder: false }));
        }
        if hostile {
            let mut header = fake.header.clone();
            header.extrinsic_hash[0] = k as u8;
            header.slot = genesis_slot() + 1 + k;
            let announcement = Announcement { header, finalized: n.status().finalized };
            let message = Message::Announcement(announcement);
            outputs.extend(n.handle(now, Input::Message { peer: bad, message }));
        }
        outputs.extend(n.handle(now, Input::Tick));
    }
    outputs
        .into_iter()
        .filter_map(|o| match o {
            Output::Event(Event::Authored { slot, .. }) => Some(slot),
            _ => None,
        })
        .collect()
}

#[test]
fn a_peer_announcing_blocks_it_never_serves_does_not_stop_authoring() {
    let quiet_run = authored_alone(false);
    assert!(quiet_run.len() >= 2, "{quiet_run:?}");
    assert_eq!(authored_alone(true), quiet_run);
}
