//! The work-package messages: layouts written out by hand from JAMNP-S and GP 0.7.2 Appendix C,
//! rejections, and round trips.

use orrery_codec::{BitVec, Encode, Error};
use orrery_types::{
    ChainSpec, ExtrinsicSpec, ImportSpec, RefineContext, ReportGuarantee, SegmentRootLookupItem,
    ValidatorSignature, WorkItem, WorkPackage, WorkPackageSpec, WorkReport,
};
use proptest::prelude::*;

use super::*;
use crate::message::max_message_size;

fn context() -> RefineContext {
    RefineContext {
        anchor: [1; 32],
        state_root: [2; 32],
        beefy_root: [3; 32],
        lookup_anchor: [4; 32],
        lookup_anchor_slot: 9,
        prerequisites: vec![],
    }
}

/// The context above, by hand: four hashes, the slot, no prerequisites.
fn context_bytes() -> Vec<u8> {
    let mut b = Vec::new();
    for fill in 1..=4u8 {
        b.extend_from_slice(&[fill; 32]);
    }
    b.extend_from_slice(&[9, 0, 0, 0]);
    b.push(0);
    b
}

fn item(service: u32, extrinsic: Vec<ExtrinsicSpec>) -> WorkItem {
    WorkItem {
        service,
        code_hash: [0xcc; 32],
        refine_gas_limit: 100,
        accumulate_gas_limit: 1,
        export_count: 0,
        payload: vec![0x11],
        import_segments: vec![],
        extrinsic,
    }
}

/// Two items: the first names extrinsics of 3 and 0 bytes, the second one of 2 bytes.
fn submission() -> WorkPackageSubmission {
    let package = WorkPackage {
        auth_code_host: 7,
        auth_code_hash: [0xaa; 32],
        context: context(),
        authorization: vec![0xde, 0xad],
        authorizer_config: vec![],
        items: vec![
            item(
                5,
                vec![ExtrinsicSpec { hash: [0xe1; 32], len: 3 }, ExtrinsicSpec { hash: [0xe2; 32], len: 0 }],
            ),
            item(6, vec![ExtrinsicSpec { hash: [0xe3; 32], len: 2 }]),
        ],
    };
    WorkPackageSubmission {
        core: 1,
        package,
        extrinsics: vec![vec![vec![0xa1, 0xa2, 0xa3], vec![]], vec![vec![0xb1, 0xb2]]],
    }
}

/// `item(service, specs)` by hand (GP 0.7.2 Appendix C order): service, code hash, the two gas
/// limits as 8 bytes, export count as 2, then payload, imports and extrinsic specs, each `len++`.
fn item_bytes(service: u8, specs: &[([u8; 32], u8)]) -> Vec<u8> {
    let mut b = vec![service, 0, 0, 0];
    b.extend_from_slice(&[0xcc; 32]);
    b.extend_from_slice(&[100, 0, 0, 0, 0, 0, 0, 0]);
    b.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0]);
    b.extend_from_slice(&[0, 0]);
    b.extend_from_slice(&[1, 0x11]);
    b.push(0);
    b.push(specs.len() as u8);
    for (hash, len) in specs {
        b.extend_from_slice(hash);
        b.extend_from_slice(&[*len, 0, 0, 0]);
    }
    b
}

fn submission_head_bytes() -> Vec<u8> {
    let mut b = vec![1, 0]; // core 1
    b.extend_from_slice(&[7, 0, 0, 0]);
    b.extend_from_slice(&[0xaa; 32]);
    b.extend_from_slice(&context_bytes());
    b.extend_from_slice(&[2, 0xde, 0xad]);
    b.push(0);
    b.push(2);
    b.extend_from_slice(&item_bytes(5, &[([0xe1; 32], 3), ([0xe2; 32], 0)]));
    b.extend_from_slice(&item_bytes(6, &[([0xe3; 32], 2)]));
    b
}

#[test]
fn submission_layout_by_hand() {
    let s = submission();
    let head = submission_head_bytes();
    let extrinsics = [0xa1, 0xa2, 0xa3, 0xb1, 0xb2];
    assert_eq!(s.encode_head(), head);
    assert_eq!(s.encode_extrinsics(), extrinsics);
    assert_eq!(WorkPackageSubmission::extrinsics_size(&s.package), 5);
    assert_eq!(WorkPackageSubmission::decode(&head, &extrinsics).unwrap(), s);
}

