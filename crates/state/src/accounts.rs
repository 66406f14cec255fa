//! Service accounts δ (GP 0.7.2 §9).
//!
//! An account is its fixed fields ([`ServiceInfo`], the row `C(255, s)` of `T(σ)`) and one map
//! holding every entry of its three dictionaries (storage `s`, preimages `p`, requests `l`) by the
//! hash part of their state keys (see [`crate::keys`]). The typed accessors compute the key from the
//! dictionary and the original key; they also keep the footprint `(a_i, a_o)` in `info` up to date
//! by the rules of GP 0.7.2 §9.3, incrementally, since the original storage keys of an account read
//! from serialized state are not known.

use std::collections::BTreeMap;
use std::sync::Arc;

use orrery_codec::{Decode, Describe, Encode};
use orrery_types::constants::{DEPOSIT_BASE, DEPOSIT_PER_BYTE, DEPOSIT_PER_ITEM};
use orrery_types::{Balance, CodeHash, Gas, Hash, ServiceId, TimeSlot};

use crate::keys::{preimage_entry, request_entry, storage_entry, EntryKey};

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

impl ServiceInfo {
    /// `a_t = max(0, B_S + B_I·a_i + B_L·a_o − a_f)`, the threshold balance (GP 0.7.2 eq. 9.8).
    /// Computed without overflow; a value past `2^64 − 1` (only reachable from a corrupt footprint)
    /// saturates, which no balance can then meet.
    pub fn threshold_balance(&self) -> Balance {
        let required = u128::from(DEPOSIT_BASE)
            + u128::from(DEPOSIT_PER_ITEM) * u128::from(self.items)
            + u128::from(DEPOSIT_PER_BYTE) * u128::from(self.bytes);
        let threshold = required.saturating_sub(u128::from(self.deposit_offset));
        u64::try_from(threshold).unwrap_or(u64::MAX)
    }
}

/// The footprint of one storage item: `34 + |k| + |v|` octets (GP 0.7.2 §9.3).
fn storage_octets(key_len: usize, value_len: usize) -> u64 {
    34u64.saturating_add(key_len as u64).saturating_add(value_len as u64)
}

/// The footprint of one request: `81 + z` octets.
fn request_octets(length: u32) -> u64 {
    81 + u64::from(length)
}

/// A request entry whose value is not `↕[E_4(t)]`: only a state read from outside could hold one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a preimage request's value is not a sequence of time slots")]
pub struct MalformedRequest;

/// A value of an account's dictionaries. Values are replaced, never changed in place, so copies of
/// an account (a checkpoint, a snapshot of the state) share them rather than copy code blobs.
pub type EntryValue = Arc<[u8]>;

/// A service account: its fixed fields and the entries of its three dictionaries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAccount {
    pub info: ServiceInfo,
    /// Storage items, preimages and requests, by entry key. Request values are encoded
    /// `↕[E_4(t)]`, as in `T(σ)`.
    entries: BTreeMap<EntryKey, EntryValue>,
}

impl ServiceAccount {
    /// An account with `info` and empty dictionaries. The footprint in `info` is kept as given.
    pub fn new(info: ServiceInfo) -> Self {
        Self { info, entries: BTreeMap::new() }
    }

