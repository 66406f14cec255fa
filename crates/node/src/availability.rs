//! Availability (GP 0.7.2 §14.4, §11.2, Appendix H; JAMNP-S CE 137, 141, 142, 143): an assurer
//! fetches its shards of each newly reported package from a guarantor, keeps them, signs an
//! assurance for the cores whose shards it holds and distributes it; assurances received are
//! checked and pooled for authors. Preimages a service asked for are announced, fetched, pooled.
//!
//! - Shards: a guarantor erasure-codes the bundle and the exports with their paged proofs
//!   ([`orrery_work_report::availability_shards`], the very code that gives the report's erasure
//!   root) and keeps every validator's shard with its co-path. Validator `v` keeps shard
//!   `(c·R + v) mod V` of a report on core `c` (JAMNP-S shard assignment, `R` the recovery
//!   threshold). For each report in `ρ` of the best block whose shard it lacks (new in that block,
//!   or on a fork that just became best, or pending since before a restart) and that can still
//!   become available, each validator of `κ` asks one of the guarantee's signers (found in the
//!   block that included it) for its shard (CE 137), trying the next signer when one fails or
//!   does not answer in time, a round a slot for at most [`MAX_SHARD_ROUNDS`] rounds; it checks
//!   the co-path against the erasure root (a bad one counts against the peer) and keeps it.
//! - The availability store is the chain's database (`orrery_store`'s `Shards` table: erasure root
//!   and shard index → [`ShardRecord`]); this module keeps only an index of it (root, index → the
//!   slot it was kept at, whether the bundle shard is still there), rebuilt from the table on the
//!   first tick after a restart. Retention (GP 0.7.2 §14.4): bundle shards "until finality of the
//!   block in which the availability … is assured", which is at most `U` slots after the report, so
//!   a bundle shard goes once the final block is `U` slots past the slot it was kept at; segment
//!   shards (the D³L) stay 672 epochs (28 days). [`MAX_SHARD_RECORDS`] bounds the store: past it
//!   the oldest go first.
//! - Assurances (GP eq. 11.13, JAMNP-S CE 141): two thirds into each slot (2 s of 6 before the
//!   next, scaled to the node's slot length) a validator signs `$jam_available ⌢ H(E(anchor, f))`
//!   with the best block as anchor and a bit for each core whose pending report's shard it holds,
//!   sends it to every validator of `κ` (in an epoch's last slot also to `γ_P`, the next block's
//!   possible authors) and pools its own. A received assurance is signed by the connection's key,
//!   which names the sender in `κ` of the anchor's state; a bad signature counts against the peer;
//!   one whose anchor is not imported yet waits (bounded, a few slots) for it. The pool keeps one
//!   per (anchor, signer), only for anchors in the last few slots, and [`MAX_ASSURANCES`] in all;
//!   an author takes those on its parent whose signer is in the parent's `κ` (eq. 11.13's prior
//!   set, in an epoch's first block too) and whose bits name only cores pending on the parent.
//! - Preimages (JAMNP-S CE 142/143, GP 0.7.2 §12.4): a preimage some service has requested (its
//!   lookup entry exists with no slots) is pooled and announced to `κ`; an announcement of one
//!   still requested on the best state is answered with a CE 143 request, and the blob checked
//!   against its hash and length, then re-announced to the grid neighbours (JAMNP-S: the same row
//!   or column of `κ`, the same index in `λ` and `γ_P`). Authors take those still requested on
//!   the parent's state.
//!
//! The assurer set is the anchor's `κ` throughout: after an epoch change that is the new set once
//! the epoch's first block is imported, which is when JAMNP-S switches it (4 s into the epoch, the
//! moment our assurances go out). What is not here: the audit shard request (CE 138) and segment
//! recovery (`segments.rs`).

use std::collections::{BTreeMap, BTreeSet};

use orrery_codec::{decode_exact, BitVec, Decode, Encode};
use orrery_crypto::{blake2b_256, blake2b_256_concat, ed25519_verify};
use orrery_network::message::{
    AssuranceMessage, AuditShardResponse, JustificationStep, PreimageAnnouncement, ShardRequest,
    ShardResponse,
};
use orrery_state::ValidatorsData;
use orrery_stf::assignments::guarantor_keys;
use orrery_types::constants::SEGMENT_SIZE;
use orrery_types::{
    AvailAssurance, CoreIndex, Ed25519Signature, Hash, HeaderHash, Preimage, ServiceId, TimeSlot, WorkReport,
};

use crate::limits::*;
use crate::{Asked, Event, Millis, Node, Output, PeerId, PreimageDiscard, PreimageForget, Request, Response};

/// The signing context of assurances, `$jam_available` (GP 0.7.2 eq. 11.13).
const AVAILABLE: &[u8] = b"jam_available";
/// How long segment shards are kept: 672 epochs, 28 days (GP 0.7.2 §14.4).
const D3L_EPOCHS: u64 = 672;
/// Assurances anchored more than this many slots before the current one are dropped from the pool.
const ASSURANCE_TTL_SLOTS: u32 = 3;

/// What the `Shards` table holds for one (erasure root, shard index).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub(crate) struct ShardRecord {
    /// The slot it was kept at: retention counts from here.
    slot: TimeSlot,
    /// The bundle chunk; emptied once retention for it ends.
    bundle: Vec<u8>,
    segments: Vec<Vec<u8>>,
    /// The co-path from the erasure root, top first (32-byte hashes or a 64-byte leaf).
    justification: Vec<Vec<u8>>,
}

