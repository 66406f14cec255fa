//! The unfinalized block tree and the best-chain rule (GP 0.7.2 §19).
//!
//! The tree holds the last final block and every imported block above it. Each block carries what
//! the rule needs: its height above the genesis (counted locally), how many of its ancestors (itself
//! included) were sealed by a ticket rather than a fallback key, whether an equivocation was seen at
//! its slot by its author, and when this node first saw it.
//!
//! The best block (§19): a descendant of the final block (or the final block itself) none of whose
//! unfinalized ancestors (itself included) is part of an observed equivocation or was disregarded
//! for carrying a report judged invalid ([`Tree::disregard`], §17.3), and, among those, the one with
//! the most ticket-sealed ancestors. The paper's third condition, that the block is audited (§17),
//! gates GRANDPA's votes rather than authoring (the node's `auditor` module says why). Ties, which are the rule in an epoch sealed by fallback keys where no block
//! has a ticket-sealed ancestor, go to the higher block, then to the one seen first, then to the
//! lowest hash, so the choice is deterministic and sticky.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use orrery_types::{HeaderHash, TimeSlot};

/// What the tree knows of one block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockInfo {
    pub slot: TimeSlot,
    pub parent: HeaderHash,
    /// `H_i`.
    pub author: u16,
    /// Blocks from the tree's first block (the final block when the node started) to this one.
    pub height: u64,
    /// Whether `γ'_S` of its posterior state is a ticket series (GP eqs. 6.15–6.16).
    pub ticket_sealed: bool,
    /// Ticket-sealed blocks among its ancestors, itself included, counted from the tree's root.
    pub tickets: u64,
    /// Another valid block by the same author at the same slot was seen.
    pub equivocation: bool,
    /// The order in which this node saw the block.
    pub seen: u64,
}

/// The tree above (and including) the final block.
#[derive(Debug, Default)]
pub struct Tree {
    blocks: BTreeMap<HeaderHash, BlockInfo>,
    children: BTreeMap<HeaderHash, Vec<HeaderHash>>,
    finalized: HeaderHash,
    seen: u64,
    /// Blocks excluded with their descendants (a report judged invalid).
    disregarded: std::collections::BTreeSet<HeaderHash>,
}

impl Tree {
    /// A tree of one final block.
    pub fn new(root: HeaderHash, info: BlockInfo) -> Self {
        let mut tree = Self { finalized: root, ..Self::default() };
        tree.blocks.insert(root, BlockInfo { seen: 0, ..info });
        tree.seen = 1;
        tree
    }

    pub fn finalized(&self) -> HeaderHash {
        self.finalized
    }

    pub fn get(&self, hash: &HeaderHash) -> Option<&BlockInfo> {
        self.blocks.get(hash)
    }

    pub fn contains(&self, hash: &HeaderHash) -> bool {
        self.blocks.contains_key(hash)
    }

