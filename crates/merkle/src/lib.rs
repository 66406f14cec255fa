//! Merklization for JAM (GP 0.7.2 Appendices D and E).
//!
//! - [`Mmr`]: Merkle mountain ranges, with append `A` and super-peak `M_R` (Appendix E.2), as the
//!   recent-history state keeps its accumulation-output belt (§7).

#![forbid(unused_must_use)]

mod mmr;

pub use mmr::Mmr;

/// A 32-byte hash; the same type as `orrery_types::Hash`.
pub type Hash = [u8; 32];

/// `H_0`: the zero hash, the identity of an empty tree.
pub const ZERO_HASH: Hash = [0; 32];
