//! The root of sorted pairs computed level by level, so that every node of a level goes to the
//! vector hasher together, and (through [`Pairs`]) the nodes of a [`super::Trie`] built on the way.
//!
//! Large inputs are first cut where they split, recursively, into runs of a few thousand pairs:
//! a run's keys stay in cache while its levels are walked, and with the `parallel` feature the two
//! sides of each cut are hashed on separate threads.

use super::hash::{blake, hash_all};
use super::{bit, branch_node, embedded_leaf, first_difference, hashed_leaf, lift, Key, KEY_BITS};
use crate::{Hash, ZERO_HASH};

/// Runs at most this long are hashed level by level; longer ones are cut at their first split.
const RUN: usize = 1 << 13;

/// How many leaves are encoded and hashed together.
const LEAF_CHUNK: usize = 256;

/// Sorted, distinct pairs, and what node to make of each leaf and each split.
pub(crate) trait Pairs: Send + Sized {
    type Node: Send;
    fn len(&self) -> usize;
    fn key(&self, i: usize) -> &Key;
    fn value(&self, i: usize) -> &[u8];
    fn split_at(self, mid: usize) -> (Self, Self);
    /// The node of pair `i`; called once per pair, after every value has been hashed.
    fn leaf(&mut self, i: usize) -> Self::Node;
    /// The node of a split at bit `split` of keys sharing `key`'s earlier bits, given its
    /// children and their identities at depth `split + 1`.
    fn branch(split: usize, key: &Key, children: [Self::Node; 2], ids: [Hash; 2]) -> Self::Node;
}

/// Pairs whose root alone is wanted.
pub(crate) struct RootOnly<'a, V>(pub &'a [(Key, V)]);

impl<V: AsRef<[u8]> + Sync> Pairs for RootOnly<'_, V> {
    type Node = ();
    fn len(&self) -> usize {
        self.0.len()
    }
    fn key(&self, i: usize) -> &Key {
        &self.0[i].0
    }
    fn value(&self, i: usize) -> &[u8] {
        self.0[i].1.as_ref()
    }
    fn split_at(self, mid: usize) -> (Self, Self) {
        let (l, r) = self.0.split_at(mid);
        (RootOnly(l), RootOnly(r))
    }
    fn leaf(&mut self, _: usize) {}
    fn branch(_: usize, _: &Key, _: [(); 2], _: [Hash; 2]) {}
}

/// The identity at `depth` of non-empty, sorted, distinct pairs that agree on bits `..depth`,
/// with the node the pairs make of it.
pub(crate) fn subtrie<P: Pairs>(pairs: P, depth: usize) -> (Hash, P::Node) {
    if pairs.len() <= RUN {
        return levels(pairs, depth);
    }
    let n = pairs.len();
    let first = *pairs.key(0);
    // Distinct sorted keys: the first and last differ, first where the whole run splits.
    let split = first_difference(&first, pairs.key(n - 1)).unwrap_or(KEY_BITS - 1);
    let mid = partition(&pairs, 0, n, split);
    let (left, right) = pairs.split_at(mid);
    let ((l, left), (r, right)) = both(left, right, split + 1);
    let own = blake(&branch_node(&l, &r));
    (lift(own, &first, split, depth), P::branch(split, &first, [left, right], [l, r]))
}

#[cfg(feature = "parallel")]
fn both<P: Pairs>(left: P, right: P, depth: usize) -> ((Hash, P::Node), (Hash, P::Node)) {
    rayon::join(|| subtrie(left, depth), || subtrie(right, depth))
}

#[cfg(not(feature = "parallel"))]
fn both<P: Pairs>(left: P, right: P, depth: usize) -> ((Hash, P::Node), (Hash, P::Node)) {
    (subtrie(left, depth), subtrie(right, depth))
}

