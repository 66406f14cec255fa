//! Computing a work report from a work package: Ξ of GP 0.7.2 §14.3, with the availability
//! specifier `A` of §14.4.
//!
//! [`compute_work_report`] is what a guarantor (and an auditor) runs: it checks the package
//! against the limits of §14.2 and the data gathered for it against the package, runs the
//! authorizer (Ψ_I), refines each work item (Ψ_R) with the exports of the items before it
//! counted (`I`), applies the report's limits to each result (`⊛` when the outputs outgrow
//! `W_R`, `⊚` when the exports differ from the declared count, zero segments in both cases and
//! for a failed item), digests each item (`C`), and lays out the auditable bundle and the exported
//! segments with their paged proofs to give the availability specifier. Pure: everything it needs
//! is an argument, and nothing is read or written elsewhere.
//!
//! What the caller gathers ([`PackageData`]): each item's imported segments with their
//! justifications (checked against the segment roots, `L`), each item's extrinsic blobs (checked
//! against their hashes and lengths), and the segment-root lookup for imports named by package
//! hash; plus the service accounts as of the lookup anchor, which the historical lookups read.

#![forbid(unused_must_use)]

use std::collections::BTreeMap;

use orrery_codec::Encode;
use orrery_crypto::blake2b_256;
use orrery_erasure::ErasureCoder;
use orrery_invocation::general::{Accounts, LogMessage};
use orrery_invocation::is_authorized::is_authorized;
use orrery_invocation::refine::{refine, RefineInputs};
use orrery_invocation::{AuthorizationOutput, ProgramCache};
use orrery_types::constants::{
    MAX_BUNDLE_SIZE, MAX_PACKAGE_EXPORTS, MAX_PACKAGE_EXTRINSICS, MAX_PACKAGE_IMPORTS, MAX_PACKAGE_ITEMS,
    MAX_REPORT_DEPENDENCIES, MAX_REPORT_VAR_SIZE, SEGMENT_SIZE,
};
use orrery_types::{
    ChainSpec, CoreIndex, Hash, RefineLoad, SegmentRootLookupItem, WorkExecResult, WorkPackage,
    WorkPackageSpec, WorkReport, WorkResult,
};

/// `W_G^↕ = W_G + 32⌈log₂ W_M⌉`: what one import counts for in the bundle limit (eq. 14.6).
pub const SEGMENT_FOOTPRINT: usize = SEGMENT_SIZE + 32 * 12;
/// `|L|`: the most entries in a report's segment-root lookup (eq. 11.x, `|l| ≤ 8`).
pub const MAX_SEGMENT_ROOT_LOOKUP: usize = MAX_REPORT_DEPENDENCIES;

/// What the guarantor gathered for a package, per work item in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackageData {
    /// `S(w)`: per item, its imported segments in the order of `w_i`, each `W_G` octets.
    pub imports: Vec<Vec<Vec<u8>>>,
    /// `J(w)`: per item, per import, the path `J_0(b, n)` from the exporting package's segment
    /// root down to the segment, top first.
    pub justifications: Vec<Vec<Vec<Hash>>>,
    /// `X(w)`: per item, its extrinsic blobs in the order of `w_x`.
    pub extrinsics: Vec<Vec<Vec<u8>>>,
    /// The segment-root lookup `l`: for each work-package hash an import names, its segment
    /// root. Entries no import uses are left out of the report.
    pub segment_roots: BTreeMap<Hash, Hash>,
}

