//! The state trie (GP 0.7.2 Appendix D.2): the binary Patricia Merkle trie over 31-byte state keys,
//! with 64-byte nodes hashed by blake2b-256.
//!
//! Two ways to the same root: [`root`] / [`root_of_sorted`] compute it once from a set of pairs, and
//! [`Trie`] keeps a persistent tree with cached sub-trie identities so that a batch of changes costs
//! only the paths it touches.
//!
//! Where every key of a sub-trie agrees on the next bits, `M` stacks one branch node per shared bit
//! with the zero hash on the empty side. Both ways hash those nodes, as they must, but [`Trie`]
//! stores only the branches where keys actually part (a crit-bit tree) and hashes the single-child
//! chain between two of them when it needs the upper one's identity.
//!
//! Speed: sorted input is hashed level by level, each level's nodes together through the vector
//! blake2b (`blake2b_simd`'s `hash_many`, four lanes with AVX2), in cache-sized runs; with the
//! default `parallel` feature the runs spread over rayon's threads. A [`Trie`] built from pairs
//! gets its cached identities from the same pass. See `docs/performance/merkle.md`.

mod batch;
mod hash;
mod incremental;

use hash::blake;

pub use incremental::{Iter, Trie};

use crate::{Hash, ZERO_HASH};

/// A state key: the 31 octets `C` builds (GP eq. D.1). Keys written with 32 bytes (as the vectors'
/// `trie.json` does) use their first 31.
pub type Key = [u8; 31];

/// The number of bits in a key: the trie is never deeper than this.
pub const KEY_BITS: usize = 31 * 8;

/// Why a set of pairs has no root.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrieError {
    #[error("key {} appears twice", hex(.0))]
    DuplicateKey(Key),
    #[error("keys are not in ascending order at entry {0}")]
    Unsorted(usize),
}

fn hex(key: &Key) -> String {
    key.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bit `i` of a key, most significant first (`bits` in GP §3.8).
#[inline]
pub(crate) fn bit(key: &Key, i: usize) -> usize {
    usize::from((key[i >> 3] >> (7 - (i & 7))) & 1)
}

/// The first bit where two keys differ, or `None` when they are equal.
#[inline]
pub(crate) fn first_difference(a: &Key, b: &Key) -> Option<usize> {
    let i = a.iter().zip(b).position(|(x, y)| x != y)?;
    Some(i * 8 + (a[i] ^ b[i]).leading_zeros() as usize)
}

/// `L(k, v)` (GP eq. D.4): an embedded-value leaf for values up to 32 bytes, else a leaf holding
/// the value's hash.
pub fn leaf_node(key: &Key, value: &[u8]) -> [u8; 64] {
    if value.len() <= 32 {
        embedded_leaf(key, value)
    } else {
        hashed_leaf(key, &blake(value))
    }
}

/// An embedded-value leaf; `value` is at most 32 bytes.
#[inline]
pub(crate) fn embedded_leaf(key: &Key, value: &[u8]) -> [u8; 64] {
    debug_assert!(value.len() <= 32);
    let mut node = [0u8; 64];
    // The length's low six bits after the `1, 0` marker; a length of at most 32 needs no more.
    node[0] = 0b1000_0000 | value.len() as u8;
    node[1..32].copy_from_slice(key);
    node[32..32 + value.len()].copy_from_slice(value);
    node
}

/// A regular leaf, given the hash of its value.
#[inline]
pub(crate) fn hashed_leaf(key: &Key, value_hash: &Hash) -> [u8; 64] {
    let mut node = [0u8; 64];
    node[0] = 0b1100_0000;
    node[1..32].copy_from_slice(key);
    node[32..].copy_from_slice(value_hash);
    node
}

/// `B(l, r)` (GP eq. D.3): a `0` marker bit, the left identity without its first bit, the right.
pub fn branch_node(left: &Hash, right: &Hash) -> [u8; 64] {
    let mut node = [0u8; 64];
    node[..32].copy_from_slice(left);
    node[0] &= 0x7f;
    node[32..].copy_from_slice(right);
    node
}

#[inline]
pub(crate) fn leaf_hash(key: &Key, value: &[u8]) -> Hash {
    blake(&leaf_node(key, value))
}

#[inline]
pub(crate) fn branch_hash(left: &Hash, right: &Hash) -> Hash {
    blake(&branch_node(left, right))
}

/// The identity at depth `depth` of a sub-trie whose keys all agree with `key` on bits `..split`
/// and whose branch at `split` hashes to `hash`: one single-child branch per bit in between,
/// bottom up, with the zero hash on the side no key takes.
pub(crate) fn lift(mut hash: Hash, key: &Key, split: usize, depth: usize) -> Hash {
    for b in (depth..split).rev() {
        hash = if bit(key, b) == 0 { branch_hash(&hash, &ZERO_HASH) } else { branch_hash(&ZERO_HASH, &hash) };
    }
    hash
}

/// The state root `M` (GP eq. D.5) of pairs sorted by key with no key twice.
pub fn root_of_sorted<V: AsRef<[u8]> + Sync>(entries: &[(Key, V)]) -> Result<Hash, TrieError> {
    check_sorted(entries)?;
    if entries.is_empty() {
        return Ok(ZERO_HASH);
    }
    Ok(batch::subtrie(batch::RootOnly(entries), 0).0)
}

/// Keys strictly ascending: sorted, and none twice.
pub(crate) fn check_sorted<V>(entries: &[(Key, V)]) -> Result<(), TrieError> {
    for (i, pair) in entries.windows(2).enumerate() {
        match pair[0].0.cmp(&pair[1].0) {
            std::cmp::Ordering::Less => {}
            std::cmp::Ordering::Equal => return Err(TrieError::DuplicateKey(pair[0].0)),
            std::cmp::Ordering::Greater => return Err(TrieError::Unsorted(i + 1)),
        }
    }
    Ok(())
}

/// The state root `M` (GP eq. D.5) of a set of pairs in any order; a key given twice is an error,
/// since the state is a mapping.
pub fn root<K, V, I>(entries: I) -> Result<Hash, TrieError>
where
    K: std::borrow::Borrow<Key>,
    V: AsRef<[u8]> + Sync,
    I: IntoIterator<Item = (K, V)>,
{
    let mut sorted: Vec<(Key, V)> = entries.into_iter().map(|(k, v)| (*k.borrow(), v)).collect();
    sorted.sort_unstable_by_key(|e| e.0);
    root_of_sorted(&sorted)
}

#[cfg(test)]
mod tests;
