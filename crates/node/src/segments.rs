//! Imported segments (GP 0.7.2 §14.3: `S(w)`, `J(w)` and the segment-root lookup `L`; §14.4 and
//! Appendix H for where the segments live; JAMNP-S CE 139): a guarantor given a package that
//! imports segments finds each import's segment root and the report that exported it, fetches
//! segment shards from the assurers, reconstructs the segments with their proof pages, proves each
//! against its segment root, and then refines with them.
//!
//! - Resolving (`⊞`): an import named by work-package hash is converted into the package's segment
//!   root through the recent history `β` of the best block (the `p` of each recent block): that is
//!   where the reports transition looks for it (§11.4, `segment_root_lookup_invalid`), so a hash not
//!   there is refused naming that rule. A segment root is then looked up among the exporting
//!   reports this node has seen in imported blocks' guarantees (a bounded FIFO of
//!   [`MAX_KNOWN_EXPORTERS`]): their erasure root, core and export count say where the shards are
//!   (validator `v` of `κ` keeps shard `(c·R + v) mod V`, as in `availability.rs`).
//! - Fetching: per exporting report, the imported segments and the proof page of each (the
//!   report's segment shards count its exports and then its pages, `ē ⌢ P(ē)`, eq. 14.16). Shards
//!   this node keeps itself (a guarantor keeps every validator's) are read from the store; the rest
//!   are asked of their assurers by CE 139, data shards first, `R` at a time, the next assurer when
//!   one fails or its request is lost. The package waits, at most [`SEGMENT_FETCH_TTL_SLOTS`]; on timeout it is refused
//!   naming the segment root still short of shards. At most [`MAX_WAITING_PACKAGES`] wait at once.
//! - Proving: with `R` shards of every wanted segment, each is reconstructed (`orrery-erasure`) and
//!   so is its proof page `E(↕J_6, ↕L_6)` (eq. 14.10), which gives `J_0` of the segment
//!   (`orrery_merkle::justification_in_page`); the segment's leaf and `J_0` must give the segment
//!   root. The segments and their `J_0` are what Ξ takes (`PackageData`), and go into the bundle.
//! - Serving CE 139: an assurer answers from the `Shards` table, the asked segment shards of the
//!   asked shard index, in order; nothing when it lacks any of them.
//!
//! - After a restart the index is rebuilt from the blocks the store records as carrying guarantees
//!   (its `Packages` table), so segments exported before it are still found.
//!
//! Not here: CE 140 (segment shards with their justifications, the fallback when a reconstructed
//! segment does not prove: here that refuses the package) and CE 148 between guarantors.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use orrery_crypto::blake2b_256;
use orrery_network::message::{SegmentShardItem, SegmentShardRequest, WorkPackageSubmission};
use orrery_stf::reports::ReportsError;
use orrery_types::constants::SEGMENT_SIZE;
use orrery_types::{CoreIndex, Hash, HeaderHash};
use orrery_work_report::PackageData;

use crate::{Asked, Event, Millis, Node, Output, PeerId, Request, Response, SegmentStep};

/// Exporting reports remembered, by segment root.
pub const MAX_KNOWN_EXPORTERS: usize = 1024;
/// Packages waiting for their imports at once.
pub const MAX_WAITING_PACKAGES: usize = 8;
/// How long a package waits for its imports.
pub const SEGMENT_FETCH_TTL_SLOTS: u64 = 2;

/// Where an exporting report's segments are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Exporter {
    /// The exporting package's hash.
    package: Hash,
    erasure_root: Hash,
    core: CoreIndex,
    exports: u16,
}

/// Segment index → a proven segment and its `J_0`.
type Proven = BTreeMap<u16, (Vec<u8>, Vec<Hash>)>;
/// The segment-root lookup (package hash → segment root) and, per segment root, what is needed.
type Resolved = (BTreeMap<Hash, Hash>, BTreeMap<Hash, Need>);

