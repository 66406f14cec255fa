//! Guaranteeing (GP 0.7.2 §14.3, §11.4; JAMNP-S CE 133, 134, 135): a package for one of our cores
//! is authorized and refined (`orrery-work-report`), shared with the core's other guarantors, and
//! once two or three have signed the report, distributed to every validator as a guarantee;
//! guarantees received are checked and pooled for authors.
//!
//! - A package (CE 133 from a builder, or [`crate::Input::SubmitWorkPackage`]) is taken only by a
//!   guarantor of the core it names, in the rotation of the current slot (`M` of §11.3, from
//!   `orrery_stf::assignments`, on the best block's state carried to the current slot). Before
//!   anything is run it must be at most [`MAX_WORK_PACKAGE_SIZE`] encoded, pass the package limits
//!   of §14.2, be authorized by a hash in the core's pool `α`, be new to the pipeline, and have a
//!   context a block on our best block would accept (`orrery_stf::reports::check_context`: anchor
//!   in `β†` with its roots, lookup anchor an ancestor within `L` slots); then Ξ runs with the
//!   services of the lookup anchor's state, and the report must pass the rules a block applies to a
//!   report alone (shape, services, code hashes, gas). Each refusal says which rule
//!   ([`crate::Event::WorkPackageRefused`]).
//! - We sign `X_G ⌢ H(E(r))` (eq. 11.26's message, as `orrery_stf::reports` verifies it), hand the
//!   bundle and exports to availability (`keep_for_assurers`), and send the bundle to the core's
//!   other guarantors (CE 134), who do the same checks and refinement and answer with their
//!   signature. With three signatures, or two and [`THIRD_SIGNATURE_WAIT_MS`] later, the guarantee
//!   (slot: the slot whose rotation the signers were assigned in) goes to every current validator
//!   (CE 135), in the epoch's last rotation to the next epoch's (`γ_P`) too, and into our pool.
//! - A guarantee received is checked as a block would check its credentials: core, shape, two or
//!   three signers sorted, each assigned to the core in the guarantee's rotation (this one or the
//!   previous) and its signature valid. A bad one counts against the sender; a good one enters a
//!   pool of one guarantee per core (the newest, or the one with more signatures).
//! - For a block, each pooled guarantee is run through the reports transition on the parent's state
//!   at the block's slot (with the assurances the block will carry), and those that pass are
//!   offered; guarantees whose package the best chain has taken, or whose rotation is past, leave.
//!
//! A package importing segments has them fetched and proven first (`segments.rs`); a shared one
//! carries them in its bundle, with the sharer's segment-root lookup checked against `β`.
//!
//! Not here: CE 146 bundle submission, predicting the state a report will meet beyond the best
//! block, and the paper's advice to sign no more than two reports a slot.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use orrery_author::{ordered_assurances, posterior_safrole};
use orrery_codec::Encode;
use orrery_crypto::{blake2b_256, blake2b_256_concat, ed25519_verify};
use orrery_network::message::{BundleShare, ReportSignature, WorkPackageSubmission};
use orrery_state::{EntropyBuffer, State, ValidatorsData};
use orrery_stf::assignments::GuarantorAssignments;
use orrery_stf::reports::{self, Ancestry, ReportsError, ReportsInput};
use orrery_stf::{assurances, contexts, history};
use orrery_types::{
    ChainSpec, CoreIndex, Ed25519Signature, Hash, HeaderHash, ReportGuarantee, TimeSlot, ValidatorIndex,
    ValidatorSignature, WorkPackage, WorkReport,
};
use orrery_work_report::{compute_work_report, decode_bundle, PackageData};

use crate::limits::*;
use crate::{Asked, Event, GuaranteeDiscard, Message, Millis, Node, Output, PeerId, Request, Response, View};

/// The guarantor's state.
#[derive(Debug, Default)]
pub(crate) struct Guarantor {
    /// Our packages collecting signatures, by package hash.
    work: BTreeMap<Hash, Work>,
    /// Packages we took on and have not given up (a bounded FIFO), so a second submission is not
    /// refined again.
    taken: BTreeSet<Hash>,
    taken_order: VecDeque<Hash>,
    /// The guarantee pool: at most one per core.
    pool: BTreeMap<CoreIndex, ReportGuarantee>,
    /// Packages refined for peers in a slot: (slot, count).
    refines: (TimeSlot, u32),
}

/// One of our reports, waiting for its co-guarantors' signatures.
#[derive(Debug)]
struct Work {
    report: WorkReport,
    report_hash: Hash,
    /// The slot whose rotation the signers are assigned in: the guarantee's slot.
    slot: TimeSlot,
    signatures: BTreeMap<ValidatorIndex, Ed25519Signature>,
    /// The co-guarantors asked and not yet answered: peer (its Ed25519 key) → validator index.
    asked: BTreeMap<PeerId, ValidatorIndex>,
    /// When we stop waiting for a third signature (set at the second).
    third_by: Option<Millis>,
    /// When we give up if there are fewer than two.
    expires: Millis,
}

/// What a guarantor computed for a package.
struct Refined {
    report: WorkReport,
    report_hash: Hash,
    bundle: Vec<u8>,
    exports: Vec<Vec<u8>>,
    /// The slot we checked the assignment at, and our index in it.
    slot: TimeSlot,
    index: ValidatorIndex,
    assignments: GuarantorAssignments,
}

impl Refined {
    /// The event for telemetry.
    fn built(&self, package: Hash) -> Event {
        let spec = &self.report.package_spec;
        Event::ReportBuilt {
            package,
            report: self.report_hash,
            bundle_size: u32::try_from(self.bundle.len()).unwrap_or(u32::MAX),
            erasure_root: spec.erasure_root,
            segments_root: spec.exports_root,
            gas: self.report.results.iter().map(|r| r.refine_load.gas_used).collect(),
            auth_gas: self.report.auth_gas_used,
        }
    }
}

/// The validator sets and entropy a block at a slot on our best block will have: `η'`, `κ'`, `λ'`.
struct Sets {
    entropy: EntropyBuffer,
    active: ValidatorsData,
    previous: ValidatorsData,
}

/// The ancestor set of a block: its parent's chain within `L` slots.
struct Ancestors(BTreeSet<(HeaderHash, TimeSlot)>);

impl Ancestry for Ancestors {
    fn contains(&self, header: &HeaderHash, slot: TimeSlot) -> bool {
        self.0.contains(&(*header, slot))
    }
}

/// `X_G ⌢ H(E(r))`: what a guarantor signs (GP 0.7.2 eq. 11.26).
fn guarantee_message(report_hash: &Hash) -> Vec<u8> {
    [contexts::GUARANTEE, report_hash.as_slice()].concat()
}

/// What a malicious guarantor does to a report (`NodeOptions::corrupt_reports`): the first item's
/// refine output gains a byte, or becomes an empty output if refine failed.
fn corrupt(report: &mut WorkReport) {
    if let Some(result) = report.results.first_mut() {
        match &mut result.result {
            orrery_types::WorkExecResult::Ok(output) => output.push(0xba),
            other => *other = orrery_types::WorkExecResult::Ok(Vec::new()),
        }
    }
}

/// Takes one refinement from `slot`'s budget for peers (`(slot, used)`); false when it is spent.
fn take_refine(refines: &mut (TimeSlot, u32), slot: TimeSlot) -> bool {
    if refines.0 != slot {
        *refines = (slot, 0);
    }
    if refines.1 >= MAX_PEER_REFINES_PER_SLOT {
        return false;
    }
    refines.1 += 1;
    true
}

