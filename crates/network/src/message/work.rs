//! The messages of the work-package streams (JAMNP-S @3a81108): CE 133 submission, CE 134 sharing,
//! CE 135 report distribution, CE 137 shard distribution, CE 141 assurances, CE 142/143 preimages
//! (GP 0.7.2 §11.4 guarantees, §14.3–14.4 bundles and shards, §11.2 assurances).
//! CE 139 segment-shard requests are here too (GP 0.7.2 §14.3's imports); the audit streams are in
//! [`super::audit`], and CE 140 (with justifications) and CE 148 are not here yet.
//!
//! Several of these are more than one message on their stream (JAMNP-S sends `CoreIndex ++ Package`
//! then the extrinsics, for example); the types here are the whole exchange in one direction, and
//! their encoders and decoders work message by message, in the order the stream carries them, so a
//! receiver can judge the first message before it reads the second.
//!
//! What the decoders check: the layout, and the counts and sizes the spec (or this module, where the
//! spec leaves them open) caps. What they do not: any hash (the extrinsics against their specs, a
//! shard against its justification, a preimage against its hash), any signature, and any rule that
//! needs chain state. Those are the node's.

use orrery_codec::{BitVec, Decode, Decoder, Encode, Lengths};
use orrery_types::constants::{
    MAX_BUNDLE_SIZE, MAX_PACKAGE_EXPORTS, MAX_PACKAGE_IMPORTS, MAX_REPORT_DEPENDENCIES, MAX_REPORT_VAR_SIZE,
};
use orrery_types::{
    ChainSpec, CoreIndex, Ed25519Signature, ErasureRoot, Hash, HeaderHash, ReportGuarantee,
    SegmentRootLookupItem, ServiceId, WorkPackage,
};

use super::MessageError;

/// The largest encoded work package a guarantor reads before it can check the package's
/// authorization (JAMNP-S CE 133 and 146, PR #14: 200 KiB).
pub const MAX_PACKAGE_SIZE: usize = 200 * 1024;
/// CE 133's first message, `CoreIndex ++ WorkPackage`: the package cap plus the two-byte core.
pub const SUBMISSION_HEAD_SIZE: usize = 2 + MAX_PACKAGE_SIZE;
/// CE 134's segment-root mappings: a report's lookup dictionary and its prerequisites together hold
/// at most `J` = 8 entries (GP 0.7.2 §11.1), so a sender needs no more mappings than that.
pub const MAX_SEGMENT_ROOT_MAPPINGS: usize = MAX_REPORT_DEPENDENCIES;
/// CE 134's first message: core, a one-byte count and the mappings.
pub const SHARE_HEAD_SIZE: usize = 2 + 1 + MAX_SEGMENT_ROOT_MAPPINGS * 64;
/// CE 134's answer: `WorkReportHash ++ Ed25519Signature`.
pub const REPORT_SIGNATURE_SIZE: usize = 32 + 64;
/// Segment shards in a CE 137 answer: the package's exports (at most `W_X` = 3072) and their paged
/// proofs, one page per 64 exports (GP 0.7.2 §14.3, `P`), so `W_X + ⌈W_X/64⌉` = 3120.
pub const MAX_SEGMENT_SHARDS: usize = MAX_PACKAGE_EXPORTS + MAX_PACKAGE_EXPORTS.div_ceil(64);
/// Steps in a CE 137 justification: the co-path from the erasure root to one of at most 2^16 leaves
/// (the shard index is a `u16`) has at most 16; the cap doubles that so a tree built otherwise
/// (an extra level for the leaf pair) still fits, and keeps the message under 2.1 KB.
pub const MAX_JUSTIFICATION_STEPS: usize = 32;
/// A CE 137 justification at its largest: every step a pair.
pub const MAX_JUSTIFICATION_SIZE: usize = MAX_JUSTIFICATION_STEPS * (1 + 64);
/// A CE 141 assurance for the largest core count a `u16` core index allows.
pub const MAX_ASSURANCE_SIZE: usize = 32 + (1 << 16) / 8 + 64;
/// A CE 135 guaranteed report: the report's blobs total at most `W_R` = 48 KiB (GP 0.7.2 §11.1)
/// and the rest of it (16 digests, 8 lookups and prerequisites, the context, three signatures) is
/// under 4 KiB; 16 KiB more than `W_R` holds any report a block could take.
pub const MAX_GUARANTEE_SIZE: usize = MAX_REPORT_VAR_SIZE + 16 * 1024;
/// Signatures on a guaranteed report: two or three (GP 0.7.2 §11.4).
pub const GUARANTEE_SIGNATURES: std::ops::RangeInclusive<usize> = 2..=3;
/// A CE 142 announcement: `ServiceId ++ Hash ++ Length`.
pub const PREIMAGE_ANNOUNCEMENT_SIZE: usize = 4 + 32 + 4;
/// A CE 143 answer: the spec sets no bound; a preimage larger than a whole bundle (`W_B`) is not
/// one we fetch (the conformance protocol's cap too, `orrery-fuzz`).
pub const MAX_PREIMAGE_SIZE: usize = MAX_BUNDLE_SIZE;

