//! A persistent state trie that keeps its sub-trie identities between changes.
//!
//! The tree is a crit-bit (Patricia) tree: each branch records the bit at which its keys split and
//! one of its keys, which carries the bits every key below shares. A branch caches the identities
//! of its two children as sub-tries rooted just below its split bit, so after a batch of changes
//! only the branches on changed paths hash again. Nodes sit behind [`Arc`]s: cloning a [`Trie`] is
//! O(1), and the clones share every node (and every cached hash) that neither has changed since.

use std::sync::{Arc, OnceLock};

use super::batch::{self, Pairs};
use super::{bit, branch_hash, check_sorted, first_difference, leaf_hash, lift, Key, TrieError};
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
        check_sorted(&entries)?;
        Ok(Self::build(entries.into_iter().map(|(k, v)| (k, v.into())).collect()))
    }

    /// Builds from sorted, distinct pairs, hashing every node on the way.
    fn build(mut entries: Vec<(Key, Box<[u8]>)>) -> Self {
        if entries.is_empty() {
            return Self::new();
        }
        let len = entries.len();
        let (hash, root) = batch::subtrie(Build(&mut entries), 0);
        Trie { root: Some(root), len, hash: OnceLock::from(hash) }
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
        lookup(self.root.as_ref()?, key)
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
    ///
    /// When a key appears more than once, its last change is the one that holds. The batch is
    /// sorted and merged into the tree in one descent, so a path shared by many changes is
    /// walked (and copied, where a clone shares it) once.
    pub fn apply<V: Into<Box<[u8]>>>(&mut self, changes: impl IntoIterator<Item = (Key, Option<V>)>) {
        let mut changes: Vec<Change> = changes.into_iter().map(|(k, v)| (k, v.map(Into::into))).collect();
        if changes.is_empty() {
            return;
        }
        // Stable, so that of equal keys the last given stays last and is the one kept.
        changes.sort_by_key(|c| c.0);
        let mut kept: Vec<Change> = Vec::with_capacity(changes.len());
        for change in changes {
            match kept.last_mut() {
                Some(last) if last.0 == change.0 => *last = change,
                _ => kept.push(change),
            }
        }
        self.hash = OnceLock::new();
        let mut len = self.len as isize;
        self.root = merge(self.root.take(), &mut kept, &mut len);
        self.len = len as usize;
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

/// Sorted, distinct pairs becoming a [`Trie`]'s nodes; each value moves into its leaf.
struct Build<'a>(&'a mut [(Key, Box<[u8]>)]);

impl Pairs for Build<'_> {
    type Node = Node;
    fn len(&self) -> usize {
        self.0.len()
    }
    fn key(&self, i: usize) -> &Key {
        &self.0[i].0
    }
    fn value(&self, i: usize) -> &[u8] {
        &self.0[i].1
    }
    fn split_at(self, mid: usize) -> (Self, Self) {
        let (l, r) = self.0.split_at_mut(mid);
        (Build(l), Build(r))
    }
    fn leaf(&mut self, i: usize) -> Node {
        let (key, value) = &mut self.0[i];
        Node::leaf(*key, std::mem::take(value))
    }
    fn branch(split: usize, key: &Key, children: [Node; 2], ids: [Hash; 2]) -> Node {
        let [left, right] = ids;
        let branch = Branch {
            split: split as u8,
            key: *key,
            children,
            ids: [OnceLock::from(left), OnceLock::from(right)],
        };
        Node::Branch(Arc::new(branch))
    }
}

/// A change to one key: a new value, or `None` to remove it.
type Change = (Key, Option<Box<[u8]>>);

/// The value under `key` in a sub-trie.
fn lookup<'a>(mut node: &'a Node, key: &Key) -> Option<&'a [u8]> {
    loop {
        match node {
            Node::Leaf(leaf) => return (leaf.key == *key).then_some(&leaf.value[..]),
            Node::Branch(branch) => node = &branch.children[bit(key, usize::from(branch.split))],
        }
    }
}

