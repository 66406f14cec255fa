//! `orrery chain-spec`: JIP-4 chain spec files. `dev` writes the dev chain's (orrery-chain-spec's
//! `dev`): a genesis from nothing but the spec (tiny or full) with the JIP-5 dev validators' keys
//! and loopback endpoints (`127.0.0.1:40000 + i`, also the boot nodes), Orrery's manager
//! (`services/manager`) as service 0 with every privilege, and Orrery's authorizer
//! (`guests/authorizer.jam`; token = configuration = `orrery-dev`) in every core's pool and queue;
//! both blobs are built into the binary.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use orrery_chain_spec::dev::{dev_spec, DevServices, DEV_BASE_PORT};
use orrery_chain_spec::JamChainSpec;
use orrery_crypto::bandersnatch::RingContext;
use orrery_keys::ValidatorKeys;

use crate::Node;

#[derive(Debug, Subcommand)]
pub enum ChainSpecCommand {
    /// Write the dev chain's spec: the JIP-5 dev validators 0..N (N must be the spec's validator
    /// count) listening on 127.0.0.1:40000 + i, Orrery's manager service (deploys, funds and
    /// upgrades services from a work item) as service 0 with every privilege, the null authorizer
    /// in every core's pool and queue.
    Dev {
        #[command(flatten)]
        node: Node,
        /// How many dev validators: the spec's V (6 for tiny, 1023 for full).
        #[arg(long)]
        validators: u32,
        /// Where to write the spec (standard output if not given).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

pub fn run(command: ChainSpecCommand) -> ExitCode {
    match execute(command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn execute(command: ChainSpecCommand) -> Result<(), String> {
    let ChainSpecCommand::Dev { node, validators, out } = command;
    let spec = node.chain_spec()?;
    if validators != u32::from(spec.validators_count) {
        return Err(format!(
            "--validators {validators}: the {} spec has {} validators, and a dev chain has them all",
            spec.name, spec.validators_count
        ));
    }
    let ring = RingContext::from_srs_file(&node.srs, usize::from(spec.validators_count))
        .map_err(|e| format!("the Bandersnatch SRS (--srs or ORRERY_SRS): {e}"))?;
    let chain = build_dev(&spec, &ring, validators, DEV_BASE_PORT)?;
    write(&chain, out.as_deref())
}

/// The dev chain's spec for `spec` with dev validators `0..validators` (all of the spec's),
/// validator `i` on `127.0.0.1:base_port + i`.
pub fn build_dev(
    spec: &orrery_types::ChainSpec,
    ring: &RingContext,
    validators: u32,
    base_port: u16,
) -> Result<JamChainSpec, String> {
    let keys: Vec<ValidatorKeys> = (0..validators).map(ValidatorKeys::dev).collect();
    dev_spec(spec, ring, &keys, &DevServices::ORRERY, base_port).map_err(|e| e.to_string())
}

fn write(chain: &JamChainSpec, out: Option<&Path>) -> Result<(), String> {
    let json = chain.to_json();
    match out {
        Some(path) => {
            std::fs::write(path, format!("{json}\n")).map_err(|e| format!("{}: {e}", path.display()))?;
            outln!(
                "wrote {} ({} spec, genesis {}, state root {})",
                path.display(),
                chain.spec.name,
                hex::encode(chain.genesis_hash()),
                hex::encode(chain.genesis_state.root())
            );
        }
        None => outln!("{json}"),
    }
    Ok(())
}
