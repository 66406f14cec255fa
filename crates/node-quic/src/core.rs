//! The node thread: owns the [`Node`], feeds it inputs stamped with the wall clock and ticks at
//! [`Node::next_wake`], logs its events, passes every other output to the network tasks, and answers
//! the RPC's queries between inputs. The node's ticket proofs ([`Output::MakeTickets`], about 1.5 s
//! once per epoch on the tiny spec) run on a thread of their own and come back through the inbox,
//! so no input waits behind them. A step of the node that takes longer than [`SLOW_STEP`] is logged
//! with its length.
//!
//! Latency figures for the logs: the time from the first announcement of a block to its import
//! (`announce_to_import_ms`), and from the start of the block's slot to its import (`slot_to_import_ms`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use orrery_node::{Event, Input, Message, Millis, Node, Output, TicketWork};
use orrery_rpc::NodeSide;

use crate::health::Health;
use crate::metrics::{Metrics, FIGURES_EVERY};
use crate::telemetry::{Reporter, Tel};
use crate::{now_ms, short, DriverError};

/// The longest the thread sleeps without looking at the stop flag.
const POLL: Duration = Duration::from_millis(200);
/// Announcements remembered for the latency figure.
const ANNOUNCED_CAP: usize = 1024;
/// A step of the node longer than this is logged (a slot is seconds long; most steps take
/// milliseconds, an import of a block with tickets tens of them).
pub const SLOW_STEP: Duration = Duration::from_millis(250);

// The node thread's channels and shared handles, each its own argument: a struct would only
// rename them.
#[allow(clippy::too_many_arguments)]
pub(crate) fn spawn(
    node: Node,
    (inbox, inputs): (SyncSender<Input>, Receiver<Input>),
    outputs: tokio::sync::mpsc::Sender<Output>,
    health: Arc<Mutex<Health>>,
    rpc: NodeSide,
    stop: Arc<AtomicBool>,
    slot_ms: Millis,
    telemetry: Option<Arc<Tel>>,
    metrics: Arc<Metrics>,
) -> Result<std::thread::JoinHandle<()>, DriverError> {
    let telemetry = telemetry.map(Reporter::new);
    std::thread::Builder::new()
        .name("orrery-node".into())
        .spawn(move || run(node, (inbox, inputs), outputs, health, rpc, stop, slot_ms, telemetry, metrics))
        .map_err(DriverError::Thread)
}

#[allow(clippy::too_many_arguments)]
fn run(
    mut node: Node,
    (inbox, inputs): (SyncSender<Input>, Receiver<Input>),
    outputs: tokio::sync::mpsc::Sender<Output>,
    health: Arc<Mutex<Health>>,
    rpc: NodeSide,
    stop: Arc<AtomicBool>,
    slot_ms: Millis,
    mut telemetry: Option<Reporter>,
    metrics: Arc<Metrics>,
) {
    let mut announced: HashMap<[u8; 32], Millis> = HashMap::new();
    let mut figures_at: Option<Instant> = None;
    while !stop.load(Ordering::Relaxed) {
        // The RPC's queries, between inputs (a query wakes the thread with a tick).
        rpc.serve(&node);
        let now = now_ms();
        let wake = node.next_wake();
        let input = if wake <= now {
            Input::Tick
        } else {
            let wait = Duration::from_millis(wake - now).min(POLL);
            match inputs.recv_timeout(wait) {
                Ok(input) => input,
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => break,
            }
        };
        // Inputs of the RPC (its wake-up ticks and submissions) and of the ticket thread are not counted
        // in by the inbox.
        if !matches!(
            input,
            Input::Tick
                | Input::SubmitWorkPackage(_)
                | Input::SubmitPreimage { .. }
                | Input::TicketsMade { .. }
        ) {
            let _ = metrics.inbox.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
        }
        let now = now_ms();
        if let Input::Message { message: Message::Announcement(a), .. } = &input {
            if announced.len() >= ANNOUNCED_CAP {
                announced.clear();
            }
            announced.entry(orrery_import::header_hash(&a.header)).or_insert(now);
        }
        if let (Some(reporter), Input::SubmitWorkPackage(submission)) = (&telemetry, &input) {
            reporter.submitted(&submission.package, submission.core);
        }
        let started = Instant::now();
        let outputs_now = node.handle(now, input);
        let took = started.elapsed();
        if took > SLOW_STEP {
            tracing::warn!(ms = took.as_millis() as u64, "slow step");
        }
        count_blocks(&node, &outputs_now, took, &metrics);
        if let Some(reporter) = &mut telemetry {
            reporter.before(&outputs_now);
        }
        for output in outputs_now {
            match output {
                Output::Event(event) => {
                    if let Some(reporter) = &mut telemetry {
                        reporter.event(&node, &event);
                    }
                    log(&event, now, slot_ms, &mut announced)
                }
                Output::MakeTickets(work) => make_tickets(work, inbox.clone()),
                // The network side is gone only when shutting down.
                other => {
                    if outputs.blocking_send(other).is_err() {
                        return;
                    }
                }
            }
        }
        if let Some(reporter) = &mut telemetry {
            reporter.after();
        }
        let status = node.status();
        metrics.set_status(&status);
        if figures_at.is_none_or(|at| at.elapsed() >= FIGURES_EVERY) {
            figures_at = Some(Instant::now());
            metrics.set_figures(&node.figures());
        }
        if let Some(reporter) = &mut telemetry {
            reporter.status(&node, &status);
        }
        if let Ok(mut h) = health.lock() {
            *h = Health::of(&status);
        }
    }
}

