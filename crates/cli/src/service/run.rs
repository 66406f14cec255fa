//! `orrery service run BLOB --payload HEX|@FILE [--state DIR]`: a one-item work package through
//! refine Ψ_R (GP 0.7.2 §B.3), then accumulation Ψ_A (§B.4) of its output, then rounds of the
//! deferred transfers the services made (§12.2, Δ+: each round's transfers are the next round's
//! inputs), on a local state.
//!
//! The local chain is one machine's: the service is installed (or its code replaced) under its id
//! with [`INITIAL_BALANCE`], each run takes the next slot, and the package's authorizer, context and
//! segment roots are zero. Preimages a service provides are integrated after its accumulation
//! (§12.4). A run whose refine fails stops there and changes nothing; a run whose accumulation
//! fails keeps what the paper keeps (the state at the last `checkpoint`, or none).
//!
//! The transfer rounds accumulate their services one after another, each against the state the
//! previous one left, where Δ* runs them against the same state and merges. The two differ only
//! when a service reads (or, by `new`, `eject` or a privileged call, changes) an account another
//! service of the same round changed: a simplification of this local tool, not of the STF.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use orrery_chain_spec::package::{offline_operand, refine_offline, Call};
use orrery_invocation::accumulate::{accumulate, PartialState};
use orrery_invocation::general::LogMessage;
use orrery_invocation::{AccumulationInput, DeferredTransfer, ExitDetail};
use orrery_pvm::{Exit, StandardProgram};
use orrery_state::keys::storage_entry;
use orrery_state::{EntryKey, ServiceAccount, ServiceInfo};
use orrery_types::{ChainSpec, Preimage, ServiceId, WorkExecResult};

use super::hex;
use super::store::{LocalState, Store};

/// The balance a newly installed service starts with.
pub const INITIAL_BALANCE: u64 = 1_000_000_000_000;
/// The first id given to an installed service: `S`, the lowest id outside the reserved range
/// (GP 0.7.2 §9.1, `S = 2^16`).
pub const FIRST_ID: ServiceId = 1 << 16;
/// At most this many rounds of transfers follow the first accumulation: services that pay each
/// other forever stop here.
pub const MAX_ROUNDS: usize = 64;

pub struct RunOptions {
    /// The service's code; `None` calls service `id` of the state with the code it has on chain.
    pub blob: Option<PathBuf>,
    pub payload: String,
    pub state: Option<PathBuf>,
    pub id: Option<ServiceId>,
    pub refine_gas: Option<u64>,
    pub accumulate_gas: Option<u64>,
}

pub(crate) fn parse_payload(text: &str) -> Result<Vec<u8>, String> {
    if let Some(path) = text.strip_prefix('@') {
        return std::fs::read(path).map_err(|e| format!("payload file {path}: {e}"));
    }
    let digits = text.strip_prefix("0x").unwrap_or(text);
    // Checked as characters first: a byte slice through a multi-octet character would panic.
    if let Some(bad) = digits.chars().find(|c| !c.is_ascii_hexdigit()) {
        return Err(format!(
            "payload `{text}`: {bad:?} is not a hexadecimal digit (give hex octets like 0x01ff, or @FILE)"
        ));
    }
    if digits.len() % 2 != 0 {
        return Err(format!("payload `{text}`: an odd number of hex digits (two per octet)"));
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).map_err(|e| format!("payload `{text}`: {e}")))
        .collect()
}

/// Text when the octets are printable UTF-8, else hex.
fn show(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) if !text.is_empty() && text.chars().all(|c| !c.is_control()) => format!("{text:?}"),
        _ => format!("0x{}", hex(bytes)),
    }
}

/// A value: hex, with the text beside it when it reads as text.
pub(crate) fn show_value(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) if !text.is_empty() && text.chars().all(|c| !c.is_control()) => {
            format!("0x{} ({text:?})", hex(bytes))
        }
        _ => format!("0x{} ({} octets)", hex(bytes), bytes.len()),
    }
}

fn describe_exit(exit: Option<ExitDetail>) -> String {
    match exit {
        None => "no code ran".into(),
        Some(ExitDetail { exit: Exit::Halt, .. }) => "halted".into(),
        Some(ExitDetail { exit: Exit::Panic, pc }) => format!("PANIC (trap) at pc {pc}"),
        Some(ExitDetail { exit: Exit::OutOfGas, pc }) => format!("OUT OF GAS at pc {pc}"),
        Some(ExitDetail { exit: Exit::PageFault(address), pc }) => {
            format!("PAGE FAULT at address 0x{address:08x} (pc {pc})")
        }
        Some(ExitDetail { exit: Exit::HostCall(call), pc }) => {
            format!("stopped at host call {call} (pc {pc})")
        }
    }
}

fn level_name(level: u64) -> &'static str {
    match level {
        0 => "fatal",
        1 => "warn",
        2 => "info",
        3 => "debug",
        4 => "trace",
        _ => "log",
    }
}

