//! A persistent state trie that keeps its sub-trie identities between changes.
//!
//! The tree is a crit-bit (Patricia) tree: each branch records the bit at which its keys split and
//! one of its keys, which carries the bits every key below shares. A branch caches the identities
//! of its two children as sub-tries rooted just below its split bit, so after a batch of changes
//! only the branches on changed paths hash again. Nodes sit behind [`Arc`]s: cloning a [`Trie`] is
//! O(1), and the clones share every node (and every cached hash) that neither has changed since.

use std::sync::{Arc, OnceLock};

use super::{bit, branch_hash, first_difference, leaf_hash, lift, Key, TrieError};
use crate::{Hash, ZERO_HASH};

/// A set of state pairs with its root kept up to date cheaply (GP 0.7.2 Appendix D).
#[derive(Debug, Clone, Default)]
pub struct Trie {
    root: Option<Node>,
    len: usize,
    hash: OnceLock<Hash>,
}

#[derive(Debug, Clone)]
enum Node {
    Leaf(Arc<Leaf>),
    Branch(Arc<Branch>),
}

#[derive(Debug, Clone)]
struct Leaf {
    key: Key,
    value: Box<[u8]>,
}

#[derive(Debug, Clone)]
struct Branch {
    /// The first bit on which the keys below differ; keys with a 0 there are on the left.
    split: u8,
    /// A key below this branch: its bits before `split` are those of every key below.
    key: Key,
    children: [Node; 2],
    /// Each child's identity as a sub-trie rooted at depth `split + 1`, once computed.
    ids: [OnceLock<Hash>; 2],
}

impl Node {
    fn leaf(key: Key, value: Box<[u8]>) -> Self {
        Node::Leaf(Arc::new(Leaf { key, value }))
    }

    /// The identity of this node's sub-trie when rooted at `depth`, at most its split bit.
    fn id(&self, depth: usize) -> Hash {
        match self {
            // A lone pair is its leaf at any depth.
            Node::Leaf(leaf) => leaf_hash(&leaf.key, &leaf.value),
            Node::Branch(branch) => {
                let split = usize::from(branch.split);
                lift(branch.own_hash(), &branch.key, split, depth)
            }
        }
    }

    /// A branch at `split` over this node and a new leaf that first differs from it there.
    fn split_with(self, split: usize, key: Key, value: Box<[u8]>) -> Node {
        let leaf = Node::leaf(key, value);
        let children = if bit(&key, split) == 0 { [leaf, self] } else { [self, leaf] };
        Node::Branch(Arc::new(Branch::new(split, key, children)))
    }
}

impl Branch {
    fn new(split: usize, key: Key, children: [Node; 2]) -> Self {
        debug_assert!(split < super::KEY_BITS);
        Branch { split: split as u8, key, children, ids: [OnceLock::new(), OnceLock::new()] }
    }

    fn child_id(&self, side: usize) -> Hash {
        *self.ids[side].get_or_init(|| self.children[side].id(usize::from(self.split) + 1))
    }

    /// The hash of this branch's node at its own split depth.
    fn own_hash(&self) -> Hash {
        let (left, right) = self.both_ids();
        branch_hash(&left, &right)
    }

    #[cfg(feature = "parallel")]
    fn both_ids(&self) -> (Hash, Hash) {
        // Only the top few levels are worth a second thread, and only when both sides need work.
        if self.split < 4 && self.ids[0].get().is_none() && self.ids[1].get().is_none() {
            rayon::join(|| self.child_id(0), || self.child_id(1))
        } else {
            (self.child_id(0), self.child_id(1))
        }
    }

    #[cfg(not(feature = "parallel"))]
    fn both_ids(&self) -> (Hash, Hash) {
        (self.child_id(0), self.child_id(1))
    }
}

impl Trie {
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds the trie from pairs sorted by key with no key twice, in linear time.
    pub fn from_sorted<V: Into<Box<[u8]>>>(entries: Vec<(Key, V)>) -> Result<Self, TrieError> {
        for (i, pair) in entries.windows(2).enumerate() {
            match pair[0].0.cmp(&pair[1].0) {
                std::cmp::Ordering::Less => {}
                std::cmp::Ordering::Equal => return Err(TrieError::DuplicateKey(pair[0].0)),
                std::cmp::Ordering::Greater => return Err(TrieError::Unsorted(i + 1)),
            }
        }
        let mut entries: Vec<(Key, Box<[u8]>)> = entries.into_iter().map(|(k, v)| (k, v.into())).collect();
        Ok(Trie { root: build(&mut entries), len: entries.len(), hash: OnceLock::new() })
    }

    /// The number of pairs.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The value under `key`.
    pub fn get(&self, key: &Key) -> Option<&[u8]> {
        let mut node = self.root.as_ref()?;
        loop {
            match node {
                Node::Leaf(leaf) => return (leaf.key == *key).then_some(&leaf.value[..]),
                Node::Branch(branch) => node = &branch.children[bit(key, usize::from(branch.split))],
            }
        }
    }

    pub fn contains_key(&self, key: &Key) -> bool {
        self.get(key).is_some()
    }

    /// Sets `key` to `value`, returning the value it replaces.
    pub fn insert(&mut self, key: Key, value: impl Into<Box<[u8]>>) -> Option<Box<[u8]>> {
        self.hash = OnceLock::new();
        let value = value.into();
        let Some(root) = self.root.as_mut() else {
            self.root = Some(Node::leaf(key, value));
            self.len = 1;
            return None;
        };
        let old = insert(root, key, value);
        if old.is_none() {
            self.len += 1;
        }
        old
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &Key) -> Option<Box<[u8]>> {
        if !self.contains_key(key) {
            return None;
        }
        self.hash = OnceLock::new();
        self.len -= 1;
        let root = self.root.take()?;
        let (rest, value) = remove(root, key);
        self.root = rest;
        Some(value)
    }