/// Why no report can be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReportError {
    #[error("core {core} does not exist ({cores} cores)")]
    NoSuchCore { core: CoreIndex, cores: u16 },
    #[error("a package has 1 to {max} work items, not {0}", max = MAX_PACKAGE_ITEMS)]
    ItemCount(usize),
    #[error("the items export {0} segments in all, more than W_X = {max}", max = MAX_PACKAGE_EXPORTS)]
    TooManyExports(usize),
    #[error("the items import {0} segments in all, more than W_M = {max}", max = MAX_PACKAGE_IMPORTS)]
    TooManyImports(usize),
    #[error("the items use {0} extrinsics in all, more than T = {max}", max = MAX_PACKAGE_EXTRINSICS)]
    TooManyExtrinsics(usize),
    #[error("the items' accumulate gas limits sum to {sum}, not below G_A = {limit}")]
    AccumulateGas { sum: u128, limit: u64 },
    #[error("the items' refine gas limits sum to {sum}, not below G_R = {limit}")]
    RefineGas { sum: u128, limit: u64 },
    #[error("the bundle counts {0} octets, more than W_B = {max}", max = MAX_BUNDLE_SIZE)]
    BundleTooLarge(usize),
    #[error("data for {got} work items given, the package has {expected}")]
    DataShape { expected: usize, got: usize },
    #[error("item {item}: {got} imported segments given, it imports {expected}")]
    ImportCount { item: usize, expected: usize, got: usize },
    #[error("item {item}: import {index} is {len} octets, not W_G")]
    SegmentSize { item: usize, index: usize, len: usize },
    #[error("item {item}: import {index} does not match its segment root")]
    ImportProof { item: usize, index: usize },
    #[error("item {item}: {got} extrinsics given, it uses {expected}")]
    ExtrinsicCount { item: usize, expected: usize, got: usize },
    #[error("item {item}: extrinsic {index} does not match its hash and length")]
    Extrinsic { item: usize, index: usize },
    #[error("no segment root for work package {}", hex(.0))]
    MissingSegmentRoot(Hash),
    #[error("{0} work packages named by hash, more than {max}", max = MAX_SEGMENT_ROOT_LOOKUP)]
    TooManySegmentRoots(usize),
    #[error("the package is not authorized: {0:?}")]
    Unauthorized(WorkExecResult),
    #[error("the authorizer trace is {0} octets, more than W_R = {max}", max = MAX_REPORT_VAR_SIZE)]
    TraceTooLarge(usize),
    #[error("erasure coding: {0}")]
    Erasure(#[from] orrery_erasure::Error),
}

fn hex(hash: &Hash) -> String {
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// What Ξ gives: the report, the exported segments (`ē`, concatenated over the items), and what
/// the node operator may want to see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComputedReport {
    pub report: WorkReport,
    /// Every item's exports in order, zero segments standing in for a failed item's.
    pub exports: Vec<Vec<u8>>,
    /// The auditable bundle `E(p, X#, S#, J#)`.
    pub bundle: Vec<u8>,
    /// The authorizer's run.
    pub authorization: AuthorizationOutput,
    /// Per item, what its refinement logged.
    pub logs: Vec<Vec<LogMessage>>,
}

/// The package limits of GP 0.7.2 §14.2 (eq. 14.3–14.7): item count, exports, imports and
/// extrinsics in all, the bundle's size, and the gas limits' sums.
pub fn check_package(spec: &ChainSpec, package: &WorkPackage) -> Result<(), ReportError> {
    let items = &package.items;
    if items.is_empty() || items.len() > MAX_PACKAGE_ITEMS {
        return Err(ReportError::ItemCount(items.len()));
    }
    let exports: usize = items.iter().map(|w| usize::from(w.export_count)).sum();
    if exports > MAX_PACKAGE_EXPORTS {
        return Err(ReportError::TooManyExports(exports));
    }
    let imports: usize = items.iter().map(|w| w.import_segments.len()).sum();
    if imports > MAX_PACKAGE_IMPORTS {
        return Err(ReportError::TooManyImports(imports));
    }
    let extrinsics: usize = items.iter().map(|w| w.extrinsic.len()).sum();
    if extrinsics > MAX_PACKAGE_EXTRINSICS {
        return Err(ReportError::TooManyExtrinsics(extrinsics));
    }
    let footprint =
        items.iter().fold(package.authorization.len() + package.authorizer_config.len(), |n, w| {
            let extrinsic: usize = w.extrinsic.iter().map(|x| x.len as usize).sum();
            n.saturating_add(w.payload.len())
                .saturating_add(w.import_segments.len() * SEGMENT_FOOTPRINT)
                .saturating_add(extrinsic)
        });
    if footprint > MAX_BUNDLE_SIZE {
        return Err(ReportError::BundleTooLarge(footprint));
    }
    let sum = |f: fn(&orrery_types::WorkItem) -> u64| items.iter().map(|w| u128::from(f(w))).sum::<u128>();
    let accumulate = sum(|w| w.accumulate_gas_limit);
    if accumulate >= u128::from(spec.max_accumulate_gas) {
        return Err(ReportError::AccumulateGas { sum: accumulate, limit: spec.max_accumulate_gas });
    }
    let refine_gas = sum(|w| w.refine_gas_limit);
    if refine_gas >= u128::from(spec.max_refine_gas) {
        return Err(ReportError::RefineGas { sum: refine_gas, limit: spec.max_refine_gas });
    }
    Ok(())
}

