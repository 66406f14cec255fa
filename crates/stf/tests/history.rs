//! Recent history by hand: the parent-root correction, the window of `H` blocks, the dictionary
//! order of reported packages, and the accumulation root worked from the paper.

use orrery_crypto::keccak_256;
use orrery_state::{AccumulationOutput, RecentBlocks, ReportedWorkPackage};
use orrery_stf::history::{accumulation_root, append, correct_parent_state_root};

fn package(byte: u8) -> ReportedWorkPackage {
    ReportedWorkPackage { hash: [byte; 32], exports_root: [byte ^ 0xff; 32] }
}

#[test]
fn correction_touches_only_the_last_entry_and_tolerates_an_empty_history() {
    assert_eq!(correct_parent_state_root(&RecentBlocks::default(), [1; 32]), RecentBlocks::default());
    let two = append(&append(&RecentBlocks::default(), [1; 32], [0; 32], &[]), [2; 32], [0; 32], &[]);
    let corrected = correct_parent_state_root(&two, [9; 32]);
    assert_eq!(corrected.history[0].state_root, [0; 32]);
    assert_eq!(corrected.history[1].state_root, [9; 32]);
}

#[test]
fn keeps_the_last_eight_blocks_and_sorts_reported_packages() {
    let mut recent = RecentBlocks::default();
    for i in 0..10u8 {
        recent = append(&recent, [i; 32], [i; 32], &[package(200 - i), package(100 + i)]);
    }
    assert_eq!(recent.history.len(), 8);
    assert_eq!(recent.history[0].header_hash, [2; 32]);
    let last = &recent.history[7];
    assert_eq!(last.reported, vec![package(109), package(191)]);
    assert_eq!(last.beefy_root, recent.mmr.super_peak());
    // Ten leaves: binary 1010, so peaks at heights 1 and 3.
    let occupied: Vec<bool> = recent.mmr.peaks.iter().map(Option::is_some).collect();
    assert_eq!(occupied, [false, true, false, true]);
}

#[test]
fn accumulation_root_is_the_well_balanced_keccak_root() {
    let a = AccumulationOutput { service: 7, hash: [1; 32] };
    let b = AccumulationOutput { service: 0x0102_0304, hash: [2; 32] };
    let leaf = |o: &AccumulationOutput| [o.service.to_le_bytes().as_slice(), &o.hash].concat();
    assert_eq!(accumulation_root(&[]), [0; 32]);
    // One leaf: H(v_0). Two: H("node" ⌢ v_0 ⌢ v_1), the leaves unhashed (GP eqs. E.1, E.3).
    assert_eq!(accumulation_root(std::slice::from_ref(&a)), keccak_256(&leaf(&a)));
    let node = [b"node".as_slice(), &leaf(&a), &leaf(&b)].concat();
    assert_eq!(accumulation_root(&[a, b]), keccak_256(&node));
}
