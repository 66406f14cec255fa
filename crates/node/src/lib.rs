//! The node's protocol logic (GP 0.7.2 §19, JAMNP-S) as a pure state machine.
//!
//! The shape (sans-IO, like quinn-proto): the caller owns the clock and the sockets. It feeds
//! [`io::Input`]s with the current time into [`Node::handle`] and carries out the [`io::Output`]s it
//! returns (send a message, make or answer a request, drop a peer); it calls again with
//! [`io::Input::Tick`] no later than [`Node::next_wake`]. The node owns its block store
//! (`orrery_store::Chain`, on disk or in memory) and imports synchronously. Nothing here reads a
//! clock, draws a random number or iterates a hash map into an output, so the same inputs at the
//! same times give the same outputs: the simulator (`orrery-sim`) runs many nodes in one thread and
//! one seed replays exactly, and the QUIC driver (`orrery-node-quic`) runs the very same logic.
//! Why this shape rather than async tasks or callbacks into an environment (finality-grandpa's
//! `Environment`): a pure step function is trivially deterministic, needs no runtime to test, and
//! keeps every decision (what to fetch, whom to blame) where a test can see it; the price is that
//! slow work (import, authoring) runs inside `handle`, so the driver must call it off its network
//! tasks. The slowest, a validator's ticket proofs (a ring prover and `N` ring proofs, about 1.5 s
//! once per epoch on the tiny spec), is not done in `handle`: the node asks for it with
//! [`io::Output::MakeTickets`], whose [`io::TicketWork::run`] the driver runs where it likes (the
//! simulator at once, the QUIC driver on a thread of its own) and feeds back as
//! [`io::Input::TicketsMade`]; the tickets' ids depend only on the job, so where it runs decides
//! only when they arrive (their proofs' bytes never repeat: a ring proof's zero-knowledge blinding
//! draws randomness from the OS). (The import context may compute a ring root on a thread of its
//! own; that too only changes when a result is ready, never what it is.)
//!
//! What the node does:
//! - Slots: at each slot it authors a block if its keys seal the slot on top of the best block
//!   (`orrery_author::slot_author`, `author_block` with the ticket pool), imports it and announces it
//!   (UP 0). It does not author while it is catching up from far behind (it would fork off a stale
//!   head), but does while it fetches a few blocks, which a peer could otherwise make it do forever.
//! - Tickets (GP §6.7, JAMNP-S CE 131/132): once per epoch, at the slot `orrery_network::policy`
//!   gives, a validator has its `N` tickets made (as above) and sends each to its proxy (CE 131),
//!   if the contest is still open when they come back; a proxy
//!   forwards what it receives to everyone at once (CE 132) rather than waiting for the forwarding
//!   slot; a ticket whose proxy is not connected goes straight to all as CE 132. Every ticket is
//!   checked (ring VRF proof against the contest's `γ'_Z` on `η'_2`) before it enters a bounded,
//!   de-duplicated pool of the lowest ids, which authoring draws from.
//! - Peers (UP 0, CE 128, CE 129): a handshake (final block and leaves) on connection; an unknown
//!   block a peer announces is fetched with CE 128, descending from it (and again from the oldest
//!   fetched block's parent until a known block is met), or ascending from our best block when the
//!   gap is large; blocks whose parent is missing wait in a bounded orphan pool. CE 128 requests
//!   are served in both directions from the store, CE 129 requests from the named block's state.
//!   Every request carries an id and a deadline; a response that does not match its request, an
//!   invalid block, a bad ticket, a flood of announcements of unknown blocks and the driver's
//!   [`io::Input::Misbehaved`] count against the peer, which is disconnected and refused for a
//!   while past a threshold. Every pool, queue and map is capped ([`limits`]).
//! - Best chain (GP §19): see [`tree`]. Equivocations (two valid blocks by one author at one slot)
//!   are detected at import and reported ([`io::Event::Equivocation`]).
//! - Finality: GRANDPA (`orrery-grandpa`, whose crate doc gives the CE 149–152 wire format) over
//!   the block tree; the voter set is `κ`'s Ed25519 keys from the final block's state, its id that
//!   block's epoch; a new voter starts when finality enters a newer epoch. A node whose finality is
//!   behind checks a newer set's commit against that set's keys (read from the commit target's own
//!   chain) and finalizes by it. The node drives the store's finality itself (open the store with a
//!   finality depth that never triggers, e.g. `u32::MAX`) and so prunes forks.
//! - Warp sync (CE 153; [`warp`]): when our set's commit finalizes a block of a later epoch, the
//!   handover's fragment (that commit, retargeted to the epoch's first block, with the headers
//!   linking its precommits) goes into the store's `Warp` table before the forks are pruned; a
//!   request from set `s` is answered with the fragments from `s` on and the latest justification.
//! - Guaranteeing (GP §14.3, §11.4, JAMNP-S CE 133–135; `guarantor.rs`): a package submitted for
//!   a core we guarantee in the current rotation is checked on the best block, refined (Ξ), signed,
//!   shared with the core's other guarantors and, with two or three signatures, distributed to
//!   every validator as a guarantee; guarantees received are checked and pooled, one per core, and
//!   a block takes those the reports transition accepts on its parent.
//! - Availability (GP §14.4, §11.2, Appendix H, JAMNP-S CE 137, 141–143; `availability.rs`): a
//!   guarantor keeps every validator's shard of its report (bundle and segment chunks with their
//!   co-paths to the erasure root) in the store's `Shards` table; each validator fetches its own
//!   shard of every report pending on the best block from the guarantee's signers, checks it
//!   against the erasure root and keeps it; two thirds into each slot it signs an assurance for
//!   the cores it holds, sends it to `κ` and pools it with those received, which a block takes on
//!   its parent. Bundle shards go once the assuring block is final, segment shards after 672
//!   epochs. Preimages a service solicited are pooled, announced, fetched and offered to authors.
//!   A package our own user submits for a core we do not guarantee goes on to one of the core's
//!   guarantors (CE 133).
//! - Auditing and disputes (GP §17, §10, JAMNP-S CE 144, 145, 147; `auditor.rs`): for each block
//!   that makes reports available, a validator of its prior set draws its tranche-0 cores by VRF,
//!   announces them, fetches each bundle from a guarantor, recomputes the report and publishes its
//!   judgment (a bundle no guarantor gives is rebuilt from a third of the assurers' shards); later
//!   tranches cover no-shows and negative judgments. GRANDPA votes stop below the
//!   first block not yet audited; a block with a report more than a third judge invalid is dropped
//!   from the best chain with its descendants, and a bad verdict with the guarantors as culprits is
//!   offered to authors.
//!
//! [`NodeOptions`] turns tickets and GRANDPA off for tests and simulations that do not need them
//! ([`Node::new`] has both on), and can make a node a malicious guarantor for fault tests. Cost (tests/network.rs, a loaded 2-core machine, tiny spec): a slot
//! of six nodes in one thread (one block authored, six imports, their messages) takes about 13 ms
//! without GRANDPA and 55–75 ms with it; a validator's tickets cost about 1.5 s once per epoch, off
//! the node's step (`benches/tickets.rs`), and a block with three tickets about 70 ms to import.
//!
//! - Imported segments (GP §14.3, JAMNP-S CE 139; `segments.rs`): a package that imports segments
//!   has its imports resolved (package hashes through `β`), their shards fetched from the
//!   assurers, the segments reconstructed and proven against their segment roots before refine.
//!
//! What is not here: CE 140 and CE 148 (segment recovery with justifications, and from guarantors); the
//! CE 146 bundle submission of builders; making CE 129 requests and checking a response against a state root (the node serves
//! them, boundary nodes included, [`boundary`]; syncing a fresh node from a state is the driver's
//! job for now); the JAMNP-S epoch-change rule for connectivity (the wanted peers follow
//! the final block's validator sets as soon as it changes).

mod auditor;
mod availability;
pub mod boundary;
mod guarantor;
pub mod io;
pub mod limits;
mod segments;
pub mod tree;
pub mod warp;

pub use io::{
    Event, Failure, GuaranteeDiscard, Input, Message, Millis, Output, PeerId, PreimageDiscard,
    PreimageForget, Request, RequestFailure, RequestId, Response, SegmentStep, TicketWork,
};

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

use orrery_author::{author_block, posterior_safrole, slot_author, ticket_job, Pools};
use orrery_crypto::bandersnatch::{vrf_output, RingContext};
use orrery_grandpa::{BlockTree, Target, Voter, VoterSet};
use orrery_import::header_hash;
use orrery_keys::ValidatorKeys;
use orrery_network::message::{
    Announcement, BlockRef, BlockRequest, Direction, Handshake, KeyValue, StateRequest, TicketMessage,
    MAX_BOUNDARY_NODES, MAX_LEAVES,
};
use orrery_network::policy;
use orrery_state::{StateKey, TicketsOrKeys};
use orrery_stf::safrole::ticket_vrf_input;
use orrery_store::{Chain, StoreError};
use orrery_types::{Block, ChainSpec, Entropy, HeaderHash, TicketEnvelope, TimeSlot};

use limits::*;
use tree::{BlockInfo, Tree};

