//! Ξ on real programs (the `authorizer`, `probe` and vectors' test-service blobs): a whole report
//! checked field by field against the paper worked by hand, the report's limits on outputs and
//! exports (`⊛`, `⊚`, zero segments), and the package and data checks.

use std::collections::BTreeMap;

use orrery_codec::Encode;
use orrery_state::{ServiceAccount, ServiceInfo};
use orrery_types::constants::{MAX_PACKAGE_ITEMS, MAX_REPORT_VAR_SIZE, SEGMENT_SIZE};
use orrery_types::{
    ChainSpec, ExtrinsicSpec, Hash, ImportSpec, RefineContext, SegmentRootLookupItem, WorkExecResult,
    WorkItem, WorkPackage,
};
use orrery_work_report::{
    availability_shards, compute_work_report, verify_bundle_shard, verify_shard, ComputedReport, PackageData,
    ReportError,
};

const AUTHORIZER: &[u8] = include_bytes!("../../../guests/authorizer.jam");
const PROBE: &[u8] = include_bytes!("../../../guests/probe.jam");

const AUTH_HOST: u32 = 3;
const PROBE_ID: u32 = 1729;
const TEST_SERVICE_ID: u32 = 1730;
const CORE: u16 = 1;
const KEY: &[u8] = b"key";
/// "authorized" ⌢ E2(1).
const TRACE: &[u8] = b"authorized\x01\x00";

fn spec() -> ChainSpec {
    ChainSpec::tiny()
}

fn blake(data: &[u8]) -> Hash {
    use blake2::digest::consts::U32;
    use blake2::{Blake2b, Digest};
    Blake2b::<U32>::digest(data).into()
}

fn test_service_blob() -> Vec<u8> {
    let path = orrery_testkit::vectors().join("stf/accumulate/tiny/process_one_immediate_report-1.json");
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let blob = json["pre_state"]["accounts"][0]["data"]["preimage_blobs"][0]["blob"].as_str().unwrap();
    hex::decode(blob.trim_start_matches("0x")).unwrap()
}

/// An account holding `blobs` as preimages available since slot 0.
fn holding(blobs: &[&[u8]]) -> ServiceAccount {
    let mut account = ServiceAccount::new(ServiceInfo { balance: 1 << 40, ..ServiceInfo::default() });
    for blob in blobs {
        let hash = blake(blob);
        account.set_preimage(&hash, blob.to_vec());
        account.set_request(&hash, blob.len() as u32, &[0]);
    }
    account
}

fn accounts() -> BTreeMap<u32, ServiceAccount> {
    let test_service = test_service_blob();
    [
        (AUTH_HOST, holding(&[AUTHORIZER])),
        (PROBE_ID, holding(&[PROBE, b"a preimage of old"])),
        (TEST_SERVICE_ID, holding(&[&test_service])),
    ]
    .into_iter()
    .collect()
}

fn item(service: u32, code: &[u8], payload: Vec<u8>, exports: u16) -> WorkItem {
    WorkItem {
        service,
        code_hash: blake(code),
        refine_gas_limit: 5_000_000,
        accumulate_gas_limit: 100_000,
        export_count: exports,
        payload,
        import_segments: Vec::new(),
        extrinsic: Vec::new(),
    }
}

fn package(items: Vec<WorkItem>) -> WorkPackage {
    WorkPackage {
        auth_code_host: AUTH_HOST,
        auth_code_hash: blake(AUTHORIZER),
        context: RefineContext {
            anchor: [1; 32],
            state_root: [2; 32],
            beefy_root: [3; 32],
            lookup_anchor: [4; 32],
            lookup_anchor_slot: 10,
            prerequisites: Vec::new(),
        },
        authorization: KEY.to_vec(),
        authorizer_config: KEY.to_vec(),
        items,
    }
}

/// Data for items with no imports or extrinsics.
fn no_data(items: usize) -> PackageData {
    PackageData {
        imports: vec![Vec::new(); items],
        justifications: vec![Vec::new(); items],
        extrinsics: vec![Vec::new(); items],
        segment_roots: BTreeMap::new(),
    }
}

