//! `orrery fuzz`: Orrery's conformance fuzzer. Generates a seeded chain of a lane's workloads
//! (`orrery-fuzzer`), checks each block with Orrery's own import and sends it to a fuzz target,
//! comparing the answers; prints a progress line every few seconds and a summary at the end.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use orrery_fuzz::client::Client;
use orrery_fuzzer::{run, Config, Divergence, DriveError, Generator, Lane, Progress, RunEvent, RunOptions};

use crate::Node;

/// What `orrery fuzz` was asked.
#[derive(Debug)]
pub struct Request<'a> {
    pub lane: &'a str,
    pub steps: u64,
    pub seed: u64,
    pub target: &'a Path,
    pub out: Option<PathBuf>,
    pub timeout: Duration,
    /// Go on past a divergence on a mutant.
    pub keep_going: bool,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn divergence(d: &Divergence) {
    outln!("DIVERGENCE at step {} ({:?}): expected {}, got {}", d.step, d.kind, d.expected, d.got);
    for key in &d.differing_keys {
        outln!("  {key}");
    }
    if let Some(path) = &d.trace {
        outln!("  trace: {}", path.display());
    }
}

pub fn run_lane(node: &Node, request: &Request<'_>) -> ExitCode {
    let Some(lane) = Lane::by_name(request.lane) else {
        eprintln!("error: unknown lane {:?} (happy, mutations or safrole)", request.lane);
        return ExitCode::FAILURE;
    };
    let stream = match crate::fuzz::connect(request.target) {
        Ok(stream) => stream,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    // A target that hangs is reported, never waited on for ever.
    let timeouts = stream
        .set_read_timeout(Some(request.timeout))
        .and_then(|()| stream.set_write_timeout(Some(request.timeout)));
    if let Err(e) = timeouts {
        eprintln!("error: setting the socket's timeouts: {e}");
        return ExitCode::FAILURE;
    }
    let ctx = match node.context() {
        Ok(ctx) => ctx,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let spec = ctx.spec.clone();
    let mut generator = match Generator::new(Arc::new(ctx), Config::lane(lane, request.seed)) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    outln!(
        "fuzz: lane {} on {}, seed {}, {} steps, target {}",
        lane.name(),
        spec.name,
        request.seed,
        request.steps,
        request.target.display()
    );
    let options = RunOptions {
        steps: request.steps,
        out: request.out.clone(),
        keep_going_on_mutants: request.keep_going,
        ..RunOptions::default()
    };
    let mut client = Client::new(stream, spec);
    let line = |p: &Progress| {
        outln!(
            "  {} steps, {:.1} blocks/s ({:.0}% generating, {:.0}% target), {} divergences, {} findings",
            p.steps,
            p.blocks_per_second(),
            100.0 * p.generating.as_secs_f64() / p.elapsed.as_secs_f64().max(1e-9),
            100.0 * p.target.as_secs_f64() / p.elapsed.as_secs_f64().max(1e-9),
            p.divergences,
            p.findings
        )
    };
    let events = &mut |event: RunEvent<'_>| match event {
        RunEvent::Progress(p) => line(p),
        RunEvent::Divergence(d) => divergence(d),
    };
    let report = match run(&mut generator, &mut client, &options, events) {
        Ok(report) => report,
        Err(e @ DriveError::Target { .. }) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let c = report.counts;
    outln!(
        "fuzz: {} steps against {} in {:.1} s ({:.1} blocks/s): {} blocks, {} forks, {} mutants, {} skipped slots, {} epochs, {} tickets, {} ticket-sealed blocks, {} verdicts, {} offenders, {} preimages, {} reports ({} items: {} deploys, {} upgrades, {} writes, {} funds, {} retires, {} ejects, {} solicits, {} forgets, {} designates), {} assurances; run {}",
        report.progress.steps,
        report.target_name,
        report.progress.elapsed.as_secs_f64(),
        report.progress.blocks_per_second(),
        c.blocks,
        c.forks,
        c.mutants,
        c.skipped_slots,
        c.epochs,
        c.tickets,
        c.ticket_sealed,
        c.verdicts,
        c.offenders,
        c.preimages,
        c.work.reports,
        c.work.items,
        c.work.deploys,
        c.work.upgrades,
        c.work.writes,
        c.work.funds,
        c.work.retires,
        c.work.ejects,
        c.work.solicits,
        c.work.forgets,
        c.work.designates,
        c.work.assurances,
        hex(&report.digest[..8])
    );
    // Each divergence was printed as it was found; the summary names them again, together.
    for d in &report.divergences {
        divergence(d);
    }
    for f in &report.findings {
        let trace = f.trace.as_ref().map(|p| format!(", trace {}", p.display())).unwrap_or_default();
        outln!("FINDING at step {}: Orrery's import accepts a {:?}{trace}", f.step, f.kind);
    }
    outln!("fuzz: {} divergences, {} findings", report.divergences.len(), report.findings.len());
    if report.divergences.is_empty() && report.findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}
