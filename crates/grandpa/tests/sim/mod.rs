//! A seeded in-process network of GRANDPA voters: a fixed block tree whose blocks each voter
//! imports at its own (random) time, and broadcasts delivered with random latency (so reordered),
//! random loss, and optional partitions. One seed replays one run.

#![allow(dead_code)]

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};

use orrery_grandpa::{
    signed_payload, BlockTree, Config, Input, Message, Output, SignedVote, Target, VoteKind, Voter, VoterSet,
};
use orrery_keys::ValidatorKeys;
use orrery_types::HeaderHash;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub const GENESIS: HeaderHash = [0; 32];

/// Main-chain block `k` (slot `k`).
pub fn main_block(k: u32) -> Target {
    let mut hash = [0; 32];
    hash[..4].copy_from_slice(&k.to_le_bytes());
    hash[4] = 1;
    Target { hash, slot: k }
}

/// The fork block at slot `k`, a sibling of main block `k` (child of main block `k - 1`). Its hash
/// sorts above the main block's, so while both are heads of equal slot the fork is "best".
pub fn fork_block(k: u32) -> Target {
    let mut hash = [0; 32];
    hash[..4].copy_from_slice(&k.to_le_bytes());
    hash[4] = 2;
    Target { hash, slot: k }
}

/// A view of the block tree: every block, and which of them one voter has imported.
pub struct View<'a> {
    pub blocks: &'a HashMap<HeaderHash, (u32, HeaderHash)>,
    pub known: &'a HashSet<HeaderHash>,
}

impl BlockTree for View<'_> {
    fn slot(&self, hash: &HeaderHash) -> Option<u32> {
        if *hash == GENESIS {
            return Some(0);
        }
        self.known.contains(hash).then(|| self.blocks[hash].0)
    }

    fn parent(&self, hash: &HeaderHash) -> Option<HeaderHash> {
        self.known.contains(hash).then(|| self.blocks[hash].1)
    }

    // Its own walk: the genesis is known to every voter without being among the blocks.

    fn ancestry(&self, base: &HeaderHash, hash: &HeaderHash) -> Option<Vec<HeaderHash>> {
        let mut out = Vec::new();
        let mut at = *hash;
        loop {
            if at == *base {
                return Some(out);
            }
            if at == GENESIS || !self.known.contains(&at) {
                return None;
            }
            out.push(at);
            at = self.blocks[&at].1;
        }
    }

    fn best_containing(&self, base: &HeaderHash) -> Option<Target> {
        self.slot(base)?;
        let mut best = Target { hash: *base, slot: self.slot(base)? };
        for hash in self.known {
            let slot = self.blocks[hash].0;
            if (slot, *hash) > (best.slot, best.hash) && self.ancestry(base, hash).is_some() {
                best = Target { hash: *hash, slot };
            }
        }
        Some(best)
    }
}

#[derive(Debug, Clone)]
enum Event {
    Deliver { to: usize, from: usize, message: Message },
    Import { to: usize, hash: HeaderHash },
}

pub struct Net {
    pub latency: (u64, u64),
    pub loss: f64,
    pub import_jitter: u64,
}

pub struct Sim {
    pub now: u64,
    pub keys: Vec<ValidatorKeys>,
    pub voters: Vec<Voter>,
    pub known: Vec<HashSet<HeaderHash>>,
    pub blocks: HashMap<HeaderHash, (u32, HeaderHash)>,
    queue: BinaryHeap<Reverse<(u64, u64, usize)>>,
    events: Vec<Option<Event>>,
    seq: u64,
    rng: ChaCha8Rng,
    net: Net,
    /// `blocked(now, from, to)`: the link drops everything.
    pub blocked: Box<dyn Fn(u64, usize, usize) -> bool>,
    /// This voter signs a second, different vote for the alternative target and sends both to the
    /// odd-numbered voters.
    pub equivocator: Option<(usize, Target)>,
    pub finalized: Vec<Vec<Target>>,
    pub misbehaviour: Vec<Vec<(Option<[u8; 32]>, String)>>,
    pub delivered: u64,
}

impl Sim {
    pub fn new(seed: u64, n: usize, gossip_ms: u64, net: Net) -> Self {
        let keys: Vec<_> = (0..n as u32).map(ValidatorKeys::dev).collect();
        let set = VoterSet { set_id: 0, keys: keys.iter().map(|k| k.ed25519_public()).collect() };
        let base = Target { hash: GENESIS, slot: 0 };
        let voters = keys
            .iter()
            .enumerate()
            .map(|(i, k)| {
                Voter::new(Config { gossip_ms }, set.clone(), base, Some((i as u16, *k.ed25519_secret())), 0)
            })
            .collect();
        Self {
            now: 0,
            keys,
            voters,
            known: vec![HashSet::new(); n],
            blocks: HashMap::new(),
            queue: BinaryHeap::new(),
            events: Vec::new(),
            seq: 0,
            rng: ChaCha8Rng::seed_from_u64(seed),
            net,
            blocked: Box::new(|_, _, _| false),
            equivocator: None,
            finalized: vec![Vec::new(); n],
            misbehaviour: vec![Vec::new(); n],
            delivered: 0,
        }
    }

