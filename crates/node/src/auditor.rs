//! Auditing (GP 0.7.2 §17; JAMNP-S CE 144, 145, 147), driven by the node's clock.
//!
//! For each imported block that makes reports available (`W`, the prior `ρ` entries its
//! assurances push past two thirds), a validator of the block's prior set `κ`:
//! - tranche 0: draws `s_0` (`orrery_audit::select`), announces the cores drawn (CE 144, with the
//!   VRF signature as evidence) to the other auditors, fetches each report's bundle from one of
//!   its guarantors (CE 147; the bundle a guarantor keeps is [`Node::keep_bundle`]'s), recomputes
//!   the report (Ξ on the bundle, the lookup anchor's accounts) and publishes its judgment
//!   (CE 145), positive when the recomputed report equals the one on chain;
//! - later tranches (every 8 s after the block's slot, scaled to the dev slot length): for each
//!   report still not audited, draws `s_n(w)` against the no-shows of the tranche before (or audits
//!   unconditionally after a negative judgment) and announces with the no-shows as evidence;
//! - checks every announcement (the evidence against the announcer's Bandersnatch key and the
//!   block's `Y(H_v)`, the Ed25519 signature) and judgment it receives, counting bad ones against
//!   the peer, and keeps `A_n`, `J_⊤`, `J_⊥` per report (`orrery_audit::ReportAudit`).
//!
//! A block is audited when every report it made available is (`U`, eq. 17.11). Where the paper
//! puts that condition: §19 makes it part of the best-block rule, and says the best block is "the
//! chain on which the participant should make GRANDPA votes". Here it gates the votes (GRANDPA
//! never votes past the last block whose unfinalized ancestry is audited) and not authoring: a
//! block's audit takes at least a tranche, and authoring on the last audited block would fork the
//! chain at every slot that makes a report available. A block carrying a report more than a third
//! of the validators judged invalid is disregarded with its descendants, for authoring and votes
//! alike (§17.3, last paragraphs).
//!
//! When no guarantor gives the bundle, the auditor asks every validator for the bundle shard it
//! keeps as assurer, checks each against the erasure root and rebuilds the bundle from a third of
//! them (§17.2). A bad verdict built from the judgments is offered to authors (§10).
//!
//! What is not here yet: the CE 138 stream itself (the shards come over CE 137, whose answer has
//! all an auditor needs).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use orrery_audit::select::{draw_later_tranche, draw_tranche0, verify_later_tranche, verify_tranche0};
use orrery_audit::statement::{sign_announcement, sign_judgment, verify_announcement, verify_judgment};
use orrery_audit::{tranche_at, ReportAudit};
use orrery_codec::Encode;
use orrery_crypto::bandersnatch::vrf_output;
use orrery_crypto::blake2b_256;
use orrery_network::message::audit::{
    AnnouncedReport, Announcement, AuditAnnouncement, Evidence, JudgedGuarantee, JudgmentPublication, NoShow,
};
use orrery_state::ValidatorData;
use orrery_stf::assignments::guarantor_keys;
use orrery_types::{
    Block, CoreIndex, Culprit, DisputesExtrinsic, Ed25519Signature, ErasureRoot, Hash, HeaderHash, Judgement,
    TimeSlot, ValidatorIndex, ValidatorSignature, Verdict, WorkReport,
};

use crate::limits::*;
use crate::{Asked, Event, Message, Millis, Node, Output, PeerId, Request, Response};

/// One report of a block being audited.
#[derive(Debug)]
struct Tracked {
    report: WorkReport,
    audit: ReportAudit,
    /// Announcements received, by (tranche, validator), for the no-show evidence of ours.
    announcements: BTreeMap<(u8, ValidatorIndex), Announcement>,
    /// The tranche we announced it in, if we did.
    announced_at: Option<u8>,
    /// Our judgment, once made.
    judged: Option<bool>,
    /// Guarantors already asked for the bundle.
    asked: BTreeSet<PeerId>,
    /// Bundle shards gathered from assurers when no guarantor gave the bundle, by shard index.
    shards: BTreeMap<u16, Vec<u8>>,
    /// Assurers still to ask for their shard, and how many requests are out.
    shard_holders: Option<VecDeque<(PeerId, u16)>>,
    shards_out: usize,
    /// Every judgment's signature, ours included, for a verdict.
    signatures: BTreeMap<ValidatorIndex, (bool, Ed25519Signature)>,
}