impl ShardRecord {
    /// The segment shards: the exports' chunks, then the proof pages' (`ē ⌢ P(ē)`).
    pub(crate) fn segment_chunks(&self) -> &[Vec<u8>] {
        &self.segments
    }
}

/// The index of one kept record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Held {
    slot: TimeSlot,
    bundle: bool,
    /// The record's size in the store (for the node's figures).
    bytes: u32,
}

/// Our shard of a report, being fetched from its guarantors.
#[derive(Debug, Clone)]
struct Fetch {
    shard_index: u16,
    /// The report's slot (`ρ`'s `t`): past `t + U` it can no longer become available.
    reported: TimeSlot,
    bundle_len: usize,
    segments: usize,
    /// The guarantee's signers, in signature order, and the next to ask.
    guarantors: Vec<PeerId>,
    next: usize,
    /// Whom a request is out to.
    asking: Option<PeerId>,
    /// Rounds through every guarantor so far.
    rounds: u32,
}

/// The availability state.
#[derive(Debug, Default)]
pub(crate) struct Availability {
    /// The index of the `Shards` table, rebuilt from it once after a restart.
    held: BTreeMap<(Hash, u16), Held>,
    loaded: bool,
    /// Erasure root → our shard being fetched.
    fetching: BTreeMap<Hash, Fetch>,
    /// (anchor, signer's Ed25519 key) → (anchor's slot, bitfield, signature).
    assurances: BTreeMap<(HeaderHash, PeerId), (TimeSlot, BitVec, Ed25519Signature)>,
    /// Assurances whose anchor we have not imported yet: (anchor, sender) → (slot it came, it).
    early: BTreeMap<(HeaderHash, PeerId), (TimeSlot, AssuranceMessage)>,
    /// The last slot we assured in.
    assured: Option<TimeSlot>,
    /// The last slot whose retention we applied.
    pruned: Option<TimeSlot>,
    /// (requester, hash) → blob.
    preimages: BTreeMap<(ServiceId, Hash), Vec<u8>>,
    preimage_bytes: usize,
    /// Preimages asked for by CE 143: hash → (requester, length).
    wanted: BTreeMap<Hash, (ServiceId, u32)>,
}

/// The shard validator `validator` keeps of a report on `core` (JAMNP-S: `(c·R + v) mod V`).
pub(crate) fn shard_index(spec: &orrery_types::ChainSpec, core: CoreIndex, validator: u16) -> u16 {
    let total = usize::from(spec.validators_count).max(1);
    let index = (usize::from(core) * spec.erasure_data_shards() + usize::from(validator)) % total;
    index as u16
}

/// The assurance's signed message: `$jam_available ⌢ H(E(anchor, f))` (GP 0.7.2 eq. 11.13; the
/// bitfield has a fixed width, so no length prefix).
fn assurance_message(anchor: &HeaderHash, bitfield: &BitVec) -> Vec<u8> {
    [AVAILABLE, &blake2b_256_concat(&[anchor, bitfield.as_bytes()])].concat()
}

fn steps(justification: &[Vec<u8>]) -> Option<Vec<JustificationStep>> {
    justification.iter().map(|s| JustificationStep::from_node(s)).collect()
}

/// The segment shards a report's shard carries: one per export and one per page of their proofs
/// (GP 0.7.2 §14.4, 64 exports a page).
pub(crate) fn segment_shard_count(exports: u16) -> usize {
    let exports = usize::from(exports);
    exports + exports.div_ceil(64)
}

/// A shard answer (CE 137) checked for the report it is of: the bundle shard and `segments` segment
/// shards of the right sizes, proven at `shard_index` against `erasure_root`. Gives the
/// justification as stored, or `None` when the answer does not prove.
pub(crate) fn proven_shard(
    coder: &orrery_erasure::ErasureCoder,
    erasure_root: &Hash,
    bundle_len: usize,
    segments: usize,
    shard_index: u16,
    shards: &ShardResponse,
) -> Option<Vec<Vec<u8>>> {
    let justification = unsteps(&shards.justification);
    let shaped = shards.bundle_shard.len() == coder.chunk_len(bundle_len)
        && shards.segment_shards.len() == segments
        && shards.segment_shards.iter().all(|s| s.len() == coder.chunk_len(SEGMENT_SIZE));
    let proven = shaped
        && orrery_work_report::verify_shard(
            erasure_root,
            usize::from(shard_index),
            coder.total_shards(),
            &shards.bundle_shard,
            &shards.segment_shards,
            &justification,
        );
    proven.then_some(justification)
}

pub(crate) fn unsteps(justification: &[JustificationStep]) -> Vec<Vec<u8>> {
    justification.iter().map(JustificationStep::node).collect()
}

fn index_of(set: &ValidatorsData, key: &PeerId) -> Option<u16> {
    set.0.iter().position(|v| v.ed25519 == *key).and_then(|i| u16::try_from(i).ok())
}

/// The assurances of `pool` anchored on `parent` (whose state is `state`) that a block on it may
/// carry: each signer's index in the parent's `κ`, bits only for cores with a report pending on
/// the parent, one per validator in index order. GP 0.7.2 eq. 11.13 checks the signatures against
/// the prior active set `κ`, not the block's `κ'`, so the first block of an epoch whose validator
/// set changes still takes the assurances of the old set, by their old indices.
fn block_assurances(
    pool: &BTreeMap<(HeaderHash, PeerId), (TimeSlot, BitVec, Ed25519Signature)>,
    parent: &HeaderHash,
    state: &orrery_state::State,
) -> Vec<AvailAssurance> {
    let pending = &state.pending_reports.0;
    let mut out: Vec<AvailAssurance> = pool
        .range((*parent, [0; 32])..=(*parent, [0xff; 32]))
        .filter_map(|((anchor, signer), (_, bitfield, signature))| {
            let validator_index = index_of(&state.active_validators, signer)?;
            let engaged = (0..bitfield.len())
                .all(|c| bitfield.get(c) != Some(true) || pending.get(c).is_some_and(Option::is_some));
            engaged.then(|| AvailAssurance {
                anchor: *anchor,
                bitfield: bitfield.clone(),
                validator_index,
                signature: *signature,
            })
        })
        .collect();
    out.sort_by_key(|a| a.validator_index);
    out.dedup_by_key(|a| a.validator_index);
    out
}

