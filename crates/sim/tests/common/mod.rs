//! The dev genesis the scenarios share (as `orrery chain-spec dev` makes it), on one import
//! context per test binary.

#![allow(dead_code)]

use std::sync::{Arc, OnceLock};

use orrery_node::NodeOptions;
use orrery_sim::{Genesis, SimConfig};
use orrery_testkit::tiny_import_context;

pub fn genesis() -> Genesis {
    static GENESIS: OnceLock<Genesis> = OnceLock::new();
    GENESIS.get_or_init(|| Genesis::dev(Arc::new(tiny_import_context())).expect("the dev genesis")).clone()
}

/// The scenarios' network on the dev genesis: seed `seed`, no tickets (fallback keys), GRANDPA on.
pub fn config(seed: u64) -> SimConfig {
    let mut c = SimConfig::new(seed, &genesis());
    c.options = NodeOptions { tickets: false, grandpa: true, ..NodeOptions::default() };
    c
}

/// A network on [`config`], run through its first two slots.
pub fn started(seed: u64) -> Sim {
    let mut sim = Sim::new(&genesis(), config(seed)).expect("the simulator starts");
    sim.run_slots(2).expect("two slots run");
    sim
}

use orrery_chain_spec::dev::{DevServices, MANAGER_SERVICE};
use orrery_chain_spec::package::{context, manager_deploy, work_package, Call, PackageAuthorizer};
use orrery_codec::Encode;
use orrery_crypto::blake2b_256;
use orrery_network::message::WorkPackageSubmission;
use orrery_node::Input;
use orrery_sim::Sim;
use orrery_stf::assignments::GuarantorAssignments;
use orrery_types::{CoreIndex, Hash, ServiceId, WorkPackage};

/// A package of `calls` that the dev chain's authorizer accepts, anchored (and lookup-anchored) on
/// node `node`'s best block with that block's posterior state root and β's BEEFY root for it.
pub fn dev_package(sim: &Sim, node: usize, calls: &[Call]) -> WorkPackage {
    let n = sim.node(node).expect("the node is up");
    let best = n.status().best;
    let state = n.chain().state(&best.hash).expect("the best block's state");
    let entry = state.state().recent_blocks.history.last().expect("β has the best block");
    assert_eq!(entry.header_hash, best.hash);
    work_package(
        &PackageAuthorizer::dev(&DevServices::ORRERY),
        context(best.hash, best.slot, state.root(), entry.beefy_root),
        calls,
    )
}

/// A call of `service` (running `code`) with gas that fits tiny's limits two items to a package.
pub fn call(service: ServiceId, code: &[u8], payload: Vec<u8>) -> Call {
    Call {
        service,
        code_hash: blake2b_256(code),
        payload,
        refine_gas: 100_000_000,
        accumulate_gas: 4_000_000,
    }
}

/// The manager deploying `code`, endowed well enough to store what it likes.
pub fn deploy(code: &[u8]) -> Call {
    call(MANAGER_SERVICE, DevServices::ORRERY.manager, manager_deploy(1_000_000, 1_000_000, 1 << 40, code))
}

/// Per core, the validators assigned to it in the current slot's rotation, by node `node`'s best
/// state (which must be in the current epoch).
pub fn guarantors(sim: &Sim, node: usize) -> Vec<Vec<usize>> {
    let n = sim.node(node).expect("the node is up");
    let state = n.chain().state(&n.status().best.hash).expect("the best block's state").state();
    let spec = &genesis().ctx.spec;
    let a = GuarantorAssignments::current(spec, &state.entropy, sim.slot_now(), &state.active_validators);
    (0..spec.cores_count).map(|c| (0..a.cores.len()).filter(|&v| a.cores[v] == c).collect()).collect()
}

/// Runs to `offset_ms` into the next slot that is not the last of its rotation, so that a package
/// submitted then is shared and signed within one rotation.
pub fn to_rotation_start(sim: &mut Sim, offset_ms: u64) {
    let r = genesis().ctx.spec.rotation_period;
    let mut slot = sim.slot_now() + 1;
    while slot % r == r - 1 {
        slot += 1;
    }
    sim.run_until(sim.slot_start(slot) + offset_ms).unwrap();
}

/// Submits to the first guarantor of `core` in the current rotation; returns the package hash.
pub fn submit(sim: &mut Sim, core: CoreIndex, package: WorkPackage) -> Hash {
    let g = guarantors(sim, 0)[usize::from(core)][0];
    let hash = blake2b_256(&package.encode());
    let extrinsics = vec![Vec::new(); package.items.len()];
    sim.input(g, Input::SubmitWorkPackage(WorkPackageSubmission { core, package, extrinsics }));
    hash
}

/// Whether every node's best state has accumulated `package` (ξ keeps an epoch of them).
pub fn accumulated_everywhere(sim: &Sim, package: &Hash) -> bool {
    (0..sim.node_count()).all(|i| {
        let n = sim.node(i).unwrap();
        let state = n.chain().state(&n.status().best.hash).unwrap().state();
        state.accumulated.0.iter().any(|l| l.contains(package))
    })
}

/// Runs slot by slot until every package in `waiting` is accumulated on every node, recording how
/// many slots each took; gives up after `max_slots`.
pub fn settle(sim: &mut Sim, waiting: &mut Vec<(Hash, u32)>, latencies: &mut Vec<u32>, max_slots: u32) {
    for _ in 0..max_slots {
        if waiting.is_empty() {
            return;
        }
        sim.run_slots(1).unwrap();
        let now = sim.slot_now();
        waiting.retain(|(hash, at)| {
            let done = accumulated_everywhere(sim, hash);
            if done {
                latencies.push(now - at);
            }
            !done
        });
    }
    let refusals: Vec<String> = (0..sim.node_count())
        .flat_map(|i| sim.work_events(i).iter())
        .filter_map(|(_, e)| match e {
            orrery_node::Event::WorkPackageRefused { reason, .. } => Some(reason.clone()),
            _ => None,
        })
        .collect();
    assert!(
        waiting.is_empty(),
        "not accumulated within {max_slots} slots: {} packages; refusals: {refusals:?}",
        waiting.len()
    );
}

pub fn storage(sim: &Sim, node: usize, service: ServiceId, key: &[u8]) -> Option<Vec<u8>> {
    let n = sim.node(node).unwrap();
    let state = n.chain().state(&n.status().best.hash).unwrap().state();
    state.accounts.get(&service)?.storage(key).map(<[u8]>::to_vec)
}