/// One block whose available reports are being audited.
#[derive(Debug)]
struct BlockAudit {
    slot: TimeSlot,
    /// Its parent, whose state is the prior state.
    parent: HeaderHash,
    /// `Y(H_v)`.
    vrf_output: [u8; 32],
    /// The auditors: the block's prior validator set `κ`.
    auditors: Vec<ValidatorData>,
    epoch: u32,
    /// Per core.
    reports: Vec<Option<Tracked>>,
    /// Our index in `auditors`, if we are one.
    me: Option<ValidatorIndex>,
    /// The last tranche whose duties we worked out.
    tranche_done: Option<u8>,
}

impl BlockAudit {
    fn audited(&self) -> bool {
        let v = self.auditors.len() as u16;
        self.reports.iter().flatten().all(|t| t.audit.audited(v))
    }

    fn judged_invalid(&self) -> bool {
        let v = self.auditors.len() as u16;
        self.reports.iter().flatten().any(|t| t.audit.judged_invalid(v))
    }

    fn auditor_of(&self, peer: &PeerId) -> Option<ValidatorIndex> {
        self.auditors.iter().position(|k| k.ed25519 == *peer).and_then(|i| ValidatorIndex::try_from(i).ok())
    }

    fn auditable(&self) -> Vec<bool> {
        self.reports.iter().map(Option::is_some).collect()
    }
}

/// What the guarantee that brought a report in said: who signed it, for the bundle and culprits.
#[derive(Debug, Clone)]
struct Guarantors {
    slot: TimeSlot,
    signatures: Vec<ValidatorSignature>,
    /// Each signer's Ed25519 key (its peer id) with its signature, for culprits.
    signers: Vec<(PeerId, Ed25519Signature)>,
}

/// The auditor's state.
#[derive(Debug, Default)]
pub(crate) struct Auditor {
    blocks: BTreeMap<HeaderHash, BlockAudit>,
    /// Bundles we hold as a guarantor, by erasure root, to serve by CE 147 (a bounded FIFO).
    bundles: BTreeMap<ErasureRoot, Vec<u8>>,
    bundle_order: VecDeque<ErasureRoot>,
    /// The guarantors of reports seen in imported blocks, by report hash (a bounded FIFO).
    guarantors: BTreeMap<Hash, Guarantors>,
    guarantor_order: VecDeque<Hash>,
    /// Blocks disregarded for a report judged invalid.
    disregarded: BTreeSet<HeaderHash>,
    /// Announcements and judgments that came before their block (a bounded FIFO), replayed when
    /// it is imported: a judge imports, fetches and recomputes before it publishes, so only a
    /// slow importer sees this, but it must not then wait forever for judgments it dropped.
    early: VecDeque<(PeerId, Early)>,
}

#[derive(Debug)]
enum Early {
    Announcement(AuditAnnouncement),
    Judgment(JudgmentPublication),
}

impl Auditor {
    /// Whether `hash` is audited as far as we know: blocks that made no report available, and
    /// blocks we do not follow (final ones, or past the cap), count as audited.
    pub(crate) fn audited(&self, hash: &HeaderHash) -> bool {
        self.blocks.get(hash).is_none_or(BlockAudit::audited)
    }
}

fn report_hash(report: &WorkReport) -> Hash {
    blake2b_256(&report.encode())
}

impl Node {
    /// Keeps the bundle of a report we guarantee, to serve auditors (CE 147).
    pub(crate) fn keep_bundle(&mut self, erasure_root: ErasureRoot, bundle: &[u8]) {
        let a = &mut self.auditor;
        if a.bundles.insert(erasure_root, bundle.to_vec()).is_none() {
            a.bundle_order.push_back(erasure_root);
            while a.bundle_order.len() > MAX_KEPT_BUNDLES {
                if let Some(old) = a.bundle_order.pop_front() {
                    a.bundles.remove(&old);
                }
            }
        }
    }