    /// Applies a batch of changes: `Some(value)` sets a key, `None` removes it.
    pub fn apply<V: Into<Box<[u8]>>>(&mut self, changes: impl IntoIterator<Item = (Key, Option<V>)>) {
        for (key, change) in changes {
            match change {
                Some(value) => {
                    self.insert(key, value);
                }
                None => {
                    self.remove(&key);
                }
            }
        }
    }

    /// The state root `M` (GP eq. D.5), hashing only what changed since it was last asked for.
    pub fn root(&self) -> Hash {
        *self.hash.get_or_init(|| self.root.as_ref().map_or(ZERO_HASH, |node| node.id(0)))
    }

    /// The pairs in key order.
    pub fn iter(&self) -> Iter<'_> {
        Iter { stack: self.root.iter().collect() }
    }
}

/// Builds the sub-trie of sorted, distinct pairs, moving each value out of its slot once.
fn build(items: &mut [(Key, Box<[u8]>)]) -> Option<Node> {
    match items {
        [] => None,
        [(key, value)] => Some(Node::leaf(*key, std::mem::take(value))),
        [(first, _), .., (last, _)] => {
            let first = *first;
            let split = first_difference(&first, last)?;
            let mid = items.partition_point(|(k, _)| bit(k, split) == 0);
            let (left, right) = items.split_at_mut(mid);
            let (left, right) = build_both(left, right);
            Some(Node::Branch(Arc::new(Branch::new(split, first, [left?, right?]))))
        }
    }
}

#[cfg(feature = "parallel")]
fn build_both(left: &mut [(Key, Box<[u8]>)], right: &mut [(Key, Box<[u8]>)]) -> (Option<Node>, Option<Node>) {
    if left.len().min(right.len()) >= super::PARALLEL_MIN {
        rayon::join(|| build(left), || build(right))
    } else {
        (build(left), build(right))
    }
}

#[cfg(not(feature = "parallel"))]
fn build_both(left: &mut [(Key, Box<[u8]>)], right: &mut [(Key, Box<[u8]>)]) -> (Option<Node>, Option<Node>) {
    (build(left), build(right))
}

fn insert(node: &mut Node, key: Key, value: Box<[u8]>) -> Option<Box<[u8]>> {
    match node {
        Node::Leaf(leaf) => match first_difference(&leaf.key, &key) {
            None => {
                // A fresh leaf rather than `make_mut`, which would copy a shared leaf's old value.
                let old = std::mem::replace(leaf, Arc::new(Leaf { key, value }));
                Some(Arc::unwrap_or_clone(old).value)
            }
            Some(split) => {
                let old = node.clone();
                *node = old.split_with(split, key, value);
                None
            }
        },
        Node::Branch(branch) => {
            let split = usize::from(branch.split);
            match first_difference(&branch.key, &key) {
                Some(diff) if diff < split => {
                    let old = node.clone();
                    *node = old.split_with(diff, key, value);
                    None
                }
                _ => {
                    let side = bit(&key, split);
                    let branch = Arc::make_mut(branch);
                    branch.ids[side] = OnceLock::new();
                    insert(&mut branch.children[side], key, value)
                }
            }
        }
    }
}

/// Removes `key`, which must be present, returning what is left of the sub-trie and the value.
fn remove(node: Node, key: &Key) -> (Option<Node>, Box<[u8]>) {
    match node {
        Node::Leaf(leaf) => {
            let leaf = Arc::unwrap_or_clone(leaf);
            (None, leaf.value)
        }
        Node::Branch(branch) => {
            let side = bit(key, usize::from(branch.split));
            let mut branch = Arc::unwrap_or_clone(branch);
            let [left, right] = branch.children;
            let (child, other) = if side == 0 { (left, right) } else { (right, left) };
            let (rest, value) = remove(child, key);
            let Some(rest) = rest else {
                // The branch is left with one child, which takes its place at a shallower depth.
                return (Some(other), value);
            };
            branch.children = if side == 0 { [rest, other] } else { [other, rest] };
            branch.ids[side] = OnceLock::new();
            (Some(Node::Branch(Arc::new(branch))), value)
        }
    }
}

/// The pairs of a [`Trie`] in key order.
#[derive(Debug)]
pub struct Iter<'a> {
    stack: Vec<&'a Node>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a Key, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.stack.pop()? {
                Node::Leaf(leaf) => return Some((&leaf.key, &leaf.value)),
                Node::Branch(branch) => {
                    self.stack.push(&branch.children[1]);
                    self.stack.push(&branch.children[0]);
                }
            }
        }
    }
}

impl<'a> IntoIterator for &'a Trie {
    type Item = (&'a Key, &'a [u8]);
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl<V: Into<Box<[u8]>>> FromIterator<(Key, V)> for Trie {
    /// Collects pairs in any order; a later pair for the same key replaces an earlier one.
    fn from_iter<I: IntoIterator<Item = (Key, V)>>(iter: I) -> Self {
        let mut entries: Vec<(Key, Box<[u8]>)> = iter.into_iter().map(|(k, v)| (k, v.into())).collect();
        // Stable, so that among equal keys the last stays last and dedup keeps it.
        entries.sort_by_key(|e| e.0);
        let mut deduped: Vec<(Key, Box<[u8]>)> = Vec::with_capacity(entries.len());
        for (key, value) in entries {
            match deduped.last_mut() {
                Some(last) if last.0 == key => last.1 = value,
                _ => deduped.push((key, value)),
            }
        }
        Trie { root: build(&mut deduped), len: deduped.len(), hash: OnceLock::new() }
    }
}
