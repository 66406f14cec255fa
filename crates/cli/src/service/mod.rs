//! `orrery service …`: write, build, run and inspect a JAM service on one machine.

pub mod inspect;
pub mod run;
pub mod scaffold;
pub mod store;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

/// Lower-case hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Debug, Subcommand)]
pub enum ServiceCommand {
    /// Create a service crate that builds as it stands.
    New {
        /// The crate's directory; its last component names the service.
        name: PathBuf,
        /// The orrery-service-sdk crate to depend on (default: the one this binary was built with).
        #[arg(long, env = "ORRERY_SDK")]
        sdk: Option<PathBuf>,
    },
    /// Build a service crate into NAME.jam, a GP 0.7.2 service blob.
    Build {
        /// The crate's directory.
        #[arg(default_value = ".")]
        path: PathBuf,
        /// Where to write NAME.jam (default: the crate's directory).
        #[arg(long, short)]
        out: Option<PathBuf>,
        /// Show cargo's progress.
        #[arg(long, short)]
        verbose: bool,
    },
    /// Refine a one-item work package with PAYLOAD, then accumulate its output (and the transfers
    /// that follow) against a local state. Without BLOB, call service --id of the state (one
    /// deployed by another service, e.g. the manager) with the code it has there.
    Run {
        blob: Option<PathBuf>,
        /// The work item's payload: hexadecimal, or @FILE for a file's contents.
        #[arg(long, default_value = "")]
        payload: String,
        /// Keep the state in DIR (a redb database) between runs; without it the state starts
        /// empty and is dropped.
        #[arg(long, value_name = "DIR")]
        state: Option<PathBuf>,
        /// The service's id (default: the id already holding this code, else the first free id
        /// from 65536).
        #[arg(long)]
        id: Option<u32>,
        /// The work item's refine gas limit (default: G_R).
        #[arg(long)]
        refine_gas: Option<u64>,
        /// The work item's accumulate gas limit (default: G_A).
        #[arg(long)]
        accumulate_gas: Option<u64>,
        #[command(flatten)]
        pvm: crate::Pvm,
    },
    /// Show a service blob's metadata, sections, entry points and code.
    Inspect {
        blob: PathBuf,
        /// Leave out the disassembly.
        #[arg(long)]
        no_disassembly: bool,
        /// Disassemble only the instructions at program counters FROM up to, not including, TO.
        #[arg(long, num_args = 2, value_names = ["FROM", "TO"])]
        range: Option<Vec<u32>>,
    },
}

pub fn run(command: ServiceCommand) -> ExitCode {
    let result = match command {
        ServiceCommand::New { name, sdk } => new(&name, sdk),
        ServiceCommand::Build { path, out, verbose } => build(path, out, verbose),
        ServiceCommand::Run { blob, payload, state, id, refine_gas, accumulate_gas, pvm } => {
            pvm.apply();
            match run::run(run::RunOptions { blob, payload, state, id, refine_gas, accumulate_gas }) {
                Ok(true) => Ok(()),
                Ok(false) => return ExitCode::from(2),
                Err(e) => Err(e),
            }
        }
        ServiceCommand::Inspect { blob, no_disassembly, range } => {
            inspect::run(&blob, !no_disassembly, range.map(|r| (r[0], r[1])))
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn new(dir: &std::path::Path, sdk: Option<PathBuf>) -> Result<(), String> {
    let sdk = sdk.unwrap_or_else(scaffold::default_sdk);
    let name = scaffold::create(dir, &sdk)?;
    outln!("created service `{name}` in {}", dir.display());
    outln!("build it with: orrery service build {}", dir.display());
    Ok(())
}

fn build(path: PathBuf, out: Option<PathBuf>, verbose: bool) -> Result<(), String> {
    let options = orrery_service_build::BuildOptions {
        crate_dir: path,
        out_dir: out,
        tools: Default::default(),
        verbose,
    };
    let built = orrery_service_build::build(&options).map_err(|e| e.to_string())?;
    outln!("built {}: {} octets", built.blob_path.display(), built.blob.len());
    outln!("code hash 0x{}", hex(&built.code_hash));
    outln!("{}", built.linked.entries.describe());
    outln!("linked by {}", built.linked.linker.describe());
    outln!(
        "code {} octets, read-only {} octets, read-write {} octets, {} heap pages, stack {} octets",
        built.linked.instructions_size,
        built.linked.ro_data.len(),
        built.linked.rw_data.len(),
        built.linked.heap_pages,
        built.linked.stack_size
    );
    Ok(())
}
