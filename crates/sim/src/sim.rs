//! The simulation: nodes, scripted peers, connections and the event loop.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::sync::Arc;

use orrery_author::{author_block, Pools};
use orrery_codec::BitVec;
use orrery_crypto::{blake2b_256_concat, context};
use orrery_import::{header_hash, ChainState, ImportContext};
use orrery_keys::ValidatorKeys;
use orrery_network::message::{Announcement, BlockRef, Direction};
use orrery_node::{
    Event, Input, Message, Millis, Node, NodeConfig, NodeError, NodeOptions, Output, PeerId, Request,
    RequestFailure, RequestId, Response,
};
use orrery_store::{Chain, Start, StoreError};
use orrery_types::{AvailAssurance, Block, Extrinsic, Header, HeaderHash, TimeSlot};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

use crate::db::SharedDb;
use crate::net::{partitioned, NetConfig, Partition};
use crate::queue::EventQueue;
use crate::summary::{EventCounts, Final, NetCounts, NodeSummary, RunHasher, Summary};

/// Orrery's authorizer guest, which the dev genesis puts in every core's pool (as `orrery
/// chain-spec dev` does).
/// The most blocks a scripted peer serves in one CE 128 response.
const MAX_SERVED: u32 = 64;

/// Why a simulation could not be set up or go on.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("node {node}: {source}")]
    Node { node: usize, source: NodeError },
    #[error("node {node}'s chain: {source}")]
    Store { node: usize, source: StoreError },
    #[error("a database: {0}")]
    Backend(#[from] orrery_store::BackendError),
    #[error("the dev genesis: {0}")]
    Genesis(String),
    #[error("the scenario: {0}")]
    Scenario(String),
}

/// The chain every node starts from.
#[derive(Debug, Clone)]
pub struct Genesis {
    /// The import context, shared by all nodes (one ring context and program cache per process).
    pub ctx: Arc<ImportContext>,
    pub header: Header,
    pub state: ChainState,
}

impl Genesis {
    /// The dev chain `orrery chain-spec dev` writes for `ctx.spec`: the JIP-5 dev validators `0..V`,
    /// Orrery's manager and authorizer.
    pub fn dev(ctx: Arc<ImportContext>) -> Result<Self, SimError> {
        use orrery_chain_spec::dev::{dev_spec, DevServices, DEV_BASE_PORT};
        let keys: Vec<ValidatorKeys> =
            (0..u32::from(ctx.spec.validators_count)).map(ValidatorKeys::dev).collect();
        let chain = dev_spec(&ctx.spec, &ctx.ring, &keys, &DevServices::ORRERY, DEV_BASE_PORT)
            .map_err(|e| SimError::Genesis(e.to_string()))?;
        Ok(Self { ctx, header: chain.genesis_header, state: chain.genesis_state })
    }

    pub fn hash(&self) -> HeaderHash {
        header_hash(&self.header)
    }

    pub fn slot(&self) -> TimeSlot {
        self.header.slot
    }
}

/// Node `node` stops at `at` (its process dies: no goodbye, in-flight messages to it are lost)
/// and, if `restart` is given, starts again then from its database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crash {
    pub node: usize,
    pub at: Millis,
    pub restart: Option<Millis>,
}

/// Validator `node` equivocates in `slots`: for each block it authors there, a second block for
/// the same slot on the same parent, sealed with its keys (one extra assurance in the extrinsic,
/// so a different hash), is announced to every node and served on CE 128 by a scripted peer, its
/// "twin" (a second machine running the same validator key, the usual way this happens).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Equivocator {
    pub node: usize,
    pub slots: Range<TimeSlot>,
}

/// What a hostile peer does at a time, to every node it is connected to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attack {
    /// Bytes that do not decode (the driver reports `Misbehaved`).
    Garbage,
    /// A frame over the stream kind's size cap (the driver reports `Misbehaved`).
    Oversized,
    /// A stream of a kind nobody serves (the driver reports `Misbehaved`).
    UnknownStreamKind(u8),
    /// `count` announcements of blocks nobody has (random headers at the current slot).
    AnnounceUnknown { count: u32 },
    /// An announcement of a block at the current slot on the node's final block that does not
    /// import (a random seal and state root), served on CE 128 when asked. Nothing is sent to a
    /// node whose final block is already at the current slot: time it early in a slot.
    AnnounceInvalid,
}

/// A scripted hostile peer: connected to every node, it runs `script`, and answers every CE 128
/// request with blocks that do not import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hostile {
    pub script: Vec<(Millis, Attack)>,
}

/// A simulation's set-up.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub seed: u64,
    /// Slot length on the simulated clock (the spec's period by default).
    pub slot_ms: Millis,
    /// GRANDPA's gossip bound `T`.
    pub grandpa_gossip_ms: Millis,
    /// What the nodes do besides following the chain (tickets, GRANDPA).
    pub options: NodeOptions,
    /// Nodes that run with other options than [`SimConfig::options`] (a malicious guarantor).
    pub node_options: BTreeMap<usize, NodeOptions>,
    pub net: NetConfig,
    pub partitions: Vec<Partition>,
    pub crashes: Vec<Crash>,
    pub hostile: Vec<Hostile>,
    pub equivocators: Vec<Equivocator>,
    /// The first slot the run covers; the clock starts a second before it. The slot after the
    /// genesis slot by default.
    pub first_slot: Option<TimeSlot>,
}

