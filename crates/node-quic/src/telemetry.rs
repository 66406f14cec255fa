//! JIP-3 telemetry from the driver: the node thread's events and the network tasks' stream traffic
//! as telemetry events, and a status event every two seconds (`orrery_telemetry` queues them
//! without blocking either side; with no telemetry server nothing here runs).
//!
//! Emitted, by the node thread ([`Reporter`], from the sans-IO node's `Event` outputs): status (10),
//! best and finalized block (11, 12), sync status (13); authoring (40, 42, 47; 41 when authoring
//! fails, or when our own block fails its import's checks, 46 when it fails in execution);
//! importing (43, 45, 47; a block that fails import gets 43 then 44 when it broke a header or
//! extrinsic rule, 43, 45 and 46 when accumulation or the store's write failed: the node's
//! `Failure`); tickets generated (80–82); work-package submission by the node's own user (90);
//! duplicate work-package (93, a package already being guaranteed submitted again); authorized (95:
//! Ψ_I runs inside the report's computation, so it comes just before "refined", its cost the gas
//! Ψ_I used and no times); imports received (97, only for a package that imports segments);
//! refined and work-report built (101, 102; the refine cost is each item's gas, the times are not
//! measured); work-package failed (92); guarantee built and distributed (105, 109); guarantee receive
//! failed (111, for a guarantee that fails the credential checks after "guarantee received");
//! guarantee discarded (113: reported on-chain, replaced by a better one, or its rotation past);
//! distributing and distributed assurance (126, 129); bundle reconstruction by an auditor (146,
//! 147); the guarantor's side of segment recovery (160, 161, 168–172); announced preimage forgotten
//! (192: not requested, too many wanted, bad length, or the fetch failed) and preimage discarded
//! (199: provided on-chain, no longer requested, or the pool full when it came).
//!
//! By the network tasks ([`Tel`], used by `net`): every connection event (20–28; "connecting in"
//! comes once the QUIC handshake is done, the transport does not show an attempt before), block
//! announcement streams opened and closed and announcements (60–62; 61 whichever side ends the
//! stream, the connection's end included), block requests both ways (63–68), ticket transfers (83,
//! 84), work-package submission over CE 133 (90, 92, 94, 96), sharing over CE 134 both ways (91, 92,
//! 94, 96, 98–100, 103, 104), guarantee transfers (106–108, 110–112), shard requests over CE 137 both
//! ways (120–125), an auditor's bundle shard requests over CE 138 both ways (140–145), assurance
//! transfers (127, 128, 130, 131), bundle requests over CE 147 both ways
//! (148–153), segment shard requests over CE 139 both ways (162–167; the guarantor's carry the
//! submission and each segment's Import Segment ID, which the node gives with 161), preimage
//! announcements and requests (190, 191, 193–198).
//!
//! Not emitted, and why: 162–167 with "using CE 140" set and 173–178 (CE 140 and CE 148 are not used: a segment that does
//! not prove refuses the package); 93 for a package shared again by CE 134 (a co-guarantor refines
//! each share it is asked for). 95's and 101's times and host-call breakdowns are zero (only gas
//! is measured), 47's accumulation costs are empty. Links between events follow the JIP; the bundle
//! recovery events' audit reference (a "TODO" in the JIP) is the ID of the first recovery event of
//! that erasure root.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use orrery_codec::{Decode, Decoder, Encode};
use orrery_node::{
    Event, Failure, GuaranteeDiscard, Message, Node, Output, PeerId, PreimageDiscard, PreimageForget,
    SegmentStep, Status,
};
use orrery_telemetry::{
    BlockOutline, CoreBits, Event as T, EventId, ExecCost, GuaranteeDiscardReason, IsAuthorizedCost, PerCore,
    PreimageDiscardReason, PreimageForgetReason, RefineCost, Telemetry, WorkItemOutline, WorkPackageOutline,
    WorkReportOutline,
};
use orrery_types::{Block, Hash, WorkPackage};

/// How often a status event goes out (JIP-3: about every two seconds).
const STATUS_EVERY: Duration = Duration::from_secs(2);
/// Links remembered per kind (package → submission, report → guarantee built, …): a link older
/// than this many newer ones is forgotten (the event then names itself or nothing).
const LINKS: usize = 1024;