/// How a node runs.
#[derive(Debug)]
pub struct NodeConfig {
    pub spec: ChainSpec,
    /// A validator's keys; `None` for a node that only follows the chain.
    pub keys: Option<ValidatorKeys>,
    /// The length of a slot on the wall clock: `spec`'s slot period, or shorter on a dev testnet.
    pub slot_ms: Millis,
    /// GRANDPA's gossip bound `T` (see `orrery_grandpa::Config`).
    pub grandpa_gossip_ms: Millis,
}

/// Switches for what a node does besides following the chain; [`Node::new`] takes the defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeOptions {
    /// Make, distribute and pool Safrole tickets (a ring prover and `N` ring proofs per epoch per
    /// validator: about a second on the tiny spec). Off, the chain stays fallback-sealed.
    pub tickets: bool,
    /// Run a GRANDPA voter and finalize by it. Off, nothing is ever final.
    pub grandpa: bool,
    /// For fault tests only: as a guarantor, sign reports whose first result is altered, as a
    /// malicious guarantor would (two such guarantors of one core get a wrong report on chain,
    /// which the auditors must catch). Off in every real node.
    pub corrupt_reports: bool,
    /// For fault tests only: refuse auditors the bundles we guarantee (CE 147).
    pub withhold_bundles: bool,
    /// For fault tests only: refuse the shards we keep (CE 137), to assurers and auditors alike.
    pub withhold_shards: bool,
}

impl Default for NodeOptions {
    fn default() -> Self {
        Self {
            tickets: true,
            grandpa: true,
            corrupt_reports: false,
            withhold_bundles: false,
            withhold_shards: false,
        }
    }
}

/// What a status line shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub best: BlockRef,
    pub finalized: BlockRef,
    pub peers: usize,
    /// Whether the node knows of blocks it has not imported yet.
    pub syncing: bool,
}

/// The node's queues and stores, for metrics and telemetry.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Figures {
    /// Heights above genesis (counted by the node's block tree).
    pub best_height: u64,
    pub finalized_height: u64,
    /// Guarantees pooled for blocks, by core (at most one each).
    pub guarantees_by_core: Vec<u8>,
    /// Work packages being refined or waiting for co-guarantors' signatures.
    pub packages_in_progress: usize,
    pub assurances: usize,
    /// Tickets pooled, all epochs.
    pub tickets: usize,
    pub preimages: usize,
    pub preimages_size: usize,
    /// Availability records kept (our shards, or bundles we guaranteed), and their size.
    pub shards: usize,
    pub shards_size: u64,
}

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("store: {0}")]
    Store(#[from] orrery_store::StoreError),
    #[error("the store holds no state for its final block {0}")]
    NoFinalState(String),
}

/// What we know of a connected peer.
#[derive(Debug, Default)]
struct Peer {
    /// Blocks the peer announced or we announced to it (a bounded FIFO).
    known: BTreeSet<HeaderHash>,
    known_order: VecDeque<HeaderHash>,
    /// The newest block it told us of that we do not have.
    head: Option<BlockRef>,
    /// Misbehaviour points.
    score: u32,
    /// Announcements of unknown blocks in `flood_slot`.
    unknown_announcements: u32,
    flood_slot: TimeSlot,
    /// Our outstanding request to it, if any (one at a time).
    pending: Option<RequestId>,
}

impl Peer {
    fn learn(&mut self, hash: HeaderHash) {
        if self.known.insert(hash) {
            self.known_order.push_back(hash);
            if self.known_order.len() > MAX_KNOWN_PER_PEER {
                if let Some(old) = self.known_order.pop_front() {
                    self.known.remove(&old);
                }
            }
        }
    }
}

/// What an outstanding request of ours asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Asked {
    Blocks {
        hash: HeaderHash,
        direction: Direction,
        max: u32,
    },
    /// CE 134: a co-guarantor's signature on our report of this package.
    Share {
        package: orrery_types::Hash,
    },
    /// CE 137: our shards of the report with this erasure root.
    Shard {
        erasure_root: orrery_types::Hash,
        shard_index: u16,
    },
    /// CE 143: the preimage of this hash.
    Preimage {
        hash: orrery_types::Hash,
    },
    /// CE 147: the bundle of the report on `core` of `block`, to audit it.
    Bundle {
        block: HeaderHash,
        core: orrery_types::CoreIndex,
    },
    /// CE 138: an assurer's bundle shard of the report on `core` of `block`, to rebuild its bundle
    /// for an audit.
    AuditShard {
        block: HeaderHash,
        core: orrery_types::CoreIndex,
        shard_index: u16,
    },
    /// CE 139: segment shards of `segment_root`'s report at `shard_index`, for `package`'s imports.
    SegmentShards {
        package: orrery_types::Hash,
        segment_root: orrery_types::Hash,
        shard_index: u16,
    },
}

#[derive(Debug, Clone, Copy)]
struct Pending {
    peer: PeerId,
    asked: Asked,
    deadline: Millis,
}

/// The contest of one epoch: where its tickets' proofs are checked.
#[derive(Debug, Clone, Copy)]
struct Contest {
    epoch: u32,
    ring_root: orrery_types::BandersnatchRingCommitment,
    entropy: Entropy,
}

/// The node's protocol state.
#[derive(Debug)]
pub struct Node {
    spec: ChainSpec,
    ring: Arc<RingContext>,
    keys: Option<ValidatorKeys>,
    slot_ms: Millis,
    gossip_ms: Millis,
    options: NodeOptions,
    chain: Chain,
    now: Millis,
    tree: Tree,
    best: HeaderHash,
    /// (slot, author) → the first valid block seen for it, above the final block.
    seals: BTreeMap<(TimeSlot, u16), HeaderHash>,
    peers: BTreeMap<PeerId, Peer>,
    /// Peers refused until the given time.
    banned: BTreeMap<PeerId, Millis>,
    requests: BTreeMap<RequestId, Pending>,
    next_request: RequestId,
    /// Blocks whose parent is not imported yet, by hash, with who sent them and when they came.
    orphans: BTreeMap<HeaderHash, (Block, Option<PeerId>, Millis)>,
    /// Blocks that failed import (a bounded FIFO), so they are not fetched again.
    rejected: BTreeSet<HeaderHash>,
    rejected_order: VecDeque<HeaderHash>,
    /// Ticket pool: the epoch the tickets are used in → id → ticket.
    tickets: BTreeMap<u32, BTreeMap<Entropy, TicketEnvelope>>,
    /// The epoch whose contest our tickets went to (or are being made for).
    tickets_made: Option<u32>,
    /// Our tickets being made (by the driver, [`Output::MakeTickets`]): the contest's epoch and the
    /// Ed25519 keys of its `γ'_P`, the proxies they go to.
    tickets_making: Option<(u32, Vec<orrery_types::Ed25519Public>)>,
    contest: Option<Contest>,
    /// The last slot we considered authoring.
    last_slot: Option<TimeSlot>,
    /// The last set of wanted peers we asked for.
    wanted: Vec<(PeerId, std::net::SocketAddr)>,
    started: bool,
    voter: Option<Voter>,
    /// The latest commit of a voter set newer than ours, until its target is imported.
    future_commit: Option<(PeerId, orrery_grandpa::Commit)>,
    /// Warp sync: the first block of the current voter set's epoch (or the start block), and the
    /// commit of our set (or the one before) that finalized the final block, both for CE 153.
    warp_since: HeaderHash,
    warp_latest: Option<orrery_grandpa::Commit>,
    /// Blocks imported during the current `handle` call, to announce at its end.
    fresh: Vec<HeaderHash>,
    /// Guaranteeing: packages being refined, reports waiting for signatures, the guarantee pool.
    guarantor: guarantor::Guarantor,
    /// Availability: the shards we keep, the assurance pool, the preimage pool.
    availability: availability::Availability,
    /// Auditing: the blocks whose available reports are being audited, the bundles we serve.
    auditor: auditor::Auditor,
    /// Imported segments: the exporting reports seen, the packages waiting for their imports.
    segments: segments::Segments,
}

/// The tree, the store and the audits, as GRANDPA sees them.
struct View<'a> {
    tree: &'a Tree,
    chain: &'a Chain,
    auditor: &'a auditor::Auditor,
}

impl View<'_> {
    fn slot(&self, hash: &HeaderHash) -> Option<TimeSlot> {
        self.tree.get(hash).map(|i| i.slot).or_else(|| self.chain.header_of(hash).map(|(s, _)| s))
    }

    fn parent(&self, hash: &HeaderHash) -> Option<HeaderHash> {
        self.tree.get(hash).map(|i| i.parent).or_else(|| self.chain.header_of(hash).map(|(_, p)| p))
    }
}