    /// Starts auditing `hash` if it made reports available.
    pub(crate) fn auditor_on_imported(&mut self, hash: &HeaderHash, out: &mut Vec<Output>) {
        let Ok(Some(block)) = self.chain.block(hash) else { return };
        self.remember_guarantors(&block);
        let Some(prior) = self.chain.state(&block.header.parent) else { return };
        let s = prior.state();
        let validators = usize::from(self.spec.validators_count);
        let mut counts = vec![0usize; usize::from(self.spec.cores_count)];
        for assurance in &block.extrinsic.assurances {
            for (core, count) in counts.iter_mut().enumerate() {
                if assurance.bitfield.get(core) == Some(true) {
                    *count += 1;
                }
            }
        }
        // W: the prior ρ entries past two thirds (GP 0.7.2 eq. 11.16), as the assurances STF has it.
        let reports: Vec<Option<Tracked>> = s
            .pending_reports
            .0
            .iter()
            .zip(&counts)
            .map(|(entry, &n)| {
                let assignment = entry.as_ref().filter(|_| 3 * n > 2 * validators)?;
                let report = assignment.report.clone();
                let hash = report_hash(&report);
                Some(Tracked {
                    audit: ReportAudit::new(report.core_index, hash),
                    report,
                    announcements: BTreeMap::new(),
                    announced_at: None,
                    judged: None,
                    asked: BTreeSet::new(),
                    shards: BTreeMap::new(),
                    shard_holders: None,
                    shards_out: 0,
                    signatures: BTreeMap::new(),
                })
            })
            .collect();
        if reports.iter().all(Option::is_none) {
            return;
        }
        // A block imported long after its slot (catching up, or after a restart) is not audited
        // here: its audit is over elsewhere and its judgments came and went, so following it would
        // hold our votes back for nothing.
        let late =
            tranche_at(self.now, block.header.slot, self.slot_ms, u64::from(self.spec.slot_duration)) > 1;
        if late {
            return;
        }
        let Ok(vrf) = vrf_output(&block.header.entropy_source) else { return };
        let auditors = s.active_validators.0.clone();
        let me = self.our_ed25519().and_then(|k| {
            auditors.iter().position(|v| v.ed25519 == k).and_then(|i| ValidatorIndex::try_from(i).ok())
        });
        let audit = BlockAudit {
            slot: block.header.slot,
            parent: block.header.parent,
            vrf_output: vrf,
            auditors,
            epoch: self.epoch_of(s.timeslot),
            reports,
            me,
            tranche_done: None,
        };
        if self.auditor.blocks.len() >= MAX_AUDITED_BLOCKS {
            // The oldest by slot goes: it is the likeliest to be final already.
            if let Some(oldest) = self.auditor.blocks.iter().min_by_key(|(_, b)| b.slot).map(|(h, _)| *h) {
                self.auditor.blocks.remove(&oldest);
            }
        }
        self.auditor.blocks.insert(*hash, audit);
        let early = std::mem::take(&mut self.auditor.early);
        for (peer, message) in early {
            match message {
                Early::Announcement(a) => self.on_audit_announcement(peer, a, out),
                Early::Judgment(j) => self.on_judgment(peer, j, out),
            }
        }
        self.audit_duties(*hash, out);
    }

    fn remember_guarantors(&mut self, block: &Block) {
        let Some(post) = self.chain.state(&orrery_import::header_hash(&block.header)) else { return };
        let s = post.state();
        for guarantee in &block.extrinsic.guarantees {
            // The signers index the set of the guarantee's rotation (GP 0.7.2 eq. 11.26).
            let (active, previous) = (&s.active_validators, &s.previous_validators);
            let Some(set) =
                guarantor_keys(&self.spec, s.timeslot, active, previous, s.timeslot, guarantee.slot)
            else {
                continue;
            };
            let signers = guarantee
                .signatures
                .iter()
                .filter_map(|sig| {
                    set.get(usize::from(sig.validator_index)).map(|v| (v.ed25519, sig.signature))
                })
                .collect();
            let hash = report_hash(&guarantee.report);
            let a = &mut self.auditor;
            let entry =
                Guarantors { slot: guarantee.slot, signatures: guarantee.signatures.clone(), signers };
            if a.guarantors.insert(hash, entry).is_none() {
                a.guarantor_order.push_back(hash);
                while a.guarantor_order.len() > MAX_REMEMBERED_GUARANTEES {
                    if let Some(old) = a.guarantor_order.pop_front() {
                        a.guarantors.remove(&old);
                    }
                }
            }
        }
    }

