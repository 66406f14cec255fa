//! Imported segments on a simulated network (issue 16: "a package that imports segments exported
//! by an earlier one"): six dev validators on the tiny spec, GRANDPA on. The `probe` service
//! (guests/probe) is deployed through the manager; a first package has it export three segments
//! (`[i; 8]` zero-padded, i = 0, 1, 2) and is accumulated; a second imports
//! segment 1 by the first package's hash (`⊞`, resolved through β) and segment 2 by its segment
//! root, submitted to a guarantor that keeps only its own shard of the first report. It fetches the
//! rest from the assurers (CE 139), reconstructs and proves the segments, refine, and the report is guaranteed, made available, audited and accumulated on every
//! node. The probe's refine transcript, stored by its accumulate under the package hash, holds the
//! length and first eight octets of each import: the imported data, checked by hand. A package
//! importing from a package no recent block reported is refused, naming the rule.

mod common;

use orrery_codec::Encode;
use orrery_crypto::blake2b_256;
use orrery_network::message::WorkPackageSubmission;
use orrery_node::{Event, Input, SegmentStep};
use orrery_sim::Sim;
use orrery_types::{CoreIndex, Hash, ImportSpec, ServiceId, WorkPackage};

const PROBE: &[u8] = include_bytes!("../../../guests/probe.jam");

fn submit(sim: &mut Sim, core: CoreIndex, package: WorkPackage) -> Hash {
    let g = common::guarantors(sim, 0)[usize::from(core)][0];
    submit_to(sim, g, core, package)
}

fn submit_to(sim: &mut Sim, g: usize, core: CoreIndex, package: WorkPackage) -> Hash {
    let hash = blake2b_256(&package.encode());
    let extrinsics = vec![Vec::new(); package.items.len()];
    sim.input(g, Input::SubmitWorkPackage(WorkPackageSubmission { core, package, extrinsics }));
    hash
}

fn best_state(sim: &Sim, node: usize) -> &orrery_state::State {
    let n = sim.node(node).unwrap();
    n.chain().state(&n.status().best.hash).unwrap().state()
}

fn accumulated_everywhere(sim: &Sim, package: &Hash) -> bool {
    (0..sim.node_count()).all(|i| best_state(sim, i).accumulated.0.iter().any(|l| l.contains(package)))
}

fn refusals(sim: &Sim) -> Vec<(Hash, String)> {
    (0..sim.node_count())
        .flat_map(|i| sim.work_events(i).iter())
        .filter_map(|(_, e)| match e {
            Event::WorkPackageRefused { package, reason } => Some((*package, reason.clone())),
            _ => None,
        })
        .collect()
}

/// Runs slot by slot until `package` is accumulated on every node, at most `max_slots`.
fn settle(sim: &mut Sim, package: &Hash, max_slots: u32) {
    for _ in 0..max_slots {
        if accumulated_everywhere(sim, package) {
            return;
        }
        sim.run_slots(1).unwrap();
    }
    assert!(accumulated_everywhere(sim, package), "not accumulated; refusals: {:?}", refusals(sim));
}

/// The probe's refine transcript, as its accumulate stored it under `package` on node `node`.
fn transcript(sim: &Sim, node: usize, probe: ServiceId, package: &Hash) -> Vec<u64> {
    let value = best_state(sim, node).accounts.get(&probe).unwrap().storage(package).unwrap().to_vec();
    value.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())).collect()
}

