//! `orrery`: the command-line front of the node: the JAM conformance vectors, block import from
//! files, validator keys and chain specs, the conformance fuzzer (`fuzz`) and its target, and the
//! service tools (write, build, run and inspect a service), and the networked node (`node run`)
//! with a loopback dev network of such nodes (`testnet`), and the web explorer (`explorer`). `conformance`, `import`, `fuzz-target`,
//! `fuzz` and `service run` take `--pvm interpreter|recompiler`; every command, the node included,
//! reads `ORRERY_PVM`; the recompiler is the default where it is built (x86-64 Linux).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use orrery_crypto::bandersnatch::RingContext;
use orrery_import::ImportContext;
use orrery_invocation::Backend;
use orrery_types::ChainSpec;

#[macro_use]
mod out;

mod chain_spec;
mod conformance;
mod explorer;
mod fuzz;
mod fuzz_lane;
mod import;
mod key;
mod node;
mod service;
mod telemetry_sink;
mod testnet;

#[derive(Debug, Parser)]
#[command(name = "orrery", version, about = "Orrery: a decentralized computer on the JAM protocol")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The PVM backend that runs guest code (orrery-invocation's [`Backend`]).
#[derive(Debug, Clone, Args)]
pub(crate) struct Pvm {
    /// The PVM that runs services' code: `recompiler` (x86-64 Linux only, the default there) or
    /// `interpreter` (the reference, the default elsewhere).
    #[arg(long = "pvm", env = "ORRERY_PVM", value_name = "BACKEND", value_parser = parse_backend)]
    pvm: Option<Backend>,
}

fn parse_backend(name: &str) -> Result<Backend, String> {
    Backend::choose(name).map_err(|e| e.to_string())
}

impl Pvm {
    /// Makes the chosen backend the process's (nothing chosen: the platform's default).
    pub(crate) fn apply(&self) {
        if let Some(backend) = self.pvm {
            // `parse_backend` accepted only a backend built here, which set_current accepts.
            let _ = Backend::set_current(backend);
        }
    }
}

/// Which PVM ran guest code, and how often the recompiler compiled, found code in its cache, or
/// left a run to the interpreter.
pub(crate) fn pvm_summary() -> String {
    let backend = Backend::current();
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    if backend == Backend::Recompiler {
        let stats = orrery_pvm_jit::CodeCache::global().stats();
        return format!(
            "pvm: recompiler ({} programs compiled, {} cache hits, {} KiB cached, {} runs left to the interpreter)",
            stats.compiles,
            stats.hits,
            stats.bytes / 1024,
            orrery_invocation::backend::fallbacks()
        );
    }
    format!("pvm: {backend}")
}

/// What block import needs: the chain spec and the Bandersnatch SRS.
#[derive(Debug, Clone, Args)]
struct Node {
    #[command(flatten)]
    pvm: Pvm,
    /// The chain spec: `tiny` (the vectors' network) or `full`.
    #[arg(long, default_value = "tiny")]
    spec: String,
    /// The Bandersnatch SRS (Zcash powers of tau, uncompressed), as the vectors ship it.
    #[arg(long, env = "ORRERY_SRS", default_value = DEFAULT_SRS)]
    srs: PathBuf,
}

/// Where the vectors keep the SRS, relative to the repository root.
const DEFAULT_SRS: &str = "../shared/vectors/jam-0.7.2/stf/safrole/zcash-srs-2-11-uncompressed.bin";

impl Node {
    fn chain_spec(&self) -> Result<ChainSpec, String> {
        ChainSpec::by_name(&self.spec)
            .ok_or_else(|| format!("unknown chain spec {:?} (tiny or full)", self.spec))
    }