fn compute(package: &WorkPackage, data: &PackageData) -> Result<ComputedReport, ReportError> {
    compute_work_report(&spec(), package, CORE, &accounts(), data, None)
}

/// Three segments an earlier package exported, its hash and their root.
fn earlier_exports() -> (Vec<Vec<u8>>, Hash, Hash) {
    let segments: Vec<Vec<u8>> = (0..3u8).map(|i| vec![i + 0x40; SEGMENT_SIZE]).collect();
    let root = orrery_merkle::constant_depth_root(&segments, blake);
    (segments, [0xee; 32], root)
}

#[test]
fn a_whole_report_field_by_field() {
    let (earlier, earlier_package, earlier_root) = earlier_exports();
    let old = b"a preimage of old";
    let mut probe_payload = vec![0];
    probe_payload.extend_from_slice(&blake(old));
    let mut probe = item(PROBE_ID, PROBE, probe_payload.clone(), 2);
    // Import segment 1 of the earlier package, named by its hash (the flag bit).
    probe.import_segments =
        vec![ImportSpec { tree_root: earlier_package, index: 1 | ImportSpec::PACKAGE_HASH_FLAG }];
    probe.extrinsic = vec![ExtrinsicSpec { hash: blake(b"extrinsic!"), len: 10 }];
    let test_service = test_service_blob();
    let hello = item(TEST_SERVICE_ID, &test_service, b"world".to_vec(), 0);
    let package = package(vec![probe, hello]);

    let path = orrery_merkle::justification(&earlier, 0, 1, blake).unwrap();
    let mut segment_roots = BTreeMap::new();
    segment_roots.insert(earlier_package, earlier_root);
    segment_roots.insert([0x77; 32], [0x78; 32]); // no import names it: left out
    let data = PackageData {
        imports: vec![vec![earlier[1].clone()], Vec::new()],
        justifications: vec![vec![path.clone()], Vec::new()],
        extrinsics: vec![vec![b"extrinsic!".to_vec()], Vec::new()],
        segment_roots,
    };
    let computed = compute(&package, &data).unwrap();
    let report = &computed.report;

    // Authorization: the trace, H(p_h ⌢ p_f), the gas it used.
    assert_eq!(report.auth_output, TRACE);
    assert_eq!(report.authorizer_hash, blake(&[&blake(AUTHORIZER)[..], KEY].concat()));
    assert!(report.auth_gas_used > 0);
    assert_eq!(report.auth_gas_used, computed.authorization.gas_used);
    assert_eq!((report.core_index, &report.context), (CORE, &package.context));
    assert_eq!(
        report.segment_root_lookup,
        vec![SegmentRootLookupItem { work_package_hash: earlier_package, segment_tree_root: earlier_root }]
    );

    // The digests: C(w, r, u).
    let [probe_digest, hello_digest] = &report.results[..] else { panic!("two digests") };
    assert_eq!(probe_digest.service_id, PROBE_ID);
    assert_eq!(probe_digest.code_hash, blake(PROBE));
    assert_eq!(probe_digest.payload_hash, blake(&probe_payload));
    assert_eq!(probe_digest.accumulate_gas, 100_000);
    let WorkExecResult::Ok(transcript) = &probe_digest.result else { panic!("{:?}", probe_digest.result) };
    // The probe's export indices (words 26 and 27 of its transcript) start at ς = 0 for item 0.
    let word = |i: usize| u64::from_le_bytes(transcript[i * 8..i * 8 + 8].try_into().unwrap());
    assert_eq!((word(26), word(27)), (0, 1));
    let load = &probe_digest.refine_load;
    assert_eq!((load.imports, load.extrinsic_count, load.extrinsic_size, load.exports), (1, 1, 10, 2));
    assert!(load.gas_used > 0);
    assert_eq!(hello_digest.result, WorkExecResult::Ok(b"Hello world".to_vec()));
    assert_eq!(hello_digest.payload_hash, blake(b"world"));
    assert_eq!(hello_digest.refine_load.exports, 0);

    // Exports: the imported segment, then "probe export" padded.
    let mut padded = b"probe export".to_vec();
    padded.resize(SEGMENT_SIZE, 0);
    assert_eq!(computed.exports, vec![earlier[1].clone(), padded]);

    // The availability specifier.
    let spec_ = &report.package_spec;
    assert_eq!(spec_.hash, blake(&package.encode()));
    assert_eq!(spec_.exports_count, 2);
    assert_eq!(spec_.exports_root, orrery_merkle::constant_depth_root(&computed.exports, blake));
    // Bundle: E(p), the extrinsic, the segment, then ↕ of the path (E(2) and two hashes).
    assert_eq!(path.len(), 2, "three leaves pad to four: a path of two");
    let expected_len = package.encode().len() + 10 + SEGMENT_SIZE + 1 + 2 * 32;
    assert_eq!((spec_.length as usize, computed.bundle.len()), (expected_len, expected_len));
    assert_eq!(spec_.erasure_root, erasure_root_by_hand(&computed.bundle, &computed.exports));
}

