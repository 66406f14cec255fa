//! `orrery service …`: write, build, run and inspect a JAM service on one machine, and deploy,
//! call and read one on a running network through a node's JIP-2 RPC.

pub mod inspect;
pub mod net;
pub mod rpc;
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
    /// Deploy a service on a running dev chain (`orrery testnet`): a work package with the manager's
    /// deploy command (service 0 creates the service, provides its code and endows it), sent to a
    /// node's JIP-2 RPC and followed until accumulated; prints the new service's id.
    Deploy {
        blob: PathBuf,
        /// The endowment the manager transfers to the new service.
        #[arg(long, value_name = "A", default_value_t = net::DEFAULT_ENDOWMENT)]
        amount: u64,
        /// The new service's least accumulate gas for a work item (`g`).
        #[arg(long, value_name = "G", default_value_t = 1_000)]
        min_item_gas: u64,
        /// The new service's least gas for an incoming transfer (`m`); the endowment's transfer
        /// carries this much.
        #[arg(long, value_name = "G", default_value_t = 1_000)]
        min_memo_gas: u64,
        #[command(flatten)]
        gas: net::GasArgs,
        #[command(flatten)]
        net: net::NetArgs,
    },
    /// Call service ID on a running chain: a one-item work package with PAYLOAD, sent to a node's
    /// JIP-2 RPC and followed until accumulated; prints refine's output and what accumulation
    /// changed in the service's account. Exits 2 when refine fails.
    Call {
        id: u32,
        /// The work item's payload: hexadecimal, or @FILE for a file's contents.
        #[arg(long, default_value = "")]
        payload: String,
        /// A storage key (hex, or @TEXT) whose value to show before and after (repeatable):
        /// JIP-2 does not list the keys accumulation wrote.
        #[arg(long = "key", value_name = "KEY")]
        keys: Vec<String>,
        #[command(flatten)]
        gas: net::GasArgs,
        #[command(flatten)]
        net: net::NetArgs,
    },
    /// Read the value under KEY (hex, or @TEXT for the text's octets) in service ID's storage, as
    /// of a node's best block.
    Storage {
        id: u32,
        key: String,
        /// The node's JIP-2 RPC (WebSocket).
        #[arg(long, env = "ORRERY_RPC", value_name = "URL", default_value = "ws://127.0.0.1:19800")]
        rpc: String,
    },
    /// Show service ID's account (code hash, balance, gas minimums, storage footprint), or without
    /// ID list the chain's services, as of a node's best block.
    Info {
        id: Option<u32>,
        /// The node's JIP-2 RPC (WebSocket).
        #[arg(long, env = "ORRERY_RPC", value_name = "URL", default_value = "ws://127.0.0.1:19800")]
        rpc: String,
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
        ServiceCommand::Deploy { blob, amount, min_item_gas, min_memo_gas, gas, net } => {
            net::deploy(net::DeployOptions { blob, amount, min_item_gas, min_memo_gas, gas, net })
        }
        ServiceCommand::Call { id, payload, keys, gas, net } => {
            match net::call(net::CallOptions { id, payload, keys, gas, net }) {
                Ok(true) => Ok(()),
                Ok(false) => return ExitCode::from(2),
                Err(e) => Err(e),
            }
        }
        ServiceCommand::Storage { id, key, rpc } => net::storage(id, &key, &rpc),
        ServiceCommand::Info { id, rpc } => net::info(id, &rpc),
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
        // This binary: `main` hands over to `stable_ids::run_if_invoked` when cargo starts it.
        rustc_wrapper: None,
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
