//! Statistics from hand-built blocks.

mod common;

use std::collections::BTreeSet;

use common::*;
use orrery_codec::BitVec;
use orrery_state::{CoresStatistics, ServicesStatistics, ValidatorsStatistics};
use orrery_stf::statistics;
use orrery_types::{AvailAssurance, Extrinsic, Preimage};

#[test]
fn the_author_gets_the_block_and_an_epoch_change_rolls_over() {
    let spec = spec();
    let mut current = ValidatorsStatistics::zeroed(6);
    current.0[2].blocks = 7;
    let last = ValidatorsStatistics::zeroed(6);
    let extrinsic = Extrinsic {
        preimages: vec![
            Preimage { requester: 1, blob: vec![0; 10] },
            Preimage { requester: 2, blob: vec![0; 5] },
        ],
        ..Default::default()
    };
    let reporters: BTreeSet<_> = [public(4)].into();
    let (c, l) =
        statistics::validators(&spec, &current, &last, 13, 14, 2, &extrinsic, &validators(0), &reporters);
    assert_eq!(c.0[2].blocks, 8);
    assert_eq!((c.0[2].pre_images, c.0[2].pre_images_size), (2, 15));
    assert_eq!(c.0[4].guarantees, 1);
    assert_eq!(l, last);
    // Slot 24 starts epoch 2 (E = 12): the accumulator moves to π_L and restarts.
    let (c, l) = statistics::validators(
        &spec,
        &current,
        &last,
        23,
        24,
        2,
        &Extrinsic::default(),
        &validators(0),
        &BTreeSet::new(),
    );
    assert_eq!(l, current);
    assert_eq!(c.0[2].blocks, 1);
}

#[test]
fn malformed_inputs_do_not_panic() {
    let spec = spec();
    // A short prior record, an author past V and assurers past V are tolerated.
    let short = ValidatorsStatistics::zeroed(2);
    let extrinsic = Extrinsic {
        assurances: vec![AvailAssurance {
            anchor: [0; 32],
            bitfield: BitVec::zeros(2),
            validator_index: 999,
            signature: [0; 64],
        }],
        ..Default::default()
    };
    let (c, _) = statistics::validators(
        &spec,
        &short,
        &short,
        0,
        1,
        u16::MAX,
        &extrinsic,
        &validators(0),
        &BTreeSet::new(),
    );
    assert_eq!(c.0.len(), 6);
    assert!(c.0.iter().all(|r| r.blocks == 0 && r.assurances == 0));

    let mut cores = CoresStatistics::zeroed(2);
    let mut services = ServicesStatistics::new();
    statistics::add_reports(&mut cores, &mut services, &[report(7, 1)]);
    assert_eq!(cores, CoresStatistics::zeroed(2), "a report on a core past C counts for no core");
    assert_eq!(services[&1].refinement_count, 1);
}

#[test]
fn availability_load_counts_bundle_and_segments() {
    let mut cores = CoresStatistics::zeroed(2);
    let mut r = report(1, 1);
    r.package_spec.length = 1000;
    r.package_spec.exports_count = 64;
    let assurance = AvailAssurance {
        anchor: [0; 32],
        bitfield: BitVec::from_bools([false, true]),
        validator_index: 0,
        signature: [0; 64],
    };
    statistics::add_availability(&mut cores, [&r], &[assurance.clone(), assurance]);
    // 1000 + 4104 · ⌈64 · 65/64⌉ = 1000 + 4104 · 65.
    assert_eq!(cores.0[1].da_load, 1000 + 4104 * 65);
    assert_eq!(cores.0[1].popularity, 2);
    assert_eq!(cores.0[0].popularity, 0);
}
