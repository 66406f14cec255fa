//! Guaranteeing in the simulator: six dev validators on the tiny spec (two cores, three guarantors
//! each), GRANDPA on, tickets off. A package for service 0 (the manager's `fund` command, which
//! refine passes through) authorized by the dev chain's null authorizer is submitted to a guarantor
//! of core 0 as its own user would (`Input::SubmitWorkPackage`); it must end up guaranteed by at
//! least two of core 0's guarantors in a block of every node's best chain, its report pending
//! availability (`ρ[0]`) in every node's best state. A package with a bad authorization token and
//! one anchored on a block nobody has are refused, naming the rule, and reach no block. With one of
//! the three guarantors down, two signatures make the guarantee; and packages for both cores
//! submitted as an epoch begins, to guarantors still on the last epoch's block, are guaranteed.

mod common;

use std::time::Instant;

use orrery_chain_spec::dev::{DevServices, DEV_AUTHORIZER_CONFIG, MANAGER_SERVICE};
use orrery_chain_spec::package::{manager_fund, Call};
use orrery_codec::Encode;
use orrery_crypto::blake2b_256;
use orrery_network::message::WorkPackageSubmission;
use orrery_node::{Event, Input, NodeOptions};
use orrery_sim::{Sim, SimConfig};
use orrery_stf::assignments::GuarantorAssignments;
use orrery_types::{ExtrinsicSpec, Hash, WorkPackage};
use orrery_work_report::{compute_work_report, PackageData};

const EXTRINSIC: &[u8] = b"an extrinsic the manager does not read";

/// A package for the manager (`fund`), anchored on node `node`'s best block, authorized by
/// `token`, with one extrinsic.
fn package(sim: &Sim, node: usize, token: &[u8], amount: u64) -> WorkPackage {
    let fund = manager_fund(MANAGER_SERVICE, amount, 0);
    let call = Call {
        refine_gas: 50_000_000,
        accumulate_gas: 1_000_000,
        ..common::call(MANAGER_SERVICE, DevServices::ORRERY.manager, fund)
    };
    let mut package = common::dev_package(sim, node, &[call]);
    package.authorization = token.to_vec();
    package.items[0].extrinsic =
        vec![ExtrinsicSpec { hash: blake2b_256(EXTRINSIC), len: EXTRINSIC.len() as u32 }];
    package
}

fn submission(package: &WorkPackage) -> Input {
    Input::SubmitWorkPackage(WorkPackageSubmission {
        core: 0,
        package: package.clone(),
        extrinsics: vec![vec![EXTRINSIC.to_vec()]],
    })
}

/// The validators assigned to core 0 in the current slot's rotation, by node `node`'s best state.
fn core0_guarantors(sim: &Sim, node: usize) -> Vec<usize> {
    common::guarantors(sim, node)[0].clone()
}

fn refusal(sim: &Sim, node: usize, package: &Hash) -> Option<String> {
    sim.work_events(node).iter().find_map(|(_, e)| match e {
        Event::WorkPackageRefused { package: p, reason } if p == package => Some(reason.clone()),
        _ => None,
    })
}

/// The slot and signer count of the block on node `node`'s best chain that guarantees `package`.
fn guaranteed_in(sim: &Sim, node: usize, package: &Hash) -> Option<(u32, usize)> {
    let n = sim.node(node)?;
    sim.best_chain(node).into_iter().find_map(|(slot, hash)| {
        let block = n.chain().block(&hash).unwrap()?;
        let g = block.extrinsic.guarantees.iter().find(|g| g.report.package_spec.hash == *package)?;
        Some((slot, g.signatures.len()))
    })
}

/// Whether node `node`'s best state has `package`'s report pending availability on core 0.
fn pending_on_core0(sim: &Sim, node: usize, package: &Hash) -> bool {
    let Some(n) = sim.node(node) else { return false };
    let state = n.chain().state(&n.status().best.hash).unwrap().state();
    state.pending_reports.0[0].as_ref().is_some_and(|a| a.report.package_spec.hash == *package)
}

