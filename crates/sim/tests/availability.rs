//! The work-package pipeline end to end in the simulator: six dev validators on the tiny spec (two
//! cores, three guarantors each), GRANDPA on, tickets off, the simulator's latencies. A package for
//! the manager (service 0: deploy a service) is submitted to a guarantor of core 0 as its own user
//! would; it is guaranteed (CE 134/135), every validator fetches its shard from a guarantor
//! (CE 137) and assures core 0 (CE 141), a block carries more than two thirds of the assurances,
//! the report becomes available and the manager's accumulate deploys the service: on every node.

mod common;

use orrery_chain_spec::dev::{DevServices, MANAGER_SERVICE};
use orrery_chain_spec::package::{manager_deploy, Call};
use orrery_codec::Encode;
use orrery_crypto::blake2b_256;
use orrery_network::message::WorkPackageSubmission;
use orrery_node::{Event, Input, NodeOptions};
use orrery_sim::{Sim, SimConfig};
use orrery_stf::assignments::GuarantorAssignments;
use orrery_types::{Hash, WorkPackage};

const SERVICE_CODE: &[u8] = include_bytes!("../../../guests/compute-service.jam");

/// A package deploying `SERVICE_CODE`, anchored on node `node`'s best block.
fn package(sim: &Sim, node: usize) -> WorkPackage {
    let deploy = manager_deploy(1000, 1000, 0, SERVICE_CODE);
    let call = Call {
        accumulate_gas: 5_000_000,
        ..common::call(MANAGER_SERVICE, DevServices::ORRERY.manager, deploy)
    };
    common::dev_package(sim, node, &[call])
}

/// A guarantor of core 0 in the current rotation, by node 0's best state.
fn core0_guarantor(sim: &Sim) -> usize {
    common::guarantors(sim, 0)[0][0]
}

/// The slot of the block on node `node`'s best chain that made core 0's report available: the one
/// whose assurances of core 0 are more than two thirds of the validators.
fn available_at(sim: &Sim, node: usize, validators: usize) -> Option<u32> {
    let n = sim.node(node)?;
    sim.best_chain(node).into_iter().find_map(|(slot, hash)| {
        let block = n.chain().block(&hash).ok()??;
        let assured = block.extrinsic.assurances.iter().filter(|a| a.bitfield.get(0) == Some(true)).count();
        (3 * assured > 2 * validators).then_some(slot)
    })
}

#[test]
fn a_submitted_package_is_guaranteed_assured_and_accumulated_on_every_node() {
    let genesis = common::genesis();
    let spec = &genesis.ctx.spec;
    let mut sim = common::started(11);
    // Early in a slot that is not the last of its rotation, so the sharing ends in it.
    let mut slot = sim.slot_now() + 1;
    while slot % spec.rotation_period == spec.rotation_period - 1 {
        slot += 1;
    }
    sim.run_until(sim.slot_start(slot) + 500).unwrap();
    let g = core0_guarantor(&sim);
    let package = package(&sim, g);
    let package_hash = blake2b_256(&package.encode());
    let services_before = sim
        .node(0)
        .unwrap()
        .chain()
        .state(&sim.node(0).unwrap().status().best.hash)
        .unwrap()
        .state()
        .accounts
        .len();
    sim.input(
        g,
        Input::SubmitWorkPackage(WorkPackageSubmission { core: 0, package, extrinsics: vec![Vec::new()] }),
    );
    // Guaranteed in the next block or so, available (U = 5 at most) the block after it is assured.
    sim.run_slots(4).unwrap();

    let report = sim.work_events(g).iter().find_map(|(_, e)| match e {
        Event::Guaranteed { package, .. } if *package == package_hash => Some(()),
        _ => None,
    });
    assert!(report.is_some(), "the guarantor distributed a guarantee");
    // Every validator stored its shard of one erasure root.
    let mut roots = Vec::new();
    for i in 0..sim.node_count() {
        let stored: Vec<Hash> = sim
            .work_events(i)
            .iter()
            .filter_map(|(_, e)| match e {
                Event::ShardsStored { erasure_root } => Some(*erasure_root),
                _ => None,
            })
            .collect();
        assert_eq!(stored.len(), 1, "node {i} stored its shard once: {stored:?}");
        roots.push(stored[0]);
    }
    roots.dedup();
    assert_eq!(roots.len(), 1, "one erasure root");

    let validators = usize::from(spec.validators_count);
    let mut at = Vec::new();
    for i in 0..sim.node_count() {
        let slot = available_at(&sim, i, validators)
            .unwrap_or_else(|| panic!("node {i}: no block of its best chain made the report available"));
        at.push(slot);
        // Accumulated (ξ keeps an epoch of packages), and the manager's accumulate deployed it.
        let n = sim.node(i).unwrap();
        let state = n.chain().state(&n.status().best.hash).unwrap().state();
        assert!(state.pending_reports.0[0].is_none(), "node {i}: the report left ρ");
        assert!(
            state.accumulated.0.iter().any(|l| l.contains(&package_hash)),
            "node {i}: the package is accumulated"
        );
        assert_eq!(state.accounts.len(), services_before + 1, "node {i}: one new service");
        let code_hash = blake2b_256(SERVICE_CODE);
        assert!(state.accounts.values().any(|a| a.info.code_hash == code_hash), "node {i}: deployed");
    }
    at.dedup();
    assert_eq!(at.len(), 1, "every node accumulated it in the same block: {at:?}");
    println!(
        "pipeline: package submitted at slot {slot}, available and accumulated at slot {} on every node",
        at[0]
    );
}