/// The erasure root from eq. 14.11 written out again: per validator, the hash of its bundle chunk
/// next to the M_B root of its chunks of every segment and paged proof.
fn erasure_root_by_hand(bundle: &[u8], exports: &[Vec<u8>]) -> Hash {
    let coder = orrery_erasure::ErasureCoder::for_spec(&spec()).unwrap();
    let chunks = coder.encode(bundle).unwrap();
    // The chunks are the bundle's: the first data_shards of them give it back.
    let recovered =
        coder.reconstruct((0..coder.data_shards()).map(|i| (i, chunks.get(i).unwrap())), bundle.len());
    assert_eq!(recovered.unwrap(), bundle);
    // Two exports make one page of proofs: J_6 is empty (the tree is one page), L_6 two leaf hashes.
    let leaves = orrery_merkle::constant_depth_leaves(exports, blake);
    let mut proof = vec![0u8, exports.len() as u8];
    leaves[..exports.len()].iter().for_each(|h| proof.extend_from_slice(h));
    proof.resize(SEGMENT_SIZE, 0);
    let segment_chunks: Vec<_> = exports.iter().chain([&proof]).map(|s| coder.encode(s).unwrap()).collect();
    let pairs: Vec<Vec<u8>> = (0..coder.total_shards())
        .map(|v| {
            let mine: Vec<&[u8]> = segment_chunks.iter().map(|c| c.get(v).unwrap()).collect();
            [blake(chunks.get(v).unwrap()), orrery_merkle::well_balanced_root(&mine, blake)].concat()
        })
        .collect();
    orrery_merkle::well_balanced_root(&pairs, blake)
}