#[test]
fn submission_rejections() {
    let s = submission();
    let head = submission_head_bytes();
    let extrinsics = s.encode_extrinsics();
    // The extrinsics one byte short, one byte long.
    assert_eq!(
        WorkPackageSubmission::decode(&head, &extrinsics[..4]),
        Err(MessageError::ExtrinsicsSize { declared: 5, got: 4 })
    );
    let mut long = extrinsics.clone();
    long.push(0);
    assert_eq!(
        WorkPackageSubmission::decode(&head, &long),
        Err(MessageError::ExtrinsicsSize { declared: 5, got: 6 })
    );
    // A truncated head, and a trailing byte.
    assert!(matches!(
        WorkPackageSubmission::decode_head(&head[..head.len() - 1]),
        Err(MessageError::Codec(Error::UnexpectedEnd { .. }))
    ));
    let mut trailing = head.clone();
    trailing.push(0);
    assert_eq!(
        WorkPackageSubmission::decode_head(&trailing),
        Err(MessageError::Codec(Error::TrailingBytes(1)))
    );
    // A package over 200 KiB, refused before it is decoded.
    let mut big = s.clone();
    big.package.authorization = vec![0; MAX_PACKAGE_SIZE];
    let bytes = big.encode_head();
    assert!(bytes.len() > SUBMISSION_HEAD_SIZE);
    assert_eq!(
        WorkPackageSubmission::decode_head(&bytes),
        Err(MessageError::TooLarge { what: "CE 133 core and work package", len: bytes.len(), cap: 204_802 })
    );
    // Declared lengths that sum past a u32 are compared as u64, not wrapped.
    let mut huge = s.package.clone();
    huge.items[0].extrinsic = vec![ExtrinsicSpec { hash: [0; 32], len: u32::MAX }; 2];
    assert_eq!(WorkPackageSubmission::extrinsics_size(&huge), 2 * u64::from(u32::MAX) + 2);
    assert!(matches!(
        WorkPackageSubmission::decode_extrinsics(&huge, &[0; 8]),
        Err(MessageError::ExtrinsicsSize { .. })
    ));
}

#[test]
fn bundle_share_layout_by_hand() {
    let share = BundleShare {
        core: 3,
        segment_roots: vec![SegmentRootLookupItem { work_package_hash: [5; 32], segment_tree_root: [6; 32] }],
        bundle: vec![9, 8, 7],
    };
    let mut head = vec![3, 0, 1];
    head.extend_from_slice(&[5; 32]);
    head.extend_from_slice(&[6; 32]);
    assert_eq!(share.encode_head(), head);
    assert_eq!(share.encode_bundle(), [9, 8, 7]);
    assert_eq!(BundleShare::decode(&head, &[9, 8, 7]).unwrap(), share);
    assert!(BundleShare::decode_head(&head[..head.len() - 1]).is_err());
    // Nine mappings are one more than a report can hold.
    let nine = BundleShare { segment_roots: vec![share.segment_roots[0].clone(); 9], ..share.clone() };
    assert!(matches!(BundleShare::decode_head(&nine.encode_head()), Err(MessageError::TooLarge { .. })));
    let mut count_nine = vec![3, 0, 9];
    count_nine.extend(std::iter::repeat_n(0u8, 8 * 64));
    assert!(BundleShare::decode_head(&count_nine).is_err());
    // A bundle one byte over W_B.
    let over = vec![0u8; MAX_BUNDLE_SIZE + 1];
    assert!(matches!(BundleShare::decode_bundle(&over), Err(MessageError::TooLarge { cap: 13_791_360, .. })));
}

#[test]
fn report_signature_and_shard_request_by_hand() {
    let mut bytes = vec![0x12; 32];
    bytes.extend_from_slice(&[0x34; 64]);
    let signature = ReportSignature { report_hash: [0x12; 32], signature: [0x34; 64] };
    assert_eq!(signature.encode(), bytes);
    assert_eq!(ReportSignature::decode(&bytes).unwrap(), signature);
    assert!(ReportSignature::decode(&bytes[..95]).is_err());

    let mut bytes = vec![0x56; 32];
    bytes.extend_from_slice(&[0x01, 0x02]);
    let request = ShardRequest { erasure_root: [0x56; 32], shard_index: 0x0201 };
    assert_eq!(request.encode(), bytes);
    assert_eq!(ShardRequest::decode(&bytes).unwrap(), request);
    bytes.push(0);
    assert_eq!(ShardRequest::decode(&bytes), Err(MessageError::Codec(Error::TrailingBytes(1))));
}