#[test]
fn a_package_is_guaranteed_into_every_nodes_best_chain_and_bad_ones_are_refused() {
    let genesis = common::genesis();
    let mut sim = common::started(7);
    // Early in a slot that is not the last of its rotation (R = 4), so the sharing ends in it.
    let mut slot = sim.slot_now() + 1;
    while slot % genesis.ctx.spec.rotation_period == genesis.ctx.spec.rotation_period - 1 {
        slot += 1;
    }
    sim.run_until(sim.slot_start(slot) + 500).unwrap();
    let guarantors = core0_guarantors(&sim, 0);
    assert_eq!(guarantors.len(), 3, "six validators on two cores");
    let g = guarantors[0];

    let good = package(&sim, g, DEV_AUTHORIZER_CONFIG, 1);
    let good_hash = blake2b_256(&good.encode());
    let started = Instant::now();
    sim.input(g, submission(&good));
    let guarantor_ms = started.elapsed().as_secs_f64() * 1e3;

    let bad_token = package(&sim, g, b"not the token", 2);
    let bad_token_hash = blake2b_256(&bad_token.encode());
    sim.input(g, submission(&bad_token));
    let mut unknown_anchor = package(&sim, g, DEV_AUTHORIZER_CONFIG, 3);
    unknown_anchor.context.anchor = [0x55; 32];
    let unknown_anchor_hash = blake2b_256(&unknown_anchor.encode());
    sim.input(g, submission(&unknown_anchor));

    let token_reason = refusal(&sim, g, &bad_token_hash).expect("the bad token is refused");
    assert!(token_reason.contains("not authorized"), "{token_reason}");
    let anchor_reason = refusal(&sim, g, &unknown_anchor_hash).expect("the unknown anchor is refused");
    assert!(anchor_reason.contains("anchor_not_recent"), "{anchor_reason}");
    // A node not assigned to core 0 refuses a package a peer sends it for core 0 (CE 133). (Its
    // own user's package it passes on to a guarantor of the core instead.)
    let other = (0..6).find(|v| !guarantors.contains(v)).unwrap();
    let elsewhere = package(&sim, other, DEV_AUTHORIZER_CONFIG, 4);
    let Input::SubmitWorkPackage(submitted) = submission(&elsewhere) else { unreachable!() };
    let from = orrery_keys::ValidatorKeys::dev(g as u32).ed25519_public();
    sim.input(other, Input::Message { peer: from, message: orrery_node::Message::WorkPackage(submitted) });
    let reason = refusal(&sim, other, &blake2b_256(&elsewhere.encode())).expect("refused off its core");
    assert!(reason.contains("not a guarantor of core 0"), "{reason}");

    // Slot by slot, so each node's best state is seen with the report pending (it times out of ρ
    // after U = 5 slots: nobody assures it yet).
    let mut pending = [false; 6];
    for _ in 0..4 {
        sim.run_slots(1).unwrap();
        for (i, seen) in pending.iter_mut().enumerate() {
            *seen |= pending_on_core0(&sim, i, &good_hash);
        }
    }
    assert_eq!(pending, [true; 6], "every node's best state had the report in ρ[0]");
    let guaranteed = sim.work_events(g).iter().find_map(|(_, e)| match e {
        Event::Guaranteed { package, core, signatures, .. } if *package == good_hash => {
            Some((*core, *signatures))
        }
        _ => None,
    });
    let (core, signatures) = guaranteed.expect("the guarantor distributed a guarantee");
    assert_eq!(core, 0);
    assert!(signatures >= 2, "{signatures} signatures");
    assert_eq!(refusal(&sim, g, &good_hash), None);

    let mut included = Vec::new();
    for i in 0..sim.node_count() {
        let (at, signers) = guaranteed_in(&sim, i, &good_hash)
            .unwrap_or_else(|| panic!("node {i}: no block of its best chain guarantees the package"));
        assert!((2..=3).contains(&signers), "node {i}: {signers} signers");
        included.push(at);
        for bad in [&bad_token_hash, &unknown_anchor_hash] {
            assert_eq!(guaranteed_in(&sim, i, bad), None, "node {i}: a refused package reached a block");
        }
    }
    included.dedup();
    assert_eq!(included.len(), 1, "every node has the same block guaranteeing it: {included:?}");

    // The guarantor's cost, apart from the network: Ξ (authorize, refine, bundle and erasure root),
    // here on the best state's services (the lookup anchor's is final and pruned by now; the
    // manager's code and the authorizer are the same in both).
    let n = sim.node(g).unwrap();
    let accounts = &n.chain().state(&n.status().best.hash).unwrap().state().accounts;
    let data = PackageData {
        imports: vec![Vec::new()],
        justifications: vec![Vec::new()],
        extrinsics: vec![vec![EXTRINSIC.to_vec()]],
        segment_roots: Default::default(),
    };
    let runs = 20;
    let started = Instant::now();
    for _ in 0..runs {
        compute_work_report(&genesis.ctx.spec, &good, 0, accounts, &data, Some(&genesis.ctx.programs))
            .unwrap();
    }
    let xi_ms = started.elapsed().as_secs_f64() * 1e3 / f64::from(runs);
    println!(
        "guarantor: package accepted, refined, signed and shared in {guarantor_ms:.1} ms; \
         Ξ alone {xi_ms:.2} ms per package (mean of {runs}); guaranteed with {signatures} signatures, \
         included at slot {}",
        included[0]
    );
}