    /// Works out our duties at the current tranche of block `hash`: announce and audit what the
    /// draws (or a negative judgment) require.
    fn audit_duties(&mut self, hash: HeaderHash, out: &mut Vec<Output>) {
        let Some(keys) = self.keys.clone() else { return };
        let tranche = {
            let Some(b) = self.auditor.blocks.get(&hash) else { return };
            let Some(_) = b.me else { return };
            let tranche = tranche_at(self.now, b.slot, self.slot_ms, u64::from(self.spec.slot_duration));
            if b.tranche_done.is_some_and(|done| done >= tranche) || b.audited() {
                return;
            }
            tranche
        };
        let Some(b) = self.auditor.blocks.get_mut(&hash) else { return };
        let Some(me) = b.me else { return };
        let v = b.auditors.len() as u16;
        let mut announce: Vec<(CoreIndex, Hash)> = Vec::new();
        let evidence = if tranche == 0 {
            let Ok(draw) = draw_tranche0(&keys, &b.vrf_output, &b.auditable()) else { return };
            for core in draw.cores {
                if let Some(t) = b.reports.get(usize::from(core)).and_then(Option::as_ref) {
                    announce.push((core, t.audit.report_hash));
                }
            }
            Evidence::First(draw.evidence)
        } else {
            let mut items = Vec::new();
            for t in b.reports.iter().flatten() {
                if t.announced_at.is_some() || t.audit.audited(v) {
                    continue;
                }
                let no_shows: Vec<NoShow> = t
                    .announcements
                    .iter()
                    .filter(|((n, who), _)| *n + 1 == tranche && !t.audit.positive().contains(who))
                    .map(|((_, who), a)| NoShow { validator: *who, announcement: a.clone() })
                    .collect();
                let Ok((signature, selected)) = draw_later_tranche(
                    &keys,
                    v,
                    &b.vrf_output,
                    &t.audit.report_hash,
                    tranche,
                    no_shows.len(),
                ) else {
                    continue;
                };
                if selected || t.audit.must_audit() {
                    announce.push((t.report.core_index, t.audit.report_hash));
                    items.push((signature, no_shows));
                }
            }
            Evidence::Subsequent(items)
        };
        b.tranche_done = Some(tranche);
        if announce.is_empty() {
            return;
        }
        let signature = sign_announcement(&keys, tranche, &announce, &hash);
        let announcement = Announcement {
            reports: announce
                .iter()
                .map(|&(core, report_hash)| AnnouncedReport { core, report_hash })
                .collect(),
            signature,
        };
        for &(core, _) in &announce {
            if let Some(t) = b.reports.get_mut(usize::from(core)).and_then(Option::as_mut) {
                t.audit.announce(tranche, me);
                t.announced_at = Some(tranche);
            }
        }
        let message = AuditAnnouncement { block: hash, tranche, announcement, evidence };
        let auditors: Vec<PeerId> = b.auditors.iter().map(|k| k.ed25519).collect();
        for peer in auditors.iter().filter(|p| self.peers.contains_key(*p)) {
            out.push(Output::Send { peer: *peer, message: Message::AuditAnnouncement(message.clone()) });
        }
        for (core, _) in announce {
            self.fetch_bundle(hash, core, out);
        }
    }

    /// Asks the next guarantor of the report on `core` of block `hash` for its bundle (CE 147), or
    /// judges at once if we hold the bundle ourselves.
    fn fetch_bundle(&mut self, hash: HeaderHash, core: CoreIndex, out: &mut Vec<Output>) {
        let Some(t) = self.auditor.blocks.get(&hash).and_then(|b| b.reports.get(usize::from(core))?.as_ref())
        else {
            return;
        };
        if t.judged.is_some() {
            return;
        }
        let erasure_root = t.report.package_spec.erasure_root;
        if let Some(bundle) = self.auditor.bundles.get(&erasure_root).cloned() {
            return self.judge(hash, core, &bundle, out);
        }
        let signers: Option<Vec<PeerId>> = self
            .auditor
            .guarantors
            .get(&t.audit.report_hash)
            .map(|g| g.signers.iter().map(|(k, _)| *k).collect());
        let asked = t.asked.clone();
        let next = signers
            .unwrap_or_default()
            .into_iter()
            .find(|p| !asked.contains(p) && self.peers.contains_key(p));
        let Some(peer) = next else { return self.fetch_shards(hash, core, out) };
        if let Some(t) = self.tracked_mut(&hash, core) {
            t.asked.insert(peer);
        }
        let asked = Asked::Bundle { block: hash, core };
        self.work_request(peer, asked, Request::Bundle(erasure_root), out);
    }

    /// No guarantor gave the bundle: ask the validators for the bundle shards they keep as
    /// assurers (CE 138), to rebuild the bundle from a third of them (§17.2). A few requests at a
    /// time, topped up as answers come, until enough shards are in.
    fn fetch_shards(&mut self, hash: HeaderHash, core: CoreIndex, out: &mut Vec<Output>) {
        let Some(b) = self.auditor.blocks.get(&hash) else { return };
        let Some(t) = b.reports.get(usize::from(core)).and_then(Option::as_ref) else { return };
        if t.shard_holders.is_some() || t.judged.is_some() {
            return;
        }
        let holders: VecDeque<(PeerId, u16)> = b
            .auditors
            .iter()
            .enumerate()
            .filter(|(_, k)| self.peers.contains_key(&k.ed25519))
            .map(|(v, k)| (k.ed25519, crate::availability::shard_index(&self.spec, core, v as u16)))
            .collect();
        if let Some(t) = self.tracked_mut(&hash, core) {
            t.shard_holders = Some(holders);
        }
        self.ask_for_shards(hash, core, out);
    }

