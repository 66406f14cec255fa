//! Availability end to end on six nodes of the dev chain (tiny spec) through an in-test driver that
//! delivers every output at once: a block carries a guarantee of a real report (the manager's
//! deploy command, refined by `orrery-work-report`, signed by two of the core's assigned
//! guarantors), the second guarantor keeps every validator's shards (`keep_for_assurers`), every
//! validator fetches its own shard (CE 137) and assures the core (CE 141), the next block carries
//! the assurances, the report becomes available and the manager's accumulate deploys the service.

use std::collections::VecDeque;
use std::sync::{Arc, OnceLock};

use orrery_author::{author_block, slot_author, Pools};
use orrery_chain_spec::dev::{dev_spec, DevServices, DEV_AUTHORIZER_CONFIG, DEV_BASE_PORT, MANAGER_SERVICE};
use orrery_codec::Encode;
use orrery_crypto::blake2b_256;
use orrery_import::{header_hash, ChainState, ImportContext};
use orrery_keys::ValidatorKeys;
use orrery_network::message::{Announcement, PreimageAnnouncement};
use orrery_node::{
    Event, Input, Message, Node, NodeConfig, NodeOptions, Output, PeerId, PreimageDiscard, PreimageForget,
    Request, Response,
};
use orrery_stf::assignments::GuarantorAssignments;
use orrery_store::{Chain, Redb, Start};
use orrery_testkit::{tiny_import_context, tiny_ring};
use orrery_types::{
    Block, ChainSpec, Header, HeaderHash, RefineContext, ReportGuarantee, ValidatorSignature, WorkItem,
    WorkPackage,
};
use orrery_work_report::{compute_work_report, PackageData};

const SLOT_MS: u64 = 6000;
const NODES: usize = 6;
const SERVICE_CODE: &[u8] = include_bytes!("../../../guests/compute-service.jam");

fn context() -> Arc<ImportContext> {
    static CTX: OnceLock<Arc<ImportContext>> = OnceLock::new();
    CTX.get_or_init(|| Arc::new(tiny_import_context())).clone()
}

fn keys(i: usize) -> ValidatorKeys {
    ValidatorKeys::dev(i as u32)
}

fn dev_genesis() -> (Header, ChainState) {
    static GENESIS: OnceLock<(Header, ChainState)> = OnceLock::new();
    GENESIS
        .get_or_init(|| {
            let all: Vec<ValidatorKeys> = (0..NODES).map(keys).collect();
            let spec = dev_spec(&ChainSpec::tiny(), &tiny_ring(), &all, &DevServices::ORRERY, DEV_BASE_PORT)
                .expect("the dev spec");
            (spec.genesis_header, spec.genesis_state)
        })
        .clone()
}

/// Node `i`, a validator unless it is `follower` (its key then seals blocks only the test makes).
fn node(i: usize, follower: usize, genesis: &(Header, ChainState), options: NodeOptions, now: u64) -> Node {
    let (header, state) = genesis.clone();
    let db = Box::new(Redb::in_memory().unwrap());
    let chain = Chain::open(context(), db, Some(Start::genesis(header, state)), u32::MAX).unwrap();
    let keys = (i != follower).then(|| keys(i));
    let config = NodeConfig { spec: ChainSpec::tiny(), keys, slot_ms: SLOT_MS, grandpa_gossip_ms: 500 };
    Node::with_options(config, options, chain, now).unwrap()
}

const QUIET: NodeOptions = NodeOptions {
    tickets: false,
    grandpa: false,
    corrupt_reports: false,
    withhold_bundles: false,
    withhold_shards: false,
};

struct Net {
    nodes: Vec<Node>,
    ids: Vec<PeerId>,
    now: u64,
    queue: VecDeque<(usize, Input)>,
    events: Vec<(usize, Event)>,
    /// Shard requests (CE 137) seen, and how many were refused.
    shard_requests: usize,
    /// Who asked for a preimage (CE 143), once per request.
    preimage_fetchers: Vec<usize>,
    refused: usize,
    disconnects: usize,
    /// A node whose shard responses get a byte flipped on the way.
    corrupt: Option<usize>,
}