fn print_logs(indent: &str, logs: &[LogMessage]) {
    for log in logs {
        let target =
            log.target.as_deref().map(|t| format!(" {}", String::from_utf8_lossy(t))).unwrap_or_default();
        outln!("{indent}log [{}{target}] {}", level_name(log.level), String::from_utf8_lossy(&log.message));
    }
}

/// Installs `blob` as service `id` (or replaces its code), available from slot 0.
fn install(
    accounts: &mut BTreeMap<ServiceId, ServiceAccount>,
    id: ServiceId,
    blob: &[u8],
    code_hash: [u8; 32],
) -> bool {
    let account = accounts.entry(id).or_insert_with(|| {
        ServiceAccount::new(ServiceInfo { balance: INITIAL_BALANCE, ..ServiceInfo::default() })
    });
    if account.info.code_hash == code_hash && account.preimage(&code_hash).is_some() {
        return false;
    }
    account.set_preimage(&code_hash, blob.to_vec());
    account.set_request(&code_hash, blob.len() as u32, &[0]);
    account.info.code_hash = code_hash;
    true
}

/// Prints every entry of `before` and `after` that differs, storage by its original key when known.
fn print_changes(
    before: &BTreeMap<ServiceId, ServiceAccount>,
    after: &BTreeMap<ServiceId, ServiceAccount>,
    names: &BTreeMap<(ServiceId, EntryKey), Vec<u8>>,
) -> usize {
    let ids: BTreeSet<ServiceId> = before.keys().chain(after.keys()).copied().collect();
    let mut count = 0;
    for id in ids {
        let (old, new) = (before.get(&id), after.get(&id));
        match (old, new) {
            (None, Some(account)) => {
                outln!("    service {id} created, balance {}", account.info.balance);
                count += 1;
            }
            (Some(_), None) => {
                outln!("    service {id} removed");
                count += 1;
                continue;
            }
            (Some(o), Some(n)) if o.info.balance != n.info.balance => {
                outln!("    service {id} balance {} -> {}", o.info.balance, n.info.balance);
                count += 1;
            }
            _ => {}
        }
        let empty = BTreeMap::new();
        let old_entries: BTreeMap<&EntryKey, &[u8]> =
            old.map(|a| a.entries().collect()).unwrap_or_else(|| empty.clone());
        let new_entries: BTreeMap<&EntryKey, &[u8]> = new.map(|a| a.entries().collect()).unwrap_or(empty);
        let keys: BTreeSet<&EntryKey> = old_entries.keys().chain(new_entries.keys()).copied().collect();
        for key in keys {
            let (o, n) = (old_entries.get(key), new_entries.get(key));
            if o == n {
                continue;
            }
            count += 1;
            let name = match names.get(&(id, *key)) {
                Some(name) => format!("storage {}", show(name)),
                None => format!("entry 0x{}", hex(key)),
            };
            match (o, n) {
                (None, Some(v)) => outln!("    {id} {name} = {} (new)", show_value(v)),
                (Some(_), None) => outln!("    {id} {name} removed"),
                (Some(old), Some(v)) => {
                    outln!("    {id} {name} = {} (was {})", show_value(v), show_value(old))
                }
                (None, None) => {}
            }
        }
    }
    count
}

fn print_transfers(transfers: &[DeferredTransfer]) {
    for t in transfers {
        let memo_end = t.memo.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
        outln!(
            "    transfer {} -> {}: amount {}, gas {}, memo {}",
            t.source,
            t.dest,
            t.amount,
            t.gas,
            if memo_end == 0 { "empty".into() } else { show(&t.memo[..memo_end]) }
        );
    }
}