/// One exporting report's segments a package needs.
#[derive(Debug)]
struct Need {
    exporter: Exporter,
    /// The imported segments' indices, then their proof pages' (`exports + n/64`), sorted.
    indices: Vec<u16>,
    /// Shard index → its segment shards, in the order of `indices`.
    chunks: BTreeMap<u16, Vec<Vec<u8>>>,
    /// Shard indices asked of an assurer and not answered yet.
    asking: BTreeSet<u16>,
    /// Shard indices tried (answered, failed or asking).
    tried: BTreeSet<u16>,
    /// Once proven: segment index → the segment and its `J_0`.
    proven: Option<Proven>,
}

/// A package waiting for its imports.
#[derive(Debug)]
struct Waiting {
    from: Option<PeerId>,
    submission: WorkPackageSubmission,
    /// The segment-root lookup: package hash → segment root.
    lookup: BTreeMap<Hash, Hash>,
    /// Segment root → what is needed of its report.
    needs: BTreeMap<Hash, Need>,
    deadline: Millis,
}

/// The state of segment recovery.
#[derive(Debug, Default)]
pub(crate) struct Segments {
    exporters: BTreeMap<Hash, Exporter>,
    order: VecDeque<Hash>,
    waiting: BTreeMap<Hash, Waiting>,
}

/// `E(↕J_6, ↕L_6)` of a proof page (eq. 14.10), zero padding after.
fn decode_proof_page(page: &[u8]) -> Option<(Vec<Hash>, Vec<Hash>)> {
    let mut d = orrery_codec::Decoder::without_lengths(page);
    let mut lists = Vec::with_capacity(2);
    for _ in 0..2 {
        let len = d.length().ok()?;
        if len > 64 {
            return None;
        }
        lists.push((0..len).map(|_| d.array::<32>()).collect::<Result<Vec<Hash>, _>>().ok()?);
    }
    let leaves = lists.pop()?;
    let path = lists.pop()?;
    Some((path, leaves))
}

/// Segment `index`'s `J_0` from its reconstructed proof page, if the segment proves against `root`.
pub(crate) fn prove_segment(root: &Hash, index: u16, segment: &[u8], page: &[u8]) -> Option<Vec<Hash>> {
    let (path, leaves) = decode_proof_page(page)?;
    let j0 = orrery_merkle::justification_in_page(6, &leaves, &path, usize::from(index), blake2b_256)?;
    let leaf = orrery_merkle::constant_depth_leaves(&[segment], blake2b_256)[0];
    let proven = orrery_merkle::root_from_page(0, usize::from(index), &[leaf], &j0, blake2b_256);
    (proven == Some(*root)).then_some(j0)
}

/// Why a segment was not proven: its erasure decoding failed, or it (with its proof page) does not
/// prove against the segment root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unproven {
    Reconstruction(u16),
    Proof(u16),
}

impl std::fmt::Display for Unproven {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unproven::Reconstruction(n) => {
                write!(f, "segment {n} could not be reconstructed from its shards")
            }
            Unproven::Proof(n) => write!(f, "segment {n} does not prove against its segment root"),
        }
    }
}

/// The segments `indices` names (exports, then their proof pages) reconstructed from `chunks`
/// (shard index → chunks in the order of `indices`), each export proven against `root`: segment
/// index → the segment and its `J_0`. The error is the first segment that does not reconstruct,
/// else the first export that does not prove.
fn prove_all(
    coder: &orrery_erasure::ErasureCoder,
    root: &Hash,
    exports: u16,
    indices: &[u16],
    chunks: &BTreeMap<u16, Vec<Vec<u8>>>,
) -> Result<Proven, Unproven> {
    let mut segments = BTreeMap::new();
    for (k, &index) in indices.iter().enumerate() {
        let pieces = chunks.iter().filter_map(|(i, c)| Some((usize::from(*i), c.get(k)?.as_slice())));
        let segment = coder.reconstruct_segment(pieces).map_err(|_| Unproven::Reconstruction(index))?;
        segments.insert(index, segment.to_vec());
    }
    let mut proven = BTreeMap::new();
    for (&index, segment) in segments.range(..exports) {
        let page = segments.get(&exports.saturating_add(index / 64)).ok_or(Unproven::Proof(index))?;
        let j0 = prove_segment(root, index, segment, page).ok_or(Unproven::Proof(index))?;
        proven.insert(index, (segment.clone(), j0));
    }
    Ok(proven)
}