impl BlockTree for View<'_> {
    fn slot(&self, hash: &HeaderHash) -> Option<TimeSlot> {
        View::slot(self, hash)
    }

    fn parent(&self, hash: &HeaderHash) -> Option<HeaderHash> {
        View::parent(self, hash)
    }

    /// The best block, cut back to below its first unaudited unfinalized ancestor: GRANDPA votes
    /// only for blocks whose ancestry is audited (GP 0.7.2 §17.3, last paragraphs).
    fn best_containing(&self, base: &HeaderHash) -> Option<Target> {
        let best = self.tree.best_from(base)?;
        let mut target = *base;
        for hash in self.tree.path(base, &best)?.iter().rev() {
            if !self.auditor.audited(hash) {
                break;
            }
            target = *hash;
        }
        Some(Target { hash: target, slot: self.tree.get(&target)?.slot })
    }
}

fn hex(bytes: &[u8]) -> String {
    orrery_store::hex(bytes)
}

impl Node {
    /// A node on `chain` (opened with no automatic finality: the node finalizes by GRANDPA) at
    /// time `now`.
    pub fn new(config: NodeConfig, chain: Chain, now: Millis) -> Result<Self, NodeError> {
        Self::with_options(config, NodeOptions::default(), chain, now)
    }

    /// [`Node::new`] with options.
    pub fn with_options(
        config: NodeConfig,
        options: NodeOptions,
        mut chain: Chain,
        now: Millis,
    ) -> Result<Self, NodeError> {
        let ring = chain.context().ring.clone();
        let finalized = chain.finalized();
        let root_slot = chain
            .state(&finalized)
            .map(|s| s.state().timeslot)
            .ok_or_else(|| NodeError::NoFinalState(hex(&finalized)))?;
        let root_author = chain.block(&finalized)?.map_or(0, |b| b.header.author_index);
        let root = BlockInfo {
            slot: root_slot,
            parent: chain.header_of(&finalized).map_or([0; 32], |(_, p)| p),
            author: root_author,
            height: 0,
            ticket_sealed: false,
            tickets: 0,
            equivocation: false,
            seen: 0,
        };
        let mut tree = Tree::new(finalized, root);
        let mut seals = BTreeMap::new();
        // The blocks above the final one, parents first (slots increase along a chain).
        let mut above: Vec<(TimeSlot, HeaderHash, HeaderHash)> =
            chain.unfinalized().filter(|(h, _, _)| *h != finalized).map(|(h, s, p)| (s, h, p)).collect();
        above.sort();
        let mut equivocations = Vec::new();
        for (slot, hash, parent) in above {
            let author = chain.block(&hash)?.map_or(0, |b| b.header.author_index);
            let sealed = chain.state(&hash).is_some_and(|s| ticket_sealed(s.state()));
            if tree.insert(hash, slot, parent, author, sealed).is_some() {
                if let Some(other) = seals.insert((slot, author), hash) {
                    equivocations.push((other, hash));
                }
            }
        }
        for (a, b) in equivocations {
            tree.mark_equivocation(&a);
            tree.mark_equivocation(&b);
        }
        let best = tree.best();
        chain.set_best(best)?;
        let warp_since = chain.warp_since()?.unwrap_or_else(|| chain.genesis());
        let mut node = Self {
            spec: config.spec,
            ring,
            keys: config.keys,
            slot_ms: config.slot_ms.max(1),
            gossip_ms: config.grandpa_gossip_ms,
            options,
            chain,
            now,
            tree,
            best,
            seals,
            peers: BTreeMap::new(),
            banned: BTreeMap::new(),
            requests: BTreeMap::new(),
            next_request: 0,
            orphans: BTreeMap::new(),
            rejected: BTreeSet::new(),
            rejected_order: VecDeque::new(),
            tickets: BTreeMap::new(),
            tickets_made: None,
            tickets_making: None,
            contest: None,
            last_slot: None,
            wanted: Vec::new(),
            started: false,
            voter: None,
            future_commit: None,
            warp_since,
            warp_latest: None,
            fresh: Vec::new(),
            guarantor: guarantor::Guarantor::default(),
            segments: segments::Segments::default(),
            availability: availability::Availability::default(),
            auditor: auditor::Auditor::default(),
        };
        if node.options.grandpa {
            node.start_voter();
        }
        node.recall_exporters()?;
        Ok(node)
    }

    /// Handles one input at time `now` and says what to do.
    pub fn handle(&mut self, now: Millis, input: Input) -> Vec<Output> {
        self.now = self.now.max(now);
        let mut out = Vec::new();
        if !self.started {
            self.started = true;
            self.want_peers(&mut out);
        }
        match input {
            Input::Tick => {}
            Input::PeerConnected { peer, builder: _ } => self.on_connected(peer, &mut out),
            Input::PeerDisconnected { peer } => self.drop_peer(&peer),
            Input::Message { peer, message } => {
                if self.peers.contains_key(&peer) {
                    self.on_message(peer, message, &mut out);
                }
            }
            Input::Request { peer, id, request } => {
                // Any peer not refused is answered (or refused at once), so no stream waits.
                if !self.banned.contains_key(&peer) {
                    match self.serve(peer, request, &mut out) {
                        Some(response) => out.push(Output::Respond { peer, id, response }),
                        None => out.push(Output::Refuse { peer, id }),
                    }
                }
            }
            Input::Response { peer, id, response } => self.on_response(peer, id, response, &mut out),
            Input::Misbehaved { peer, what } => self.misbehaved(peer, BAD_MESSAGE, &what, &mut out),
            Input::SubmitWorkPackage(submission) => self.on_work_package(None, submission, &mut out),
            Input::SubmitPreimage { requester, blob } => self.on_submit_preimage(requester, blob, &mut out),
            Input::TicketsMade { epoch, tickets } => self.on_tickets_made(epoch, tickets, &mut out),
        }
        self.on_time(&mut out);
        if !self.fresh.is_empty() {
            self.try_future_commit(&mut out);
        }
        self.announce_fresh(&mut out);
        out
    }

    /// When the node next wants an [`Input::Tick`].
    pub fn next_wake(&self) -> Millis {
        let next_slot = (self.now / self.slot_ms + 1).saturating_mul(self.slot_ms);
        let mut wake = next_slot;
        if let Some(deadline) = self.requests.values().map(|p| p.deadline).min() {
            wake = wake.min(deadline);
        }
        if let Some(voter) = &self.voter {
            wake = wake.min(voter.next_wake());
        }
        let work = [
            self.guarantor_next_wake(),
            self.availability_next_wake(),
            self.auditor_next_wake(),
            self.segments_next_wake(),
        ];
        for work in work.into_iter().flatten() {
            wake = wake.min(work);
        }
        wake.max(self.now)
    }

    pub fn status(&self) -> Status {
        let finalized = self.tree.finalized();
        Status {
            best: self.block_ref(&self.best),
            finalized: self.block_ref(&finalized),
            peers: self.peers.len(),
            syncing: self.syncing() || self.peers.values().any(|p| p.head.is_some()),
        }
    }

    /// Pool and store sizes (a walk over the pools: for a scrape or a status every few seconds).
    pub fn figures(&self) -> Figures {
        let (guarantees_by_core, packages_in_progress) = self.guarantor_figures();
        let (shards, shards_size, assurances, preimages, preimages_size) = self.availability_figures();
        let height = |hash: &HeaderHash| self.tree.get(hash).map_or(0, |i| i.height);
        Figures {
            best_height: height(&self.best),
            finalized_height: height(&self.tree.finalized()),
            guarantees_by_core,
            packages_in_progress,
            assurances,
            tickets: self.tickets.values().map(BTreeMap::len).sum(),
            preimages,
            preimages_size,
            shards,
            shards_size,
        }
    }

    /// The blocks and states.
    pub fn chain(&self) -> &Chain {
        &self.chain
    }

    /// The tickets pooled for use in `epoch` (the contest of the epoch before it).
    pub fn pooled_tickets(&self, epoch: u32) -> usize {
        self.tickets.get(&epoch).map_or(0, BTreeMap::len)
    }

    /// The best block's ancestors that were sealed by tickets, counted from where the node started.
    pub fn best_ticket_sealed(&self) -> u64 {
        self.tree.get(&self.best).map_or(0, |i| i.tickets)
    }

    /// The misbehaviour points a connected peer has.
    pub fn peer_score(&self, peer: &PeerId) -> Option<u32> {
        self.peers.get(peer).map(|p| p.score)
    }

    fn block_ref(&self, hash: &HeaderHash) -> BlockRef {
        BlockRef { hash: *hash, slot: self.tree.get(hash).map_or(0, |i| i.slot) }
    }

    fn slot_now(&self) -> TimeSlot {
        u32::try_from(self.now / self.slot_ms).unwrap_or(u32::MAX)
    }

    fn epoch_of(&self, slot: TimeSlot) -> u32 {
        slot / self.spec.epoch_length.max(1)
    }

    fn syncing(&self) -> bool {
        !self.orphans.is_empty() || self.requests.values().any(|p| matches!(p.asked, Asked::Blocks { .. }))
    }

    fn catching_up(&self) -> bool {
        self.requests
            .values()
            .any(|p| matches!(p.asked, Asked::Blocks { direction: Direction::AscendingExclusive, .. }))
    }

    fn our_ed25519(&self) -> Option<[u8; 32]> {
        self.keys.as_ref().map(ValidatorKeys::ed25519_public)
    }

    // ---- time ----

