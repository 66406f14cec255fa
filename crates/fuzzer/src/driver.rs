//! The driver: a generator's steps sent to a fuzz target over the fuzzer protocol v1, each answer
//! compared with Orrery's own import, and every difference written down as a trace step.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use orrery_codec::Encode;
use orrery_fuzz::client::{Client, ClientError};
use orrery_fuzz::protocol::{Initialize, Message};
use orrery_import::formats::{KeyValue, RawState, TraceStep};
use orrery_import::ChainState;

use crate::chain::{GenerateError, Generator, Step, StepKind};

/// Why a run ended early.
#[derive(Debug, thiserror::Error)]
pub enum DriveError {
    #[error("the generator: {0}")]
    Generate(#[from] GenerateError),
    /// The target hung (no answer within the socket's timeout), closed the connection, or
    /// answered something that is not a message or not the answer to the request. A failure on a
    /// block names the trace step written under `target-errors/` in the output folder.
    #[error("the target failed at step {step} ({what}): {why}")]
    Target { step: u64, what: String, why: String },
    #[error("writing the trace {path}: {why}")]
    Trace { path: String, why: String },
}

/// One step where the target's answer differs from Orrery's import.
#[derive(Debug, Clone)]
pub struct Divergence {
    pub step: u64,
    pub kind: StepKind,
    /// What Orrery's import made of the block: a root, or the rule broken.
    pub expected: String,
    /// What the target answered.
    pub got: String,
    /// The first keys whose values differ between Orrery's posterior and the target's (when the
    /// target accepted the block and gave its state).
    pub differing_keys: Vec<String>,
    /// The trace step written, if an output folder was given.
    pub trace: Option<PathBuf>,
}

/// A mutant Orrery's own import accepted: a mutation that does not break a rule, or a rule
/// Orrery does not check. Either way, something to look at.
#[derive(Debug, Clone)]
pub struct Finding {
    pub step: u64,
    pub kind: StepKind,
    pub trace: Option<PathBuf>,
}

/// What a run tells its caller as it goes: progress every [`RunOptions::progress_every`], and
/// each divergence as it is found (a long run stopped by hand still leaves every one named).
#[derive(Debug, Clone, Copy)]
pub enum RunEvent<'a> {
    Progress(&'a Progress),
    Divergence(&'a Divergence),
}

/// Progress so far, for the progress line.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub steps: u64,
    pub elapsed: Duration,
    pub divergences: usize,
    pub findings: usize,
    /// Time spent generating (authoring and Orrery's import) and waiting for the target.
    pub generating: Duration,
    pub target: Duration,
}

impl Progress {
    pub fn blocks_per_second(&self) -> f64 {
        self.steps as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct Report {
    pub progress: Progress,
    pub target_name: String,
    pub divergences: Vec<Divergence>,
    pub findings: Vec<Finding>,
    pub counts: crate::chain::Counts,
    pub digest: [u8; 32],
}

/// The most divergences whose steps are written as traces in one run (a state on full, or with
/// the work workload's services, is megabytes).
pub const MAX_TRACES: usize = 20;

/// How a run goes.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub steps: u64,
    /// Where trace steps of divergences and findings go.
    pub out: Option<PathBuf>,
    /// How often `progress` is called.
    pub progress_every: Duration,
    /// Stop at the first divergence (the target's state is then not Orrery's, and every later
    /// step would differ too).
    pub stop_on_divergence: bool,
    /// Go on past a divergence on a mutant: the target accepted a block Orrery rejects, which it
    /// holds beside the chain, and the chain's next block is on the parent both hold. A known bug
    /// of a target's then does not end a long run; every such divergence is counted (the first
    /// [`MAX_TRACES`] written). A divergence on a valid block still stops the run.
    pub keep_going_on_mutants: bool,
    /// How many differing keys to list.
    pub max_keys: usize,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            steps: 100,
            out: None,
            progress_every: Duration::from_secs(5),
            stop_on_divergence: true,
            keep_going_on_mutants: false,
            max_keys: 8,
        }
    }
}