/// The event of a guarantee leaving the pool.
fn discarded(g: &ReportGuarantee, reason: GuaranteeDiscard) -> Output {
    Output::Event(Event::GuaranteeDiscarded {
        report: blake2b_256(&g.report.encode()),
        slot: g.slot,
        guarantors: g.signatures.iter().map(|s| s.validator_index).collect(),
        reason,
    })
}

fn refusal(rule: ReportsError) -> String {
    format!("GP 0.7.2 §11.4 {rule}")
}

impl Node {
    /// The guarantee pool's size by core, and the packages being guaranteed.
    pub(crate) fn guarantor_figures(&self) -> (Vec<u8>, usize) {
        let mut by_core = vec![0u8; usize::from(self.spec.cores_count)];
        for core in self.guarantor.pool.keys() {
            if let Some(n) = by_core.get_mut(usize::from(*core)) {
                *n = n.saturating_add(1);
            }
        }
        (by_core, self.guarantor.work.len())
    }

    /// CE 133 from `from`, or the node's own user (`None`).
    pub(crate) fn on_work_package(
        &mut self,
        from: Option<PeerId>,
        submission: WorkPackageSubmission,
        out: &mut Vec<Output>,
    ) {
        let WorkPackageSubmission { core, package, extrinsics } = submission;
        let encoded = package.encode();
        let package_hash = blake2b_256(&encoded);
        if self.guarantor.taken.contains(&package_hash) {
            out.push(Output::Event(Event::DuplicatePackage { package: package_hash, core }));
            return;
        }
        let refuse = |reason: String, out: &mut Vec<Output>| {
            out.push(Output::Event(Event::WorkPackageRefused { package: package_hash, reason }))
        };
        if encoded.len() > MAX_WORK_PACKAGE_SIZE {
            let reason = format!(
                "JAMNP-S CE 133: the package is {} octets, more than {MAX_WORK_PACKAGE_SIZE}",
                encoded.len()
            );
            return refuse(reason, out);
        }
        if self.guarantor.work.len() >= MAX_GUARANTOR_WORK {
            return refuse(format!("busy: {MAX_GUARANTOR_WORK} packages are being guaranteed"), out);
        }
        // Our own user's package for a core we do not guarantee (JIP-2 `submitWorkPackage` to any
        // node): passed on by CE 133 to one of the core's guarantors, as a builder would, so that
        // one guarantor leads and shares it with the others.
        if from.is_none() {
            if let Some(guarantors) = self.core_guarantors(core) {
                let me = self.our_ed25519();
                if !guarantors.iter().any(|g| Some(*g) == me) {
                    let Some(target) = guarantors.into_iter().find(|g| self.peers.contains_key(g)) else {
                        return refuse(
                            format!("no guarantor of core {core} is connected to pass it to"),
                            out,
                        );
                    };
                    self.remember_taken(package_hash);
                    let message = Message::WorkPackage(WorkPackageSubmission { core, package, extrinsics });
                    out.push(Output::Send { peer: target, message });
                    return;
                }
            }
        }
        // Imports are fetched first (`segments.rs`), which comes back to `guarantee_with`.
        if package.items.iter().any(|w| !w.import_segments.is_empty()) {
            let submission = WorkPackageSubmission { core, package, extrinsics };
            return self.fetch_imports(from, package_hash, submission, out);
        }
        let items = package.items.len();
        let data = PackageData {
            imports: vec![Vec::new(); items],
            justifications: vec![Vec::new(); items],
            extrinsics,
            segment_roots: BTreeMap::new(),
        };
        self.guarantee_with(from, core, package, package_hash, data, out);
    }

    /// Refines a package with the data gathered for it (its imports proven), signs, keeps the
    /// shards and shares the bundle with the core's other guarantors (CE 134).
    pub(crate) fn guarantee_with(
        &mut self,
        from: Option<PeerId>,
        core: CoreIndex,
        package: WorkPackage,
        package_hash: Hash,
        data: PackageData,
        out: &mut Vec<Output>,
    ) {
        let refuse = |reason: String, out: &mut Vec<Output>| {
            out.push(Output::Event(Event::WorkPackageRefused { package: package_hash, reason }))
        };
        let refined = match self.refine_package(core, &package, package_hash, &data, from.is_some(), None) {
            Ok(refined) => refined,
            Err(reason) => return refuse(reason, out),
        };
        out.push(Output::Event(refined.built(package_hash)));
        let Some(keys) = &self.keys else { return };
        let signature = keys.ed25519_sign(&guarantee_message(&refined.report_hash));
        self.keep_for_assurers(&refined.report, &refined.bundle, &refined.exports);
        self.remember_taken(package_hash);

        // CE 134 to the core's other guarantors.
        let segment_roots = refined.report.segment_root_lookup.clone();
        let share = BundleShare { core, segment_roots, bundle: refined.bundle };
        let others: Vec<(ValidatorIndex, PeerId)> = (0..refined.assignments.cores.len())
            .filter(|&v| refined.assignments.cores[v] == core && v != usize::from(refined.index))
            .filter_map(|v| Some((u16::try_from(v).ok()?, *refined.assignments.keys.get(v)?)))
            .collect();
        let mut asked = BTreeMap::new();
        for (index, peer) in others {
            let request = Request::ShareBundle(share.clone());
            if self.work_request(peer, Asked::Share { package: package_hash }, request, out) {
                asked.insert(peer, index);
            }
        }
        let expires = self.now.saturating_add(GUARANTOR_WORK_TTL_SLOTS.saturating_mul(self.slot_ms));
        let work = Work {
            report: refined.report,
            report_hash: refined.report_hash,
            slot: refined.slot,
            signatures: BTreeMap::from([(refined.index, signature)]),
            asked,
            third_by: None,
            expires,
        };
        self.guarantor.work.insert(package_hash, work);
        // Nobody to ask: nothing will come.
        self.progress(package_hash, out);
    }