    fn on_time(&mut self, out: &mut Vec<Output>) {
        let now = self.now;
        let expired: Vec<RequestId> =
            self.requests.iter().filter(|(_, p)| p.deadline <= now).map(|(id, _)| *id).collect();
        for id in expired {
            self.forget_request(id);
        }
        self.banned.retain(|_, until| *until > now);
        // Orphans whose ancestry never came (a fork pruned elsewhere, a peer that went away).
        let ttl = ORPHAN_TTL_SLOTS.saturating_mul(self.slot_ms);
        self.orphans.retain(|_, (_, _, at)| at.saturating_add(ttl) > now);

        let slot = self.slot_now();
        if self.last_slot.is_none_or(|last| slot > last) {
            self.last_slot = Some(slot);
            // Once a slot: a peer whose head we still lack is asked again.
            let behind: Vec<(PeerId, BlockRef)> =
                self.peers.iter().filter_map(|(id, p)| p.head.map(|h| (*id, h))).collect();
            for (peer, head) in behind {
                self.sync(peer, head, out);
            }
            if self.options.tickets {
                self.make_tickets(slot, out);
            }
            self.author(slot, out);
        }
        self.guarantor_on_time(out);
        self.availability_on_time(out);
        self.auditor_on_time(out);
        self.segments_on_time(out);
        if self.voter.as_ref().is_some_and(|v| v.next_wake() <= now) {
            self.vote(orrery_grandpa::Input::Tick, out);
        }
    }

    // ---- authoring ----

    fn author(&mut self, slot: TimeSlot, out: &mut Vec<Output>) {
        let Some(keys) = &self.keys else { return };
        // Far behind (fetching more than a request's worth of blocks): a block on our stale head
        // would only be a short fork. Not for a pending descending request or an orphan: a peer
        // announcing one unknown block per slot would then silence us.
        if self.catching_up() {
            return;
        }
        let best = self.best;
        let Some(info) = self.tree.get(&best) else { return };
        if info.slot >= slot {
            return;
        }
        let Some(prior) = self.chain.state(&best) else { return };
        let claim = match slot_author(&self.spec, &self.ring, prior.state(), slot, keys) {
            Ok(Some(claim)) => claim,
            _ => return,
        };
        // Never seal a second block for one slot (after a restart, on another parent).
        if self.seals.contains_key(&(slot, claim.index)) {
            return;
        }
        let epoch = self.epoch_of(slot);
        let pools = Pools {
            tickets: self
                .tickets
                .get(&(epoch + 1))
                .map(|t| t.values().cloned().collect())
                .unwrap_or_default(),
            guarantees: self.guarantees_for_block(&best, slot),
            assurances: self.assurances_for_block(&best),
            preimages: self.preimages_for_block(&best),
            disputes: self.disputes_for_block(&best),
        };
        match author_block(&self.spec, &self.ring, prior, best, slot, keys, &pools) {
            Ok(block) => {
                let hash = header_hash(&block.header);
                out.push(Output::Event(Event::Authored { hash, slot }));
                self.import(block, None, out);
            }
            Err(e) => {
                out.push(Output::Event(Event::AuthoringFailed { slot, parent: best, reason: e.to_string() }))
            }
        }
    }

    // ---- import ----

    /// Imports a block and then every orphan waiting on it. Returns whether `block` was imported.
    fn import(&mut self, block: Block, from: Option<PeerId>, out: &mut Vec<Output>) -> bool {
        let first = header_hash(&block.header);
        let mut work = vec![(block, from)];
        let mut imported_first = false;
        while let Some((block, from)) = work.pop() {
            let hash = header_hash(&block.header);
            if self.tree.contains(&hash) || self.rejected.contains(&hash) {
                continue;
            }
            let slot = block.header.slot;
            if slot > self.slot_now() || slot <= self.block_ref(&self.tree.finalized()).slot {
                // From the future (GP eq. 5.7's wall-clock bound) or unfinalizable: dropped.
                continue;
            }
            if !self.tree.contains(&block.header.parent) {
                if self.orphans.len() < MAX_ORPHANS {
                    self.orphans.insert(hash, (block, from, self.now));
                }
                continue;
            }
            match self.chain.import(&block) {
                Ok(outcome) => {
                    let sealed = self.chain.state(&hash).is_some_and(|s| ticket_sealed(s.state()));
                    let author = block.header.author_index;
                    self.tree.insert(hash, slot, block.header.parent, author, sealed);
                    if let Some(other) = self.seals.get(&(slot, author)).copied() {
                        self.tree.mark_equivocation(&other);
                        self.tree.mark_equivocation(&hash);
                        out.push(Output::Event(Event::Equivocation { slot, author }));
                    } else {
                        self.seals.insert((slot, author), hash);
                    }
                    if let Some(peer) = from.and_then(|p| self.peers.get_mut(&p)) {
                        peer.learn(hash);
                    }
                    for peer in self.peers.values_mut() {
                        if peer.head.is_some_and(|h| h.hash == hash) {
                            peer.head = None;
                        }
                    }
                    self.update_best();
                    out.push(Output::Event(Event::Imported {
                        hash,
                        slot: outcome.slot,
                        best: self.best == hash,
                    }));
                    self.fresh.push(hash);
                    imported_first |= hash == first;
                    self.guarantor_on_imported(&hash, out);
                    self.availability_on_imported(&hash, out);
                    self.auditor_on_imported(&hash, out);
                    self.segments_on_imported(&hash);
                    self.vote(orrery_grandpa::Input::BlockImported(hash), out);
                    // The orphans this block was waiting for.
                    let waiting: Vec<HeaderHash> = self
                        .orphans
                        .iter()
                        .filter(|(_, (b, _, _))| b.header.parent == hash)
                        .map(|(h, _)| *h)
                        .collect();
                    for h in waiting {
                        if let Some((block, from, _)) = self.orphans.remove(&h) {
                            work.push((block, from));
                        }
                    }
                }
                Err(StoreError::AlreadyImported(_)) => {}
                Err(StoreError::Invalid(e)) => {
                    // Accumulation runs after every validity rule (GP 0.7.2 §12.2): the block was
                    // verified and failed in execution.
                    let failure = if matches!(e, orrery_import::BlockError::Accumulate(_)) {
                        Failure::Execution(Box::new(block))
                    } else {
                        Failure::Verification(Box::new(block))
                    };
                    self.reject(hash, e.to_string(), failure, out);
                    if let Some(peer) = from {
                        self.misbehaved(peer, INVALID_BLOCK, &format!("invalid block: {e}"), out);
                    }
                }
                Err(e @ (StoreError::UnknownParent(_) | StoreError::BelowFinalized { .. })) => {
                    let failure = Failure::Verification(Box::new(block));
                    out.push(Output::Event(Event::Rejected { hash, reason: e.to_string(), failure }))
                }
                // The store failed to write a valid block's posterior state.
                Err(e) => {
                    let failure = Failure::Execution(Box::new(block));
                    out.push(Output::Event(Event::Rejected { hash, reason: e.to_string(), failure }))
                }
            }
        }
        imported_first
    }

    fn reject(&mut self, hash: HeaderHash, reason: String, failure: Failure, out: &mut Vec<Output>) {
        if self.rejected.insert(hash) {
            self.rejected_order.push_back(hash);
            if self.rejected_order.len() > MAX_REJECTED {
                if let Some(old) = self.rejected_order.pop_front() {
                    self.rejected.remove(&old);
                }
            }
        }
        // Orphans on top of it are invalid too.
        self.orphans.retain(|_, (b, _, _)| b.header.parent != hash);
        out.push(Output::Event(Event::Rejected { hash, reason, failure }));
    }

    /// Recomputes the best block, and keeps the store's (which an import moves to the latest slot)
    /// on it, so a restart finds ours.
    fn update_best(&mut self) {
        let best = self.tree.best();
        if self.chain.best().0 != best && self.chain.set_best(best).is_err() {
            return;
        }
        self.best = best;
    }

    /// Announces (UP 0) the blocks imported in this call that got no child in it.
    fn announce_fresh(&mut self, out: &mut Vec<Output>) {
        let fresh = std::mem::take(&mut self.fresh);
        let finalized = self.block_ref(&self.tree.finalized());
        for hash in &fresh {
            if !self.tree.contains(hash)
                || fresh.iter().any(|h| self.tree.get(h).is_some_and(|i| i.parent == *hash))
            {
                continue;
            }
            let Ok(Some(block)) = self.chain.block(hash) else { continue };
            let announcement = Announcement { header: block.header, finalized };
            for (id, peer) in self.peers.iter_mut() {
                if peer.known.contains(hash) {
                    continue;
                }
                peer.learn(*hash);
                out.push(Output::Send { peer: *id, message: Message::Announcement(announcement.clone()) });
            }
        }
    }

    // ---- peers ----