fn raw(state: &ChainState) -> RawState {
    RawState {
        state_root: state.root(),
        keyvals: state.pairs().map(|(k, v)| KeyValue { key: *k, value: v.to_vec() }).collect(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn kind_name(kind: StepKind) -> String {
    match kind {
        StepKind::Block => "block".into(),
        StepKind::Fork => "fork".into(),
        StepKind::Mutant(m) => format!("mutant {m:?}"),
    }
}

/// Writes a step as a trace step in the vectors' format: `pre_state`, `block`, `post_state`
/// (the pre-state again for a block Orrery rejects).
pub fn write_trace(dir: &Path, name: &str, step: &Step) -> Result<PathBuf, DriveError> {
    let fail = |path: &Path, e: std::io::Error| DriveError::Trace {
        path: path.display().to_string(),
        why: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(|e| fail(dir, e))?;
    let pre_state = raw(&step.pre_state);
    let post_state = match &step.outcome {
        Ok(post) => raw(post),
        Err(_) => pre_state.clone(),
    };
    let trace = TraceStep { pre_state, block: step.block.clone(), post_state };
    let path = dir.join(format!("{name}.bin"));
    std::fs::write(&path, trace.encode()).map_err(|e| fail(&path, e))?;
    Ok(path)
}

/// Runs `options.steps` steps of `generator` against the target behind `client`: handshake,
/// `Initialize` with the genesis, then each step's block, the answer compared with Orrery's
/// import. `progress` is called every `options.progress_every`.
pub fn run<S: Read + Write>(
    generator: &mut Generator,
    client: &mut Client<S>,
    options: &RunOptions,
    events: &mut dyn FnMut(RunEvent<'_>),
) -> Result<Report, DriveError> {
    let start = Instant::now();
    let target_err = |step: u64, what: &str| {
        let what = what.to_owned();
        move |e: ClientError| DriveError::Target { step, what, why: e.to_string() }
    };
    // Ancestry too: every lookup anchor the generator names is an ancestor it sent as a block
    // (the genesis has none before it, so `Initialize` carries none).
    let peer = client
        .handshake_with(orrery_fuzz::protocol::FEATURE_FORKS | orrery_fuzz::protocol::FEATURE_ANCESTRY)
        .map_err(target_err(0, "handshake"))?;
    let (header, state) = generator.genesis();
    let init = Initialize {
        header: header.clone(),
        keyvals: state.pairs().map(|(k, v)| KeyValue { key: *k, value: v.to_vec() }).collect(),
        ancestry: Vec::new(),
    };
    let genesis_root = state.root();
    match client.request(&Message::Initialize(Box::new(init))).map_err(target_err(0, "initialize"))?.0 {
        Message::StateRoot(root) if root == genesis_root => {}
        other => {
            return Err(DriveError::Target {
                step: 0,
                what: "initialize".into(),
                why: format!(
                    "answered {} instead of the genesis root {}",
                    describe(&other),
                    hex(&genesis_root)
                ),
            })
        }
    }

    let seed = generator.config().seed;
    let lane = generator.config().lane.name();
    let mut report = Report {
        progress: Progress {
            steps: 0,
            elapsed: Duration::ZERO,
            divergences: 0,
            findings: 0,
            generating: Duration::ZERO,
            target: Duration::ZERO,
        },
        target_name: peer.app_name,
        divergences: Vec::new(),
        findings: Vec::new(),
        counts: generator.counts(),
        digest: [0; 32],
    };
    let mut last_progress = Instant::now();
    for n in 1..=options.steps {
        let t = Instant::now();
        let step = generator.next_step()?;
        report.progress.generating += t.elapsed();
        let what = kind_name(step.kind);
        let name = format!("{lane}-{seed}-{n:08}");
        let (answer, elapsed) = match client.request(&Message::ImportBlock(Box::new(step.block.clone()))) {
            Ok(answer) => answer,
            Err(e) => {
                // The block that made the target fail, kept so that it can be replayed.
                let mut why = e.to_string();
                if let Some(dir) = &options.out {
                    let path = write_trace(&dir.join("target-errors"), &name, &step)?;
                    why = format!("{why}; trace {}", path.display());
                }
                return Err(DriveError::Target { step: n, what, why });
            }
        };
        report.progress.target += elapsed;

        if matches!(step.kind, StepKind::Mutant(_)) && step.outcome.is_ok() {
            let trace = match &options.out {
                Some(dir) => Some(write_trace(&dir.join("findings"), &name, &step)?),
                None => None,
            };
            report.findings.push(Finding { step: n, kind: step.kind, trace });
        }

        let agrees = match (&answer, &step.outcome) {
            (Message::StateRoot(root), Ok(post)) => *root == post.root(),
            (Message::Error(_), Err(_)) => true,
            (Message::StateRoot(_) | Message::Error(_), _) => false,
            (other, _) => {
                return Err(DriveError::Target {
                    step: n,
                    what,
                    why: format!("answered {} to import_block", describe(other)),
                })
            }
        };
        if !agrees {
            let mut differing_keys = Vec::new();
            if let (Message::StateRoot(_), Ok(post)) = (&answer, &step.outcome) {
                let got = client
                    .request(&Message::GetState(step.header_hash()))
                    .map_err(target_err(n, "get_state"))?
                    .0;
                if let Message::State(keyvals) = got {
                    differing_keys = first_differences(post, &keyvals, options.max_keys);
                }
            }
            let trace = match &options.out {
                Some(dir) if report.divergences.len() < MAX_TRACES => Some(write_trace(dir, &name, &step)?),
                _ => None,
            };
            report.divergences.push(Divergence {
                step: n,
                kind: step.kind,
                expected: match &step.outcome {
                    Ok(post) => format!("state root {}", hex(&post.root())),
                    Err(rule) => format!("rejection ({rule})"),
                },
                got: describe(&answer),
                differing_keys,
                trace,
            });
            if let Some(d) = report.divergences.last() {
                events(RunEvent::Divergence(d));
            }
        }
        report.progress.steps = n;
        report.progress.divergences = report.divergences.len();
        report.progress.findings = report.findings.len();
        if last_progress.elapsed() >= options.progress_every {
            report.progress.elapsed = start.elapsed();
            events(RunEvent::Progress(&report.progress));
            last_progress = Instant::now();
        }
        let past_mutant = options.keep_going_on_mutants && matches!(step.kind, StepKind::Mutant(_));
        if !agrees && options.stop_on_divergence && !past_mutant {
            break;
        }
    }
    report.progress.elapsed = start.elapsed();
    report.counts = generator.counts();
    report.digest = generator.digest();
    Ok(report)
}

fn describe(message: &Message) -> String {
    match message {
        Message::StateRoot(root) => format!("state root {}", hex(root)),
        Message::Error(text) => format!("error ({text})"),
        Message::State(kv) => format!("a state of {} rows", kv.len()),
        other => other.kind().to_owned(),
    }
}

/// The first keys (in key order) whose rows differ between `ours` and `theirs`: present in one
/// only, or with other values.
pub fn first_differences(ours: &ChainState, theirs: &[KeyValue], max: usize) -> Vec<String> {
    let mut theirs: Vec<&KeyValue> = theirs.iter().collect();
    theirs.sort_by_key(|kv| kv.key);
    let mut ours = ours.pairs().peekable();
    let mut theirs = theirs.into_iter().peekable();
    let mut out = Vec::new();
    while out.len() < max {
        match (ours.peek(), theirs.peek()) {
            (None, None) => break,
            (Some((k, _)), None) => {
                out.push(format!("{} only in Orrery's", hex(*k)));
                ours.next();
            }
            (None, Some(kv)) => {
                out.push(format!("{} only in the target's", hex(&kv.key)));
                theirs.next();
            }
            (Some((k, v)), Some(kv)) => match (*k).cmp(&kv.key) {
                std::cmp::Ordering::Less => {
                    out.push(format!("{} only in Orrery's", hex(*k)));
                    ours.next();
                }
                std::cmp::Ordering::Greater => {
                    out.push(format!("{} only in the target's", hex(&kv.key)));
                    theirs.next();
                }
                std::cmp::Ordering::Equal => {
                    if *v != kv.value.as_slice() {
                        out.push(format!(
                            "{}: {} octets in Orrery's, {} in the target's",
                            hex(*k),
                            v.len(),
                            kv.value.len()
                        ));
                    }
                    ours.next();
                    theirs.next();
                }
            },
        }
    }
    out
}
