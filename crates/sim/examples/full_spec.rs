//! The simulator at the Gray Paper's own size: `cargo run --release -p orrery-sim --example
//! full_spec -- --validators 1023 --slots 12 --seconds 1200 --grandpa on`.
//!
//! Builds the dev genesis of the full spec (V = 1023, C = 341, E = 600), starts a [`Sim`] with
//! every validator on a calm network, fallback-sealed (tickets off, as the `sim` bench), and runs
//! it slot by slot, printing after each slot its wall time, node 0's best and finalized slots, how
//! many nodes hold a block of that slot as their best, the events run and the messages delivered,
//! and the process' RSS. It stops after `--slots` slots or once `--seconds` of wall time are used
//! (checked, with the RSS, every 50 ms of simulated time), and prints the set-up time, the simulated slots
//! per second, the peak RSS and whether anything was finalized.
//!
//! The simulator runs every validator of the spec's set (`Sim::new` makes nodes `0..V`), and
//! Orrery runs only the tiny and full specs, so `--validators` is 1023 (full) or 6 (tiny, for
//! comparison); any other count is refused.
//!
//! Options: `--validators N` (1023), `--slots S` (600, one full epoch), `--seconds LIMIT` (1200),
//! `--grandpa on|off` (on), `--seed S` (1), `--max-rss-mib M` (18000: the run also stops once the
//! process' RSS passes it, so it cannot take a small machine's memory).

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use orrery_crypto::bandersnatch::RingContext;
use orrery_import::ImportContext;
use orrery_node::NodeOptions;
use orrery_sim::{Genesis, Sim, SimConfig};
use orrery_testkit::srs_path;
use orrery_types::ChainSpec;

struct Args {
    validators: u16,
    slots: u32,
    seconds: u64,
    grandpa: bool,
    seed: u64,
    max_rss_mib: f64,
}

fn args() -> Result<Args, String> {
    let mut out =
        Args { validators: 1023, slots: 600, seconds: 1200, grandpa: true, seed: 1, max_rss_mib: 18_000.0 };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--validators" => {
                out.validators = value("--validators")?.parse().map_err(|e| format!("--validators: {e}"))?
            }
            "--slots" => out.slots = value("--slots")?.parse().map_err(|e| format!("--slots: {e}"))?,
            "--seconds" => {
                out.seconds = value("--seconds")?.parse().map_err(|e| format!("--seconds: {e}"))?
            }
            "--max-rss-mib" => {
                out.max_rss_mib =
                    value("--max-rss-mib")?.parse().map_err(|e| format!("--max-rss-mib: {e}"))?
            }
            "--seed" => out.seed = value("--seed")?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--grandpa" => {
                out.grandpa = match value("--grandpa")?.as_str() {
                    "on" => true,
                    "off" => false,
                    other => return Err(format!("--grandpa: {other:?} is neither on nor off")),
                }
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if out.slots == 0 {
        return Err("--slots must be at least 1".into());
    }
    Ok(out)
}

/// The spec whose validator set has `validators` members: the simulator runs every validator of
/// the set, and Orrery knows only `tiny` and `full`.
fn spec_for(validators: u16) -> Result<ChainSpec, String> {
    [ChainSpec::full(), ChainSpec::tiny()].into_iter().find(|s| s.validators_count == validators).ok_or(
        format!(
            "--validators {validators}: the simulator runs every validator of the spec's set \
             (nodes 0..V) and Orrery runs only full (V = 1023) and tiny (V = 6)"
        ),
    )
}