fn guarantee(signatures: usize) -> ReportGuarantee {
    let report = WorkReport {
        package_spec: WorkPackageSpec {
            hash: [0x21; 32],
            length: 300,
            erasure_root: [0x22; 32],
            exports_root: [0x23; 32],
            exports_count: 0,
        },
        context: context(),
        core_index: 1,
        authorizer_hash: [0x24; 32],
        auth_gas_used: 0,
        auth_output: vec![],
        segment_root_lookup: vec![],
        results: vec![],
    };
    let signatures = (0..signatures)
        .map(|i| ValidatorSignature { validator_index: i as u16 + 4, signature: [0x30 + i as u8; 64] })
        .collect();
    ReportGuarantee { report, slot: 0x0102, signatures }
}

#[test]
fn guarantee_layout_by_hand() {
    let g = guarantee(2);
    let mut b = vec![0x21; 32];
    b.extend_from_slice(&[0x2c, 0x01, 0, 0]); // length 300
    b.extend_from_slice(&[0x22; 32]);
    b.extend_from_slice(&[0x23; 32]);
    b.extend_from_slice(&[0, 0]);
    b.extend_from_slice(&context_bytes());
    b.push(1); // core, compact
    b.extend_from_slice(&[0x24; 32]);
    b.extend_from_slice(&[0, 0, 0, 0]); // gas (compact), output, lookup, results
    b.extend_from_slice(&[0x02, 0x01, 0, 0]); // slot
    b.push(2);
    b.extend_from_slice(&[4, 0]);
    b.extend_from_slice(&[0x30; 64]);
    b.extend_from_slice(&[5, 0]);
    b.extend_from_slice(&[0x31; 64]);
    assert_eq!(encode_guarantee(&g), b);
    assert_eq!(decode_guarantee(&b).unwrap(), g);
    assert!(decode_guarantee(&b[..b.len() - 1]).is_err());
    for count in [0, 1, 4] {
        assert_eq!(
            decode_guarantee(&guarantee(count).encode()),
            Err(MessageError::GuaranteeSignatures(count))
        );
    }
    assert_eq!(decode_guarantee(&guarantee(3).encode()).unwrap(), guarantee(3));
    let mut big = guarantee(2);
    big.report.auth_output = vec![0; MAX_GUARANTEE_SIZE];
    assert!(matches!(decode_guarantee(&big.encode()), Err(MessageError::TooLarge { .. })));
}

#[test]
fn shard_sizes_of_the_specs() {
    // full: W_P = 6 → 12-byte segment shards; 2·⌈13 791 360 / 684⌉ = 2·20 163.
    assert_eq!(
        ShardSizes::of(&ChainSpec::full()),
        ShardSizes { segment_shard: 12, max_bundle_shard: 40_326 }
    );
    // tiny: W_P = 1026 → 2052; 2·(13 791 360 / 4).
    assert_eq!(
        ShardSizes::of(&ChainSpec::tiny()),
        ShardSizes { segment_shard: 2052, max_bundle_shard: 6_895_680 }
    );
    assert_eq!(MAX_SEGMENT_SHARDS, 3120);
}

const SMALL: ShardSizes = ShardSizes { segment_shard: 3, max_bundle_shard: 8 };

