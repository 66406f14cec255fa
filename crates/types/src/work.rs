//! Work packages, work items, work reports and their parts (GP 0.7.2 §14 and Appendix C).

use orrery_codec::{Decode, Describe, Encode};

use crate::{CodeHash, CoreIndex, ErasureRoot, ExportsRoot, Gas, Hash, HeaderHash, ServiceId, TimeSlot};

/// The chain state a work package was refined against (`C`, GP eq. 11.4).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub struct RefineContext {
    pub anchor: HeaderHash,
    pub state_root: Hash,
    pub beefy_root: Hash,
    pub lookup_anchor: HeaderHash,
    pub lookup_anchor_slot: TimeSlot,
    pub prerequisites: Vec<Hash>,
}

/// A segment to import: the root of the segment tree it is in (or, with the top bit of `index`
/// set, the hash of the work package that exported it) and its index.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub struct ImportSpec {
    pub tree_root: Hash,
    pub index: u16,
}

impl ImportSpec {
    /// The flag bit that marks `tree_root` as a work-package hash (`h^⊞`, GP eq. C.34).
    pub const PACKAGE_HASH_FLAG: u16 = 1 << 15;

    /// Whether `tree_root` names a work package rather than a segment root.
    pub fn is_package_hash(&self) -> bool {
        self.index & Self::PACKAGE_HASH_FLAG != 0
    }

    /// The segment's index with the flag removed.
    pub fn segment_index(&self) -> u16 {
        self.index & !Self::PACKAGE_HASH_FLAG
    }
}

/// An extrinsic blob a work item uses, by hash and length.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub struct ExtrinsicSpec {
    pub hash: Hash,
    pub len: u32,
}

/// One unit of work for one service (`W`, GP eq. 14.3).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub struct WorkItem {
    pub service: ServiceId,
    pub code_hash: CodeHash,
    pub refine_gas_limit: Gas,
    pub accumulate_gas_limit: Gas,
    pub export_count: u16,
    pub payload: Vec<u8>,
    pub import_segments: Vec<ImportSpec>,
    pub extrinsic: Vec<ExtrinsicSpec>,
}

/// A work package (`P`, GP eq. 14.2).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub struct WorkPackage {
    pub auth_code_host: ServiceId,
    pub auth_code_hash: CodeHash,
    pub context: RefineContext,
    pub authorization: Vec<u8>,
    pub authorizer_config: Vec<u8>,
    pub items: Vec<WorkItem>,
}

/// The outcome of refining one work item (GP eq. 11.7 and the `O` encoding, eq. C.33).
///
/// The discriminators follow the paper: 4 is an oversized report, 5 and 6 are missing and
/// oversized code. (The vectors' ASN.1 lists only six outcomes and names 4 and 5 differently; the
/// shipped vectors use only `ok` and `panic`.)
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub enum WorkExecResult {
    Ok(Vec<u8>),
    OutOfGas,
    Panic,
    BadExports,
    Oversize,
    BadCode,
    CodeOversize,
}

/// What refining a work item cost (the compact fields of a work digest).
#[derive(Debug, Clone, Default, PartialEq, Eq, Encode, Decode, Describe)]
pub struct RefineLoad {
    #[codec(compact)]
    pub gas_used: Gas,
    #[codec(compact)]
    pub imports: u16,
    #[codec(compact)]
    pub extrinsic_count: u16,
    #[codec(compact)]
    pub extrinsic_size: u32,
    #[codec(compact)]
    pub exports: u16,
}

/// The digest of one refined work item (`D`, GP eq. 11.6), "work result" in the vectors.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub struct WorkResult {
    pub service_id: ServiceId,
    pub code_hash: CodeHash,
    pub payload_hash: Hash,
    pub accumulate_gas: Gas,
    pub result: WorkExecResult,
    pub refine_load: RefineLoad,
}

/// Where a work package's data sits in the availability system (`Y`, GP eq. 11.5).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub struct WorkPackageSpec {
    pub hash: Hash,
    pub length: u32,
    pub erasure_root: ErasureRoot,
    pub exports_root: ExportsRoot,
    pub exports_count: u16,
}

/// One entry of a report's segment-root lookup dictionary.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Encode, Decode, Describe)]
pub struct SegmentRootLookupItem {
    pub work_package_hash: Hash,
    pub segment_tree_root: Hash,
}

/// A work report (`R`, GP eq. 11.2).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub struct WorkReport {
    pub package_spec: WorkPackageSpec,
    pub context: RefineContext,
    #[codec(compact)]
    pub core_index: CoreIndex,
    pub authorizer_hash: Hash,
    #[codec(compact)]
    pub auth_gas_used: Gas,
    pub auth_output: Vec<u8>,
    pub segment_root_lookup: Vec<SegmentRootLookupItem>,
    pub results: Vec<WorkResult>,
}

/// An authorizer: code and its configuration (`(u, f)`, hashed into the pools).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub struct Authorizer {
    pub code_hash: CodeHash,
    pub params: Vec<u8>,
}