/// `H("leaf" ⌢ segment)`, the constant-depth tree's leaf.
fn leaf(segment: &[u8]) -> Hash {
    orrery_merkle::constant_depth_leaves(&[segment], blake2b_256)[0]
}

/// Checks the gathered data against the package: counts, segment sizes, justifications against
/// the roots (via the lookup), extrinsics against their hashes and lengths. Returns the lookup
/// entries the report carries.
fn check_data(package: &WorkPackage, data: &PackageData) -> Result<Vec<SegmentRootLookupItem>, ReportError> {
    let items = &package.items;
    for got in [data.imports.len(), data.justifications.len(), data.extrinsics.len()] {
        if got != items.len() {
            return Err(ReportError::DataShape { expected: items.len(), got });
        }
    }
    let mut lookup = BTreeMap::new();
    for (j, w) in items.iter().enumerate() {
        let (segments, paths) = (&data.imports[j], &data.justifications[j]);
        for got in [segments.len(), paths.len()] {
            if got != w.import_segments.len() {
                return Err(ReportError::ImportCount { item: j, expected: w.import_segments.len(), got });
            }
        }
        for (n, ((spec, segment), path)) in w.import_segments.iter().zip(segments).zip(paths).enumerate() {
            if segment.len() != SEGMENT_SIZE {
                return Err(ReportError::SegmentSize { item: j, index: n, len: segment.len() });
            }
            // L(r): a segment root, or a package's through the lookup.
            let root = if spec.is_package_hash() {
                let root = *data
                    .segment_roots
                    .get(&spec.tree_root)
                    .ok_or(ReportError::MissingSegmentRoot(spec.tree_root))?;
                lookup.insert(spec.tree_root, root);
                root
            } else {
                spec.tree_root
            };
            let index = usize::from(spec.segment_index());
            let proven = orrery_merkle::root_from_page(0, index, &[leaf(segment)], path, blake2b_256);
            if proven != Some(root) {
                return Err(ReportError::ImportProof { item: j, index: n });
            }
        }
        let blobs = &data.extrinsics[j];
        if blobs.len() != w.extrinsic.len() {
            return Err(ReportError::ExtrinsicCount {
                item: j,
                expected: w.extrinsic.len(),
                got: blobs.len(),
            });
        }
        for (n, (spec, blob)) in w.extrinsic.iter().zip(blobs).enumerate() {
            if blob.len() != spec.len as usize || blake2b_256(blob) != spec.hash {
                return Err(ReportError::Extrinsic { item: j, index: n });
            }
        }
    }
    if lookup.len() > MAX_SEGMENT_ROOT_LOOKUP {
        return Err(ReportError::TooManySegmentRoots(lookup.len()));
    }
    Ok(lookup
        .into_iter()
        .map(|(work_package_hash, segment_tree_root)| SegmentRootLookupItem {
            work_package_hash,
            segment_tree_root,
        })
        .collect())
}

/// `E(p, X#(p_w), S#(p_w), J#(p_w))`: the package, then every extrinsic, every imported segment,
/// and every justification (only these with a length prefix).
pub fn bundle(package: &WorkPackage, data: &PackageData) -> Vec<u8> {
    let mut out = package.encode();
    data.extrinsics.iter().flatten().for_each(|x| out.extend_from_slice(x));
    data.imports.iter().flatten().for_each(|s| out.extend_from_slice(s));
    for path in data.justifications.iter().flatten() {
        orrery_codec::natural::encode_to(path.len() as u64, &mut out);
        path.iter().for_each(|h| out.extend_from_slice(h));
    }
    out
}