    fn on_connected(&mut self, peer: PeerId, out: &mut Vec<Output>) {
        if self.banned.contains_key(&peer) {
            out.push(Output::Disconnect { peer, reason: "refused for misbehaviour".into() });
            return;
        }
        if !self.peers.contains_key(&peer) && self.peers.len() >= MAX_PEERS {
            out.push(Output::Disconnect { peer, reason: "too many peers".into() });
            return;
        }
        self.drop_peer(&peer);
        self.peers.insert(peer, Peer::default());
        let mut leaves: Vec<BlockRef> = self.tree.leaves().iter().map(|h| self.block_ref(h)).collect();
        // The newest leaves if there are too many.
        leaves.sort_by_key(|l| std::cmp::Reverse(l.slot));
        leaves.truncate(MAX_LEAVES);
        let handshake = Handshake { finalized: self.block_ref(&self.tree.finalized()), leaves };
        out.push(Output::Send { peer, message: Message::Handshake(handshake) });
    }

    fn drop_peer(&mut self, peer: &PeerId) {
        if let Some(p) = self.peers.remove(peer) {
            if let Some(id) = p.pending {
                self.requests.remove(&id);
            }
        }
    }

    fn misbehaved(&mut self, peer: PeerId, points: u32, what: &str, out: &mut Vec<Output>) {
        let Some(p) = self.peers.get_mut(&peer) else { return };
        p.score = p.score.saturating_add(points);
        if p.score >= MISBEHAVIOUR_LIMIT {
            self.drop_peer(&peer);
            self.banned.insert(peer, self.now.saturating_add(BAN_SLOTS.saturating_mul(self.slot_ms)));
            out.push(Output::Disconnect { peer, reason: format!("misbehaviour: {what}") });
        }
    }

    fn on_message(&mut self, peer: PeerId, message: Message, out: &mut Vec<Output>) {
        match message {
            Message::Handshake(handshake) => {
                if handshake.leaves.len() > MAX_LEAVES {
                    return self.misbehaved(peer, BAD_MESSAGE, "too many leaves", out);
                }
                let mut newest: Option<BlockRef> = None;
                if let Some(p) = self.peers.get_mut(&peer) {
                    p.learn(handshake.finalized.hash);
                    for leaf in &handshake.leaves {
                        p.learn(leaf.hash);
                    }
                }
                for leaf in handshake.leaves.iter().chain([&handshake.finalized]) {
                    if !self.knows(&leaf.hash) && newest.is_none_or(|n| leaf.slot > n.slot) {
                        newest = Some(*leaf);
                    }
                }
                if let Some(head) = newest {
                    self.sync(peer, head, out);
                }
            }
            Message::Announcement(announcement) => {
                let hash = header_hash(&announcement.header);
                let slot = announcement.header.slot;
                if let Some(p) = self.peers.get_mut(&peer) {
                    p.learn(hash);
                }
                if self.rejected.contains(&hash) {
                    return self.misbehaved(peer, INVALID_BLOCK, "announced an invalid block", out);
                }
                if self.knows(&hash) || self.orphans.contains_key(&hash) {
                    return;
                }
                let now_slot = self.slot_now();
                let flooded = match self.peers.get_mut(&peer) {
                    Some(p) => {
                        if p.flood_slot != now_slot {
                            p.flood_slot = now_slot;
                            p.unknown_announcements = 0;
                        }
                        p.unknown_announcements += 1;
                        p.unknown_announcements > MAX_UNKNOWN_ANNOUNCEMENTS_PER_SLOT
                    }
                    None => return,
                };
                if flooded {
                    return self.misbehaved(peer, FLOOD, "a flood of unknown-block announcements", out);
                }
                if slot > now_slot {
                    return self.misbehaved(peer, FLOOD, "announced a block from the future", out);
                }
                self.sync(peer, BlockRef { hash, slot }, out);
            }
            Message::Ticket { to_proxy, ticket } => self.on_ticket(Some(peer), to_proxy, ticket, out),
            Message::Grandpa(message) => self.on_grandpa(peer, message, out),
            Message::WorkPackage(submission) => self.on_work_package(Some(peer), submission, out),
            Message::Guarantee(guarantee) => self.on_guarantee(peer, guarantee, out),
            Message::Assurance(assurance) => self.on_assurance(peer, assurance, out),
            Message::PreimageAnnouncement(announcement) => {
                self.on_preimage_announcement(peer, announcement, out)
            }
            Message::AuditAnnouncement(announcement) => self.on_audit_announcement(peer, announcement, out),
            Message::Judgment(judgment) => self.on_judgment(peer, judgment, out),
        }
    }

    fn knows(&self, hash: &HeaderHash) -> bool {
        self.tree.contains(hash) || self.chain.contains(hash)
    }

    /// Fetches `target` (and what it needs) from `peer`, unless a request is already out to it.
    fn sync(&mut self, peer: PeerId, target: BlockRef, out: &mut Vec<Output>) {
        // A block that failed import is not fetched again: asked for at every slot, its request
        // would keep the node `syncing` at the slot's start, and so from authoring.
        if self.knows(&target.hash) || self.rejected.contains(&target.hash) {
            if let Some(p) = self.peers.get_mut(&peer) {
                p.head = None;
            }
            return;
        }
        let Some(p) = self.peers.get_mut(&peer) else { return };
        if p.head.is_none_or(|h| target.slot >= h.slot) {
            p.head = Some(target);
        }
        if p.pending.is_some() || self.requests.len() >= MAX_REQUESTS {
            return;
        }
        let best_slot = self.block_ref(&self.best).slot;
        let final_slot = self.block_ref(&self.tree.finalized()).slot;
        let asked = if self.orphans.contains_key(&target.hash) {
            return;
        } else if target.slot <= best_slot.saturating_add(MAX_BLOCKS_PER_REQUEST) {
            let max = target.slot.saturating_sub(final_slot).clamp(1, MAX_BLOCKS_PER_REQUEST);
            Asked::Blocks { hash: target.hash, direction: Direction::DescendingInclusive, max }
        } else {
            Asked::Blocks {
                hash: self.best,
                direction: Direction::AscendingExclusive,
                max: MAX_BLOCKS_PER_REQUEST,
            }
        };
        self.request(peer, asked, out);
    }

    fn request(&mut self, peer: PeerId, asked: Asked, out: &mut Vec<Output>) {
        let Asked::Blocks { hash, direction, max } = asked else { return };
        let Some(p) = self.peers.get_mut(&peer) else { return };
        if p.pending.is_some() || self.requests.len() >= MAX_REQUESTS {
            return;
        }
        let id = self.next_request;
        self.next_request += 1;
        p.pending = Some(id);
        let deadline = self.now.saturating_add(REQUEST_TIMEOUT_SLOTS.saturating_mul(self.slot_ms));
        self.requests.insert(id, Pending { peer, asked, deadline });
        let request = Request::Blocks(BlockRequest { hash, direction, max_blocks: max });
        out.push(Output::Request { peer, id, request });
    }

    /// Makes a work-package request (CE 134, 137, 143): unlike block requests, several may be out
    /// to one peer at once, up to [`MAX_WORK_REQUESTS_PER_PEER`]. Returns whether it was made.
    fn work_request(&mut self, peer: PeerId, asked: Asked, request: Request, out: &mut Vec<Output>) -> bool {
        if !self.peers.contains_key(&peer) || self.requests.len() >= MAX_REQUESTS {
            return false;
        }
        let to_peer =
            self.requests.values().filter(|p| p.peer == peer && !matches!(p.asked, Asked::Blocks { .. }));
        if to_peer.count() >= MAX_WORK_REQUESTS_PER_PEER {
            return false;
        }
        let id = self.next_request;
        self.next_request += 1;
        let deadline = self.now.saturating_add(REQUEST_TIMEOUT_SLOTS.saturating_mul(self.slot_ms));
        self.requests.insert(id, Pending { peer, asked, deadline });
        out.push(Output::Request { peer, id, request });
        true
    }

    fn forget_request(&mut self, id: RequestId) -> Option<Pending> {
        let pending = self.requests.remove(&id)?;
        if let Some(p) = self.peers.get_mut(&pending.peer) {
            if p.pending == Some(id) {
                p.pending = None;
            }
        }
        Some(pending)
    }