/// Each segment index `need` fetches with its JIP-3 Import Segment ID: the position in `package`'s
/// import list of the (first) import of that segment, or 2^15 plus the index of a proof page.
fn import_ids(
    package: &orrery_types::WorkPackage,
    lookup: &BTreeMap<Hash, Hash>,
    root: &Hash,
    need: &Need,
) -> Vec<(u16, u16)> {
    let imports: Vec<_> = package.items.iter().flat_map(|w| w.import_segments.iter()).collect();
    let exports = need.exporter.exports;
    need.indices
        .iter()
        .map(|&n| {
            if n >= exports {
                return (n, 0x8000 | (n - exports));
            }
            let position = imports.iter().position(|i| {
                let r = if i.is_package_hash() { lookup.get(&i.tree_root) } else { Some(&i.tree_root) };
                r == Some(root) && i.segment_index() == n
            });
            (n, position.map_or(n, |p| u16::try_from(p).unwrap_or(u16::MAX)))
        })
        .collect()
}

/// The positions in `package`'s import list (all items' imports, in order) of the imports from
/// segment root `root` (`lookup`: package hash → segment root), for telemetry.
fn import_positions(
    package: &orrery_types::WorkPackage,
    lookup: &BTreeMap<Hash, Hash>,
    root: &Hash,
) -> Vec<u16> {
    let imports = package.items.iter().flat_map(|w| w.import_segments.iter());
    imports
        .enumerate()
        .filter(|(_, i)| {
            let r = if i.is_package_hash() { lookup.get(&i.tree_root) } else { Some(&i.tree_root) };
            r == Some(root)
        })
        .map(|(n, _)| u16::try_from(n).unwrap_or(u16::MAX))
        .collect()
}

/// The indices to fetch for `wanted` exports of a report with `exports`: them, then their pages.
fn with_pages(wanted: BTreeSet<u16>, exports: u16) -> Vec<u16> {
    let pages: BTreeSet<u16> = wanted.iter().map(|n| exports.saturating_add(n / 64)).collect();
    wanted.into_iter().chain(pages).collect()
}

impl Node {
    /// Exported segments `indices` of the report with segment root `root`, or (`by_package`) of
    /// the package with hash `root`, reconstructed from the shards this node keeps and each proven
    /// against the segment root (JIP-2 `fetchSegments`, `fetchWorkPackageSegments`). An error says
    /// what is missing: an unknown root, an index past the exports, fewer than `R` shards kept.
    pub fn local_segments(
        &self,
        root: &Hash,
        by_package: bool,
        indices: &[u16],
    ) -> Result<Vec<Vec<u8>>, String> {
        let found = if by_package {
            self.segments.exporters.iter().find(|(_, e)| e.package == *root).map(|(r, e)| (*r, *e))
        } else {
            self.segments.exporters.get(root).map(|e| (*root, *e))
        };
        let (root, exporter) = found.ok_or("no report this node has seen exports it")?;
        if let Some(past) = indices.iter().find(|&&n| n >= exporter.exports) {
            return Err(format!("segment {past} is past the report's {} exports", exporter.exports));
        }
        let wanted = with_pages(indices.iter().copied().collect(), exporter.exports);
        let coder = orrery_erasure::ErasureCoder::for_spec(&self.spec).map_err(|e| e.to_string())?;
        let mut chunks = BTreeMap::new();
        for index in self.held_shard_indices(&exporter.erasure_root) {
            if chunks.len() >= coder.data_shards() {
                break;
            }
            if let Some(c) = self.segment_shards(&exporter.erasure_root, index, &wanted) {
                chunks.insert(index, c);
            }
        }
        if chunks.len() < coder.data_shards() {
            return Err(format!(
                "this node keeps {} of the {} shards needed",
                chunks.len(),
                coder.data_shards()
            ));
        }
        let proven =
            prove_all(&coder, &root, exporter.exports, &wanted, &chunks).map_err(|e| e.to_string())?;
        indices
            .iter()
            .map(|n| proven.get(n).map(|(s, _)| s.clone()).ok_or_else(|| format!("segment {n}")))
            .collect()
    }