impl Net {
    fn on(genesis: &(Header, ChainState), follower: usize, options: NodeOptions, now: u64) -> Self {
        let mut net = Self {
            nodes: (0..NODES).map(|i| node(i, follower, genesis, options, now)).collect(),
            ids: (0..NODES).map(|i| keys(i).ed25519_public()).collect(),
            now,
            queue: VecDeque::new(),
            events: Vec::new(),
            shard_requests: 0,
            preimage_fetchers: Vec::new(),
            refused: 0,
            disconnects: 0,
            corrupt: None,
        };
        for i in 0..NODES {
            for j in 0..NODES {
                if i != j {
                    net.queue.push_back((i, Input::PeerConnected { peer: net.ids[j], builder: false }));
                }
            }
        }
        net.drain();
        net
    }

    fn deliver(&mut self, from: usize, outputs: Vec<Output>) {
        let me = self.ids[from];
        for output in outputs {
            let to = |peer: &PeerId| self.ids.iter().position(|p| p == peer);
            match output {
                Output::Send { peer, message } => {
                    if let Some(to) = to(&peer) {
                        self.queue.push_back((to, Input::Message { peer: me, message }));
                    }
                }
                Output::Request { peer, id, request } => {
                    self.shard_requests += usize::from(matches!(request, Request::Shard(_)));
                    if matches!(request, Request::Preimage(_)) {
                        self.preimage_fetchers.push(from);
                    }
                    if let Some(to) = to(&peer) {
                        self.queue.push_back((to, Input::Request { peer: me, id, request }));
                    }
                }
                Output::Respond { peer, id, mut response } => {
                    if let (Response::Shard(shard), true) = (&mut response, self.corrupt == Some(from)) {
                        shard.bundle_shard[0] ^= 1;
                    }
                    if let Some(to) = to(&peer) {
                        self.queue.push_back((to, Input::Response { peer: me, id, response: Ok(response) }));
                    }
                }
                Output::Refuse { peer, id } => {
                    self.refused += 1;
                    if let Some(to) = to(&peer) {
                        let response = Err(orrery_node::RequestFailure::Failed);
                        self.queue.push_back((to, Input::Response { peer: me, id, response }));
                    }
                }
                Output::Disconnect { .. } => self.disconnects += 1,
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
            let outputs = self.nodes[to].handle(self.now, input);
            self.deliver(to, outputs);
        }
    }

    fn run_until(&mut self, until: u64) {
        loop {
            let next = self.nodes.iter().map(Node::next_wake).min().unwrap_or(until).max(self.now);
            if next > until {
                self.now = until;
                return;
            }
            self.now = next;
            for i in 0..NODES {
                if self.nodes[i].next_wake() <= self.now {
                    let outputs = self.nodes[i].handle(self.now, Input::Tick);
                    self.deliver(i, outputs);
                }
            }
            self.drain();
        }
    }

    /// Hands `block` to every node as its author would: announced, then served when asked.
    fn feed(&mut self, author: usize, block: &Block) {
        for i in 0..NODES {
            let peer = self.ids[if i == author { (author + 1) % NODES } else { author }];
            let finalized = self.nodes[i].status().finalized;
            let announcement = Announcement { header: block.header.clone(), finalized };
            let outputs = self.nodes[i]
                .handle(self.now, Input::Message { peer, message: Message::Announcement(announcement) });
            let mut rest = Vec::new();
            for output in outputs {
                match output {
                    Output::Request { peer: p, id, request: Request::Blocks(_) } if p == peer => {
                        let response = Ok(Response::Blocks(vec![block.clone()]));
                        let more = self.nodes[i].handle(self.now, Input::Response { peer, id, response });
                        rest.extend(more);
                    }
                    other => rest.push(other),
                }
            }
            self.deliver(i, rest);
        }
        self.drain();
    }
}

/// A package for the manager: deploy `SERVICE_CODE`, anchored on `anchor`.
fn deploy_package(anchor: HeaderHash, state: &ChainState, slot: u32) -> WorkPackage {
    let s = state.state();
    let authorizer = DevServices::ORRERY.authorizer;
    let mut payload = vec![0u8];
    payload.extend_from_slice(&1000u64.to_le_bytes());
    payload.extend_from_slice(&1000u64.to_le_bytes());
    payload.extend_from_slice(&0u64.to_le_bytes());
    payload.extend_from_slice(SERVICE_CODE);
    let beefy_root = s.recent_blocks.history.last().expect("the anchor's entry").beefy_root;
    WorkPackage {
        auth_code_host: MANAGER_SERVICE,
        auth_code_hash: blake2b_256(authorizer),
        context: RefineContext {
            anchor,
            state_root: state.root(),
            beefy_root,
            lookup_anchor: anchor,
            lookup_anchor_slot: slot,
            prerequisites: Vec::new(),
        },
        authorization: DEV_AUTHORIZER_CONFIG.to_vec(),
        authorizer_config: DEV_AUTHORIZER_CONFIG.to_vec(),
        items: vec![WorkItem {
            service: MANAGER_SERVICE,
            code_hash: blake2b_256(DevServices::ORRERY.manager),
            refine_gas_limit: 100_000_000,
            accumulate_gas_limit: 5_000_000,
            export_count: 0,
            payload,
            import_segments: Vec::new(),
            extrinsic: Vec::new(),
        }],
    }
}

/// Six nodes run to just before `slot`; a block for `slot` carries a guarantee of a deploy package.
struct Scenario {
    net: Net,
    slot: u32,
    /// The validator whose key seals `slot`: its node runs as a follower.
    author: usize,
    validators: Vec<usize>,
    core: u16,
    signers: Vec<usize>,
    computed: orrery_work_report::ComputedReport,
    block: Block,
    services_before: usize,
}

fn scenario(options: NodeOptions) -> Scenario {
    let spec = ChainSpec::tiny();
    let ring = tiny_ring();
    let (genesis_header, genesis_state) = dev_genesis();
    let genesis_slot = genesis_header.slot;
    // The test seals the guaranteed block with the key of slot `slot`'s author, so that validator
    // runs as a follower (a node would seal its own block for the slot first); the next slot's
    // author must be another, which then carries the assurances. Fallback-sealed: the first
    // epoch's authors follow from the genesis.
    let author_of = |slot: u32| {
        (0..NODES)
            .find(|&i| slot_author(&spec, &ring, genesis_state.state(), slot, &keys(i)).unwrap().is_some())
            .expect("an author for every slot")
    };
    let slot = (genesis_slot + 3..genesis_slot + spec.epoch_length - 1)
        .find(|&s| author_of(s) != author_of(s + 1))
        .expect("two slots in a row by different authors");
    let author = author_of(slot);
    let validators: Vec<usize> = (0..NODES).filter(|&i| i != author).collect();
    let mut net = Net::on(&dev_genesis(), author, options, u64::from(genesis_slot + 1) * SLOT_MS);
    net.run_until(u64::from(slot) * SLOT_MS - 1);
    let best = net.nodes[0].status().best;
    assert!(best.slot > genesis_slot, "blocks were authored");
    assert!((1..NODES).all(|i| net.nodes[i].status().best == best), "every node on one best block");
    let prior = net.nodes[0].chain().state(&best.hash).expect("the best state").clone();
    let state = prior.state();

    // The report, on the core whose guarantors include the lowest index, signed by two of them.
    let package = deploy_package(best.hash, &prior, best.slot);
    let assigned = GuarantorAssignments::current(&spec, &state.entropy, slot, &state.active_validators);
    let core = assigned.cores[0];
    let signers: Vec<usize> = (0..NODES).filter(|&i| assigned.cores[i] == core).take(2).collect();
    assert_eq!(signers.len(), 2);
    let data = PackageData {
        imports: vec![Vec::new()],
        justifications: vec![Vec::new()],
        extrinsics: vec![Vec::new()],
        segment_roots: Default::default(),
    };
    let computed = compute_work_report(&spec, &package, core, &state.accounts, &data, None).expect("Ξ");
    let report = &computed.report;
    let message = [&b"jam_guarantee"[..], &blake2b_256(&report.encode())].concat();
    let signatures = signers
        .iter()
        .map(|&i| ValidatorSignature { validator_index: i as u16, signature: keys(i).ed25519_sign(&message) })
        .collect();
    let guarantee = ReportGuarantee { report: report.clone(), slot, signatures };
    let pools = Pools { guarantees: vec![guarantee], ..Pools::default() };
    let block = author_block(&spec, &ring, &prior, best.hash, slot, &keys(author), &pools).expect("a block");
    let services_before = state.accounts.len();
    Scenario { net, slot, author, validators, core, signers, computed, block, services_before }
}

impl Scenario {
    /// The slot's author hands out the block; every node imports it and has the report pending.
    fn import_block(&mut self) -> HeaderHash {
        self.net.now = u64::from(self.slot) * SLOT_MS;
        let hash = header_hash(&self.block.header);
        let block = self.block.clone();
        self.net.feed(self.author, &block);
        let rejected: Vec<&(usize, Event)> =
            self.net.events.iter().filter(|(_, e)| matches!(e, Event::Rejected { .. })).collect();
        assert!(rejected.is_empty(), "{rejected:?}");
        for (i, node) in self.net.nodes.iter().enumerate() {
            assert_eq!(node.status().best.hash, hash, "node {i} imported the guaranteed block");
            let pending = &node.chain().state(&hash).unwrap().state().pending_reports;
            assert!(pending.0[usize::from(self.core)].is_some(), "the report is pending on node {i}");
        }
        hash
    }

