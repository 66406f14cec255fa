//! `orrery`: the command-line front of the node: the JAM conformance vectors, block import from
//! files, and the conformance fuzzer's target; services and the networked node plug in as further
//! subcommands.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use orrery_crypto::bandersnatch::RingContext;
use orrery_import::ImportContext;
use orrery_types::ChainSpec;

mod conformance;
mod fuzz;
mod import;

#[derive(Debug, Parser)]
#[command(name = "orrery", version, about = "Orrery: a decentralized computer on the JAM protocol")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// What block import needs: the chain spec and the Bandersnatch SRS.
#[derive(Debug, Clone, Args)]
struct Node {
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
        /// `stf/reports/full`, `traces/storage`, …). All of them when none is given.
        families: Vec<String>,
        /// Print every case, not only failures.
        #[arg(long, short)]
        verbose: bool,
    },
    /// Import a genesis and blocks from files, printing each block's hash, slot, state root and
    /// import time. Block files are trace steps (`traces/*/NNNNNNNN.bin`) or encoded blocks.
    Import {
        #[command(flatten)]
        node: Node,
        /// The genesis: a trace's `genesis.bin` (`{header, state}`). Needed unless `--db` holds a chain.
        #[arg(long)]
        genesis: Option<PathBuf>,
        /// Keep blocks and states in this database folder, and continue from it.
        #[arg(long)]
        db: Option<PathBuf>,
        /// Blocks deeper than this below the best block are final (forks off them pruned).
        #[arg(long, default_value_t = 24)]
        finality_depth: u32,
        /// Block files, imported in the order given (a folder stands for its `.bin` files in order).
        blocks: Vec<PathBuf>,
    },
    /// Serve the JAM conformance fuzzer protocol v1 on a Unix socket.
    FuzzTarget {
        #[command(flatten)]
        node: Node,
        /// The socket to listen on.
        #[arg(long, default_value = "/tmp/jam_target.sock")]
        socket: PathBuf,
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
    let cli = Cli::parse();
    match cli.command {
        Command::Conformance { vectors, families, verbose } => conformance::run(&vectors, &families, verbose),
        Command::Import { node, genesis, db, finality_depth, blocks } => {
            import::run(&node, genesis.as_deref(), db.as_deref(), finality_depth, &blocks)
        }
        Command::FuzzTarget { node, socket } => fuzz::target(&node, &socket),
        Command::FuzzClient { spec, socket, folders, examples, verbose } => match ChainSpec::by_name(&spec) {
            Some(spec) => fuzz::client(&spec, &socket, &folders, examples, verbose),
            None => {
                eprintln!("error: unknown chain spec {spec:?}");
                ExitCode::FAILURE
            }
        },
    }
}