    /// Rebuilds the exporters index after a restart from the blocks the store records as carrying
    /// guarantees, oldest first, so the newest [`MAX_KNOWN_EXPORTERS`] are what remains.
    pub(crate) fn recall_exporters(&mut self) -> Result<(), orrery_store::StoreError> {
        let blocks = self.chain.reporting_blocks()?;
        // Each block carries at least one report: the newest this many blocks cover the index.
        for (_, hash) in blocks.iter().skip(blocks.len().saturating_sub(MAX_KNOWN_EXPORTERS)) {
            self.segments_on_imported(hash);
        }
        Ok(())
    }

    /// Remembers the exporting reports of an imported block's guarantees.
    pub(crate) fn segments_on_imported(&mut self, hash: &HeaderHash) {
        let Ok(Some(block)) = self.chain.block(hash) else { return };
        for guarantee in &block.extrinsic.guarantees {
            self.remember_exporter(&guarantee.report);
        }
    }

    /// Remembers where a report's exported segments are (a report in a block, or our own).
    pub(crate) fn remember_exporter(&mut self, report: &orrery_types::WorkReport) {
        let spec = &report.package_spec;
        if spec.exports_count == 0 {
            return;
        }
        let exporter = Exporter {
            package: spec.hash,
            erasure_root: spec.erasure_root,
            core: report.core_index,
            exports: spec.exports_count,
        };
        let s = &mut self.segments;
        if s.exporters.insert(spec.exports_root, exporter).is_none() {
            s.order.push_back(spec.exports_root);
            if s.order.len() > MAX_KNOWN_EXPORTERS {
                if let Some(old) = s.order.pop_front() {
                    s.exporters.remove(&old);
                }
            }
        }
    }

    /// The segment-root lookup `⊞` by the best block's recent history: package hash → segment root.
    fn recent_segment_roots(&self) -> BTreeMap<Hash, Hash> {
        let Some(best) = self.chain.state(&self.best) else { return BTreeMap::new() };
        best.state().recent_blocks.reported_packages().map(|r| (r.hash, r.exports_root)).collect()
    }

    /// A package with imports: resolves them and starts fetching, or refuses naming the rule.
    pub(crate) fn fetch_imports(
        &mut self,
        from: Option<PeerId>,
        package_hash: Hash,
        submission: WorkPackageSubmission,
        out: &mut Vec<Output>,
    ) {
        if self.segments.waiting.contains_key(&package_hash) {
            return;
        }
        match self.resolve_imports(&submission) {
            Err(reason) => {
                out.push(Output::Event(Event::WorkPackageRefused { package: package_hash, reason }));
            }
            Ok((lookup, needs)) => {
                let step = |step| Output::Event(Event::Segments { package: package_hash, step });
                for (package, segments_root) in &lookup {
                    out.push(step(SegmentStep::PackageMapped {
                        package: *package,
                        segments_root: *segments_root,
                    }));
                }
                for (segments_root, need) in &needs {
                    let ids = import_ids(&submission.package, &lookup, segments_root, need);
                    out.push(step(SegmentStep::RootMapped {
                        segments_root: *segments_root,
                        erasure_root: need.exporter.erasure_root,
                        ids,
                    }));
                }
                let ttl = SEGMENT_FETCH_TTL_SLOTS.saturating_mul(self.slot_ms);
                let waiting =
                    Waiting { from, submission, lookup, needs, deadline: self.now.saturating_add(ttl) };
                self.segments.waiting.insert(package_hash, waiting);
                self.gather_local(package_hash);
                self.ask_assurers(package_hash, out);
                self.try_complete(package_hash, out);
            }
        }
    }