#[test]
fn with_a_co_guarantor_down_two_signatures_make_the_guarantee() {
    let genesis = common::genesis();
    let spec = &genesis.ctx.spec;
    let slot = 5;
    // Epoch 0's assignments are the genesis state's (η_2 and κ do not change within it).
    let state = genesis.state.state();
    let assignments = GuarantorAssignments::current(spec, &state.entropy, slot, &state.active_validators);
    let ours: Vec<usize> = (0..6).filter(|&v| assignments.cores[v] == 0).collect();
    let mut c = SimConfig::new(8, &genesis);
    c.options = NodeOptions { tickets: false, grandpa: true, ..NodeOptions::default() };
    let down = ours[2];
    c.crashes =
        vec![orrery_sim::Crash { node: down, at: u64::from(slot) * c.slot_ms - 2_000, restart: None }];
    let mut sim = Sim::new(&genesis, c).unwrap();
    sim.run_until(sim.slot_start(slot) + 500).unwrap();
    assert_eq!(core0_guarantors(&sim, ours[0]), ours);

    let good = package(&sim, ours[0], DEV_AUTHORIZER_CONFIG, 1);
    let good_hash = blake2b_256(&good.encode());
    let submitted = sim.now();
    sim.input(ours[0], submission(&good));
    sim.run_slots(4).unwrap();
    let (at, signatures) = sim
        .work_events(ours[0])
        .iter()
        .find_map(|(at, e)| match e {
            Event::Guaranteed { package, signatures, .. } if *package == good_hash => {
                Some((*at, *signatures))
            }
            _ => None,
        })
        .expect("guaranteed without the third guarantor");
    assert_eq!(signatures, 2);
    for i in (0..6).filter(|&i| i != down) {
        let (_, signers) = guaranteed_in(&sim, i, &good_hash)
            .unwrap_or_else(|| panic!("node {i}: no block of its best chain guarantees the package"));
        assert_eq!(signers, 2);
    }
    println!("guarantor: two of three signatures, guaranteed {} ms after submission", at - submitted);
}

#[test]
fn packages_for_both_cores_at_an_epoch_change_are_guaranteed() {
    let genesis = common::genesis();
    let spec = &genesis.ctx.spec;
    let mut c = SimConfig::new(9, &genesis);
    c.options = NodeOptions { tickets: false, grandpa: true, ..NodeOptions::default() };
    let mut sim = Sim::new(&genesis, c).unwrap();
    let slot = spec.epoch_length;
    // A few milliseconds into the epoch's first slot: the guarantors that did not author its block
    // still have the last epoch's block as their best, and carry its state into the new epoch.
    sim.run_until(sim.slot_start(slot) + 5).unwrap();
    let n = sim.node(0).unwrap();
    let best = n.chain().state(&n.status().best.hash).unwrap().state().clone();
    let ctx = &genesis.ctx;
    let posterior =
        orrery_author::posterior_safrole(spec, &ctx.ring, &best, slot, &best.disputes.offenders, &[])
            .unwrap();
    let assignments = GuarantorAssignments::current(spec, &posterior.entropy, slot, &posterior.active);
    let mut hashes = Vec::new();
    // Whether a guarantor took its package on the last epoch's state carried forward.
    let mut carried = false;
    for core in 0..spec.cores_count {
        let guarantor = (0..6).find(|&v| assignments.cores[v] == core).unwrap();
        let package = package(&sim, guarantor, DEV_AUTHORIZER_CONFIG, u64::from(core) + 10);
        carried |= sim.node(guarantor).unwrap().status().best.slot < slot;
        hashes.push(blake2b_256(&package.encode()));
        let mut input = submission(&package);
        if let Input::SubmitWorkPackage(s) = &mut input {
            s.core = core;
        }
        sim.input(guarantor, input);
        assert_eq!(refusal(&sim, guarantor, hashes.last().unwrap()), None, "core {core}");
    }
    assert!(carried, "some guarantor had not imported the epoch's first block yet");
    sim.run_slots(3).unwrap();
    for i in 0..6 {
        for (core, hash) in hashes.iter().enumerate() {
            assert!(guaranteed_in(&sim, i, hash).is_some(), "node {i}: core {core}'s package is in no block");
        }
    }
}