/// Block counters, times and gas of one input's outputs. The node thread's time for the input is
/// shared by the blocks it imported; an authored block takes it whole.
fn count_blocks(node: &Node, outputs: &[Output], took: Duration, metrics: &Metrics) {
    let r = Ordering::Relaxed;
    let (mut imported, mut authored) = (0u32, 0u32);
    for output in outputs {
        let hash = match output {
            Output::Event(Event::Imported { hash, .. }) => {
                imported += 1;
                hash
            }
            Output::Event(Event::Authored { hash, .. }) => {
                authored += 1;
                hash
            }
            Output::Event(Event::Rejected { hash, .. }) if *hash != [0; 32] => {
                metrics.rejected.fetch_add(1, r);
                continue;
            }
            _ => continue,
        };
        // π_S of the block's posterior state holds this block's figures (GP 0.7.2 §13).
        if let Some(state) = node.chain().state(hash) {
            for s in state.state().statistics.services.values() {
                metrics.accumulate_gas.fetch_add(s.accumulate_gas_used, r);
                metrics.refine_gas.fetch_add(s.refinement_gas_used, r);
            }
        }
    }
    metrics.imported.fetch_add(imported.into(), r);
    if authored > 0 {
        metrics.authored.fetch_add(authored.into(), r);
        metrics.authoring_time.observe(took / authored);
    } else if imported > 0 {
        for _ in 0..imported {
            metrics.import_time.observe(took / imported);
        }
    }
}

/// Runs `work` on a thread of its own and puts its result in the inbox (waiting for room: it
/// comes once per epoch). The thread is not joined: at shutdown its result has nowhere to go and
/// is dropped.
fn make_tickets(work: TicketWork, inbox: SyncSender<Input>) {
    let epoch = work.epoch;
    let spawned = std::thread::Builder::new().name("orrery-tickets".into()).spawn(move || {
        let started = Instant::now();
        let input = work.run();
        tracing::info!(epoch, ms = started.elapsed().as_millis() as u64, "tickets made");
        let _ = inbox.send(input);
    });
    // No thread to be had: our tickets are lost for this contest; the node goes on without them.
    if let Err(e) = spawned {
        tracing::warn!(epoch, error = %e, "could not start the ticket thread");
    }
}

fn log(event: &Event, now: Millis, slot_ms: Millis, announced: &mut HashMap<[u8; 32], Millis>) {
    match event {
        Event::Authored { hash, slot } => tracing::info!(slot, hash = %short(hash), "authored"),
        Event::Imported { hash, slot, best } => {
            let from_announce = announced.remove(hash).map(|t| now.saturating_sub(t));
            let from_slot = now.saturating_sub(u64::from(*slot) * slot_ms);
            tracing::info!(
                slot,
                hash = %short(hash),
                best,
                announce_to_import_ms = from_announce,
                slot_to_import_ms = from_slot,
                "imported"
            )
        }
        Event::Finalized { hash, slot } => tracing::info!(slot, hash = %short(hash), "finalized"),
        Event::Rejected { hash, reason, .. } => tracing::warn!(hash = %short(hash), %reason, "rejected"),
        Event::AuthoringFailed { slot, reason, .. } => tracing::warn!(slot, %reason, "authoring failed"),
        Event::Equivocation { slot, author } => tracing::warn!(slot, author, "equivocation"),
        Event::WorkPackageRefused { package, reason } => {
            tracing::warn!(package = %short(package), %reason, "work package refused")
        }
        Event::Guaranteed { package, core, report, signatures, .. } => {
            tracing::info!(package = %short(package), core, report = %short(report), signatures, "guaranteed")
        }
        Event::ShardsStored { erasure_root } => {
            tracing::debug!(erasure_root = %short(erasure_root), "shards stored")
        }
        Event::Audited { block, report, valid } => {
            tracing::info!(block = %short(block), report = %short(report), valid, "audited")
        }
        Event::ReportBuilt { package, report, .. } => {
            tracing::debug!(package = %short(package), report = %short(report), "report built")
        }
        Event::TicketsGenerated { epoch, outputs } => {
            tracing::debug!(epoch, tickets = outputs.len(), "tickets generated")
        }
        Event::TicketGenerationFailed { epoch, reason } => {
            tracing::warn!(epoch, %reason, "ticket generation failed")
        }
        Event::BundleRebuilt { erasure_root, trivial, ok } => {
            tracing::debug!(erasure_root = %short(erasure_root), trivial, ok, "bundle rebuilt")
        }
        Event::DuplicatePackage { package, core } => {
            tracing::debug!(package = %short(package), core, "duplicate work package")
        }
        Event::Segments { package, step } => {
            tracing::debug!(package = %short(package), ?step, "segment recovery")
        }
        Event::GuaranteeRefused { report, reason } => {
            tracing::debug!(report = %short(report), %reason, "guarantee refused")
        }
        Event::GuaranteeDiscarded { report, reason, .. } => {
            tracing::debug!(report = %short(report), ?reason, "guarantee discarded")
        }
        Event::PreimageForgotten { hash, reason, .. } => {
            tracing::debug!(hash = %short(hash), ?reason, "announced preimage forgotten")
        }
        Event::PreimageDiscarded { hash, reason, .. } => {
            tracing::debug!(hash = %short(hash), ?reason, "preimage discarded")
        }
        Event::WarpFragmentLost { set_id, reason } => {
            tracing::warn!(set_id, %reason, "warp fragment not kept: warp proofs served stop before it")
        }
    }
}