    /// Keeps up to [`AUDIT_SHARD_REQUESTS`] shard requests out for the report, while more shards are
    /// needed and holders are left.
    fn ask_for_shards(&mut self, hash: HeaderHash, core: CoreIndex, out: &mut Vec<Output>) {
        let Ok(coder) = orrery_erasure::ErasureCoder::for_spec(&self.spec) else { return };
        loop {
            let Some(t) = self.tracked_mut(&hash, core) else { return };
            let needed = coder.data_shards().saturating_sub(t.shards.len());
            if t.judged.is_some() || t.shards_out >= AUDIT_SHARD_REQUESTS.min(needed) {
                return;
            }
            let Some((peer, shard_index)) = t.shard_holders.as_mut().and_then(VecDeque::pop_front) else {
                return;
            };
            let erasure_root = t.report.package_spec.erasure_root;
            let asked = Asked::AuditShard { block: hash, core, shard_index };
            let request =
                Request::AuditShard(orrery_network::message::ShardRequest { erasure_root, shard_index });
            if self.work_request(peer, asked, request, out) {
                if let Some(t) = self.tracked_mut(&hash, core) {
                    t.shards_out += 1;
                }
            }
        }
    }

    /// A shard request of an audit failed: ask the next holder.
    pub(crate) fn on_audit_shard_failed(&mut self, hash: HeaderHash, core: CoreIndex, out: &mut Vec<Output>) {
        if let Some(t) = self.tracked_mut(&hash, core) {
            t.shards_out = t.shards_out.saturating_sub(1);
        }
        self.ask_for_shards(hash, core, out);
    }

    /// An assurer's shard for an audit (CE 138): checked against the erasure root, kept, and once
    /// there are enough, the bundle rebuilt and judged.
    pub(crate) fn on_audit_shard(
        &mut self,
        peer: PeerId,
        hash: HeaderHash,
        core: CoreIndex,
        shard_index: u16,
        shard: orrery_network::message::AuditShardResponse,
        out: &mut Vec<Output>,
    ) {
        let Ok(coder) = orrery_erasure::ErasureCoder::for_spec(&self.spec) else { return };
        let Some(t) = self.tracked_mut(&hash, core) else { return };
        t.shards_out = t.shards_out.saturating_sub(1);
        if t.judged.is_some() {
            return;
        }
        let spec = &t.report.package_spec;
        let length = spec.length as usize;
        let proven = shard.bundle_shard.len() == coder.chunk_len(length)
            && shard.split().is_some_and(|(segments_root, path)| {
                orrery_work_report::verify_bundle_shard(
                    &spec.erasure_root,
                    usize::from(shard_index),
                    coder.total_shards(),
                    &shard.bundle_shard,
                    &segments_root,
                    &crate::availability::unsteps(path),
                )
            });
        if !proven {
            self.misbehaved(peer, BAD_MESSAGE, "an audit shard that does not match its erasure root", out);
            return self.ask_for_shards(hash, core, out);
        }
        t.shards.insert(shard_index, shard.bundle_shard);
        if t.shards.len() < coder.data_shards() {
            return self.ask_for_shards(hash, core, out);
        }
        let chunks: Vec<(usize, Vec<u8>)> =
            t.shards.iter().map(|(i, c)| (usize::from(*i), c.clone())).collect();
        // Shards proven against the root give the bundle the guarantors committed to; a bundle that
        // does not then give the report is the report's fault.
        let trivial = chunks.iter().all(|(i, _)| *i < coder.data_shards());
        let erasure_root = spec.erasure_root;
        let rebuilt = coder.reconstruct(chunks, length);
        out.push(Output::Event(Event::BundleRebuilt { erasure_root, trivial, ok: rebuilt.is_ok() }));
        match rebuilt {
            Ok(bundle) => self.judge(hash, core, &bundle, out),
            Err(_) => self.judge(hash, core, &[], out),
        }
    }

    fn tracked_mut(&mut self, hash: &HeaderHash, core: CoreIndex) -> Option<&mut Tracked> {
        self.auditor.blocks.get_mut(hash)?.reports.get_mut(usize::from(core))?.as_mut()
    }