impl SimConfig {
    /// A calm run of `seed` at the spec's slot period.
    pub fn new(seed: u64, genesis: &Genesis) -> Self {
        let slot_ms = Millis::from(genesis.ctx.spec.slot_duration) * 1_000;
        Self {
            seed,
            slot_ms,
            grandpa_gossip_ms: 500,
            options: NodeOptions { tickets: true, grandpa: true, ..NodeOptions::default() },
            node_options: BTreeMap::new(),
            net: NetConfig::default(),
            partitions: Vec::new(),
            crashes: Vec::new(),
            hostile: Vec::new(),
            equivocators: Vec::new(),
            first_slot: None,
        }
    }
}

/// Everything that can happen, in the queue.
#[derive(Debug)]
enum Ev {
    /// A node's timer.
    Wake {
        node: usize,
        life: u64,
    },
    /// Something arrives over the connection `from`–`to` as it was (generation `gen`) when sent.
    Deliver {
        from: usize,
        to: usize,
        gen: u64,
        input: Input,
    },
    /// Something a node's own driver tells it (a connection change, a failed request).
    Local {
        node: usize,
        life: u64,
        input: Input,
    },
    /// A request's deadline, for the life of the node that made it (a restarted node numbers its
    /// requests afresh).
    Deadline {
        node: usize,
        life: u64,
        id: RequestId,
    },
    Connect {
        a: usize,
        b: usize,
    },
    Crash {
        node: usize,
    },
    Restart {
        node: usize,
    },
    PartitionStarts(usize),
    PartitionEnds(usize),
    Attack {
        peer: usize,
        attack: Attack,
    },
}

#[derive(Debug, Clone, Copy, Default)]
struct Link {
    up: bool,
    /// Bumped at every change, so what was in flight on an earlier connection is dropped.
    gen: u64,
    /// Until when the ends may still be learning the connection died: no new one before.
    quiet_until: Millis,
    /// Until when the ends refuse each other (a node asked to drop the peer).
    banned_until: Millis,
}

struct NodeSlot {
    keys: ValidatorKeys,
    db: SharedDb,
    node: Option<Node>,
    life: u64,
    wake: Option<Millis>,
    events: EventCounts,
    finals: Vec<Final>,
    conflicts: Vec<(Final, Final)>,
    disconnected: BTreeMap<usize, u64>,
    /// The node's work-package events (refusals, guarantees, shards stored), the first
    /// [`MAX_WORK_EVENTS`].
    work_events: Vec<(Millis, Event)>,
}

/// The work-package events kept per node.
const MAX_WORK_EVENTS: usize = 1024;

enum Role {
    Hostile { served: BTreeMap<HeaderHash, Block> },
    Twin { node: usize, slots: Range<TimeSlot>, served: BTreeMap<HeaderHash, Block> },
}

struct Pending {
    to: usize,
    life: u64,
}

/// `N` nodes and their network, in one process, on a simulated clock.
pub struct Sim {
    genesis: Genesis,
    config: SimConfig,
    rng: ChaCha20Rng,
    queue: EventQueue<Ev>,
    now: Millis,
    /// When the first slot starts.
    start: Millis,
    nodes: Vec<NodeSlot>,
    /// Scripted peers, endpoint `nodes.len() + j`.
    scripted: Vec<Role>,
    ids: Vec<PeerId>,
    index: BTreeMap<PeerId, usize>,
    links: Vec<Link>,
    pending: BTreeMap<(usize, RequestId), Pending>,
    hasher: RunHasher,
    net: NetCounts,
    steps: u64,
}

impl std::fmt::Debug for Sim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim")
            .field("seed", &self.config.seed)
            .field("now", &self.now)
            .field("nodes", &self.nodes.len())
            .field("scripted", &self.scripted.len())
            .finish()
    }
}

/// A random header at `slot`: a block nobody has, which cannot import.
fn random_header(rng: &mut ChaCha20Rng, parent: Option<HeaderHash>, slot: TimeSlot) -> Header {
    let mut h32 = || {
        let mut b = [0u8; 32];
        rng.fill_bytes(&mut b);
        b
    };
    let (parent, parent_state_root, extrinsic_hash) = (parent.unwrap_or_else(&mut h32), h32(), h32());
    let mut entropy_source = [0u8; 96];
    let mut seal = [0u8; 96];
    rng.fill_bytes(&mut entropy_source);
    rng.fill_bytes(&mut seal);
    Header {
        parent,
        parent_state_root,
        extrinsic_hash,
        slot,
        epoch_mark: None,
        tickets_mark: None,
        author_index: 0,
        entropy_source,
        offenders_mark: Vec::new(),
        seal,
    }
}

