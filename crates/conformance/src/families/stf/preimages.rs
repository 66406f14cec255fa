//! `stf/preimages`: preimage integration and its service statistics (GP 0.7.2 §12.4, §13.2).

use std::collections::{BTreeMap, BTreeSet};

use orrery_codec::{Decode, Describe, Encode};
use orrery_crypto::blake2b_256;
use orrery_state::{ServiceAccount, ServiceInfo};
use orrery_stf::preimages;
use orrery_types::{ChainSpec, Hash, Preimage, ServiceId, TimeSlot};

use super::{
    services_statistics, services_statistics_entries, ErrorCodes, ServicesStatisticsMapEntry, StfResult,
    StfVector,
};

#[derive(Debug, Clone, Encode, Decode, Describe)]
pub(crate) struct PreimagesBlobMapEntry {
    hash: Hash,
    blob: Vec<u8>,
}

#[derive(Debug, Clone, Encode, Decode, Describe)]
pub(crate) struct PreimagesRequestsMapKey {
    hash: Hash,
    length: u32,
}

#[derive(Debug, Clone, Encode, Decode, Describe)]
pub(crate) struct PreimagesRequestsMapEntry {
    key: PreimagesRequestsMapKey,
    value: Vec<TimeSlot>,
}

/// The part of a service account this transition reads: its preimages and requests.
#[derive(Debug, Clone, Encode, Decode, Describe)]
pub(crate) struct Account {
    preimage_blobs: Vec<PreimagesBlobMapEntry>,
    preimage_requests: Vec<PreimagesRequestsMapEntry>,
}

#[derive(Debug, Clone, Encode, Decode, Describe)]
pub(crate) struct AccountsMapEntry {
    id: ServiceId,
    data: Account,
}

#[derive(Debug, Clone, Encode, Decode, Describe)]
pub(crate) struct State {
    accounts: Vec<AccountsMapEntry>,
    statistics: Vec<ServicesStatisticsMapEntry>,
}

#[derive(Debug, Clone, Encode, Decode, Describe)]
pub(crate) struct Input {
    preimages: Vec<Preimage>,
    slot: TimeSlot,
}

pub(crate) struct Errors;

impl ErrorCodes for Errors {
    const NAMES: &'static [&'static str] = &["preimage_unneeded", "preimages_not_sorted_unique"];
}

pub(crate) struct Preimages;

impl StfVector for Preimages {
    type Input = Input;
    type State = State;
    type Output = StfResult<(), Errors>;

    fn apply(_spec: &ChainSpec, input: &Input, pre: &State) -> Result<(State, Self::Output), String> {
        // The projection omits the accounts' fixed fields; the transition does not read them.
        let accounts: BTreeMap<ServiceId, ServiceAccount> = pre
            .accounts
            .iter()
            .map(|entry| {
                let mut account = ServiceAccount::new(ServiceInfo::default());
                for p in &entry.data.preimage_blobs {
                    account.set_preimage(&p.hash, p.blob.clone());
                }
                for r in &entry.data.preimage_requests {
                    account.set_request(&r.key.hash, r.key.length, &r.value);
                }
                (entry.id, account)
            })
            .collect();
        let stats = services_statistics(&pre.statistics);
        match preimages::apply(&accounts, &stats, &input.preimages, input.slot) {
            Ok((accounts, stats)) => {
                let accounts = accounts
                    .iter()
                    .map(|(id, account)| AccountsMapEntry {
                        id: *id,
                        data: vector_account(pre, input, *id, account),
                    })
                    .collect();
                let state = State { accounts, statistics: services_statistics_entries(&stats) };
                Ok((state, StfResult::from_code(Ok(()))?))
            }
            Err(e) => Ok((pre.clone(), StfResult::from_code(Err(e.code()))?)),
        }
    }
}

/// An account back in the vectors' shape. Accounts hold entries by hashed state keys, so the hashes
/// and lengths to look up come from what the case names: the pre-state's entries of this service
/// and the blobs the extrinsic offers it.
fn vector_account(pre: &State, input: &Input, id: ServiceId, account: &ServiceAccount) -> Account {
    let mut blobs = BTreeSet::new();
    let mut requests = BTreeSet::new();
    for entry in pre.accounts.iter().filter(|e| e.id == id) {
        blobs.extend(entry.data.preimage_blobs.iter().map(|p| p.hash));
        requests.extend(entry.data.preimage_requests.iter().map(|r| (r.key.hash, r.key.length)));
    }
    for preimage in input.preimages.iter().filter(|p| p.requester == id) {
        let hash = blake2b_256(&preimage.blob);
        blobs.insert(hash);
        requests.insert((hash, u32::try_from(preimage.blob.len()).unwrap_or(u32::MAX)));
    }
    Account {
        preimage_blobs: blobs
            .into_iter()
            .filter_map(|hash| {
                account.preimage(&hash).map(|blob| PreimagesBlobMapEntry { hash, blob: blob.to_vec() })
            })
            .collect(),
        preimage_requests: requests
            .into_iter()
            .filter_map(|(hash, length)| {
                // A malformed value cannot arise: every request here was written from a slot list.
                let value = account.request(&hash, length)?.ok()?;
                Some(PreimagesRequestsMapEntry { key: PreimagesRequestsMapKey { hash, length }, value })
            })
            .collect(),
    }
}
