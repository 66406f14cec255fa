//! State serialization `T(σ)` and its inverse (GP 0.7.2 §D.1), and the state root `M_σ(σ)` (§D.2).
//!
//! Every component is one row `C(i) ↦ E(component)` in the layout its type declares; each account is
//! its fixed fields under `C(255, s)` and its entries under `C(s, h)` (see [`crate::keys`]).
//! [`deserialize`] reads such a mapping back, rejecting anything the paper's `T` could not have
//! produced: a missing or malformed component, a chapter the paper does not define, an entry of a
//! service that has no account. Encoding a state read this way gives back the same bytes, since the
//! codec accepts only canonical encodings.
//!
//! [`changes`] compares two states and serializes only the rows that differ, which is what keeps the
//! state root of a block cheap: the block touches a few rows, and the trie re-hashes only those.

use std::collections::BTreeMap;

use orrery_codec::{decode_exact, Encode, Lengths};
use orrery_types::{ChainSpec, Hash, ServiceId};

use crate::keys::{account_key, classify, component_key, service_entry_key, KeyKind, StateKey};
use crate::{
    AccumulatedQueue, AuthPools, AuthQueues, AvailabilityAssignments, DisputesRecords, EntropyBuffer,
    Privileges, ReadyQueue, RecentBlocks, SafroleState, ServiceAccount, ServiceInfo, State, Statistics,
    ValidatorsData,
};

/// The chapters `C(1)`–`C(16)` in the paper's order; [`COMPONENT_NAMES`] names them.
pub const COMPONENTS: std::ops::RangeInclusive<u8> = 1..=16;

/// The paper's symbol and our field name of each component, by chapter minus one.
pub const COMPONENT_NAMES: [&str; 16] = [
    "α auth_pools",
    "φ auth_queues",
    "β recent_blocks",
    "γ safrole",
    "ψ disputes",
    "η entropy",
    "ι staging_validators",
    "κ active_validators",
    "λ previous_validators",
    "ρ pending_reports",
    "τ timeslot",
    "χ privileges",
    "π statistics",
    "ω ready_queue",
    "ξ accumulated",
    "θ accumulation_outputs",
];

/// Why a set of key/value pairs is not the serialization of a state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SerializationError {
    #[error("component C({index}) ({}) is missing", component_name(*index))]
    MissingComponent { index: u8 },
    #[error("component C({index}) ({}) does not decode: {reason}", component_name(*index))]
    BadComponent { index: u8, reason: String },
    #[error("key {} is in no chapter the paper defines", hex(key))]
    UnknownKey { key: StateKey },
    #[error("service {service}'s fixed fields C(255, s) do not decode: {reason}")]
    BadAccount { service: ServiceId, reason: String },
    #[error("key {} is an entry of service {service}, which has no account", hex(key))]
    OrphanEntry { key: StateKey, service: ServiceId },
    #[error("key {} appears twice", hex(key))]
    DuplicateKey { key: StateKey },
}

fn component_name(index: u8) -> &'static str {
    COMPONENT_NAMES.get(usize::from(index).wrapping_sub(1)).copied().unwrap_or("unknown")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `E(component i)`: the value of row `C(i)`, or `None` for a chapter that is no component.
pub fn encode_component(state: &State, index: u8) -> Option<Vec<u8>> {
    Some(match index {
        1 => state.auth_pools.encode(),
        2 => state.auth_queues.encode(),
        3 => state.recent_blocks.encode(),
        4 => state.safrole.encode(),
        5 => state.disputes.encode(),
        6 => state.entropy.encode(),
        7 => state.staging_validators.encode(),
        8 => state.active_validators.encode(),
        9 => state.previous_validators.encode(),
        10 => state.pending_reports.encode(),
        11 => state.timeslot.encode(),
        12 => state.privileges.encode(),
        13 => state.statistics.encode(),
        14 => state.ready_queue.encode(),
        15 => state.accumulated.encode(),
        16 => state.accumulation_outputs.encode(),
        _ => return None,
    })
}

