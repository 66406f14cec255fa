//! Auditing in the simulator (GP 0.7.2 §17, §10): six dev validators on the tiny spec, GRANDPA on.
//!
//! - An honest report, once available, is judged valid by every validator, and finality passes the
//!   block that made it available.
//! - Validators 0, 1 and 2 run as malicious guarantors (`NodeOptions::corrupt_reports`: they sign
//!   reports whose refine output they altered), so on any core two of them guarantee together and
//!   the wrong report reaches the chain. Once it is available the auditors (every validator: on
//!   two cores each draws both) recompute it from the bundle and judge it invalid; the block that
//!   made it available is disregarded, a bad verdict with the two guarantors as culprits goes into
//!   a block on its parent, every node's state records the report as bad and the guarantors as
//!   offenders, and the chain finalizes without the report.

mod common;

use orrery_chain_spec::dev::{DevServices, MANAGER_SERVICE};
use orrery_chain_spec::package::manager_fund;
use orrery_network::message::WorkPackageSubmission;
use orrery_node::{Event, Input, NodeOptions};
use orrery_sim::Sim;
use orrery_types::{CoreIndex, Hash, HeaderHash, WorkPackage};

/// A `fund` call to the manager, anchored on node `node`'s best block.
fn package(sim: &Sim, node: usize, amount: u64) -> WorkPackage {
    let fund = manager_fund(MANAGER_SERVICE, amount, 0);
    common::dev_package(sim, node, &[common::call(MANAGER_SERVICE, DevServices::ORRERY.manager, fund)])
}

fn submit(sim: &mut Sim, node: usize, core: CoreIndex, package: &WorkPackage) {
    let submission = WorkPackageSubmission { core, package: package.clone(), extrinsics: vec![Vec::new()] };
    sim.input(node, Input::SubmitWorkPackage(submission));
}

/// Every `Audited` event of node `node`: (block, report, valid).
fn audits(sim: &Sim, node: usize) -> Vec<(HeaderHash, Hash, bool)> {
    sim.work_events(node)
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Audited { block, report, valid } => Some((*block, *report, *valid)),
            _ => None,
        })
        .collect()
}

#[test]
fn an_honest_report_is_audited_valid_by_everyone_and_finality_passes_it() {
    let genesis = common::genesis();
    let mut sim = Sim::new(&genesis, common::config(11)).unwrap();
    sim.run_slots(2).unwrap();
    common::to_rotation_start(&mut sim, 500);
    let g = common::guarantors(&sim, 0)[0][0];
    let p = package(&sim, g, 1);
    submit(&mut sim, g, 0, &p);
    sim.run_slots(8).unwrap();

    let mut block = None;
    for i in 0..6 {
        let a = audits(&sim, i);
        assert!(!a.is_empty(), "node {i} audited nothing");
        assert!(a.iter().all(|(_, _, valid)| *valid), "node {i}: {a:?}");
        block = Some(a[0].0);
    }
    let block = block.unwrap();
    let slot = sim.node(0).unwrap().chain().header_of(&block).map(|(s, _)| s).expect("the block is kept");
    for i in 0..6 {
        let fin = sim.node(i).unwrap().status().finalized;
        assert!(
            fin.slot > slot,
            "node {i}: finalized #{} is not past the audited block at #{slot}",
            fin.slot
        );
    }
}

#[test]
fn a_wrong_report_is_caught_disputed_and_its_guarantors_punished() {
    let genesis = common::genesis();
    let mut c = common::config(12);
    for v in 0..3 {
        c.node_options.insert(v, NodeOptions { corrupt_reports: true, ..c.options });
    }
    let mut sim = Sim::new(&genesis, c).unwrap();
    sim.run_slots(2).unwrap();
    common::to_rotation_start(&mut sim, 500);
    // Three of six validators on two cores of three: some core has two of them.
    let sets = common::guarantors(&sim, 3);
    let (core, set) = sets
        .iter()
        .enumerate()
        .find(|(_, set)| set.iter().filter(|&&v| v < 3).count() >= 2)
        .map(|(c, set)| (c as CoreIndex, set.clone()))
        .expect("two malicious guarantors share a core");
    let g = *set.iter().find(|&&v| v < 3).unwrap();
    let p = package(&sim, g, 7);
    submit(&mut sim, g, core, &p);
    sim.run_slots(12).unwrap();

    // The honest validators judged the report invalid.
    let mut bad = None;
    for i in 3..6 {
        let a = audits(&sim, i);
        let negative = a.iter().find(|(_, _, valid)| !valid);
        let (block, report, _) =
            *negative.unwrap_or_else(|| panic!("node {i} judged nothing invalid: {a:?}"));
        bad = Some((block, report));
    }
    let (block, report) = bad.unwrap();
    let spec = &genesis.ctx.spec;
    for i in 0..6 {
        let n = sim.node(i).unwrap();
        let status = n.status();
        let state = n.chain().state(&status.best.hash).unwrap().state();
        assert!(state.disputes.bad.contains(&report), "node {i}: the report is not in ψ_B");
        // The culprits: the guarantee's signers, two of the malicious three.
        let offenders: Vec<usize> = (0..usize::from(spec.validators_count))
            .filter(|&v| {
                let key = orrery_keys::ValidatorKeys::dev(v as u32).ed25519_public();
                state.disputes.offenders.contains(&key)
            })
            .collect();
        assert!(
            offenders.len() >= 2 && offenders.iter().all(|&v| v < 3),
            "node {i}: offenders {offenders:?}"
        );
        // The block that made the wrong report available is not on the best chain, nor final.
        assert!(
            !sim.best_chain(i).iter().any(|(_, h)| *h == block),
            "node {i}: the disregarded block is best"
        );
        assert!(status.finalized.slot > 0, "node {i}: nothing finalized");
    }
}

