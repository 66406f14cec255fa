//! The dev genesis the scenarios share (as `orrery chain-spec dev` makes it), on one import
//! context per test binary.

#![allow(dead_code)]

use std::sync::{Arc, OnceLock};

use orrery_sim::Genesis;
use orrery_testkit::tiny_import_context;

pub fn genesis() -> Genesis {
    static GENESIS: OnceLock<Genesis> = OnceLock::new();
    GENESIS.get_or_init(|| Genesis::dev(Arc::new(tiny_import_context())).expect("the dev genesis")).clone()
}

use orrery_chain_spec::dev::{DevServices, MANAGER_SERVICE};
use orrery_chain_spec::package::{context, manager_deploy, work_package, Call, PackageAuthorizer};
use orrery_crypto::blake2b_256;
use orrery_sim::Sim;
use orrery_stf::assignments::GuarantorAssignments;
use orrery_types::{ServiceId, WorkPackage};

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