impl Sim {
    /// The dev validators `0..V` of `genesis`, each on a fresh in-memory database, connected to
    /// each other; the scenario's faults scheduled.
    pub fn new(genesis: &Genesis, config: SimConfig) -> Result<Self, SimError> {
        let spec = &genesis.ctx.spec;
        let n = usize::from(spec.validators_count);
        let first_slot = config.first_slot.unwrap_or(genesis.slot() + 1);
        if first_slot <= genesis.slot() {
            return Err(SimError::Scenario(format!(
                "the first slot {first_slot} is not after the genesis slot {}",
                genesis.slot()
            )));
        }
        let start = Millis::from(first_slot) * config.slot_ms;
        let t0 = start.saturating_sub(1_000);
        let mut scripted: Vec<Role> =
            config.hostile.iter().map(|_| Role::Hostile { served: BTreeMap::new() }).collect();
        for e in &config.equivocators {
            if e.node >= n {
                return Err(SimError::Scenario(format!("equivocator {} of {n} nodes", e.node)));
            }
            scripted.push(Role::Twin { node: e.node, slots: e.slots.clone(), served: BTreeMap::new() });
        }
        for c in &config.crashes {
            if c.node >= n || c.restart.is_some_and(|r| r <= c.at) {
                return Err(SimError::Scenario(format!(
                    "{c:?}: no such node, or a restart before the crash"
                )));
            }
        }
        let endpoints = n + scripted.len();
        let mut ids = Vec::with_capacity(endpoints);
        let mut nodes = Vec::with_capacity(n);
        for i in 0..n {
            let keys = ValidatorKeys::dev(i as u32);
            ids.push(keys.ed25519_public());
            nodes.push(NodeSlot {
                keys,
                db: SharedDb::in_memory()?,
                node: None,
                life: 0,
                wake: None,
                events: EventCounts::default(),
                finals: Vec::new(),
                conflicts: Vec::new(),
                disconnected: BTreeMap::new(),
                work_events: Vec::new(),
            });
        }
        for j in 0..scripted.len() {
            // Network keys that are no validator's.
            ids.push(ValidatorKeys::dev(1_000_000 + j as u32).ed25519_public());
        }
        let index = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        let mut sim = Self {
            genesis: genesis.clone(),
            rng: ChaCha20Rng::seed_from_u64(config.seed),
            queue: EventQueue::new(),
            now: t0,
            start,
            nodes,
            scripted,
            ids,
            index,
            links: vec![Link::default(); endpoints * endpoints],
            pending: BTreeMap::new(),
            hasher: RunHasher::default(),
            net: NetCounts::default(),
            steps: 0,
            config,
        };
        for i in 0..n {
            sim.boot(i)?;
        }
        for a in 0..endpoints {
            for b in a + 1..endpoints {
                sim.schedule_connect(a, b);
            }
        }
        for c in sim.config.crashes.clone() {
            sim.queue.push(c.at, Ev::Crash { node: c.node });
            if let Some(r) = c.restart {
                sim.queue.push(r, Ev::Restart { node: c.node });
            }
        }
        for (k, p) in sim.config.partitions.clone().iter().enumerate() {
            sim.queue.push(p.from.max(t0), Ev::PartitionStarts(k));
            sim.queue.push(p.until.max(t0), Ev::PartitionEnds(k));
        }
        for (j, h) in sim.config.hostile.clone().iter().enumerate() {
            for (at, attack) in &h.script {
                sim.queue.push((*at).max(t0), Ev::Attack { peer: n + j, attack: attack.clone() });
            }
        }
        Ok(sim)
    }

    /// Opens node `i`'s chain (new, or what its database holds) and starts its node.
    fn boot(&mut self, i: usize) -> Result<(), SimError> {
        let slot = &mut self.nodes[i];
        let start = Start::genesis(self.genesis.header.clone(), self.genesis.state.clone());
        // No depth finality: the node finalizes by GRANDPA.
        let chain = Chain::open(self.genesis.ctx.clone(), Box::new(slot.db.clone()), Some(start), u32::MAX)
            .map_err(|source| SimError::Store { node: i, source })?;
        let config = NodeConfig {
            spec: self.genesis.ctx.spec.clone(),
            keys: Some(slot.keys.clone()),
            slot_ms: self.config.slot_ms,
            grandpa_gossip_ms: self.config.grandpa_gossip_ms,
        };
        let options = self.config.node_options.get(&i).copied().unwrap_or(self.config.options);
        let node = Node::with_options(config, options, chain, self.now)
            .map_err(|source| SimError::Node { node: i, source })?;
        slot.node = Some(node);
        slot.life += 1;
        slot.wake = None;
        self.rearm(i);
        Ok(())
    }

    fn link(&self, a: usize, b: usize) -> &Link {
        let (a, b) = (a.min(b), a.max(b));
        &self.links[a * self.ids.len() + b]
    }

