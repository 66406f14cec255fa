//! The simulator scenarios, each seeded: six dev validators on the tiny spec (E = 12),
//! GRANDPA on, fallback-sealed (tickets off: a ring prover and three ring proofs per validator per
//! epoch cost about a second each, which the soak run pays and CI pays only in the one tickets
//! scenario; see `scripts/sim-soak.sh`). Every scenario checks, besides its own point, that no node ever
//! finalized a block off what it finalized before and that all nodes agree on every finalized
//! block and its state root.

mod common;

use std::collections::BTreeSet;

use orrery_sim::{all_but, Attack, Crash, Equivocator, Hostile, Latency, NetConfig, Partition, Sim, Summary};

const E: u32 = 12;

/// No node finalized two conflicting blocks, and the nodes agree on every finalized slot's block
/// and state root.
fn assert_safe(s: &Summary) {
    for (i, n) in s.nodes.iter().enumerate() {
        assert!(n.conflicts.is_empty(), "node {i} finalized off its own final chain: {:?}", n.conflicts);
    }
    assert_eq!(s.disagreements(), vec![], "nodes finalized different blocks at a slot");
}

/// Runs slot by slot to the end of `slots` more slots; returns the largest head-to-final lag (in
/// slots) seen at any slot's end by any live node, from `lag_from` on.
fn run_watching_lag(sim: &mut Sim, slots: u32, lag_from: u32) -> u32 {
    let mut worst = 0;
    for _ in 0..slots {
        sim.run_slots(1).unwrap();
        if sim.slot_now() < lag_from {
            continue;
        }
        for i in 0..sim.node_count() {
            if let Some(node) = sim.node(i) {
                let st = node.status();
                worst = worst.max(st.best.slot - st.finalized.slot);
            }
        }
    }
    worst
}

#[test]
fn six_validators_fill_every_slot_and_finalize_a_few_slots_behind() {
    let mut c = common::config(1);
    // Lossy but never lost for a whole slot: latency up to 300 ms, 1% duplicated, 5% held back.
    c.net = NetConfig {
        latency: Latency::Uniform { min: 10, max: 300 },
        duplicate: 10_000,
        reorder: 50_000,
        reorder_ms: 500,
        ..NetConfig::default()
    };
    let mut sim = Sim::new(&common::genesis(), c).unwrap();
    let first = sim.first_slot();
    let slots = 150;
    let lag = run_watching_lag(&mut sim, slots, first + 2);
    let s = sim.summary();
    assert_safe(&s);
    let last = first + slots - 1;
    let every: Vec<u32> = (first..=last).collect();
    for i in 0..6 {
        // Every slot has an honest author here, and every one got its block on every node's best chain.
        assert_eq!(sim.best_chain_slots(i), every, "node {i}'s best chain");
        assert_eq!(s.nodes[i].events.rejected, 0);
        assert_eq!(s.nodes[i].events.equivocations, 0);
    }
    let authored: u64 = s.nodes.iter().map(|n| n.events.authored).sum();
    assert_eq!(authored, u64::from(slots));
    assert!(lag <= 3, "finality trailed the head by {lag} slots");
    // Finality reached within the lag of the last slot, and all six finalized the same chain.
    let finals = &s.nodes[0].finals;
    assert!(finals.last().unwrap().slot + 3 >= last);
    for n in &s.nodes {
        assert!(n.finals.len() + 3 >= finals.len(), "a node finalized fewer blocks than the lag allows");
        assert_eq!(
            &n.finals[..n.finals.len().min(finals.len())],
            &finals[..n.finals.len().min(finals.len())]
        );
    }
    assert!(s.net.duplicates > 0, "the network duplicated nothing: the scenario tests less than it says");
}

#[test]
fn one_seed_one_run_hash_and_another_seed_another() {
    let run = |seed| {
        let mut c = common::config(seed);
        c.net = NetConfig::rough();
        let mut sim = Sim::new(&common::genesis(), c).unwrap();
        sim.run_slots(24).unwrap();
        let s = sim.summary();
        assert_safe(&s);
        assert!(s.nodes[0].finalized.unwrap().slot > sim.first_slot(), "seed {seed} finalized nothing");
        (s.run_hash, s.steps, s.net)
    };
    let a = run(7);
    assert_eq!(a, run(7), "the same seed ran differently");
    let b = run(8);
    assert_ne!(a.0, b.0, "two seeds gave one run hash");
}

