//! The fuzzer side, for driving a target (ours or another team's) with recorded sessions: a trace
//! folder turned into `Initialize` and `ImportBlock` requests, or the protocol's example message
//! pairs replayed. Each import is timed from the request's first octet sent to the answer's last
//! octet read, as the conformance fuzzer's performance reports do.

use std::io::{Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use orrery_codec::decode_exact;
use orrery_import::formats::{Genesis, TraceStep};
use orrery_types::{ChainSpec, StateRoot};

use crate::protocol::{
    read_frame, write_frame, Initialize, Message, PeerInfo, ProtocolError, Version, FEATURE_FORKS,
    FUZZ_VERSION,
};

/// Why driving a target failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{0}")]
    Protocol(#[from] ProtocolError),
    #[error("the target closed the connection")]
    Closed,
    #[error("reading {path}: {why}")]
    File { path: String, why: String },
    #[error("{0}")]
    Mismatch(String),
}

/// A connection to a target.
#[derive(Debug)]
pub struct Client<S> {
    stream: S,
    spec: ChainSpec,
}

impl<S: Read + Write> Client<S> {
    pub fn new(stream: S, spec: ChainSpec) -> Self {
        Self { stream, spec }
    }

    /// The connection, for sending what [`Client::request`] would not.
    pub fn stream_mut(&mut self) -> &mut S {
        &mut self.stream
    }

    /// Sends one request and waits for the answer; returns it with the time it took.
    pub fn request(&mut self, message: &Message) -> Result<(Message, Duration), ClientError> {
        let bytes = message.encode();
        let (answer, elapsed) = self.request_raw(&bytes)?;
        Ok((Message::decode(&self.spec, &answer)?, elapsed))
    }

    /// Sends an encoded request and returns the encoded answer, timed.
    pub fn request_raw(&mut self, bytes: &[u8]) -> Result<(Vec<u8>, Duration), ClientError> {
        let start = Instant::now();
        write_frame(&mut self.stream, bytes)?;
        let answer = read_frame(&mut self.stream)?.ok_or(ClientError::Closed)?;
        Ok((answer, start.elapsed()))
    }

    /// The handshake, as the conformance fuzzer makes it for recorded traces (forks, no
    /// ancestry: a trace's `Initialize` carries none, so a target checking lookup anchors against
    /// it would refuse blocks the trace expects imported).
    pub fn handshake(&mut self) -> Result<PeerInfo, ClientError> {
        self.handshake_with(FEATURE_FORKS)
    }

    /// The handshake offering `features` (`FEATURE_*`); the session has those both sides offer.
    pub fn handshake_with(&mut self, features: u32) -> Result<PeerInfo, ClientError> {
        let ours = PeerInfo {
            fuzz_version: FUZZ_VERSION,
            fuzz_features: features,
            jam_version: Version { major: 0, minor: 7, patch: 2 },
            app_version: Version { major: 0, minor: 1, patch: 0 },
            app_name: "orrery-fuzzer".into(),
        };
        match self.request(&Message::PeerInfo(ours))?.0 {
            Message::PeerInfo(theirs) => Ok(theirs),
            other => Err(ClientError::Mismatch(format!("handshake answered with {}", other.kind()))),
        }
    }
}

/// One imported step: its name, how long the target took, and whether it answered as the trace
/// expects (the post-state root, or an error for a block to reject).
#[derive(Debug, Clone)]
pub struct StepTiming {
    pub name: String,
    pub elapsed: Duration,
    pub rejected: bool,
    pub as_expected: bool,
}

fn read(path: &Path) -> Result<Vec<u8>, ClientError> {
    std::fs::read(path)
        .map_err(|e| ClientError::File { path: path.display().to_string(), why: e.to_string() })
}

/// Drives a target through a trace folder: `Initialize` with `genesis.bin`, then every step's
/// block in order. Returns one timing per step.
pub fn run_trace<S: Read + Write>(
    client: &mut Client<S>,
    dir: &Path,
) -> Result<Vec<StepTiming>, ClientError> {
    let spec = client.spec.clone();
    let genesis_path = dir.join("genesis.bin");
    let genesis: Genesis = decode_exact(&read(&genesis_path)?, spec.lengths())
        .map_err(|e| ClientError::File { path: genesis_path.display().to_string(), why: e.to_string() })?;
    let init = Initialize { header: genesis.header, keyvals: genesis.state.keyvals, ancestry: Vec::new() };
    match client.request(&Message::Initialize(Box::new(init)))?.0 {
        Message::StateRoot(root) if root == genesis.state.state_root => {}
        other => return Err(ClientError::Mismatch(format!("initialize answered {other:?}"))),
    }
    let mut steps: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| ClientError::File { path: dir.display().to_string(), why: e.to_string() })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|e| e == "bin") && p.file_stem().is_some_and(|s| s != "genesis")
        })
        .collect();
    steps.sort();
    let mut out = Vec::with_capacity(steps.len());
    for path in steps {
        let step: TraceStep = decode_exact(&read(&path)?, spec.lengths())
            .map_err(|e| ClientError::File { path: path.display().to_string(), why: e.to_string() })?;
        let rejected = step.pre_state == step.post_state;
        let (answer, elapsed) = client.request(&Message::ImportBlock(Box::new(step.block)))?;
        let expected_root: StateRoot = step.post_state.state_root;
        let as_expected = match answer {
            Message::StateRoot(root) => !rejected && root == expected_root,
            Message::Error(_) => rejected,
            _ => false,
        };
        let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("?").to_owned();
        out.push(StepTiming { name, elapsed, rejected, as_expected });
    }
    Ok(out)
}