    /// CE 147's answer.
    pub(crate) fn on_bundle(
        &mut self,
        peer: PeerId,
        hash: HeaderHash,
        core: CoreIndex,
        bundle: Vec<u8>,
        out: &mut Vec<Output>,
    ) {
        let Some(t) = self.tracked_mut(&hash, core) else { return };
        if t.judged.is_some() {
            return;
        }
        // A bundle that does not hash to the package's length and erasure root is the guarantor's
        // fault, not the report's: try another guarantor (the erasure root is checked by
        // recomputing the report, so only the length is cheap to check here).
        if bundle.len() != t.report.package_spec.length as usize {
            self.misbehaved(peer, BAD_MESSAGE, "CE 147: a bundle of the wrong length", out);
            return self.fetch_bundle(hash, core, out);
        }
        self.judge(hash, core, &bundle, out);
    }

    pub(crate) fn on_bundle_failed(
        &mut self,
        _peer: PeerId,
        hash: HeaderHash,
        core: CoreIndex,
        out: &mut Vec<Output>,
    ) {
        self.fetch_bundle(hash, core, out);
    }

    /// Recomputes the report on `core` of block `hash` from `bundle`, then signs and publishes the
    /// judgment (GP 0.7.2 eq. 17.8–17.9): valid when the recomputation gives the same report.
    fn judge(&mut self, hash: HeaderHash, core: CoreIndex, bundle: &[u8], out: &mut Vec<Output>) {
        let Some(keys) = self.keys.clone() else { return };
        let Some(b) = self.auditor.blocks.get(&hash) else { return };
        let Some(me) = b.me else { return };
        let epoch = b.epoch;
        let Some(t) = b.reports.get(usize::from(core)).and_then(Option::as_ref) else { return };
        let valid = self.recompute(&b.parent, &t.report, bundle);
        let report_hash = t.audit.report_hash;
        let signature = sign_judgment(&keys, valid, &report_hash);
        let guarantee = if valid {
            None
        } else {
            self.auditor
                .guarantors
                .get(&report_hash)
                .map(|g| JudgedGuarantee { slot: g.slot, signatures: g.signatures.clone() })
        };
        let auditors: Vec<PeerId> = b.auditors.iter().map(|k| k.ed25519).collect();
        if let Some(t) = self.tracked_mut(&hash, core) {
            t.judged = Some(valid);
            t.audit.judge(me, valid);
            t.signatures.insert(me, (valid, signature));
        }
        out.push(Output::Event(Event::Audited { block: hash, report: report_hash, valid }));
        // CE 145 sends a negative judgment with the guarantee's signatures; without them (the
        // guarantee's block came before we started remembering) it cannot go out.
        let publication =
            JudgmentPublication { epoch, validator: me, valid, report_hash, signature, guarantee };
        if !valid && publication.guarantee.as_ref().is_none_or(|g| g.signatures.len() < 2) {
            self.check_disregard(hash);
            return;
        }
        for peer in auditors.iter().filter(|p| self.peers.contains_key(*p)) {
            out.push(Output::Send { peer: *peer, message: Message::Judgment(publication.clone()) });
        }
        self.check_disregard(hash);
    }

    /// Ξ on the bundle with the report's own core and the lookup anchor's accounts; equal reports
    /// mean valid. Anything that fails (the bundle does not decode, the anchor's state is gone)
    /// is invalid: "a failure to decode implies an invalid work-report" (§17.3).
    fn recompute(&self, parent: &HeaderHash, report: &WorkReport, bundle: &[u8]) -> bool {
        let Ok((package, mut data)) = orrery_work_report::decode_bundle(bundle) else { return false };
        data.segment_roots =
            report.segment_root_lookup.iter().map(|l| (l.work_package_hash, l.segment_tree_root)).collect();
        // Refine reads services only through the historical lookup Λ(a, t, h) at the lookup
        // anchor's slot (GP 0.7.2 §9.2, B.7), which any later state answers alike while the
        // preimage's history is kept (D slots): the anchor's own state is pruned once final, so
        // the audited block's prior state serves.
        let Some(lookup) =
            self.chain.state(&package.context.lookup_anchor).or_else(|| self.chain.state(parent))
        else {
            return false;
        };
        orrery_work_report::compute_work_report(
            &self.spec,
            &package,
            report.core_index,
            &lookup.state().accounts,
            &data,
            Some(&self.chain.context().programs),
        )
        .is_ok_and(|computed| computed.report == *report)
    }

    fn check_disregard(&mut self, hash: HeaderHash) {
        if self.auditor.blocks.get(&hash).is_some_and(BlockAudit::judged_invalid)
            && self.auditor.disregarded.insert(hash)
        {
            self.tree.disregard(&hash);
            self.update_best();
        }
    }