#[test]
fn shard_response_layout_by_hand() {
    let response = ShardResponse {
        bundle_shard: vec![1, 2, 3, 4],
        segment_shards: vec![vec![5, 6, 7], vec![8, 9, 10]],
        justification: vec![
            JustificationStep::Hash([0x77; 32]),
            JustificationStep::Pair([0x88; 32], [0x99; 32]),
        ],
    };
    let mut justification = vec![0];
    justification.extend_from_slice(&[0x77; 32]);
    justification.push(1);
    justification.extend_from_slice(&[0x88; 32]);
    justification.extend_from_slice(&[0x99; 32]);
    let expected = [vec![1, 2, 3, 4], vec![5, 6, 7, 8, 9, 10], justification.clone()];
    assert_eq!(response.encode(), expected);
    assert_eq!(ShardResponse::decode(&expected[0], &expected[1], &expected[2], SMALL).unwrap(), response);

    // Ragged segment shards; a bundle shard over the cap.
    assert!(matches!(
        ShardResponse::decode_segment_shards(&[1, 2, 3, 4], SMALL),
        Err(MessageError::Ragged { len: 4, item: 3, .. })
    ));
    assert!(matches!(ShardResponse::decode_bundle_shard(&[0; 9], SMALL), Err(MessageError::TooLarge { .. })));
    // 3121 segment shards.
    let many = vec![0u8; 3 * (MAX_SEGMENT_SHARDS + 1)];
    assert!(matches!(
        ShardResponse::decode_segment_shards(&many, SMALL),
        Err(MessageError::TooMany { count: 3121, .. })
    ));
    assert_eq!(ShardResponse::decode_segment_shards(&[], SMALL).unwrap(), Vec::<Vec<u8>>::new());
    // An unknown discriminator, a truncated pair, one step too many.
    let mut bad = justification.clone();
    bad[0] = 2;
    assert!(matches!(
        decode_justification(&bad),
        Err(MessageError::Codec(Error::InvalidDiscriminator { value: 2, .. }))
    ));
    assert!(decode_justification(&justification[..justification.len() - 1]).is_err());
    let steps = vec![JustificationStep::Hash([0; 32]); MAX_JUSTIFICATION_STEPS + 1];
    assert!(matches!(
        decode_justification(&encode_justification(&steps)),
        Err(MessageError::TooMany { count: 33, .. })
    ));
    assert_eq!(decode_justification(&encode_justification(&steps[1..])).unwrap().len(), 32);
}

#[test]
fn audit_shard_response_layout_by_hand() {
    let response = AuditShardResponse {
        bundle_shard: vec![1, 2, 3, 4],
        justification: vec![
            JustificationStep::Pair([0x88; 32], [0x99; 32]),
            JustificationStep::Hash([0x55; 32]),
        ],
    };
    let mut justification = vec![1];
    justification.extend_from_slice(&[0x88; 32]);
    justification.extend_from_slice(&[0x99; 32]);
    justification.push(0);
    justification.extend_from_slice(&[0x55; 32]);
    let expected = [vec![1, 2, 3, 4], justification.clone()];
    assert_eq!(response.encode(), expected);
    let decoded = AuditShardResponse::decode(&expected[0], &expected[1], SMALL).unwrap();
    assert_eq!(decoded, response);
    let (root, path) = decoded.split().unwrap();
    assert_eq!(root, [0x55; 32]);
    assert_eq!(path, &[JustificationStep::Pair([0x88; 32], [0x99; 32])]);

    // No segment-shard root: an empty justification, or one ending in a pair.
    assert_eq!(AuditShardResponse::decode(&[1], &[], SMALL), Err(MessageError::NoSegmentShardsRoot));
    assert_eq!(
        AuditShardResponse::decode(&[1], &justification[..65], SMALL),
        Err(MessageError::NoSegmentShardsRoot)
    );
    // A bundle shard over the cap; a truncated root.
    assert!(matches!(
        AuditShardResponse::decode(&[0; 9], &justification, SMALL),
        Err(MessageError::TooLarge { .. })
    ));
    assert!(AuditShardResponse::decode(&[1], &justification[..justification.len() - 1], SMALL).is_err());
}

#[test]
fn assurance_layout_by_hand() {
    let tiny = ChainSpec::tiny().lengths();
    let assurance = AssuranceMessage {
        anchor: [0xab; 32],
        bitfield: BitVec::from_bools([true, false]),
        signature: [0xcd; 64],
    };
    let mut bytes = vec![0xab; 32];
    bytes.push(0b01);
    bytes.extend_from_slice(&[0xcd; 64]);
    assert_eq!(assurance.encode(), bytes);
    assert_eq!(AssuranceMessage::size(2), 97);
    assert_eq!(AssuranceMessage::decode(&bytes, tiny).unwrap(), assurance);
    // A padding bit (core 2 of 2) set.
    let mut padded = bytes.clone();
    padded[32] = 0b101;
    assert_eq!(AssuranceMessage::decode(&padded, tiny), Err(MessageError::Codec(Error::NonZeroPadding)));
    assert!(AssuranceMessage::decode(&bytes[..96], tiny).is_err());
    bytes.push(0);
    assert_eq!(AssuranceMessage::decode(&bytes, tiny), Err(MessageError::Codec(Error::TrailingBytes(1))));
    // full: 341 cores, 43 bytes of bitfield.
    let full = ChainSpec::full().lengths();
    assert_eq!(AssuranceMessage::size(341), 139);
    let mut bytes = vec![0; 139];
    bytes[32 + 42] = 0b1_0000; // core 340, the last
    let decoded = AssuranceMessage::decode(&bytes, full).unwrap();
    assert_eq!(decoded.bitfield.count_ones(), 1);
    assert_eq!(decoded.bitfield.get(340), Some(true));
    bytes[32 + 42] = 0b10_0000; // core 341 does not exist
    assert!(AssuranceMessage::decode(&bytes, full).is_err());
}

