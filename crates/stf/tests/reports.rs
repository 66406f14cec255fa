//! Guarantees with hand-built extrinsics: a valid one, and the paper's error for each kind of
//! malformed or adversarial input.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use orrery_codec::Encode;
use orrery_crypto::blake2b_256;
use orrery_state::{
    AuthPools, AvailabilityAssignment, AvailabilityAssignments, BlockInfo, EntropyBuffer, RecentBlocks,
    ReportedWorkPackage, ServiceInfo, ValidatorsData,
};
use orrery_stf::assignments::GuarantorAssignments;
use orrery_stf::contexts;
use orrery_stf::reports::{apply, Ancestry, ReportsError, ReportsInput, ReportsOutput};
use orrery_types::{
    HeaderHash, ReportGuarantee, SegmentRootLookupItem, TimeSlot, ValidatorSignature, WorkReport,
};

const SLOT: TimeSlot = 14;
const ANCHOR: HeaderHash = [0x11; 32];

struct World {
    pending: AvailabilityAssignments,
    active: ValidatorsData,
    previous: ValidatorsData,
    entropy: EntropyBuffer,
    offenders: BTreeSet<[u8; 32]>,
    recent: RecentBlocks,
    auth_pools: AuthPools,
    services: BTreeMap<u32, ServiceInfo>,
    known: BTreeSet<[u8; 32]>,
}

impl World {
    fn new() -> Self {
        let recent = RecentBlocks {
            history: vec![BlockInfo {
                header_hash: ANCHOR,
                beefy_root: [0; 32],
                state_root: [0; 32],
                reported: vec![ReportedWorkPackage { hash: [0x50; 32], exports_root: [0x51; 32] }],
            }],
            mmr: Default::default(),
        };
        Self {
            pending: AvailabilityAssignments::empty(2),
            active: validators(0),
            previous: validators(10),
            entropy: EntropyBuffer([[1; 32], [2; 32], [3; 32], [4; 32]]),
            offenders: BTreeSet::new(),
            recent,
            auth_pools: AuthPools(vec![vec![[0; 32]], vec![[0; 32]]]),
            services: [(1, ServiceInfo { min_item_gas: 10, ..Default::default() })].into(),
            known: BTreeSet::new(),
        }
    }

    fn run_with(
        &self,
        guarantees: &[ReportGuarantee],
        ancestry: Option<&dyn Ancestry>,
    ) -> Result<ReportsOutput, ReportsError> {
        let input = ReportsInput {
            slot: SLOT,
            pending: &self.pending,
            active: &self.active,
            previous: &self.previous,
            entropy: &self.entropy,
            offenders: &self.offenders,
            recent: &self.recent,
            auth_pools: &self.auth_pools,
            services: &self.services,
            known_packages: &self.known,
            ancestry,
        };
        apply(&spec(), &input, guarantees)
    }

    fn run(&self, guarantees: &[ReportGuarantee]) -> Result<ReportsOutput, ReportsError> {
        self.run_with(guarantees, None)
    }

    /// The validators assigned to `core` in this rotation, lowest index first.
    fn guarantors(&self, core: u16) -> Vec<usize> {
        let current = GuarantorAssignments::current(&spec(), &self.entropy, SLOT, &self.active);
        (0..current.cores.len()).filter(|&v| current.cores[v] == core).collect()
    }

    /// A guarantee of `report` signed by the first `count` validators assigned to its core.
    fn guarantee(&self, report: WorkReport, count: usize) -> ReportGuarantee {
        let signers = self.guarantors(report.core_index);
        assert!(signers.len() >= count, "tiny assigns three validators per core");
        let message = [contexts::GUARANTEE, &blake2b_256(&report.encode())].concat();
        let signatures = signers[..count]
            .iter()
            .map(|&v| ValidatorSignature { validator_index: v as u16, signature: sign(v, &message) })
            .collect();
        ReportGuarantee { report, slot: SLOT, signatures }
    }
}

/// A report on `core` anchored on the world's recent block, for service 1.
fn anchored(core: u16, seed: u8) -> WorkReport {
    let mut report = report(core, seed);
    report.context.anchor = ANCHOR;
    report.context.lookup_anchor_slot = SLOT - 1;
    report
}

/// Re-signs a guarantee after its report was altered.
fn resign(guarantee: &mut ReportGuarantee) {
    let message = [contexts::GUARANTEE, &blake2b_256(&guarantee.report.encode())].concat();
    for s in &mut guarantee.signatures {
        s.signature = sign(s.validator_index.into(), &message);
    }
}

#[test]
fn a_valid_pair_of_guarantees_fills_both_cores() {
    let world = World::new();
    let g0 = world.guarantee(anchored(0, 0x90), 2);
    let g1 = world.guarantee(anchored(1, 0x20), 3);
    let out = world.run(&[g0.clone(), g1.clone()]).unwrap();
    assert_eq!(out.pending.0[0], Some(AvailabilityAssignment { report: g0.report.clone(), timeout: SLOT }));
    assert_eq!(out.pending.0[1].as_ref().map(|a| &a.report), Some(&g1.report));
    // Reported in package-hash order, whatever the core order.
    let hashes: Vec<_> = out.reported.iter().map(|p| p.hash).collect();
    assert_eq!(hashes, vec![[0x20; 32], [0x90; 32]]);
    let reporters: BTreeSet<_> =
        g0.signatures.iter().chain(&g1.signatures).map(|s| public(s.validator_index.into())).collect();
    assert_eq!(out.reporters, reporters);
}