/// A package's segment fetch from one report: its submission event, and each of the report's
/// segment indices with its Import Segment ID.
type SegmentFetch = (EventId, HashMap<u16, u16>);

/// A small map that forgets everything when full: links are only useful for a short while.
#[derive(Debug, Default)]
struct Links(Mutex<HashMap<Hash, EventId>>);

impl Links {
    fn put(&self, key: Hash, id: EventId) {
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if m.len() >= LINKS {
            m.clear();
        }
        m.insert(key, id);
    }
    fn get(&self, key: &Hash) -> Option<EventId> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).get(key).copied()
    }
}

/// The telemetry client shared by the node thread and the network tasks, with the links between
/// their events.
#[derive(Debug)]
pub(crate) struct Tel {
    client: Telemetry,
    me: PeerId,
    /// Package hash → its "work-package submission" or "work-package being shared" event.
    submissions: Links,
    /// Report hash → "guarantee built".
    built: Links,
    /// Assurance anchor → "distributing assurance".
    distributing: Links,
    /// Erasure root → the first bundle recovery event of that audit.
    audits: Links,
    /// Report hash → its "receiving guarantee" event (CE 135).
    receiving: Links,
    /// Erasure root → the submission of the package whose imports are fetched from it, and the
    /// JIP's Import Segment ID of each of the report's segment indices asked for.
    segment_fetches: Mutex<HashMap<Hash, SegmentFetch>>,
    /// Peers the node disconnected, with its reason (they are "disconnected" by us).
    closing: Mutex<HashMap<PeerId, String>>,
}

impl Tel {
    pub(crate) fn new(client: Telemetry, me: PeerId) -> Self {
        Self {
            client,
            me,
            submissions: Links::default(),
            built: Links::default(),
            distributing: Links::default(),
            audits: Links::default(),
            receiving: Links::default(),
            segment_fetches: Mutex::default(),
            closing: Mutex::default(),
        }
    }

    pub(crate) fn emit(&self, event: T) -> EventId {
        self.client.emit(event)
    }

    /// The submission event of a package, if still known.
    pub(crate) fn submission(&self, package: &Hash) -> Option<EventId> {
        self.submissions.get(package)
    }

    pub(crate) fn set_submission(&self, package: Hash, id: EventId) {
        self.submissions.put(package, id)
    }

    pub(crate) fn built(&self, report: &Hash) -> Option<EventId> {
        self.built.get(report)
    }

    pub(crate) fn distributing(&self, anchor: &Hash) -> Option<EventId> {
        self.distributing.get(anchor)
    }

    pub(crate) fn set_receiving(&self, report: Hash, id: EventId) {
        self.receiving.put(report, id)
    }

    fn set_segment_fetch(&self, erasure_root: Hash, submission: EventId, ids: HashMap<u16, u16>) {
        let mut m = self.segment_fetches.lock().unwrap_or_else(|e| e.into_inner());
        if m.len() >= LINKS {
            m.clear();
        }
        m.insert(erasure_root, (submission, ids));
    }

    /// The submission a CE 139 request for shard `shard` of these segments serves, and the
    /// request's (Import Segment ID, shard index) pairs.
    pub(crate) fn segment_fetch(
        &self,
        erasure_root: &Hash,
        segments: &[u16],
        shard: u16,
    ) -> Option<(EventId, Vec<(u16, u16)>)> {
        let m = self.segment_fetches.lock().unwrap_or_else(|e| e.into_inner());
        let (submission, ids) = m.get(erasure_root)?;
        let pairs = segments.iter().map(|n| (ids.get(n).copied().unwrap_or(*n), shard)).collect();
        Some((*submission, pairs))
    }

    /// Emits a bundle recovery event whose audit reference is the first such event of `root`.
    pub(crate) fn emit_audit(&self, root: Hash, make: impl FnOnce(EventId) -> T) -> EventId {
        let audit = self.audits.get(&root);
        let id = self.client.emit_with(|id| make(audit.unwrap_or(id)));
        if audit.is_none() {
            self.audits.put(root, id);
        }
        id
    }