/// Why bytes are not an auditable bundle.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BundleError {
    #[error("the bundle does not decode: {0}")]
    Codec(#[from] orrery_codec::Error),
    #[error("justification {index} of item {item} is {len} hashes long, more than a segment tree is deep")]
    Justification { item: usize, index: usize, len: usize },
}

/// The deepest a justification `J_0` goes: the segment tree of at most `W_M` leaves.
const MAX_JUSTIFICATION: usize = 12;

/// The inverse of [`bundle`]: the package and the data gathered for it, read item by item in the
/// package's own order (each extrinsic as long as its item declares, each import `W_G` octets, each
/// justification length-prefixed); nothing may follow. The segment-root lookup is not in the
/// bundle (CE 134 carries it beside), so it comes back empty. Every read is bounded by the input.
pub fn decode_bundle(bytes: &[u8]) -> Result<(WorkPackage, PackageData), BundleError> {
    use orrery_codec::{Decode, Decoder};
    let mut d = Decoder::without_lengths(bytes);
    let package = WorkPackage::decode(&mut d)?;
    let items = &package.items;
    let mut data = PackageData {
        imports: Vec::with_capacity(items.len()),
        justifications: Vec::with_capacity(items.len()),
        extrinsics: Vec::with_capacity(items.len()),
        segment_roots: BTreeMap::new(),
    };
    for w in items {
        let mut blobs = Vec::with_capacity(w.extrinsic.len().min(d.remaining()));
        for x in &w.extrinsic {
            blobs.push(d.take(x.len as usize)?.to_vec());
        }
        data.extrinsics.push(blobs);
    }
    for w in items {
        let mut segments = Vec::with_capacity(w.import_segments.len().min(d.remaining() / SEGMENT_SIZE));
        for _ in &w.import_segments {
            segments.push(d.take(SEGMENT_SIZE)?.to_vec());
        }
        data.imports.push(segments);
    }
    for (item, w) in items.iter().enumerate() {
        let mut paths = Vec::with_capacity(w.import_segments.len().min(d.remaining()));
        for index in 0..w.import_segments.len() {
            let len = d.length()?;
            if len > MAX_JUSTIFICATION {
                return Err(BundleError::Justification { item, index, len });
            }
            let path = (0..len).map(|_| d.array::<32>()).collect::<Result<Vec<Hash>, _>>()?;
            paths.push(path);
        }
        data.justifications.push(paths);
    }
    d.finish()?;
    Ok((package, data))
}

/// `P(s)` (eq. 14.10): per 64 segments, a segment holding `E(↕J_6(s, i), ↕L_6(s, i))`,
/// zero-padded.
pub fn paged_proofs(segments: &[Vec<u8>]) -> Vec<Vec<u8>> {
    (0..segments.len().div_ceil(64))
        .map(|i| {
            let path = orrery_merkle::justification(segments, 6, i, blake2b_256).unwrap_or_default();
            let page = orrery_merkle::leaf_page(segments, 6, i, blake2b_256);
            let mut out = Vec::with_capacity(SEGMENT_SIZE);
            for hashes in [&path, &page] {
                orrery_codec::natural::encode_to(hashes.len() as u64, &mut out);
                hashes.iter().for_each(|h| out.extend_from_slice(h));
            }
            out.resize(SEGMENT_SIZE, 0);
            out
        })
        .collect()
}

/// One validator's share of a package's availability data (GP 0.7.2 eq. 14.16): its chunk of the
/// bundle, its chunk of each exported segment and paged proof, and the co-path `T(s, i, H)` from
/// the erasure root to its leaf, top first (a sibling is a hash, or a lone leaf's 64 bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shard {
    pub bundle: Vec<u8>,
    pub segments: Vec<Vec<u8>>,
    pub justification: Vec<Vec<u8>>,
}

/// Every validator's [`Shard`] of a package, by shard index, with the erasure root they commit to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvailabilityShards {
    pub erasure_root: Hash,
    pub shards: Vec<Shard>,
}

