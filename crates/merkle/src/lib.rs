//! Merklization for JAM (GP 0.7.2 Appendices D and E).
//!
//! - [`Mmr`]: Merkle mountain ranges, with append `A` and super-peak `M_R` (Appendix E.2), as the
//!   recent-history state keeps its accumulation-output belt (§7). Its codec derives give `E_M`.
//! - Binary Merkle trees (Appendix E.1): the node function [`node`], the trace [`trace`], the
//!   well-balanced root `M_B` ([`well_balanced_root`]), and the constant-depth root `M`
//!   ([`constant_depth_root`]) with paged justifications `J_x` ([`justification`]) and leaf pages
//!   `L_x` ([`leaf_page`]), as segment proofs use them; [`root_from_page`] checks a page against a
//!   root.
//! - The state trie (Appendix D.2) in [`trie`]: the one-shot root [`trie::root`] of a set of
//!   (31-byte key, value) pairs, and [`Trie`], a persistent tree that re-hashes only what changed.
//!
//! Hash functions are parameters (`impl Fn(&[u8]) -> Hash`) wherever the paper makes them one;
//! pass `orrery_crypto::blake2b_256` (the paper's default) or `orrery_crypto::keccak_256`. The
//! state trie is always blake2b-256, and `M_R` always keccak-256, as the paper fixes them.

#![forbid(unused_must_use)]

mod binary;
mod mmr;
pub mod trie;

pub use binary::{
    constant_depth_leaves, constant_depth_root, justification, justification_in_page, leaf_page, node,
    root_from_page, trace, traces, well_balanced_root, well_balanced_root_from_trace,
};
pub use mmr::Mmr;
pub use trie::{Key, Trie, TrieError};

/// A 32-byte hash; the same type as `orrery_types::Hash`.
pub type Hash = [u8; 32];

/// `H_0`: the zero hash, the identity of an empty tree.
pub const ZERO_HASH: Hash = [0; 32];
