//! Service accounts δ (GP 0.7.2 §9).

use std::collections::BTreeMap;

use orrery_codec::{Decode, Describe, Encode};
use orrery_types::{Balance, CodeHash, Gas, Hash, ServiceId, TimeSlot};

/// A service's fixed-size fields, as row `C(255, s)` of `T(σ)` encodes them (the leading version
/// octet is the paper's constant 0).
#[derive(Debug, Clone, Default, PartialEq, Eq, Encode, Decode, Describe)]
pub struct ServiceInfo {
    pub version: u8,
    /// `c`: the code hash.
    pub code_hash: CodeHash,
    /// `b`: the balance.
    pub balance: Balance,
    /// `g`: the least gas a work item may allot to accumulating in this service.
    pub min_item_gas: Gas,
    /// `m`: the least gas for an incoming transfer.
    pub min_memo_gas: Gas,
    /// `o`: octets in storage (a derived total).
    pub bytes: u64,
    /// `f`: the storage offset that needs no deposit.
    pub deposit_offset: Balance,
    /// `i`: items in storage (a derived total).
    pub items: u32,
    /// `r`: the slot the service was created at.
    pub creation_slot: TimeSlot,
    /// `a`: the slot it last accumulated at.
    pub last_accumulation_slot: TimeSlot,
    /// `p`: the service that created it.
    pub parent_service: ServiceId,
}

/// A service account: its fixed fields and its three dictionaries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAccount {
    pub info: ServiceInfo,
    /// `s`: storage.
    pub storage: BTreeMap<Vec<u8>, Vec<u8>>,
    /// `p`: preimages by hash.
    pub preimages: BTreeMap<Hash, Vec<u8>>,
    /// `l`: preimage requests by (hash, length): the slots at which the preimage became available
    /// and unavailable, at most three.
    pub requests: BTreeMap<(Hash, u32), Vec<TimeSlot>>,
}

impl ServiceAccount {
    /// An account with `info` and empty dictionaries.
    pub fn new(info: ServiceInfo) -> Self {
        Self { info, storage: BTreeMap::new(), preimages: BTreeMap::new(), requests: BTreeMap::new() }
    }
}
