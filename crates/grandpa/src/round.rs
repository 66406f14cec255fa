//! One round's votes and the GRANDPA paper's functions of them (Stewart & Kokoris-Kogia 2020,
//! §3.2–3.3): the prevote-GHOST `g(V)`, the estimate `E`, completability and the precommit-GHOST
//! `g(C)`.
//!
//! Weights are kept per block of the round's vote graph: the blocks from the round's base (a final
//! block) to every vote's target. A voter's vote counts for its target and every ancestor down to
//! the base. An equivocator (two different votes of one kind in the round) counts for every block,
//! as the paper's "S has a supermajority for B" does, so its first vote is taken out of the graph
//! and it is counted once in `equivocators`.

use std::collections::HashMap;

use orrery_types::{Ed25519Signature, HeaderHash};

use crate::{BlockTree, Target, VoterIndex};

/// A block of the vote graph: its slot, its parent inside the graph (`None`: the base), and how many
/// non-equivocating voters voted for it or a descendant.
#[derive(Debug, Clone)]
struct Node {
    slot: u32,
    parent: Option<HeaderHash>,
    weight: u32,
}

/// One voter's votes of one kind in one round.
#[derive(Debug, Clone)]
pub(crate) enum Cast {
    /// One vote; `counted` when it is the base or a descendant, so it weighs in the graph. (The
    /// path is not kept: on a long unfinalized chain that would be V times its length.)
    Single { target: Target, signature: Ed25519Signature, counted: bool },
    /// Two different votes: the equivocation the paper lets count for every block.
    Equivocated { first: (Target, Ed25519Signature), second: (Target, Ed25519Signature) },
}

/// What adding a vote did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Added {
    New,
    Duplicate,
    /// The voter's earlier, different vote of this kind.
    Equivocation(Target),
    /// A third vote from an equivocator: nothing more to learn from it.
    Ignored,
}

/// The votes of one kind (prevotes or precommits) in a round, with the graph of their weights.
#[derive(Debug, Clone)]
pub(crate) struct Tally {
    base: Target,
    nodes: HashMap<HeaderHash, Node>,
    /// Non-equivocating voters whose vote is the base or a descendant.
    base_weight: u32,
    pub(crate) casts: HashMap<VoterIndex, Cast>,
    pub(crate) equivocators: u32,
}

impl Tally {
    fn new(base: Target) -> Self {
        Self { base, nodes: HashMap::new(), base_weight: 0, casts: HashMap::new(), equivocators: 0 }
    }

    /// Voters that cast any vote of this kind.
    pub(crate) fn voters(&self) -> u32 {
        self.casts.len() as u32
    }

    /// Whether exactly this vote is already counted (a resend), so it needs no second check.
    pub(crate) fn has(&self, voter: VoterIndex, target: &Target, signature: &Ed25519Signature) -> bool {
        match self.casts.get(&voter) {
            Some(Cast::Single { target: t, signature: s, .. }) => t == target && s == signature,
            Some(Cast::Equivocated { first, second }) => {
                (first.0 == *target && first.1 == *signature)
                    || (second.0 == *target && second.1 == *signature)
            }
            None => false,
        }
    }

    pub(crate) fn add(
        &mut self,
        voter: VoterIndex,
        target: Target,
        signature: Ed25519Signature,
        tree: &dyn BlockTree,
    ) -> Added {
        match self.casts.get(&voter) {
            Some(Cast::Single { target: old, .. }) if *old == target => return Added::Duplicate,
            Some(Cast::Equivocated { first, second }) => {
                return if first.0 == target || second.0 == target {
                    Added::Duplicate
                } else {
                    Added::Ignored
                };
            }
            _ => {}
        }
        if let Some(Cast::Single { target: old, signature: old_sig, counted }) = self.casts.remove(&voter) {
            if counted {
                self.base_weight -= 1;
                // The path as it was counted: every node from the target down through parents.
                let mut at = Some(old.hash);
                while let Some(hash) = at {
                    let Some(node) = self.nodes.get_mut(&hash) else { break };
                    node.weight -= 1;
                    at = node.parent;
                }
            }
            self.equivocators += 1;
            self.casts
                .insert(voter, Cast::Equivocated { first: (old, old_sig), second: (target, signature) });
            return Added::Equivocation(old);
        }
        let path = tree.ancestry(&self.base.hash, &target.hash);
        if let Some(path) = &path {
            self.base_weight += 1;
            for (i, hash) in path.iter().enumerate() {
                let parent = path.get(i + 1).copied();
                let node = self.nodes.entry(*hash).or_insert_with(|| Node {
                    slot: if i == 0 { target.slot } else { tree.slot(hash).unwrap_or(0) },
                    parent,
                    weight: 0,
                });
                node.weight += 1;
            }
        }
        self.casts.insert(voter, Cast::Single { target, signature, counted: path.is_some() });
        Added::New
    }

    /// Weight for `block` (`None`: the base) including the equivocators.
    fn weight(&self, block: Option<&HeaderHash>) -> u32 {
        let own = match block {
            None => self.base_weight,
            Some(hash) => self.nodes.get(hash).map_or(0, |n| n.weight),
        };
        own + self.equivocators
    }

    fn target_of(&self, block: Option<&HeaderHash>) -> Target {
        match block {
            None => self.base,
            Some(hash) => Target { hash: *hash, slot: self.nodes[hash].slot },
        }
    }