    fn link_mut(&mut self, a: usize, b: usize) -> &mut Link {
        let (a, b) = (a.min(b), a.max(b));
        let n = self.ids.len();
        &mut self.links[a * n + b]
    }

    fn is_node(&self, e: usize) -> bool {
        e < self.nodes.len()
    }

    fn alive(&self, e: usize) -> bool {
        !self.is_node(e) || self.nodes[e].node.is_some()
    }

    /// Tries to connect `a` and `b` once neither may still be noticing an earlier drop.
    fn schedule_connect(&mut self, a: usize, b: usize) {
        let link = *self.link(a, b);
        let at = self.now.max(link.quiet_until).max(link.banned_until) + self.config.net.connect_ms;
        self.queue.push(at, Ev::Connect { a, b });
    }

    fn connect(&mut self, a: usize, b: usize) {
        let now = self.now;
        let link = *self.link(a, b);
        if link.up
            || !self.alive(a)
            || !self.alive(b)
            || now < link.banned_until
            || partitioned(&self.config.partitions, a, b, now)
        {
            return;
        }
        let l = self.link_mut(a, b);
        l.up = true;
        l.gen += 1;
        for (me, other) in [(a, b), (b, a)] {
            if self.is_node(me) {
                let input = Input::PeerConnected { peer: self.ids[other], builder: false };
                self.handle(me, input);
            }
        }
    }

    /// Takes the connection down; the ends in `notify` learn it `detect_ms` later, and so do the
    /// requests between them, which fail.
    fn disconnect(&mut self, a: usize, b: usize, notify: [bool; 2]) {
        if !self.link(a, b).up {
            return;
        }
        let at = self.now + self.config.net.detect_ms;
        let l = self.link_mut(a, b);
        l.up = false;
        l.gen += 1;
        l.quiet_until = at;
        for ((me, other), tell) in [(a, b), (b, a)].into_iter().zip(notify) {
            if !self.is_node(me) || self.nodes[me].node.is_none() {
                continue;
            }
            let life = self.nodes[me].life;
            let failed: Vec<RequestId> = self
                .pending
                .iter()
                .filter(|((r, _), p)| *r == me && p.to == other)
                .map(|((_, id), _)| *id)
                .collect();
            for id in failed {
                self.pending.remove(&(me, id));
                self.net.failed += 1;
                let input =
                    Input::Response { peer: self.ids[other], id, response: Err(RequestFailure::Failed) };
                self.queue.push(at, Ev::Local { node: me, life, input });
            }
            if tell {
                let input = Input::PeerDisconnected { peer: self.ids[other] };
                self.queue.push(at, Ev::Local { node: me, life, input });
            }
        }
    }

    /// Feeds node `i` one input now and carries out what it says.
    fn handle(&mut self, i: usize, input: Input) {
        let now = self.now;
        let Some(node) = self.nodes[i].node.as_mut() else { return };
        let outputs = node.handle(now, input);
        for output in outputs {
            self.output(i, output);
        }
        self.rearm(i);
    }

    /// Makes sure node `i` has a timer no later than it wants.
    fn rearm(&mut self, i: usize) {
        let slot = &mut self.nodes[i];
        let Some(node) = &slot.node else { return };
        // Strictly later than now, so a node that wants "now" cannot stall the clock.
        let want = node.next_wake().max(self.now + 1);
        if slot.wake.is_none_or(|w| want < w) {
            slot.wake = Some(want);
            self.queue.push(want, Ev::Wake { node: i, life: slot.life });
        }
    }

    fn output(&mut self, i: usize, output: Output) {
        match output {
            Output::Send { peer, message } => {
                let Some(&j) = self.index.get(&peer) else { return };
                let input = Input::Message { peer: self.ids[i], message };
                self.send(i, j, input);
            }
            Output::Request { peer, id, request } => self.request(i, peer, id, request),
            Output::Respond { peer, id, response } => {
                let Some(&j) = self.index.get(&peer) else { return };
                self.respond(i, j, id, response);
            }
            Output::Refuse { peer, id } => {
                let Some(&j) = self.index.get(&peer) else { return };
                self.reset(i, j, id);
            }
            Output::Disconnect { peer, reason: _ } => {
                let Some(&j) = self.index.get(&peer) else { return };
                self.net.disconnects += 1;
                *self.nodes[i].disconnected.entry(j).or_default() += 1;
                self.disconnect(i, j, [false, true]);
                let until = self.now + self.config.net.redial_ms;
                let l = self.link_mut(i, j);
                l.banned_until = l.banned_until.max(until);
                self.schedule_connect(i, j);
            }
            // Every node is connected to every other: the dev set is every epoch's.
            Output::WantPeers(_) => {}
            // The ticket proofs run here, in no simulated time (as all processing does), and their
            // result is the node's next input at this instant, after what is already due now.
            Output::MakeTickets(work) => {
                let input = work.run();
                let life = self.nodes[i].life;
                self.queue.push(self.now, Ev::Local { node: i, life, input });
            }
            Output::Event(event) => self.event(i, event),
        }
    }

