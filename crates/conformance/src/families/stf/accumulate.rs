//! `stf/accumulate`: accumulation of the reports that became available, through the PVM and the
//! test services' host calls (GP 0.7.2 §12, Appendix B).
//!
//! The vectors give service accounts with their original storage keys; Orrery holds an account's
//! entries by their state keys' hashes (as `T(σ)` does), so the accounts are loaded entry by entry
//! and read back by looking up every key, hash and request the case names (its pre-state and its
//! expected post-state). An entry under a key the case never names is reported as a mismatch: the
//! comparison covers every entry, as a comparison of `T(σ)` would. The vectors leave out `ι` and
//! `φ`; the transition gets all-zero ones.

use std::collections::{BTreeMap, BTreeSet};

use orrery_codec::{Decode, Decoder, Describe, Encode};
use orrery_invocation::ProgramCache;
use orrery_state::keys::{preimage_entry, request_entry, storage_entry, EntryKey};
use orrery_state::{
    AccumulatedQueue, AuthQueues, Privileges, ReadyQueue, ServiceAccount, ServiceInfo, ServicesStatistics,
    ValidatorData, ValidatorsData,
};
use orrery_stf::accumulate::{self, AccumulateInput, AccumulationState};
use orrery_types::constants::AUTH_QUEUE_SIZE;
use orrery_types::{ChainSpec, Entropy, Hash, ServiceId, TimeSlot, WorkReport};

use super::{mismatch, services_statistics_entries, ServicesStatisticsMapEntry};