    /// GHOST: the highest block whose weight reaches `threshold` (ties by hash, for determinism).
    pub(crate) fn ghost(&self, threshold: u32) -> Option<Target> {
        let best = self
            .nodes
            .iter()
            .filter(|(_, n)| n.weight + self.equivocators >= threshold)
            .max_by_key(|(hash, n)| (n.slot, **hash));
        match best {
            Some((hash, node)) => Some(Target { hash: *hash, slot: node.slot }),
            None if self.weight(None) >= threshold => Some(self.base),
            None => None,
        }
    }

    /// Whether the votes not yet cast (of `total` voters) could still give `block` `threshold`.
    fn possible(&self, block: Option<&HeaderHash>, total: u32, threshold: u32) -> bool {
        self.weight(block) + (total - self.voters()) >= threshold
    }

    /// The highest block on the chain from `head` down to the base for which these votes could
    /// still reach `threshold` (the paper's estimate, when these are precommits). `chain` is the
    /// tally whose graph holds `head` (the prevotes, for `g(V)`).
    fn highest_possible(&self, chain: &Tally, head: Target, total: u32, threshold: u32) -> Option<Target> {
        let mut at = if head.hash == self.base.hash { None } else { Some(head.hash) };
        loop {
            if self.possible(at.as_ref(), total, threshold) {
                return Some(chain.target_of(at.as_ref()));
            }
            match at {
                None => return None,
                Some(hash) => at = chain.nodes.get(&hash).and_then(|n| n.parent),
            }
        }
    }

    /// Whether any child of `block` could still reach `threshold`.
    fn any_child_possible(&self, block: &Target, total: u32, threshold: u32) -> bool {
        if self.equivocators + (total - self.voters()) >= threshold {
            // Even a block nobody voted for could get there.
            return true;
        }
        let parent = if block.hash == self.base.hash { None } else { Some(block.hash) };
        self.nodes
            .iter()
            .filter(|(_, n)| n.parent == parent)
            .any(|(hash, _)| self.possible(Some(hash), total, threshold))
    }

    /// Every vote of the tally, in voter order (both of an equivocator's).
    pub(crate) fn all_votes(&self) -> Vec<(Target, VoterIndex, Ed25519Signature)> {
        let mut voters: Vec<_> = self.casts.keys().copied().collect();
        voters.sort_unstable();
        let mut out = Vec::with_capacity(voters.len());
        for voter in voters {
            match &self.casts[&voter] {
                Cast::Single { target, signature, .. } => out.push((*target, voter, *signature)),
                Cast::Equivocated { first, second } => {
                    out.push((first.0, voter, first.1));
                    out.push((second.0, voter, second.1));
                }
            }
        }
        out
    }

    /// Precommits (with their signatures) for `target` or a descendant, enough to reach
    /// `threshold`: non-equivocating voters first (one entry each), then equivocators (both of
    /// their precommits, which is what makes them count for every block).
    pub(crate) fn justification(
        &self,
        target: &Target,
        threshold: u32,
        tree: &dyn BlockTree,
    ) -> Vec<(Target, VoterIndex, Ed25519Signature)> {
        let mut out = Vec::new();
        let mut voters: Vec<_> = self.casts.keys().copied().collect();
        voters.sort_unstable();
        let mut weight = 0;
        for voter in &voters {
            if let Cast::Single { target: t, signature, .. } = &self.casts[voter] {
                if weight < threshold && tree.ancestry(&target.hash, &t.hash).is_some() {
                    out.push((*t, *voter, *signature));
                    weight += 1;
                }
            }
        }
        for voter in &voters {
            if let Cast::Equivocated { first, second } = &self.casts[voter] {
                if weight < threshold {
                    out.push((first.0, *voter, first.1));
                    out.push((second.0, *voter, second.1));
                    weight += 1;
                }
            }
        }
        out
    }
}

/// A round's prevotes and precommits, and our part in it.
#[derive(Debug, Clone)]
pub(crate) struct Round {
    pub(crate) prevotes: Tally,
    pub(crate) precommits: Tally,
    /// The primary's proposal, if it came.
    pub(crate) proposal: Option<Target>,
    pub(crate) our_prevote: Option<Target>,
    pub(crate) our_precommit: Option<Target>,
    pub(crate) proposed: bool,
}

/// What the round's votes say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RoundState {
    pub(crate) prevote_ghost: Option<Target>,
    pub(crate) estimate: Option<Target>,
    pub(crate) precommit_ghost: Option<Target>,
    pub(crate) completable: bool,
}

impl Round {
    pub(crate) fn new(base: Target) -> Self {
        Self {
            prevotes: Tally::new(base),
            precommits: Tally::new(base),
            proposal: None,
            our_prevote: None,
            our_precommit: None,
            proposed: false,
        }
    }

    /// The paper's round state (§3.2): `g(V)`, `E`, `g(C)`, and whether the round is completable.
    pub(crate) fn state(&self, total: u32, threshold: u32) -> RoundState {
        let prevote_ghost = self.prevotes.ghost(threshold);
        let precommit_ghost = self.precommits.ghost(threshold);
        let (estimate, completable) = match prevote_ghost {
            None => (None, false),
            Some(g) => {
                let estimate = self.precommits.highest_possible(&self.prevotes, g, total, threshold);
                let enough = self.precommits.voters() >= threshold;
                let completable = enough
                    && match estimate {
                        Some(e) if e != g => true,
                        Some(_) => !self.precommits.any_child_possible(&g, total, threshold),
                        None => true,
                    };
                (estimate, completable)
            }
        };
        RoundState { prevote_ghost, estimate, precommit_ghost, completable }
    }
}