    /// A one-way message from `from` to `to`: lost, delivered, or delivered twice.
    fn send(&mut self, from: usize, to: usize, input: Input) {
        let link = *self.link(from, to);
        if !link.up {
            self.net.dropped_no_link += 1;
            return;
        }
        self.net.messages_sent += 1;
        let delays = self.config.net.message_delays(&mut self.rng);
        match delays.len() {
            0 => self.net.messages_lost += 1,
            2 => self.net.duplicates += 1,
            _ => {}
        }
        for delay in delays {
            self.queue.push(self.now + delay, Ev::Deliver { from, to, gen: link.gen, input: input.clone() });
        }
    }

    fn request(&mut self, i: usize, peer: PeerId, id: RequestId, request: Request) {
        self.net.requests += 1;
        let life = self.nodes[i].life;
        let target = self.index.get(&peer).copied().filter(|&j| self.link(i, j).up);
        let Some(j) = target else {
            // No connection: the driver fails it at once.
            self.net.failed += 1;
            let input = Input::Response { peer, id, response: Err(RequestFailure::Failed) };
            self.queue.push(self.now, Ev::Local { node: i, life, input });
            return;
        };
        self.pending.insert((i, id), Pending { to: j, life });
        self.queue.push(self.now + self.config.net.request_timeout_ms, Ev::Deadline { node: i, life, id });
        if let Some(delay) = self.config.net.stream_delay(&mut self.rng) {
            let gen = self.link(i, j).gen;
            let input = Input::Request { peer: self.ids[i], id, request };
            self.queue.push(self.now + delay, Ev::Deliver { from: i, to: j, gen, input });
        }
    }

    /// `from`'s answer to request `id` of `to`, if `to` still waits for it.
    fn respond(&mut self, from: usize, to: usize, id: RequestId, response: Response) {
        if self.pending.get(&(to, id)).is_none_or(|p| p.to != from) {
            return;
        }
        self.net.responses += 1;
        let link = *self.link(from, to);
        if !link.up {
            return;
        }
        if let Some(delay) = self.config.net.stream_delay(&mut self.rng) {
            let input = Input::Response { peer: self.ids[from], id, response: Ok(response) };
            self.queue.push(self.now + delay, Ev::Deliver { from, to, gen: link.gen, input });
        }
    }

    /// `from` resets the stream of request `id` of `to`: it fails there when the reset arrives.
    fn reset(&mut self, from: usize, to: usize, id: RequestId) {
        if self.pending.get(&(to, id)).is_none_or(|p| p.to != from) || !self.link(from, to).up {
            return;
        }
        if let Some(delay) = self.config.net.stream_delay(&mut self.rng) {
            let life = self.nodes[to].life;
            self.pending.remove(&(to, id));
            self.net.failed += 1;
            let input = Input::Response { peer: self.ids[from], id, response: Err(RequestFailure::Failed) };
            self.queue.push(self.now + delay, Ev::Local { node: to, life, input });
        }
    }

    fn event(&mut self, i: usize, event: Event) {
        self.hasher.event(self.now, i, &event);
        self.nodes[i].events.count(&event);
        let work = matches!(
            event,
            Event::WorkPackageRefused { .. }
                | Event::Guaranteed { .. }
                | Event::ShardsStored { .. }
                | Event::Audited { .. }
                | Event::Segments { .. }
        );
        if work && self.nodes[i].work_events.len() < MAX_WORK_EVENTS {
            self.nodes[i].work_events.push((self.now, event.clone()));
        }
        match event {
            Event::Finalized { hash, slot } => self.record_final(i, hash, slot),
            Event::Authored { hash, slot } => self.maybe_equivocate(i, hash, slot),
            _ => {}
        }
    }

    /// Adds the blocks node `i` just finalized (the new final one and any ancestors it made final
    /// with it) to its record, checking they extend what it finalized before.
    fn record_final(&mut self, i: usize, hash: HeaderHash, slot: TimeSlot) {
        let (gen_hash, gen_slot) = (self.genesis.hash(), self.genesis.slot());
        let slot_state = &mut self.nodes[i];
        let Some(node) = &slot_state.node else { return };
        let chain = node.chain();
        let last = slot_state.finals.last().map_or((gen_slot, gen_hash), |f| (f.slot, f.hash));
        if slot <= last.0 {
            // Said again (after a restart, say): it must be one already recorded.
            let known = slot_state.finals.iter().any(|f| f.hash == hash) || hash == gen_hash;
            if !known {
                let root = chain.state_root(&hash).ok().flatten().unwrap_or_default();
                let new = Final { slot, hash, state_root: root };
                let old = slot_state.finals.last().copied().unwrap_or(new);
                slot_state.conflicts.push((old, new));
            }
            return;
        }
        let mut path = Vec::new();
        let mut at = hash;
        while at != last.1 {
            let Ok(Some(block)) = chain.block(&at) else { break };
            let s = block.header.slot;
            let state_root = chain.state_root(&at).ok().flatten().unwrap_or_default();
            let f = Final { slot: s, hash: at, state_root };
            if s <= last.0 {
                let old = slot_state.finals.last().copied().unwrap_or(f);
                slot_state.conflicts.push((old, f));
                break;
            }
            path.push(f);
            at = block.header.parent;
        }
        path.reverse();
        slot_state.finals.extend(path);
    }

