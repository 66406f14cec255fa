//! `orrery`: the command-line front of the node. It runs the JAM conformance vectors, and writes,
//! builds, runs and inspects services (`orrery service …`); block import and the networked node
//! plug in as further subcommands.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod conformance;
mod service;

#[derive(Debug, Parser)]
#[command(name = "orrery", version, about = "Orrery: a decentralized computer on the JAM protocol")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the JAM 0.7.2 conformance vectors, family by family.
    Conformance {
        /// The vectors folder.
        #[arg(long, default_value = orrery_conformance::DEFAULT_VECTORS, env = "ORRERY_VECTORS")]
        vectors: PathBuf,
        /// Families to run: folders under the vectors folder (`codec`, `stf/safrole`,
        /// `stf/reports/full`, …). All of them when none is given.
        families: Vec<String>,
        /// Print every case, not only failures.
        #[arg(long, short)]
        verbose: bool,
    },
    /// Write, build, run and inspect a service.
    #[command(subcommand)]
    Service(service::ServiceCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Conformance { vectors, families, verbose } => conformance::run(&vectors, &families, verbose),
        Command::Service(command) => service::run(command),
    }
}