    fn on_response(
        &mut self,
        peer: PeerId,
        id: RequestId,
        response: Result<Response, RequestFailure>,
        out: &mut Vec<Output>,
    ) {
        let Some(pending) = self.requests.get(&id).copied() else {
            // Late after our own deadline, or never asked.
            return;
        };
        if pending.peer != peer {
            return self.misbehaved(peer, BAD_MESSAGE, "a response to another peer's request", out);
        }
        self.forget_request(id);
        let response = match (pending.asked, response) {
            (Asked::Blocks { .. }, Err(_)) => return,
            (Asked::Share { package }, Err(_)) => return self.on_share_failed(peer, package, out),
            (Asked::Shard { erasure_root, shard_index }, Err(_)) => {
                return self.on_shard_failed(peer, erasure_root, shard_index, out)
            }
            (Asked::Preimage { .. }, Err(_)) => return,
            (Asked::Bundle { block, core }, Err(_)) => return self.on_bundle_failed(peer, block, core, out),
            (Asked::AuditShard { block, core, .. }, Err(_)) => {
                return self.on_audit_shard_failed(block, core, out)
            }
            (Asked::SegmentShards { package, segment_root, shard_index }, Err(_)) => {
                return self.on_segment_shards_failed(package, segment_root, shard_index, out)
            }
            (_, Ok(response)) => response,
        };
        match (pending.asked, response) {
            (Asked::Blocks { hash, direction, max }, Response::Blocks(blocks)) => {
                self.on_blocks(peer, hash, direction, max, blocks, out)
            }
            (Asked::Share { package }, Response::ReportSignature(signature)) => {
                self.on_report_signature(peer, package, signature, out)
            }
            (Asked::Shard { erasure_root, shard_index }, Response::Shard(shards)) => {
                self.on_shards(peer, erasure_root, shard_index, shards, out)
            }
            (Asked::Preimage { hash }, Response::Preimage(blob)) => self.on_preimage(peer, hash, blob, out),
            (Asked::Bundle { block, core }, Response::Bundle(bundle)) => {
                self.on_bundle(peer, block, core, bundle, out)
            }
            (Asked::AuditShard { block, core, shard_index }, Response::AuditShard(shard)) => {
                self.on_audit_shard(peer, block, core, shard_index, shard, out)
            }
            (
                Asked::SegmentShards { package, segment_root, shard_index },
                Response::SegmentShards(shards),
            ) => self.on_segment_shards(peer, package, segment_root, shard_index, shards, out),
            // We make no state requests; the driver syncs a fresh node from a state itself.
            _ => self.misbehaved(peer, BAD_MESSAGE, "a response of the wrong kind", out),
        }
    }

    fn on_blocks(
        &mut self,
        peer: PeerId,
        hash: HeaderHash,
        direction: Direction,
        max: u32,
        blocks: Vec<Block>,
        out: &mut Vec<Output>,
    ) {
        if blocks.len() > max as usize {
            return self.misbehaved(peer, BAD_MESSAGE, "more blocks than asked", out);
        }
        let hashes: Vec<HeaderHash> = blocks.iter().map(|b| header_hash(&b.header)).collect();
        // The blocks must be the chain asked for: descending from `hash` (included) through
        // parents, or ascending from a child of `hash`.
        let chained = match direction {
            Direction::DescendingInclusive => {
                hashes.first().is_none_or(|h| *h == hash)
                    && blocks
                        .windows(2)
                        .zip(hashes.get(1..).unwrap_or_default())
                        .all(|(w, h)| w[0].header.parent == *h)
            }
            Direction::AscendingExclusive => {
                blocks.first().is_none_or(|b| b.header.parent == hash)
                    && blocks.windows(2).zip(&hashes).all(|(w, h)| w[1].header.parent == *h)
            }
        };
        if !chained {
            return self.misbehaved(peer, BAD_MESSAGE, "blocks that are not the chain asked for", out);
        }
        match direction {
            Direction::DescendingInclusive => {
                if blocks.is_empty() {
                    // It announced a block it will not give.
                    if let Some(p) = self.peers.get_mut(&peer) {
                        p.head = None;
                    }
                    return self.misbehaved(peer, FLOOD, "announced a block it does not serve", out);
                }
                let oldest_parent = blocks.last().map(|b| b.header.parent);
                for block in blocks.into_iter().rev() {
                    self.import(block, Some(peer), out);
                }
                // A head that neither imported nor waits as an orphan (below our final block, or
                // invalid) is not asked for again.
                if !self.knows(&hash) && !self.orphans.contains_key(&hash) {
                    if let Some(p) = self.peers.get_mut(&peer) {
                        if p.head.is_some_and(|h| h.hash == hash) {
                            p.head = None;
                        }
                    }
                }
                // Still no known ancestor: continue below the oldest block.
                if let Some(parent) = oldest_parent {
                    if !self.knows(&parent) && self.orphans.len() < MAX_ORPHANS {
                        let slot = self.orphans.values().map(|(b, _, _)| b.header.slot).min().unwrap_or(0);
                        let final_slot = self.block_ref(&self.tree.finalized()).slot;
                        let max = slot.saturating_sub(final_slot).clamp(1, MAX_BLOCKS_PER_REQUEST);
                        let asked =
                            Asked::Blocks { hash: parent, direction: Direction::DescendingInclusive, max };
                        self.request(peer, asked, out);
                    }
                }
            }
            Direction::AscendingExclusive => {
                if blocks.is_empty() {
                    // It does not have our best block: start again from the final one.
                    let finalized = self.tree.finalized();
                    if hash != finalized {
                        let asked = Asked::Blocks {
                            hash: finalized,
                            direction: Direction::AscendingExclusive,
                            max: MAX_BLOCKS_PER_REQUEST,
                        };
                        self.request(peer, asked, out);
                    } else if let Some(p) = self.peers.get_mut(&peer) {
                        p.head = None;
                    }
                    return;
                }
                let full = blocks.len() == max as usize;
                let last = hashes.last().copied();
                for block in blocks {
                    self.import(block, Some(peer), out);
                }
                if let (true, Some(last)) = (full, last) {
                    if self.tree.contains(&last) {
                        let asked = Asked::Blocks {
                            hash: last,
                            direction: Direction::AscendingExclusive,
                            max: MAX_BLOCKS_PER_REQUEST,
                        };
                        self.request(peer, asked, out);
                    }
                }
            }
        }
    }

    // ---- serving ----

    /// The answer to a peer's request, or `None` to refuse it (the driver resets the stream).
    fn serve(&mut self, peer: PeerId, request: Request, out: &mut Vec<Output>) -> Option<Response> {
        match request {
            Request::Blocks(req) => Some(Response::Blocks(self.serve_blocks(&req))),
            Request::State(req) => Some(self.serve_state(&req)),
            Request::ShareBundle(share) => self.serve_share(peer, share, out),
            Request::Shard(req) => self.serve_shard(peer, req, out),
            Request::AuditShard(req) => self.serve_audit_shard(req),
            Request::Preimage(hash) => self.serve_preimage(peer, hash, out),
            Request::Bundle(erasure_root) => self.serve_bundle(peer, erasure_root),
            Request::SegmentShards(req) => self.serve_segment_shards(req),
            Request::Warp(set_id) => Some(Response::Warp(Box::new(self.warp_proof(set_id)))),
        }
    }

    fn serve_blocks(&self, req: &BlockRequest) -> Vec<Block> {
        let max = req.max_blocks.min(MAX_SERVED_BLOCKS) as usize;
        let view = View { tree: &self.tree, chain: &self.chain, auditor: &self.auditor };
        let mut hashes = Vec::new();
        match req.direction {
            Direction::DescendingInclusive => {
                if !self.knows(&req.hash) {
                    return Vec::new();
                }
                let mut at = req.hash;
                while hashes.len() < max {
                    hashes.push(at);
                    match view.parent(&at) {
                        Some(parent) if self.knows(&parent) => at = parent,
                        _ => break,
                    }
                }
            }
            Direction::AscendingExclusive => {
                let finalized = self.tree.finalized();
                if self.tree.contains(&req.hash) {
                    if let Some(head) = self.tree.best_from(&req.hash) {
                        if let Some(path) = self.tree.path(&req.hash, &head) {
                            hashes.extend(path.into_iter().rev().take(max));
                        }
                    }
                } else if let Some((slot, _)) = self.chain.header_of(&req.hash) {
                    // A final block: the final chain from its child up, then on along the best chain.
                    let mut below = Vec::new();
                    let mut at = finalized;
                    while at != req.hash {
                        match view.slot(&at) {
                            Some(s) if s > slot => below.push(at),
                            _ => return Vec::new(),
                        }
                        match view.parent(&at) {
                            Some(parent) => at = parent,
                            None => return Vec::new(),
                        }
                    }
                    hashes.extend(below.into_iter().rev().take(max));
                    if let Some(path) = self.tree.path(&finalized, &self.best) {
                        let room = max - hashes.len();
                        hashes.extend(path.into_iter().rev().take(room));
                    }
                }
            }
        }
        // Only our final chain and the blocks above it are in reach, so nothing unfinalizable is
        // served. Blocks of an equivocation are served: a peer needs both to see it. The list stops
        // at the first block the store cannot give (the genesis has no body), so it stays a chain.
        hashes.into_iter().map_while(|h| self.chain.block(&h).ok().flatten()).collect()
    }

    fn serve_state(&self, req: &StateRequest) -> Response {
        let mut pairs = Vec::new();
        let mut boundary = Vec::new();
        if let Some(state) = self.chain.state(&req.hash) {
            let mut size = 0usize;
            for (key, value) in state.pairs().filter(|(k, _)| **k >= req.start && **k <= req.end) {
                size += key.len() + 4 + value.len();
                if !pairs.is_empty() && size > req.max_size as usize {
                    break;
                }
                pairs.push(KeyValue { key: *key, value: value.to_vec() });
            }
            // The paths to the requested start key and to the last key sent (JAMNP-S CE 129).
            let all: Vec<(StateKey, &[u8])> = state.pairs().map(|(k, v)| (*k, v)).collect();
            let last = pairs.last().map_or(req.start, |p| p.key);
            boundary = boundary::boundary_nodes(&all, &req.start, &last);
            boundary.truncate(MAX_BOUNDARY_NODES);
        }
        Response::State { boundary, pairs }
    }

    // ---- tickets ----