#[test]
fn every_validator_is_assigned_to_exactly_one_core() {
    // V/C = 3 in tiny: each core has three guarantors, and they are disjoint.
    let world = World::new();
    let (a, b) = (world.guarantors(0), world.guarantors(1));
    assert_eq!((a.len(), b.len()), (3, 3));
    assert!(a.iter().all(|v| !b.contains(v)));
}

#[test]
fn credentials_must_be_two_or_three_sorted_unique_in_range_and_assigned() {
    let world = World::new();
    let one = world.guarantee(anchored(0, 1), 1);
    assert_eq!(world.run(&[one]), Err(ReportsError::InsufficientGuarantees));
    let mut four = world.guarantee(anchored(0, 1), 3);
    let outsider = world.guarantors(1)[0] as u16;
    four.signatures.push(ValidatorSignature { validator_index: outsider, signature: [0; 64] });
    four.signatures.sort_by_key(|s| s.validator_index);
    assert_eq!(world.run(&[four]), Err(ReportsError::InsufficientGuarantees));

    let mut reversed = world.guarantee(anchored(0, 1), 2);
    reversed.signatures.reverse();
    assert_eq!(world.run(&[reversed]), Err(ReportsError::NotSortedOrUniqueGuarantors));
    let mut duplicated = world.guarantee(anchored(0, 1), 2);
    duplicated.signatures[1] = duplicated.signatures[0].clone();
    assert_eq!(world.run(&[duplicated]), Err(ReportsError::NotSortedOrUniqueGuarantors));

    let mut out_of_range = world.guarantee(anchored(0, 1), 2);
    out_of_range.signatures[1].validator_index = u16::MAX;
    assert_eq!(world.run(&[out_of_range]), Err(ReportsError::BadValidatorIndex));

    // Signed by the guarantors of the other core.
    let mut wrong = world.guarantee(anchored(0, 1), 2);
    let other = world.guarantors(1);
    let message = [contexts::GUARANTEE, &blake2b_256(&wrong.report.encode())].concat();
    wrong.signatures = other[..2]
        .iter()
        .map(|&v| ValidatorSignature { validator_index: v as u16, signature: sign(v, &message) })
        .collect();
    assert_eq!(world.run(&[wrong]), Err(ReportsError::WrongAssignment));

    let mut forged = world.guarantee(anchored(0, 1), 2);
    forged.signatures[0].signature[10] ^= 0x40;
    assert_eq!(world.run(&[forged]), Err(ReportsError::BadSignature));
}

#[test]
fn offenders_may_not_guarantee() {
    let mut world = World::new();
    let g = world.guarantee(anchored(0, 1), 2);
    world.offenders.insert(public(g.signatures[1].validator_index.into()));
    assert_eq!(world.run(&[g]), Err(ReportsError::BannedValidator));
}

#[test]
fn cores_must_exist_be_sorted_be_free_and_authorize() {
    let mut world = World::new();
    let mut far = world.guarantee(anchored(0, 1), 2);
    far.report.core_index = u16::MAX;
    assert_eq!(world.run(&[far]), Err(ReportsError::BadCoreIndex));
    let (g0, g1) = (world.guarantee(anchored(0, 1), 2), world.guarantee(anchored(1, 2), 2));
    assert_eq!(world.run(&[g1.clone(), g0.clone()]), Err(ReportsError::OutOfOrderGuarantee));
    assert_eq!(world.run(&[g0.clone(), g0.clone()]), Err(ReportsError::OutOfOrderGuarantee));

    world.auth_pools.0[0].clear();
    assert_eq!(world.run(std::slice::from_ref(&g0)), Err(ReportsError::CoreUnauthorized));
    world.pending.0[0] = Some(AvailabilityAssignment { report: report(0, 9), timeout: 1 });
    assert_eq!(world.run(&[g0]), Err(ReportsError::CoreEngaged));
}

#[test]
fn guarantee_slots_must_be_in_this_rotation_or_the_last() {
    let world = World::new();
    let mut future = world.guarantee(anchored(0, 1), 2);
    future.slot = u32::MAX;
    assert_eq!(world.run(&[future]), Err(ReportsError::FutureReportSlot));
    // R = 4: slot 14 is in rotation 3, so the earliest allowed slot is 8.
    let mut old = world.guarantee(anchored(0, 1), 2);
    old.slot = 7;
    assert_eq!(world.run(&[old]), Err(ReportsError::ReportEpochBeforeLast));
}