    fn resolve_imports(&self, submission: &WorkPackageSubmission) -> Result<Resolved, String> {
        if self.segments.waiting.len() >= MAX_WAITING_PACKAGES {
            return Err(format!("busy: {MAX_WAITING_PACKAGES} packages are waiting for their imports"));
        }
        // The package's limits first: they bound what is fetched (at most W_M imports).
        orrery_work_report::check_package(&self.spec, &submission.package)
            .map_err(|e| format!("GP 0.7.2 §14.2: {e}"))?;
        let recent = self.recent_segment_roots();
        let mut lookup = BTreeMap::new();
        let mut wanted: BTreeMap<Hash, BTreeSet<u16>> = BTreeMap::new();
        for item in &submission.package.items {
            for import in &item.import_segments {
                let root = if import.is_package_hash() {
                    let root = *recent.get(&import.tree_root).ok_or_else(|| {
                        format!(
                            "GP 0.7.2 §11.4 {}: work package {} is not among the packages the recent \
                             history β reports, so its segment root cannot be looked up",
                            ReportsError::SegmentRootLookupInvalid,
                            hex(&import.tree_root)
                        )
                    })?;
                    lookup.insert(import.tree_root, root);
                    root
                } else {
                    import.tree_root
                };
                wanted.entry(root).or_default().insert(import.segment_index());
            }
        }
        let mut needs = BTreeMap::new();
        for (root, indices) in wanted {
            let exporter = *self.segments.exporters.get(&root).ok_or_else(|| {
                format!(
                    "GP 0.7.2 §14.3 S(w): no report this node has seen exports segment root {}, so its \
                     segments cannot be fetched",
                    hex(&root)
                )
            })?;
            if let Some(past) = indices.iter().find(|&&n| n >= exporter.exports) {
                return Err(format!(
                    "GP 0.7.2 §14.3 S(w): segment {past} of segment root {} is past its {} exports",
                    hex(&root),
                    exporter.exports
                ));
            }
            let indices = with_pages(indices, exporter.exports);
            let need = Need {
                exporter,
                indices,
                chunks: BTreeMap::new(),
                asking: BTreeSet::new(),
                tried: BTreeSet::new(),
                proven: None,
            };
            needs.insert(root, need);
        }
        Ok((lookup, needs))
    }

    /// The shards this node keeps itself.
    fn gather_local(&mut self, package: Hash) {
        let Some(w) = self.segments.waiting.get(&package) else { return };
        let data_shards = self.spec.erasure_data_shards();
        let mut found = Vec::new();
        for (root, need) in &w.needs {
            for index in self.held_shard_indices(&need.exporter.erasure_root) {
                if found.iter().filter(|(r, _, _)| r == root).count() >= data_shards {
                    break;
                }
                if let Some(chunks) = self.segment_shards(&need.exporter.erasure_root, index, &need.indices) {
                    found.push((*root, index, chunks));
                }
            }
        }
        let Some(w) = self.segments.waiting.get_mut(&package) else { return };
        for (root, index, chunks) in found {
            if let Some(need) = w.needs.get_mut(&root) {
                need.tried.insert(index);
                need.chunks.insert(index, chunks);
            }
        }
    }

    /// The asked segment shards of shard `index` of `erasure_root`, from the store.
    fn segment_shards(&self, erasure_root: &Hash, index: u16, indices: &[u16]) -> Option<Vec<Vec<u8>>> {
        let record = self.shard_record(erasure_root, index)?;
        let segments = record.segment_chunks();
        indices.iter().map(|&i| segments.get(usize::from(i)).cloned()).collect()
    }

