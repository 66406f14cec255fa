//! `orrery chain-spec`: JIP-4 chain spec files. `dev` writes the dev chain's (orrery-chain-spec's
//! `dev`): the vectors' tiny genesis with the JIP-5 dev validators' keys, its bootstrap service
//! privileged, and Orrery's authorizer (`guests/authorizer.jam`, built into the binary; token =
//! configuration = `orrery-dev`) in every core's pool and queue.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use orrery_chain_spec::dev::dev_spec;
use orrery_chain_spec::JamChainSpec;
use orrery_codec::decode_exact;
use orrery_crypto::bandersnatch::RingContext;
use orrery_import::formats::Genesis;
use orrery_import::ChainState;
use orrery_keys::ValidatorKeys;

use crate::Node;

/// The is-authorized guest that accepts a package whose token equals its (empty) configuration.
const AUTHORIZER: &[u8] = include_bytes!("../../../guests/authorizer.jam");

/// The vectors' genesis the dev chain is built on, relative to the repository root.
pub const DEFAULT_BASE: &str = "../shared/vectors/jam-0.7.2/traces/fallback/genesis.bin";

#[derive(Debug, Subcommand)]
pub enum ChainSpecCommand {
    /// Write the dev chain's spec: the JIP-5 dev validators 0..N (N must be the spec's validator
    /// count), the bootstrap service as service 0 with every privilege, the null authorizer in
    /// every core's pool and queue. Only `--spec tiny` for now.
    Dev {
        #[command(flatten)]
        node: Node,
        /// How many dev validators: the spec's V (6 for tiny, 1023 for full).
        #[arg(long)]
        validators: u32,
        /// Where to write the spec (standard output if not given).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// The genesis `{header, state}` to build on (the vectors' trace genesis, whose service 0
        /// is the bootstrap service).
        #[arg(long, value_name = "FILE", default_value = DEFAULT_BASE, env = "ORRERY_DEV_BASE")]
        base: PathBuf,
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
    let ChainSpecCommand::Dev { node, validators, out, base } = command;
    let spec = node.chain_spec()?;
    if validators != u32::from(spec.validators_count) {
        return Err(format!(
            "--validators {validators}: the {} spec has {} validators, and a dev chain has them all",
            spec.name, spec.validators_count
        ));
    }
    if spec != orrery_types::ChainSpec::tiny() {
        return Err(format!(
            "--spec {}: dev chains are built on the vectors' tiny genesis; only tiny for now",
            spec.name
        ));
    }
    let ring = RingContext::from_srs_file(&node.srs, usize::from(spec.validators_count))
        .map_err(|e| format!("the Bandersnatch SRS (--srs or ORRERY_SRS): {e}"))?;
    let chain = build_dev(&spec, &ring, &base, validators)?;
    write(&chain, out.as_deref())
}

/// The dev chain's spec on the genesis `{header, state}` in `base`, with dev validators `0..validators`.
pub fn build_dev(
    spec: &orrery_types::ChainSpec,
    ring: &RingContext,
    base: &Path,
    validators: u32,
) -> Result<JamChainSpec, String> {
    let bytes = std::fs::read(base).map_err(|e| format!("{} (--base): {e}", base.display()))?;
    let genesis: Genesis = decode_exact(&bytes, spec.lengths())
        .map_err(|e| format!("{}: not a genesis {{header, state}}: {e}", base.display()))?;
    let state = ChainState::from_pairs(spec, genesis.state.pairs())
        .map_err(|e| format!("{}: the state: {e}", base.display()))?;
    let keys: Vec<ValidatorKeys> = (0..validators).map(ValidatorKeys::dev).collect();
    dev_spec(spec, ring, &genesis.header, state.state().clone(), &keys, AUTHORIZER).map_err(|e| e.to_string())
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