/// Tickets on: each node asks for its proofs (`Output::MakeTickets`) and the simulator makes them at
/// once; the first epoch's contest seals the next epoch, and the seed's run repeats in everything
/// but the proofs' bytes: a ring proof is blinded with randomness from the OS (its zero-knowledge
/// columns), so blocks carrying tickets, and so the block hashes and the run hash, differ between
/// runs, while the ticket ids, every slot's author, every event and every message are the same.
/// The one scenario that pays for ring proofs (six ticket generations per run, 15–20 s per run).
#[test]
fn with_tickets_the_next_epoch_is_ticket_sealed_and_one_seed_repeats_but_for_the_proofs() {
    let run = || {
        let mut c = common::config(11);
        c.options.tickets = true;
        let mut sim = Sim::new(&common::genesis(), c).unwrap();
        let first = sim.first_slot();
        // Into the next epoch's third slot.
        sim.run_slots((first / E + 1) * E + 3 - first).unwrap();
        let s = sim.summary();
        assert_safe(&s);
        let nodes: Vec<_> = (0..6)
            .map(|i| {
                let n = &s.nodes[i];
                let sealed = sim.node(i).unwrap().best_ticket_sealed();
                (n.best.map(|b| b.slot), n.finalized.map(|b| b.slot), n.finals.len(), n.events, sealed)
            })
            .collect();
        (s.steps, s.net, nodes)
    };
    let a = run();
    assert!(a.2.iter().all(|n| n.4 > 0), "not every node's best chain has a ticket-sealed block: {:?}", a.2);
    assert_eq!(a, run(), "the same seed ran differently with tickets on");
}

#[test]
fn a_validator_down_for_an_epoch_restarts_from_its_database_and_catches_up() {
    let mut c = common::config(3);
    let g = common::genesis();
    let first = g.slot() + 1;
    let at = |slot: u32| u64::from(slot) * c.slot_ms;
    let (down, up) = (first + 10, first + 10 + E);
    // Mid-slot, so the crash lands between a block and its votes.
    c.crashes = vec![Crash { node: 2, at: at(down) + 2_500, restart: Some(at(up) + 1_000) }];
    let mut sim = Sim::new(&g, c).unwrap();
    sim.run_slots(up - first).unwrap();
    assert!(sim.node(2).is_none(), "node 2 is down");
    let before = sim.summary();
    sim.run_slots(2 * E).unwrap();
    let s = sim.summary();
    assert_safe(&s);
    let last = sim.slot_now();
    // Node 2 is back on the same head and finality as everyone else.
    let head = s.nodes[0].best.unwrap();
    let fin = s.nodes[0].finalized.unwrap();
    assert!(fin.slot + 3 >= last, "finality stalled at {} by slot {last}", fin.slot);
    for (i, n) in s.nodes.iter().enumerate() {
        assert_eq!(n.best, Some(head), "node {i}'s head");
        assert!(n.finalized.unwrap().slot + 1 >= fin.slot, "node {i} finalized only {:?}", n.finalized);
    }
    assert!(s.nodes[2].events.authored > before.nodes[2].events.authored, "node 2 authors again");
    // The only slots without a block are node 2's while it was down.
    let chain: BTreeSet<u32> = sim.best_chain_slots(0).into_iter().collect();
    let missing: Vec<u32> = (first..=last).filter(|s| !chain.contains(s)).collect();
    assert!(!missing.is_empty(), "node 2 sealed no slot while down: the crash tested nothing");
    assert!(missing.iter().all(|m| (down..=up).contains(m)), "missing slots {missing:?}");
    // And the others went on finalizing while it was down.
    assert!(before.nodes[0].finalized.unwrap().slot + 3 >= up);
}