    /// The checks before refinement, Ξ, and the checks on the report, for `core` at the current
    /// slot on our best block; a refusal names the rule. A package shared by CE 134 must come from
    /// another guarantor of the core (`sharer`): nobody else may make us refine. A refinement for a
    /// peer (`metered`) takes one of the slot's [`MAX_PEER_REFINES_PER_SLOT`], once every cheaper
    /// check has passed.
    fn refine_package(
        &mut self,
        core: CoreIndex,
        package: &WorkPackage,
        package_hash: Hash,
        data: &PackageData,
        metered: bool,
        sharer: Option<PeerId>,
    ) -> Result<Refined, String> {
        let now_slot = self.slot_now();
        let spec = &self.spec;
        let keys = self.keys.as_ref().ok_or("not a validator")?;
        let best = self.chain.state(&self.best).ok_or("no state for the best block")?;
        let s = best.state();
        let slot = self.slot_now().max(s.timeslot);
        if core >= spec.cores_count {
            return Err(refusal(ReportsError::BadCoreIndex));
        }
        let sets = self.sets_at(s, slot).ok_or("no validator sets for the current slot")?;
        let assignments = GuarantorAssignments::current(spec, &sets.entropy, slot, &sets.active);
        let me = keys.ed25519_public();
        let index = assignments
            .keys
            .iter()
            .position(|k| *k == me)
            .and_then(|v| u16::try_from(v).ok())
            .ok_or("not in the active validator set κ'")?;
        if assignments.cores.get(usize::from(index)) != Some(&core) {
            return Err(format!(
                "GP 0.7.2 §11.3: validator {index} is not a guarantor of core {core} in slot {slot}'s rotation"
            ));
        }
        if let Some(sharer) = sharer {
            let theirs = assignments.keys.iter().position(|k| *k == sharer);
            if theirs.is_none_or(|v| v == usize::from(index) || assignments.cores.get(v) != Some(&core)) {
                return Err(format!("JAMNP-S CE 134: the sharer is not another guarantor of core {core}"));
            }
        }
        orrery_work_report::check_package(spec, package).map_err(|e| format!("GP 0.7.2 §14.2: {e}"))?;
        let authorizer = blake2b_256_concat(&[&package.auth_code_hash, &package.authorizer_config]);
        if !s.auth_pools.0.get(usize::from(core)).is_some_and(|pool| pool.contains(&authorizer)) {
            return Err(refusal(ReportsError::CoreUnauthorized));
        }
        if self.known_packages(s).contains(&package_hash) {
            return Err(refusal(ReportsError::DuplicatePackage));
        }
        let recent = history::correct_parent_state_root(&s.recent_blocks, best.root());
        let ancestors = self.ancestors_of(self.best, slot);
        reports::check_context(spec, &recent, slot, Some(&ancestors), &package.context).map_err(refusal)?;
        // Refine reads services only through the historical lookup at the lookup anchor's slot,
        // which any later state answers alike; the anchor's own state is pruned once final.
        let lookup = self.chain.state(&package.context.lookup_anchor).unwrap_or(best);
        if metered && !take_refine(&mut self.guarantor.refines, now_slot) {
            return Err(format!("busy: {MAX_PEER_REFINES_PER_SLOT} packages refined for peers this slot"));
        }

        let computed = compute_work_report(
            spec,
            package,
            core,
            &lookup.state().accounts,
            data,
            Some(&self.chain.context().programs),
        )
        .map_err(|e| format!("GP 0.7.2 §14.3: {e}"))?;
        let mut report = computed.report;
        if self.options.corrupt_reports {
            corrupt(&mut report);
        }
        reports::check_report_shape(spec, &report).map_err(refusal)?;
        reports::check_digests(&s.accounts, &report).map_err(refusal)?;
        let report_hash = blake2b_256(&report.encode());
        Ok(Refined {
            report,
            report_hash,
            bundle: computed.bundle,
            exports: computed.exports,
            slot,
            index,
            assignments,
        })
    }

    fn remember_taken(&mut self, package: Hash) {
        let g = &mut self.guarantor;
        if g.taken.insert(package) {
            g.taken_order.push_back(package);
            if g.taken_order.len() > MAX_GUARANTEED_REMEMBERED {
                if let Some(old) = g.taken_order.pop_front() {
                    g.taken.remove(&old);
                }
            }
        }
    }

    /// `η'`, `κ'`, `λ'` of a block at `slot` on a block whose posterior state is `s`.
    /// The Ed25519 keys of `core`'s guarantors in the current slot's rotation, by our best state.
    fn core_guarantors(&self, core: CoreIndex) -> Option<Vec<PeerId>> {
        let s = self.chain.state(&self.best)?.state();
        let slot = self.slot_now().max(s.timeslot);
        let sets = self.sets_at(s, slot)?;
        let a = GuarantorAssignments::current(&self.spec, &sets.entropy, slot, &sets.active);
        Some(
            (0..a.cores.len())
                .filter(|&v| a.cores[v] == core)
                .filter_map(|v| a.keys.get(v).copied())
                .collect(),
        )
    }

    fn sets_at(&self, s: &State, slot: TimeSlot) -> Option<Sets> {
        if slot <= s.timeslot || self.epoch_of(slot) == self.epoch_of(s.timeslot) {
            return Some(Sets {
                entropy: s.entropy.clone(),
                active: s.active_validators.clone(),
                previous: s.previous_validators.clone(),
            });
        }
        let posterior =
            posterior_safrole(&self.spec, &self.ring, s, slot, &s.disputes.offenders, &[]).ok()?;
        Some(Sets { entropy: posterior.entropy, active: posterior.active, previous: posterior.previous })
    }

    /// The packages already in the pipeline of a state (GP 0.7.2 §11.4.1's exclusions).
    fn known_packages(&self, s: &State) -> BTreeSet<Hash> {
        reports::known_packages(
            &s.recent_blocks,
            s.accumulated.0.iter().flatten(),
            s.ready_queue.0.iter().flatten().map(|r| &r.report),
            &s.pending_reports,
        )
    }

    /// The ancestor set of a block at `slot` on `parent` (GP 0.7.2 §11.4's `A`): `parent`'s chain,
    /// `parent` included, back to `L` slots before `slot`.
    fn ancestors_of(&self, parent: HeaderHash, slot: TimeSlot) -> Ancestors {
        let view = View { tree: &self.tree, chain: &self.chain, auditor: &self.auditor };
        let oldest = slot.saturating_sub(self.spec.max_lookup_anchor_age);
        let mut out = BTreeSet::new();
        let mut at = Some(parent);
        // Slots fall strictly along a chain, so this ends within `L + 1` steps.
        while let Some(hash) = at {
            let Some(s) = view.slot(&hash) else { break };
            if s < oldest || (out.len() as u64) > u64::from(self.spec.max_lookup_anchor_age) {
                break;
            }
            out.insert((hash, s));
            at = view.parent(&hash).filter(|p| view.slot(p).is_some_and(|ps| ps < s));
        }
        Ancestors(out)
    }

    /// Finishes a package when it has what it needs, or gives it up when it cannot.
    fn progress(&mut self, package: Hash, out: &mut Vec<Output>) {
        let now = self.now;
        let Some(work) = self.guarantor.work.get_mut(&package) else { return };
        let have = work.signatures.len();
        if have >= 2 && work.third_by.is_none() {
            work.third_by = Some(now.saturating_add(THIRD_SIGNATURE_WAIT_MS));
        }
        let waited = work.third_by.is_some_and(|t| t <= now);
        let done = have >= 3 || (have >= 2 && (work.asked.is_empty() || waited));
        let failed = have < 2 && (work.asked.is_empty() || work.expires <= now);
        if done {
            self.distribute(package, out);
        } else if failed {
            // Given up: a builder may send it again, and it is refined again then.
            let g = &mut self.guarantor;
            g.work.remove(&package);
            g.taken.remove(&package);
            g.taken_order.retain(|p| *p != package);
            let reason = format!("only {have} of the core's guarantors signed the report; two are needed");
            out.push(Output::Event(Event::WorkPackageRefused { package, reason }));
        }
    }

    /// CE 135: the guarantee of a finished package, to its [`guarantee_recipients`] and our pool.
    fn distribute(&mut self, package: Hash, out: &mut Vec<Output>) {
        let Some(work) = self.guarantor.work.remove(&package) else { return };
        let signatures: Vec<ValidatorSignature> = work
            .signatures
            .iter()
            .take(3)
            .map(|(v, s)| ValidatorSignature { validator_index: *v, signature: *s })
            .collect();
        let core = work.report.core_index;
        let count = signatures.len();
        let guarantors = signatures.iter().map(|s| s.validator_index).collect();
        let guarantee = ReportGuarantee { report: work.report, slot: work.slot, signatures };
        let me = self.our_ed25519();
        let validators: Vec<PeerId> = self
            .chain
            .state(&self.best)
            .map(|s| guarantee_recipients(&self.spec, s.state(), guarantee.slot))
            .unwrap_or_default();
        for peer in validators.into_iter().filter(|p| Some(*p) != me && self.peers.contains_key(p)) {
            out.push(Output::Send { peer, message: Message::Guarantee(guarantee.clone()) });
        }
        self.pool_guarantee(guarantee, out);
        out.push(Output::Event(Event::Guaranteed {
            package,
            core,
            report: work.report_hash,
            signatures: count,
            slot: work.slot,
            guarantors,
        }));
    }