#[test]
fn a_package_imports_segments_an_earlier_one_exported_and_every_node_accumulates_it() {
    let mut sim = common::started(31);

    // Deploy the probe.
    common::to_rotation_start(&mut sim, 300);
    let deploy = common::dev_package(&sim, 0, &[common::deploy(PROBE)]);
    let deploy = submit(&mut sim, 0, deploy);
    settle(&mut sim, &deploy, 10);
    let probe = *best_state(&sim, 0)
        .accounts
        .iter()
        .find(|(_, a)| a.info.code_hash == blake2b_256(PROBE))
        .expect("the probe is deployed")
        .0;

    // Mode 4: export three segments.
    common::to_rotation_start(&mut sim, 300);
    let mut exporter = common::dev_package(&sim, 0, &[common::call(probe, PROBE, vec![4, 3])]);
    exporter.items[0].export_count = 3;
    // Its guarantors keep every validator's shard; the others keep their own.
    let kept_all = common::guarantors(&sim, 0)[0].clone();
    let exporter_hash = submit(&mut sim, 0, exporter);
    settle(&mut sim, &exporter_hash, 10);
    let segment_root = best_state(&sim, 0)
        .recent_blocks
        .reported_packages()
        .find(|r| r.hash == exporter_hash)
        .expect("β reports the exporting package")
        .exports_root;
    assert_eq!(transcript(&sim, 0, probe, &exporter_hash), vec![u64::from_le_bytes(*b"exported")]);

    // Mode 0 on the other core: import segment 1 by package hash and segment 2 by segment root;
    // it exports its first import and a short blob.
    common::to_rotation_start(&mut sim, 300);
    let mut payload = vec![0u8];
    payload.extend_from_slice(&[0x11; 32]);
    let mut importer = common::dev_package(&sim, 0, &[common::call(probe, PROBE, payload)]);
    importer.items[0].import_segments = vec![
        ImportSpec { tree_root: exporter_hash, index: 1 | ImportSpec::PACKAGE_HASH_FLAG },
        ImportSpec { tree_root: segment_root, index: 2 },
    ];
    importer.items[0].export_count = 2;
    // To a guarantor that keeps one shard of the exporting report, so that it must fetch the
    // others from assurers (CE 139).
    let (core, g) = common::guarantors(&sim, 0)
        .iter()
        .enumerate()
        .find_map(|(c, gs)| Some((c as CoreIndex, *gs.iter().find(|g| !kept_all.contains(g))?)))
        .expect("a guarantor that did not guarantee the exporting package");
    let importer_hash = submit_to(&mut sim, g, core, importer);
    settle(&mut sim, &importer_hash, 10);

    // The guarantor's segment recovery, as telemetry sees it (JIP-3 160, 161, 168, 170, 172, 97):
    // the package hash mapped to its segment root, that root to the exporting report's erasure
    // root (segments 1 and 2 are imports 0 and 1; their proof page, index 3 after the three
    // exports, is page 0: 2^15 + 0), then both imports reconstructed and proven.
    let steps: Vec<SegmentStep> = sim
        .work_events(g)
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Segments { package, step } if *package == importer_hash => Some(step.clone()),
            _ => None,
        })
        .collect();
    assert!(
        matches!(&steps[..], [
        SegmentStep::PackageMapped { package, segments_root },
        SegmentStep::RootMapped { segments_root: root, ids, .. },
        SegmentStep::Reconstructing { segments: reconstructing, .. },
        SegmentStep::Reconstructed { segments: reconstructed, proven: Ok(()) },
        SegmentStep::ImportsReceived,
    ] if *package == exporter_hash && *segments_root == segment_root && *root == segment_root
        && *ids == [(1, 0), (2, 1), (3, 0x8000)] && *reconstructing == [0, 1] && *reconstructed == [0, 1]),
        "{steps:?}"
    );

    for i in 0..sim.node_count() {
        let t = transcript(&sim, i, probe, &importer_hash);
        // Transcript entries 7–10: each import's length (W_G = 4104) and first eight octets.
        assert_eq!(t[7..11], [4104, 0x0101_0101_0101_0101, 4104, 0x0202_0202_0202_0202], "node {i}");
    }
    // Audited valid wherever audited: no node judged it invalid, and nobody was punished.
    for i in 0..sim.node_count() {
        let invalid =
            sim.work_events(i).iter().any(|(_, e)| matches!(e, Event::Audited { valid: false, .. }));
        assert!(!invalid, "node {i} judged a report invalid");
        assert!(best_state(&sim, i).disputes.offenders.is_empty(), "node {i}");
    }
    let audited = (0..sim.node_count())
        .flat_map(|i| sim.work_events(i).iter())
        .filter(|(_, e)| matches!(e, Event::Audited { valid: true, .. }))
        .count();
    assert!(audited > 0, "no audits");

    // An import by a package hash no recent block reported: refused, naming the rule.
    let mut unknown = common::dev_package(&sim, 0, &[common::call(probe, PROBE, vec![4, 0])]);
    unknown.items[0].import_segments =
        vec![ImportSpec { tree_root: [0x77; 32], index: ImportSpec::PACKAGE_HASH_FLAG }];
    let unknown_hash = submit(&mut sim, 0, unknown);
    sim.run_slots(1).unwrap();
    let refused: Vec<String> =
        refusals(&sim).into_iter().filter(|(p, _)| *p == unknown_hash).map(|(_, r)| r).collect();
    assert!(
        refused.iter().any(|r| r.contains("segment_root_lookup_invalid") && r.contains("§11.4")),
        "{refused:?}"
    );
    let summary = sim.summary();
    assert!(summary.disagreements().is_empty(), "finalized blocks differ: {:?}", summary.disagreements());

    // One of the exporting report's guarantors (which keep every shard) crashes and restarts on its
    // database: it still finds the report and gives the same segments (the index of exporters is
    // rebuilt from the store, not lost with the process).
    let keeper = kept_all[0];
    let before = sim.node(keeper).unwrap().local_segments(&segment_root, false, &[0, 1, 2]).unwrap();
    assert_eq!(&before[1][..8], &[1; 8]);
    sim.crash_now(keeper, 2_000);
    sim.run_slots(2).unwrap();
    let after = sim.node(keeper).expect("restarted").local_segments(&segment_root, false, &[0, 1, 2]);
    let digest = |segments: &[Vec<u8>]| segments.iter().map(|s| blake2b_256(s)).collect::<Vec<_>>();
    assert_eq!(after.as_deref().map(digest), Ok(digest(&before)));
    let by_package = sim.node(keeper).unwrap().local_segments(&exporter_hash, true, &[2]).unwrap();
    assert_eq!(&by_package[0][..8], &[2; 8]);
}
