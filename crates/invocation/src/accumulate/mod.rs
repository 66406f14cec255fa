//! The accumulate invocation Ψ_A (GP 0.7.2 §B.4) and its host calls (§B.5, §B.7).
//!
//! [`accumulate`] runs one service's accumulation: it credits the incoming transfers, finds the
//! service's code, runs it from instruction 5 with `E(t, s, |i|)` through Ψ_M, and collapses the
//! context pair to the regular dimension on a halt or the exceptional one on a panic or running out
//! of gas (`C`). The result names the changes the service made to the partial state it was given,
//! not a whole new state: the caller (`orrery-stf`'s Δ*) merges several services' changes.

mod host;
mod state;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use orrery_pvm::{ExitDetail, InvocationResult, StandardProgram};
use orrery_state::{EntryValue, ServiceAccount};
use orrery_types::constants::MAX_SERVICE_CODE_SIZE;
use orrery_types::{ChainSpec, Gas, Hash, ServiceId, TimeSlot};

pub use host::{check, initial_free_id, AccumulateHost, Implications, LOG_MESSAGES, WRITTEN_KEYS};
pub use state::{PartialState, StateChanges, StateView};

use crate::general::LogMessage;
use crate::inputs::{AccumulationInput, DeferredTransfer};

/// The accumulate entry point: instruction 5 of the service's program.
pub const ACCUMULATE_ENTRY: u32 = 5;

/// `O`, what one accumulation gives back (GP 0.7.2 eq. 12.18), with its post-state as changes to
/// the partial state it started from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccumulateOutput {
    /// `e`, as changes to the partial state given.
    pub changes: StateChanges,
    /// `t`: the transfers it made.
    pub transfers: Vec<DeferredTransfer>,
    /// `y`: the hash it yielded.
    pub yield_hash: Option<Hash>,
    /// `u`: the gas it used.
    pub gas_used: Gas,
    /// `p`: the preimages it provided.
    pub provisions: BTreeSet<(ServiceId, Vec<u8>)>,
    /// What it logged (JIP-1), for the operator; not part of the state.
    pub logs: Vec<LogMessage>,
    /// How the machine stopped, for the operator (`None` when no code ran).
    pub exit: Option<ExitDetail>,
    /// The storage keys its `write` calls named, in order (at most [`WRITTEN_KEYS`]), for the
    /// operator: the state holds storage by the keys' hashes only (GP 0.7.2 §D.1), so this is
    /// the one place a tool can learn the keys themselves to show them. Not part of the state.
    pub written_keys: Vec<Vec<u8>>,
}

/// Decoded service programs by code hash, so that a service accumulated in many rounds and blocks
/// is decoded once. Safe to share between threads. A hit is checked against the blob itself, so a
/// state whose preimage does not hash to its key cannot make one program stand in for another.
#[derive(Debug, Default)]
pub struct ProgramCache {
    programs: Mutex<HashMap<Hash, CachedProgram>>,
}

/// A code blob and what decoding it gave.
type CachedProgram = (EntryValue, Option<Arc<StandardProgram>>);

/// How many programs a [`ProgramCache`] keeps before it starts again.
const CACHE_CAPACITY: usize = 64;

impl ProgramCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes `account`'s code into the cache ahead of its first accumulation (when a state is
    /// loaded), while the cache is less than half full: a state with many services fills only
    /// part of it, leaving room for those that do accumulate. Whether the code decodes is the
    /// accumulation's business; nothing is reported here.
    pub fn prepare(&self, account: &ServiceAccount) {
        if self.programs.lock().is_ok_and(|p| p.len() < CACHE_CAPACITY / 2) {
            let _ = service_program(account, Some(self));
        }
    }

    pub(crate) fn get(&self, hash: &Hash, blob: &EntryValue) -> Option<Arc<StandardProgram>> {
        if let Ok(programs) = self.programs.lock() {
            if let Some((cached, program)) = programs.get(hash) {
                // Accounts share their values, so the same blob is usually the same allocation.
                if Arc::ptr_eq(cached, blob) || **cached == **blob {
                    return program.clone();
                }
            }
        }
        let program = decode_code(blob).map(Arc::new);
        if let Ok(mut programs) = self.programs.lock() {
            if programs.len() >= CACHE_CAPACITY {
                programs.clear();
            }
            programs.insert(*hash, (Arc::clone(blob), program.clone()));
        }
        program
    }
}