    /// Asks assurers for shards until each need has `R` answered or asked, data shards first.
    fn ask_assurers(&mut self, package: Hash, out: &mut Vec<Output>) {
        let spec = &self.spec;
        let (total, data_shards) = (usize::from(spec.validators_count), spec.erasure_data_shards());
        let Some(state) = self.chain.state(&self.best) else { return };
        let keys: Vec<PeerId> = state.state().active_validators.iter().map(|v| v.ed25519).collect();
        let me = self.our_ed25519();
        let Some(w) = self.segments.waiting.get(&package) else { return };
        let mut asks = Vec::new();
        for (root, need) in &w.needs {
            if need.proven.is_some() {
                continue;
            }
            let mut have = need.chunks.len() + need.asking.len();
            let offset = usize::from(need.exporter.core) * data_shards;
            for index in 0..total {
                if have >= data_shards {
                    break;
                }
                let shard = index as u16;
                if need.tried.contains(&shard) {
                    continue;
                }
                // Validator v keeps shard (c·R + v) mod V.
                let v = (index + total - offset % total.max(1)) % total.max(1);
                let Some(peer) = keys.get(v).copied() else { continue };
                if Some(peer) == me || !self.peers.contains_key(&peer) {
                    continue;
                }
                asks.push((*root, need.exporter.erasure_root, shard, peer, need.indices.clone()));
                have += 1;
            }
        }
        for (root, erasure_root, shard_index, peer, segment_indices) in asks {
            let request = Request::SegmentShards(SegmentShardRequest {
                items: vec![SegmentShardItem { erasure_root, shard_index, segment_indices }],
            });
            let asked = Asked::SegmentShards { package, segment_root: root, shard_index };
            let sent = self.work_request(peer, asked, request, out);
            if let Some(need) = self.segments.waiting.get_mut(&package).and_then(|w| w.needs.get_mut(&root)) {
                need.tried.insert(shard_index);
                if sent {
                    need.asking.insert(shard_index);
                }
            }
        }
    }

    /// CE 139's answer.
    pub(crate) fn on_segment_shards(
        &mut self,
        peer: PeerId,
        package: Hash,
        segment_root: Hash,
        shard_index: u16,
        shards: Vec<Vec<u8>>,
        out: &mut Vec<Output>,
    ) {
        let Ok(coder) = orrery_erasure::ErasureCoder::for_spec(&self.spec) else { return };
        let size = coder.chunk_len(SEGMENT_SIZE);
        let Some(need) = self.segments.waiting.get_mut(&package).and_then(|w| w.needs.get_mut(&segment_root))
        else {
            return;
        };
        if !need.asking.remove(&shard_index) {
            return;
        }
        if shards.len() != need.indices.len() || shards.iter().any(|s| s.len() != size) {
            self.misbehaved(peer, crate::limits::BAD_MESSAGE, "CE 139: segment shards not as asked", out);
        } else {
            need.chunks.insert(shard_index, shards);
        }
        self.ask_assurers(package, out);
        self.try_complete(package, out);
    }

    pub(crate) fn on_segment_shards_failed(
        &mut self,
        package: Hash,
        segment_root: Hash,
        shard_index: u16,
        out: &mut Vec<Output>,
    ) {
        let Some(need) = self.segments.waiting.get_mut(&package).and_then(|w| w.needs.get_mut(&segment_root))
        else {
            return;
        };
        need.asking.remove(&shard_index);
        self.ask_assurers(package, out);
    }