    /// Keeps a checked guarantee: one per core, the newer rotation's, else the one with more
    /// signatures, else the one already there.
    fn pool_guarantee(&mut self, guarantee: ReportGuarantee, out: &mut Vec<Output>) {
        let core = guarantee.report.core_index;
        if core >= self.spec.cores_count {
            return;
        }
        let replace = match self.guarantor.pool.get(&core) {
            None => true,
            Some(old) => (guarantee.slot, guarantee.signatures.len()) > (old.slot, old.signatures.len()),
        };
        if replace {
            if let Some(old) = self.guarantor.pool.insert(core, guarantee) {
                out.push(discarded(&old, GuaranteeDiscard::Replaced));
            }
        }
    }

    /// CE 134: a co-guarantor asks us to refine and sign.
    pub(crate) fn serve_share(
        &mut self,
        peer: PeerId,
        share: BundleShare,
        out: &mut Vec<Output>,
    ) -> Option<Response> {
        if share.bundle.len() > orrery_types::constants::MAX_BUNDLE_SIZE {
            return None;
        }
        let (package, mut data) = decode_bundle(&share.bundle).ok()?;
        let package_hash = blake2b_256(&package.encode());
        data.segment_roots =
            share.segment_roots.iter().map(|l| (l.work_package_hash, l.segment_tree_root)).collect();
        // The sharer's lookup must be the recent history's; the imports themselves are proven
        // against it by Ξ (their justifications are in the bundle).
        if let Err(reason) = self.check_share_lookup(&package, &data.segment_roots) {
            out.push(Output::Event(Event::WorkPackageRefused { package: package_hash, reason }));
            return None;
        }
        let refined = match self.refine_package(share.core, &package, package_hash, &data, true, Some(peer)) {
            Ok(refined) => refined,
            Err(reason) => {
                out.push(Output::Event(Event::WorkPackageRefused { package: package_hash, reason }));
                return None;
            }
        };
        out.push(Output::Event(refined.built(package_hash)));
        let signature = self.keys.as_ref()?.ed25519_sign(&guarantee_message(&refined.report_hash));
        self.keep_for_assurers(&refined.report, &refined.bundle, &refined.exports);
        Some(Response::ReportSignature(ReportSignature { report_hash: refined.report_hash, signature }))
    }

    pub(crate) fn on_report_signature(
        &mut self,
        peer: PeerId,
        package: Hash,
        signature: ReportSignature,
        out: &mut Vec<Output>,
    ) {
        let Some(work) = self.guarantor.work.get_mut(&package) else { return };
        let Some(index) = work.asked.remove(&peer) else { return };
        // An honest co-guarantor computes the same report, and signs it with its own key (the
        // connection's, which is its key in the assignment we asked it by).
        let same = signature.report_hash == work.report_hash;
        let valid = same
            && ed25519_verify(&peer, &guarantee_message(&work.report_hash), &signature.signature).is_ok();
        if valid {
            work.signatures.insert(index, signature.signature);
        }
        self.progress(package, out);
        if !same {
            self.misbehaved(peer, BAD_MESSAGE, "CE 134: a signature on another report", out);
        } else if !valid {
            self.misbehaved(peer, BAD_MESSAGE, "CE 134: a report signature that does not verify", out);
        }
    }

    pub(crate) fn on_share_failed(&mut self, peer: PeerId, package: Hash, out: &mut Vec<Output>) {
        let Some(work) = self.guarantor.work.get_mut(&package) else { return };
        work.asked.remove(&peer);
        self.progress(package, out);
    }

    /// CE 135.
    pub(crate) fn on_guarantee(&mut self, peer: PeerId, guarantee: ReportGuarantee, out: &mut Vec<Output>) {
        let Some(best) = self.chain.state(&self.best) else { return };
        let s = best.state();
        let slot = self.slot_now().max(s.timeslot);
        let rotation = self.spec.rotation_period.max(1);
        // Early (clocks differ) or stale: not wrong, not useful.
        if guarantee.slot > slot || guarantee.slot / rotation + 1 < slot / rotation {
            return;
        }
        if let Err(what) = self.check_credentials(s, slot, &guarantee) {
            let report = blake2b_256(&guarantee.report.encode());
            out.push(Output::Event(Event::GuaranteeRefused { report, reason: what.to_string() }));
            return self.misbehaved(peer, BAD_MESSAGE, &format!("CE 135: {what}"), out);
        }
        if self.known_packages(s).contains(&guarantee.report.package_spec.hash) {
            return;
        }
        self.pool_guarantee(guarantee, out);
    }

    /// The rules a block applies to a guarantee's credentials (GP 0.7.2 §11.4): the core, the
    /// report's shape, two or three signers in order, each assigned to the core in the
    /// guarantee's rotation (this one or the previous, as of `slot` on `s`), each signature valid.
    fn check_credentials(
        &self,
        s: &State,
        slot: TimeSlot,
        guarantee: &ReportGuarantee,
    ) -> Result<(), String> {
        let spec = &self.spec;
        let report = &guarantee.report;
        let core = report.core_index;
        if core >= spec.cores_count {
            return Err(ReportsError::BadCoreIndex.to_string());
        }
        reports::check_report_shape(spec, report).map_err(|e| e.to_string())?;
        let credentials = &guarantee.signatures;
        if !(2..=3).contains(&credentials.len()) {
            return Err(ReportsError::InsufficientGuarantees.to_string());
        }
        if credentials.windows(2).any(|w| w[0].validator_index >= w[1].validator_index) {
            return Err(ReportsError::NotSortedOrUniqueGuarantors.to_string());
        }
        let sets = self.sets_at(s, slot).ok_or("no validator sets for the current slot")?;
        let rotation = spec.rotation_period.max(1);
        let assignments = if guarantee.slot / rotation == slot / rotation {
            GuarantorAssignments::current(spec, &sets.entropy, slot, &sets.active)
        } else {
            GuarantorAssignments::previous(spec, &sets.entropy, slot, &sets.active, &sets.previous)
        };
        let message = guarantee_message(&blake2b_256(&report.encode()));
        for credential in credentials {
            let index = usize::from(credential.validator_index);
            let key =
                assignments.keys.get(index).ok_or_else(|| ReportsError::BadValidatorIndex.to_string())?;
            if assignments.cores.get(index) != Some(&core) {
                return Err(ReportsError::WrongAssignment.to_string());
            }
            ed25519_verify(key, &message, &credential.signature)
                .map_err(|_| ReportsError::BadSignature.to_string())?;
        }
        Ok(())
    }

