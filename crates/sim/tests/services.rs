//! Services on a simulated network, across epochs (issue 16's first "done when" line): six dev
//! validators on the tiny spec (two cores, epochs of 12 slots), GRANDPA on, the simulator's
//! latencies. `kv` and two `pay` instances are deployed through the manager, then called over and
//! over, one package at a time on each core: `kv` sets a new key each round, the first `pay` pays
//! the second, which pays half back. Every package must be accumulated on every node, the values
//! must be in every node's state, and every node must finalize the same blocks with the same state
//! roots. The latency from submission to accumulation, in slots, is printed (the figure in
//! docs/PERFORMANCE.md).

mod common;

use orrery_chain_spec::package::Call;
use orrery_crypto::blake2b_256;
use orrery_sim::Sim;
use orrery_types::ServiceId;

const KV: &[u8] = include_bytes!("../../../services/kv/kv.jam");
const PAY: &[u8] = include_bytes!("../../../services/pay/pay.jam");

#[test]
fn kv_and_pay_are_deployed_and_called_across_epochs_and_every_node_agrees() {
    let genesis = common::genesis();
    let mut sim = common::started(21);
    let mut latencies = Vec::new();

    // Deploy: kv on core 0, two pay instances (one package, two items) on core 1.
    let before: Vec<ServiceId> = {
        let n = sim.node(0).unwrap();
        n.chain().state(&n.status().best.hash).unwrap().state().accounts.keys().copied().collect()
    };
    common::to_rotation_start(&mut sim, 300);
    let start = sim.slot_now();
    let (p0, p1) = (
        common::dev_package(&sim, 0, &[common::deploy(KV)]),
        common::dev_package(&sim, 0, &[common::deploy(PAY), common::deploy(PAY)]),
    );
    let mut waiting =
        vec![(common::submit(&mut sim, 0, p0), start), (common::submit(&mut sim, 1, p1), start)];
    common::settle(&mut sim, &mut waiting, &mut latencies, 10);
    let (kv, pays) = {
        let n = sim.node(0).unwrap();
        let state = n.chain().state(&n.status().best.hash).unwrap().state();
        let new: Vec<(ServiceId, [u8; 32])> = state
            .accounts
            .iter()
            .filter(|(id, _)| !before.contains(id))
            .map(|(id, a)| (*id, a.info.code_hash))
            .collect();
        let kv: Vec<ServiceId> =
            new.iter().filter(|(_, h)| *h == blake2b_256(KV)).map(|(id, _)| *id).collect();
        let pays: Vec<ServiceId> =
            new.iter().filter(|(_, h)| *h == blake2b_256(PAY)).map(|(id, _)| *id).collect();
        assert_eq!((kv.len(), pays.len()), (1, 2), "deployed: {new:?}");
        (kv[0], pays)
    };

    // What the second pay instance has received so far (its endowment, and what the first one's
    // answer to its own endowment sent on).
    let counter = |sim: &Sim, i: usize, service: ServiceId, key: &[u8]| {
        common::storage(sim, i, service, key).map_or(0, |v| u64::from_le_bytes(v.try_into().unwrap()))
    };
    let received_before = counter(&sim, 0, pays[1], b"received");

    // Rounds of calls until past the second epoch boundary.
    let epoch = genesis.ctx.spec.epoch_length;
    let mut round = 0u32;
    while sim.slot_now() < 3 * epoch {
        common::to_rotation_start(&mut sim, 300);
        let at = sim.slot_now();
        let set = format!("round{round}=value{round}").into_bytes();
        let mut ping = pays[1].to_le_bytes().to_vec();
        ping.extend_from_slice(&100u64.to_le_bytes());
        let (p0, p1) = (
            common::dev_package(&sim, 0, &[common::call(kv, KV, set)]),
            // pay attaches 5 M gas to its ping (`PING_GAS`), which its own accumulation pays for.
            common::dev_package(
                &sim,
                0,
                &[Call { accumulate_gas: 8_000_000, ..common::call(pays[0], PAY, ping) }],
            ),
        );
        let mut waiting = vec![(common::submit(&mut sim, 0, p0), at), (common::submit(&mut sim, 1, p1), at)];
        common::settle(&mut sim, &mut waiting, &mut latencies, 10);
        round += 1;
    }
    // A few more slots so that finality passes the last round.
    sim.run_slots(3).unwrap();

    for i in 0..sim.node_count() {
        for r in 0..round {
            let value = common::storage(&sim, i, kv, format!("round{r}").as_bytes());
            assert_eq!(value, Some(format!("value{r}").into_bytes()), "node {i}: kv round {r}");
        }
        // Every round's ping of 100 reached the second instance (with what came back and forth).
        let received = counter(&sim, i, pays[1], b"received") - received_before;
        assert!(received >= 100 * u64::from(round), "node {i}: the second pay received {received}");
    }
    let summary = sim.summary();
    assert!(summary.disagreements().is_empty(), "finalized blocks differ: {:?}", summary.disagreements());
    let finalized: Vec<u32> =
        (0..sim.node_count()).map(|i| sim.node(i).unwrap().status().finalized.slot).collect();
    assert!(finalized.iter().all(|&f| f > 2 * epoch), "finality kept up: {finalized:?}");

    latencies.sort_unstable();
    let packages = latencies.len();
    println!(
        "services: {packages} packages over {} slots ({round} rounds of kv + pay); submission to accumulation \
         on every node: min {} / median {} / max {} slots",
        sim.slot_now(),
        latencies[0],
        latencies[packages / 2],
        latencies[packages - 1]
    );
}

/// Throughput on tiny's two cores: a kv package to each core every slot for 12 slots. A core holds
/// one report pending availability at a time, and a report becomes available the block after the
/// one that carries it, so the protocol's ceiling is one package per core per slot when guarantees
/// and assurances pipeline perfectly. Prints what the simulated network sustains.
#[test]
fn packages_every_slot_on_both_cores() {
    let mut sim = common::started(22);
    common::to_rotation_start(&mut sim, 300);
    let (p, at) = (common::dev_package(&sim, 0, &[common::deploy(KV)]), sim.slot_now());
    let mut waiting = vec![(common::submit(&mut sim, 0, p), at)];
    let mut latencies = Vec::new();
    common::settle(&mut sim, &mut waiting, &mut latencies, 10);
    let kv = {
        let n = sim.node(0).unwrap();
        let state = n.chain().state(&n.status().best.hash).unwrap().state();
        *state.accounts.iter().find(|(_, a)| a.info.code_hash == blake2b_256(KV)).unwrap().0
    };

    let slots = 12u32;
    let first = sim.slot_now() + 1;
    let mut submitted = Vec::new();
    for i in 0..slots {
        sim.run_until(sim.slot_start(first + i) + 300).unwrap();
        for core in 0..2u16 {
            let set = format!("s{i}c{core}=x").into_bytes();
            let p = common::dev_package(&sim, 0, &[common::call(kv, KV, set)]);
            let at = sim.slot_now();
            submitted.push((common::submit(&mut sim, core, p), at));
        }
    }
    let total = submitted.len();
    let mut latencies = Vec::new();
    common::settle(&mut sim, &mut submitted, &mut latencies, 12);
    let span = sim.slot_now() - first;
    latencies.sort_unstable();
    println!(
        "throughput: {total} packages submitted over {slots} slots on 2 cores, all accumulated on every node \
         by slot +{span}: {:.2} packages/slot; latency min {} / median {} / max {} slots",
        total as f64 / f64::from(span),
        latencies[0],
        latencies[latencies.len() / 2],
        latencies[latencies.len() - 1]
    );
}