/// Mean and percentiles of a set of durations, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub count: usize,
    pub mean: f64,
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

impl Summary {
    pub fn of(times: &[Duration]) -> Option<Self> {
        if times.is_empty() {
            return None;
        }
        let mut ms: Vec<f64> = times.iter().map(|d| d.as_secs_f64() * 1e3).collect();
        ms.sort_by(f64::total_cmp);
        // Nearest rank.
        let rank = |p: f64| ms[((p * ms.len() as f64).ceil() as usize).clamp(1, ms.len()) - 1];
        Some(Self {
            count: ms.len(),
            mean: ms.iter().sum::<f64>() / ms.len() as f64,
            p50: rank(0.50),
            p99: rank(0.99),
            max: ms[ms.len() - 1],
        })
    }
}

/// One request of a recorded session and the answer the recording holds.
#[derive(Debug, Clone)]
pub struct ExamplePair {
    pub name: String,
    pub request: Vec<u8>,
    pub expected: Vec<u8>,
}

/// How a target's answer compares with a recorded one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExampleOutcome {
    /// The same octets.
    Identical,
    /// Both are `peer_info` with the same protocol and JAM versions and the same session features
    /// (each side's features and-ed with the fuzzer's); names, application versions and the
    /// features beyond the fuzzer's are each target's own. Or both are `error`, whose text the
    /// protocol leaves to the target.
    SameKind(&'static str),
    /// Anything else: what was expected and what came.
    Different(String),
}

/// Compares a target's `answer` to `request` with the recorded `expected` one: octet for octet,
/// except where the protocol leaves the content to the target (see [`ExampleOutcome`]).
pub fn compare(spec: &ChainSpec, request: &[u8], expected: &[u8], answer: &[u8]) -> ExampleOutcome {
    if answer == expected {
        return ExampleOutcome::Identical;
    }
    let brief = |bytes: &[u8]| match Message::decode(spec, bytes) {
        Ok(Message::State(kv)) => format!("state of {} rows", kv.len()),
        Ok(m) => format!("{m:?}"),
        Err(e) => format!("undecodable ({e})"),
    };
    let differ = || ExampleOutcome::Different(format!("expected {}, got {}", brief(expected), brief(answer)));
    match (Message::decode(spec, request), Message::decode(spec, expected), Message::decode(spec, answer)) {
        (Ok(Message::PeerInfo(fuzzer)), Ok(Message::PeerInfo(recorded)), Ok(Message::PeerInfo(got))) => {
            let session = |p: &PeerInfo| p.fuzz_features & fuzzer.fuzz_features;
            if got.fuzz_version == recorded.fuzz_version
                && got.jam_version == recorded.jam_version
                && session(&got) == session(&recorded)
            {
                ExampleOutcome::SameKind("peer_info")
            } else {
                differ()
            }
        }
        (_, Ok(Message::Error(_)), Ok(Message::Error(_))) => ExampleOutcome::SameKind("error"),
        _ => differ(),
    }
}

/// Replays a recorded session: each request as recorded, each answer compared with the
/// recording's by [`compare`]. Returns each request's name, outcome and round-trip time.
pub fn replay<S: Read + Write>(
    client: &mut Client<S>,
    pairs: &[ExamplePair],
) -> Result<Vec<(String, ExampleOutcome, Duration)>, ClientError> {
    let mut out = Vec::with_capacity(pairs.len());
    for pair in pairs {
        let (answer, elapsed) = client.request_raw(&pair.request)?;
        let outcome = compare(&client.spec, &pair.request, &pair.expected, &answer);
        out.push((pair.name.clone(), outcome, elapsed));
    }
    Ok(out)
}

/// The example pairs of a folder in the jam-conformance layout: `NNNNNNNN_fuzzer_<kind>.bin`
/// with `NNNNNNNN_target_<kind>.bin`, in order.
pub fn example_pairs_in(dir: &Path) -> Result<Vec<ExamplePair>, ClientError> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| ClientError::File { path: dir.display().to_string(), why: e.to_string() })?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".bin"))
        .collect();
    names.sort();
    let requests: Vec<&String> = names.iter().filter(|n| n.contains("_fuzzer_")).collect();
    let mut pairs = Vec::with_capacity(requests.len());
    for request in requests {
        let prefix = request.split('_').next().unwrap_or_default();
        let answer = names
            .iter()
            .find(|n| n.starts_with(&format!("{prefix}_target_")))
            .ok_or_else(|| ClientError::Mismatch(format!("{request} has no recorded answer")))?;
        pairs.push(ExamplePair {
            name: request.trim_end_matches(".bin").to_owned(),
            request: read(&dir.join(request))?,
            expected: read(&dir.join(answer))?,
        });
    }
    Ok(pairs)
}