    /// The guarantees a block at `slot` on `parent` may take: each pooled one that the reports
    /// transition accepts on `parent`'s state (after the assurances the block will carry), and
    /// then all of them together.
    pub(crate) fn guarantees_for_block(&self, parent: &HeaderHash, slot: TimeSlot) -> Vec<ReportGuarantee> {
        if self.guarantor.pool.is_empty() {
            return Vec::new();
        }
        let spec = &self.spec;
        let Some(prior) = self.chain.state(parent) else { return Vec::new() };
        let s = prior.state();
        if slot <= s.timeslot {
            return Vec::new();
        }
        let Ok(safrole) = posterior_safrole(spec, &self.ring, s, slot, &s.disputes.offenders, &[]) else {
            return Vec::new();
        };
        // ρ‡: the block's assurances as the author will order them; without them if they do not
        // apply (the author's block would then fail anyway, on its own account).
        let pool = ordered_assurances(spec, &self.assurances_for_block(parent), parent, &s.pending_reports);
        let assured = assurances::apply_deferring_signatures(
            spec,
            &s.pending_reports,
            &s.active_validators,
            slot,
            parent,
            &pool,
        )
        .or_else(|_| {
            assurances::apply_deferring_signatures(
                spec,
                &s.pending_reports,
                &s.active_validators,
                slot,
                parent,
                &[],
            )
        });
        let Ok((assured, _)) = assured else { return Vec::new() };
        let recent = history::correct_parent_state_root(&s.recent_blocks, prior.root());
        let known = self.known_packages(s);
        let ancestors = self.ancestors_of(*parent, slot);
        let input = ReportsInput {
            slot,
            pending: &assured.pending,
            active: &safrole.active,
            previous: &safrole.previous,
            entropy: &safrole.entropy,
            offenders: &s.disputes.offenders,
            recent: &recent,
            auth_pools: &s.auth_pools,
            services: &s.accounts,
            known_packages: &known,
            ancestry: Some(&ancestors),
        };
        let mut chosen: Vec<ReportGuarantee> = Vec::new();
        let mut packages = BTreeSet::new();
        // The pool is keyed by core, so this is core order, as the extrinsic wants.
        for guarantee in self.guarantor.pool.values() {
            if !packages.insert(guarantee.report.package_spec.hash) {
                continue;
            }
            if reports::apply(spec, &input, std::slice::from_ref(guarantee)).is_ok() {
                chosen.push(guarantee.clone());
            }
        }
        // Each passes alone; together they can only clash on what each saw alone (a package
        // named twice is ruled out above), but the block must be valid whatever: check once more.
        if reports::apply_deferring_signatures(spec, &input, &chosen).is_err() {
            chosen.truncate(1);
        }
        chosen
    }

    pub(crate) fn guarantor_on_imported(&mut self, hash: &HeaderHash, out: &mut Vec<Output>) {
        // Only the best chain's intake: a fork's block may never be built on.
        if *hash != self.best || (self.guarantor.pool.is_empty() && self.guarantor.work.is_empty()) {
            return;
        }
        let Some(state) = self.chain.state(hash) else { return };
        let known = self.known_packages(state.state());
        self.guarantor.pool.retain(|_, g| {
            let keep = !known.contains(&g.report.package_spec.hash);
            if !keep {
                out.push(discarded(g, GuaranteeDiscard::ReportedOnChain));
            }
            keep
        });
        self.guarantor.work.retain(|package, _| !known.contains(package));
    }

    pub(crate) fn guarantor_on_time(&mut self, out: &mut Vec<Output>) {
        let now = self.now;
        let due: Vec<Hash> = self
            .guarantor
            .work
            .iter()
            .filter(|(_, w)| w.expires <= now || w.third_by.is_some_and(|t| t <= now))
            .map(|(p, _)| *p)
            .collect();
        for package in due {
            self.progress(package, out);
        }
        // Guarantees whose rotation is past the previous one can go in no block any more.
        let rotation = self.spec.rotation_period.max(1);
        let current = self.slot_now() / rotation;
        self.guarantor.pool.retain(|_, g| {
            let keep = g.slot / rotation + 1 >= current;
            if !keep {
                out.push(discarded(g, GuaranteeDiscard::CannotBeReported));
            }
            keep
        });
    }

    pub(crate) fn guarantor_next_wake(&self) -> Option<Millis> {
        self.guarantor.work.values().map(|w| w.third_by.map_or(w.expires, |t| t.min(w.expires))).min()
    }
}

/// Who a guarantee made at `slot` goes to (JAMNP-S CE 135): every validator of `κ`, and in the
/// epoch's last rotation also those of `γ_P`, who may author the blocks that can still take it
/// after the epoch changes (a guarantee is valid for its rotation and the next). `state` is the
/// guarantor's best state; a key in both sets appears once.
pub(crate) fn guarantee_recipients(spec: &ChainSpec, state: &State, slot: TimeSlot) -> Vec<PeerId> {
    let (epoch, rotation) = (spec.epoch_length.max(1), spec.rotation_period.max(1));
    let last_slot_of_epoch = (slot / epoch).saturating_mul(epoch).saturating_add(epoch - 1);
    crate::current_and_next_validators(state, slot / rotation == last_slot_of_epoch / rotation)
}

#[cfg(test)]
mod tests {
    //! The guarantor's checks on one node, on the dev chain (tiny spec: six validators, two cores,
    //! three guarantors each) after one block: a co-guarantor's signature, the credentials of a
    //! received guarantee, and the pool's way into a block.

    use std::sync::{Arc, OnceLock};

    use orrery_author::{author_block, slot_author, Pools};
    use orrery_chain_spec::dev::{
        dev_spec, DevServices, DEV_AUTHORIZER_CONFIG, DEV_BASE_PORT, MANAGER_SERVICE,
    };
    use orrery_import::{header_hash, ImportContext};
    use orrery_keys::ValidatorKeys;
    use orrery_store::{Chain, Redb, Start};
    use orrery_types::{Block, ExtrinsicSpec, RefineContext, WorkItem};
    use orrery_work_report::ComputedReport;

    use super::*;
    use crate::{NodeConfig, NodeOptions};

    const SLOT_MS: u64 = 6_000;

    fn context() -> Arc<ImportContext> {
        static CTX: OnceLock<Arc<ImportContext>> = OnceLock::new();
        CTX.get_or_init(|| Arc::new(orrery_testkit::tiny_import_context())).clone()
    }

    fn keys(i: usize) -> ValidatorKeys {
        ValidatorKeys::dev(i as u32)
    }

    /// The dev genesis and the block at slot 1 on it.
    fn chain_start() -> (Start, Block) {
        static START: OnceLock<(Start, Block)> = OnceLock::new();
        START
            .get_or_init(|| {
                let ctx = context();
                let all: Vec<ValidatorKeys> = (0..6).map(keys).collect();
                let dev = dev_spec(&ctx.spec, &ctx.ring, &all, &DevServices::ORRERY, DEV_BASE_PORT).unwrap();
                let start = Start::genesis(dev.genesis_header.clone(), dev.genesis_state.clone());
                (start, block_on(&dev.genesis_state, dev.genesis_hash(), 1, &Pools::default()))
            })
            .clone()
    }

    /// The block its slot's author makes at `slot` on `parent`, whose state is `state`.
    fn block_on(
        state: &orrery_import::ChainState,
        parent: HeaderHash,
        slot: TimeSlot,
        pools: &Pools,
    ) -> Block {
        let ctx = context();
        let author = (0..6)
            .map(keys)
            .find(|k| slot_author(&ctx.spec, &ctx.ring, state.state(), slot, k).unwrap().is_some())
            .unwrap();
        author_block(&ctx.spec, &ctx.ring, state, parent, slot, &author, pools).unwrap()
    }