    pub fn len(&self) -> usize {
        self.blocks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    /// Adds a block whose parent is in the tree; its height and ticket count follow from the
    /// parent's. Returns the stored info.
    pub fn insert(
        &mut self,
        hash: HeaderHash,
        slot: TimeSlot,
        parent: HeaderHash,
        author: u16,
        ticket_sealed: bool,
    ) -> Option<BlockInfo> {
        let p = *self.blocks.get(&parent)?;
        let info = BlockInfo {
            slot,
            parent,
            author,
            height: p.height + 1,
            ticket_sealed,
            tickets: p.tickets + u64::from(ticket_sealed),
            equivocation: false,
            seen: self.seen,
        };
        self.seen += 1;
        self.blocks.insert(hash, info);
        self.children.entry(parent).or_default().push(hash);
        Some(info)
    }

    /// Marks a block as one side of an equivocation.
    pub fn mark_equivocation(&mut self, hash: &HeaderHash) {
        if let Some(info) = self.blocks.get_mut(hash) {
            info.equivocation = true;
        }
    }

    /// The blocks with no child, ascending by hash.
    pub fn leaves(&self) -> Vec<HeaderHash> {
        self.blocks.keys().filter(|h| self.children.get(*h).is_none_or(Vec::is_empty)).copied().collect()
    }

    /// The children of a block, in the order they were added.
    pub fn children(&self, hash: &HeaderHash) -> &[HeaderHash] {
        self.children.get(hash).map_or(&[], Vec::as_slice)
    }

    /// Whether `ancestor` is `hash` or one of its ancestors in the tree.
    pub fn descends(&self, hash: &HeaderHash, ancestor: &HeaderHash) -> bool {
        let Some(target) = self.blocks.get(ancestor) else { return false };
        let mut at = *hash;
        loop {
            if at == *ancestor {
                return true;
            }
            match self.blocks.get(&at) {
                Some(info) if info.slot > target.slot => at = info.parent,
                _ => return false,
            }
        }
    }

    /// The path from `hash` down to `base` (excluded), newest first; `None` if `hash` does not
    /// descend from `base` within the tree.
    pub fn path(&self, base: &HeaderHash, hash: &HeaderHash) -> Option<Vec<HeaderHash>> {
        let base_slot = self.blocks.get(base)?.slot;
        let mut out = Vec::new();
        let mut at = *hash;
        while at != *base {
            let info = self.blocks.get(&at)?;
            if info.slot <= base_slot {
                return None;
            }
            out.push(at);
            at = info.parent;
        }
        Some(out)
    }

    /// Excludes `hash` and its descendants from the best chain: it carries a report that more
    /// than a third of the validators judged invalid (GP 0.7.2 §17.3).
    pub fn disregard(&mut self, hash: &HeaderHash) {
        if *hash != self.finalized {
            self.disregarded.insert(*hash);
        }
    }

    /// The best block among `base` and its descendants (§19, see the module doc); `None` when
    /// `base` is not in the tree. `base` itself is always eligible (it is final or on the way to
    /// it), so the answer is `base` when every descendant is excluded.
    pub fn best_from(&self, base: &HeaderHash) -> Option<HeaderHash> {
        let root = self.blocks.get(base)?;
        let key = |hash: &HeaderHash, info: &BlockInfo| {
            (info.tickets, info.height, Reverse(info.seen), Reverse(*hash))
        };
        let mut best = (key(base, root), *base);
        // Depth first over the blocks that are not excluded; an excluded block excludes its subtree.
        let mut stack: Vec<HeaderHash> = self.children(base).to_vec();
        while let Some(hash) = stack.pop() {
            let info = &self.blocks[&hash];
            if (info.equivocation || self.disregarded.contains(&hash)) && hash != self.finalized {
                continue;
            }
            let k = key(&hash, info);
            if k > best.0 {
                best = (k, hash);
            }
            stack.extend_from_slice(self.children(&hash));
        }
        Some(best.1)
    }

    /// The best block of the whole tree.
    pub fn best(&self) -> HeaderHash {
        self.best_from(&self.finalized).unwrap_or(self.finalized)
    }

    /// Makes `target` the final block: drops every block that does not descend from it. Returns
    /// the dropped hashes.
    pub fn finalize(&mut self, target: &HeaderHash) -> Vec<HeaderHash> {
        if !self.blocks.contains_key(target) {
            return Vec::new();
        }
        let mut keep = BTreeMap::new();
        let mut stack = vec![*target];
        while let Some(hash) = stack.pop() {
            if let Some(info) = self.blocks.get(&hash) {
                keep.insert(hash, *info);
                stack.extend_from_slice(self.children(&hash));
            }
        }
        let dropped: Vec<HeaderHash> =
            self.blocks.keys().filter(|h| !keep.contains_key(*h)).copied().collect();
        for hash in &dropped {
            self.children.remove(hash);
            self.disregarded.remove(hash);
        }
        self.blocks = keep;
        self.finalized = *target;
        dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(n: u8) -> HeaderHash {
        [n; 32]
    }

    fn root() -> Tree {
        let info = BlockInfo {
            slot: 0,
            parent: [0; 32],
            author: 0,
            height: 0,
            ticket_sealed: false,
            tickets: 0,
            equivocation: false,
            seen: 0,
        };
        Tree::new(h(1), info)
    }

    #[test]
    fn most_ticket_sealed_ancestors_wins_over_height() {
        let mut t = root();
        // Fork A: three fallback blocks. Fork B: two blocks, one ticket-sealed.
        t.insert(h(2), 1, h(1), 0, false);
        t.insert(h(3), 2, h(2), 1, false);
        t.insert(h(4), 3, h(3), 2, false);
        assert_eq!(t.best(), h(4));
        t.insert(h(5), 2, h(2), 3, true);
        assert_eq!(t.best(), h(5));
    }

    #[test]
    fn ties_go_to_height_then_first_seen() {
        let mut t = root();
        t.insert(h(9), 1, h(1), 0, false);
        t.insert(h(3), 1, h(1), 1, false);
        // Same tickets, same height: the first seen, though its hash is higher.
        assert_eq!(t.best(), h(9));
        t.insert(h(4), 2, h(3), 2, false);
        assert_eq!(t.best(), h(4));
    }

    #[test]
    fn an_equivocation_excludes_the_subtree() {
        let mut t = root();
        t.insert(h(2), 1, h(1), 0, false);
        t.insert(h(3), 2, h(2), 1, false);
        t.insert(h(4), 1, h(1), 5, false);
        assert_eq!(t.best(), h(3));
        t.mark_equivocation(&h(2));
        assert_eq!(t.best(), h(4));
        t.mark_equivocation(&h(4));
        assert_eq!(t.best(), h(1));
    }

    #[test]
    fn finality_prunes_the_other_forks() {
        let mut t = root();
        t.insert(h(2), 1, h(1), 0, false);
        t.insert(h(3), 2, h(2), 1, false);
        t.insert(h(4), 1, h(1), 5, false);
        let mut dropped = t.finalize(&h(2));
        dropped.sort();
        assert_eq!(dropped, vec![h(1), h(4)]);
        assert_eq!(t.len(), 2);
        assert_eq!(t.path(&h(2), &h(3)), Some(vec![h(3)]));
        assert!(t.descends(&h(3), &h(2)));
        assert!(!t.descends(&h(2), &h(3)));
    }
}