    pub(crate) fn closing(&self, peer: PeerId, reason: String) {
        let mut m = self.closing.lock().unwrap_or_else(|e| e.into_inner());
        if m.len() >= LINKS {
            m.clear();
        }
        m.insert(peer, reason);
    }

    pub(crate) fn take_closing(&self, peer: &PeerId) -> Option<String> {
        self.closing.lock().unwrap_or_else(|e| e.into_inner()).remove(peer)
    }
}

/// A block's outline.
pub(crate) fn outline(block: &Block) -> BlockOutline {
    let e = &block.extrinsic;
    BlockOutline {
        size: u32::try_from(block.encode().len()).unwrap_or(u32::MAX),
        hash: orrery_import::header_hash(&block.header),
        tickets: e.tickets.len() as u32,
        preimages: e.preimages.len() as u32,
        preimages_size: e.preimages.iter().map(|p| p.blob.len() as u32).sum(),
        guarantees: e.guarantees.len() as u32,
        assurances: e.assurances.len() as u32,
        dispute_verdicts: e.disputes.verdicts.len() as u32,
    }
}

/// A work package's outline and hash.
pub(crate) fn package_outline(package: &WorkPackage) -> WorkPackageOutline {
    let encoded = package.encode();
    let c = &package.context;
    WorkPackageOutline {
        size: u32::try_from(encoded.len()).unwrap_or(u32::MAX),
        hash: orrery_crypto::blake2b_256(&encoded),
        anchor: c.anchor,
        lookup_anchor_slot: c.lookup_anchor_slot,
        prerequisites: c.prerequisites.clone(),
        items: package
            .items
            .iter()
            .map(|w| WorkItemOutline {
                service: w.service,
                payload_size: u32::try_from(w.payload.len()).unwrap_or(u32::MAX),
                refine_gas: w.refine_gas_limit,
                accumulate_gas: w.accumulate_gas_limit,
                extrinsic_size: w.extrinsic.iter().map(|x| x.len).fold(0, u32::saturating_add),
                imports: w
                    .import_segments
                    .iter()
                    .map(|i| orrery_telemetry::ImportSpec { root: i.tree_root, index: i.index })
                    .collect(),
                exports: w.export_count,
            })
            .collect(),
    }
}

/// The package at the head of a bundle (a bundle starts with its package's encoding).
pub(crate) fn bundle_package(bundle: &[u8]) -> Option<WorkPackage> {
    WorkPackage::decode(&mut Decoder::without_lengths(bundle)).ok()
}

/// The node thread's side.
pub(crate) struct Reporter {
    tel: std::sync::Arc<Tel>,
    last_status: Option<Instant>,
    synced: Option<bool>,
    /// "Distributing assurance" events of the current batch, to close with "assurance distributed".
    distributing: Vec<EventId>,
    /// "Guarantee built" events of the current batch, with their submission, to close with
    /// "guarantees distributed".
    guaranteed: Vec<EventId>,
    /// Blocks this node authored lately, with their "authoring" event: the node reports their
    /// import too, but the JIP has the author emit "authoring", not "importing".
    authored: std::collections::VecDeque<(Hash, Option<EventId>)>,
    /// The submission whose segments are being reconstructed → its "reconstructing segments"
    /// event (one reconstruction at a time per package: the node does them in one step).
    reconstructing: HashMap<EventId, EventId>,
}

impl Reporter {
    pub(crate) fn new(tel: std::sync::Arc<Tel>) -> Self {
        Self {
            tel,
            last_status: None,
            synced: None,
            distributing: Vec::new(),
            guaranteed: Vec::new(),
            authored: std::collections::VecDeque::new(),
            reconstructing: HashMap::new(),
        }
    }

    /// The work package of the node's own user: it is its own builder.
    pub(crate) fn submitted(&self, package: &WorkPackage, core: u16) {
        let t = &self.tel;
        let submission = t.emit(T::WorkPackageSubmission { builder: t.me, ce146: false });
        let outline = package_outline(package);
        t.set_submission(outline.hash, submission);
        t.emit(T::WorkPackageReceived { submission, core, outline });
        t.emit(T::ExtrinsicDataReceived { submission });
    }