pub fn run(options: RunOptions) -> Result<bool, String> {
    let spec = ChainSpec::tiny();
    let given = match &options.blob {
        Some(path) => {
            let blob = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            Some((path.display().to_string(), blob))
        }
        None => None,
    };
    let payload = parse_payload(&options.payload)?;

    let store = options.state.as_deref().map(Store::open).transpose()?;
    let prior = match &store {
        Some(store) => store.load()?,
        None => LocalState::default(),
    };
    let mut state = prior.clone();
    state.slot = prior.slot.saturating_add(1);
    let slot = state.slot;

    let (id, code_hash, name, blob, installed) = match given {
        Some((name, blob)) => {
            let code_hash = orrery_crypto::blake2b_256(&blob);
            // The service's id: given, or the one already holding this code, or the first free one.
            let id = options
                .id
                .or_else(|| {
                    state.accounts.iter().find(|(_, a)| a.info.code_hash == code_hash).map(|(&id, _)| id)
                })
                .unwrap_or_else(|| {
                    (FIRST_ID..).find(|id| !state.accounts.contains_key(id)).unwrap_or(FIRST_ID)
                });
            (id, code_hash, name, blob, true)
        }
        None => {
            let id = options
                .id
                .ok_or("give the service's code (BLOB) or, to call a service of the state, --id")?;
            let account = state.accounts.get(&id).ok_or_else(|| {
                format!(
                    "service {id} is not in the state{}",
                    if store.is_none() { " (give --state DIR)" } else { "" }
                )
            })?;
            let code_hash = account.info.code_hash;
            let blob = account.preimage(&code_hash).ok_or_else(|| {
                format!("service {id}'s code 0x{} is requested but not provided yet", hex(&code_hash))
            })?;
            (id, code_hash, format!("service {id}'s code on chain"), blob.to_vec(), false)
        }
    };
    // Refuse what Ψ_M could not even load, before touching the state.
    let (metadata, _) =
        StandardProgram::from_service_code(&blob).map_err(|e| format!("{name}: not a service blob: {e}"))?;
    let installed = installed && install(&mut state.accounts, id, &blob, code_hash);
    outln!(
        "service {id}: {name} ({}), code hash 0x{}{}",
        super::inspect::describe_metadata(&metadata),
        hex(&code_hash),
        if installed { ", installed" } else { "" }
    );
    outln!("slot {slot}, payload {} octets", payload.len());

    // Ψ_R.
    let refine_gas = options.refine_gas.unwrap_or(spec.max_refine_gas);
    let accumulate_gas = options.accumulate_gas.unwrap_or(spec.max_accumulate_gas);
    let call = Call { service: id, code_hash, payload: payload.clone(), refine_gas, accumulate_gas };
    let (package_hash, refined) = refine_offline(&spec, call, slot, &state.accounts, None);
    outln!("refine: {}, gas used {} of {refine_gas}", describe_exit(refined.exit), refined.gas_used);
    print_logs("  ", &refined.logs);
    match &refined.result {
        WorkExecResult::Ok(output) => outln!("  output {}", show_value(output)),
        other => {
            outln!("  refine failed ({other:?}): nothing is accumulated, the state is unchanged");
            return Ok(false);
        }
    }

    // Ψ_A of the one operand, then rounds of transfers.
    let operand = offline_operand(package_hash, &payload, refined.result.clone(), accumulate_gas);
    let mut round_inputs: BTreeMap<ServiceId, (u64, Vec<AccumulationInput>)> = BTreeMap::new();
    round_inputs.insert(id, (accumulate_gas, vec![operand]));
    let entropy = [0; 32];
    let mut ok = true;
    for round in 0..=MAX_ROUNDS {
        if round_inputs.is_empty() {
            break;
        }
        if round == MAX_ROUNDS {
            outln!("stopped after {MAX_ROUNDS} rounds of transfers; the transfers left are dropped");
            break;
        }
        let mut next: BTreeMap<ServiceId, (u64, Vec<AccumulationInput>)> = BTreeMap::new();
        for (service, (gas, inputs)) in std::mem::take(&mut round_inputs) {
            let before = state.accounts.clone();
            let partial = PartialState::local(&spec, std::mem::take(&mut state.accounts), 0);
            let out = accumulate(&spec, &partial, slot, service, gas, &inputs, &entropy, None);
            let transfers_in = inputs.iter().filter(|i| matches!(i, AccumulationInput::Transfer(_))).count();
            let what = if transfers_in > 0 {
                format!("{transfers_in} transfer(s) in")
            } else {
                "the refine output".into()
            };
            outln!(
                "accumulate (round {round}) service {service}, {what}: {}, gas used {} of {gas}",
                describe_exit(out.exit),
                out.gas_used
            );
            if out.exit.is_some_and(|e| e.exit != Exit::Halt) {
                ok = false;
                outln!("  the service failed: its changes since its last checkpoint are dropped");
            }
            print_logs("  ", &out.logs);
            for key in &out.written_keys {
                state.key_names.insert((service, storage_entry(key)), key.clone());
            }
            let mut after = out.changes.apply_to(&partial).accounts;
            // The preimages it provided (`provide`), integrated as the block's end would (§12.4).
            let provided: Vec<Preimage> = out
                .provisions
                .iter()
                .map(|(requester, blob)| Preimage { requester: *requester, blob: blob.clone() })
                .collect();
            orrery_stf::preimages::integrate(&mut after, &provided, slot);
            if let Some(account) = after.get_mut(&service) {
                if out.exit.is_some() {
                    account.info.last_accumulation_slot = slot;
                }
            }
            outln!("  changes:");
            if print_changes(&before, &after, &state.key_names) == 0 {
                outln!("    none");
            }
            if let Some(hash) = out.yield_hash {
                outln!("  yield 0x{}", hex(&hash));
            }
            if !out.transfers.is_empty() {
                outln!("  transfers:");
                print_transfers(&out.transfers);
            }
            for t in &out.transfers {
                let entry = next.entry(t.dest).or_default();
                entry.0 = entry.0.saturating_add(t.gas);
                entry.1.push(AccumulationInput::Transfer(t.clone()));
            }
            state.accounts = after;
        }
        round_inputs = next;
    }

    // Drop the names of storage keys no longer held.
    let accounts = &state.accounts;
    state.key_names.retain(|(id, key), _| accounts.get(id).is_some_and(|a| a.entry(key).is_some()));
    match (&store, &options.state) {
        (Some(store), Some(dir)) => {
            store.save(&state)?;
            outln!("state saved in {} (slot {slot}, {} services)", dir.display(), state.accounts.len());
        }
        _ => outln!("state not kept (no --state)"),
    }
    Ok(ok)
}