    fn push(&mut self, at: u64, event: Event) {
        self.events.push(Some(event));
        self.queue.push(Reverse((at, self.seq, self.events.len() - 1)));
        self.seq += 1;
    }

    /// Adds `block` (child of `parent`), produced at `at`, imported by each of `to` after a random delay.
    pub fn add_block(&mut self, block: Target, parent: HeaderHash, at: u64, to: &[usize]) {
        self.blocks.insert(block.hash, (block.slot, parent));
        for &voter in to {
            let delay = self.rng.gen_range(0..=self.net.import_jitter);
            self.push(at + delay, Event::Import { to: voter, hash: block.hash });
        }
    }

    /// Main blocks 1..=k, block `i` produced at `i * slot_ms`, imported by everyone.
    pub fn main_chain(&mut self, k: u32, slot_ms: u64) {
        let all: Vec<_> = (0..self.voters.len()).collect();
        for i in 1..=k {
            let parent = if i == 1 { GENESIS } else { main_block(i - 1).hash };
            self.add_block(main_block(i), parent, u64::from(i) * slot_ms, &all);
        }
    }

    fn deliver(&mut self, from: usize, outputs: Vec<Output>) {
        for output in outputs {
            match output {
                Output::Broadcast(message) => {
                    for to in 0..self.voters.len() {
                        if to == from
                            || (self.blocked)(self.now, from, to)
                            || self.rng.gen_bool(self.net.loss)
                        {
                            continue;
                        }
                        for message in self.tamper(from, to, &message) {
                            let latency = self.rng.gen_range(self.net.latency.0..=self.net.latency.1);
                            self.push(self.now + latency, Event::Deliver { to, from, message });
                        }
                    }
                }
                Output::Finalized { target, justification } => {
                    assert_eq!(justification.target, target);
                    self.finalized[from].push(target);
                }
                Output::Misbehaviour { from: culprit, reason } => {
                    self.misbehaviour[from].push((culprit, reason))
                }
            }
        }
    }

    fn tamper(&self, from: usize, to: usize, message: &Message) -> Vec<Message> {
        match (self.equivocator, message) {
            (Some((who, alt)), Message::Vote(v))
                if who == from && to % 2 == 1 && v.kind != VoteKind::PrimaryPropose && v.target != alt =>
            {
                let payload = signed_payload(v.kind, &alt, v.round, v.set_id);
                let signature = self.keys[from].ed25519_sign(&payload);
                vec![message.clone(), Message::Vote(SignedVote { target: alt, signature, ..v.clone() })]
            }
            _ => vec![message.clone()],
        }
    }

    /// Runs until `end` (simulated milliseconds).
    pub fn run_until(&mut self, end: u64) {
        let mut steps = 0u64;
        loop {
            steps += 1;
            assert!(steps < 5_000_000, "the simulation does not settle");
            let wake = self.voters.iter().map(Voter::next_wake).min().unwrap_or(u64::MAX);
            let event_at = self.queue.peek().map_or(u64::MAX, |Reverse((t, _, _))| *t);
            let at = wake.min(event_at);
            if at > end {
                self.now = end;
                return;
            }
            assert!(at >= self.now, "time went backwards: {at} < {}", self.now);
            self.now = at;
            if event_at <= wake {
                let Reverse((_, _, index)) = self.queue.pop().unwrap();
                match self.events[index].take().unwrap() {
                    Event::Deliver { to, from, message } => {
                        if (self.blocked)(self.now, from, to) {
                            continue;
                        }
                        self.delivered += 1;
                        let peer = Some(self.keys[from].ed25519_public());
                        let input = Input::Message { from: peer, message };
                        let out = self.step(to, input);
                        self.deliver(to, out);
                    }
                    Event::Import { to, hash } => {
                        self.known[to].insert(hash);
                        let out = self.step(to, Input::BlockImported(hash));
                        self.deliver(to, out);
                    }
                }
            } else {
                for i in 0..self.voters.len() {
                    if self.voters[i].next_wake() <= self.now {
                        let out = self.step(i, Input::Tick);
                        self.deliver(i, out);
                        assert!(self.voters[i].next_wake() > self.now, "voter {i} wants a tick in the past");
                    }
                }
            }
        }
    }

    fn step(&mut self, i: usize, input: Input) -> Vec<Output> {
        let view = View { blocks: &self.blocks, known: &self.known[i] };
        self.voters[i].handle(self.now, input, &view)
    }

    /// Every finalized block of every voter lies on one chain, and each voter's finality only grows.
    pub fn assert_safe(&self) {
        let all: HashSet<_> = (0..self.voters.len()).flat_map(|i| self.known[i].iter().copied()).collect();
        let view = View { blocks: &self.blocks, known: &all };
        let mut every: Vec<Target> = self.finalized.iter().flatten().copied().collect();
        every.sort_by_key(|t| (t.slot, t.hash));
        for pair in every.windows(2) {
            assert!(
                view.ancestry(&pair[0].hash, &pair[1].hash).is_some(),
                "conflicting finality: {:?} and {:?}",
                pair[0],
                pair[1]
            );
        }
        for list in &self.finalized {
            assert!(list.windows(2).all(|w| w[0].slot < w[1].slot), "finality went back");
        }
    }
}