/// The erasure root's leaf for a shard: `H(bundle chunk) ⌢ M_B(segment chunks)`.
pub fn shard_leaf(bundle_shard: &[u8], segment_shards: &[Vec<u8>]) -> [u8; 64] {
    let mut leaf = [0u8; 64];
    leaf[..32].copy_from_slice(&blake2b_256(bundle_shard));
    leaf[32..].copy_from_slice(&orrery_merkle::well_balanced_root(segment_shards, blake2b_256));
    leaf
}

/// Whether shard `index` of `count`, with its justification, is the one `erasure_root` commits
/// to: what an assurer checks before keeping what a guarantor sent (JAMNP-S CE 137).
pub fn verify_shard(
    erasure_root: &Hash,
    index: usize,
    count: usize,
    bundle_shard: &[u8],
    segment_shards: &[Vec<u8>],
    justification: &[Vec<u8>],
) -> bool {
    let leaf = shard_leaf(bundle_shard, segment_shards);
    orrery_merkle::well_balanced_root_from_trace(&leaf, index, count, justification, blake2b_256)
        == Some(*erasure_root)
}

/// Whether bundle shard `index` of `count` is the one `erasure_root` commits to, given the root of
/// its segment shards in place of the shards themselves: what an auditor checks of an assurer's
/// answer (JAMNP-S CE 138, whose justification is CE 137's with that root appended).
pub fn verify_bundle_shard(
    erasure_root: &Hash,
    index: usize,
    count: usize,
    bundle_shard: &[u8],
    segment_shards_root: &Hash,
    justification: &[Vec<u8>],
) -> bool {
    let mut leaf = [0u8; 64];
    leaf[..32].copy_from_slice(&blake2b_256(bundle_shard));
    leaf[32..].copy_from_slice(segment_shards_root);
    orrery_merkle::well_balanced_root_from_trace(&leaf, index, count, justification, blake2b_256)
        == Some(*erasure_root)
}

/// Erasure-codes `bundle` and `exports` with their paged proofs (GP 0.7.2 §14.4, eq. 14.16,
/// Appendix H): every validator's shard and justification, and the erasure root. The erasure
/// root of [`availability_spec`] is this one.
pub fn availability_shards(
    spec: &ChainSpec,
    bundle: &[u8],
    exports: &[Vec<u8>],
) -> Result<AvailabilityShards, ReportError> {
    let coder = ErasureCoder::for_spec(spec)?;
    let validators = coder.total_shards();
    // b♣: each validator's chunk of the bundle (hashed into the leaf).
    let bundle_chunks = coder.encode(bundle)?.to_vecs();
    // s♣: each validator's chunks of every exported segment and paged proof, as one M_B root.
    let mut per_validator: Vec<Vec<Vec<u8>>> = vec![Vec::new(); validators];
    let proofs = paged_proofs(exports);
    for segment in exports.iter().chain(&proofs) {
        let chunks = coder.encode(segment)?;
        for (v, chunk) in chunks.iter().enumerate() {
            per_validator[v].push(chunk.to_vec());
        }
    }
    let leaves: Vec<[u8; 64]> = (0..validators)
        .map(|v| shard_leaf(bundle_chunks.get(v).map_or(&[][..], Vec::as_slice), &per_validator[v]))
        .collect();
    let erasure_root = orrery_merkle::well_balanced_root(&leaves, blake2b_256);
    let justifications = orrery_merkle::traces(&leaves, &blake2b_256);
    let shards = bundle_chunks
        .into_iter()
        .zip(per_validator)
        .zip(justifications)
        .map(|((bundle, segments), justification)| Shard { bundle, segments, justification })
        .collect();
    Ok(AvailabilityShards { erasure_root, shards })
}

/// `A(h, b, s)` (eq. 14.11): the availability specifier of package `h` with bundle `b` and
/// exports `s`: the erasure root commits to every validator's bundle chunk and segment chunks.
pub fn availability_spec(
    spec: &ChainSpec,
    package_hash: Hash,
    bundle: &[u8],
    exports: &[Vec<u8>],
) -> Result<WorkPackageSpec, ReportError> {
    let shards = availability_shards(spec, bundle, exports)?;
    Ok(WorkPackageSpec {
        hash: package_hash,
        length: u32::try_from(bundle.len()).map_err(|_| ReportError::BundleTooLarge(bundle.len()))?,
        erasure_root: shards.erasure_root,
        exports_root: orrery_merkle::constant_depth_root(exports, blake2b_256),
        exports_count: u16::try_from(exports.len())
            .map_err(|_| ReportError::TooManyExports(exports.len()))?,
    })
}