#[test]
fn with_the_submitting_guarantor_down_the_co_guarantors_serve_the_shards() {
    let genesis = common::genesis();
    let spec = &genesis.ctx.spec;
    // Epoch 0's assignments are the genesis state's; slot 5 is not the last of its rotation.
    let slot = 5;
    let state = genesis.state.state();
    let assignments = GuarantorAssignments::current(spec, &state.entropy, slot, &state.active_validators);
    let g = (0..6).find(|&v| assignments.cores[v] == 0).unwrap();
    let mut c = SimConfig::new(12, &genesis);
    c.options = NodeOptions { tickets: false, grandpa: true, ..NodeOptions::default() };
    // Down a second before the next slot: after it has distributed the guarantee, before any
    // block carries it, so every assurer must take its shard from a co-guarantor.
    let crash = u64::from(slot + 1) * c.slot_ms - 1_000;
    c.crashes = vec![orrery_sim::Crash { node: g, at: crash, restart: None }];
    let mut sim = Sim::new(&genesis, c).unwrap();
    sim.run_until(sim.slot_start(slot) + 500).unwrap();
    let package = package(&sim, g);
    let package_hash = blake2b_256(&package.encode());
    sim.input(
        g,
        Input::SubmitWorkPackage(WorkPackageSubmission { core: 0, package, extrinsics: vec![Vec::new()] }),
    );
    sim.run_slots(4).unwrap();
    let guaranteed = sim.work_events(g).iter().find_map(|(at, e)| match e {
        Event::Guaranteed { package, .. } if *package == package_hash => Some(*at),
        _ => None,
    });
    assert!(guaranteed.is_some_and(|at| at < crash), "guaranteed before the crash: {guaranteed:?}");
    assert!(sim.work_events(g).iter().all(|(_, e)| !matches!(e, Event::ShardsStored { .. })));
    // The five others hold their shards, assure, and make it available: five of six is more than
    // two thirds.
    let validators = usize::from(spec.validators_count);
    for i in (0..sim.node_count()).filter(|&i| i != g) {
        let stored =
            sim.work_events(i).iter().filter(|(_, e)| matches!(e, Event::ShardsStored { .. })).count();
        assert_eq!(stored, 1, "node {i} stored its shard");
        assert!(available_at(&sim, i, validators).is_some(), "node {i}: made available");
        let n = sim.node(i).unwrap();
        let state = n.chain().state(&n.status().best.hash).unwrap().state();
        assert!(state.accumulated.0.iter().any(|l| l.contains(&package_hash)), "node {i}: accumulated");
    }
}