// ---- CE 133 ----

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

impl WorkPackageSubmission {
    /// The first message, `CoreIndex ++ WorkPackage`.
    pub fn encode_head(&self) -> Vec<u8> {
        let mut out = self.core.encode();
        self.package.encode_to(&mut out);
        out
    }

    /// The second message: every extrinsic blob, item by item, with no prefixes.
    pub fn encode_extrinsics(&self) -> Vec<u8> {
        self.extrinsics.iter().flatten().flatten().copied().collect()
    }

    /// Decodes the first message; refuses more than [`SUBMISSION_HEAD_SIZE`] bytes.
    pub fn decode_head(bytes: &[u8]) -> Result<(CoreIndex, WorkPackage), MessageError> {
        check_size("CE 133 core and work package", bytes.len(), SUBMISSION_HEAD_SIZE)?;
        Ok(Decode::decode_all(bytes)?)
    }

    /// The size the second message must have: the sum of the lengths `package`'s items declare.
    /// (A `u64`: 128 lengths of up to 4 GiB each overflow a `u32`.)
    pub fn extrinsics_size(package: &WorkPackage) -> u64 {
        package.items.iter().flat_map(|item| &item.extrinsic).map(|spec| u64::from(spec.len)).sum()
    }

    /// Splits the second message by the lengths `package`'s items declare; refuses a message whose
    /// size is not their sum. The hashes are the node's to check.
    pub fn decode_extrinsics(package: &WorkPackage, bytes: &[u8]) -> Result<Vec<Vec<Vec<u8>>>, MessageError> {
        let declared = Self::extrinsics_size(package);
        if declared != bytes.len() as u64 {
            return Err(MessageError::ExtrinsicsSize { declared, got: bytes.len() });
        }
        // Every length fits in what is left, since they sum to the message size.
        let mut rest = bytes;
        let mut out = Vec::with_capacity(package.items.len());
        for item in &package.items {
            let mut blobs = Vec::with_capacity(item.extrinsic.len());
            for spec in &item.extrinsic {
                let (blob, tail) = rest.split_at(spec.len as usize);
                blobs.push(blob.to_vec());
                rest = tail;
            }
            out.push(blobs);
        }
        Ok(out)
    }

    /// Decodes both messages.
    pub fn decode(head: &[u8], extrinsics: &[u8]) -> Result<Self, MessageError> {
        let (core, package) = Self::decode_head(head)?;
        let extrinsics = Self::decode_extrinsics(&package, extrinsics)?;
        Ok(Self { core, package, extrinsics })
    }
}

// ---- CE 134 ----

/// CE 134 (guarantor → co-guarantor): `CoreIndex ++ len++[WorkPackageHash ++ SegmentsRoot]`, then
/// the auditable bundle `E(p, X#, S#, J#)` (GP 0.7.2 eq. 14.15).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleShare {
    pub core: CoreIndex,
    /// The segment-root lookup the sender used for imports named by package hash.
    pub segment_roots: Vec<SegmentRootLookupItem>,
    pub bundle: Vec<u8>,
}

#[derive(orrery_codec::Encode, orrery_codec::Decode)]
struct ShareHead {
    core: CoreIndex,
    segment_roots: Vec<SegmentRootLookupItem>,
}

impl BundleShare {
    /// The first message, `CoreIndex ++ len++[WorkPackageHash ++ SegmentsRoot]`.
    pub fn encode_head(&self) -> Vec<u8> {
        let mut out = self.core.encode();
        self.segment_roots.encode_to(&mut out);
        out
    }