    /// Validator `i`'s node with block 1 imported, its clock early in slot 2.
    fn node(i: usize) -> (Node, HeaderHash) {
        let (start, block) = chain_start();
        let chain =
            Chain::open(context(), Box::new(Redb::in_memory().unwrap()), Some(start), u32::MAX).unwrap();
        let config = NodeConfig {
            spec: context().spec.clone(),
            keys: Some(keys(i)),
            slot_ms: SLOT_MS,
            grandpa_gossip_ms: 500,
        };
        let options = NodeOptions { tickets: false, grandpa: false, ..NodeOptions::default() };
        let mut node = Node::with_options(config, options, chain, SLOT_MS + 100).unwrap();
        let hash = header_hash(&block.header);
        assert!(node.import(block, None, &mut Vec::new()));
        node.now = 2 * SLOT_MS + 100;
        (node, hash)
    }

    /// Core 0's guarantors and another validator, in slot 2's rotation.
    fn core0(node: &Node) -> (Vec<usize>, usize) {
        let s = node.chain.state(&node.best).unwrap().state();
        let a = GuarantorAssignments::current(&node.spec, &s.entropy, 2, &s.active_validators);
        let ours: Vec<usize> = (0..6).filter(|&v| a.cores[v] == 0).collect();
        let other = (0..6).find(|v| !ours.contains(v)).unwrap();
        (ours, other)
    }

    /// The manager's `fund` package anchored on block 1, and Ξ of it on core 0.
    fn package(node: &Node, anchor: HeaderHash) -> (WorkPackage, ComputedReport) {
        package_of(node, anchor, 5)
    }

    /// The same, funding `amount`.
    fn package_of(node: &Node, anchor: HeaderHash, amount: u64) -> (WorkPackage, ComputedReport) {
        let state = node.chain.state(&anchor).unwrap();
        let blob = b"an extrinsic".to_vec();
        let package = WorkPackage {
            auth_code_host: MANAGER_SERVICE,
            auth_code_hash: blake2b_256(DevServices::ORRERY.authorizer),
            context: RefineContext {
                anchor,
                state_root: state.root(),
                beefy_root: state.state().recent_blocks.history.last().unwrap().beefy_root,
                lookup_anchor: anchor,
                lookup_anchor_slot: 1,
                prerequisites: Vec::new(),
            },
            authorization: DEV_AUTHORIZER_CONFIG.to_vec(),
            authorizer_config: DEV_AUTHORIZER_CONFIG.to_vec(),
            items: vec![WorkItem {
                service: MANAGER_SERVICE,
                code_hash: blake2b_256(DevServices::ORRERY.manager),
                refine_gas_limit: 50_000_000,
                accumulate_gas_limit: 1_000_000,
                export_count: 0,
                payload: [&[1u8][..], &0u32.to_le_bytes(), &amount.to_le_bytes(), &0u64.to_le_bytes()]
                    .concat(),
                import_segments: Vec::new(),
                extrinsic: vec![ExtrinsicSpec { hash: blake2b_256(&blob), len: blob.len() as u32 }],
            }],
        };
        let data = PackageData {
            imports: vec![Vec::new()],
            justifications: vec![Vec::new()],
            extrinsics: vec![vec![blob]],
            segment_roots: BTreeMap::new(),
        };
        let accounts = &state.state().accounts;
        let computed = compute_work_report(&node.spec, &package, 0, accounts, &data, None).unwrap();
        (package, computed)
    }

    fn signed(report: &WorkReport, by: &[usize]) -> ReportGuarantee {
        let message = guarantee_message(&blake2b_256(&report.encode()));
        let signatures = by
            .iter()
            .map(|&v| ValidatorSignature {
                validator_index: v as u16,
                signature: keys(v).ed25519_sign(&message),
            })
            .collect();
        ReportGuarantee { report: report.clone(), slot: 2, signatures }
    }

    fn connect(node: &mut Node, v: usize) -> PeerId {
        let peer = keys(v).ed25519_public();
        node.on_connected(peer, &mut Vec::new());
        peer
    }

    /// Tiny: E = 12, R = 4, so slots 8–11 are an epoch's last rotation. A `γ_P` holding one key
    /// not in `κ` (dev validator 6 for 5) gets the guarantees made there, and only there.
    #[test]
    fn guarantees_of_an_epochs_last_rotation_also_go_to_the_next_epochs_validators() {
        let (n, _) = node(0);
        let spec = &n.spec;
        assert_eq!((spec.epoch_length, spec.rotation_period), (12, 4));
        let mut s = n.chain.state(&n.best).unwrap().state().clone();
        let newcomer = keys(6).ed25519_public();
        s.safrole.pending_validators.0[5].ed25519 = newcomer;
        let current: Vec<PeerId> = (0..6).map(|i| keys(i).ed25519_public()).collect();
        let with_newcomer: Vec<PeerId> = current.iter().copied().chain([newcomer]).collect();
        for slot in [0, 2, 7, 12, 19] {
            assert_eq!(guarantee_recipients(spec, &s, slot), current, "slot {slot}");
        }
        for slot in [8, 11, 20, 23] {
            assert_eq!(guarantee_recipients(spec, &s, slot), with_newcomer, "slot {slot}");
        }
        // The same set next epoch: nobody twice.
        let same = n.chain.state(&n.best).unwrap().state().clone();
        assert_eq!(guarantee_recipients(spec, &same, 9), current);
    }

    #[test]
    fn a_co_guarantor_signs_the_report_it_computes_and_others_refuse() {
        let (mut n, anchor) = node(0);
        let (ours, other) = core0(&n);
        let (_, computed) = package(&n, anchor);
        let share = BundleShare { core: 0, segment_roots: Vec::new(), bundle: computed.bundle.clone() };
        let report_hash = blake2b_256(&computed.report.encode());

        let (mut co, _) = node(ours[0]);
        let answer = co.serve_share(keys(ours[1]).ed25519_public(), share.clone(), &mut Vec::new());
        let Some(Response::ReportSignature(signature)) = answer else { panic!("{answer:?}") };
        assert_eq!(signature.report_hash, report_hash);
        let key = keys(ours[0]).ed25519_public();
        assert!(ed25519_verify(&key, &[b"jam_guarantee", &report_hash[..]].concat(), &signature.signature)
            .is_ok());

        // Shared by a validator of the other core, or to one: refused, with the rule named.
        let mut out = Vec::new();
        assert_eq!(co.serve_share(keys(other).ed25519_public(), share.clone(), &mut out), None);
        assert!(matches!(&out[..], [Output::Event(Event::WorkPackageRefused { reason, .. })]
            if reason.contains("sharer is not another guarantor")));
        let (mut elsewhere, _) = node(other);
        assert_eq!(
            elsewhere.serve_share(keys(ours[0]).ed25519_public(), share.clone(), &mut Vec::new()),
            None
        );
        // Bytes that are no bundle.
        let broken = BundleShare { bundle: computed.bundle[..10].to_vec(), ..share };
        assert_eq!(n.serve_share(keys(ours[1]).ed25519_public(), broken, &mut Vec::new()), None);
    }

