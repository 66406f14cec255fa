//! The is-authorized invocation Ψ_I (GP 0.7.2 §B.2).
//!
//! [`is_authorized`] finds the package's authorization code `p_c` by historical lookup of
//! `p_h` in service `p_u` at the lookup anchor (`BAD` when it is missing, `BIG` when the code,
//! metadata aside, is longer than `W_A`), and runs it from instruction 0 with `E2(c)` and `G_I` gas
//! through Ψ_M. Its dispatcher offers `gas` and `fetch` (the package only: no entropy, trace, item,
//! imports or extrinsics); `log` (JIP-1) and every other call cost 10 and answer `WHAT`.

use std::sync::Arc;

use orrery_pvm::{Host, HostContext, HostOutcome, InvocationResult, StandardProgram};
use orrery_types::constants::MAX_AUTH_CODE_SIZE;
use orrery_types::{ChainSpec, CoreIndex, Gas, WorkExecResult, WorkPackage};

use crate::accumulate::ProgramCache;
use crate::codes::{index, HOST_CALL_GAS, WHAT};
use crate::general::{self, Accounts, FetchData, LogMessage};
use crate::refine::guard::Budget;
use crate::refine::{log, Fetcher};

/// The is-authorized entry point: instruction 0 of the authorizer's program.
pub const IS_AUTHORIZED_ENTRY: u32 = 0;

/// What Ψ_I gives back: `(r, u)`, with the authorizer's log messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationOutput {
    /// `r`: the authorizer trace (the output blob), or why there is none. Only `Ok` authorizes.
    pub result: WorkExecResult,
    /// `u`: the gas used.
    pub gas_used: Gas,
    /// What it logged (JIP-1), for the operator.
    pub logs: Vec<LogMessage>,
}

/// `F` of Ψ_I: `gas`, `fetch` over the package, and `WHAT` for everything else.
#[derive(Debug)]
pub struct IsAuthorizedHost<'a> {
    fetcher: Fetcher<'a>,
    /// What is left of the copy budget (see [`crate::refine::guard`]).
    pub budget: Budget,
    /// What the authorizer logged (JIP-1).
    pub logs: Vec<LogMessage>,
}

impl<'a> IsAuthorizedHost<'a> {
    pub fn new(spec: &'a ChainSpec, package: &'a WorkPackage) -> Self {
        let data = FetchData { package: Some(package), ..FetchData::new(spec) };
        Self { fetcher: Fetcher::new(data), budget: Budget::new(0), logs: Vec::new() }
    }
}

impl Host for IsAuthorizedHost<'_> {
    fn call(&mut self, call: u64, ctx: &mut HostContext<'_>) -> HostOutcome {
        if !ctx.charge(HOST_CALL_GAS) {
            return HostOutcome::OutOfGas;
        }
        match call {
            index::GAS => general::gas(ctx),
            index::FETCH => self.fetcher.fetch(ctx, &mut self.budget),
            index::LOG => {
                log(ctx, &mut self.logs);
                HostOutcome::Continue
            }
            _ => {
                ctx.set_reg(7, WHAT);
                HostOutcome::Continue
            }
        }
    }
}

/// `E(↕m, c)` split: the program `c` after the metadata, if the prefix reads.
fn strip_metadata(blob: &[u8]) -> Option<&[u8]> {
    let (metadata_len, used) = orrery_codec::natural::decode(blob).ok()?;
    blob.get(used..)?.get(usize::try_from(metadata_len).ok()?..)
}

/// Ψ_I(p, c): runs package `package`'s authorizer for core `core`, with `accounts` as of the
/// lookup anchor (or any later block).
pub fn is_authorized<A: Accounts + ?Sized>(
    spec: &ChainSpec,
    package: &WorkPackage,
    core: CoreIndex,
    accounts: &A,
    cache: Option<&ProgramCache>,
) -> AuthorizationOutput {
    let failed = |result| AuthorizationOutput { result, gas_used: 0, logs: Vec::new() };
    let anchor_slot = package.context.lookup_anchor_slot;
    let blob = accounts
        .account(package.auth_code_host)
        .and_then(|account| account.historical_lookup(anchor_slot, &package.auth_code_hash));
    // p_c exists only when the preimage splits into metadata and code.
    let Some((blob, code)) = blob.and_then(|blob| Some((blob, strip_metadata(blob)?))) else {
        return failed(WorkExecResult::BadCode);
    };
    if code.len() > MAX_AUTH_CODE_SIZE {
        return failed(WorkExecResult::CodeOversize);
    }
    let program = match cache {
        Some(cache) => cache.get(&package.auth_code_hash, blob),
        None => StandardProgram::from_blob(code).ok().map(Arc::new),
    };
    // Code Y cannot read panics at once, using no gas (Ψ_M).
    let Some(program) = program else {
        return failed(WorkExecResult::Panic);
    };
    let mut host = IsAuthorizedHost::new(spec, package);
    let args = core.to_le_bytes();
    let (gas_used, result, _) = crate::backend::invoke(
        &package.auth_code_hash,
        &program,
        IS_AUTHORIZED_ENTRY,
        spec.max_is_authorized_gas,
        &args,
        &mut host,
    );
    let result = match result {
        InvocationResult::Output(trace) => WorkExecResult::Ok(trace),
        InvocationResult::OutOfGas => WorkExecResult::OutOfGas,
        InvocationResult::Panic => WorkExecResult::Panic,
    };
    AuthorizationOutput { result, gas_used, logs: host.logs }
}