    /// If node `i` equivocates at `slot`, its twin makes the second block and announces it.
    fn maybe_equivocate(&mut self, i: usize, hash: HeaderHash, slot: TimeSlot) {
        let n = self.nodes.len();
        let Some(twin) = self
            .scripted
            .iter()
            .position(|r| matches!(r, Role::Twin { node, slots, .. } if *node == i && slots.contains(&slot)))
        else {
            return;
        };
        let ctx = self.genesis.ctx.clone();
        let Some(node) = &self.nodes[i].node else { return };
        let chain = node.chain();
        let Ok(Some(block)) = chain.block(&hash) else { return };
        let parent = block.header.parent;
        let Some(prior) = chain.state(&parent) else { return };
        let finalized = node.status().finalized;
        let keys = &self.nodes[i].keys;
        // One assurance more than the honest block: a zero bitfield (nothing pending need be
        // assured), signed by the author itself, so a different extrinsic and header.
        let bitfield = BitVec::zeros(usize::from(ctx.spec.cores_count));
        let payload = blake2b_256_concat(&[&parent, bitfield.as_bytes()]);
        let signature = keys.ed25519_sign(&[context::AVAILABLE, &payload].concat());
        let assurance = AvailAssurance {
            anchor: parent,
            bitfield,
            validator_index: block.header.author_index,
            signature,
        };
        let mut pools = Pools::default();
        if block.extrinsic.assurances.iter().any(|a| a.validator_index == block.header.author_index) {
            return;
        }
        pools.assurances = block.extrinsic.assurances.clone();
        pools.assurances.push(assurance);
        let Ok(second) = author_block(&ctx.spec, &ctx.ring, prior, parent, slot, keys, &pools) else {
            return;
        };
        let header = second.header.clone();
        let twin_endpoint = n + twin;
        if let Role::Twin { served, .. } = &mut self.scripted[twin] {
            served.insert(header_hash(&header), second);
        }
        for j in 0..n {
            let input = Input::Message {
                peer: self.ids[twin_endpoint],
                message: Message::Announcement(Announcement { header: header.clone(), finalized }),
            };
            self.send(twin_endpoint, j, input);
        }
    }

    /// A scripted peer's answer to what reached it.
    fn scripted_receive(&mut self, me: usize, from: usize, input: Input) {
        let Input::Request { id, request, .. } = input else { return };
        let role = &self.scripted[me - self.nodes.len()];
        let blocks = match (role, request) {
            // The twin runs the same validator, so it has the same chain as its node, plus its
            // own blocks.
            (Role::Twin { served, node, .. }, Request::Blocks(req)) => {
                let max = req.max_blocks.min(MAX_SERVED) as usize;
                let chain = self.nodes[*node].node.as_ref().map(Node::chain);
                let block = |h: &HeaderHash| {
                    served.get(h).cloned().or_else(|| chain.and_then(|c| c.block(h).ok().flatten()))
                };
                match req.direction {
                    Direction::DescendingInclusive => {
                        let mut out = Vec::new();
                        let mut at = req.hash;
                        while out.len() < max {
                            let Some(b) = block(&at) else { break };
                            at = b.header.parent;
                            out.push(b);
                        }
                        out
                    }
                    Direction::AscendingExclusive => {
                        let mut up = Vec::new();
                        if let Some(node) = self.nodes[*node].node.as_ref() {
                            let mut at = node.status().best.hash;
                            while at != req.hash && up.len() < 4 * MAX_SERVED as usize {
                                let Some(b) = block(&at) else { break };
                                at = b.header.parent;
                                up.push(b);
                            }
                            if at != req.hash {
                                up.clear();
                            }
                        }
                        up.reverse();
                        up.truncate(max);
                        up
                    }
                }
            }
            (Role::Hostile { served }, Request::Blocks(req)) => match served.get(&req.hash) {
                Some(block) => vec![block.clone()],
                None => {
                    let slot = self.slot_now();
                    let header = random_header(&mut self.rng, Some(req.hash), slot);
                    vec![Block { header, extrinsic: Extrinsic::default() }]
                }
            },
            // Scripted peers serve blocks only.
            _ => Vec::new(),
        };
        if blocks.is_empty() {
            // JAMNP-S: a request that cannot be met is reset, which the requester sees as failed.
            self.reset(me, from, id);
        } else {
            self.respond(me, from, id, Response::Blocks(blocks));
        }
    }

