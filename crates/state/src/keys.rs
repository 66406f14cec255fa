//! State keys: the constructor `C` of GP 0.7.2 §D.1 and the keys of a service's dictionaries.
//!
//! `T(σ)` maps 31-octet keys to values. Components sit under `C(i)`, a service's fixed fields under
//! `C(255, s)`, and every entry of its storage, preimages and preimage requests under `C(s, h)`,
//! which interleaves the four octets of `E_4(s)` with the first 27 octets of `blake2b(h)`:
//!
//! | dictionary | `h` |
//! |---|---|
//! | storage `s[k]` | `E_4(2^32 − 1) ⌢ k` |
//! | preimages `p[h]` | `E_4(2^32 − 2) ⌢ h` |
//! | requests `l[(h, z)]` | `E_4(z) ⌢ h` |
//!
//! The 27 hash octets do not depend on the service, so an account keeps its entries under them
//! ([`EntryKey`]) and the service's state key is put together only when the state is serialized
//! ([`service_entry_key`]). Neither the storage keys nor the kind of an entry can be recovered from
//! a state key, and nothing in the protocol needs them (the note closing GP 0.7.2 §D.1): an account
//! read back from serialized state holds its entries by these hashes alone.

use orrery_crypto::blake2b_256;
use orrery_types::{Hash, ServiceId};

/// A key of the serialized state `T(σ)`.
pub type StateKey = [u8; 31];

/// The part of `C(s, h)` that does not depend on the service: the first 27 octets of `blake2b(h)`.
pub type EntryKey = [u8; 27];

/// The `E_4` prefix of a storage entry's `h`.
const STORAGE_PREFIX: u32 = u32::MAX;
/// The `E_4` prefix of a preimage entry's `h`.
const PREIMAGE_PREFIX: u32 = u32::MAX - 1;

/// The chapter of the service accounts' fixed fields, `C(255, s)`.
pub const ACCOUNT_CHAPTER: u8 = 255;

/// `C(i)`: a state component's key.
pub fn component_key(index: u8) -> StateKey {
    let mut key = [0; 31];
    key[0] = index;
    key
}

/// `C(255, s)`: the key of service `s`'s fixed fields.
pub fn account_key(service: ServiceId) -> StateKey {
    let mut key = [0; 31];
    key[0] = ACCOUNT_CHAPTER;
    for (i, octet) in service.to_le_bytes().into_iter().enumerate() {
        key[1 + 2 * i] = octet;
    }
    key
}

/// The entry key of an arbitrary `h`: `blake2b(h)` cut to 27 octets.
pub fn entry_key(h: &[u8]) -> EntryKey {
    let hash = blake2b_256(h);
    let mut key = [0; 27];
    key.copy_from_slice(&hash[..27]);
    key
}

fn prefixed(prefix: u32, rest: &[u8]) -> EntryKey {
    let mut h = Vec::with_capacity(4 + rest.len());
    h.extend_from_slice(&prefix.to_le_bytes());
    h.extend_from_slice(rest);
    entry_key(&h)
}

/// The entry key of storage item `k`.
pub fn storage_entry(key: &[u8]) -> EntryKey {
    prefixed(STORAGE_PREFIX, key)
}

/// The entry key of the preimage of `hash`.
pub fn preimage_entry(hash: &Hash) -> EntryKey {
    prefixed(PREIMAGE_PREFIX, hash)
}

/// The entry key of the request for a preimage of `hash` that is `length` octets long.
pub fn request_entry(hash: &Hash, length: u32) -> EntryKey {
    prefixed(length, hash)
}

/// `C(s, h)` from the entry key of `h`: `E_4(s)` interleaved with its first four octets, then the
/// other 23.
pub fn service_entry_key(service: ServiceId, entry: &EntryKey) -> StateKey {
    let mut key = [0; 31];
    for (i, octet) in service.to_le_bytes().into_iter().enumerate() {
        key[2 * i] = octet;
        key[2 * i + 1] = entry[i];
    }
    key[8..].copy_from_slice(&entry[4..]);
    key
}

/// `C(s, E_4(2^32 − 1) ⌢ k)`: the state key of service `s`'s storage item `k`.
pub fn storage_key(service: ServiceId, key: &[u8]) -> StateKey {
    service_entry_key(service, &storage_entry(key))
}

/// `C(s, E_4(2^32 − 2) ⌢ h)`: the state key of service `s`'s preimage of `h`.
pub fn preimage_key(service: ServiceId, hash: &Hash) -> StateKey {
    service_entry_key(service, &preimage_entry(hash))
}

/// `C(s, E_4(z) ⌢ h)`: the state key of service `s`'s request for the `z`-octet preimage of `h`.
pub fn request_key(service: ServiceId, hash: &Hash, length: u32) -> StateKey {
    service_entry_key(service, &request_entry(hash, length))
}

/// What a state key addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// `C(i)`: a state component (`1..=16` in GP 0.7.2; other chapters are unknown ones).
    Component(u8),
    /// `C(255, s)`: a service's fixed fields.
    Account(ServiceId),
    /// `C(s, h)`: an entry of a service's storage, preimages or requests.
    Entry(ServiceId, EntryKey),
}

/// Which of the three forms of `C` built `key`. The forms cannot be told apart with certainty (an
/// entry's hash octets could by chance be those zeros), but a collision needs 184 chosen bits of a
/// blake2b output; the paper's own argument for unique keys relies on the same.
pub fn classify(key: &StateKey) -> KeyKind {
    let octet = |i: usize| key[i];
    let zero = |range: std::ops::Range<usize>| key[range].iter().all(|&b| b == 0);
    if key[0] == ACCOUNT_CHAPTER && octet(2) == 0 && octet(4) == 0 && octet(6) == 0 && zero(8..31) {
        return KeyKind::Account(u32::from_le_bytes([octet(1), octet(3), octet(5), octet(7)]));
    }
    if zero(1..31) {
        return KeyKind::Component(key[0]);
    }
    let service = u32::from_le_bytes([octet(0), octet(2), octet(4), octet(6)]);
    let mut entry = [0; 27];
    for i in 0..4 {
        entry[i] = key[2 * i + 1];
    }
    entry[4..].copy_from_slice(&key[8..]);
    KeyKind::Entry(service, entry)
}