/// The first index in `lo..hi` whose key has a 1 at bit `b`; keys there are sorted and agree
/// before `b`.
fn partition<P: Pairs>(pairs: &P, mut lo: usize, mut hi: usize, b: usize) -> usize {
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if bit(pairs.key(mid), b) == 0 {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// The leaf identity of every pair, hashing values and then leaf nodes in batches.
fn leaf_ids<P: Pairs>(pairs: &P) -> Vec<Hash> {
    let n = pairs.len();
    let mut out = Vec::with_capacity(n);
    let mut value_hashes = Vec::with_capacity(LEAF_CHUNK);
    let mut nodes: Vec<[u8; 64]> = Vec::with_capacity(LEAF_CHUNK);
    for start in (0..n).step_by(LEAF_CHUNK) {
        let end = (start + LEAF_CHUNK).min(n);
        // Values live wherever their owner put them. Reading a byte of each up front issues the
        // chunk's cache misses together (the loads are independent) instead of one per hash.
        let touched = (start..end).fold(0u8, |acc, i| acc ^ pairs.value(i).first().copied().unwrap_or(0));
        std::hint::black_box(touched);
        value_hashes.clear();
        hash_all((start..end).map(|i| pairs.value(i)).filter(|v| v.len() > 32), &mut value_hashes);
        let mut value_hashes = value_hashes.iter();
        nodes.clear();
        for i in start..end {
            let (key, value) = (pairs.key(i), pairs.value(i));
            let hash = if value.len() > 32 { value_hashes.next() } else { None };
            nodes.push(match hash {
                Some(hash) => hashed_leaf(key, hash),
                None => embedded_leaf(key, value),
            });
        }
        hash_all(nodes.iter().map(|node| &node[..]), &mut out);
    }
    out
}

/// A branch of the paper's uncompressed trie: pairs `lo..hi` agree before this level's bit, and
/// those from `mid` have a 1 there.
#[derive(Clone, Copy)]
struct Span {
    lo: u32,
    mid: u32,
    hi: u32,
}

/// [`subtrie`] for a run short enough to walk level by level: first down, listing each level's
/// branches (one per bit, single-child ones included, as `M` has them), then up, hashing each
/// level's branch nodes in one batch.
fn levels<P: Pairs>(mut pairs: P, depth: usize) -> (Hash, P::Node) {
    let n = pairs.len();
    let leaves = leaf_ids(&pairs);
    if n == 1 {
        return (leaves[0], pairs.leaf(0));
    }
    let mut levels: Vec<Vec<Span>> = Vec::new();
    let mut current = vec![Span { lo: 0, mid: 0, hi: n as u32 }];
    let mut b = depth;
    // Distinct keys always split before the last bit; the bound only guards against misuse.
    while !current.is_empty() && b < KEY_BITS {
        let mut next = Vec::with_capacity(current.len() * 2);
        for span in &mut current {
            let (lo, hi) = (span.lo as usize, span.hi as usize);
            let mid = partition(&pairs, lo, hi, b);
            span.mid = mid as u32;
            if mid - lo >= 2 {
                next.push(Span { lo: span.lo, mid: 0, hi: span.mid });
            }
            if hi - mid >= 2 {
                next.push(Span { lo: span.mid, mid: 0, hi: span.hi });
            }
        }
        levels.push(current);
        current = next;
        b += 1;
    }

    let mut below: Vec<(Hash, Option<P::Node>)> = Vec::new();
    let mut nodes: Vec<[u8; 64]> = Vec::new();
    let mut hashes: Vec<Hash> = Vec::new();
    for (li, level) in levels.into_iter().enumerate().rev() {
        let b = depth + li;
        let mut from_below = below.into_iter();
        let mut made = Vec::with_capacity(level.len());
        nodes.clear();
        for span in level {
            let (lo, mid, hi) = (span.lo as usize, span.mid as usize, span.hi as usize);
            let (l, left) = side(&mut pairs, &leaves, &mut from_below, lo, mid);
            let (r, right) = side(&mut pairs, &leaves, &mut from_below, mid, hi);
            nodes.push(branch_node(&l, &r));
            made.push(match (left, right) {
                (Some(left), Some(right)) => Some(P::branch(b, pairs.key(lo), [left, right], [l, r])),
                // A single-child branch: the child's node stands for it, one bit further up.
                (left, right) => left.or(right),
            });
        }
        hashes.clear();
        hash_all(nodes.iter().map(|node| &node[..]), &mut hashes);
        below = hashes.iter().copied().zip(made).collect();
    }
    match below.pop() {
        Some((hash, Some(node))) => (hash, node),
        // Only reachable with duplicate keys, which every caller rejects first.
        _ => unreachable!("sorted distinct keys always make a root branch"),
    }
}

/// The identity and node of pairs `lo..hi` one level below: nothing, a leaf, or the next branch
/// of the level below, which lists them in the same order.
fn side<P: Pairs>(
    pairs: &mut P,
    leaves: &[Hash],
    from_below: &mut impl Iterator<Item = (Hash, Option<P::Node>)>,
    lo: usize,
    hi: usize,
) -> (Hash, Option<P::Node>) {
    match hi - lo {
        0 => (ZERO_HASH, None),
        1 => (leaves[lo], Some(pairs.leaf(lo))),
        _ => from_below.next().unwrap_or((ZERO_HASH, None)),
    }
}