    /// The second message: the bundle as it is.
    pub fn encode_bundle(&self) -> Vec<u8> {
        self.bundle.clone()
    }

    /// Decodes the first message: at most [`MAX_SEGMENT_ROOT_MAPPINGS`] mappings.
    pub fn decode_head(bytes: &[u8]) -> Result<(CoreIndex, Vec<SegmentRootLookupItem>), MessageError> {
        check_size("CE 134 core and mappings", bytes.len(), SHARE_HEAD_SIZE)?;
        let head = ShareHead::decode_all(bytes)?;
        check_count("CE 134 segment-root mappings", head.segment_roots.len(), MAX_SEGMENT_ROOT_MAPPINGS)?;
        Ok((head.core, head.segment_roots))
    }

    /// Checks the second message: at most `W_B` bytes. The bundle's contents are the node's.
    pub fn decode_bundle(bytes: &[u8]) -> Result<Vec<u8>, MessageError> {
        check_size("CE 134 bundle", bytes.len(), MAX_BUNDLE_SIZE)?;
        Ok(bytes.to_vec())
    }

    /// Decodes both messages.
    pub fn decode(head: &[u8], bundle: &[u8]) -> Result<Self, MessageError> {
        let (core, segment_roots) = Self::decode_head(head)?;
        Ok(Self { core, segment_roots, bundle: Self::decode_bundle(bundle)? })
    }
}

/// CE 134's answer: `WorkReportHash ++ Ed25519Signature` (the co-guarantor's signature on the
/// report, GP 0.7.2 eq. 11.26 context `$jam_guarantee`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, orrery_codec::Encode, orrery_codec::Decode)]
pub struct ReportSignature {
    pub report_hash: Hash,
    pub signature: Ed25519Signature,
}

impl ReportSignature {
    pub fn decode(bytes: &[u8]) -> Result<Self, MessageError> {
        Ok(Decode::decode_all(bytes)?)
    }
}

// ---- CE 135 ----

/// CE 135 (guarantor → validator): `WorkReport ++ Slot ++ len++[ValidatorIndex ++ Signature]` as
/// in the GP, with two or three signatures.
pub fn encode_guarantee(guarantee: &ReportGuarantee) -> Vec<u8> {
    guarantee.encode()
}

/// Decodes a CE 135 message: at most [`MAX_GUARANTEE_SIZE`] bytes and two or three signatures
/// (GP 0.7.2 §11.4). Whether the signers were assigned to the core, and the signatures, are
/// the node's.
pub fn decode_guarantee(bytes: &[u8]) -> Result<ReportGuarantee, MessageError> {
    check_size("CE 135 guaranteed report", bytes.len(), MAX_GUARANTEE_SIZE)?;
    let guarantee = ReportGuarantee::decode_all(bytes)?;
    let count = guarantee.signatures.len();
    if !GUARANTEE_SIGNATURES.contains(&count) {
        return Err(MessageError::GuaranteeSignatures(count));
    }
    Ok(guarantee)
}

// ---- CE 137 ----

/// CE 137 and CE 138 requests: `ErasureRoot ++ ShardIndex`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, orrery_codec::Encode, orrery_codec::Decode)]
pub struct ShardRequest {
    pub erasure_root: ErasureRoot,
    pub shard_index: u16,
}

impl ShardRequest {
    pub fn decode(bytes: &[u8]) -> Result<Self, MessageError> {
        Ok(Decode::decode_all(bytes)?)
    }
}

/// One step of a justification: a co-path hash (`0 ++ Hash`), or a leaf given as its two halves
/// (`1 ++ Hash ++ Hash`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JustificationStep {
    Hash(Hash),
    Pair(Hash, Hash),
}

impl JustificationStep {
    /// A co-path node as `orrery_merkle`'s traces give it: 32 octets a hash, 64 a leaf's halves.
    pub fn from_node(node: &[u8]) -> Option<Self> {
        match node.len() {
            32 => Some(JustificationStep::Hash(node.try_into().ok()?)),
            64 => Some(JustificationStep::Pair(node[..32].try_into().ok()?, node[32..].try_into().ok()?)),
            _ => None,
        }
    }

    /// The co-path node this step stands for (the inverse of [`JustificationStep::from_node`]).
    pub fn node(&self) -> Vec<u8> {
        match self {
            JustificationStep::Hash(h) => h.to_vec(),
            JustificationStep::Pair(a, b) => [&a[..], &b[..]].concat(),
        }
    }
}