    /// Before a batch of outputs goes to the network: the events its sends refer to.
    pub(crate) fn before(&mut self, outputs: &[Output]) {
        let t = &self.tel;
        for output in outputs {
            match output {
                Output::Event(Event::Guaranteed { package, report, slot, guarantors, .. }) => {
                    let Some(submission) = t.submission(package) else { continue };
                    let outline = orrery_telemetry::GuaranteeOutline {
                        report: *report,
                        slot: *slot,
                        guarantors: guarantors.clone(),
                    };
                    let id = t.emit(T::GuaranteeBuilt { submission, outline });
                    t.built.put(*report, id);
                    self.guaranteed.push(submission);
                }
                Output::Send { message: Message::Assurance(a), .. }
                    if t.distributing(&a.anchor).is_none() =>
                {
                    let id = t.emit(T::DistributingAssurance {
                        anchor: a.anchor,
                        bitfield: CoreBits(a.bitfield.as_bytes().to_vec()),
                    });
                    t.distributing.put(a.anchor, id);
                    self.distributing.push(id);
                }
                _ => {}
            }
        }
    }

    /// After the batch's sends are queued.
    pub(crate) fn after(&mut self) {
        for distributing in self.distributing.drain(..) {
            self.tel.emit(T::AssuranceDistributed { distributing });
        }
        for submission in self.guaranteed.drain(..) {
            self.tel.emit(T::GuaranteesDistributed { submission });
        }
    }

    /// The "authoring" event of a block this node authored lately.
    fn authoring_of(&self, hash: &Hash) -> Option<Option<EventId>> {
        self.authored.iter().find(|(h, _)| h == hash).map(|(_, id)| *id)
    }