    fn attack(&mut self, peer: usize, attack: Attack) {
        let n = self.nodes.len();
        let id = self.ids[peer];
        for j in 0..n {
            if !self.link(peer, j).up {
                continue;
            }
            let misbehaved = |what: String| vec![Input::Misbehaved { peer: id, what }];
            let inputs = match &attack {
                Attack::Garbage => misbehaved("a message that does not decode".into()),
                Attack::Oversized => misbehaved("a frame of 16777216 bytes, over the stream's cap".into()),
                Attack::UnknownStreamKind(k) => misbehaved(format!("stream kind {k}, which is not served")),
                Attack::AnnounceUnknown { count } => {
                    let slot = self.slot_now();
                    (0..*count)
                        .map(|_| {
                            let header = random_header(&mut self.rng, None, slot);
                            let finalized = BlockRef { hash: self.genesis.hash(), slot: self.genesis.slot() };
                            Input::Message {
                                peer: id,
                                message: Message::Announcement(Announcement { header, finalized }),
                            }
                        })
                        .collect()
                }
                Attack::AnnounceInvalid => {
                    let Some(node) = &self.nodes[j].node else { continue };
                    let status = node.status();
                    // On the final block, at the current slot: a block the node must fetch and
                    // try (a future slot, or a parent below the final block, would be turned away
                    // unfetched). Early in a slot, before the slot's block is final.
                    let slot = self.slot_now();
                    if slot <= status.finalized.slot {
                        continue;
                    }
                    let header = random_header(&mut self.rng, Some(status.finalized.hash), slot);
                    let block = Block { header: header.clone(), extrinsic: Extrinsic::default() };
                    if let Role::Hostile { served } = &mut self.scripted[peer - n] {
                        served.insert(header_hash(&header), block);
                    }
                    let message = Message::Announcement(Announcement { header, finalized: status.finalized });
                    vec![Input::Message { peer: id, message }]
                }
            };
            for input in inputs {
                self.send(peer, j, input);
            }
        }
    }

    /// The slot the clock is in.
    pub fn slot_now(&self) -> TimeSlot {
        TimeSlot::try_from(self.now / self.config.slot_ms).unwrap_or(TimeSlot::MAX)
    }

    /// When `slot` starts.
    pub fn slot_start(&self, slot: TimeSlot) -> Millis {
        Millis::from(slot) * self.config.slot_ms
    }

    pub fn now(&self) -> Millis {
        self.now
    }

    /// When the first slot of the run starts.
    pub fn start(&self) -> Millis {
        self.start
    }

    pub fn first_slot(&self) -> TimeSlot {
        TimeSlot::try_from(self.start / self.config.slot_ms).unwrap_or(TimeSlot::MAX)
    }