    #[test]
    fn a_received_guarantee_is_checked_pooled_offered_and_dropped_once_in_a_block() {
        let (mut n, anchor) = node(0);
        let (ours, other) = core0(&n);
        let (_, computed) = package(&n, anchor);
        let from = connect(&mut n, ours[1]);

        // Forged credentials count against the sender and are not pooled.
        let report = &computed.report;
        let mut forged = signed(report, &[ours[0], ours[1]]);
        forged.signatures[1].signature = keys(ours[2]).ed25519_sign(b"something else");
        let mut pair = [ours[0], other];
        pair.sort();
        let wrong_core = signed(report, &pair);
        let mut unsorted = signed(report, &[ours[0], ours[1]]);
        unsorted.signatures.reverse();
        let report_hash = blake2b_256(&report.encode());
        for (i, bad) in [forged, wrong_core, unsorted].into_iter().enumerate() {
            let mut out = Vec::new();
            n.on_guarantee(from, bad, &mut out);
            assert_eq!(n.peer_score(&from), Some(BAD_MESSAGE * (i as u32 + 1)));
            // Telemetry's "guarantee receive failed": the report, with the rule.
            assert!(
                out.iter().any(|o| matches!(o, Output::Event(Event::GuaranteeRefused { report, reason })
                    if *report == report_hash && !reason.is_empty())),
                "{out:?}"
            );
        }
        assert!(n.guarantor.pool.is_empty());

        // Two of the core's guarantors: pooled, and offered for the next block.
        let good = signed(report, &[ours[0], ours[1]]);
        let mut out = Vec::new();
        n.on_guarantee(from, good.clone(), &mut out);
        assert!(out.is_empty(), "nothing left the pool: {out:?}");
        assert_eq!(n.guarantor.pool.get(&0), Some(&good));
        assert_eq!(n.peer_score(&from), Some(3 * BAD_MESSAGE));
        assert_eq!(n.guarantees_for_block(&anchor, 2), vec![good.clone()]);
        // A third signature replaces it: the two-signature one is discarded as replaced.
        let three = signed(report, &ours);
        let mut out = Vec::new();
        n.on_guarantee(from, three.clone(), &mut out);
        assert_eq!(n.guarantor.pool.get(&0), Some(&three));
        let two = vec![ours[0] as u16, ours[1] as u16];
        assert_eq!(
            out,
            vec![Output::Event(Event::GuaranteeDiscarded {
                report: report_hash,
                slot: good.slot,
                guarantors: two,
                reason: GuaranteeDiscard::Replaced,
            })]
        );

        // In a block, which imports, and then gone from the pool: reported on chain.
        let block = {
            let state = n.chain.state(&anchor).unwrap();
            block_on(state, anchor, 2, &Pools { guarantees: vec![three.clone()], ..Pools::default() })
        };
        assert_eq!(block.extrinsic.guarantees, vec![three.clone()]);
        let mut out = Vec::new();
        assert!(n.import(block, None, &mut out));
        assert!(n.guarantor.pool.is_empty());
        let all: Vec<u16> = ours.iter().map(|&v| v as u16).collect();
        assert!(
            out.contains(&Output::Event(Event::GuaranteeDiscarded {
                report: report_hash,
                slot: three.slot,
                guarantors: all,
                reason: GuaranteeDiscard::ReportedOnChain,
            })),
            "{out:?}"
        );
    }

    #[test]
    fn a_guarantee_whose_rotation_is_past_leaves_the_pool_as_unreportable() {
        let (mut n, anchor) = node(0);
        let (ours, _) = core0(&n);
        let (_, computed) = package(&n, anchor);
        let from = connect(&mut n, ours[1]);
        let good = signed(&computed.report, &[ours[0], ours[1]]);
        n.on_guarantee(from, good.clone(), &mut Vec::new());
        assert_eq!(n.guarantor.pool.get(&0), Some(&good));
        assert_eq!(n.spec.rotation_period, 4);
        // Slot 2 is in rotation 0; through rotation 1 (slots 4–7) a block may still take it.
        n.now = 7 * SLOT_MS;
        let mut out = Vec::new();
        n.guarantor_on_time(&mut out);
        assert!(out.is_empty(), "{out:?}");
        assert_eq!(n.guarantor.pool.get(&0), Some(&good));
        // From slot 8 (rotation 2) no block may: it leaves, "cannot be reported on-chain".
        n.now = 8 * SLOT_MS;
        n.guarantor_on_time(&mut out);
        assert!(n.guarantor.pool.is_empty());
        let discarded = Event::GuaranteeDiscarded {
            report: blake2b_256(&computed.report.encode()),
            slot: 2,
            guarantors: vec![ours[0] as u16, ours[1] as u16],
            reason: GuaranteeDiscard::CannotBeReported,
        };
        assert_eq!(out, vec![Output::Event(discarded)]);
    }

    #[test]
    fn a_guarantee_a_block_would_refuse_is_pooled_but_not_offered() {
        let (mut n, anchor) = node(0);
        let (ours, _) = core0(&n);
        let (_, computed) = package(&n, anchor);
        let from = connect(&mut n, ours[1]);
        // Valid credentials on a report whose anchor is no block: nothing wrong with the sender,
        // but no block can take it.
        let mut report = computed.report.clone();
        report.context.anchor = [0x55; 32];
        let guarantee = signed(&report, &[ours[0], ours[1]]);
        n.on_guarantee(from, guarantee, &mut Vec::new());
        assert_eq!(n.peer_score(&from), Some(0));
        assert_eq!(n.guarantor.pool.len(), 1);
        assert_eq!(n.guarantees_for_block(&anchor, 2), Vec::new());
    }

    /// Our report with `signers`' signatures, waiting on `waiting`.
    fn work(report: &WorkReport, signers: &[usize], waiting: &[usize], expires: Millis) -> Work {
        let report_hash = blake2b_256(&report.encode());
        let message = guarantee_message(&report_hash);
        Work {
            report: report.clone(),
            report_hash,
            slot: 2,
            signatures: signers.iter().map(|&v| (v as u16, keys(v).ed25519_sign(&message))).collect(),
            asked: waiting.iter().map(|&v| (keys(v).ed25519_public(), v as u16)).collect(),
            third_by: None,
            expires,
        }
    }

    #[test]
    fn with_two_signatures_the_third_is_awaited_two_seconds_and_with_one_the_package_expires() {
        let (mut n, anchor) = node(0);
        let (ours, _) = core0(&n);
        let (_, computed) = package(&n, anchor);
        let start = n.now;
        let (two, one) = ([7; 32], [8; 32]);
        let expires = start + GUARANTOR_WORK_TTL_SLOTS * SLOT_MS;
        n.guarantor.work.insert(two, work(&computed.report, &ours[..2], &ours[2..], expires));
        let mut other = computed.report.clone();
        other.core_index = 1;
        n.guarantor.work.insert(one, work(&other, &ours[..1], &ours[1..2], expires));

        let mut out = Vec::new();
        n.progress(two, &mut out);
        assert!(out.is_empty());
        assert_eq!(n.guarantor_next_wake(), Some(start + THIRD_SIGNATURE_WAIT_MS));
        n.now = start + THIRD_SIGNATURE_WAIT_MS - 1;
        n.guarantor_on_time(&mut out);
        assert!(out.is_empty(), "{out:?}");
        n.now = start + THIRD_SIGNATURE_WAIT_MS;
        n.guarantor_on_time(&mut out);
        let report = blake2b_256(&computed.report.encode());
        assert_eq!(
            out,
            vec![Output::Event(Event::Guaranteed {
                package: two,
                core: 0,
                report,
                signatures: 2,
                slot: 2,
                guarantors: vec![ours[0] as u16, ours[1] as u16],
            })]
        );
        let pooled = n.guarantor.pool.get(&0).unwrap();
        let signers: Vec<u16> = pooled.signatures.iter().map(|s| s.validator_index).collect();
        assert_eq!(signers, vec![ours[0] as u16, ours[1] as u16]);
        assert_eq!(pooled.slot, 2);

        // One signature and a silent co-guarantor: given up when the work expires.
        out.clear();
        assert_eq!(n.guarantor_next_wake(), Some(expires));
        n.now = expires;
        n.guarantor_on_time(&mut out);
        assert!(matches!(&out[..], [Output::Event(Event::WorkPackageRefused { package, reason })]
            if *package == one && reason.contains("only 1")));
        assert!(n.guarantor.work.is_empty());
        assert_eq!(n.guarantor_next_wake(), None);
    }