    pub(crate) fn event(&mut self, node: &Node, event: &Event) {
        let t = &self.tel;
        let block_of = |hash: &[u8; 32]| node.chain().block(hash).ok().flatten();
        match event {
            Event::Authored { hash, slot } => {
                // Events are read once the node's step is done: a block it authored is imported
                // by then, unless its import failed (then "authoring" comes with the failure).
                let authoring = block_of(hash).map(|block| {
                    let authoring = t.emit(T::Authoring { slot: *slot, parent: block.header.parent });
                    t.emit(T::Authored { authoring, outline: outline(&block) });
                    authoring
                });
                if self.authored.len() >= 16 {
                    self.authored.pop_front();
                }
                self.authored.push_back((*hash, authoring));
            }
            Event::AuthoringFailed { slot, parent, reason } => {
                let authoring = t.emit(T::Authoring { slot: *slot, parent: *parent });
                t.emit(T::AuthoringFailed { authoring, reason: reason.clone() });
            }
            Event::Imported { hash, slot, best } => {
                if let Some(block) = block_of(hash) {
                    // Ours: authoring, authored (above), executed; an importer's: importing,
                    // verified, executed.
                    let started = match self.authoring_of(hash) {
                        Some(Some(authoring)) => authoring,
                        _ => {
                            let importing = t.emit(T::Importing { slot: *slot, outline: outline(&block) });
                            t.emit(T::BlockVerified { importing });
                            importing
                        }
                    };
                    t.emit(T::BlockExecuted { started, accumulated: Vec::new() });
                }
                if *best {
                    t.emit(T::BestBlockChanged { slot: *slot, hash: *hash });
                }
            }
            Event::Rejected { hash, reason, failure } => {
                let reason = reason.clone();
                // Our own block: its "authoring" event, emitted now if its import failed at once.
                let authoring = self.authoring_of(hash).map(|id| {
                    id.unwrap_or_else(|| match failure {
                        Failure::Verification(b) | Failure::Execution(b) => {
                            t.emit(T::Authoring { slot: b.header.slot, parent: b.header.parent })
                        }
                        Failure::Finality => 0,
                    })
                });
                match (failure, authoring) {
                    (Failure::Finality, _) => {}
                    // The JIP: an author reports its block's invalidity as "authoring failed".
                    (Failure::Verification(_), Some(authoring)) => {
                        t.emit(T::AuthoringFailed { authoring, reason });
                    }
                    (Failure::Execution(_), Some(started)) => {
                        t.emit(T::BlockExecutionFailed { started, reason });
                    }
                    (Failure::Verification(block), None) => {
                        let importing =
                            t.emit(T::Importing { slot: block.header.slot, outline: outline(block) });
                        t.emit(T::BlockVerificationFailed { importing, reason });
                    }
                    (Failure::Execution(block), None) => {
                        let importing =
                            t.emit(T::Importing { slot: block.header.slot, outline: outline(block) });
                        t.emit(T::BlockVerified { importing });
                        t.emit(T::BlockExecutionFailed { started: importing, reason });
                    }
                }
            }
            Event::Finalized { hash, slot } => {
                t.emit(T::FinalizedBlockChanged { slot: *slot, hash: *hash });
            }
            Event::TicketsGenerated { epoch, outputs } => {
                let generating = t.emit(T::GeneratingTickets { epoch: *epoch });
                t.emit(T::TicketsGenerated { generating, outputs: outputs.clone() });
            }
            Event::TicketGenerationFailed { epoch, reason } => {
                let generating = t.emit(T::GeneratingTickets { epoch: *epoch });
                t.emit(T::TicketGenerationFailed { generating, reason: reason.clone() });
            }
            Event::WorkPackageRefused { package, reason } => {
                if let Some(submission) = t.submission(package) {
                    t.emit(T::WorkPackageFailed { submission, reason: reason.clone() });
                }
            }
            Event::ReportBuilt {
                package,
                report,
                bundle_size,
                erasure_root,
                segments_root,
                gas,
                auth_gas,
            } => {
                let Some(submission) = t.submission(package) else { return };
                // Ψ_I runs inside the report's computation (`orrery-work-report`): "authorized"
                // comes with refinement, with the gas it used (its time is not measured).
                let cost = IsAuthorizedCost {
                    total: ExecCost { gas: *auth_gas, ns: 0 },
                    ..IsAuthorizedCost::default()
                };
                t.emit(T::Authorized { submission, cost });
                let costs = gas
                    .iter()
                    .map(|g| RefineCost { total: ExecCost { gas: *g, ns: 0 }, ..RefineCost::default() })
                    .collect();
                t.emit(T::Refined { submission, costs });
                let outline = WorkReportOutline {
                    hash: *report,
                    bundle_size: *bundle_size,
                    erasure_root: *erasure_root,
                    segments_root: *segments_root,
                };
                t.emit(T::WorkReportBuilt { submission, outline });
            }
            Event::BundleRebuilt { erasure_root, trivial, ok } => {
                t.emit_audit(*erasure_root, |audit| T::ReconstructingBundle { audit, trivial: *trivial });
                if *ok {
                    t.emit_audit(*erasure_root, |audit| T::BundleReconstructed { audit });
                }
            }
            Event::DuplicatePackage { package, core } => {
                if let Some(submission) = t.submission(package) {
                    t.emit(T::DuplicateWorkPackage { submission, core: *core, package: *package });
                }
            }
            Event::Segments { package, step } => {
                let Some(submission) = t.submission(package) else { return };
                self.segments(submission, step);
            }
            Event::GuaranteeRefused { report, reason } => {
                if let Some(receiving) = t.receiving.get(report) {
                    t.emit(T::GuaranteeReceiveFailed { receiving, reason: reason.clone() });
                }
            }
            Event::GuaranteeDiscarded { report, slot, guarantors, reason } => {
                let outline = orrery_telemetry::GuaranteeOutline {
                    report: *report,
                    slot: *slot,
                    guarantors: guarantors.clone(),
                };
                let reason = match reason {
                    GuaranteeDiscard::ReportedOnChain => GuaranteeDiscardReason::ReportedOnChain,
                    GuaranteeDiscard::Replaced => GuaranteeDiscardReason::Replaced,
                    GuaranteeDiscard::CannotBeReported => GuaranteeDiscardReason::CannotBeReported,
                };
                t.emit(T::GuaranteeDiscarded { outline, reason });
            }
            Event::PreimageForgotten { service, hash, length, reason } => {
                let reason = match reason {
                    PreimageForget::NotRequested => PreimageForgetReason::NotRequested,
                    PreimageForget::AcquireFailed => PreimageForgetReason::AcquireFailed,
                    PreimageForget::TooMany => PreimageForgetReason::TooMany,
                    PreimageForget::BadLength => PreimageForgetReason::BadLength,
                };
                t.emit(T::AnnouncedPreimageForgotten {
                    service: *service,
                    hash: *hash,
                    length: *length,
                    reason,
                });
            }
            Event::PreimageDiscarded { hash, length, reason } => {
                let reason = match reason {
                    PreimageDiscard::ProvidedOnChain => PreimageDiscardReason::ProvidedOnChain,
                    PreimageDiscard::NotRequested => PreimageDiscardReason::NotRequested,
                    PreimageDiscard::TooMany => PreimageDiscardReason::TooMany,
                };
                t.emit(T::PreimageDiscarded { hash: *hash, length: *length, reason });
            }
            Event::Equivocation { .. }
            | Event::Guaranteed { .. }
            | Event::ShardsStored { .. }
            | Event::Audited { .. }
            | Event::WarpFragmentLost { .. } => {}
        }
    }