#[test]
fn a_three_three_partition_finalizes_nothing_and_resumes_after_healing() {
    let mut c = common::config(4);
    let g = common::genesis();
    let first = g.slot() + 1;
    let at = |slot: u32| u64::from(slot) * c.slot_ms;
    let (split, heal) = (first + 12, first + 36);
    c.partitions = vec![Partition::split([0, 1, 2], at(split) + 500, at(heal))];
    let mut sim = Sim::new(&g, c).unwrap();
    sim.run_slots(split - first + 1).unwrap();
    let at_split = sim.summary();
    let final_at_split = at_split.nodes.iter().map(|n| n.finalized.unwrap().slot).max().unwrap();
    sim.run_slots(heal - split - 1).unwrap();
    let during = sim.summary();
    assert_safe(&during);
    for (i, n) in during.nodes.iter().enumerate() {
        // Four of six votes are needed: neither side can finalize a block made after the split.
        assert!(
            n.finalized.unwrap().slot <= final_at_split.max(split),
            "node {i} finalized {:?} in the partition",
            n.finalized
        );
        // Each side kept authoring its own fork (its three validators' slots).
        assert!(n.best.unwrap().slot >= split + 6, "node {i}'s side stopped authoring: {:?}", n.best);
    }
    let heads: BTreeSet<_> = during.nodes.iter().map(|n| n.best.unwrap().hash).collect();
    assert_eq!(heads.len(), 2, "two sides, two forks");
    sim.run_slots(24).unwrap();
    let s = sim.summary();
    assert_safe(&s);
    let last = sim.slot_now();
    let head = s.nodes[0].best.unwrap();
    for (i, n) in s.nodes.iter().enumerate() {
        assert_eq!(n.best, Some(head), "node {i} is on another fork after healing");
        assert!(
            n.finalized.unwrap().slot + 3 >= last,
            "node {i} has not resumed finalizing: {:?}",
            n.finalized
        );
    }
}

#[test]
fn an_equivocating_author_is_reported_and_the_best_chain_avoids_its_blocks() {
    let mut c = common::config(5);
    let g = common::genesis();
    let first = g.slot() + 1;
    c.equivocators = vec![Equivocator { node: 1, slots: first + 6..first + 30 }];
    let mut sim = Sim::new(&g, c).unwrap();
    sim.run_slots(48).unwrap();
    let s = sim.summary();
    assert_safe(&s);
    let twins = sim.equivocations();
    assert!(!twins.is_empty(), "node 1 sealed no slot in the window");
    let bad_slots: BTreeSet<u32> = twins.iter().map(|(slot, _, _)| *slot).collect();
    for (i, n) in s.nodes.iter().enumerate() {
        assert!(n.events.equivocations >= 1, "node {i} reported no equivocation");
        // Neither block of an equivocation is on a final or best chain.
        assert!(n.finals.iter().all(|f| !bad_slots.contains(&f.slot)), "node {i} finalized an equivocation");
        let best: BTreeSet<u32> = sim.best_chain_slots(i).into_iter().collect();
        assert!(best.is_disjoint(&bad_slots), "node {i}'s best chain holds an equivocation");
    }
    // And the chain went on around them.
    let last = sim.slot_now();
    assert!(s.nodes[0].finalized.unwrap().slot + 3 >= last);
}

#[test]
fn hostile_peers_are_disconnected_and_the_validators_go_on() {
    let mut c = common::config(6);
    let g = common::genesis();
    let first = g.slot() + 1;
    let at = |slot: u32| u64::from(slot) * c.slot_ms;
    // One peer per attack, each repeated over a few slots so the node's score passes its limit.
    // Early in each slot, so an invalid block can sit on a final block at the current slot.
    let repeat = |attack: Attack| Hostile {
        script: (0..6).map(|k| (at(first + 2 + k) + 10, attack.clone())).collect(),
    };
    c.hostile = vec![
        repeat(Attack::Garbage),
        repeat(Attack::Oversized),
        repeat(Attack::UnknownStreamKind(200)),
        Hostile { script: vec![(at(first + 3) + 3_000, Attack::AnnounceUnknown { count: 200 })] },
        repeat(Attack::AnnounceInvalid),
    ];
    let hostiles = c.hostile.len();
    let mut sim = Sim::new(&g, c).unwrap();
    let slots = 36;
    sim.run_slots(slots).unwrap();
    let s = sim.summary();
    assert_safe(&s);
    let hostile: Vec<usize> = (0..hostiles).map(|j| sim.hostile_endpoint(j)).collect();
    for (i, n) in s.nodes.iter().enumerate() {
        for &h in &hostile {
            assert!(n.disconnected.contains_key(&h), "node {i} kept hostile peer {h}: {:?}", n.disconnected);
        }
        let honest: Vec<_> = n.disconnected.keys().filter(|k| !hostile.contains(k)).collect();
        assert!(honest.is_empty(), "node {i} dropped honest peers {honest:?}");
        assert!(n.events.rejected >= 1, "node {i} never met the invalid block");
    }
    let last = first + slots - 1;
    let every: Vec<u32> = (first..=last).collect();
    for i in all_but(6, &[]) {
        assert_eq!(sim.best_chain_slots(i), every, "node {i}'s best chain");
    }
    assert!(s.nodes[0].finalized.unwrap().slot + 3 >= last);
}
