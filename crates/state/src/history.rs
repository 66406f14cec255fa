//! Recent history β = (β_H, β_B) (GP 0.7.2 §7).

use orrery_codec::{Decode, Describe, Encode};
use orrery_merkle::Mmr;
use orrery_types::{ExportsRoot, Hash, HeaderHash, StateRoot, WorkPackageHash};

/// A work package reported in a block: its hash and its segment root (one entry of `p`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Encode, Decode, Describe)]
pub struct ReportedWorkPackage {
    pub hash: WorkPackageHash,
    pub exports_root: ExportsRoot,
}

/// One recent block (an item of `β_H`). Encoded in `T(σ)`'s order `(h, b, s, ↕p)`.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub struct BlockInfo {
    /// `h`: the header hash.
    pub header_hash: HeaderHash,
    /// `b`: the super-peak of the accumulation output log as of this block.
    pub beefy_root: Hash,
    /// `s`: the posterior state root; zero until the next block corrects it.
    pub state_root: StateRoot,
    /// `p`: the packages reported in this block, a dictionary from package hash to segment root,
    /// kept in key order as its encoding requires.
    pub reported: Vec<ReportedWorkPackage>,
}

/// `β`: the last `H` blocks and the accumulation output log `β_B`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Encode, Decode, Describe)]
pub struct RecentBlocks {
    /// `β_H`: at most `H` blocks, oldest first.
    pub history: Vec<BlockInfo>,
    /// `β_B`: the accumulation output log, a Merkle mountain range of keccak hashes.
    pub mmr: Mmr,
}

impl RecentBlocks {
    /// Every package hash reported in the retained blocks, with its segment root.
    pub fn reported_packages(&self) -> impl Iterator<Item = &ReportedWorkPackage> + '_ {
        self.history.iter().flat_map(|block| block.reported.iter())
    }
}