#[test]
fn report_shape_limits() {
    let world = World::new();
    let mut empty = world.guarantee(anchored(0, 1), 2);
    empty.report.results.clear();
    resign(&mut empty);
    assert_eq!(world.run(&[empty]), Err(ReportsError::MissingWorkResults));

    let mut many = world.guarantee(anchored(0, 1), 2);
    many.report.results = vec![many.report.results[0].clone(); 17];
    resign(&mut many);
    assert_eq!(world.run(&[many]), Err(ReportsError::WorkReportTooBig));

    let mut big = world.guarantee(anchored(0, 1), 2);
    big.report.auth_output = vec![0; 48 * 1024 - 2]; // plus the 3-octet output: one over W_R
    resign(&mut big);
    assert_eq!(world.run(&[big]), Err(ReportsError::WorkReportTooBig));

    let mut greedy = world.guarantee(anchored(0, 1), 2);
    greedy.report.results = vec![greedy.report.results[0].clone(); 2];
    greedy.report.results[0].accumulate_gas = u64::MAX;
    resign(&mut greedy);
    assert_eq!(world.run(&[greedy]), Err(ReportsError::WorkReportGasTooHigh));

    let mut deps = world.guarantee(anchored(0, 1), 2);
    deps.report.context.prerequisites = vec![[0x50; 32]; 9];
    resign(&mut deps);
    assert_eq!(world.run(&[deps]), Err(ReportsError::TooManyDependencies));
}

#[test]
fn services_must_exist_match_and_get_their_minimum_gas() {
    let world = World::new();
    let mut unknown = world.guarantee(anchored(0, 1), 2);
    unknown.report.results[0].service_id = u32::MAX;
    resign(&mut unknown);
    assert_eq!(world.run(&[unknown]), Err(ReportsError::BadServiceId));
    let mut code = world.guarantee(anchored(0, 1), 2);
    code.report.results[0].code_hash = [1; 32];
    resign(&mut code);
    assert_eq!(world.run(&[code]), Err(ReportsError::BadCodeHash));
    let mut cheap = world.guarantee(anchored(0, 1), 2);
    cheap.report.results[0].accumulate_gas = 9;
    resign(&mut cheap);
    assert_eq!(world.run(&[cheap]), Err(ReportsError::ServiceItemGasTooLow));
}

struct NoAncestors;

impl Ancestry for NoAncestors {
    fn contains(&self, _: &HeaderHash, _: TimeSlot) -> bool {
        false
    }
}

#[test]
fn contexts_must_match_recent_history_and_ancestry() {
    let world = World::new();
    let alter = |f: &dyn Fn(&mut WorkReport)| {
        let mut g = world.guarantee(anchored(0, 1), 2);
        f(&mut g.report);
        resign(&mut g);
        world.run(&[g])
    };
    assert_eq!(alter(&|r| r.context.anchor = [0x12; 32]), Err(ReportsError::AnchorNotRecent));
    assert_eq!(alter(&|r| r.context.state_root = [1; 32]), Err(ReportsError::BadStateRoot));
    assert_eq!(alter(&|r| r.context.beefy_root = [1; 32]), Err(ReportsError::BadBeefyMmrRoot));
    // Older than L = 14 400 slots would need a later block; here the anchor slot is fine but the
    // ancestry, when given, must know the header.
    let g = world.guarantee(anchored(0, 1), 2);
    assert!(world.run(std::slice::from_ref(&g)).is_ok());
    assert_eq!(world.run_with(&[g], Some(&NoAncestors)), Err(ReportsError::LookupAnchorNotRecent));
}

#[test]
fn packages_must_be_new_and_dependencies_known() {
    let mut world = World::new();
    let (g0, mut g1) = (world.guarantee(anchored(0, 1), 2), world.guarantee(anchored(1, 1), 2));
    assert_eq!(world.run(&[g0.clone(), g1.clone()]), Err(ReportsError::DuplicatePackage));

    // Dependencies on the other report of the block and on recent history are fine.
    g1.report.package_spec.hash = [2; 32];
    g1.report.context.prerequisites = vec![[1; 32], [0x50; 32]];
    g1.report.segment_root_lookup = vec![
        SegmentRootLookupItem { work_package_hash: [1; 32], segment_tree_root: [2; 32] },
        SegmentRootLookupItem { work_package_hash: [0x50; 32], segment_tree_root: [0x51; 32] },
    ];
    resign(&mut g1);
    assert!(world.run(&[g0.clone(), g1.clone()]).is_ok());

    let mut missing = g1.clone();
    missing.report.context.prerequisites.push([3; 32]);
    resign(&mut missing);
    assert_eq!(world.run(&[g0.clone(), missing]), Err(ReportsError::DependencyMissing));

    let mut wrong_root = g1.clone();
    wrong_root.report.segment_root_lookup[1].segment_tree_root = [0; 32];
    resign(&mut wrong_root);
    assert_eq!(world.run(&[g0.clone(), wrong_root]), Err(ReportsError::SegmentRootLookupInvalid));

    world.known.insert([1; 32]);
    assert_eq!(world.run(&[g0]), Err(ReportsError::DuplicatePackage));
}