/// How the first `bits` bits of `key` compare with those of `prefix`.
fn compare_prefix(key: &Key, prefix: &Key, bits: usize) -> std::cmp::Ordering {
    match first_difference(key, prefix) {
        Some(b) if b < bits => key.cmp(prefix),
        _ => std::cmp::Ordering::Equal,
    }
}

/// Merges sorted changes with distinct keys into a sub-trie, counting pairs added and removed
/// in `len`, and returns what is left of it.
fn merge(node: Option<Node>, changes: &mut [Change], len: &mut isize) -> Option<Node> {
    let branch = match node {
        Some(Node::Branch(branch)) if changes.len() > 1 => branch,
        // Nothing below to share a walk with: one change at a time.
        node => return merge_each(node, changes, len),
    };
    let split = usize::from(branch.split);
    // The changes that fall under this branch agree with its key before `split`; being sorted,
    // they form one run, with the rest (which fork off above the split) before and after it.
    let start = changes.partition_point(|(k, _)| compare_prefix(k, &branch.key, split).is_lt());
    let end = changes.partition_point(|(k, _)| !compare_prefix(k, &branch.key, split).is_gt());
    let (before, rest) = changes.split_at_mut(start);
    let (inside, after) = rest.split_at_mut(end - start);
    let node = if inside.is_empty() {
        Some(Node::Branch(branch))
    } else {
        let mid = inside.partition_point(|(k, _)| bit(k, split) == 0);
        let (left_changes, right_changes) = inside.split_at_mut(mid);
        let Branch { key, children: [left, right], ids: [left_id, right_id], .. } =
            Arc::unwrap_or_clone(branch);
        let (left_id, right_id) = (
            if left_changes.is_empty() { left_id } else { OnceLock::new() },
            if right_changes.is_empty() { right_id } else { OnceLock::new() },
        );
        let (mut left_len, mut right_len) = (0, 0);
        let (left, right) =
            merge_both((left, left_changes, &mut left_len), (right, right_changes, &mut right_len), split);
        *len += left_len + right_len;
        match (left, right) {
            (Some(left), Some(right)) => Some(Node::Branch(Arc::new(Branch {
                split: split as u8,
                key,
                children: [left, right],
                ids: [left_id, right_id],
            }))),
            // One side emptied: the other takes the branch's place.
            (left, right) => left.or(right),
        }
    };
    let node = merge_each(node, before, len);
    merge_each(node, after, len)
}

type Side<'a> = (Node, &'a mut [Change], &'a mut isize);

#[cfg(feature = "parallel")]
fn merge_both(left: Side<'_>, right: Side<'_>, split: usize) -> (Option<Node>, Option<Node>) {
    // Two threads pay only near the top, with enough changes on both sides.
    if split < 4 && left.1.len().min(right.1.len()) >= 512 {
        rayon::join(|| merge(Some(left.0), left.1, left.2), || merge(Some(right.0), right.1, right.2))
    } else {
        (merge(Some(left.0), left.1, left.2), merge(Some(right.0), right.1, right.2))
    }
}

#[cfg(not(feature = "parallel"))]
fn merge_both(left: Side<'_>, right: Side<'_>, _split: usize) -> (Option<Node>, Option<Node>) {
    (merge(Some(left.0), left.1, left.2), merge(Some(right.0), right.1, right.2))
}

/// Applies changes one by one.
fn merge_each(mut node: Option<Node>, changes: &mut [Change], len: &mut isize) -> Option<Node> {
    for (key, change) in changes.iter_mut() {
        match (change.take(), node.as_mut()) {
            (Some(value), None) => {
                node = Some(Node::leaf(*key, value));
                *len += 1;
            }
            (Some(value), Some(existing)) => {
                if insert(existing, *key, value).is_none() {
                    *len += 1;
                }
            }
            (None, Some(existing)) if lookup(existing, key).is_some() => {
                node = node.and_then(|n| remove(n, key).0);
                *len -= 1;
            }
            (None, _) => {}
        }
    }
    node
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
        Self::build(deduped)
    }
}