#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub(crate) struct StorageMapEntry {
    key: Vec<u8>,
    value: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub(crate) struct PreimagesBlobMapEntry {
    hash: Hash,
    blob: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub(crate) struct PreimagesRequestsMapKey {
    hash: Hash,
    length: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub(crate) struct PreimagesRequestsMapEntry {
    key: PreimagesRequestsMapKey,
    value: Vec<TimeSlot>,
}

/// A service account with its original keys (the vectors' `ServiceAccount`).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub(crate) struct Account {
    service: ServiceInfo,
    storage: Vec<StorageMapEntry>,
    preimage_blobs: Vec<PreimagesBlobMapEntry>,
    preimage_requests: Vec<PreimagesRequestsMapEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub(crate) struct AccountsMapEntry {
    id: ServiceId,
    data: Account,
}

#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub(crate) struct State {
    slot: TimeSlot,
    entropy: Entropy,
    ready_queue: ReadyQueue,
    accumulated: AccumulatedQueue,
    privileges: Privileges,
    statistics: Vec<ServicesStatisticsMapEntry>,
    accounts: Vec<AccountsMapEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub(crate) struct Input {
    slot: TimeSlot,
    reports: Vec<WorkReport>,
}

/// `Output ::= CHOICE { ok OpaqueHash, err NULL }`.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub(crate) enum Output {
    Ok(Hash),
    Err,
}

/// The original keys a case names, per service: what an account is read back through.
#[derive(Debug, Default)]
struct Names {
    storage: BTreeSet<Vec<u8>>,
    preimages: BTreeSet<Hash>,
    requests: BTreeSet<(Hash, u32)>,
}

fn names(states: &[&State]) -> BTreeMap<ServiceId, Names> {
    let mut out: BTreeMap<ServiceId, Names> = BTreeMap::new();
    for entry in states.iter().flat_map(|s| s.accounts.iter()) {
        let names = out.entry(entry.id).or_default();
        names.storage.extend(entry.data.storage.iter().map(|s| s.key.clone()));
        names.preimages.extend(entry.data.preimage_blobs.iter().map(|p| p.hash));
        names.requests.extend(entry.data.preimage_requests.iter().map(|r| (r.key.hash, r.key.length)));
    }
    out
}

/// An account from its vector form: the fixed fields as given (footprint included) and each
/// entry under its key.
fn load(account: &Account) -> ServiceAccount {
    let mut out = ServiceAccount::new(account.service.clone());
    for s in &account.storage {
        out.insert_entry(storage_entry(&s.key), s.value.clone());
    }
    for p in &account.preimage_blobs {
        out.insert_entry(preimage_entry(&p.hash), p.blob.clone());
    }
    for r in &account.preimage_requests {
        out.insert_entry(request_entry(&r.key.hash, r.key.length), r.value.encode());
    }
    out
}

/// An account in its vector form, through the names; an entry no name explains is an error.
fn unload(id: ServiceId, account: &ServiceAccount, names: Option<&Names>) -> Result<Account, String> {
    let empty = Names::default();
    let names = names.unwrap_or(&empty);
    let mut explained: BTreeSet<EntryKey> = BTreeSet::new();
    let mut storage = Vec::new();
    for key in &names.storage {
        if let Some(value) = account.storage(key) {
            explained.insert(storage_entry(key));
            storage.push(StorageMapEntry { key: key.clone(), value: value.to_vec() });
        }
    }
    let mut preimage_blobs = Vec::new();
    for hash in &names.preimages {
        if let Some(blob) = account.preimage(hash) {
            explained.insert(preimage_entry(hash));
            preimage_blobs.push(PreimagesBlobMapEntry { hash: *hash, blob: blob.to_vec() });
        }
    }
    let mut preimage_requests = Vec::new();
    for &(hash, length) in &names.requests {
        match account.request(&hash, length) {
            Some(Ok(value)) => {
                explained.insert(request_entry(&hash, length));
                preimage_requests
                    .push(PreimagesRequestsMapEntry { key: PreimagesRequestsMapKey { hash, length }, value });
            }
            Some(Err(e)) => {
                return Err(format!("service {id}: request ({}, {length}): {e}", hex::encode(hash)))
            }
            None => {}
        }
    }
    let unexplained: Vec<String> =
        account.entries().map(|(k, _)| k).filter(|k| !explained.contains(*k)).map(hex::encode).collect();
    if !unexplained.is_empty() {
        return Err(format!(
            "post_state: service {id} holds entries the expected state does not: {}",
            unexplained.join(", ")
        ));
    }
    Ok(Account { service: account.info.clone(), storage, preimage_blobs, preimage_requests })
}

/// Runs the transition on a case's input and pre-state: the output and the post-state, read back
/// through `names`.
/// The transition's prior state from a case's pre-state.
fn prior(spec: &ChainSpec, pre: &State) -> AccumulationState {
    AccumulationState {
        accounts: pre.accounts.iter().map(|e| (e.id, load(&e.data))).collect(),
        staging: ValidatorsData(vec![ValidatorData::NULL; spec.validators_count.into()]),
        auth_queues: AuthQueues(vec![[[0; 32]; AUTH_QUEUE_SIZE]; spec.cores_count.into()]),
        privileges: pre.privileges.clone(),
        ready: pre.ready_queue.clone(),
        accumulated: pre.accumulated.clone(),
    }
}

fn run(
    spec: &ChainSpec,
    input: &Input,
    pre: &State,
    names: &BTreeMap<ServiceId, Names>,
    cache: &ProgramCache,
) -> Result<(Output, State), String> {
    let prior = prior(spec, pre);
    let block = AccumulateInput {
        slot: input.slot,
        prior_slot: pre.slot,
        entropy: &pre.entropy,
        available: &input.reports,
    };
    let result = match accumulate::apply(spec, prior, &block, cache) {
        Ok(result) => result,
        Err(_) => return Ok((Output::Err, pre.clone())),
    };
    let root = result.root();
    // π_S describes one block: the prior block's records do not carry over.
    let mut statistics = ServicesStatistics::new();
    accumulate::add_statistics(&mut statistics, &result.statistics);
    let accounts = result
        .state
        .accounts
        .iter()
        .map(|(id, account)| Ok(AccountsMapEntry { id: *id, data: unload(*id, account, names.get(id))? }))
        .collect::<Result<_, String>>()?;
    let post = State {
        slot: input.slot,
        entropy: pre.entropy,
        ready_queue: result.state.ready,
        accumulated: result.state.accumulated,
        privileges: result.state.privileges,
        statistics: services_statistics_entries(&statistics),
        accounts,
    };
    Ok((Output::Ok(root), post))
}

/// Decodes one case, runs it and compares the output and post-state bytes.
pub(crate) fn check(spec: &ChainSpec, bytes: &[u8]) -> Result<(), String> {
    let mut d = Decoder::new(bytes, spec.lengths());
    let input = Input::decode(&mut d).map_err(|e| format!("decoding input: {e}"))?;
    let pre = State::decode(&mut d).map_err(|e| format!("decoding pre_state: {e}"))?;
    let output_start = bytes.len() - d.remaining();
    let expected_output = Output::decode(&mut d).map_err(|e| format!("decoding output: {e}"))?;
    let post_start = bytes.len() - d.remaining();
    let expected_post = State::decode(&mut d).map_err(|e| format!("decoding post_state: {e}"))?;
    d.finish().map_err(|e| format!("after post_state: {e}"))?;

    let names = names(&[&pre, &expected_post]);
    let (output, post) = run(spec, &input, &pre, &names, &ProgramCache::new())?;
    let mut problems = Vec::new();
    if output.encode() != bytes[output_start..post_start] {
        problems.push(mismatch("output", &expected_output.describe(), &output.describe()));
    }
    if post.encode() != bytes[post_start..] {
        problems.push(mismatch("post_state", &expected_post.describe(), &post.describe()));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// A case decoded once and run many times with one program cache: for benchmarks.
#[derive(Debug)]
pub struct PreparedCase {
    spec: ChainSpec,
    input: Input,
    pre: State,
    prior: AccumulationState,
    names: BTreeMap<ServiceId, Names>,
    expected: Vec<u8>,
}

impl PreparedCase {
    /// Decodes a case's bytes.
    pub fn decode(spec: &ChainSpec, bytes: &[u8]) -> Result<Self, String> {
        let mut d = Decoder::new(bytes, spec.lengths());
        let input = Input::decode(&mut d).map_err(|e| e.to_string())?;
        let pre = State::decode(&mut d).map_err(|e| e.to_string())?;
        let start = bytes.len() - d.remaining();
        Output::decode(&mut d).map_err(|e| e.to_string())?;
        let post = State::decode(&mut d).map_err(|e| e.to_string())?;
        let names = names(&[&pre, &post]);
        let prior = prior(spec, &pre);
        Ok(Self { spec: spec.clone(), input, pre, prior, names, expected: bytes[start..].to_vec() })
    }

    /// Runs the case as the conformance check does, from the vector's pre-state to the comparison
    /// of bytes; true when output and post-state match.
    pub fn check(&self, cache: &ProgramCache) -> bool {
        match run(&self.spec, &self.input, &self.pre, &self.names, cache) {
            Ok((output, post)) => [output.encode(), post.encode()].concat() == self.expected,
            Err(_) => false,
        }
    }

    /// A copy of the loaded prior state, for [`PreparedCase::transition`] (accounts share their
    /// values, so this does not copy code blobs).
    pub fn prior(&self) -> AccumulationState {
        self.prior.clone()
    }

    /// The transition alone on `prior`: what a block's accumulation costs.
    pub fn transition(
        &self,
        prior: AccumulationState,
        cache: &ProgramCache,
    ) -> Option<accumulate::Accumulated> {
        let block = AccumulateInput {
            slot: self.input.slot,
            prior_slot: self.pre.slot,
            entropy: &self.pre.entropy,
            available: &self.input.reports,
        };
        accumulate::apply(&self.spec, prior, &block, cache).ok()
    }
}