/// A validator that is down never announces, so it is no auditor's no-show: the other five judge
/// the report valid, more than two thirds of six, and finality passes the block that made it
/// available without it.
#[test]
fn a_silent_validator_does_not_hold_up_the_audit() {
    let genesis = common::genesis();
    let mut c = common::config(13);
    // Down from the middle of the first slot on.
    let at = u64::from(genesis.slot() + 1) * c.slot_ms + c.slot_ms / 2;
    c.crashes.push(orrery_sim::Crash { node: 5, at, restart: None });
    let mut sim = Sim::new(&genesis, c).unwrap();
    sim.run_slots(2).unwrap();
    common::to_rotation_start(&mut sim, 500);
    let sets = common::guarantors(&sim, 0);
    let (core, g) = sets
        .iter()
        .enumerate()
        .find_map(|(c, set)| set.iter().find(|&&v| v != 5).map(|&v| (c as CoreIndex, v)))
        .unwrap();
    let p = package(&sim, g, 3);
    submit(&mut sim, g, core, &p);
    sim.run_slots(8).unwrap();
    let mut block = None;
    for i in 0..5 {
        let a = audits(&sim, i);
        assert!(a.iter().any(|(_, _, valid)| *valid) && a.iter().all(|(_, _, v)| *v), "node {i}: {a:?}");
        block = Some(a[0].0);
    }
    let slot = sim.node(0).unwrap().chain().header_of(&block.unwrap()).map(|(s, _)| s).unwrap();
    for i in 0..5 {
        let fin = sim.node(i).unwrap().status().finalized;
        assert!(fin.slot > slot, "node {i}: finalized #{} not past #{slot}", fin.slot);
    }
}

/// No guarantor gives auditors the bundle (every node withholds CE 147), and a third of the
/// validators (two that guarantee nothing here) lose their shards (they refuse CE 137): every
/// auditor that is not a guarantor rebuilds the bundle from the other assurers' shards, checked
/// against the erasure root, and judges it valid; finality passes the block.
#[test]
fn bundles_withheld_and_a_third_of_the_shards_lost_the_auditors_rebuild_from_shards() {
    let genesis = common::genesis();
    let mut sim_config = common::config(14);
    // Find the guarantors first, on a run that is otherwise the same.
    let probe = {
        let mut sim = Sim::new(&genesis, sim_config.clone()).unwrap();
        sim.run_slots(2).unwrap();
        common::to_rotation_start(&mut sim, 500);
        common::guarantors(&sim, 0)
    };
    let lost: Vec<usize> = probe[1].iter().copied().take(2).collect();
    for v in 0..6 {
        let mut o = NodeOptions { withhold_bundles: true, ..sim_config.options };
        o.withhold_shards = lost.contains(&v);
        sim_config.node_options.insert(v, o);
    }
    let mut sim = Sim::new(&genesis, sim_config).unwrap();
    sim.run_slots(2).unwrap();
    common::to_rotation_start(&mut sim, 500);
    let sets = common::guarantors(&sim, 0);
    assert_eq!(sets, probe, "the same run");
    let g = sets[0][0];
    let p = package(&sim, g, 5);
    submit(&mut sim, g, 0, &p);
    sim.run_slots(8).unwrap();
    let mut block = None;
    for i in 0..6 {
        let a = audits(&sim, i);
        assert!(!a.is_empty() && a.iter().all(|(_, _, v)| *v), "node {i}: {a:?}");
        block = Some(a[0].0);
    }
    let slot = sim.node(0).unwrap().chain().header_of(&block.unwrap()).map(|(s, _)| s).unwrap();
    for i in 0..6 {
        let fin = sim.node(i).unwrap().status().finalized;
        assert!(fin.slot > slot, "node {i}: finalized #{} not past #{slot}", fin.slot);
    }
}