impl Encode for JustificationStep {
    fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            JustificationStep::Hash(hash) => {
                out.push(0);
                out.extend_from_slice(hash);
            }
            JustificationStep::Pair(left, right) => {
                out.push(1);
                out.extend_from_slice(left);
                out.extend_from_slice(right);
            }
        }
    }
}

impl Decode for JustificationStep {
    fn decode(d: &mut Decoder<'_>) -> Result<Self, orrery_codec::Error> {
        match d.u8()? {
            0 => Ok(JustificationStep::Hash(d.array()?)),
            1 => Ok(JustificationStep::Pair(d.array()?, d.array()?)),
            v => Err(orrery_codec::Error::InvalidDiscriminator {
                type_name: "JustificationStep",
                value: v.into(),
            }),
        }
    }
}

/// The sizes of one validator's shards under a chain spec (GP 0.7.2 §14.4 and Appendix H): the
/// bundle is cut into `W_E`-byte pieces, each coded into two bytes per shard; a segment into
/// `W_P` pieces, so a segment shard is `2·W_P` bytes (12 in `full`, 2052 in `tiny`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardSizes {
    /// The bytes of one segment shard.
    pub segment_shard: usize,
    /// The bytes of the largest bundle shard: `2·⌈W_B / W_E⌉`.
    pub max_bundle_shard: usize,
}

impl ShardSizes {
    pub fn of(spec: &ChainSpec) -> Self {
        let piece = (spec.erasure_piece_size as usize).max(1);
        Self {
            segment_shard: 2 * spec.segment_pieces as usize,
            max_bundle_shard: 2 * MAX_BUNDLE_SIZE.div_ceil(piece),
        }
    }

    /// The largest `[SegmentShard]` message: [`MAX_SEGMENT_SHARDS`] shards.
    pub fn max_segment_shards_size(&self) -> usize {
        MAX_SEGMENT_SHARDS.saturating_mul(self.segment_shard)
    }
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

impl ShardResponse {
    /// The three messages: the bundle shard, the segment shards concatenated, the justification.
    pub fn encode(&self) -> [Vec<u8>; 3] {
        [self.bundle_shard.clone(), self.segment_shards.concat(), encode_justification(&self.justification)]
    }

    /// Checks the first message: at most `sizes.max_bundle_shard` bytes.
    pub fn decode_bundle_shard(bytes: &[u8], sizes: ShardSizes) -> Result<Vec<u8>, MessageError> {
        check_size("CE 137 bundle shard", bytes.len(), sizes.max_bundle_shard)?;
        Ok(bytes.to_vec())
    }

    /// Splits the second message into `sizes.segment_shard`-byte shards, at most
    /// [`MAX_SEGMENT_SHARDS`] of them.
    pub fn decode_segment_shards(bytes: &[u8], sizes: ShardSizes) -> Result<Vec<Vec<u8>>, MessageError> {
        let item = sizes.segment_shard;
        if bytes.is_empty() {
            return Ok(Vec::new());
        }
        if item == 0 || bytes.len() % item != 0 {
            return Err(MessageError::Ragged { what: "CE 137 segment shards", len: bytes.len(), item });
        }
        let count = bytes.len() / item;
        check_count("CE 137 segment shards", count, MAX_SEGMENT_SHARDS)?;
        Ok(bytes.chunks_exact(item).map(<[u8]>::to_vec).collect())
    }

    /// Decodes all three messages.
    pub fn decode(
        bundle_shard: &[u8],
        segment_shards: &[u8],
        justification: &[u8],
        sizes: ShardSizes,
    ) -> Result<Self, MessageError> {
        Ok(Self {
            bundle_shard: Self::decode_bundle_shard(bundle_shard, sizes)?,
            segment_shards: Self::decode_segment_shards(segment_shards, sizes)?,
            justification: decode_justification(justification)?,
        })
    }
}

// ---- CE 138 ----

/// CE 138's answer (assurer to auditor): `BundleShard`, then the justification: CE 137's co-path
/// with the shard's segment-shard root appended as a last `0 ++ Hash` step, so that the auditor,
/// who is not sent the segment shards, can still rebuild the shard's leaf `H(b) ⌢ root`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditShardResponse {
    pub bundle_shard: Vec<u8>,
    pub justification: Vec<JustificationStep>,
}