    /// The nodes that emitted `ShardsStored` for the report.
    fn stored(&self) -> Vec<usize> {
        let root = self.computed.report.package_spec.erasure_root;
        (0..NODES)
            .filter(|&i| {
                self.net
                    .events
                    .iter()
                    .any(|(n, e)| *n == i && *e == Event::ShardsStored { erasure_root: root })
            })
            .collect()
    }
}

#[test]
fn a_guaranteed_report_is_fetched_assured_and_accumulated_on_every_node() {
    let mut sc = scenario(QUIET);
    // The second guarantor keeps every validator's shards; the first, asked first, does not and
    // refuses, so each assurer moves on to the second.
    let keeper = sc.signers[1];
    let computed = sc.computed.clone();
    sc.net.nodes[keeper].keep_for_assurers(&computed.report, &computed.bundle, &computed.exports);
    let hash = sc.import_block();
    // Every validator holds its shard once the requests settle (the keeper its own already).
    assert_eq!(sc.stored(), sc.validators, "every validator stored its shard");
    // Each validator but the keeper asks the first signer (refused), then the keeper; the first
    // signer asks only the keeper.
    let fetchers = sc.validators.iter().filter(|&&v| v != keeper).count();
    let refused = sc.validators.iter().filter(|&&v| v != keeper && v != sc.signers[0]).count();
    assert_eq!((sc.net.shard_requests, sc.net.refused), (fetchers + refused, refused));
    assert_eq!(sc.net.disconnects, 0);

    // Assurances go out two thirds into the slot; the next block takes them and the report is
    // available, so accumulated at once.
    let (slot, core) = (sc.slot, usize::from(sc.core));
    sc.net.run_until(u64::from(slot + 1) * SLOT_MS + 1);
    let next = sc.net.nodes[0].status().best;
    assert_eq!(next.slot, slot + 1);
    let next_block = sc.net.nodes[0].chain().block(&next.hash).unwrap().expect("the block");
    assert_eq!(next_block.header.parent, hash);
    let assurers: Vec<u16> = next_block.extrinsic.assurances.iter().map(|a| a.validator_index).collect();
    let expected: Vec<u16> = sc.validators.iter().map(|&v| v as u16).collect();
    assert_eq!(assurers, expected, "every validator's assurance");
    assert!(next_block.extrinsic.assurances.iter().all(|a| a.bitfield.get(core) == Some(true)));
    let package = computed.report.package_spec.hash;
    for (i, node) in sc.net.nodes.iter().enumerate() {
        assert_eq!(node.status().best, next, "node {i} follows");
        let after = node.chain().state(&next.hash).unwrap().state();
        assert!(after.pending_reports.0[core].is_none(), "the report left ρ on node {i}");
        let accumulated = after.accumulated.0.last().expect("ξ");
        assert!(accumulated.contains(&package), "the package is accumulated on node {i}");
        // The manager's accumulate ran: a new service with the deployed code.
        assert_eq!(after.accounts.len(), sc.services_before + 1);
        let code_hash = blake2b_256(SERVICE_CODE);
        assert!(after.accounts.values().any(|a| a.info.code_hash == code_hash), "deployed on node {i}");
    }
}

#[test]
fn a_corrupt_shard_or_assurance_counts_against_the_peer() {
    let mut sc = scenario(QUIET);
    // Both guarantors keep the shards, but the first answers with a flipped byte: every assurer
    // that asks it counts that against it and takes its shard from the second.
    let computed = sc.computed.clone();
    for &g in &sc.signers {
        sc.net.nodes[g].keep_for_assurers(&computed.report, &computed.bundle, &computed.exports);
    }
    let liar = sc.signers[0];
    sc.net.corrupt = Some(liar);
    let hash = sc.import_block();
    assert_eq!(sc.stored(), sc.validators, "every validator stored its shard");
    let liar_id = keys(liar).ed25519_public();
    // The guarantors hold their own shards already; every other validator asked the liar first.
    for &v in sc.validators.iter().filter(|v| !sc.signers.contains(v)) {
        assert_eq!(sc.net.nodes[v].peer_score(&liar_id), Some(25), "node {v} blames the liar");
    }

    // An assurance whose signature is not the sender's: counted too, and not pooled.
    let (to, from) = (sc.validators[0], sc.validators[1]);
    let mut bitfield = orrery_codec::BitVec::zeros(2);
    bitfield.set(usize::from(sc.core), true);
    let forged = orrery_network::message::AssuranceMessage { anchor: hash, bitfield, signature: [7; 64] };
    let before = sc.net.nodes[to].peer_score(&keys(from).ed25519_public()).unwrap_or(0);
    let message = Message::Assurance(forged);
    sc.net.nodes[to].handle(sc.net.now, Input::Message { peer: keys(from).ed25519_public(), message });
    assert_eq!(sc.net.nodes[to].peer_score(&keys(from).ed25519_public()), Some(before + 25));
}

#[test]
fn kept_shards_are_served_after_a_restart() {
    let sc = scenario(QUIET);
    let computed = &sc.computed;
    let root = computed.report.package_spec.erasure_root;
    let dir = tempfile::tempdir().expect("a scratch folder");
    let open = || {
        let (header, state) = dev_genesis();
        let db = Box::new(Redb::open(dir.path()).unwrap());
        let chain = Chain::open(context(), db, Some(Start::genesis(header, state)), u32::MAX).unwrap();
        let config = NodeConfig {
            spec: ChainSpec::tiny(),
            keys: Some(keys(0)),
            slot_ms: SLOT_MS,
            grandpa_gossip_ms: 500,
        };
        Node::with_options(
            config,
            NodeOptions { tickets: false, grandpa: false, ..NodeOptions::default() },
            chain,
            sc.net.now,
        )
        .unwrap()
    };
    let mut node = open();
    node.keep_for_assurers(&computed.report, &computed.bundle, &computed.exports);
    drop(node);
    let mut node = open();
    let asker = keys(3).ed25519_public();
    for index in 0..NODES as u16 {
        let request =
            Request::Shard(orrery_network::message::ShardRequest { erasure_root: root, shard_index: index });
        let out = node.handle(sc.net.now, Input::Request { peer: asker, id: 7, request });
        let Some(Response::Shard(shard)) = out.iter().find_map(|o| match o {
            Output::Respond { id: 7, response, .. } => Some(response.clone()),
            _ => None,
        }) else {
            panic!("shard {index} served: {out:?}")
        };
        let path: Vec<Vec<u8>> =
            shard.justification.iter().map(orrery_network::message::JustificationStep::node).collect();
        let proven = orrery_work_report::verify_shard(
            &root,
            usize::from(index),
            NODES,
            &shard.bundle_shard,
            &shard.segment_shards,
            &path,
        );
        assert!(proven, "shard {index} proves against the erasure root");

        // The same shard for an auditor (CE 138): no segment shards, their root at the end of the
        // justification instead, and it proves against the same erasure root.
        let request = Request::AuditShard(orrery_network::message::ShardRequest {
            erasure_root: root,
            shard_index: index,
        });
        let out = node.handle(sc.net.now, Input::Request { peer: asker, id: 9, request });
        let Some(Response::AuditShard(audit)) = out.iter().find_map(|o| match o {
            Output::Respond { id: 9, response, .. } => Some(response.clone()),
            _ => None,
        }) else {
            panic!("audit shard {index} served: {out:?}")
        };
        assert_eq!(audit.bundle_shard, shard.bundle_shard);
        let (segments_root, audit_path) = audit.split().expect("ends in the segment-shard root");
        assert_eq!(audit_path, &shard.justification[..]);
        assert_eq!(segments_root, orrery_merkle::well_balanced_root(&shard.segment_shards, blake2b_256));
        assert!(orrery_work_report::verify_bundle_shard(
            &root,
            usize::from(index),
            NODES,
            &audit.bundle_shard,
            &segments_root,
            &path,
        ));
    }
    // A root it never kept is refused.
    let request =
        Request::Shard(orrery_network::message::ShardRequest { erasure_root: [9; 32], shard_index: 0 });
    let out = node.handle(sc.net.now, Input::Request { peer: asker, id: 8, request });
    assert!(out.iter().any(|o| matches!(o, Output::Refuse { id: 8, .. })));
}

/// Six validators (no follower) on the dev genesis with service 0 soliciting `blob` (a lookup
/// entry with no slots yet), run into the genesis' second slot.
fn soliciting(blob: &[u8]) -> Net {
    let (header, state) = dev_genesis();
    let mut s = state.state().clone();
    let account = s.accounts.get_mut(&MANAGER_SERVICE).unwrap();
    account.set_request(&blake2b_256(blob), blob.len() as u32, &[]);
    let genesis = (header.clone(), ChainState::from_state(s));
    let mut net = Net::on(&genesis, NODES, QUIET, u64::from(header.slot + 1) * SLOT_MS);
    net.run_until(u64::from(header.slot + 2) * SLOT_MS + 100);
    net
}

#[test]
fn a_solicited_preimage_is_announced_fetched_and_provided() {
    let blob = b"a preimage the manager asked for".to_vec();
    let hash = blake2b_256(&blob);
    let mut net = soliciting(&blob);

    // A blob nobody asked for is neither kept nor announced.
    let out = net.nodes[0]
        .handle(net.now, Input::SubmitPreimage { requester: MANAGER_SERVICE, blob: b"unasked".to_vec() });
    assert!(!out.iter().any(|o| matches!(o, Output::Send { .. })), "{out:?}");

    // The solicited one is announced to every other validator, who each fetch it (CE 143).
    let out = net.nodes[0]
        .handle(net.now, Input::SubmitPreimage { requester: MANAGER_SERVICE, blob: blob.clone() });
    let announced = out
        .iter()
        .filter(|o| matches!(o, Output::Send { message: Message::PreimageAnnouncement(_), .. }))
        .count();
    assert_eq!(announced, NODES - 1);
    net.deliver(0, out);
    net.drain();
    assert_eq!((net.preimage_fetchers.len(), net.refused), (NODES - 1, 0), "each asked once, and served");

    // The next block provides it, whoever authors it; then no block offers it again.
    let slot = net.nodes[0].status().best.slot;
    net.run_until(u64::from(slot + 3) * SLOT_MS + 100);
    let mut provided_in = Vec::new();
    for (i, node) in net.nodes.iter().enumerate() {
        let best = node.status().best;
        let account = &node.chain().state(&best.hash).unwrap().state().accounts[&MANAGER_SERVICE];
        assert_eq!(account.preimage(&hash), Some(&blob[..]), "node {i}: provided");
        let slots = account.request(&hash, blob.len() as u32).unwrap().unwrap();
        assert_eq!(slots.len(), 1, "node {i}: available since one slot");
        provided_in.push(slots[0]);
    }
    provided_in.dedup();
    assert_eq!(provided_in.len(), 1);
    assert!(provided_in[0] > slot && provided_in[0] <= slot + 3);
    let rejected = net.events.iter().filter(|(_, e)| matches!(e, Event::Rejected { .. })).count();
    assert_eq!((rejected, net.disconnects), (0, 0));

    // Provided: every node's pool lets it go, saying why (JIP-3 199, "provided on-chain").
    let length = blob.len() as u32;
    for i in 0..NODES {
        let discarded = Event::PreimageDiscarded { hash, length, reason: PreimageDiscard::ProvidedOnChain };
        assert!(net.events.iter().any(|(n, e)| *n == i && *e == discarded), "node {i}: {:?}", net.events);
    }
    // An announced preimage no service asked for is forgotten at once (JIP-3 192), not fetched.
    let unasked = PreimageAnnouncement { service: MANAGER_SERVICE, hash: [7; 32], length: 5 };
    let message = Message::PreimageAnnouncement(unasked);
    let out = net.nodes[1].handle(net.now, Input::Message { peer: net.ids[0], message });
    let forgotten = Event::PreimageForgotten {
        service: MANAGER_SERVICE,
        hash: [7; 32],
        length: 5,
        reason: PreimageForget::NotRequested,
    };
    assert!(out.contains(&Output::Event(forgotten)), "{out:?}");
    assert!(!out.iter().any(|o| matches!(o, Output::Request { .. })), "{out:?}");
}

/// JAMNP-S CE 142: a validator that fetched a preimage announces it to its grid neighbours. Node
/// 0's announcement reaches node 3 only (tiny: V = 6, W = 2, rows {0,1} {2,3} {4,5}, columns
/// {0,2,4} {1,3,5}); 3 re-announces to 1, 2 and 5, and 4 hears it from 2 and 5. Every validator
/// fetches it exactly once, and the next block provides it.
#[test]
fn a_preimage_announced_to_one_validator_reaches_all_through_the_grid() {
    let blob = b"a preimage gossiped along the grid".to_vec();
    let hash = blake2b_256(&blob);
    let mut net = soliciting(&blob);

    let out = net.nodes[0]
        .handle(net.now, Input::SubmitPreimage { requester: MANAGER_SERVICE, blob: blob.clone() });
    let to_three: Vec<Output> = out
        .into_iter()
        .filter(|o| match o {
            Output::Send { peer, message: Message::PreimageAnnouncement(_) } => *peer == net.ids[3],
            _ => true,
        })
        .collect();
    assert_eq!(to_three.len(), 1, "{to_three:?}");
    net.deliver(0, to_three);
    net.drain();

    let mut fetchers = net.preimage_fetchers.clone();
    fetchers.sort_unstable();
    assert_eq!(fetchers, vec![1, 2, 3, 4, 5], "each validator fetched it once");
    assert_eq!(net.refused, 0);
    // 3 fetched it first (from 0), then 1, 2 and 5 from 3, then 4 from 2 or 5.
    assert_eq!(net.preimage_fetchers[0], 3);
    assert_eq!(*net.preimage_fetchers.last().unwrap(), 4);

    let slot = net.nodes[0].status().best.slot;
    net.run_until(u64::from(slot + 3) * SLOT_MS + 100);
    for (i, node) in net.nodes.iter().enumerate() {
        let best = node.status().best;
        let account = &node.chain().state(&best.hash).unwrap().state().accounts[&MANAGER_SERVICE];
        assert_eq!(account.preimage(&hash), Some(&blob[..]), "node {i}: provided");
    }
    assert_eq!(net.disconnects, 0);
}

#[test]
fn bundle_shards_go_once_the_assuring_block_is_final_and_segment_shards_stay() {
    // GRANDPA on: the chain finalizes behind the best block.
    let mut sc = scenario(NodeOptions { tickets: false, grandpa: true, ..NodeOptions::default() });
    let computed = sc.computed.clone();
    let keeper = sc.signers[1];
    sc.net.nodes[keeper].keep_for_assurers(&computed.report, &computed.bundle, &computed.exports);
    sc.import_block();
    let root = computed.report.package_spec.erasure_root;
    let ask = |net: &mut Net, id: u64| {
        let request =
            Request::Shard(orrery_network::message::ShardRequest { erasure_root: root, shard_index: 0 });
        let peer = net.ids[(keeper + 1) % NODES];
        let out = net.nodes[keeper].handle(net.now, Input::Request { peer, id, request });
        out.iter()
            .any(|o| matches!(o, Output::Respond { id: i, response: Response::Shard(_), .. } if *i == id))
    };
    assert!(ask(&mut sc.net, 1), "served while the report is pending");
    // U = 5 slots after keeping, once the final block is past them, the bundle shards go (the
    // block that assured the report is final by then); the records stay for their segment shards.
    let timeout = ChainSpec::tiny().availability_timeout;
    sc.net.run_until(u64::from(sc.slot + timeout + 4) * SLOT_MS + 100);
    let finalized = sc.net.nodes[keeper].status().finalized;
    assert!(finalized.slot > sc.slot + timeout, "finality at slot {} by now", finalized.slot);
    assert!(!ask(&mut sc.net, 2), "the bundle shard is gone");
    for index in 0..NODES as u16 {
        assert!(sc.net.nodes[keeper].chain().shard(&root, index).unwrap().is_some(), "record {index} kept");
    }
}