    /// CE 144.
    pub(crate) fn on_audit_announcement(
        &mut self,
        peer: PeerId,
        message: AuditAnnouncement,
        out: &mut Vec<Output>,
    ) {
        let Some(b) = self.auditor.blocks.get(&message.block) else {
            if !self.knows(&message.block) {
                self.keep_early(peer, Early::Announcement(message));
            }
            return;
        };
        let Some(who) = b.auditor_of(&peer) else {
            return self.misbehaved(peer, BAD_MESSAGE, "CE 144 from a validator not auditing the block", out);
        };
        let v = b.auditors.len() as u16;
        let keys = &b.auditors[usize::from(who)];
        let reports: Vec<(CoreIndex, Hash)> =
            message.announcement.reports.iter().map(|r| (r.core, r.report_hash)).collect();
        // Every named report must be the block's report on that core.
        let known = reports.iter().all(|(core, h)| {
            b.reports
                .get(usize::from(*core))
                .and_then(Option::as_ref)
                .is_some_and(|t| t.audit.report_hash == *h)
        });
        if !known
            || verify_announcement(
                &keys.ed25519,
                message.tranche,
                &reports,
                &message.block,
                &message.announcement.signature,
            )
            .is_err()
        {
            return self.misbehaved(peer, BAD_MESSAGE, "CE 144: an announcement that does not verify", out);
        }
        let evidence_ok = match &message.evidence {
            Evidence::First(s0) if message.tranche == 0 => {
                verify_tranche0(&keys.bandersnatch, &b.vrf_output, s0, &b.auditable())
                    .is_ok_and(|drawn| reports.iter().all(|(core, _)| drawn.contains(core)))
            }
            Evidence::Subsequent(items) if message.tranche > 0 && items.len() == reports.len() => {
                reports.iter().zip(items).all(|((_, h), (s, no_shows))| {
                    let distinct: BTreeSet<ValidatorIndex> = no_shows.iter().map(|n| n.validator).collect();
                    let shows_ok = distinct.len() == no_shows.len()
                        && no_shows.iter().all(|n| {
                            let named: Vec<(CoreIndex, Hash)> =
                                n.announcement.reports.iter().map(|r| (r.core, r.report_hash)).collect();
                            named.iter().any(|(_, x)| x == h)
                                && b.auditors.get(usize::from(n.validator)).is_some_and(|k| {
                                    verify_announcement(
                                        &k.ed25519,
                                        message.tranche - 1,
                                        &named,
                                        &message.block,
                                        &n.announcement.signature,
                                    )
                                    .is_ok()
                                })
                        });
                    // A negative judgment obliges every auditor; its draw need not select it.
                    let negative =
                        b.reports.iter().flatten().any(|t| t.audit.report_hash == *h && t.audit.must_audit());
                    shows_ok
                        && (negative
                            || verify_later_tranche(
                                &keys.bandersnatch,
                                v,
                                &b.vrf_output,
                                h,
                                message.tranche,
                                s,
                                no_shows.len(),
                            )
                            .unwrap_or(false))
                })
            }
            _ => false,
        };
        if !evidence_ok {
            return self.misbehaved(
                peer,
                BAD_MESSAGE,
                "CE 144: evidence that does not support the announcement",
                out,
            );
        }
        let tranche = message.tranche;
        let Some(b) = self.auditor.blocks.get_mut(&message.block) else { return };
        for t in b.reports.iter_mut().flatten() {
            if reports.iter().any(|(_, h)| *h == t.audit.report_hash) {
                t.audit.announce(tranche, who);
                if t.announcements.len() < usize::from(v) * 4 {
                    t.announcements.insert((tranche, who), message.announcement.clone());
                }
            }
        }
    }