impl AuditShardResponse {
    /// The two messages: the bundle shard, the justification.
    pub fn encode(&self) -> [Vec<u8>; 2] {
        [self.bundle_shard.clone(), encode_justification(&self.justification)]
    }

    /// Decodes both messages: the bundle shard at most `sizes.max_bundle_shard` bytes, the
    /// justification at most [`MAX_JUSTIFICATION_STEPS`] steps and ending in a single hash (the
    /// segment-shard root).
    pub fn decode(
        bundle_shard: &[u8],
        justification: &[u8],
        sizes: ShardSizes,
    ) -> Result<Self, MessageError> {
        check_size("CE 138 bundle shard", bundle_shard.len(), sizes.max_bundle_shard)?;
        let justification = decode_justification(justification)?;
        if !matches!(justification.last(), Some(JustificationStep::Hash(_))) {
            return Err(MessageError::NoSegmentShardsRoot);
        }
        Ok(Self { bundle_shard: bundle_shard.to_vec(), justification })
    }

    /// The segment-shard root (the last step) and the co-path to the leaf (the steps before it).
    pub fn split(&self) -> Option<(Hash, &[JustificationStep])> {
        match self.justification.split_last() {
            Some((JustificationStep::Hash(root), path)) => Some((*root, path)),
            _ => None,
        }
    }
}

/// A justification message: the steps concatenated, each with its one-byte discriminator.
pub fn encode_justification(steps: &[JustificationStep]) -> Vec<u8> {
    let mut out = Vec::new();
    for step in steps {
        step.encode_to(&mut out);
    }
    out
}

/// Decodes a justification: steps until the bytes run out, at most [`MAX_JUSTIFICATION_STEPS`].
pub fn decode_justification(bytes: &[u8]) -> Result<Vec<JustificationStep>, MessageError> {
    let mut d = Decoder::without_lengths(bytes);
    let mut steps = Vec::new();
    while d.remaining() > 0 {
        if steps.len() == MAX_JUSTIFICATION_STEPS {
            return Err(MessageError::TooMany {
                what: "CE 137 justification steps",
                count: steps.len() + 1,
                cap: MAX_JUSTIFICATION_STEPS,
            });
        }
        steps.push(JustificationStep::decode(&mut d)?);
    }
    Ok(steps)
}

// ---- CE 139 ----

/// Segment shards one CE 139 request may ask for, over all its items: `2·W_M` = 6144 (JAMNP-S: a
/// package's imports and as many proof pages at most).
pub const MAX_SEGMENT_SHARD_REQUEST: usize = 2 * MAX_PACKAGE_IMPORTS;
/// Items (erasure roots) in one CE 139 request: each asks for at least one shard.
pub const MAX_SEGMENT_SHARD_ITEMS: usize = MAX_SEGMENT_SHARD_REQUEST;
/// A CE 139 request at its largest: the item count's prefix, then per item the root, the shard
/// index and a count prefix (at most 4 bytes each), and two bytes per segment index.
pub const SEGMENT_SHARD_REQUEST_SIZE: usize =
    4 + MAX_SEGMENT_SHARD_ITEMS * (32 + 2 + 4) + MAX_SEGMENT_SHARD_REQUEST * 2;

/// One item of a CE 139 request: `ErasureRoot ++ ShardIndex ++ len++[SegmentIndex]`. A segment
/// index counts the report's exports and then its proof pages (`ē ⌢ P(ē)`, GP 0.7.2 eq. 14.16),
/// the order an assurer keeps its segment shards in.
#[derive(Debug, Clone, PartialEq, Eq, orrery_codec::Encode, orrery_codec::Decode)]
pub struct SegmentShardItem {
    pub erasure_root: ErasureRoot,
    pub shard_index: u16,
    pub segment_indices: Vec<u16>,
}

/// CE 139 (guarantor → assurer): `len++[ErasureRoot ++ ShardIndex ++ len++[SegmentIndex]]`; the
/// answer is the asked segment shards, concatenated in the order asked
/// ([`decode_segment_shard_answer`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentShardRequest {
    pub items: Vec<SegmentShardItem>,
}

impl SegmentShardRequest {
    /// The segment shards asked for, over all items.
    pub fn shard_count(&self) -> usize {
        self.items.iter().map(|i| i.segment_indices.len()).sum()
    }

    pub fn encode(&self) -> Vec<u8> {
        self.items.encode()
    }