    /// Reconstructs and proves what has enough shards; once every import is proven, refines.
    fn try_complete(&mut self, package: Hash, out: &mut Vec<Output>) {
        let Ok(coder) = orrery_erasure::ErasureCoder::for_spec(&self.spec) else { return };
        let data_shards = coder.data_shards();
        let Some(w) = self.segments.waiting.get_mut(&package) else { return };
        let mut failed = None;
        let step = |step| Output::Event(Event::Segments { package, step });
        for (root, need) in w.needs.iter_mut() {
            if need.proven.is_some() || need.chunks.len() < data_shards {
                continue;
            }
            let segments = import_positions(&w.submission.package, &w.lookup, root);
            // Trivial: the first `R` shards are the original data.
            let trivial = need.chunks.keys().all(|&i| usize::from(i) < data_shards);
            out.push(step(SegmentStep::Reconstructing { segments: segments.clone(), trivial }));
            match prove_all(&coder, root, need.exporter.exports, &need.indices, &need.chunks) {
                Ok(proven) => {
                    need.proven = Some(proven);
                    out.push(step(SegmentStep::Reconstructed { segments, proven: Ok(()) }));
                }
                Err(e) => {
                    let reason = format!(
                        "GP 0.7.2 §14.3 J(w): {e}, from {} assurers' shards of segment root {} (CE \
                         140's fallback is not here)",
                        need.chunks.len(),
                        hex(root)
                    );
                    out.push(step(match e {
                        Unproven::Reconstruction(_) => {
                            SegmentStep::ReconstructionFailed { segments, reason: reason.clone() }
                        }
                        Unproven::Proof(_) => {
                            SegmentStep::Reconstructed { segments, proven: Err(reason.clone()) }
                        }
                    }));
                    failed = Some(reason);
                    break;
                }
            }
        }
        let all_proven = w.needs.values().all(|n| n.proven.is_some());
        if let Some(reason) = failed {
            self.segments.waiting.remove(&package);
            out.push(Output::Event(Event::WorkPackageRefused { package, reason }));
            return;
        }
        if !all_proven {
            return;
        }
        let Some(w) = self.segments.waiting.remove(&package) else { return };
        let WorkPackageSubmission { core, package: wp, extrinsics } = w.submission;
        let mut data = PackageData {
            imports: Vec::with_capacity(wp.items.len()),
            justifications: Vec::with_capacity(wp.items.len()),
            extrinsics,
            segment_roots: w.lookup.clone(),
        };
        for item in &wp.items {
            let (mut segments, mut paths) = (Vec::new(), Vec::new());
            for import in &item.import_segments {
                let root = if import.is_package_hash() {
                    w.lookup.get(&import.tree_root).copied().unwrap_or_default()
                } else {
                    import.tree_root
                };
                let proven = w.needs.get(&root).and_then(|n| n.proven.as_ref());
                let Some((segment, j0)) = proven.and_then(|p| p.get(&import.segment_index())) else {
                    return;
                };
                segments.push(segment.clone());
                paths.push(j0.clone());
            }
            data.imports.push(segments);
            data.justifications.push(paths);
        }
        out.push(Output::Event(Event::Segments { package, step: SegmentStep::ImportsReceived }));
        self.guarantee_with(w.from, core, wp, package, data, out);
    }

    /// Packages whose imports did not come in time are refused, naming what was missing.
    pub(crate) fn segments_on_time(&mut self, out: &mut Vec<Output>) {
        // Requests the node forgot (past their deadline, or their peer gone) give no answer: the
        // next assurer is asked instead.
        let out_now: BTreeSet<(Hash, Hash, u16)> = self
            .requests
            .values()
            .filter_map(|p| match p.asked {
                Asked::SegmentShards { package, segment_root, shard_index } => {
                    Some((package, segment_root, shard_index))
                }
                _ => None,
            })
            .collect();
        let mut lost = Vec::new();
        for (package, w) in self.segments.waiting.iter_mut() {
            for (root, need) in w.needs.iter_mut() {
                let before = need.asking.len();
                need.asking.retain(|i| out_now.contains(&(*package, *root, *i)));
                if need.asking.len() != before {
                    lost.push(*package);
                }
            }
        }
        lost.dedup();
        for package in lost {
            self.ask_assurers(package, out);
        }
        let now = self.now;
        let expired: Vec<Hash> =
            self.segments.waiting.iter().filter(|(_, w)| w.deadline <= now).map(|(p, _)| *p).collect();
        let data_shards = self.spec.erasure_data_shards();
        for package in expired {
            let Some(w) = self.segments.waiting.remove(&package) else { continue };
            let missing: Vec<String> = w
                .needs
                .iter()
                .filter(|(_, n)| n.proven.is_none())
                .map(|(root, n)| format!("{} ({} of {data_shards} shards)", hex(root), n.chunks.len()))
                .collect();
            let reason = format!(
                "GP 0.7.2 §14.3 S(w): the imported segments did not come in time; short of shards: {}",
                missing.join(", ")
            );
            out.push(Output::Event(Event::WorkPackageRefused { package, reason }));
        }
    }