/// The shards a guarantor hands out: each validator's justification proves its shard against the
/// erasure root the report carries (checked above against the paper by hand), a flipped byte does
/// not, and with a third of the shards lost the rest give back the bundle and every segment.
#[test]
fn every_shard_proves_against_the_reported_erasure_root() {
    let package = package(vec![probe_item(&output_of(5), 1), probe_item(&output_of(3), 2)]);
    let computed = compute(&package, &no_data(2)).unwrap();
    let root = computed.report.package_spec.erasure_root;
    let shards = availability_shards(&spec(), &computed.bundle, &computed.exports).unwrap();
    assert_eq!(shards.erasure_root, root);
    assert_eq!(root, erasure_root_by_hand(&computed.bundle, &computed.exports));
    let count = shards.shards.len();
    assert_eq!(count, usize::from(spec().validators_count));
    for (i, shard) in shards.shards.iter().enumerate() {
        // Three exports and one page of proofs: four segment chunks each.
        assert_eq!(shard.segments.len(), 4);
        assert!(verify_shard(&root, i, count, &shard.bundle, &shard.segments, &shard.justification));
        // Another index, a flipped byte of either part, a truncated path: all refused.
        assert!(!verify_shard(
            &root,
            (i + 1) % count,
            count,
            &shard.bundle,
            &shard.segments,
            &shard.justification
        ));
        let mut bundle = shard.bundle.clone();
        bundle[0] ^= 1;
        assert!(!verify_shard(&root, i, count, &bundle, &shard.segments, &shard.justification));
        let mut segments = shard.segments.clone();
        segments[2][0] ^= 1;
        assert!(!verify_shard(&root, i, count, &shard.bundle, &segments, &shard.justification));
        let short = &shard.justification[1..];
        assert!(!verify_shard(&root, i, count, &shard.bundle, &shard.segments, short));
        // An auditor's check (CE 138): the bundle shard with its segment shards' M_B root in place
        // of the shards themselves.
        let segments_root = orrery_merkle::well_balanced_root(&shard.segments, orrery_crypto::blake2b_256);
        assert!(verify_bundle_shard(&root, i, count, &shard.bundle, &segments_root, &shard.justification));
        assert!(!verify_bundle_shard(&root, i, count, &bundle, &segments_root, &shard.justification));
        let mut wrong_root = segments_root;
        wrong_root[31] ^= 1;
        assert!(!verify_bundle_shard(&root, i, count, &shard.bundle, &wrong_root, &shard.justification));
        assert!(!verify_bundle_shard(
            &root,
            (i + 1) % count,
            count,
            &shard.bundle,
            &segments_root,
            &shard.justification
        ));
    }
    // Lose the first third (the systematic chunks among them), recover from the rest.
    let coder = orrery_erasure::ErasureCoder::for_spec(&spec()).unwrap();
    let lost = count / 3;
    let kept = || shards.shards.iter().enumerate().skip(lost);
    let bundle = coder.reconstruct(kept().map(|(i, s)| (i, &s.bundle)), computed.bundle.len()).unwrap();
    assert_eq!(bundle, computed.bundle);
    for (n, export) in computed.exports.iter().enumerate() {
        let segment = coder.reconstruct_segment(kept().map(|(i, s)| (i, &s.segments[n]))).unwrap();
        assert_eq!(&segment[..], &export[..]);
    }
}

fn probe_item(mode: &[u8], exports: u16) -> WorkItem {
    item(PROBE_ID, PROBE, mode.to_vec(), exports)
}

fn output_of(n: usize) -> Vec<u8> {
    let mut mode = vec![3];
    mode.extend_from_slice(&(n as u32).to_le_bytes());
    mode
}

#[test]
fn outputs_past_w_r_are_oversize_counting_the_trace() {
    // z starts at |t| = 12: the first output may take W_R − 12 octets, then nothing more fits
    // but an empty output.
    let first = package(vec![
        probe_item(&output_of(MAX_REPORT_VAR_SIZE - TRACE.len()), 0),
        probe_item(&output_of(1), 1),
        probe_item(&output_of(0), 0),
    ]);
    let computed = compute(&first, &no_data(3)).unwrap();
    let results: Vec<_> = computed.report.results.iter().map(|r| &r.result).collect();
    assert_eq!(results[0], &WorkExecResult::Ok(vec![0x5a; MAX_REPORT_VAR_SIZE - TRACE.len()]));
    assert_eq!(results[1], &WorkExecResult::Oversize);
    assert_eq!(results[2], &WorkExecResult::Ok(Vec::new()));
    // The oversized item's declared export is a zero segment.
    assert_eq!(computed.exports, vec![vec![0; SEGMENT_SIZE]]);
    // One octet less on the first item and the second fits.
    let second = package(vec![
        probe_item(&output_of(MAX_REPORT_VAR_SIZE - TRACE.len() - 1), 0),
        probe_item(&output_of(1), 0),
    ]);
    let computed = compute(&second, &no_data(2)).unwrap();
    assert_eq!(computed.report.results[1].result, WorkExecResult::Ok(vec![0x5a]));
}

