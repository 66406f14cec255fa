//! A real node for the RPC tests and bench: the dev chain (the tiny trace genesis with the six JIP-5
//! dev validators, plus one service holding a storage item, a preimage and a request), a few blocks
//! authored by their slots' sealers and imported into an in-memory redb chain, and a follower
//! [`Node`] on that chain running on a thread of its own that serves the RPC's queries, as the QUIC
//! driver's node thread does. A block request the node makes is answered from the blocks the test
//! hands over with [`Fixture::offer`].

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use orrery_author::{author_block, genesis, slot_author, Pools};
use orrery_import::{header_hash, ChainState};
use orrery_keys::ValidatorKeys;
use orrery_network::message::{Announcement, BlockRef};
use orrery_node::{
    Input, Message, Node, NodeConfig, NodeOptions, Output, PeerId, Request, RequestFailure, Response,
};
use orrery_rpc::{link, NodeLink};
use orrery_state::{AvailabilityAssignment, ServiceAccount, ServiceInfo};
use orrery_store::{Chain, Redb, Start};
use orrery_testkit::{genesis as trace_genesis, tiny_import_context, tiny_ring, tiny_state};
use orrery_types::{Block, ChainSpec, HeaderHash, RefineContext, ServiceId, WorkPackageSpec, WorkReport};

pub const SLOT_MS: u64 = 6000;
/// The service the fixture adds to the genesis state.
pub const SERVICE: ServiceId = 0x0001_2345;
pub const KEY: &[u8] = b"answer";
pub const VALUE: &[u8] = b"forty-two";
pub const PREIMAGE: &[u8] = b"a preimage the service holds";
/// A request for a preimage not provided yet (hash of these bytes, their length).
pub const REQUESTED: &[u8] = b"a preimage the service asked for";
/// A package whose report is pending on core 1 (ρ) from the genesis on.
pub const PENDING_PACKAGE: [u8; 32] = [0xa1; 32];
/// A package accumulated in the genesis's last slot (ξ).
pub const ACCUMULATED_PACKAGE: [u8; 32] = [0xa2; 32];
/// The peer the blocks come from.
pub const PEER: PeerId = [7; 32];

pub struct Fixture {
    /// The genesis and the authored blocks, oldest first: (hash, slot, posterior state).
    pub chain: Vec<(HeaderHash, u32, ChainState)>,
    /// The next block, authored on the last one but not given to the node yet.
    pub next: Block,
    pub link: NodeLink,
    inputs: SyncSender<Input>,
    offered: Arc<Mutex<HashMap<HeaderHash, Block>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

fn keys(i: u32) -> ValidatorKeys {
    ValidatorKeys::dev(i)
}

/// The dev genesis with the fixture's service.
fn genesis_state() -> (orrery_types::Header, ChainState) {
    let spec = ChainSpec::tiny();
    let trace = trace_genesis("fallback");
    let mut base = tiny_state(&trace.state).state().clone();
    let mut account = ServiceAccount::new(ServiceInfo { balance: 1_000_000, ..ServiceInfo::default() });
    account.set_storage(KEY, VALUE.to_vec());
    let hash = orrery_crypto::blake2b_256(PREIMAGE);
    account.set_preimage(&hash, PREIMAGE.to_vec());
    account.set_request(&hash, PREIMAGE.len() as u32, &[base.timeslot]);
    let requested = orrery_crypto::blake2b_256(REQUESTED);
    account.set_request(&requested, REQUESTED.len() as u32, &[]);
    base.accounts.insert(SERVICE, account);
    base.pending_reports.0[1] =
        Some(AvailabilityAssignment { report: pending_report(), timeout: base.timeslot });
    base.accumulated.0.last_mut().unwrap().push(ACCUMULATED_PACKAGE);
    let all: Vec<ValidatorKeys> = (0..6).map(keys).collect();
    let state = genesis::with_validators(&spec, &tiny_ring(), base, &all).unwrap();
    (trace.header, ChainState::from_state(state))
}

/// The report pending on core 1: it stays in ρ for `U` = 5 slots, longer than the fixture's chains.
pub fn pending_report() -> WorkReport {
    WorkReport {
        package_spec: WorkPackageSpec {
            hash: PENDING_PACKAGE,
            length: 100,
            erasure_root: [2; 32],
            exports_root: [3; 32],
            exports_count: 0,
        },
        context: RefineContext {
            anchor: [4; 32],
            state_root: [5; 32],
            beefy_root: [6; 32],
            lookup_anchor: [4; 32],
            lookup_anchor_slot: 0,
            prerequisites: vec![],
        },
        core_index: 1,
        authorizer_hash: [7; 32],
        auth_gas_used: 10,
        auth_output: vec![],
        segment_root_lookup: vec![],
        results: vec![],
    }
}

/// A block at `slot` on `parent` (whose posterior state is `prior`) by the slot's sealer.
fn author(prior: &ChainState, parent: HeaderHash, slot: u32) -> Block {
    let spec = ChainSpec::tiny();
    let ring = tiny_ring();
    let sealer = (0..6)
        .find(|i| slot_author(&spec, &ring, prior.state(), slot, &keys(*i)).unwrap().is_some())
        .expect("a sealer for every slot on the dev chain");
    author_block(&spec, &ring, prior, parent, slot, &keys(sealer), &Pools::default()).unwrap()
}

impl Fixture {
    /// The dev chain with `blocks` blocks above the genesis, a node on it, and its link.
    pub fn start(blocks: usize) -> Self {
        Self::start_with(blocks, |_| {})
    }

