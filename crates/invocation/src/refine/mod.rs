//! The refine invocation Ψ_R (GP 0.7.2 §B.3) and its host calls (§B.5, §B.8).
//!
//! [`refine`] refines one work item of a package: it finds the item's code by historical lookup at
//! the package's lookup anchor (`BAD` when it is missing, `BIG` when longer than `W_C`), runs it from
//! instruction 0 with `E(c, i, w_s, ↕w_y, H(p))` and the item's refine gas limit through Ψ_M, and
//! returns the output (or `∞`/`☇`), the exported segments (none unless it halted) and the gas used.
//!
//! [`RefineHost`] is the dispatcher `F`: `gas`, `fetch` (the package, the authorizer trace, the
//! imports and extrinsics; the entropy is `H_0`), `historical_lookup`, `export`, and the inner
//! machines of [`machines`]; `log` (JIP-1) and any other call cost 10 and answer `WHAT`.

pub mod guard;
mod host;
pub mod machines;

use std::sync::Arc;

use orrery_pvm::{ExitDetail, InvocationResult};
use orrery_types::constants::MAX_SERVICE_CODE_SIZE;
use orrery_types::{CoreIndex, Gas, Hash, WorkExecResult};

pub(crate) use host::{log, Fetcher};
pub use host::{RefineHost, RefineInputs, LOG_MESSAGES};

use crate::accumulate::{decode_code, ProgramCache};
use crate::general::{Accounts, LogMessage};

/// The refine entry point: instruction 0 of the service's program.
pub const REFINE_ENTRY: u32 = 0;

/// What Ψ_R gives back: `(r, e, u)`, with the service's log messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefineOutput {
    /// `r`: the output blob or why there is none.
    pub result: WorkExecResult,
    /// `e`: the exported segments, each `W_G` octets; empty unless the code halted.
    pub exports: Vec<Vec<u8>>,
    /// `u`: the gas used.
    pub gas_used: Gas,
    /// What it logged (JIP-1), for the operator.
    pub logs: Vec<LogMessage>,
    /// How the machine stopped, for the operator (`None` when no code ran).
    pub exit: Option<ExitDetail>,
}

impl RefineOutput {
    fn failed(result: WorkExecResult) -> Self {
        Self { result, exports: Vec::new(), gas_used: 0, logs: Vec::new(), exit: None }
    }
}

/// `E(c, i, w_s, ↕w_y, H(p))`: the refine arguments, with the numbers in the general natural
/// encoding.
pub fn refine_arguments(
    core: CoreIndex,
    item_index: usize,
    service: u32,
    payload: &[u8],
    package_hash: &Hash,
) -> Vec<u8> {
    let mut args = Vec::with_capacity(4 * 9 + payload.len() + 32);
    for x in [u64::from(core), item_index as u64, u64::from(service), payload.len() as u64] {
        orrery_codec::natural::encode_to(x, &mut args);
    }
    args.extend_from_slice(payload);
    args.extend_from_slice(package_hash);
    args
}

/// Ψ_R(c, i, p, r, ī, ς): refines item `inputs.item_index` of `inputs.package` on core `core`,
/// whose hash `package_hash` (`H(E(p))`) the caller gives, with `accounts` as of the lookup
/// anchor (or any later block).
///
/// An item index past the package's items has no code: `BAD`.
pub fn refine<A: Accounts + ?Sized>(
    inputs: RefineInputs<'_>,
    core: CoreIndex,
    package_hash: &Hash,
    accounts: &A,
    cache: Option<&ProgramCache>,
) -> RefineOutput {
    let Some(item) = inputs.package.items.get(inputs.item_index) else {
        return RefineOutput::failed(WorkExecResult::BadCode);
    };
    let anchor_slot = inputs.package.context.lookup_anchor_slot;
    let Some(blob) = accounts
        .account(item.service)
        .and_then(|account| account.historical_lookup(anchor_slot, &item.code_hash))
    else {
        return RefineOutput::failed(WorkExecResult::BadCode);
    };
    if blob.len() > MAX_SERVICE_CODE_SIZE {
        return RefineOutput::failed(WorkExecResult::CodeOversize);
    }
    // A preimage whose metadata prefix or program Y cannot read is a program that panics at once,
    // using no gas (Ψ_M).
    let program = match cache {
        Some(cache) => cache.get(&item.code_hash, blob),
        None => decode_code(blob).map(Arc::new),
    };
    let Some(program) = program else {
        return RefineOutput::failed(WorkExecResult::Panic);
    };

    let args = refine_arguments(core, inputs.item_index, item.service, &item.payload, package_hash);
    let gas = item.refine_gas_limit;
    let mut host = RefineHost::new(inputs, accounts, item.service, gas);
    let (gas_used, result, exit) =
        crate::backend::invoke(&item.code_hash, &program, REFINE_ENTRY, gas, &args, &mut host);
    let (result, exports) = match result {
        InvocationResult::Output(output) => (WorkExecResult::Ok(output), host.exports),
        InvocationResult::OutOfGas => (WorkExecResult::OutOfGas, Vec::new()),
        InvocationResult::Panic => (WorkExecResult::Panic, Vec::new()),
    };
    RefineOutput { result, exports, gas_used, logs: host.logs, exit }
}
