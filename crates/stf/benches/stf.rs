//! Sub-transition speed on full-spec blocks built by hand: every validator assuring every core,
//! and a bad verdict with a full supermajority of judgments. Signature checks dominate both.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ed25519_zebra::SigningKey;
use orrery_codec::{BitVec, Encode};
use orrery_crypto::{blake2b_256, blake2b_256_concat};
use orrery_state::{
    AvailabilityAssignment, AvailabilityAssignments, DisputesRecords, ValidatorData, ValidatorsData,
};
use orrery_stf::disputes::DisputesInput;
use orrery_stf::{assurances, contexts, disputes};
use orrery_types::{
    AvailAssurance, ChainSpec, Culprit, DisputesExtrinsic, Judgement, RefineContext, RefineLoad, Verdict,
    WorkExecResult, WorkPackageSpec, WorkReport, WorkResult,
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
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