/// `a_c` as a program: the code preimage `E(↕m, c)` split, `c` no longer than `W_C` and decodable
/// by Y. `None` when any of that fails, which Ψ_A treats alike.
pub(crate) fn decode_code(blob: &[u8]) -> Option<StandardProgram> {
    let (metadata_len, used) = orrery_codec::natural::decode(blob).ok()?;
    let code_len = (blob.len() - used).checked_sub(usize::try_from(metadata_len).ok()?)?;
    if code_len > MAX_SERVICE_CODE_SIZE {
        return None;
    }
    StandardProgram::from_service_code(blob).ok().map(|(_, program)| program)
}

fn service_program(account: &ServiceAccount, cache: Option<&ProgramCache>) -> Option<Arc<StandardProgram>> {
    let blob = account.code_value()?;
    match cache {
        Some(cache) => cache.get(&account.info.code_hash, blob),
        None => decode_code(blob).map(Arc::new),
    }
}

/// Ψ_A(o, t, s, g, i): accumulates service `service` at slot `slot` (`τ'`, also `H_t`) with `gas`
/// and `inputs`, against the partial state `state`, with entropy `η'_0`.
#[allow(clippy::too_many_arguments)]
pub fn accumulate(
    spec: &ChainSpec,
    state: &PartialState,
    slot: TimeSlot,
    service: ServiceId,
    gas: Gas,
    inputs: &[AccumulationInput],
    entropy: &Hash,
    cache: Option<&ProgramCache>,
) -> AccumulateOutput {
    // s: o with the incoming transfers' amounts credited to the service.
    let mut view = StateView::new(state);
    let credit = inputs
        .iter()
        .filter_map(|i| match i {
            AccumulationInput::Transfer(t) => Some(t.amount),
            AccumulationInput::Operand(_) => None,
        })
        .fold(0u64, u64::saturating_add);
    if credit > 0 {
        if let Some(account) = view.account_mut(service) {
            account.info.balance = account.info.balance.saturating_add(credit);
        }
    }
    let code =
        state.accounts.get(&service).and_then(|a| Some((a.info.code_hash, service_program(a, cache)?)));
    let Some((code_hash, program)) = code else {
        return AccumulateOutput { changes: view.into_changes(), ..AccumulateOutput::default() };
    };

    let mut args = Vec::with_capacity(16);
    for x in [u64::from(slot), u64::from(service), inputs.len() as u64] {
        orrery_codec::natural::encode_to(x, &mut args);
    }
    let mut host = AccumulateHost::new(spec, slot, entropy, inputs, service, view);
    let (gas_used, result, exit) =
        crate::backend::invoke(&code_hash, &program, ACCUMULATE_ENTRY, gas, &args, &mut host);
    let AccumulateHost { regular, exceptional, logs, written_keys, .. } = host;
    let (chosen, yield_hash) = match result {
        InvocationResult::Panic | InvocationResult::OutOfGas => {
            let yield_hash = exceptional.yield_hash;
            (exceptional, yield_hash)
        }
        InvocationResult::Output(output) => {
            let yield_hash = match <[u8; 32]>::try_from(output.as_slice()) {
                Ok(hash) => Some(hash),
                Err(_) => regular.yield_hash,
            };
            (regular, yield_hash)
        }
    };
    AccumulateOutput {
        changes: chosen.state.into_changes(),
        transfers: chosen.transfers,
        yield_hash,
        gas_used,
        provisions: chosen.provisions,
        logs,
        exit,
        written_keys,
    }
}