#[test]
fn preimage_messages_by_hand() {
    let announcement = PreimageAnnouncement { service: 0x0102_0304, hash: [0xef; 32], length: 258 };
    let mut bytes = vec![4, 3, 2, 1];
    bytes.extend_from_slice(&[0xef; 32]);
    bytes.extend_from_slice(&[2, 1, 0, 0]);
    assert_eq!(announcement.encode(), bytes);
    assert_eq!(bytes.len(), PREIMAGE_ANNOUNCEMENT_SIZE);
    assert_eq!(PreimageAnnouncement::decode(&bytes).unwrap(), announcement);
    assert!(PreimageAnnouncement::decode(&bytes[..39]).is_err());

    assert_eq!(decode_preimage_request(&[0x42; 32]).unwrap(), [0x42; 32]);
    assert!(decode_preimage_request(&[0x42; 31]).is_err());
    assert!(decode_preimage_request(&[0x42; 33]).is_err());
    assert_eq!(decode_preimage(b"abc").unwrap(), b"abc");
}

#[test]
fn stream_caps() {
    use crate::StreamKind as K;
    assert_eq!(max_message_size(K::PREIMAGE_ANNOUNCEMENT), 40);
    assert_eq!(max_message_size(K::ASSURANCE_DISTRIBUTION), 32 + 8192 + 64);
    assert_eq!(max_message_size(K::WORK_REPORT_DISTRIBUTION), 64 * 1024);
    for kind in
        [K::WORK_PACKAGE_SUBMISSION, K::WORK_PACKAGE_SHARING, K::SHARD_DISTRIBUTION, K::PREIMAGE_REQUEST]
    {
        assert_eq!(max_message_size(kind), 13_791_360, "{kind}");
    }
    // The tiny spec's largest answer fits under the kind's cap.
    let tiny = ShardSizes::of(&ChainSpec::tiny());
    assert!(tiny.max_segment_shards_size() <= MAX_BUNDLE_SIZE && tiny.max_bundle_shard <= MAX_BUNDLE_SIZE);
}

// ---- round trips ----

fn hash() -> impl Strategy<Value = [u8; 32]> {
    any::<[u8; 32]>()
}

fn blob(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..max)
}

/// A work item with its extrinsic blobs (the specs' lengths are the blobs').
fn item_with_extrinsics() -> impl Strategy<Value = (WorkItem, Vec<Vec<u8>>)> {
    (
        any::<u32>(),
        hash(),
        any::<u64>(),
        any::<u64>(),
        any::<u16>(),
        blob(40),
        proptest::collection::vec((hash(), any::<u16>()), 0..3),
        proptest::collection::vec((hash(), blob(20)), 0..4),
    )
        .prop_map(|(service, code_hash, refine, accumulate, exports, payload, imports, extrinsics)| {
            let item = WorkItem {
                service,
                code_hash,
                refine_gas_limit: refine,
                accumulate_gas_limit: accumulate,
                export_count: exports,
                payload,
                import_segments: imports
                    .into_iter()
                    .map(|(tree_root, index)| ImportSpec { tree_root, index })
                    .collect(),
                extrinsic: extrinsics
                    .iter()
                    .map(|(hash, blob)| ExtrinsicSpec { hash: *hash, len: blob.len() as u32 })
                    .collect(),
            };
            (item, extrinsics.into_iter().map(|(_, blob)| blob).collect())
        })
}