    /// A step of segment recovery for the package of `submission` (JIP-3 160–172, 97).
    fn segments(&mut self, submission: EventId, step: &SegmentStep) {
        let t = &self.tel;
        match step {
            SegmentStep::PackageMapped { package, segments_root } => {
                t.emit(T::WorkPackageHashMapped {
                    submission,
                    package: *package,
                    segments_root: *segments_root,
                });
            }
            SegmentStep::RootMapped { segments_root, erasure_root, ids } => {
                t.set_segment_fetch(*erasure_root, submission, ids.iter().copied().collect());
                t.emit(T::SegmentsRootMapped {
                    submission,
                    segments_root: *segments_root,
                    erasure_root: *erasure_root,
                });
            }
            SegmentStep::Reconstructing { segments, trivial } => {
                let id = t.emit(T::ReconstructingSegments {
                    submission,
                    segments: segments.clone(),
                    trivial: *trivial,
                });
                self.reconstructing.insert(submission, id);
            }
            SegmentStep::ReconstructionFailed { segments: _, reason } => {
                let reconstructing = self.reconstructing.remove(&submission).unwrap_or(submission);
                t.emit(T::SegmentReconstructionFailed { reconstructing, reason: reason.clone() });
            }
            SegmentStep::Reconstructed { segments, proven } => {
                let reconstructing = self.reconstructing.remove(&submission).unwrap_or(submission);
                t.emit(T::SegmentsReconstructed { reconstructing });
                match proven {
                    Ok(()) => t.emit(T::SegmentsVerified { submission, segments: segments.clone() }),
                    Err(reason) => t.emit(T::SegmentVerificationFailed {
                        submission,
                        segments: segments.clone(),
                        reason: reason.clone(),
                    }),
                };
            }
            SegmentStep::ImportsReceived => {
                t.emit(T::ImportsReceived { submission });
            }
        }
    }

    pub(crate) fn status(&mut self, node: &Node, status: &Status) {
        let t = &self.tel;
        if self.synced != Some(!status.syncing) {
            self.synced = Some(!status.syncing);
            t.emit(T::SyncStatusChanged { synced: !status.syncing });
        }
        if self.last_status.is_some_and(|at| at.elapsed() < STATUS_EVERY) {
            return;
        }
        self.last_status = Some(Instant::now());
        // Every connection is to a validator (builders aside) and carries an announcement stream.
        let peers = status.peers as u32;
        let f = node.figures();
        t.emit(T::Status {
            peers,
            validator_peers: peers,
            announcement_streams: peers,
            guarantees_by_core: PerCore(f.guarantees_by_core),
            shards: u32::try_from(f.shards).unwrap_or(u32::MAX),
            shards_size: f.shards_size,
            preimages: u32::try_from(f.preimages).unwrap_or(u32::MAX),
            preimages_size: u32::try_from(f.preimages_size).unwrap_or(u32::MAX),
        });
    }
}