    /// The contest running in `slot`'s epoch: the ring root and entropy its tickets are proved on.
    fn contest(&mut self, slot: TimeSlot) -> Option<Contest> {
        let epoch = self.epoch_of(slot);
        if let Some(c) = self.contest.filter(|c| c.epoch == epoch) {
            return Some(c);
        }
        let state = self.chain.state(&self.best)?.state();
        let contest = if self.epoch_of(state.timeslot) == epoch {
            Contest { epoch, ring_root: state.safrole.ring_root, entropy: state.entropy.0[2] }
        } else if state.timeslot < slot {
            let posterior =
                posterior_safrole(&self.spec, &self.ring, state, slot, &state.disputes.offenders, &[])
                    .ok()?;
            Contest { epoch, ring_root: posterior.safrole.ring_root, entropy: posterior.entropy.0[2] }
        } else {
            return None;
        };
        self.contest = Some(contest);
        Some(contest)
    }

    /// Once per epoch, at the JAMNP-S slot: asks the driver to make our tickets. Only the cheap part
    /// (the contest's ring and entropy, the proxies) is done here; the proofs come back as
    /// [`Input::TicketsMade`].
    fn make_tickets(&mut self, slot: TimeSlot, out: &mut Vec<Output>) {
        let Some(keys) = &self.keys else { return };
        let length = self.spec.epoch_length.max(1);
        let epoch = self.epoch_of(slot);
        let phase = slot % length;
        let due = policy::epoch_change_delay(length) + policy::ticket_send_delay(length);
        if self.tickets_made == Some(epoch) || phase < due || phase >= self.spec.ticket_submission_end {
            return;
        }
        let Some(prior) = self.chain.state(&self.best).map(|s| s.state()) else { return };
        let at = slot.max(prior.timeslot + 1);
        if self.epoch_of(at) != epoch {
            return;
        }
        self.tickets_made = Some(epoch);
        let job = match ticket_job(&self.spec, &self.ring, prior, at, keys) {
            Ok(Some(job)) => job,
            Ok(None) => return,
            Err(e) => {
                let reason = e.to_string();
                return out.push(Output::Event(Event::TicketGenerationFailed { epoch: epoch + 1, reason }));
            }
        };
        // The next epoch's validators (`γ'_P` of the contest's epoch) are the proxies.
        let proxies = if self.epoch_of(prior.timeslot) == epoch {
            prior.safrole.pending_validators.clone()
        } else {
            match posterior_safrole(&self.spec, &self.ring, prior, at, &prior.disputes.offenders, &[]) {
                Ok(posterior) => posterior.safrole.pending_validators,
                Err(_) => prior.safrole.pending_validators.clone(),
            }
        };
        self.tickets_making = Some((epoch, proxies.iter().map(|v| v.ed25519).collect()));
        out.push(Output::MakeTickets(TicketWork::new(epoch, job, self.ring.clone(), keys.clone())));
    }

    /// Our tickets are made: pool them and send each to its proxy (CE 131), or to all (CE 132). Too
    /// late for their contest (or not asked for), they are dropped.
    fn on_tickets_made(
        &mut self,
        epoch: u32,
        tickets: Result<Vec<TicketEnvelope>, String>,
        out: &mut Vec<Output>,
    ) {
        let Some((_, proxies)) = self.tickets_making.take_if(|(e, _)| *e == epoch) else { return };
        let made = match tickets {
            Ok(made) => made,
            Err(reason) => {
                return out.push(Output::Event(Event::TicketGenerationFailed { epoch: epoch + 1, reason }))
            }
        };
        let outputs = made.iter().filter_map(|t| vrf_output(&t.signature).ok()).collect();
        out.push(Output::Event(Event::TicketsGenerated { epoch: epoch + 1, outputs }));
        let slot = self.slot_now();
        if self.epoch_of(slot) != epoch
            || slot % self.spec.epoch_length.max(1) >= self.spec.ticket_submission_end
        {
            return;
        }
        let me = self.our_ed25519();
        for ticket in made {
            let Ok(id) = vrf_output(&ticket.signature) else { continue };
            let message =
                TicketMessage { epoch: epoch + 1, attempt: ticket.attempt, proof: ticket.signature };
            self.pool_ticket(epoch + 1, id, ticket);
            let proxy = policy::ticket_proxy_index(&id, proxies.len() as u16)
                .and_then(|i| proxies.get(usize::from(i)))
                .copied();
            match proxy {
                Some(proxy) if Some(proxy) != me && self.peers.contains_key(&proxy) => {
                    out.push(Output::Send {
                        peer: proxy,
                        message: Message::Ticket { to_proxy: true, ticket: message },
                    })
                }
                // We are the proxy, or it is not connected: to all (CE 132).
                _ => self.broadcast_ticket(None, &message, out),
            }
        }
    }

    fn broadcast_ticket(&self, except: Option<PeerId>, ticket: &TicketMessage, out: &mut Vec<Output>) {
        for peer in self.peers.keys().filter(|p| Some(**p) != except) {
            out.push(Output::Send {
                peer: *peer,
                message: Message::Ticket { to_proxy: false, ticket: ticket.clone() },
            });
        }
    }

    /// Pools a checked ticket; returns whether it is new. Keeps the lowest ids only.
    fn pool_ticket(&mut self, epoch: u32, id: Entropy, ticket: TicketEnvelope) -> bool {
        let cap = (2 * self.spec.epoch_length as usize).max(1);
        let pool = self.tickets.entry(epoch).or_default();
        if pool.contains_key(&id) {
            return false;
        }
        if pool.len() >= cap {
            match pool.keys().next_back().copied() {
                Some(highest) if highest > id => {
                    pool.remove(&highest);
                }
                _ => return false,
            }
        }
        pool.insert(id, ticket);
        // Epochs that are past.
        self.tickets.retain(|e, _| *e + 1 >= epoch);
        true
    }

    fn on_ticket(
        &mut self,
        from: Option<PeerId>,
        to_proxy: bool,
        ticket: TicketMessage,
        out: &mut Vec<Output>,
    ) {
        let slot = self.slot_now();
        let epoch = self.epoch_of(slot);
        // Only the contest running now; a ticket for another epoch is stale or early, not wrong.
        if ticket.epoch != epoch + 1
            || slot % self.spec.epoch_length.max(1) >= self.spec.ticket_submission_end
        {
            return;
        }
        // A ticket already pooled (it comes from its maker and again from its proxy) costs no
        // second proof check; its id is read off the proof without one.
        if let Ok(id) = vrf_output(&ticket.proof) {
            if self.tickets.get(&ticket.epoch).is_some_and(|pool| pool.contains_key(&id)) {
                return;
            }
        }
        let Some(contest) = self.contest(slot) else { return };
        let valid = ticket.attempt < self.spec.tickets_per_validator
            && self.ring.verifier(&contest.ring_root).is_ok_and(|v| {
                v.verify(&ticket_vrf_input(&contest.entropy, ticket.attempt), &[], &ticket.proof).is_ok()
            });
        let Ok(id) = vrf_output(&ticket.proof).map_err(|_| ()).and_then(|id| valid.then_some(id).ok_or(()))
        else {
            if let Some(peer) = from {
                self.misbehaved(peer, BAD_MESSAGE, "an invalid ticket", out);
            }
            return;
        };
        let envelope = TicketEnvelope { attempt: ticket.attempt, signature: ticket.proof };
        if self.pool_ticket(ticket.epoch, id, envelope) && to_proxy {
            // We are its proxy: to everyone (CE 132).
            self.broadcast_ticket(from, &ticket, out);
        }
    }

    // ---- peers wanted ----

    fn want_peers(&mut self, out: &mut Vec<Output>) {
        let Some(state) = self.chain.state(&self.tree.finalized()) else { return };
        let s = state.state();
        let me = self.our_ed25519();
        let mut wanted: Vec<(PeerId, std::net::SocketAddr)> = s
            .previous_validators
            .iter()
            .chain(s.active_validators.iter())
            .chain(s.safrole.pending_validators.iter())
            .filter(|v| Some(v.ed25519) != me)
            .filter_map(|v| policy::endpoint_from_metadata(&v.metadata).map(|a| (v.ed25519, a)))
            .collect();
        wanted.sort();
        wanted.dedup();
        if !wanted.is_empty() && wanted != self.wanted {
            self.wanted = wanted.clone();
            out.push(Output::WantPeers(wanted));
        }
    }

    // ---- finality ----

    fn start_voter(&mut self) {
        let finalized = self.tree.finalized();
        let Some(state) = self.chain.state(&finalized) else { return };
        let s = state.state();
        let slot = s.timeslot;
        let keys: Vec<[u8; 32]> = s.active_validators.iter().map(|v| v.ed25519).collect();
        let me = self.keys.as_ref().and_then(|k| {
            let public = k.ed25519_public();
            let index = keys.iter().position(|key| *key == public)?;
            Some((index as u16, *k.ed25519_secret()))
        });
        let set = VoterSet { set_id: self.epoch_of(slot), keys };
        let config = orrery_grandpa::Config { gossip_ms: self.gossip_ms };
        self.voter = Some(Voter::new(config, set, Target { hash: finalized, slot }, me, self.now));
    }