    /// CE 145.
    pub(crate) fn on_judgment(&mut self, peer: PeerId, judgment: JudgmentPublication, out: &mut Vec<Output>) {
        // The judge signs for itself; the sender may forward another's negative judgment.
        let mut matched = false;
        let mut bad = false;
        let mut blocks = Vec::new();
        for (hash, b) in &self.auditor.blocks {
            let Some(t) = b.reports.iter().flatten().find(|t| t.audit.report_hash == judgment.report_hash)
            else {
                continue;
            };
            let _ = t;
            let Some(judge) = b.auditors.get(usize::from(judgment.validator)) else {
                bad = true;
                continue;
            };
            if verify_judgment(&judge.ed25519, judgment.valid, &judgment.report_hash, &judgment.signature)
                .is_err()
            {
                bad = true;
                continue;
            }
            matched = true;
            blocks.push(*hash);
        }
        if bad && !matched {
            return self.misbehaved(peer, BAD_MESSAGE, "CE 145: a judgment that does not verify", out);
        }
        if !matched {
            return self.keep_early(peer, Early::Judgment(judgment));
        }
        for hash in blocks {
            let mut negative_now = false;
            if let Some(b) = self.auditor.blocks.get_mut(&hash) {
                for t in b.reports.iter_mut().flatten() {
                    if t.audit.report_hash == judgment.report_hash {
                        t.audit.judge(judgment.validator, judgment.valid);
                        if t.signatures.len() < b.auditors.len() {
                            t.signatures
                                .entry(judgment.validator)
                                .or_insert((judgment.valid, judgment.signature));
                        }
                        negative_now |= !judgment.valid;
                    }
                }
            }
            if negative_now {
                self.check_disregard(hash);
                // A negative judgment obliges us to audit at once.
                let core = self
                    .auditor
                    .blocks
                    .get(&hash)
                    .and_then(|b| {
                        b.reports.iter().flatten().find(|t| t.audit.report_hash == judgment.report_hash)
                    })
                    .map(|t| t.report.core_index);
                if let Some(core) = core {
                    self.fetch_bundle(hash, core, out);
                }
            }
        }
    }

    /// The disputes a block on `parent` may carry (GP 0.7.2 §10): for each report we followed that
    /// at least `⌊2V/3⌋ + 1` auditors judged invalid, a bad verdict of exactly that many negative
    /// judgments, with its guarantors as culprits. The author checks them against the parent's
    /// state and leaves them out if that state already has them.
    pub(crate) fn disputes_for_block(&self, _parent: &HeaderHash) -> DisputesExtrinsic {
        let mut disputes = DisputesExtrinsic::default();
        let needed = usize::from(self.spec.validators_count) * 2 / 3 + 1;
        let mut seen = BTreeSet::new();
        for b in self.auditor.blocks.values() {
            for t in b.reports.iter().flatten() {
                let negatives: Vec<Judgement> = t
                    .signatures
                    .iter()
                    .filter(|(_, (valid, _))| !valid)
                    .take(needed)
                    .map(|(&index, &(vote, signature))| Judgement { vote, index, signature })
                    .collect();
                if negatives.len() < needed || !seen.insert(t.audit.report_hash) {
                    continue;
                }
                let Some(g) = self.auditor.guarantors.get(&t.audit.report_hash) else { continue };
                disputes.verdicts.push(Verdict {
                    target: t.audit.report_hash,
                    age: b.epoch,
                    votes: negatives,
                });
                for &(key, signature) in &g.signers {
                    disputes.culprits.push(Culprit { target: t.audit.report_hash, key, signature });
                }
            }
        }
        disputes.verdicts.sort_by_key(|v| v.target);
        disputes.culprits.sort_by_key(|c| c.key);
        disputes
    }

    fn keep_early(&mut self, peer: PeerId, message: Early) {
        let early = &mut self.auditor.early;
        early.push_back((peer, message));
        while early.len() > MAX_EARLY_AUDIT_MESSAGES {
            early.pop_front();
        }
    }

    /// CE 147: a bundle we hold as guarantor.
    pub(crate) fn serve_bundle(&mut self, _peer: PeerId, erasure_root: ErasureRoot) -> Option<Response> {
        if self.options.withhold_bundles {
            return None;
        }
        self.auditor.bundles.get(&erasure_root).cloned().map(Response::Bundle)
    }

    pub(crate) fn auditor_on_time(&mut self, out: &mut Vec<Output>) {
        let finalized_slot = self.block_ref(&self.tree.finalized()).slot;
        // Audits of blocks at or below the final block are over (finality needed them audited).
        self.auditor.blocks.retain(|_, b| b.slot > finalized_slot);
        let hashes: Vec<HeaderHash> = self.auditor.blocks.keys().copied().collect();
        for hash in hashes {
            self.audit_duties(hash, out);
        }
    }

    pub(crate) fn auditor_next_wake(&self) -> Option<Millis> {
        let tranche_ms = orrery_audit::select::tranche_ms(self.slot_ms, u64::from(self.spec.slot_duration));
        self.auditor
            .blocks
            .values()
            .filter(|b| b.me.is_some() && !b.audited())
            .map(|b| {
                let start = u64::from(b.slot) * self.slot_ms;
                let next = b.tranche_done.map_or(0, |n| u64::from(n) + 1);
                start + next * tranche_ms
            })
            .min()
    }
}