fn any_submission() -> impl Strategy<Value = WorkPackageSubmission> {
    (
        any::<u16>(),
        any::<u32>(),
        hash(),
        proptest::collection::vec(hash(), 0..3),
        blob(30),
        blob(30),
        proptest::collection::vec(item_with_extrinsics(), 0..4),
    )
        .prop_map(|(core, host, auth_hash, prerequisites, authorization, config, items)| {
            let (items, extrinsics) = items.into_iter().unzip();
            WorkPackageSubmission {
                core,
                package: WorkPackage {
                    auth_code_host: host,
                    auth_code_hash: auth_hash,
                    context: RefineContext { prerequisites, ..context() },
                    authorization,
                    authorizer_config: config,
                    items,
                },
                extrinsics,
            }
        })
}

fn any_step() -> impl Strategy<Value = JustificationStep> {
    prop_oneof![
        hash().prop_map(JustificationStep::Hash),
        (hash(), hash()).prop_map(|(a, b)| JustificationStep::Pair(a, b)),
    ]
}

/// Runs every decoder of this module on `bytes`: each must return, and what decodes must re-encode
/// to the input.
fn decode_everything(bytes: &[u8]) {
    if let Ok((core, package)) = WorkPackageSubmission::decode_head(bytes) {
        let s = WorkPackageSubmission { core, package, extrinsics: vec![] };
        assert_eq!(s.encode_head(), bytes);
    }
    if let Ok((core, segment_roots)) = BundleShare::decode_head(bytes) {
        assert_eq!(BundleShare { core, segment_roots, bundle: vec![] }.encode_head(), bytes);
    }
    if let Ok(v) = ReportSignature::decode(bytes) {
        assert_eq!(v.encode(), bytes);
    }
    if let Ok(v) = decode_guarantee(bytes) {
        assert_eq!(encode_guarantee(&v), bytes);
    }
    if let Ok(v) = ShardRequest::decode(bytes) {
        assert_eq!(v.encode(), bytes);
    }
    if let Ok(v) = decode_justification(bytes) {
        assert_eq!(encode_justification(&v), bytes);
    }
    if let Ok(v) = AuditShardResponse::decode(&[], bytes, SMALL) {
        assert_eq!(v.encode()[1], bytes);
    }
    if let Ok(v) = ShardResponse::decode_segment_shards(bytes, SMALL) {
        assert_eq!(v.concat(), bytes);
    }
    if let Ok(v) = PreimageAnnouncement::decode(bytes) {
        assert_eq!(v.encode(), bytes);
    }
    for spec in [ChainSpec::tiny(), ChainSpec::full()] {
        if let Ok(v) = AssuranceMessage::decode(bytes, spec.lengths()) {
            assert_eq!(v.encode(), bytes);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn submission_round_trip(s in any_submission()) {
        let head = s.encode_head();
        let extrinsics = s.encode_extrinsics();
        prop_assert_eq!(WorkPackageSubmission::decode(&head, &extrinsics).unwrap(), s.clone());
        // Any other extrinsics size is refused.
        if !extrinsics.is_empty() {
            prop_assert!(WorkPackageSubmission::decode(&head, &extrinsics[1..]).is_err());
        }
        let mut longer = extrinsics;
        longer.push(0);
        prop_assert!(WorkPackageSubmission::decode(&head, &longer).is_err());
    }

    #[test]
    fn bundle_share_round_trip(
        core in any::<u16>(),
        roots in proptest::collection::vec((hash(), hash()), 0..=MAX_SEGMENT_ROOT_MAPPINGS),
        bundle in blob(200),
    ) {
        let segment_roots = roots
            .into_iter()
            .map(|(work_package_hash, segment_tree_root)| SegmentRootLookupItem { work_package_hash, segment_tree_root })
            .collect();
        let share = BundleShare { core, segment_roots, bundle };
        prop_assert_eq!(BundleShare::decode(&share.encode_head(), &share.encode_bundle()).unwrap(), share);
    }

    #[test]
    fn shard_response_round_trip(
        bundle_shard in blob(9),
        segments in proptest::collection::vec(any::<[u8; 3]>(), 0..20),
        justification in proptest::collection::vec(any_step(), 0..=MAX_JUSTIFICATION_STEPS),
    ) {
        let response = ShardResponse {
            bundle_shard,
            segment_shards: segments.into_iter().map(|s| s.to_vec()).collect(),
            justification,
        };
        let [a, b, c] = response.encode();
        prop_assert_eq!(ShardResponse::decode(&a, &b, &c, SMALL).unwrap(), response);
    }

    #[test]
    fn assurance_round_trip(anchor in hash(), bits in proptest::collection::vec(any::<bool>(), 341), sig in any::<[u8; 32]>()) {
        let signature: [u8; 64] = std::array::from_fn(|i| sig[i % 32]);
        let full = AssuranceMessage { anchor, bitfield: BitVec::from_bools(bits[..].iter().copied()), signature };
        prop_assert_eq!(AssuranceMessage::decode(&full.encode(), ChainSpec::full().lengths()).unwrap(), full);
        let tiny = AssuranceMessage { anchor, bitfield: BitVec::from_bools(bits[..2].iter().copied()), signature };
        prop_assert_eq!(AssuranceMessage::decode(&tiny.encode(), ChainSpec::tiny().lengths()).unwrap(), tiny);
    }

    #[test]
    fn guarantee_and_small_messages_round_trip(
        count in 2usize..=3,
        slot in any::<u32>(),
        output in blob(100),
        service in any::<u32>(),
        h in hash(),
        length in any::<u32>(),
        index in any::<u16>(),
    ) {
        let mut g = guarantee(count);
        g.slot = slot;
        g.report.auth_output = output;
        prop_assert_eq!(decode_guarantee(&encode_guarantee(&g)).unwrap(), g);
        let a = PreimageAnnouncement { service, hash: h, length };
        prop_assert_eq!(PreimageAnnouncement::decode(&a.encode()).unwrap(), a);
        let r = ShardRequest { erasure_root: h, shard_index: index };
        prop_assert_eq!(ShardRequest::decode(&r.encode()).unwrap(), r);
        let s = ReportSignature { report_hash: h, signature: [slot as u8; 64] };
        prop_assert_eq!(ReportSignature::decode(&s.encode()).unwrap(), s);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        decode_everything(&bytes);
    }

    #[test]
    fn mutated_messages_never_panic(
        s in any_submission(),
        flip in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        // Valid messages with one bit flipped reach deeper into the decoders than random bytes.
        let mut head = s.encode_head();
        let i = flip.index(head.len());
        head[i] ^= 1 << bit;
        decode_everything(&head);
        if let Ok((_, package)) = WorkPackageSubmission::decode_head(&head) {
            let _ = WorkPackageSubmission::decode_extrinsics(&package, &s.encode_extrinsics());
        }
        let mut g = encode_guarantee(&guarantee(2));
        let i = flip.index(g.len());
        g[i] ^= 1 << bit;
        decode_everything(&g);
    }
}

#[test]
fn segment_shard_request_and_answer_by_hand() {
    let request = SegmentShardRequest {
        items: vec![SegmentShardItem {
            erasure_root: [7; 32],
            shard_index: 0x0102,
            segment_indices: vec![3, 0x0405],
        }],
    };
    // len++[ErasureRoot ++ ShardIndex ++ len++[SegmentIndex]], every integer little-endian.
    let mut bytes = vec![1];
    bytes.extend_from_slice(&[7; 32]);
    bytes.extend_from_slice(&[2, 1, 2, 3, 0, 5, 4]);
    assert_eq!(request.encode(), bytes);
    assert_eq!(SegmentShardRequest::decode(&bytes), Ok(request.clone()));
    assert_eq!(request.shard_count(), 2);
    // A short or trailing byte, and more shards than 2·W_M = 6144.
    assert!(SegmentShardRequest::decode(&bytes[..bytes.len() - 1]).is_err());
    assert!(SegmentShardRequest::decode(&[&bytes[..], &[0]].concat()).is_err());
    let many = SegmentShardRequest {
        items: vec![SegmentShardItem {
            erasure_root: [0; 32],
            shard_index: 0,
            segment_indices: vec![0; 6145],
        }],
    };
    assert!(matches!(
        SegmentShardRequest::decode(&many.encode()),
        Err(MessageError::TooMany { count: 6145, cap: 6144, .. })
    ));

    // The answer: the tiny spec's 2052-byte shards, as many as asked, concatenated.
    let sizes = ShardSizes::of(&ChainSpec::tiny());
    let answer = [vec![1u8; 2052], vec![2u8; 2052]].concat();
    assert_eq!(decode_segment_shard_answer(&answer, 2, sizes), Ok(vec![vec![1; 2052], vec![2; 2052]]));
    assert!(decode_segment_shard_answer(&answer, 3, sizes).is_err());
    assert!(decode_segment_shard_answer(&answer[..2051], 1, sizes).is_err());
    assert!(decode_segment_shard_answer(&[], 6145, sizes).is_err());
}