/// Whether component `index` of `a` and `b` are equal (without encoding either).
fn component_eq(a: &State, b: &State, index: u8) -> bool {
    match index {
        1 => a.auth_pools == b.auth_pools,
        2 => a.auth_queues == b.auth_queues,
        3 => a.recent_blocks == b.recent_blocks,
        4 => a.safrole == b.safrole,
        5 => a.disputes == b.disputes,
        6 => a.entropy == b.entropy,
        7 => a.staging_validators == b.staging_validators,
        8 => a.active_validators == b.active_validators,
        9 => a.previous_validators == b.previous_validators,
        10 => a.pending_reports == b.pending_reports,
        11 => a.timeslot == b.timeslot,
        12 => a.privileges == b.privileges,
        13 => a.statistics == b.statistics,
        14 => a.ready_queue == b.ready_queue,
        15 => a.accumulated == b.accumulated,
        16 => a.accumulation_outputs == b.accumulation_outputs,
        _ => true,
    }
}

/// The rows of one account: `C(255, s)` and every `C(s, h)`.
pub fn account_pairs(service: ServiceId, account: &ServiceAccount) -> Vec<(StateKey, Vec<u8>)> {
    let mut out = Vec::with_capacity(1 + account.entries().len());
    out.push((account_key(service), account.info.encode()));
    out.extend(account.entries().map(|(entry, value)| (service_entry_key(service, entry), value.to_vec())));
    out
}

/// `T(σ)`: every row of the state, sorted by key.
pub fn serialize(state: &State) -> Vec<(StateKey, Vec<u8>)> {
    let mut out: Vec<(StateKey, Vec<u8>)> = COMPONENTS
        .filter_map(|i| encode_component(state, i).map(|value| (component_key(i), value)))
        .collect();
    for (service, account) in &state.accounts {
        out.extend(account_pairs(*service, account));
    }
    out.sort_unstable_by_key(|a| a.0);
    out
}

/// `M_σ(σ)`: the state root, computed from scratch (a [`orrery_merkle::Trie`] kept alongside the
/// state does it incrementally).
pub fn state_root(state: &State) -> Hash {
    let pairs = serialize(state);
    // Keys from `serialize` are sorted and distinct, which is all the one-shot root asks.
    orrery_merkle::trie::root_of_sorted(&pairs).unwrap_or_default()
}

fn decode_component<T: orrery_codec::Decode>(
    rows: &BTreeMap<u8, &[u8]>,
    index: u8,
    lengths: Lengths,
) -> Result<T, SerializationError> {
    let bytes = rows.get(&index).ok_or(SerializationError::MissingComponent { index })?;
    decode_exact(bytes, lengths)
        .map_err(|e| SerializationError::BadComponent { index, reason: e.to_string() })
}

/// `T⁻¹`: the state whose serialization is `pairs`, for the chain spec `spec`.
pub fn deserialize<'a>(
    spec: &ChainSpec,
    pairs: impl IntoIterator<Item = (&'a StateKey, &'a [u8])>,
) -> Result<State, SerializationError> {
    let lengths = spec.lengths();
    let mut rows: BTreeMap<u8, &[u8]> = BTreeMap::new();
    let mut accounts: BTreeMap<ServiceId, ServiceAccount> = BTreeMap::new();
    let mut entries: Vec<(StateKey, ServiceId, crate::EntryKey, &[u8])> = Vec::new();
    for (key, value) in pairs {
        match classify(key) {
            KeyKind::Component(index) if COMPONENTS.contains(&index) => {
                if rows.insert(index, value).is_some() {
                    return Err(SerializationError::DuplicateKey { key: *key });
                }
            }
            KeyKind::Component(_) => return Err(SerializationError::UnknownKey { key: *key }),
            KeyKind::Account(service) => {
                let info: ServiceInfo = decode_exact(value, lengths)
                    .map_err(|e| SerializationError::BadAccount { service, reason: e.to_string() })?;
                if accounts.insert(service, ServiceAccount::new(info)).is_some() {
                    return Err(SerializationError::DuplicateKey { key: *key });
                }
            }
            KeyKind::Entry(service, entry) => entries.push((*key, service, entry, value)),
        }
    }
    for (key, service, entry, value) in entries {
        let account = accounts.get_mut(&service).ok_or(SerializationError::OrphanEntry { key, service })?;
        if account.insert_entry(entry, value.to_vec()).is_some() {
            return Err(SerializationError::DuplicateKey { key });
        }
    }
    Ok(State {
        auth_pools: decode_component::<AuthPools>(&rows, 1, lengths)?,
        auth_queues: decode_component::<AuthQueues>(&rows, 2, lengths)?,
        recent_blocks: decode_component::<RecentBlocks>(&rows, 3, lengths)?,
        safrole: decode_component::<SafroleState>(&rows, 4, lengths)?,
        disputes: decode_component::<DisputesRecords>(&rows, 5, lengths)?,
        entropy: decode_component::<EntropyBuffer>(&rows, 6, lengths)?,
        staging_validators: decode_component::<ValidatorsData>(&rows, 7, lengths)?,
        active_validators: decode_component::<ValidatorsData>(&rows, 8, lengths)?,
        previous_validators: decode_component::<ValidatorsData>(&rows, 9, lengths)?,
        pending_reports: decode_component::<AvailabilityAssignments>(&rows, 10, lengths)?,
        timeslot: decode_component::<u32>(&rows, 11, lengths)?,
        privileges: decode_component::<Privileges>(&rows, 12, lengths)?,
        statistics: decode_component::<Statistics>(&rows, 13, lengths)?,
        ready_queue: decode_component::<ReadyQueue>(&rows, 14, lengths)?,
        accumulated: decode_component::<AccumulatedQueue>(&rows, 15, lengths)?,
        accumulation_outputs: decode_component(&rows, 16, lengths)?,
        accounts,
    })
}