#[test]
fn wrong_export_counts_and_failures_give_zero_segments() {
    let mixed = package(vec![
        // Exports 1 of 2 declared: ⊚.
        probe_item(&[4, 1], 2),
        // Exports 2 of 2: kept (indices ς = 2, 3).
        probe_item(&[4, 2], 2),
        // Panics having declared 1: no exports, so ⊚ too (the count is checked before the error).
        probe_item(&[2], 1),
        // Panics declaring none: ☇.
        probe_item(&[2], 0),
        // Loops: ∞ at its gas limit.
        probe_item(&[1], 0),
    ]);
    let computed = compute(&mixed, &no_data(5)).unwrap();
    let results: Vec<_> = computed.report.results.iter().map(|r| r.result.clone()).collect();
    assert_eq!(
        results,
        [
            WorkExecResult::BadExports,
            WorkExecResult::Ok(b"exported".to_vec()),
            WorkExecResult::BadExports,
            WorkExecResult::Panic,
            WorkExecResult::OutOfGas,
        ]
    );
    assert_eq!(computed.report.results[4].refine_load.gas_used, 5_000_000);
    let zero = vec![0u8; SEGMENT_SIZE];
    let seg = |b: u8| {
        let mut s = vec![b; 8];
        s.resize(SEGMENT_SIZE, 0);
        s
    };
    assert_eq!(computed.exports, vec![zero.clone(), zero.clone(), seg(0), seg(1), zero]);
    assert_eq!(computed.report.package_spec.exports_count, 5);
}

#[test]
fn refused_packages_and_bad_data_give_errors() {
    let ok = package(vec![probe_item(&[2], 0)]);
    // The authorizer refuses another token.
    let mut refused = ok.clone();
    refused.authorization = b"wrong".to_vec();
    assert_eq!(compute(&refused, &no_data(1)).unwrap_err(), ReportError::Unauthorized(WorkExecResult::Panic));
    // No authorizer code at the anchor.
    let mut missing = ok.clone();
    missing.auth_code_host = 99;
    assert_eq!(
        compute(&missing, &no_data(1)).unwrap_err(),
        ReportError::Unauthorized(WorkExecResult::BadCode)
    );
    // No such core.
    let err = compute_work_report(&spec(), &ok, 2, &accounts(), &no_data(1), None).unwrap_err();
    assert_eq!(err, ReportError::NoSuchCore { core: 2, cores: 2 });
    // Item counts and limits.
    assert_eq!(compute(&package(vec![]), &no_data(0)).unwrap_err(), ReportError::ItemCount(0));
    let many = package(vec![probe_item(&[2], 0); MAX_PACKAGE_ITEMS + 1]);
    assert_eq!(compute(&many, &no_data(17)).unwrap_err(), ReportError::ItemCount(17));
    let exports = package(vec![probe_item(&[2], 3000), probe_item(&[2], 73)]);
    assert_eq!(compute(&exports, &no_data(2)).unwrap_err(), ReportError::TooManyExports(3073));
    let mut gas = package(vec![probe_item(&[2], 0)]);
    gas.items[0].refine_gas_limit = spec().max_refine_gas;
    assert!(matches!(compute(&gas, &no_data(1)).unwrap_err(), ReportError::RefineGas { .. }));
    gas.items[0].refine_gas_limit = 1;
    gas.items[0].accumulate_gas_limit = spec().max_accumulate_gas;
    assert!(matches!(compute(&gas, &no_data(1)).unwrap_err(), ReportError::AccumulateGas { .. }));

    // Data: shape, extrinsics, imports and their proofs, the lookup.
    assert_eq!(compute(&ok, &no_data(2)).unwrap_err(), ReportError::DataShape { expected: 1, got: 2 });
    let mut with_extrinsic = ok.clone();
    with_extrinsic.items[0].extrinsic = vec![ExtrinsicSpec { hash: blake(b"abc"), len: 3 }];
    let mut data = no_data(1);
    data.extrinsics[0] = vec![b"abd".to_vec()];
    assert_eq!(compute(&with_extrinsic, &data).unwrap_err(), ReportError::Extrinsic { item: 0, index: 0 });
    data.extrinsics[0] = vec![];
    assert_eq!(
        compute(&with_extrinsic, &data).unwrap_err(),
        ReportError::ExtrinsicCount { item: 0, expected: 1, got: 0 }
    );

    let (earlier, earlier_package, earlier_root) = earlier_exports();
    let mut importing = ok.clone();
    importing.items[0].import_segments = vec![ImportSpec { tree_root: earlier_root, index: 2 }];
    let mut data = no_data(1);
    data.imports[0] = vec![earlier[2].clone()];
    data.justifications[0] = vec![orrery_merkle::justification(&earlier, 0, 2, blake).unwrap()];
    assert!(compute(&importing, &data).is_ok(), "a segment root named directly");
    data.imports[0] = vec![earlier[1].clone()];
    assert_eq!(compute(&importing, &data).unwrap_err(), ReportError::ImportProof { item: 0, index: 0 });
    data.imports[0] = vec![vec![0x42; 10]];
    assert_eq!(
        compute(&importing, &data).unwrap_err(),
        ReportError::SegmentSize { item: 0, index: 0, len: 10 }
    );
    importing.items[0].import_segments[0] =
        ImportSpec { tree_root: earlier_package, index: 2 | ImportSpec::PACKAGE_HASH_FLAG };
    data.imports[0] = vec![earlier[2].clone()];
    assert_eq!(compute(&importing, &data).unwrap_err(), ReportError::MissingSegmentRoot(earlier_package));
}