    fn on_grandpa(&mut self, peer: PeerId, message: orrery_grandpa::Message, out: &mut Vec<Output>) {
        use orrery_grandpa::Message as G;
        let Some(ours) = self.voter.as_ref().map(Voter::set_id) else { return };
        let set_id = match &message {
            G::Vote(v) => v.set_id,
            G::Commit(c) => c.set_id,
            G::State(n) => n.set_id,
            G::CatchUp(c) => c.set_id,
        };
        if set_id <= ours {
            return self.vote(orrery_grandpa::Input::Message { from: Some(peer), message }, out);
        }
        // A newer set: our finality is behind theirs, not their messages wrong. A commit of the
        // newer set is checked against that set's keys (κ of its epoch on the commit's own chain)
        // and, if it holds, finalizes its target; the rest waits until we catch up.
        if let G::Commit(commit) = message {
            self.future_commit = Some((peer, commit));
            self.try_future_commit(out);
        }
    }

    /// Applies the pending commit of a newer voter set, if its target is imported by now.
    fn try_future_commit(&mut self, out: &mut Vec<Output>) {
        let Some((peer, commit)) = self.future_commit.clone() else { return };
        let target = commit.target.hash;
        let finalized = self.tree.finalized();
        if !self.tree.contains(&target) {
            return;
        }
        self.future_commit = None;
        if !self.tree.descends(&target, &finalized) || target == finalized {
            return;
        }
        // The newest block of the set's epoch on the target's chain holds that epoch's κ.
        let mut at = target;
        while let Some(info) = self.tree.get(&at) {
            if self.epoch_of(info.slot) <= commit.set_id || at == finalized {
                break;
            }
            at = info.parent;
        }
        let Some(state) = self.chain.state(&at).map(|s| s.state()) else { return };
        if self.epoch_of(state.timeslot) != commit.set_id {
            return;
        }
        let keys: Vec<[u8; 32]> = state.active_validators.iter().map(|v| v.ed25519).collect();
        let set = VoterSet { set_id: commit.set_id, keys };
        let base = self.block_ref(&finalized);
        let config = orrery_grandpa::Config { gossip_ms: self.gossip_ms };
        let mut observer =
            Voter::new(config, set, Target { hash: base.hash, slot: base.slot }, None, self.now);
        let view = View { tree: &self.tree, chain: &self.chain, auditor: &self.auditor };
        let input = orrery_grandpa::Input::Message {
            from: Some(peer),
            message: orrery_grandpa::Message::Commit(commit),
        };
        let outputs = observer.handle(self.now, input, &view);
        for output in outputs {
            match output {
                orrery_grandpa::Output::Finalized { target, .. } => self.finalize(target.hash, None, out),
                orrery_grandpa::Output::Misbehaviour { from: Some(peer), reason } => {
                    self.misbehaved(peer, BAD_MESSAGE, &format!("grandpa: {reason}"), out)
                }
                _ => {}
            }
        }
    }

    fn vote(&mut self, input: orrery_grandpa::Input, out: &mut Vec<Output>) {
        let Some(voter) = self.voter.as_mut() else { return };
        let view = View { tree: &self.tree, chain: &self.chain, auditor: &self.auditor };
        let outputs = voter.handle(self.now, input, &view);
        for output in outputs {
            match output {
                orrery_grandpa::Output::Broadcast(message) => {
                    for peer in self.peers.keys() {
                        out.push(Output::Send { peer: *peer, message: Message::Grandpa(message.clone()) });
                    }
                }
                orrery_grandpa::Output::Finalized { target, justification } => {
                    self.finalize(target.hash, Some(justification), out)
                }
                orrery_grandpa::Output::Misbehaviour { from, reason } => {
                    if let Some(peer) = from {
                        self.misbehaved(peer, BAD_MESSAGE, &format!("grandpa: {reason}"), out);
                    }
                }
            }
        }
    }

    /// Makes `target` final: in the store (which prunes the forks), in the tree, and for the voter.
    /// `justification`: the commit of our voter set that finalized it, kept for warp sync.
    fn finalize(
        &mut self,
        target: HeaderHash,
        justification: Option<orrery_grandpa::Commit>,
        out: &mut Vec<Output>,
    ) {
        let old = self.tree.finalized();
        if target == old || !self.tree.descends(&target, &old) {
            return;
        }
        if let Some(commit) =
            justification.filter(|c| self.voter.as_ref().is_some_and(|v| v.set_id() == c.set_id))
        {
            self.keep_justification(commit, out);
        }
        let best = if self.tree.descends(&self.best, &target) {
            self.best
        } else {
            self.tree.best_from(&target).unwrap_or(target)
        };
        if let Err(e) = self.chain.set_best(best).and_then(|()| self.chain.finalize(target)) {
            let (reason, failure) = (e.to_string(), Failure::Finality);
            return out.push(Output::Event(Event::Rejected { hash: target, reason, failure }));
        }
        self.tree.finalize(&target);
        let slot = self.block_ref(&target).slot;
        self.seals.retain(|(s, _), _| *s > slot);
        self.orphans.retain(|_, (b, _, _)| b.header.slot > slot);
        self.best = best;
        self.update_best();
        out.push(Output::Event(Event::Finalized { hash: target, slot }));
        self.want_peers(out);
        if self.voter.as_ref().is_some_and(|v| self.epoch_of(slot) > v.set_id()) {
            self.start_voter();
        }
    }
}

impl Node {
    /// Keeps our set's commit as the latest justification and, when it finalized a block of a
    /// later epoch (a handover), stores the handover's warp fragment before the forks are pruned.
    fn keep_justification(&mut self, commit: orrery_grandpa::Commit, out: &mut Vec<Output>) {
        if self.epoch_of(commit.target.slot) > commit.set_id {
            let header = |hash: &HeaderHash| self.stored_header(hash);
            match warp::handover_fragment(&commit, &self.warp_since, self.spec.epoch_length, header) {
                Some(fragment) => {
                    let first = orrery_import::header_hash(&fragment.header);
                    match self.chain.put_warp_fragment(commit.set_id, fragment.to_bytes(), &first) {
                        Ok(()) => self.warp_since = first,
                        Err(e) => out.push(Output::Event(Event::WarpFragmentLost {
                            set_id: commit.set_id,
                            reason: format!("the store: {e}"),
                        })),
                    }
                }
                None => out.push(Output::Event(Event::WarpFragmentLost {
                    set_id: commit.set_id,
                    reason: "a header on the way to the epoch's first block is missing, or too many".into(),
                })),
            }
        }
        self.warp_latest = Some(commit);
    }

    /// The header of a block the store holds (read with its block: warp fragments are built once
    /// an epoch, and served from the store).
    fn stored_header(&self, hash: &HeaderHash) -> Option<orrery_types::Header> {
        self.chain.block(hash).ok().flatten().map(|b| b.header)
    }

    /// CE 153's answer: our handover fragments from voter set `from` on while they follow each
    /// other, up to a response's budget, then the latest justification when they reached it.
    pub fn warp_proof(&self, from: u32) -> warp::WarpProof {
        /// Octets of fragments in one response (the stream's cap is 16 MiB).
        const BUDGET: usize = 8 << 20;
        let lengths = self.spec.lengths();
        let mut proof = warp::WarpProof::default();
        let mut expected = from;
        let mut size = 0;
        for (set_id, bytes) in self.chain.warp_fragments(from, warp::MAX_FRAGMENTS).unwrap_or_default() {
            if set_id != expected
                || proof.handovers.len() == warp::MAX_FRAGMENTS
                || size + bytes.len() > BUDGET
            {
                break;
            }
            let Ok(fragment) = warp::Fragment::from_bytes(&bytes, lengths) else { break };
            expected = self.epoch_of(fragment.header.slot);
            size += bytes.len();
            proof.handovers.push(fragment);
        }
        let reached = self.voter.as_ref().is_some_and(|v| v.set_id() == expected);
        if reached && proof.handovers.len() < warp::MAX_FRAGMENTS {
            if let Some(commit) = &self.warp_latest {
                proof.latest = warp::latest_fragment(commit, |hash| self.stored_header(hash));
            }
        }
        proof
    }
}

/// The Ed25519 keys of `state`'s `κ`, in order, then, with `next_epoch`, those of `γ_P` not among
/// them: who a message goes to when the next block's authors (or a guarantee's) may already be
/// the next epoch's validators (JAMNP-S CE 135 and 141 at an epoch's edge).
pub(crate) fn current_and_next_validators(state: &orrery_state::State, next_epoch: bool) -> Vec<PeerId> {
    let mut keys: Vec<PeerId> = state.active_validators.iter().map(|v| v.ed25519).collect();
    if next_epoch {
        for v in state.safrole.pending_validators.iter() {
            if !keys.contains(&v.ed25519) {
                keys.push(v.ed25519);
            }
        }
    }
    keys
}

/// Whether a block's posterior state seals its slot by tickets (`γ'_S` a ticket series).
fn ticket_sealed(state: &orrery_state::State) -> bool {
    matches!(state.safrole.sealing_keys, TicketsOrKeys::Tickets(_))
}