    /// Every entry, in entry-key order, as `T(σ)` holds them (request values encoded).
    pub fn entries(&self) -> impl ExactSizeIterator<Item = (&EntryKey, &[u8])> + '_ {
        self.entries.iter().map(|(k, v)| (k, &v[..]))
    }

    /// One entry by its entry key.
    pub fn entry(&self, key: &EntryKey) -> Option<&[u8]> {
        self.entries.get(key).map(|v| &v[..])
    }

    /// Sets an entry by its entry key without touching the footprint: for loading an account from
    /// serialized state, whose `C(255, s)` row already carries the footprint.
    pub fn insert_entry(&mut self, key: EntryKey, value: impl Into<EntryValue>) -> Option<EntryValue> {
        self.entries.insert(key, value.into())
    }

    /// Removes an entry by its entry key without touching the footprint.
    pub fn remove_entry(&mut self, key: &EntryKey) -> Option<EntryValue> {
        self.entries.remove(key)
    }

    /// `s[k]`.
    pub fn storage(&self, key: &[u8]) -> Option<&[u8]> {
        self.entry(&storage_entry(key))
    }

    /// `s[k] = v`, counting a new item or the change in size. Returns the previous value.
    pub fn set_storage(&mut self, key: &[u8], value: impl Into<EntryValue>) -> Option<EntryValue> {
        let value = value.into();
        let added = storage_octets(key.len(), value.len());
        let previous = self.entries.insert(storage_entry(key), value);
        match &previous {
            Some(old) => {
                self.info.bytes = self
                    .info
                    .bytes
                    .saturating_sub(storage_octets(key.len(), old.len()))
                    .saturating_add(added);
            }
            None => {
                self.info.items = self.info.items.saturating_add(1);
                self.info.bytes = self.info.bytes.saturating_add(added);
            }
        }
        previous
    }

    /// Removes `s[k]`, uncounting it. Returns the removed value.
    pub fn remove_storage(&mut self, key: &[u8]) -> Option<EntryValue> {
        let previous = self.entries.remove(&storage_entry(key));
        if let Some(old) = &previous {
            self.info.items = self.info.items.saturating_sub(1);
            self.info.bytes = self.info.bytes.saturating_sub(storage_octets(key.len(), old.len()));
        }
        previous
    }

    /// `p[h]`.
    pub fn preimage(&self, hash: &Hash) -> Option<&[u8]> {
        self.entry(&preimage_entry(hash))
    }

    /// `p[h] = blob`. Preimages are not part of the footprint (their requests are).
    pub fn set_preimage(&mut self, hash: &Hash, blob: impl Into<EntryValue>) -> Option<EntryValue> {
        self.entries.insert(preimage_entry(hash), blob.into())
    }

    /// Removes `p[h]`.
    pub fn remove_preimage(&mut self, hash: &Hash) -> Option<EntryValue> {
        self.entries.remove(&preimage_entry(hash))
    }

    /// `l[(h, z)]`: `None` when there is no such request.
    pub fn request(&self, hash: &Hash, length: u32) -> Option<Result<Vec<TimeSlot>, MalformedRequest>> {
        let value = self.entries.get(&request_entry(hash, length))?;
        Some(Vec::<TimeSlot>::decode_all(value).map_err(|_| MalformedRequest))
    }

    /// Whether `(h, z)` is a key of `l`.
    pub fn has_request(&self, hash: &Hash, length: u32) -> bool {
        self.entries.contains_key(&request_entry(hash, length))
    }

    /// `l[(h, z)] = slots`, counting a new request (two items, `81 + z` octets).
    pub fn set_request(&mut self, hash: &Hash, length: u32, slots: &[TimeSlot]) {
        let previous = self.entries.insert(request_entry(hash, length), slots.to_vec().encode().into());
        if previous.is_none() {
            self.info.items = self.info.items.saturating_add(2);
            self.info.bytes = self.info.bytes.saturating_add(request_octets(length));
        }
    }

    /// Removes `l[(h, z)]`, uncounting it. Returns whether it was there.
    pub fn remove_request(&mut self, hash: &Hash, length: u32) -> bool {
        let removed = self.entries.remove(&request_entry(hash, length)).is_some();
        if removed {
            self.info.items = self.info.items.saturating_sub(2);
            self.info.bytes = self.info.bytes.saturating_sub(request_octets(length));
        }
        removed
    }

    /// `a_t`, the threshold balance of the current footprint.
    pub fn threshold_balance(&self) -> Balance {
        self.info.threshold_balance()
    }

    /// `p[c]`: the code preimage `E(↕m, c)`, metadata and program together, if present.
    pub fn code_blob(&self) -> Option<&[u8]> {
        self.preimage(&self.info.code_hash)
    }

    /// [`ServiceAccount::code_blob`] as the shared value, for callers that keep it.
    pub fn code_value(&self) -> Option<&EntryValue> {
        self.entries.get(&preimage_entry(&self.info.code_hash))
    }

    /// `Λ(a, t, h)` (GP 0.7.2 eq. 9.7): the preimage of `h` if it was available at slot `t`.
    pub fn historical_lookup(&self, slot: TimeSlot, hash: &Hash) -> Option<&EntryValue> {
        let blob = self.entries.get(&preimage_entry(hash))?;
        let length = u32::try_from(blob.len()).ok()?;
        let slots = self.request(hash, length)?.ok()?;
        let available = match slots.as_slice() {
            [x] => *x <= slot,
            [x, y] => *x <= slot && slot < *y,
            [x, y, z] => (*x <= slot && slot < *y) || *z <= slot,
            _ => false,
        };
        available.then_some(blob)
    }
}