impl Node {
    /// Shards held (records, bytes), assurances pooled, preimages pooled (count, bytes).
    pub(crate) fn availability_figures(&self) -> (usize, u64, usize, usize, usize) {
        let a = &self.availability;
        let bytes = a.held.values().map(|h| u64::from(h.bytes)).sum();
        (a.held.len(), bytes, a.assurances.len(), a.preimages.len(), a.preimage_bytes)
    }

    /// Called by the guarantor once it has signed `report`: erasure-code the bundle and the exported
    /// segments (GP 0.7.2 §14.4, Appendix H) and keep every validator's shards, to serve by CE 137.
    /// Public for a driver (or test) that computed and guaranteed a report itself; a bundle and
    /// exports that do not give the report's erasure root are not kept.
    pub fn keep_for_assurers(&mut self, report: &WorkReport, bundle: &[u8], exports: &[Vec<u8>]) {
        let root = report.package_spec.erasure_root;
        let Ok(shards) = orrery_work_report::availability_shards(&self.spec, bundle, exports) else { return };
        // Only what the report commits to is worth serving: assurers would refuse anything else.
        if shards.erasure_root != root {
            return;
        }
        // The whole bundle too, for auditors (CE 147).
        self.keep_bundle(root, bundle);
        // And where its exports are, for packages importing them (`segments.rs`).
        self.remember_exporter(report);
        let slot = self.slot_now();
        let rows: Vec<(Hash, u16, Vec<u8>)> = shards
            .shards
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                let record = ShardRecord {
                    slot,
                    bundle: s.bundle,
                    segments: s.segments,
                    justification: s.justification,
                };
                (root, i as u16, record.encode())
            })
            .collect();
        self.keep(rows);
    }

    /// Writes records (one batch) and indexes them, making room first.
    fn keep(&mut self, rows: Vec<(Hash, u16, Vec<u8>)>) -> bool {
        self.load_held();
        let slot = self.slot_now();
        let room = MAX_SHARD_RECORDS.saturating_sub(rows.len());
        if self.availability.held.len() > room {
            // The oldest first, by (slot, root, index): deterministic.
            let mut by_age: Vec<(TimeSlot, Hash, u16)> =
                self.availability.held.iter().map(|((r, i), h)| (h.slot, *r, *i)).collect();
            by_age.sort();
            let excess = self.availability.held.len() - room;
            let gone: Vec<(Hash, u16)> = by_age.into_iter().take(excess).map(|(_, r, i)| (r, i)).collect();
            if self.chain.remove_shards(&gone).is_ok() {
                for key in gone {
                    self.availability.held.remove(&key);
                }
            }
        }
        if self.chain.put_shards(&rows).is_err() {
            return false;
        }
        for (root, index, record) in rows {
            let bytes = u32::try_from(record.len()).unwrap_or(u32::MAX);
            self.availability.held.insert((root, index), Held { slot, bundle: true, bytes });
        }
        true
    }

    fn load_held(&mut self) {
        if self.availability.loaded {
            return;
        }
        self.availability.loaded = true;
        let Ok(rows) = self.chain.shards() else { return };
        let lengths = self.spec.lengths();
        for (root, index, bytes) in rows {
            if let Ok(record) = decode_exact::<ShardRecord>(&bytes, lengths) {
                let bytes = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
                let held = Held { slot: record.slot, bundle: !record.bundle.is_empty(), bytes };
                self.availability.held.insert((root, index), held);
            }
        }
    }

    /// The shard indices of `root` this node keeps.
    pub(crate) fn held_shard_indices(&self, root: &Hash) -> Vec<u16> {
        self.availability.held.range((*root, 0)..=(*root, u16::MAX)).map(|((_, i), _)| *i).collect()
    }

    pub(crate) fn shard_record(&self, root: &Hash, index: u16) -> Option<ShardRecord> {
        let bytes = self.chain.shard(root, index).ok()??;
        decode_exact(&bytes, self.spec.lengths()).ok()
    }

    /// CE 137: an assurer asks us (a guarantor) for its shards.
    pub(crate) fn serve_shard(
        &mut self,
        _peer: PeerId,
        request: ShardRequest,
        _out: &mut Vec<Output>,
    ) -> Option<Response> {
        if self.options.withhold_shards {
            return None;
        }
        let record = self.shard_record(&request.erasure_root, request.shard_index)?;
        if record.bundle.is_empty() {
            return None;
        }
        let justification = steps(&record.justification)?;
        Some(Response::Shard(ShardResponse {
            bundle_shard: record.bundle,
            segment_shards: record.segments,
            justification,
        }))
    }

    /// CE 138: an auditor asks us (an assurer, or a guarantor: both keep shards) for a bundle shard.
    /// The justification is the one kept with the shard and the shard's segment-shard root after
    /// it, which the auditor needs to rebuild the leaf without the segment shards themselves.
    pub(crate) fn serve_audit_shard(&mut self, request: ShardRequest) -> Option<Response> {
        if self.options.withhold_shards {
            return None;
        }
        let record = self.shard_record(&request.erasure_root, request.shard_index)?;
        if record.bundle.is_empty() {
            return None;
        }
        let mut justification = steps(&record.justification)?;
        let segments_root = orrery_merkle::well_balanced_root(&record.segments, orrery_crypto::blake2b_256);
        justification.push(JustificationStep::Hash(segments_root));
        Some(Response::AuditShard(AuditShardResponse { bundle_shard: record.bundle, justification }))
    }

    pub(crate) fn on_shards(
        &mut self,
        peer: PeerId,
        erasure_root: Hash,
        shard_index: u16,
        shards: ShardResponse,
        out: &mut Vec<Output>,
    ) {
        let Some(fetch) = self.availability.fetching.get_mut(&erasure_root) else { return };
        if fetch.shard_index != shard_index || fetch.asking != Some(peer) {
            return;
        }
        fetch.asking = None;
        let (bundle_len, segments) = (fetch.bundle_len, fetch.segments);
        let Ok(coder) = orrery_erasure::ErasureCoder::for_spec(&self.spec) else { return };
        let Some(justification) =
            proven_shard(&coder, &erasure_root, bundle_len, segments, shard_index, &shards)
        else {
            self.misbehaved(peer, BAD_MESSAGE, "a shard that does not match its erasure root", out);
            return self.fetch_next(erasure_root, out);
        };
        let record = ShardRecord {
            slot: self.slot_now(),
            bundle: shards.bundle_shard,
            segments: shards.segment_shards,
            justification,
        };
        if self.keep(vec![(erasure_root, shard_index, record.encode())]) {
            self.availability.fetching.remove(&erasure_root);
            out.push(Output::Event(Event::ShardsStored { erasure_root }));
        }
    }

    pub(crate) fn on_shard_failed(
        &mut self,
        peer: PeerId,
        erasure_root: Hash,
        shard_index: u16,
        out: &mut Vec<Output>,
    ) {
        let Some(fetch) = self.availability.fetching.get_mut(&erasure_root) else { return };
        if fetch.shard_index != shard_index || fetch.asking != Some(peer) {
            return;
        }
        fetch.asking = None;
        self.fetch_next(erasure_root, out);
    }

    /// Asks the next guarantor that can be asked; after a whole round, waits for the next slot.
    fn fetch_next(&mut self, erasure_root: Hash, out: &mut Vec<Output>) {
        let Some(fetch) = self.availability.fetching.get(&erasure_root).cloned() else { return };
        if fetch.asking.is_some() {
            return;
        }
        let mut next = fetch.next;
        let mut asked = None;
        while next < fetch.guarantors.len() {
            let peer = fetch.guarantors[next];
            next += 1;
            let request = Request::Shard(ShardRequest { erasure_root, shard_index: fetch.shard_index });
            let what = Asked::Shard { erasure_root, shard_index: fetch.shard_index };
            if self.work_request(peer, what, request, out) {
                asked = Some(peer);
                break;
            }
        }
        if let Some(fetch) = self.availability.fetching.get_mut(&erasure_root) {
            fetch.next = next;
            fetch.asking = asked;
        }
    }

    /// CE 141.
    pub(crate) fn on_assurance(&mut self, peer: PeerId, assurance: AssuranceMessage, out: &mut Vec<Output>) {
        let slot = self.slot_now();
        let Some(state) = self.chain.state(&assurance.anchor) else {
            // The anchor may be on its way to us still: kept (bounded) until it is imported.
            let early = &mut self.availability.early;
            if early.len() < MAX_EARLY_ASSURANCES {
                early.entry((assurance.anchor, peer)).or_insert((slot, assurance));
            }
            return;
        };
        let AssuranceMessage { anchor, bitfield, signature } = assurance;
        let state = state.state();
        // Someone outside the anchor's set is no assurer of it (it may be an epoch late or early).
        if index_of(&state.active_validators, &peer).is_none() {
            return;
        }
        let slot = state.timeslot;
        if bitfield.len() != usize::from(self.spec.cores_count) {
            return self.misbehaved(peer, BAD_MESSAGE, "an assurance bitfield of the wrong width", out);
        }
        if ed25519_verify(&peer, &assurance_message(&anchor, &bitfield), &signature).is_err() {
            return self.misbehaved(peer, BAD_MESSAGE, "an assurance with a bad signature", out);
        }
        self.pool_assurance(anchor, slot, peer, bitfield, signature);
    }

    /// The assurances that came before their anchor `hash`, now that it is here.
    fn early_assurances(&mut self, hash: &HeaderHash, out: &mut Vec<Output>) {
        let keys: Vec<(HeaderHash, PeerId)> =
            self.availability.early.range((*hash, [0; 32])..=(*hash, [0xff; 32])).map(|(k, _)| *k).collect();
        for key in keys {
            if let Some((_, assurance)) = self.availability.early.remove(&key) {
                self.on_assurance(key.1, assurance, out);
            }
        }
    }

    fn pool_assurance(
        &mut self,
        anchor: HeaderHash,
        slot: TimeSlot,
        signer: PeerId,
        bitfield: BitVec,
        signature: Ed25519Signature,
    ) {
        let pool = &mut self.availability.assurances;
        if pool.contains_key(&(anchor, signer)) {
            return;
        }
        if pool.len() >= MAX_ASSURANCES {
            // Make room by dropping an assurance on the oldest anchor, if it is older than this one.
            let oldest = pool.iter().min_by_key(|(k, (s, _, _))| (*s, *k)).map(|(k, (s, _, _))| (*k, *s));
            match oldest {
                Some((key, s)) if s < slot => {
                    pool.remove(&key);
                }
                _ => return,
            }
        }
        pool.insert((anchor, signer), (slot, bitfield, signature));
    }

    /// The assurances a block on `parent` may take.
    pub(crate) fn assurances_for_block(&self, parent: &HeaderHash) -> Vec<AvailAssurance> {
        let Some(state) = self.chain.state(parent) else { return Vec::new() };
        block_assurances(&self.availability.assurances, parent, state.state())
    }

    /// Signs and sends our assurance for the best block, once per slot.
    fn assure(&mut self, out: &mut Vec<Output>) {
        let Some(keys) = &self.keys else { return };
        let me = keys.ed25519_public();
        let anchor = self.best;
        let Some(state) = self.chain.state(&anchor) else { return };
        let state = state.state();
        let Some(v) = index_of(&state.active_validators, &me) else { return };
        let mut bitfield = BitVec::zeros(usize::from(self.spec.cores_count));
        for (core, entry) in state.pending_reports.0.iter().enumerate() {
            let Some(assignment) = entry else { continue };
            let root = assignment.report.package_spec.erasure_root;
            let index = shard_index(&self.spec, core as CoreIndex, v);
            if self.availability.held.contains_key(&(root, index)) && core < bitfield.len() {
                bitfield.set(core, true);
            }
        }
        if bitfield.count_ones() == 0 {
            return;
        }
        let signature = keys.ed25519_sign(&assurance_message(&anchor, &bitfield));
        // To whoever may author the next block: `κ`, and in an epoch's last slot also the next
        // epoch's validators (JAMNP-S CE 141: "the author set switches 2 s before" the epoch).
        let now = self.slot_now();
        let next_epoch_authors = self.epoch_of(now.saturating_add(1)) > self.epoch_of(now);
        let mut peers = crate::current_and_next_validators(state, next_epoch_authors);
        peers.retain(|k| *k != me && self.peers.contains_key(k));
        let slot = state.timeslot;
        for peer in peers {
            let message = AssuranceMessage { anchor, bitfield: bitfield.clone(), signature };
            out.push(Output::Send { peer, message: crate::Message::Assurance(message) });
        }
        self.pool_assurance(anchor, slot, me, bitfield, signature);
    }

    /// Whether `service` has asked for the preimage of `hash` of `length` octets and not been given
    /// it, on the state of `block` (GP 0.7.2 §12.4, `Y`).
    fn requested(&self, block: &HeaderHash, service: ServiceId, hash: &Hash, length: u32) -> bool {
        let Some(state) = self.chain.state(block) else { return false };
        let Some(account) = state.state().accounts.get(&service) else { return false };
        matches!(account.request(hash, length), Some(Ok(slots)) if slots.is_empty())
    }

    fn pool_preimage(&mut self, service: ServiceId, hash: Hash, blob: Vec<u8>) -> bool {
        let pool = &mut self.availability;
        if pool.preimages.contains_key(&(service, hash))
            || pool.preimages.len() >= MAX_PREIMAGES
            || pool.preimage_bytes.saturating_add(blob.len()) > MAX_PREIMAGE_BYTES
        {
            return false;
        }
        pool.preimage_bytes += blob.len();
        pool.preimages.insert((service, hash), blob);
        true
    }

    fn announce_preimage(&mut self, announcement: PreimageAnnouncement, out: &mut Vec<Output>) {
        let Some(state) = self.chain.state(&self.best) else { return };
        let me = self.keys.as_ref().map(|k| k.ed25519_public());
        for v in &state.state().active_validators.0 {
            if Some(v.ed25519) != me && self.peers.contains_key(&v.ed25519) {
                let message = crate::Message::PreimageAnnouncement(announcement);
                out.push(Output::Send { peer: v.ed25519, message });
            }
        }
    }

    /// CE 142.
    pub(crate) fn on_preimage_announcement(
        &mut self,
        peer: PeerId,
        announcement: PreimageAnnouncement,
        out: &mut Vec<Output>,
    ) {
        let PreimageAnnouncement { service, hash, length } = announcement;
        let known = self.availability.preimages.contains_key(&(service, hash))
            || self.availability.wanted.contains_key(&hash);
        if known {
            return;
        }
        let forgotten = if self.availability.wanted.len() >= MAX_WANTED_PREIMAGES {
            Some(PreimageForget::TooMany)
        } else if length as usize > MAX_PREIMAGE_BYTES {
            Some(PreimageForget::BadLength)
        } else if !self.requested(&self.best, service, &hash, length) {
            Some(PreimageForget::NotRequested)
        } else {
            None
        };
        if let Some(reason) = forgotten {
            out.push(Output::Event(Event::PreimageForgotten { service, hash, length, reason }));
            return;
        }
        if self.work_request(peer, Asked::Preimage { hash }, Request::Preimage(hash), out) {
            self.availability.wanted.insert(hash, (service, length));
        } else {
            let reason = PreimageForget::AcquireFailed;
            out.push(Output::Event(Event::PreimageForgotten { service, hash, length, reason }));
        }
    }

    /// CE 143: a validator asks us for a preimage we announced.
    pub(crate) fn serve_preimage(
        &mut self,
        _peer: PeerId,
        hash: Hash,
        _out: &mut Vec<Output>,
    ) -> Option<Response> {
        let pool = &self.availability.preimages;
        pool.iter().find(|((_, h), _)| *h == hash).map(|(_, blob)| Response::Preimage(blob.clone()))
    }

    pub(crate) fn on_preimage(&mut self, peer: PeerId, hash: Hash, blob: Vec<u8>, out: &mut Vec<Output>) {
        let Some((service, length)) = self.availability.wanted.remove(&hash) else { return };
        if blob.len() != length as usize || blake2b_256(&blob) != hash {
            let reason = PreimageForget::AcquireFailed;
            out.push(Output::Event(Event::PreimageForgotten { service, hash, length, reason }));
            return self.misbehaved(peer, BAD_MESSAGE, "a preimage that does not match its hash", out);
        }
        if self.pool_preimage(service, hash, blob) {
            self.reannounce_preimage(peer, PreimageAnnouncement { service, hash, length }, out);
        } else {
            let reason = PreimageDiscard::TooMany;
            out.push(Output::Event(Event::PreimageDiscarded { hash, length, reason }));
        }
    }

    /// JAMNP-S CE 142: "validators re-announce to grid neighbours". A validator that has fetched
    /// an announced preimage announces it on to its neighbours in the grid of `κ` (the same row
    /// or column) and to the validators at its own index in `λ` and `γ_P` (the grid across
    /// epochs), all but `from`: a preimage whose submitter reached only some validators still
    /// reaches them all, each fetching it once (an announcement of one already held is ignored).
    fn reannounce_preimage(
        &mut self,
        from: PeerId,
        announcement: PreimageAnnouncement,
        out: &mut Vec<Output>,
    ) {
        let (Some(state), Some(me)) = (self.chain.state(&self.best), self.our_ed25519()) else { return };
        let s = state.state();
        let active = &s.active_validators.0;
        let Some(index) = active.iter().position(|v| v.ed25519 == me) else { return };
        let Ok(count) = u16::try_from(active.len()) else { return };
        let mut neighbours: Vec<PeerId> = orrery_network::policy::grid_neighbours(index as u16, count)
            .into_iter()
            .filter_map(|i| active.get(usize::from(i)).map(|v| v.ed25519))
            .collect();
        for other in [&s.previous_validators, &s.safrole.pending_validators] {
            neighbours.extend(other.0.get(index).map(|v| v.ed25519));
        }
        neighbours.sort_unstable();
        neighbours.dedup();
        for peer in neighbours {
            if peer != me && peer != from && self.peers.contains_key(&peer) {
                out.push(Output::Send { peer, message: crate::Message::PreimageAnnouncement(announcement) });
            }
        }
    }

    /// The node's own user's preimage (JIP-2 `submitPreimage`).
    pub(crate) fn on_submit_preimage(&mut self, requester: ServiceId, blob: Vec<u8>, out: &mut Vec<Output>) {
        let hash = blake2b_256(&blob);
        let Ok(length) = u32::try_from(blob.len()) else { return };
        if !self.requested(&self.best, requester, &hash, length) {
            return;
        }
        if self.pool_preimage(requester, hash, blob) {
            self.announce_preimage(PreimageAnnouncement { service: requester, hash, length }, out);
        }
    }

    /// The preimages a block on `parent` may take.
    pub(crate) fn preimages_for_block(&self, parent: &HeaderHash) -> Vec<Preimage> {
        self.availability
            .preimages
            .iter()
            .filter(|((service, hash), blob)| self.requested(parent, *service, hash, blob.len() as u32))
            .map(|((requester, _), blob)| Preimage { requester: *requester, blob: blob.clone() })
            .collect()
    }

    /// The block at `slot` on the chain of `from` (the one whose guarantees put a report with that
    /// `t` into `ρ`), looked for at most `U + 1` blocks back.
    fn including_block(&self, from: &HeaderHash, slot: TimeSlot) -> Option<orrery_types::Block> {
        let mut at = *from;
        for _ in 0..=self.spec.availability_timeout {
            let (s, parent) = self.chain.header_of(&at)?;
            if s == slot {
                return self.chain.block(&at).ok()?;
            }
            if s < slot {
                return None;
            }
            at = parent;
        }
        None
    }

    pub(crate) fn availability_on_imported(&mut self, hash: &HeaderHash, out: &mut Vec<Output>) {
        self.load_held();
        self.early_assurances(hash, out);
        if *hash != self.best {
            return;
        }
        self.fetch_pending_shards(hash, out);
        // Preimages given since are no longer wanted.
        let best = self.best;
        let stale: Vec<(ServiceId, Hash)> = self
            .availability
            .preimages
            .iter()
            .filter(|((service, hash), blob)| !self.requested(&best, *service, hash, blob.len() as u32))
            .map(|(k, _)| *k)
            .collect();
        for key in stale {
            let (service, hash) = key;
            if let Some(blob) = self.availability.preimages.remove(&key) {
                self.availability.preimage_bytes -= blob.len();
                let length = u32::try_from(blob.len()).unwrap_or(u32::MAX);
                // Provided: the request's slots are no longer empty (GP 0.7.2 §12.4); else the
                // service dropped it.
                let provided = self.chain.state(&best).is_some_and(|s| {
                    let account = s.state().accounts.get(&service);
                    matches!(account.and_then(|a| a.request(&hash, length)), Some(Ok(slots)) if !slots.is_empty())
                });
                let reason =
                    if provided { PreimageDiscard::ProvidedOnChain } else { PreimageDiscard::NotRequested };
                out.push(Output::Event(Event::PreimageDiscarded { hash, length, reason }));
            }
        }
    }

    /// For each report pending on the best block `hash` whose shard we lack: ask its guarantors.
    fn fetch_pending_shards(&mut self, hash: &HeaderHash, out: &mut Vec<Output>) {
        let Some(state) = self.chain.state(hash) else { return };
        let state = state.state();
        let parent = self.chain.header_of(hash).map(|(_, p)| p);
        let before = parent.and_then(|p| self.chain.state(&p)).map(|s| s.state().pending_reports.clone());
        let me = self.keys.as_ref().map(|k| k.ed25519_public());
        let Some(v) = me.and_then(|me| index_of(&state.active_validators, &me)) else { return };
        let now = u64::from(self.slot_now());
        let timeout = u64::from(self.spec.availability_timeout);
        let mut wanted = Vec::new();
        for (core, entry) in state.pending_reports.0.iter().enumerate() {
            let Some(assignment) = entry else { continue };
            let report = &assignment.report;
            let root = report.package_spec.erasure_root;
            let index = shard_index(&self.spec, core as CoreIndex, v);
            if self.availability.held.contains_key(&(root, index)) {
                // Newly pending and ours already: we guaranteed it, our own shard is among those kept.
                if before.as_ref().is_none_or(|b| b.0.get(core) != Some(entry)) {
                    out.push(Output::Event(Event::ShardsStored { erasure_root: root }));
                }
                continue;
            }
            // Not only a report this block brought: one pending on a fork that just became best, or
            // since before a restart, is fetched too while it can still become available.
            if self.availability.fetching.contains_key(&root)
                || now >= u64::from(assignment.timeout) + timeout
            {
                continue;
            }
            let Some(block) = self.including_block(hash, assignment.timeout) else { continue };
            // The guarantee's signers, by index into the set of its rotation (GP 0.7.2 eq. 11.26).
            let mut guarantors = Vec::new();
            for guarantee in
                block.extrinsic.guarantees.iter().filter(|g| g.report.core_index as usize == core)
            {
                let (active, previous) = (&state.active_validators, &state.previous_validators);
                let Some(set) = guarantor_keys(
                    &self.spec,
                    state.timeslot,
                    active,
                    previous,
                    block.header.slot,
                    guarantee.slot,
                ) else {
                    continue;
                };
                for signature in &guarantee.signatures {
                    if let Some(k) = set.get(usize::from(signature.validator_index)).map(|v| v.ed25519) {
                        if Some(k) != me && !guarantors.contains(&k) {
                            guarantors.push(k);
                        }
                    }
                }
            }
            wanted.push((
                root,
                Fetch {
                    shard_index: index,
                    reported: assignment.timeout,
                    bundle_len: report.package_spec.length as usize,
                    segments: segment_shard_count(report.package_spec.exports_count),
                    guarantors,
                    next: 0,
                    asking: None,
                    rounds: 0,
                },
            ));
        }
        for (root, fetch) in wanted {
            if self.availability.fetching.len() >= MAX_SHARD_FETCHES {
                break;
            }
            self.availability.fetching.insert(root, fetch);
            self.fetch_next(root, out);
        }
    }

    pub(crate) fn availability_on_time(&mut self, out: &mut Vec<Output>) {
        self.load_held();
        self.sweep_lost_requests(out);
        let slot = self.slot_now();
        if self.now >= self.assurance_time(slot) && self.availability.assured != Some(slot) {
            self.availability.assured = Some(slot);
            self.assure(out);
        }
        if self.availability.pruned != Some(slot) {
            self.availability.pruned = Some(slot);
            self.prune_availability(slot, out);
        }
    }

    /// Requests the node forgot (past their deadline, or their peer gone) leave no answer: a shard
    /// fetch moves on to the next guarantor, a wanted preimage may be asked for again.
    fn sweep_lost_requests(&mut self, out: &mut Vec<Output>) {
        let mut out_shards = BTreeSet::new();
        let mut out_preimages = BTreeSet::new();
        for pending in self.requests.values() {
            match pending.asked {
                Asked::Shard { erasure_root, .. } => {
                    out_shards.insert((erasure_root, pending.peer));
                }
                Asked::Preimage { hash } => {
                    out_preimages.insert(hash);
                }
                _ => {}
            }
        }
        self.availability.wanted.retain(|hash, (service, length)| {
            let keep = out_preimages.contains(hash);
            if !keep {
                let (service, hash, length) = (*service, *hash, *length);
                let reason = PreimageForget::AcquireFailed;
                out.push(Output::Event(Event::PreimageForgotten { service, hash, length, reason }));
            }
            keep
        });
        let lost: Vec<Hash> = self
            .availability
            .fetching
            .iter_mut()
            .filter_map(|(root, f)| {
                let peer = f.asking?;
                (!out_shards.contains(&(*root, peer))).then(|| {
                    f.asking = None;
                    *root
                })
            })
            .collect();
        for root in lost {
            self.fetch_next(root, out);
        }
    }

    /// Two thirds into `slot`: JAMNP-S's "about 2 s before each slot" of 6 s.
    fn assurance_time(&self, slot: TimeSlot) -> Millis {
        u64::from(slot).saturating_mul(self.slot_ms).saturating_add(self.slot_ms * 2 / 3)
    }

    /// Once a slot: retention of kept shards, stale assurances, fetches to retry or give up.
    fn prune_availability(&mut self, slot: TimeSlot, out: &mut Vec<Output>) {
        let timeout = u64::from(self.spec.availability_timeout);
        // Bundle shards: until the block assuring the report is final, at most U slots after it.
        let final_slot = self.chain.state(&self.chain.finalized()).map_or(0, |s| s.state().timeslot);
        let d3l = D3L_EPOCHS.saturating_mul(u64::from(self.spec.epoch_length));
        let mut drop_bundle = Vec::new();
        let mut gone = Vec::new();
        for (&(root, index), held) in &self.availability.held {
            if u64::from(slot) >= u64::from(held.slot) + d3l {
                gone.push((root, index));
            } else if held.bundle && u64::from(final_slot) > u64::from(held.slot) + timeout {
                drop_bundle.push((root, index));
            }
        }
        if !gone.is_empty() && self.chain.remove_shards(&gone).is_ok() {
            for key in &gone {
                self.availability.held.remove(key);
            }
        }
        let mut rewritten = Vec::new();
        for (root, index) in drop_bundle {
            if let Some(mut record) = self.shard_record(&root, index) {
                record.bundle.clear();
                rewritten.push((root, index, record.encode()));
            }
        }
        if !rewritten.is_empty() && self.chain.put_shards(&rewritten).is_ok() {
            for (root, index, _) in rewritten {
                if let Some(held) = self.availability.held.get_mut(&(root, index)) {
                    held.bundle = false;
                }
            }
        }
        let oldest = slot.saturating_sub(ASSURANCE_TTL_SLOTS);
        self.availability.assurances.retain(|_, (s, _, _)| *s >= oldest);
        self.availability.early.retain(|_, (s, _)| *s >= oldest);
        // Fetches: dropped once the report can no longer become available, else another round.
        let expired: Vec<Hash> = self
            .availability
            .fetching
            .iter()
            .filter(|(_, f)| u64::from(slot) >= u64::from(f.reported) + timeout)
            .map(|(r, _)| *r)
            .collect();
        for root in expired {
            self.availability.fetching.remove(&root);
        }
        let retry: Vec<Hash> = self
            .availability
            .fetching
            .iter_mut()
            .filter(|(_, f)| {
                f.asking.is_none() && f.next >= f.guarantors.len() && f.rounds < MAX_SHARD_ROUNDS
            })
            .map(|(r, f)| {
                f.next = 0;
                f.rounds += 1;
                *r
            })
            .collect();
        for root in retry {
            self.fetch_next(root, out);
        }
    }

    pub(crate) fn availability_next_wake(&self) -> Option<Millis> {
        let slot = self.slot_now();
        let next = if self.availability.assured == Some(slot) || self.now >= self.assurance_time(slot) {
            self.assurance_time(slot.saturating_add(1))
        } else {
            self.assurance_time(slot)
        };
        Some(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_assignment_rotates_by_core() {
        // tiny: V = 6, R = 2. Core 0: v; core 1: v + 2 mod 6.
        let spec = orrery_types::ChainSpec::tiny();
        assert_eq!(spec.erasure_data_shards(), 2);
        let core0: Vec<u16> = (0..6).map(|v| shard_index(&spec, 0, v)).collect();
        let core1: Vec<u16> = (0..6).map(|v| shard_index(&spec, 1, v)).collect();
        assert_eq!(core0, vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(core1, vec![2, 3, 4, 5, 0, 1]);
    }

    /// An epoch's first block checks assurances against the prior `κ` (GP 0.7.2 eq. 11.13), so
    /// with `γ_P` another order of the keys the indices must still be `κ`'s: the STF accepts
    /// what [`block_assurances`] picks at the next epoch's first slot.
    #[test]
    fn assurances_keep_their_prior_set_indices_when_the_block_opens_an_epoch() {
        use orrery_chain_spec::dev::{dev_spec, DevServices, DEV_BASE_PORT};
        use orrery_keys::ValidatorKeys;

        let ctx = orrery_testkit::tiny_import_context();
        let keys: Vec<ValidatorKeys> = (0..6).map(ValidatorKeys::dev).collect();
        let dev = dev_spec(&ctx.spec, &ctx.ring, &keys, &DevServices::ORRERY, DEV_BASE_PORT).unwrap();
        let mut state = dev.genesis_state.state().clone();
        state.safrole.pending_validators.0.reverse();
        let parent: HeaderHash = [3; 32];
        let bitfield = BitVec::zeros(usize::from(ctx.spec.cores_count));
        let mut pool = BTreeMap::new();
        // Validators 4, 1 and 5 assure `parent`; 2 assures another block; a stranger (not in κ).
        for (i, anchor) in [(4, parent), (1, parent), (5, parent), (2, [9; 32])] {
            let k: &ValidatorKeys = &keys[i];
            let signature = k.ed25519_sign(&assurance_message(&anchor, &bitfield));
            pool.insert((anchor, k.ed25519_public()), (0, bitfield.clone(), signature));
        }
        let stranger = ValidatorKeys::dev(9);
        let signature = stranger.ed25519_sign(&assurance_message(&parent, &bitfield));
        pool.insert((parent, stranger.ed25519_public()), (0, bitfield.clone(), signature));

        let picked = block_assurances(&pool, &parent, &state);
        let indices: Vec<u16> = picked.iter().map(|a| a.validator_index).collect();
        assert_eq!(indices, vec![1, 4, 5], "κ's indices, in order; not γ_P's (4, 1, 0)");
        let first_of_next_epoch = ctx.spec.epoch_length;
        let applied = orrery_stf::assurances::apply(
            &ctx.spec,
            &state.pending_reports,
            &state.active_validators,
            first_of_next_epoch,
            &parent,
            &picked,
        );
        assert!(applied.is_ok(), "{applied:?}");
    }

    #[test]
    fn justification_steps_round_trip() {
        let path = vec![vec![1u8; 32], vec![2u8; 64]];
        let wire = steps(&path).unwrap();
        assert_eq!(wire, vec![JustificationStep::Hash([1; 32]), JustificationStep::Pair([2; 32], [2; 32])]);
        assert_eq!(unsteps(&wire), path);
        assert!(steps(&[vec![0u8; 31]]).is_none());
    }
}