    /// The import context: built once, the ring context with it (the costly part).
    fn context(&self) -> Result<ImportContext, String> {
        let spec = self.chain_spec()?;
        let ring = RingContext::from_srs_file(&self.srs, usize::from(spec.validators_count))
            .map_err(|e| format!("the Bandersnatch SRS (--srs or ORRERY_SRS): {e}"))?;
        Ok(ImportContext::new(spec, Arc::new(ring)))
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the JAM 0.7.2 conformance vectors, family by family.
    Conformance {
        /// The vectors folder.
        #[arg(long, default_value = orrery_conformance::DEFAULT_VECTORS, env = "ORRERY_VECTORS")]
        vectors: PathBuf,
        /// Families to run: folders under the vectors folder (`codec`, `stf/safrole`,
        /// `stf/accumulate/full`, `traces/storage`, …), each run once. All of them when none is
        /// given; then folders that are not vectors are named, and a run with no case fails.
        families: Vec<String>,
        /// Print every case, not only failures.
        #[arg(long, short)]
        verbose: bool,
        #[command(flatten)]
        pvm: Pvm,
    },
    /// Validator keys (JIP-5): generate them into an owner-only key store, inspect a seed or file.
    #[command(subcommand)]
    Key(key::KeyCommand),
    /// Write, build, run and inspect a service.
    #[command(subcommand)]
    Service(service::ServiceCommand),
    /// Import a chain's start and blocks from files, printing each block's header hash, slot,
    /// state root and import time, then a summary (mean and p99 import time).
    ///
    /// The start (`--genesis`) is a trace's `genesis.bin` (`{header, state}`), a trace step (its
    /// pre-state, as the state of its block's parent), or a bare state `{state_root, keyvals}` (as
    /// the state of the first block's parent); the state's root is checked. Block files are trace
    /// steps (`traces/*/NNNNNNNN.bin`, `{pre_state, block, post_state}`) or encoded blocks; for a
    /// trace step the result is also checked against the step's post-state (a step whose
    /// post-state equals its pre-state must be rejected). A block whose parent is not the best
    /// block goes on its own branch. Invalid blocks are reported and skipped; the exit status is 2
    /// when a trace step's outcome differs from the trace's, 1 on an error (unreadable file,
    /// database), 0 otherwise.
    ///
    /// With `--db DIR` every block is committed durably as it is imported, and a later run with
    /// the same `--db` continues from the chain there (blocks already in it are skipped), even after
    /// the process was killed. Without `--db` the chain is kept in memory only.
    #[command(verbatim_doc_comment)]
    Import {
        #[command(flatten)]
        node: Node,
        /// The chain's start: genesis.bin, a trace step, or a bare state. Needed unless --db holds a
        /// chain (then, if given, it must be the chain's start).
        #[arg(long, value_name = "FILE")]
        genesis: Option<PathBuf>,
        /// The chain's start as a JIP-4 chain spec file (its genesis header and state; its
        /// parameters stand in for --spec).
        #[arg(long, value_name = "FILE", conflicts_with = "genesis")]
        chain: Option<PathBuf>,
        /// Keep blocks and states in this database folder (created if missing), and continue from
        /// the chain already in it.
        #[arg(long, value_name = "DIR")]
        db: Option<PathBuf>,
        /// Blocks this many below the best block become final; forks off the final chain are pruned.
        #[arg(long, default_value_t = 24)]
        finality_depth: u32,
        /// Block files, imported in the order given; a folder stands for its `.bin` files (but
        /// genesis.bin) in name order.
        #[arg(value_name = "BLOCK")]
        blocks: Vec<PathBuf>,
    },
    /// The networked node.
    #[command(subcommand)]
    Node(node::NodeCommand),
    /// A dev network on loopback: the dev chain spec (every validator a bootnode), one `orrery node
    /// run` process per validator with its own database and log file, and a summary line read from
    /// their health endpoints every few seconds. Ctrl-C (or --for-seconds) stops them all.
    Testnet(node::TestnetArgs),
    /// Serve the web explorer for a node elsewhere: the page, and `/config.json` telling it the
    /// node's JIP-2 RPC, which the browser then opens itself.
    Explorer(explorer::ExplorerArgs),
    /// A JIP-3 telemetry server: accepts nodes' `--telemetry` connections and prints each message
    /// (the node information, then one line per event; `--json` for JSON lines), keeping the raw
    /// stream with `--out`. A malformed frame ends its connection with the reason; the others go on.
    TelemetrySink(telemetry_sink::SinkArgs),
    /// Chain spec files (JIP-4): write the dev chain's.
    #[command(subcommand)]
    ChainSpec(chain_spec::ChainSpecCommand),
    /// Serve the JAM conformance fuzzer protocol v1 on a Unix socket.
    FuzzTarget {
        #[command(flatten)]
        node: Node,
        /// The socket to listen on.
        #[arg(long, default_value = "/tmp/jam_target.sock")]
        socket: PathBuf,
        /// Seconds a session may stay silent (no octet sent or taken) before the target closes
        /// it. A generating fuzzer can be slow between blocks: full-spec ticket contests under
        /// load take minutes (`scripts/fuzz-lane.sh` gives 600).
        #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86_400))]
        idle: u64,
    },
    /// Fuzz a target: generate a seeded chain of a lane's workloads (valid blocks, forks,
    /// disputes, ticket contests, mutants), check each block with Orrery's own import and compare
    /// the target's answers. A difference is written as a trace step under --out. Exit status 2 on
    /// a divergence, a finding (a mutant Orrery accepts) or a target that fails.
    Fuzz {
        #[command(flatten)]
        node: Node,
        /// The workloads: happy, mutations or safrole.
        #[arg(long, default_value = "happy")]
        lane: String,
        /// Blocks to send (mutants and forks included).
        #[arg(long, default_value_t = 1000)]
        steps: u64,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// The target's socket.
        #[arg(long, default_value = "/tmp/jam_target.sock")]
        target: PathBuf,
        /// Where trace steps of divergences (and findings) are written.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Seconds to wait for an answer before the target is reported as hung.
        #[arg(long, default_value_t = 60)]
        timeout: u64,
        /// Go on past a target that accepts a block Orrery rejects (a mutant): the chain's next
        /// block is on the parent both hold, so the run can count such divergences instead of
        /// stopping at the first. A divergence on a valid block still stops the run.
        #[arg(long)]
        keep_going: bool,
    },
    /// Drive a fuzzer-protocol target (ours or another's) with trace folders, timing each import,
    /// or with recorded example sessions (`--examples`), comparing each answer.
    FuzzClient {
        /// The chain spec of the traces.
        #[arg(long, default_value = "tiny")]
        spec: String,
        /// The target's socket.
        #[arg(long, default_value = "/tmp/jam_target.sock")]
        socket: PathBuf,
        /// The folders: traces (with `genesis.bin`), or example sessions with `--examples`.
        folders: Vec<PathBuf>,
        /// The folders hold recorded `NNNNNNNN_fuzzer_*.bin`/`NNNNNNNN_target_*.bin` pairs.
        #[arg(long)]
        examples: bool,
        /// Print every step's time.
        #[arg(long, short)]
        verbose: bool,
    },
}

fn main() -> ExitCode {
    // `orrery service build` runs rustc through this binary (see `orrery_service_build::stable_ids`).
    if let Some(code) = orrery_service_build::stable_ids::run_if_invoked() {
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    let cli = Cli::parse();
    match &cli.command {
        Command::Conformance { pvm, .. } => pvm.apply(),
        Command::Import { node, .. } | Command::FuzzTarget { node, .. } | Command::Fuzz { node, .. } => {
            node.pvm.apply()
        }
        _ => {}
    }
    match cli.command {
        Command::Conformance { vectors, families, verbose, pvm: _ } => {
            conformance::run(&vectors, &families, verbose)
        }
        Command::Key(command) => key::run(command),
        Command::Service(command) => service::run(command),
        Command::Import { node, genesis, chain, db, finality_depth, blocks } => import::run(
            &node,
            &import::Request {
                genesis: genesis.as_deref(),
                chain: chain.as_deref(),
                db: db.as_deref(),
                finality_depth,
                blocks: &blocks,
            },
        ),
        Command::ChainSpec(command) => chain_spec::run(command),
        Command::Node(command) => node::run(command),
        Command::Testnet(args) => node::testnet(args),
        Command::Explorer(args) => explorer::run(args),
        Command::TelemetrySink(args) => telemetry_sink::run(args),
        Command::FuzzTarget { node, socket, idle } => fuzz::target(&node, &socket, Duration::from_secs(idle)),
        Command::Fuzz { node, lane, steps, seed, target, out, timeout, keep_going } => fuzz_lane::run_lane(
            &node,
            &fuzz_lane::Request {
                lane: &lane,
                steps,
                seed,
                target: &target,
                out,
                timeout: std::time::Duration::from_secs(timeout.max(1)),
                keep_going,
            },
        ),
        Command::FuzzClient { spec, socket, folders, examples, verbose } => match ChainSpec::by_name(&spec) {
            Some(spec) => fuzz::client(&spec, &socket, &folders, examples, verbose),
            None => {
                eprintln!("error: unknown chain spec {spec:?}");
                ExitCode::FAILURE
            }
        },
    }
}