/// Ξ(p, c): the work report of `package` on core `core`, with `accounts` as of the lookup anchor
/// and `data` as gathered.
pub fn compute_work_report<A: Accounts + ?Sized>(
    spec: &ChainSpec,
    package: &WorkPackage,
    core: CoreIndex,
    accounts: &A,
    data: &PackageData,
    cache: Option<&ProgramCache>,
) -> Result<ComputedReport, ReportError> {
    if core >= spec.cores_count {
        return Err(ReportError::NoSuchCore { core, cores: spec.cores_count });
    }
    check_package(spec, package)?;
    let segment_root_lookup = check_data(package, data)?;

    // (t, g) = Ψ_I(p, c); only a blob of at most W_R octets authorizes.
    let authorization = is_authorized(spec, package, core, accounts, cache);
    let trace = match &authorization.result {
        WorkExecResult::Ok(trace) if trace.len() <= MAX_REPORT_VAR_SIZE => trace.clone(),
        WorkExecResult::Ok(trace) => return Err(ReportError::TraceTooLarge(trace.len())),
        other => return Err(ReportError::Unauthorized(other.clone())),
    };

    let encoded = package.encode();
    let package_hash = blake2b_256(&encoded);
    let mut results = Vec::with_capacity(package.items.len());
    let mut exports = Vec::new();
    let mut logs = Vec::with_capacity(package.items.len());
    // z: the trace and every output kept so far count against W_R.
    let mut output_size = trace.len();
    let mut export_offset = 0usize;
    for (j, item) in package.items.iter().enumerate() {
        let inputs = RefineInputs {
            spec,
            package,
            auth_trace: &trace,
            item_index: j,
            imports: &data.imports,
            extrinsics: &data.extrinsics,
            export_offset,
        };
        let refined = refine(inputs, core, &package_hash, accounts, cache);
        let declared = usize::from(item.export_count);
        let zeroes = || vec![vec![0u8; SEGMENT_SIZE]; declared];
        // I(p, j): the report's limits, in the paper's order.
        let (result, item_exports) = match refined.result {
            WorkExecResult::Ok(output) if output.len() + output_size > MAX_REPORT_VAR_SIZE => {
                (WorkExecResult::Oversize, zeroes())
            }
            _ if refined.exports.len() != declared => (WorkExecResult::BadExports, zeroes()),
            WorkExecResult::Ok(output) => {
                output_size += output.len();
                (WorkExecResult::Ok(output), refined.exports)
            }
            failed => (failed, zeroes()),
        };
        exports.extend(item_exports);
        export_offset += declared;
        results.push(WorkResult {
            service_id: item.service,
            code_hash: item.code_hash,
            payload_hash: blake2b_256(&item.payload),
            accumulate_gas: item.accumulate_gas_limit,
            result,
            refine_load: RefineLoad {
                gas_used: refined.gas_used,
                imports: item.import_segments.len() as u16,
                extrinsic_count: item.extrinsic.len() as u16,
                extrinsic_size: item.extrinsic.iter().map(|x| x.len).sum(),
                exports: item.export_count,
            },
        });
        logs.push(refined.logs);
    }

    let bundle = bundle(package, data);
    let package_spec = availability_spec(spec, package_hash, &bundle, &exports)?;
    let mut authorizer = package.auth_code_hash.to_vec();
    authorizer.extend_from_slice(&package.authorizer_config);
    let report = WorkReport {
        package_spec,
        context: package.context.clone(),
        core_index: core,
        authorizer_hash: blake2b_256(&authorizer),
        auth_gas_used: authorization.gas_used,
        auth_output: trace,
        segment_root_lookup,
        results,
    };
    Ok(ComputedReport { report, exports, bundle, authorization, logs })
}
