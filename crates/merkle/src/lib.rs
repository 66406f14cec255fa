//! Merklization for JAM (GP 0.7.2 Appendices D and E).
//!
//! - [`Mmr`]: Merkle mountain ranges, with append `A` and super-peak `M_R` (Appendix E.2), as the
//!   recent-history state keeps its accumulation-output belt (§7).
//! - Binary Merkle trees (Appendix E.1): the node function [`node`], the trace [`trace`], the
//!   well-balanced root `M_B` ([`well_balanced_root`]), and the constant-depth root `M`
//!   ([`constant_depth_root`]) with paged justifications `J_x` ([`justification`]) and leaf pages
//!   `L_x` ([`leaf_page`]), as segment proofs use them.
//! - The state trie (Appendix D.2) in [`trie`]: the one-shot root [`trie::root`] of a set of
//!   (31-byte key, value) pairs, and [`Trie`], a persistent tree that re-hashes only what changed.

#![forbid(unused_must_use)]

mod binary;
mod mmr;
pub mod trie;

pub use binary::{
    constant_depth_leaves, constant_depth_root, justification, leaf_page, node, root_from_page, trace,
    well_balanced_root,
};
pub use mmr::Mmr;
pub use trie::{Key, Trie, TrieError};

/// A 32-byte hash; the same type as `orrery_types::Hash`.
pub type Hash = [u8; 32];

/// `H_0`: the zero hash, the identity of an empty tree.
pub const ZERO_HASH: Hash = [0; 32];
