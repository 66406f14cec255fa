//! Recent history: β → β† → β' (GP 0.7.2 §7).
//!
//! Two steps, as the paper orders them: early in the block the last entry's state root is
//! corrected to the parent's ([`correct_parent_state_root`], giving `β†`, which the reports
//! transition reads); at the end the accumulation output log gains this block's root and the block
//! itself is recorded ([`append`]).

use orrery_crypto::keccak_256;
use orrery_merkle::well_balanced_root;
use orrery_state::{AccumulationOutput, BlockInfo, RecentBlocks, ReportedWorkPackage};
use orrery_types::constants::RECENT_HISTORY_LEN;
use orrery_types::{Hash, HeaderHash, StateRoot};

/// `β†_H`: the most recent entry's state root, recorded as zero, becomes the parent's `H_r`.
pub fn correct_parent_state_root(recent: &RecentBlocks, parent_state_root: StateRoot) -> RecentBlocks {
    let mut recent = recent.clone();
    if let Some(last) = recent.history.last_mut() {
        last.state_root = parent_state_root;
    }
    recent
}

/// The root of the block's accumulation outputs `θ'` that the output log takes:
/// the well-balanced keccak Merkle root of `E_4(s) ⌢ E(h)` for each output in order.
pub fn accumulation_root(outputs: &[AccumulationOutput]) -> Hash {
    let leaves: Vec<Vec<u8>> =
        outputs.iter().map(|o| [o.service.to_le_bytes().as_slice(), &o.hash].concat()).collect();
    well_balanced_root(&leaves, keccak_256)
}

/// `β'` from `β†`: the log `β_B` appends `accumulate_root` (keccak throughout), and
/// the history gains this block's header hash, the log's new super-peak, a zero state root (the
/// next block corrects it) and the packages its guarantees reported, keeping the last `H`.
pub fn append(
    recent: &RecentBlocks,
    header_hash: HeaderHash,
    accumulate_root: Hash,
    reported: &[ReportedWorkPackage],
) -> RecentBlocks {
    let mmr = recent.mmr.appended(accumulate_root, keccak_256);
    // `p` is a dictionary, which the state keeps (and encodes) in key order.
    let mut reported = reported.to_vec();
    reported.sort();
    reported.dedup_by(|a, b| a.hash == b.hash);
    let block = BlockInfo { header_hash, beefy_root: mmr.super_peak(), state_root: [0; 32], reported };
    let mut history = recent.history.clone();
    history.push(block);
    let excess = history.len().saturating_sub(RECENT_HISTORY_LEN);
    history.drain(..excess);
    RecentBlocks { history, mmr }
}