/// One row's change: `Some(value)` sets it, `None` removes it.
pub type Change = (StateKey, Option<Vec<u8>>);

/// The rows of `T(posterior)` that differ from those of `T(prior)`: what a trie holding
/// `T(prior)` must apply to hold `T(posterior)`. Components are compared before any is encoded, and
/// accounts entry by entry, so the cost follows what changed, not the size of the state.
pub fn changes(prior: &State, posterior: &State) -> Vec<Change> {
    let mut out = Vec::new();
    for index in COMPONENTS {
        if !component_eq(prior, posterior, index) {
            out.push((component_key(index), encode_component(posterior, index)));
        }
    }
    account_changes(&prior.accounts, &posterior.accounts, &mut out);
    out
}

/// The rows of the accounts that differ between `prior` and `posterior`.
pub fn account_changes(
    prior: &BTreeMap<ServiceId, ServiceAccount>,
    posterior: &BTreeMap<ServiceId, ServiceAccount>,
    out: &mut Vec<Change>,
) {
    for (service, after) in posterior {
        match prior.get(service) {
            None => out.extend(account_pairs(*service, after).into_iter().map(|(k, v)| (k, Some(v)))),
            Some(before) => {
                if before.info != after.info {
                    out.push((account_key(*service), Some(after.info.encode())));
                }
                if !before.entries().eq(after.entries()) {
                    entry_changes(*service, before, after, out);
                }
            }
        }
    }
    for (service, before) in prior {
        if !posterior.contains_key(service) {
            out.extend(account_pairs(*service, before).into_iter().map(|(k, _)| (k, None)));
        }
    }
}

/// A merge of two sorted entry maps: the entries set, changed or removed.
fn entry_changes(service: ServiceId, before: &ServiceAccount, after: &ServiceAccount, out: &mut Vec<Change>) {
    let mut old = before.entries().peekable();
    let mut new = after.entries().peekable();
    loop {
        match (old.peek(), new.peek()) {
            (None, None) => break,
            (Some((k, _)), None) => {
                out.push((service_entry_key(service, k), None));
                old.next();
            }
            (None, Some((k, v))) => {
                out.push((service_entry_key(service, k), Some(v.to_vec())));
                new.next();
            }
            (Some((ko, vo)), Some((kn, vn))) => match ko.cmp(kn) {
                std::cmp::Ordering::Less => {
                    out.push((service_entry_key(service, ko), None));
                    old.next();
                }
                std::cmp::Ordering::Greater => {
                    out.push((service_entry_key(service, kn), Some(vn.to_vec())));
                    new.next();
                }
                std::cmp::Ordering::Equal => {
                    if vo != vn {
                        out.push((service_entry_key(service, kn), Some(vn.to_vec())));
                    }
                    old.next();
                    new.next();
                }
            },
        }
    }
}