/// A line of `/proc/self/status` (`VmRSS`, `VmHWM`) in MiB.
fn proc_mib(key: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

fn run(args: &Args) -> Result<(), String> {
    let spec = spec_for(args.validators)?;
    let v = usize::from(spec.validators_count);
    println!(
        "spec {} (V = {v}, C = {}, E = {}), grandpa {}, tickets off, seed {}, at most {} slots / {} s",
        spec.name,
        spec.cores_count,
        spec.epoch_length,
        if args.grandpa { "on" } else { "off" },
        args.seed,
        args.slots,
        args.seconds
    );
    let setup = Instant::now();
    let t = Instant::now();
    let ring = RingContext::from_srs_file(&srs_path(), v).map_err(|e| format!("the ring context: {e}"))?;
    let ctx = Arc::new(ImportContext::new(spec, Arc::new(ring)));
    let ring_s = t.elapsed().as_secs_f64();
    println!("set-up: ring context for {v} keys {ring_s:.2} s, RSS {:.0} MiB", proc_mib("VmRSS"));
    let t = Instant::now();
    let genesis = Genesis::dev(ctx).map_err(|e| e.to_string())?;
    let genesis_s = t.elapsed().as_secs_f64();
    let (pairs, bytes) = genesis.state.pairs().fold((0, 0), |(n, b), (k, v)| (n + 1, b + k.len() + v.len()));
    println!(
        "set-up: dev genesis {genesis_s:.2} s ({pairs} state entries, {:.2} MiB serialized), RSS {:.0} MiB",
        bytes as f64 / (1024.0 * 1024.0),
        proc_mib("VmRSS")
    );
    let mut config = SimConfig::new(args.seed, &genesis);
    config.options = NodeOptions { tickets: false, grandpa: args.grandpa, ..NodeOptions::default() };
    let slot_ms = config.slot_ms;
    let t = Instant::now();
    let mut sim = Sim::new(&genesis, config).map_err(|e| e.to_string())?;
    let nodes_s = t.elapsed().as_secs_f64();
    println!(
        "set-up: {} nodes (in-memory databases with the genesis state, nodes, {} connections scheduled) \
         {nodes_s:.2} s, RSS {:.0} MiB",
        sim.node_count(),
        v * (v - 1) / 2,
        proc_mib("VmRSS")
    );
    let setup_s = setup.elapsed().as_secs_f64();
    let deadline = setup + Duration::from_secs(args.seconds);

    // The second before the first slot: the connections come up and the nodes greet each other.
    let t = Instant::now();
    sim.run_until(sim.start() - 1).map_err(|e| e.to_string())?;
    let s = sim.summary();
    println!(
        "before slot {}: {:.2} s, {} events, {} messages delivered, RSS {:.0} MiB",
        sim.first_slot(),
        t.elapsed().as_secs_f64(),
        s.steps,
        s.net.messages_delivered,
        proc_mib("VmRSS")
    );

    let run_started = Instant::now();
    let mut done = 0u32;
    let mut cut = None;
    let (mut steps, mut delivered) = (s.steps, s.net.messages_delivered);
    while done < args.slots {
        let slot = sim.first_slot() + done;
        let slot_started = Instant::now();
        let mut last_note = Instant::now();
        let end = sim.slot_start(slot) + slot_ms - 1;
        // 50 ms of simulated time at a time, so the wall-time and memory limits are kept.
        while sim.now() < end {
            if Instant::now() >= deadline {
                cut = Some("--seconds");
                break;
            }
            if proc_mib("VmRSS") > args.max_rss_mib {
                cut = Some("--max-rss-mib");
                break;
            }
            let next = (sim.now() + 50).min(end);
            sim.run_until(next).map_err(|e| format!("slot {slot}: {e}"))?;
            if last_note.elapsed() >= Duration::from_secs(10) {
                // A slow slot: where it has got to.
                last_note = Instant::now();
                let s = sim.summary();
                let imported = s.nodes.iter().filter(|n| n.best.is_some_and(|b| b.slot == slot)).count();
                println!(
                    "  slot {slot} +{} ms: {:.1} s; {imported}/{v} nodes have its block; {} events, {} messages; \
                     RSS {:.0} MiB",
                    sim.now().saturating_sub(sim.slot_start(slot)),
                    slot_started.elapsed().as_secs_f64(),
                    s.steps - steps,
                    s.net.messages_delivered - delivered,
                    proc_mib("VmRSS")
                );
            }
        }
        if let Some(by) = cut {
            println!(
                "slot {slot}: cut by {by} after {:.1} s of it, at {} ms into the slot",
                slot_started.elapsed().as_secs_f64(),
                sim.now().saturating_sub(sim.slot_start(slot))
            );
            break;
        }
        done += 1;
        let s = sim.summary();
        let n0 = &s.nodes[0];
        let with_slot = s.nodes.iter().filter(|n| n.best.is_some_and(|b| b.slot == slot)).count();
        let min_best = s.nodes.iter().filter_map(|n| n.best.map(|b| b.slot)).min().unwrap_or(0);
        let min_final = s.nodes.iter().filter_map(|n| n.finalized.map(|b| b.slot)).min().unwrap_or(0);
        println!(
            "slot {slot}: {:.2} s; node 0 best {} finalized {}; {with_slot}/{v} nodes best at this slot, \
             lowest best {min_best}, lowest finalized {min_final}; {} events, {} messages; RSS {:.0} MiB",
            slot_started.elapsed().as_secs_f64(),
            n0.best.map_or(0, |b| b.slot),
            n0.finalized.map_or(0, |b| b.slot),
            s.steps - steps,
            s.net.messages_delivered - delivered,
            proc_mib("VmRSS")
        );
        (steps, delivered) = (s.steps, s.net.messages_delivered);
    }
    let run_s = run_started.elapsed().as_secs_f64();
    let s = sim.summary();
    let finalized = s.nodes.iter().filter(|n| n.finalized.is_some_and(|f| f.slot > genesis.slot())).count();
    let blocks = sim.best_chain_slots(0).len();
    println!(
        "done: {done} slots{} in {run_s:.1} s ({:.3} simulated slots/s); set-up {setup_s:.1} s \
         (ring {ring_s:.1}, genesis {genesis_s:.1}, nodes {nodes_s:.1}); peak RSS {:.0} MiB; \
         node 0's best chain has {blocks} blocks; {finalized}/{v} nodes finalized a block \
         (node 0 at slot {}); {} events, network {:?}",
        cut.map_or(String::new(), |by| format!(" (cut by {by})")),
        f64::from(done) / run_s.max(f64::EPSILON),
        proc_mib("VmHWM"),
        s.nodes[0].finalized.map_or(0, |b| b.slot),
        s.steps,
        s.net
    );
    Ok(())
}

fn main() -> ExitCode {
    match args().and_then(|a| run(&a)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
