//! `stf/preimages`: preimage integration and its service statistics (GP 0.7.2 §12.4, §13.2).

use std::collections::BTreeMap;

use orrery_codec::{Decode, Describe, Encode};
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
                account.preimages =
                    entry.data.preimage_blobs.iter().map(|p| (p.hash, p.blob.clone())).collect();
                account.requests = entry
                    .data
                    .preimage_requests
                    .iter()
                    .map(|r| ((r.key.hash, r.key.length), r.value.clone()))
                    .collect();
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
                        data: Account {
                            preimage_blobs: account
                                .preimages
                                .iter()
                                .map(|(hash, blob)| PreimagesBlobMapEntry { hash: *hash, blob: blob.clone() })
                                .collect(),
                            preimage_requests: account
                                .requests
                                .iter()
                                .map(|((hash, length), value)| PreimagesRequestsMapEntry {
                                    key: PreimagesRequestsMapKey { hash: *hash, length: *length },
                                    value: value.clone(),
                                })
                                .collect(),
                        },
                    })
                    .collect();
                let state = State { accounts, statistics: services_statistics_entries(&stats) };
                Ok((state, StfResult::from_code(Ok(()))?))
            }
            Err(e) => Ok((pre.clone(), StfResult::from_code(Err(e.code()))?)),
        }
    }
}