    pub(crate) fn segments_next_wake(&self) -> Option<Millis> {
        self.segments.waiting.values().map(|w| w.deadline).min()
    }

    /// CE 139: the asked segment shards, from our store; nothing when any is missing.
    pub(crate) fn serve_segment_shards(&mut self, request: SegmentShardRequest) -> Option<Response> {
        if self.options.withhold_shards {
            return None;
        }
        let mut shards = Vec::with_capacity(request.shard_count());
        for item in &request.items {
            shards.extend(self.segment_shards(
                &item.erasure_root,
                item.shard_index,
                &item.segment_indices,
            )?);
        }
        Some(Response::SegmentShards(shards))
    }

    /// Whether a CE 134 share's segment-root lookup is ours: every package hash the package
    /// imports by is in it, with the segment root the best block's recent history gives.
    pub(crate) fn check_share_lookup(
        &self,
        package: &orrery_types::WorkPackage,
        lookup: &BTreeMap<Hash, Hash>,
    ) -> Result<(), String> {
        let recent = self.recent_segment_roots();
        for item in &package.items {
            for import in item.import_segments.iter().filter(|i| i.is_package_hash()) {
                let theirs = lookup.get(&import.tree_root);
                if theirs.is_none() || theirs != recent.get(&import.tree_root) {
                    return Err(format!(
                        "GP 0.7.2 §11.4 {}: the share's segment root for work package {} is not the one \
                         the recent history β reports",
                        ReportsError::SegmentRootLookupInvalid,
                        hex(&import.tree_root)
                    ));
                }
            }
        }
        Ok(())
    }
}

fn hex(hash: &Hash) -> String {
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Segments `[i; 8]` zero-padded, as the probe service exports them.
    fn exports(n: u8) -> Vec<Vec<u8>> {
        (0..n)
            .map(|i| {
                let mut s = vec![0u8; SEGMENT_SIZE];
                s[..8].fill(i);
                s
            })
            .collect()
    }

    #[test]
    fn a_segment_proves_against_its_root_through_its_proof_page_and_nothing_else_does() {
        for count in [1u8, 3, 64, 70] {
            let segments = exports(count);
            let root = orrery_merkle::constant_depth_root(&segments, blake2b_256);
            let pages = orrery_work_report::paged_proofs(&segments);
            for index in [0u16, u16::from(count) - 1] {
                let page = &pages[usize::from(index / 64)];
                let j0 = prove_segment(&root, index, &segments[usize::from(index)], page).unwrap();
                // J_0 is as deep as the tree: ⌈log₂ count⌉.
                let depth = usize::from(count).next_power_of_two().trailing_zeros() as usize;
                assert_eq!(j0.len(), depth, "{count} {index}");
                // Another segment, or the right one at another index, does not prove.
                let other = vec![0xee; SEGMENT_SIZE];
                assert_eq!(prove_segment(&root, index, &other, page), None);
                if count > 1 {
                    let elsewhere = (index + 1) % u16::from(count);
                    assert_eq!(prove_segment(&root, elsewhere, &segments[usize::from(index)], page), None);
                }
            }
        }
        // A page that does not decode.
        assert_eq!(decode_proof_page(&[0xff; 8]), None);
    }
}