    /// Decodes a request: at most [`SEGMENT_SHARD_REQUEST_SIZE`] bytes and
    /// [`MAX_SEGMENT_SHARD_REQUEST`] shards in all.
    pub fn decode(bytes: &[u8]) -> Result<Self, MessageError> {
        check_size("CE 139 request", bytes.len(), SEGMENT_SHARD_REQUEST_SIZE)?;
        let items = Vec::<SegmentShardItem>::decode_all(bytes)?;
        check_count("CE 139 request items", items.len(), MAX_SEGMENT_SHARD_ITEMS)?;
        let request = Self { items };
        check_count("CE 139 segment shards", request.shard_count(), MAX_SEGMENT_SHARD_REQUEST)?;
        Ok(request)
    }
}

/// Splits CE 139's answer into `count` shards of `sizes.segment_shard` bytes (`count` is what the
/// request asked for, at most [`MAX_SEGMENT_SHARD_REQUEST`]).
pub fn decode_segment_shard_answer(
    bytes: &[u8],
    count: usize,
    sizes: ShardSizes,
) -> Result<Vec<Vec<u8>>, MessageError> {
    check_count("CE 139 segment shards", count, MAX_SEGMENT_SHARD_REQUEST)?;
    let item = sizes.segment_shard;
    if item == 0 || bytes.len() != count.saturating_mul(item) {
        return Err(MessageError::Ragged { what: "CE 139 segment shards", len: bytes.len(), item });
    }
    Ok(bytes.chunks_exact(item).map(<[u8]>::to_vec).collect())
}

// ---- CE 141 ----

/// CE 141 (assurer → validator): `AnchorHeaderHash ++ Bitfield[⌈C/8⌉] ++ Ed25519Signature`. The
/// assurer's validator index is not on the wire; the receiver knows it from the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssuranceMessage {
    pub anchor: HeaderHash,
    pub bitfield: BitVec,
    pub signature: Ed25519Signature,
}

impl AssuranceMessage {
    /// The message's size for `cores` cores.
    pub const fn size(cores: usize) -> usize {
        32 + cores.div_ceil(8) + 64
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(32 + self.bitfield.as_bytes().len() + 64);
        out.extend_from_slice(&self.anchor);
        self.bitfield.encode_fixed_to(&mut out);
        out.extend_from_slice(&self.signature);
        out
    }

    /// Decodes an assurance with one bit per core of `lengths`; padding bits must be zero.
    pub fn decode(bytes: &[u8], lengths: Lengths) -> Result<Self, MessageError> {
        let mut d = Decoder::new(bytes, lengths);
        let anchor = d.array()?;
        let bitfield = BitVec::decode_fixed(&mut d, lengths.cores_count())?;
        let signature = d.array()?;
        d.finish()?;
        Ok(Self { anchor, bitfield, signature })
    }
}

// ---- CE 142, 143 ----

/// CE 142 (node → validator): `ServiceId ++ Hash ++ PreimageLength`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, orrery_codec::Encode, orrery_codec::Decode)]
pub struct PreimageAnnouncement {
    pub service: ServiceId,
    pub hash: Hash,
    pub length: u32,
}

impl PreimageAnnouncement {
    pub fn decode(bytes: &[u8]) -> Result<Self, MessageError> {
        Ok(Decode::decode_all(bytes)?)
    }
}

/// CE 143's request: the hash, 32 bytes.
pub fn decode_preimage_request(bytes: &[u8]) -> Result<Hash, MessageError> {
    Ok(Hash::decode_all(bytes)?)
}

/// CE 143's answer: the preimage as it is, at most [`MAX_PREIMAGE_SIZE`] bytes. Whether it hashes to
/// what was asked is the node's to check.
pub fn decode_preimage(bytes: &[u8]) -> Result<Vec<u8>, MessageError> {
    check_size("CE 143 preimage", bytes.len(), MAX_PREIMAGE_SIZE)?;
    Ok(bytes.to_vec())
}

fn check_size(what: &'static str, len: usize, cap: usize) -> Result<(), MessageError> {
    if len > cap {
        return Err(MessageError::TooLarge { what, len, cap });
    }
    Ok(())
}

fn check_count(what: &'static str, count: usize, cap: usize) -> Result<(), MessageError> {
    if count > cap {
        return Err(MessageError::TooMany { what, count, cap });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
