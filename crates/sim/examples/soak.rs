//! A long simulated run: `cargo run --release -p orrery-sim --example soak -- --slots 2000 --seed 1`.
//!
//! Six dev validators on the tiny spec over a rough network (20–400 ms, 2% lost, 1% duplicated,
//! 5% held back), with tickets and GRANDPA on, a validator crashed for an epoch every 200 slots
//! and a 3-3 partition for two epochs every 500. It checks what the scenario tests check (no
//! conflicting finality, agreement on every finalized state root, finality resumed at the end) and
//! prints the figures: simulated slots per second of wall time, the finality lag, the run hash.
//!
//! Options: `--slots N` (2000), `--seed S` (1), `--calm` (no loss, no faults), `--no-tickets`.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use orrery_node::NodeOptions;
use orrery_sim::{Crash, Genesis, NetConfig, Partition, Sim, SimConfig};
use orrery_testkit::tiny_import_context;

struct Args {
    slots: u32,
    seed: u64,
    calm: bool,
    tickets: bool,
}

fn args() -> Result<Args, String> {
    let mut out = Args { slots: 2000, seed: 1, calm: false, tickets: true };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--slots" => out.slots = value("--slots")?.parse().map_err(|e| format!("--slots: {e}"))?,
            "--seed" => out.seed = value("--seed")?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--calm" => out.calm = true,
            "--no-tickets" => out.tickets = false,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if out.slots == 0 {
        return Err("--slots must be at least 1".into());
    }
    Ok(out)
}

fn main() -> ExitCode {
    let args = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let genesis = match Genesis::dev(Arc::new(tiny_import_context())) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut config = SimConfig::new(args.seed, &genesis);
    config.options = NodeOptions { tickets: args.tickets, grandpa: true, ..NodeOptions::default() };
    let first = genesis.slot() + 1;
    let at = |slot: u32| u64::from(slot) * config.slot_ms;
    let e = genesis.ctx.spec.epoch_length;
    if !args.calm {
        config.net = NetConfig::rough();
        // Faults end two epochs before the run does, so finality has time to resume.
        let end = first + args.slots.saturating_sub(2 * e);
        let mut k = 0;
        let mut slot = first + 100;
        while slot + e < end {
            let node = k % 6;
            config.crashes.push(Crash { node, at: at(slot) + 2_500, restart: Some(at(slot + e) + 1_000) });
            k += 1;
            slot += 200;
        }
        let mut slot = first + 350;
        while slot + 2 * e < end {
            config.partitions.push(Partition::split([0, 1, 2], at(slot) + 500, at(slot + 2 * e)));
            slot += 500;
        }
    }
    let faults = (config.crashes.len(), config.partitions.len());
    let mut sim = match Sim::new(&genesis, config) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let started = Instant::now();
    let mut worst_lag = 0;
    let mut lag_sum = 0u64;
    let mut samples = 0u64;
    for k in 0..args.slots {
        if let Err(e) = sim.run_slots(1) {
            eprintln!("error at slot {}: {e}", sim.slot_now());
            return ExitCode::FAILURE;
        }
        for i in 0..sim.node_count() {
            if let Some(node) = sim.node(i) {
                let st = node.status();
                let lag = st.best.slot - st.finalized.slot;
                worst_lag = worst_lag.max(lag);
                lag_sum += u64::from(lag);
                samples += 1;
            }
        }
        if (k + 1) % 100 == 0 {
            let s = sim.summary();
            let rate = f64::from(k + 1) / started.elapsed().as_secs_f64();
            println!(
                "slot {:>5}: best {:?} finalized {:?} ({rate:.2} slots/s)",
                sim.slot_now(),
                s.nodes.iter().map(|n| n.best.map_or(0, |b| b.slot)).collect::<Vec<_>>(),
                s.nodes.iter().map(|n| n.finalized.map_or(0, |b| b.slot)).collect::<Vec<_>>(),
            );
        }
    }
    let wall = started.elapsed();
    let s = sim.summary();
    let last = sim.slot_now();
    let finals = s.nodes.iter().map(|n| n.finals.len()).max().unwrap_or(0);
    let conflicts: usize = s.nodes.iter().map(|n| n.conflicts.len()).sum();
    let disagreements = s.disagreements();
    let min_final = s.min_finalized_slot(0..s.nodes.len()).unwrap_or(0);
    let filled = sim.best_chain_slots(0).len();
    println!("seed {} slots {} faults: {} crashes, {} partitions", args.seed, args.slots, faults.0, faults.1);
    println!(
        "wall {:.1} s: {:.2} simulated slots/s; {} events run",
        wall.as_secs_f64(),
        f64::from(args.slots) / wall.as_secs_f64(),
        s.steps
    );
    println!(
        "slots with a block on node 0's best chain: {filled} of {}; finalized blocks: {finals}; lowest final slot {min_final} at slot {last}",
        args.slots
    );
    println!("finality lag: worst {worst_lag} slots, mean {:.2}", lag_sum as f64 / samples.max(1) as f64);
    println!("network: {:?}", s.net);
    println!("run hash {}", s.run_hash_hex());
    if conflicts > 0 || !disagreements.is_empty() || min_final + 6 < last {
        eprintln!("FAILED: {conflicts} conflicting finalizations, disagreements {disagreements:?}, lowest final slot {min_final} at {last}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
