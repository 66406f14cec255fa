//! Sub-transition speed on full-spec blocks built by hand: every validator assuring every core, a
//! bad verdict with a full supermajority of judgments, and a guarantee on every core. Signature
//! checks dominate all three.

use std::collections::{BTreeMap, BTreeSet};
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ed25519_zebra::SigningKey;
use orrery_codec::{BitVec, Encode};
use orrery_crypto::{blake2b_256, blake2b_256_concat};
use orrery_state::{
    AuthPools, AvailabilityAssignment, AvailabilityAssignments, BlockInfo, DisputesRecords, EntropyBuffer,
    RecentBlocks, ServiceInfo, ValidatorData, ValidatorsData,
};
use orrery_stf::assignments::GuarantorAssignments;
use orrery_stf::disputes::DisputesInput;
use orrery_stf::reports::{self, ReportsInput};
use orrery_stf::{assurances, contexts, disputes};
use orrery_types::{
    AvailAssurance, ChainSpec, Culprit, DisputesExtrinsic, Judgement, RefineContext, RefineLoad,
    ReportGuarantee, ValidatorSignature, Verdict, WorkExecResult, WorkPackageSpec, WorkReport, WorkResult,
};

fn keys(count: usize) -> Vec<SigningKey> {
    (0..count).map(|i| SigningKey::from(blake2b_256(&(i as u64).to_le_bytes()))).collect()
}

fn validators(keys: &[SigningKey]) -> ValidatorsData {
    ValidatorsData(
        keys.iter()
            .map(|k| ValidatorData { ed25519: k.verification_key().into(), ..ValidatorData::NULL })
            .collect(),
    )
}

fn report(core: u16) -> WorkReport {
    WorkReport {
        package_spec: WorkPackageSpec {
            hash: blake2b_256(&core.to_le_bytes()),
            length: 1000,
            erasure_root: [0; 32],
            exports_root: [0; 32],
            exports_count: 0,
        },
        context: RefineContext {
            anchor: [0; 32],
            state_root: [0; 32],
            beefy_root: [0; 32],
            lookup_anchor: [0; 32],
            lookup_anchor_slot: 0,
            prerequisites: vec![],
        },
        core_index: core,
        authorizer_hash: [0; 32],
        auth_gas_used: 0,
        auth_output: vec![],
        segment_root_lookup: vec![],
        results: vec![WorkResult {
            service_id: 1,
            code_hash: [0; 32],
            payload_hash: [0; 32],
            accumulate_gas: 100,
            result: WorkExecResult::Ok(vec![0; 32]),
            refine_load: RefineLoad::default(),
        }],
    }
}

fn bench(c: &mut Criterion) {
    let spec = ChainSpec::full();
    let (v, cores) = (spec.validators_count as usize, spec.cores_count);
    let keys = keys(v);
    let active = validators(&keys);
    let mut group = c.benchmark_group("stf");

    // Every validator assures every core: V signature checks, and all C reports become available.
    let parent = [7; 32];
    let pending = AvailabilityAssignments(
        (0..cores).map(|c| Some(AvailabilityAssignment { report: report(c), timeout: 10 })).collect(),
    );
    let bitfield = BitVec::from_bools(std::iter::repeat_n(true, cores.into()));
    let message = [contexts::AVAILABLE, &blake2b_256_concat(&[&parent, bitfield.as_bytes()])].concat();
    let extrinsic: Vec<AvailAssurance> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| AvailAssurance {
            anchor: parent,
            bitfield: bitfield.clone(),
            validator_index: i as u16,
            signature: k.sign(&message).to_bytes(),
        })
        .collect();
    assert_eq!(
        assurances::apply(&spec, &pending, &active, 11, &parent, &extrinsic).unwrap().available.len(),
        341
    );
    group.throughput(Throughput::Elements(v as u64));
    group.bench_function("assurances/spec=full,assurances=1023", |b| {
        b.iter(|| assurances::apply(&spec, &pending, &active, 11, &parent, black_box(&extrinsic)).unwrap())
    });

    // One bad verdict: ⌊2V/3⌋+1 = 683 judgments and two culprits.
    let target = blake2b_256(&report(0).encode());
    let votes = (0..spec.super_majority())
        .map(|i| Judgement {
            vote: false,
            index: i as u16,
            signature: keys[i].sign(&contexts::judgment_message(false, &target)).to_bytes(),
        })
        .collect();
    let guarantee = [contexts::GUARANTEE, &target].concat();
    let mut culprits: Vec<Culprit> = keys[..2]
        .iter()
        .map(|k| Culprit {
            target,
            key: k.verification_key().into(),
            signature: k.sign(&guarantee).to_bytes(),
        })
        .collect();
    culprits.sort_by_key(|c| c.key);
    let extrinsic =
        DisputesExtrinsic { verdicts: vec![Verdict { target, age: 0, votes }], culprits, faults: vec![] };
    let records = DisputesRecords::default();
    let prior = DisputesInput {
        records: &records,
        pending: &pending,
        prior_slot: 1,
        active: &active,
        previous: &active,
    };
    assert!(disputes::apply(&spec, prior, &extrinsic).is_ok());
    group.throughput(Throughput::Elements(spec.super_majority() as u64 + 2));
    group.bench_function("disputes/spec=full,judgments=683", |b| {
        b.iter(|| disputes::apply(&spec, prior, black_box(&extrinsic)).unwrap())
    });

    // A full block of guarantees: one report on every core, each signed by its three guarantors.
    let slot = 100;
    let entropy = EntropyBuffer([[1; 32], [2; 32], [3; 32], [4; 32]]);
    let assigned = GuarantorAssignments::current(&spec, &entropy, slot, &active);
    let anchor = [0x11; 32];
    let recent = RecentBlocks {
        history: vec![BlockInfo {
            header_hash: anchor,
            beefy_root: [0; 32],
            state_root: [0; 32],
            reported: vec![],
        }],
        mmr: Default::default(),
    };
    let guarantees: Vec<ReportGuarantee> = (0..cores)
        .map(|core| {
            let mut report = report(core);
            report.context.anchor = anchor;
            report.context.lookup_anchor_slot = slot - 1;
            let message = [contexts::GUARANTEE, &blake2b_256(&report.encode())].concat();
            let signatures = (0..v)
                .filter(|&i| assigned.cores[i] == core)
                .map(|i| ValidatorSignature {
                    validator_index: i as u16,
                    signature: keys[i].sign(&message).to_bytes(),
                })
                .collect();
            ReportGuarantee { report, slot, signatures }
        })
        .collect();
    let free = AvailabilityAssignments::empty(cores.into());
    let pools = AuthPools(vec![vec![[0; 32]]; cores.into()]);
    let services: BTreeMap<u32, ServiceInfo> = [(1, ServiceInfo::default())].into();
    let (offenders, known) = (BTreeSet::new(), BTreeSet::new());
    let input = ReportsInput {
        slot,
        pending: &free,
        active: &active,
        previous: &active,
        entropy: &entropy,
        offenders: &offenders,
        recent: &recent,
        auth_pools: &pools,
        services: &services,
        known_packages: &known,
        ancestry: None,
    };
    assert_eq!(reports::apply(&spec, &input, &guarantees).unwrap().reporters.len(), v);
    group.throughput(Throughput::Elements(cores.into()));
    group.bench_function("reports/spec=full,guarantees=341", |b| {
        b.iter(|| reports::apply(&spec, &input, black_box(&guarantees)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