#[test]
fn a_trace_longer_than_w_r_is_refused() {
    // An authorizer that halts with W_R + 1 octets of its 16 heap pages (from 2·Z_Z = 0x20000, as
    // there is no read-only data) as its trace. Blob: no metadata, |o| = |w| = 0, z = 16,
    // s = 4096, then the program.
    let mut asm = orrery_invocation::testing::Asm::new();
    asm.load_imm64(7, 0x20000).load_imm64(8, MAX_REPORT_VAR_SIZE as u64 + 1).halt();
    let program = asm.program();
    let mut blob = vec![0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0x10, 0];
    blob.extend_from_slice(&(program.len() as u32).to_le_bytes());
    blob.extend_from_slice(&program);
    let mut held = accounts();
    held.insert(AUTH_HOST, holding(&[&blob]));
    let mut p = package(vec![probe_item(&[2], 0)]);
    p.auth_code_hash = blake(&blob);
    let err = compute_work_report(&spec(), &p, CORE, &held, &no_data(1), None).unwrap_err();
    assert_eq!(err, ReportError::TraceTooLarge(MAX_REPORT_VAR_SIZE + 1));
}

#[test]
fn the_bundle_decodes_back_to_the_package_and_its_data() {
    use orrery_work_report::{decode_bundle, BundleError};
    let (earlier, earlier_package, earlier_root) = earlier_exports();
    let mut probe = item(PROBE_ID, PROBE, vec![1], 0);
    probe.import_segments =
        vec![ImportSpec { tree_root: earlier_package, index: 2 | ImportSpec::PACKAGE_HASH_FLAG }];
    probe.extrinsic = vec![
        ExtrinsicSpec { hash: blake(b"first"), len: 5 },
        ExtrinsicSpec { hash: blake(b"second one"), len: 10 },
    ];
    let mut other = item(PROBE_ID, PROBE, vec![2], 0);
    other.extrinsic = vec![ExtrinsicSpec { hash: blake(b"third"), len: 5 }];
    let package = package(vec![probe, other]);
    let mut segment_roots = BTreeMap::new();
    segment_roots.insert(earlier_package, earlier_root);
    let data = PackageData {
        imports: vec![vec![earlier[2].clone()], Vec::new()],
        justifications: vec![vec![orrery_merkle::justification(&earlier, 0, 2, blake).unwrap()], Vec::new()],
        extrinsics: vec![vec![b"first".to_vec(), b"second one".to_vec()], vec![b"third".to_vec()]],
        segment_roots,
    };
    let computed = compute(&package, &data).unwrap();
    let (decoded, mut back) = decode_bundle(&computed.bundle).unwrap();
    assert_eq!(decoded, package);
    // The lookup travels beside the bundle, not in it.
    assert!(back.segment_roots.is_empty());
    back.segment_roots = data.segment_roots.clone();
    assert_eq!(back, data);

    // Cut short, or with bytes after it, it is no bundle.
    let cut = &computed.bundle[..computed.bundle.len() - 1];
    assert!(matches!(decode_bundle(cut), Err(BundleError::Codec(_))));
    let mut longer = computed.bundle.clone();
    longer.push(0);
    assert!(matches!(decode_bundle(&longer), Err(BundleError::Codec(_))));
}