    #[test]
    fn telemetry_sees_the_authorizer_gas_and_a_duplicate_submission() {
        let (n, anchor) = node(0);
        let (ours, _) = core0(&n);
        let (mut g, _) = node(ours[0]);
        connect(&mut g, ours[1]);
        connect(&mut g, ours[2]);
        let (package, computed) = package(&n, anchor);
        let package_hash = blake2b_256(&package.encode());
        let extrinsics = vec![vec![b"an extrinsic".to_vec()]];
        let submission = WorkPackageSubmission { core: 0, package, extrinsics };
        let mut out = Vec::new();
        g.on_work_package(None, submission.clone(), &mut out);
        // Ψ_I's gas (the report's `g`, as Ξ computed it) comes with the report for "authorized".
        let built = out.iter().find_map(|o| match o {
            Output::Event(Event::ReportBuilt { package, auth_gas, .. }) if *package == package_hash => {
                Some(*auth_gas)
            }
            _ => None,
        });
        assert_eq!(built, Some(computed.report.auth_gas_used), "{out:?}");
        assert!(computed.report.auth_gas_used > 0);
        // Shared with the two co-guarantors and waiting for them: the same package again is a
        // duplicate, and nothing more is done with it.
        let mut out = Vec::new();
        g.on_work_package(None, submission, &mut out);
        assert_eq!(out, vec![Output::Event(Event::DuplicatePackage { package: package_hash, core: 0 })]);
    }

    #[test]
    fn peers_get_a_bounded_number_of_refinements_a_slot_and_our_user_is_not_counted() {
        let (n, anchor) = node(0);
        let (ours, _) = core0(&n);
        let (mut g, _) = node(ours[0]);
        let peer = keys(ours[1]).ed25519_public();
        let submit = |g: &mut Node, from: Option<PeerId>, amount: u64| {
            let (package, _) = package_of(&n, anchor, amount);
            let extrinsics = vec![vec![b"an extrinsic".to_vec()]];
            let mut out = Vec::new();
            g.on_work_package(from, WorkPackageSubmission { core: 0, package, extrinsics }, &mut out);
            // Nobody to share with here: each refined package is given up at once, naming why
            // (after the telemetry event saying its report was built).
            out.retain(|o| !matches!(o, Output::Event(Event::ReportBuilt { .. })));
            match &out[..] {
                [Output::Event(Event::WorkPackageRefused { reason, .. })] => reason.clone(),
                other => panic!("{other:?}"),
            }
        };
        for amount in 0..u64::from(MAX_PEER_REFINES_PER_SLOT) {
            assert!(submit(&mut g, Some(peer), amount).starts_with("only 1"));
        }
        assert!(submit(&mut g, Some(peer), 100).starts_with("busy"));
        assert!(submit(&mut g, None, 101).starts_with("only 1"));
        // The next slot has a fresh budget.
        g.now += SLOT_MS;
        assert!(submit(&mut g, Some(peer), 102).starts_with("only 1"));
    }

    #[test]
    fn imports_from_unknown_roots_are_refused_and_shards_that_never_come_time_out() {
        use crate::segments::SEGMENT_FETCH_TTL_SLOTS;
        use crate::SegmentStep;
        use orrery_types::ImportSpec;

        let (n, anchor) = node(0);
        let (ours, _) = core0(&n);
        let (mut g, _) = node(ours[0]);
        let (_, computed) = package(&n, anchor);
        let submit = |g: &mut Node, import: ImportSpec| {
            let (mut package, _) = package_of(&n, anchor, 7);
            package.items[0].import_segments = vec![import];
            let extrinsics = vec![vec![b"an extrinsic".to_vec()]];
            let mut out = Vec::new();
            g.on_work_package(None, WorkPackageSubmission { core: 0, package, extrinsics }, &mut out);
            out
        };
        let reason = |out: &[Output]| match out {
            [Output::Event(Event::WorkPackageRefused { reason, .. })] => reason.clone(),
            other => panic!("{other:?}"),
        };
        // By a package hash the recent history does not report.
        let out = submit(&mut g, ImportSpec { tree_root: [0x77; 32], index: ImportSpec::PACKAGE_HASH_FLAG });
        assert!(reason(&out).starts_with("GP 0.7.2 §11.4 segment_root_lookup_invalid"), "{out:?}");
        // By a segment root no report this node has seen exports.
        let out = submit(&mut g, ImportSpec { tree_root: [0x99; 32], index: 0 });
        assert!(reason(&out).contains("no report this node has seen exports segment root 9999"), "{out:?}");

        // A report exporting two segments, whose shards nobody here keeps or serves.
        let mut exporter = computed.report.clone();
        exporter.package_spec.exports_root = [0x88; 32];
        exporter.package_spec.exports_count = 2;
        exporter.package_spec.erasure_root = [0x66; 32];
        g.remember_exporter(&exporter);
        let out = submit(&mut g, ImportSpec { tree_root: [0x88; 32], index: 2 });
        assert!(reason(&out).contains("segment 2 of segment root 8888"), "{out:?}");
        assert!(reason(&out).contains("past its 2 exports"), "{out:?}");
        // Segment 1 is waited for, until the fetch's time is up. Telemetry learns where its shards
        // are: the root's erasure root, and the Import Segment IDs of what is fetched (segment 1
        // is import 0; its proof page, segment 2 = 2 exports + 1/64, is page 0: 2^15 + 0).
        let (mut waiting, _) = package_of(&n, anchor, 7);
        waiting.items[0].import_segments = vec![ImportSpec { tree_root: [0x88; 32], index: 1 }];
        let out = submit(&mut g, ImportSpec { tree_root: [0x88; 32], index: 1 });
        let step = SegmentStep::RootMapped {
            segments_root: [0x88; 32],
            erasure_root: [0x66; 32],
            ids: vec![(1, 0), (2, 0x8000)],
        };
        let package = blake2b_256(&waiting.encode());
        assert_eq!(out, vec![Output::Event(Event::Segments { package, step })]);
        let due = g.now + SEGMENT_FETCH_TTL_SLOTS * SLOT_MS;
        assert_eq!(g.segments_next_wake(), Some(due));
        g.now = due - 1;
        let mut out = Vec::new();
        g.segments_on_time(&mut out);
        assert!(out.is_empty(), "{out:?}");
        g.now = due;
        g.segments_on_time(&mut out);
        let r = reason(&out);
        assert!(
            r.contains("did not come in time") && r.contains("8888") && r.contains("(0 of 2 shards)"),
            "{r}"
        );
        assert_eq!(g.segments_next_wake(), None);
    }
}
