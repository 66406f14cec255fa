//! Guaranteeing one package on the dev chain (tiny spec), every output delivered at once: the three
//! guarantors of core 0 as nodes; the package (the manager's `fund` command, one extrinsic, the
//! null authorizer) submitted to one, which checks and refines it, shares the bundle (CE 134), gets
//! the others' signatures after they refine it too, and distributes the guarantee (CE 135), which
//! they check. The reference in the same run is Ξ alone (authorize, refine, bundle and erasure
//! root), outside any node: the guarantee costs three of those plus the checks and signatures.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use orrery_author::{author_block, slot_author, Pools};
use orrery_chain_spec::dev::{dev_spec, DevServices, DEV_AUTHORIZER_CONFIG, DEV_BASE_PORT, MANAGER_SERVICE};
use orrery_crypto::blake2b_256;
use orrery_import::header_hash;
use orrery_keys::ValidatorKeys;
use orrery_network::message::WorkPackageSubmission;
use orrery_node::{Event, Input, Node, NodeConfig, NodeOptions, Output, PeerId};
use orrery_stf::assignments::GuarantorAssignments;
use orrery_store::{Chain, Redb, Start};
use orrery_testkit::tiny_import_context;
use orrery_types::{ExtrinsicSpec, RefineContext, WorkItem, WorkPackage};
use orrery_work_report::{compute_work_report, PackageData};

const SLOT_MS: u64 = 6000;
const EXTRINSIC: &[u8] = b"an extrinsic the manager does not read";

struct Net {
    nodes: Vec<Node>,
    ids: Vec<PeerId>,
    now: u64,
    guaranteed: usize,
}

impl Net {
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
                    Output::Event(Event::Guaranteed { .. }) => {
                        self.guaranteed += 1;
                        continue;
                    }
                    Output::Event(Event::WorkPackageRefused { reason, .. }) => panic!("refused: {reason}"),
                    _ => continue,
                };
                if let Some(i) = self.ids.iter().position(|p| *p == peer) {
                    queue.push_back((i, input));
                }
            }
        }
    }
}

fn package(anchor: [u8; 32], state_root: [u8; 32], beefy_root: [u8; 32], amount: u64) -> WorkPackage {
    let mut payload = vec![1];
    payload.extend_from_slice(&MANAGER_SERVICE.to_le_bytes());
    payload.extend_from_slice(&amount.to_le_bytes());
    payload.extend_from_slice(&0u64.to_le_bytes());
    WorkPackage {
        auth_code_host: MANAGER_SERVICE,
        auth_code_hash: blake2b_256(DevServices::ORRERY.authorizer),
        context: RefineContext {
            anchor,
            state_root,
            beefy_root,
            lookup_anchor: anchor,
            lookup_anchor_slot: 1,
            prerequisites: Vec::new(),
        },
        authorization: DEV_AUTHORIZER_CONFIG.to_vec(),
        authorizer_config: DEV_AUTHORIZER_CONFIG.to_vec(),
        items: vec![WorkItem {
            service: MANAGER_SERVICE,
            code_hash: blake2b_256(DevServices::ORRERY.manager),
            refine_gas_limit: 50_000_000,
            accumulate_gas_limit: 1_000_000,
            export_count: 0,
            payload,
            import_segments: Vec::new(),
            extrinsic: vec![ExtrinsicSpec { hash: blake2b_256(EXTRINSIC), len: EXTRINSIC.len() as u32 }],
        }],
    }
}

fn bench(c: &mut Criterion) {
    let ctx = Arc::new(tiny_import_context());
    let spec = ctx.spec.clone();
    let keys: Vec<ValidatorKeys> = (0..6).map(ValidatorKeys::dev).collect();
    let dev = dev_spec(&spec, &ctx.ring, &keys, &DevServices::ORRERY, DEV_BASE_PORT).unwrap();
    let genesis = dev.genesis_state.state();
    let author =
        keys.iter().find(|k| slot_author(&spec, &ctx.ring, genesis, 1, k).unwrap().is_some()).unwrap();
    let block =
        author_block(&spec, &ctx.ring, &dev.genesis_state, dev.genesis_hash(), 1, author, &Pools::default())
            .unwrap();
    let anchor = header_hash(&block.header);
    let assignments = GuarantorAssignments::current(&spec, &genesis.entropy, 2, &genesis.active_validators);
    let guarantors: Vec<usize> = (0..6).filter(|&v| assignments.cores[v] == 0).collect();

    let now = 2 * SLOT_MS + 100;
    let nodes: Vec<Node> = guarantors
        .iter()
        .map(|&v| {
            let start = Start::genesis(dev.genesis_header.clone(), dev.genesis_state.clone());
            let mut chain =
                Chain::open(ctx.clone(), Box::new(Redb::in_memory().unwrap()), Some(start), u32::MAX)
                    .unwrap();
            chain.import(&block).unwrap();
            let config = NodeConfig {
                spec: spec.clone(),
                keys: Some(keys[v].clone()),
                slot_ms: SLOT_MS,
                grandpa_gossip_ms: 500,
            };
            Node::with_options(
                config,
                NodeOptions { tickets: false, grandpa: false, ..NodeOptions::default() },
                chain,
                now,
            )
            .unwrap()
        })
        .collect();
    let ids: Vec<PeerId> = guarantors.iter().map(|&v| keys[v].ed25519_public()).collect();
    let mut net = Net { nodes, ids, now, guaranteed: 0 };
    let mut queue = VecDeque::new();
    for i in 0..3 {
        for j in (0..3).filter(|&j| j != i) {
            queue.push_back((i, Input::PeerConnected { peer: net.ids[j], builder: false }));
        }
    }
    net.drain(queue);

    let state = net.nodes[0].chain().state(&anchor).unwrap();
    let (state_root, beefy_root) =
        (state.root(), state.state().recent_blocks.history.last().unwrap().beefy_root);
    let accounts = state.state().accounts.clone();

    let mut group = c.benchmark_group("node");
    group.sample_size(20);
    let mut amount = 0u64;
    group.bench_function("node::guarantee/package=manager-fund,guarantors=3", |b| {
        b.iter(|| {
            // A new package each time: a guarantor takes a package once.
            amount += 1;
            let before = net.guaranteed;
            let submission = WorkPackageSubmission {
                core: 0,
                package: package(anchor, state_root, beefy_root, amount),
                extrinsics: vec![vec![EXTRINSIC.to_vec()]],
            };
            net.drain(VecDeque::from([(0, Input::SubmitWorkPackage(submission))]));
            assert_eq!(net.guaranteed, before + 1);
        })
    });
    let data = PackageData {
        imports: vec![Vec::new()],
        justifications: vec![Vec::new()],
        extrinsics: vec![vec![EXTRINSIC.to_vec()]],
        segment_roots: BTreeMap::new(),
    };
    let reference = package(anchor, state_root, beefy_root, 0);
    group.bench_function("node::guarantee_xi_reference/package=manager-fund", |b| {
        b.iter(|| compute_work_report(&spec, &reference, 0, &accounts, &data, Some(&ctx.programs)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
