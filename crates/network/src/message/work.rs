//! The messages of the work-package streams (JAMNP-S @3a81108): CE 133 submission, CE 134 sharing,
//! CE 135 report distribution, CE 137 shard distribution, CE 141 assurances, CE 142/143 preimages.
//! Audit streams (CE 136, 138, 144, 145, 147) and segment recovery (CE 139, 140, 148) are not here
//! yet.
//!
//! Several of these are more than one message on their stream (JAMNP-S sends `CoreIndex ++ Package`
//! then the extrinsics, for example); the types here are the whole exchange in one direction, and
//! their encoders and decoders work message by message, in the order the stream carries them.

use orrery_codec::BitVec;
use orrery_types::{
    CoreIndex, Ed25519Signature, ErasureRoot, Hash, HeaderHash, SegmentRootLookupItem, ServiceId, WorkPackage,
};

/// CE 133 (builder → guarantor): `CoreIndex ++ WorkPackage`, then the extrinsics the package's
/// items name, concatenated in item order. The package is at most 200 KiB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkPackageSubmission {
    pub core: CoreIndex,
    pub package: WorkPackage,
    /// Per item, its extrinsic blobs in the order of the item's `x` (the wire concatenates them;
    /// the decoder splits them by the lengths the items declare).
    pub extrinsics: Vec<Vec<Vec<u8>>>,
}

/// CE 134 (guarantor → co-guarantor): `CoreIndex ++ len++[WorkPackageHash ++ SegmentsRoot]`, then
/// the auditable bundle `E(p, X#, S#, J#)` (GP 0.7.2 eq. 14.15).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleShare {
    pub core: CoreIndex,
    /// The segment-root lookup the sender used for imports named by package hash.
    pub segment_roots: Vec<SegmentRootLookupItem>,
    pub bundle: Vec<u8>,
}

/// CE 134's answer: `WorkReportHash ++ Ed25519Signature` (the co-guarantor's signature on the
/// report, GP 0.7.2 eq. 11.26 context `$jam_guarantee`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, orrery_codec::Encode, orrery_codec::Decode)]
pub struct ReportSignature {
    pub report_hash: Hash,
    pub signature: Ed25519Signature,
}

/// CE 137 and CE 138 requests: `ErasureRoot ++ ShardIndex`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, orrery_codec::Encode, orrery_codec::Decode)]
pub struct ShardRequest {
    pub erasure_root: ErasureRoot,
    pub shard_index: u16,
}

/// One step of a justification: a co-path hash (`0 ++ Hash`), or a leaf given as its two halves
/// (`1 ++ Hash ++ Hash`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JustificationStep {
    Hash(Hash),
    Pair(Hash, Hash),
}

/// CE 137's answer: `BundleShard`, then `[SegmentShard]`, then the justification: the co-path
/// `T(s, i, H)` from the erasure root down to this shard's leaf (GP 0.7.2 eq. 14.16 and
/// Appendix E's `T`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardResponse {
    pub bundle_shard: Vec<u8>,
    pub segment_shards: Vec<Vec<u8>>,
    pub justification: Vec<JustificationStep>,
}

/// CE 141 (assurer → validator): `AnchorHeaderHash ++ Bitfield[⌈C/8⌉] ++ Ed25519Signature`. The
/// assurer's validator index is not on the wire; the receiver knows it from the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssuranceMessage {
    pub anchor: HeaderHash,
    pub bitfield: BitVec,
    pub signature: Ed25519Signature,
}

/// CE 142 (node → validator): `ServiceId ++ Hash ++ PreimageLength`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, orrery_codec::Encode, orrery_codec::Decode)]
pub struct PreimageAnnouncement {
    pub service: ServiceId,
    pub hash: Hash,
    pub length: u32,
}