    /// Node `i`, unless it is down.
    pub fn node(&self, i: usize) -> Option<&Node> {
        self.nodes.get(i).and_then(|s| s.node.as_ref())
    }

    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Gives node `node` a local input now (what its own driver or user would: a work package to
    /// guarantee, a preimage), and carries out what it says. Nothing happens to a node that is down.
    /// Crashes node `node` now (as a [`Crash`] would) and restarts it on its database
    /// `restart_after` ms later: for a test that picks the node once the run has shown which.
    pub fn crash_now(&mut self, node: usize, restart_after: Millis) {
        self.queue.push(self.now, Ev::Crash { node });
        self.queue.push(self.now + restart_after, Ev::Restart { node });
    }

    pub fn input(&mut self, node: usize, input: Input) {
        if node < self.nodes.len() {
            self.handle(node, input);
        }
    }

    /// Node `node`'s work-package events so far (refusals, guarantees, shards stored, audits,
    /// segment recovery), with their times.
    pub fn work_events(&self, node: usize) -> &[(Millis, Event)] {
        self.nodes.get(node).map_or(&[], |s| &s.work_events)
    }

    /// Runs one event; false when none is left.
    fn step(&mut self) -> Result<bool, SimError> {
        let Some((at, ev)) = self.queue.pop() else { return Ok(false) };
        debug_assert!(at >= self.now, "the clock never goes back");
        self.now = self.now.max(at);
        self.steps += 1;
        match ev {
            Ev::Wake { node, life } => {
                let slot = &mut self.nodes[node];
                if slot.life == life && slot.wake == Some(at) {
                    slot.wake = None;
                    self.handle(node, Input::Tick);
                }
            }
            Ev::Deliver { from, to, gen, input } => {
                let link = *self.link(from, to);
                if !link.up || link.gen != gen {
                    self.net.dropped_no_link += 1;
                    return Ok(true);
                }
                if let Input::Response { id, .. } = &input {
                    if self.pending.remove(&(to, *id)).is_none() {
                        return Ok(true);
                    }
                }
                if matches!(input, Input::Message { .. }) {
                    self.net.messages_delivered += 1;
                }
                if self.is_node(to) {
                    self.handle(to, input);
                } else {
                    self.scripted_receive(to, from, input);
                }
            }
            Ev::Local { node, life, input } => {
                if self.nodes[node].life == life {
                    self.handle(node, input);
                }
            }
            Ev::Deadline { node, life, id } => {
                let mine = self.pending.get(&(node, id)).is_some_and(|p| p.life == life);
                if let Some(p) = mine.then(|| self.pending.remove(&(node, id))).flatten() {
                    self.net.timed_out += 1;
                    let input =
                        Input::Response { peer: self.ids[p.to], id, response: Err(RequestFailure::TimedOut) };
                    self.handle(node, input);
                }
            }
            Ev::Connect { a, b } => self.connect(a, b),
            Ev::Crash { node } => {
                if self.nodes[node].node.take().is_some() {
                    self.nodes[node].wake = None;
                    self.pending.retain(|(r, _), _| *r != node);
                    for j in 0..self.ids.len() {
                        if j != node {
                            self.disconnect(node, j, [false, true]);
                        }
                    }
                }
            }
            Ev::Restart { node } => {
                if self.nodes[node].node.is_none() {
                    self.boot(node)?;
                    for j in 0..self.ids.len() {
                        if j != node {
                            // A new process remembers no bans.
                            self.link_mut(node, j).banned_until = 0;
                            self.schedule_connect(node, j);
                        }
                    }
                }
            }
            Ev::PartitionStarts(k) => {
                let p = self.config.partitions[k].clone();
                for a in 0..self.ids.len() {
                    for b in a + 1..self.ids.len() {
                        if p.separates(a, b) {
                            self.disconnect(a, b, [true, true]);
                        }
                    }
                }
            }
            Ev::PartitionEnds(k) => {
                let p = self.config.partitions[k].clone();
                for a in 0..self.ids.len() {
                    for b in a + 1..self.ids.len() {
                        if p.separates(a, b) {
                            self.schedule_connect(a, b);
                        }
                    }
                }
            }
            Ev::Attack { peer, attack } => self.attack(peer, attack),
        }
        Ok(true)
    }

    /// Runs every event up to and including `t`; the clock ends at `t`.
    pub fn run_until(&mut self, t: Millis) -> Result<(), SimError> {
        while self.queue.peek_time().is_some_and(|at| at <= t) {
            self.step()?;
        }
        self.now = self.now.max(t);
        Ok(())
    }

    /// Runs `slots` more whole slots: to the last millisecond of the `slots`-th slot after the
    /// last one already run to its end (the first call runs from the first slot).
    pub fn run_slots(&mut self, slots: u32) -> Result<(), SimError> {
        let done = (self.now + 1).saturating_sub(self.start) / self.config.slot_ms;
        self.run_until(self.start + (done + Millis::from(slots)) * self.config.slot_ms - 1)
    }

    /// The slots of node `i`'s best chain above genesis, oldest first.
    pub fn best_chain_slots(&self, i: usize) -> Vec<TimeSlot> {
        self.best_chain(i).into_iter().map(|(slot, _)| slot).collect()
    }

    /// The hashes of node `i`'s best chain above genesis, oldest first.
    pub fn best_chain(&self, i: usize) -> Vec<(TimeSlot, HeaderHash)> {
        let Some(node) = self.node(i) else { return Vec::new() };
        let chain = node.chain();
        let mut out = Vec::new();
        let mut at = node.status().best.hash;
        while at != self.genesis.hash() {
            let Ok(Some(block)) = chain.block(&at) else { break };
            out.push((block.header.slot, at));
            at = block.header.parent;
        }
        out.reverse();
        out
    }

    /// The blocks the twins of equivocators made: (slot, author, hash).
    pub fn equivocations(&self) -> Vec<(TimeSlot, usize, HeaderHash)> {
        let mut out = Vec::new();
        for role in &self.scripted {
            if let Role::Twin { node, served, .. } = role {
                out.extend(served.iter().map(|(h, b)| (b.header.slot, *node, *h)));
            }
        }
        out.sort();
        out
    }

    /// The endpoint index of hostile peer `j` (as the summary's `disconnected` names it).
    pub fn hostile_endpoint(&self, j: usize) -> usize {
        self.nodes.len() + j
    }

    pub fn summary(&self) -> Summary {
        let nodes = self
            .nodes
            .iter()
            .map(|s| {
                let status = s.node.as_ref().map(Node::status);
                NodeSummary {
                    best: status.as_ref().map(|st| st.best),
                    finalized: status.as_ref().map(|st| st.finalized),
                    finals: s.finals.clone(),
                    conflicts: s.conflicts.clone(),
                    events: s.events,
                    disconnected: s.disconnected.clone(),
                }
            })
            .collect();
        Summary {
            seed: self.config.seed,
            now: self.now,
            slot: self.slot_now(),
            nodes,
            net: self.net,
            steps: self.steps,
            run_hash: self.hasher.finish(),
        }
    }

    /// Draws from the run's generator (for scenario code that wants seeded choices).
    pub fn rng(&mut self) -> &mut impl Rng {
        &mut self.rng
    }
}

/// The set of nodes `0..n` minus `except`.
pub fn all_but(n: usize, except: &[usize]) -> BTreeSet<usize> {
    (0..n).filter(|i| !except.contains(i)).collect()
}