    /// The same, with `prepare` run on the node before its thread starts.
    pub fn start_with(blocks: usize, prepare: impl FnOnce(&mut Node)) -> Self {
        let (header, state) = genesis_state();
        let ctx = Arc::new(tiny_import_context());
        let mut store = Chain::open(
            ctx,
            Box::new(Redb::in_memory().unwrap()),
            Some(Start::genesis(header, state.clone())),
            u32::MAX,
        )
        .unwrap();
        let genesis = store.genesis();
        let mut chain = vec![(genesis, state.state().timeslot, state)];
        for _ in 0..blocks {
            let (parent, slot, prior) = chain.last().unwrap();
            let block = author(prior, *parent, slot + 1);
            let hash = header_hash(&block.header);
            store.import(&block).unwrap();
            let posterior = store.state(&hash).unwrap().clone();
            chain.push((hash, block.header.slot, posterior));
        }
        let (parent, slot, prior) = chain.last().unwrap();
        let next = author(prior, *parent, slot + 1);
        let now = u64::from(next.header.slot) * SLOT_MS + 1000;
        let config =
            NodeConfig { spec: ChainSpec::tiny(), keys: None, slot_ms: SLOT_MS, grandpa_gossip_ms: 500 };
        let options = NodeOptions { tickets: false, grandpa: false, ..NodeOptions::default() };
        let mut node = Node::with_options(config, options, store, now).unwrap();
        prepare(&mut node);
        let (inputs, rx) = sync_channel::<Input>(256);
        let (link, side) = link(ChainSpec::tiny(), inputs.clone(), &node.status());
        let offered: Arc<Mutex<HashMap<HeaderHash, Block>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (offered, stop) = (offered.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut node = node;
                side.serve(&node);
                while !stop.load(Ordering::Relaxed) {
                    if let Ok(input) = rx.recv_timeout(Duration::from_millis(20)) {
                        let mut queue = vec![input];
                        while let Some(input) = queue.pop() {
                            for output in node.handle(now, input) {
                                if let Output::Request { peer, id, request: Request::Blocks(r) } = output {
                                    let block = offered.lock().unwrap().get(&r.hash).cloned();
                                    let response = block
                                        .map(|b| Response::Blocks(vec![b]))
                                        .ok_or(RequestFailure::Failed);
                                    queue.push(Input::Response { peer, id, response });
                                }
                            }
                        }
                    }
                    side.serve(&node);
                }
            })
        };
        inputs.send(Input::PeerConnected { peer: PEER, builder: false }).unwrap();
        // The tests count on the peer: wait (bounded) until the node thread has taken it in.
        let heads = orrery_rpc::Backend::heads(&link);
        let started = std::time::Instant::now();
        while heads.borrow().peers == 0 {
            assert!(started.elapsed() < Duration::from_secs(10), "the node thread never took the peer in");
            std::thread::sleep(Duration::from_millis(5));
        }
        Self { chain, next, link, inputs, offered, stop, thread: Some(thread) }
    }

    pub fn best(&self) -> &(HeaderHash, u32, ChainState) {
        self.chain.last().unwrap()
    }

    /// Announces `self.next` from [`PEER`] and serves it when the node asks.
    pub fn offer_next(&self) {
        let block = self.next.clone();
        let hash = header_hash(&block.header);
        self.offered.lock().unwrap().insert(hash, block.clone());
        let (genesis, slot, _) = &self.chain[0];
        let finalized = BlockRef { hash: *genesis, slot: *slot };
        let announcement = Announcement { header: block.header, finalized };
        self.inputs
            .send(Input::Message { peer: PEER, message: Message::Announcement(announcement) })
            .unwrap();
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
