//! Work-report guarantees: ρ‡ → ρ' from the guarantees extrinsic (GP 0.7.2 §11.3–11.5).
//!
//! Every guarantee is checked against the paper's conditions (credentials and guarantor
//! assignment, the core's state and authorizer pool, the report's size, gas and dependencies, its
//! refinement context against recent history, and the services it names) before anything is
//! written; the first broken condition is the error. Signatures are checked last, all in one batch.

use std::collections::{BTreeMap, BTreeSet};

use orrery_codec::Encode;
use orrery_crypto::{blake2b_256, Ed25519Batch};
use orrery_state::{
    AuthPools, AvailabilityAssignment, AvailabilityAssignments, EntropyBuffer, RecentBlocks,
    ReportedWorkPackage, ServiceAccount, ServiceInfo, ValidatorsData,
};
use orrery_types::constants::{MAX_PACKAGE_ITEMS, MAX_REPORT_DEPENDENCIES, MAX_REPORT_VAR_SIZE};
use orrery_types::{
    ChainSpec, Ed25519Public, Hash, HeaderHash, RefineContext, ReportGuarantee, ServiceId, TimeSlot,
    WorkExecResult, WorkPackageHash, WorkReport,
};

use crate::assignments::GuarantorAssignments;
use crate::contexts;

/// Why a guarantees extrinsic is invalid. Codes are the vectors' names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReportsError {
    #[error("bad_core_index: a report names a core index past C")]
    BadCoreIndex,
    #[error("future_report_slot: a guarantee's slot is after the block's")]
    FutureReportSlot,
    #[error("report_epoch_before_last: a guarantee's slot is before the previous rotation")]
    ReportEpochBeforeLast,
    #[error("insufficient_guarantees: a guarantee has fewer than two (or more than three) credentials")]
    InsufficientGuarantees,
    #[error("out_of_order_guarantee: guarantees are not sorted by core without duplicates")]
    OutOfOrderGuarantee,
    #[error("not_sorted_or_unique_guarantors: credentials are not sorted by validator index")]
    NotSortedOrUniqueGuarantors,
    #[error("wrong_assignment: a guarantor is not assigned to the report's core")]
    WrongAssignment,
    #[error("core_engaged: the report's core already has a report pending availability")]
    CoreEngaged,
    #[error("anchor_not_recent: the report's anchor is not among the recent blocks")]
    AnchorNotRecent,
    #[error("bad_service_id: a work digest names a service that does not exist")]
    BadServiceId,
    #[error("bad_code_hash: a work digest's code hash is not its service's")]
    BadCodeHash,
    #[error("dependency_missing: a prerequisite package is neither in this block nor in recent history")]
    DependencyMissing,
    #[error("duplicate_package: a package is reported twice, or was already reported")]
    DuplicatePackage,
    #[error("bad_state_root: the report's anchor state root does not match recent history")]
    BadStateRoot,
    #[error("bad_beefy_mmr_root: the report's anchor Beefy root does not match recent history")]
    BadBeefyMmrRoot,
    #[error("core_unauthorized: the report's authorizer is not in its core's pool")]
    CoreUnauthorized,
    #[error("bad_validator_index: a credential names a validator index past V")]
    BadValidatorIndex,
    #[error("work_report_gas_too_high: a report's accumulation gas exceeds G_A")]
    WorkReportGasTooHigh,
    #[error("service_item_gas_too_low: a work digest's gas is below its service's minimum")]
    ServiceItemGasTooLow,
    #[error("too_many_dependencies: prerequisites and segment-root lookups exceed J")]
    TooManyDependencies,
    #[error("segment_root_lookup_invalid: a segment-root lookup matches no known package")]
    SegmentRootLookupInvalid,
    #[error("bad_signature: a guarantor's signature does not verify")]
    BadSignature,
    #[error("work_report_too_big: a report's output blobs exceed W_R, or it has more than I digests")]
    WorkReportTooBig,
    #[error("banned_validator: a guarantor is an offender")]
    BannedValidator,
    #[error("lookup_anchor_not_recent: the lookup anchor is older than L slots, or not a known ancestor")]
    LookupAnchorNotRecent,
    #[error("missing_work_results: a report has no work digests")]
    MissingWorkResults,
}

impl ReportsError {
    /// The vectors' name for this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadCoreIndex => "bad_core_index",
            Self::FutureReportSlot => "future_report_slot",
            Self::ReportEpochBeforeLast => "report_epoch_before_last",
            Self::InsufficientGuarantees => "insufficient_guarantees",
            Self::OutOfOrderGuarantee => "out_of_order_guarantee",
            Self::NotSortedOrUniqueGuarantors => "not_sorted_or_unique_guarantors",
            Self::WrongAssignment => "wrong_assignment",
            Self::CoreEngaged => "core_engaged",
            Self::AnchorNotRecent => "anchor_not_recent",
            Self::BadServiceId => "bad_service_id",
            Self::BadCodeHash => "bad_code_hash",
            Self::DependencyMissing => "dependency_missing",
            Self::DuplicatePackage => "duplicate_package",
            Self::BadStateRoot => "bad_state_root",
            Self::BadBeefyMmrRoot => "bad_beefy_mmr_root",
            Self::CoreUnauthorized => "core_unauthorized",
            Self::BadValidatorIndex => "bad_validator_index",
            Self::WorkReportGasTooHigh => "work_report_gas_too_high",
            Self::ServiceItemGasTooLow => "service_item_gas_too_low",
            Self::TooManyDependencies => "too_many_dependencies",
            Self::SegmentRootLookupInvalid => "segment_root_lookup_invalid",
            Self::BadSignature => "bad_signature",
            Self::WorkReportTooBig => "work_report_too_big",
            Self::BannedValidator => "banned_validator",
            Self::LookupAnchorNotRecent => "lookup_anchor_not_recent",
            Self::MissingWorkResults => "missing_work_results",
        }
    }
}

/// Read access to the services' fixed fields (`δ[s]_c`, `δ[s]_g`).
pub trait Services {
    fn info(&self, service: ServiceId) -> Option<&ServiceInfo>;
}

impl Services for BTreeMap<ServiceId, ServiceAccount> {
    fn info(&self, service: ServiceId) -> Option<&ServiceInfo> {
        self.get(&service).map(|a| &a.info)
    }
}

impl Services for BTreeMap<ServiceId, ServiceInfo> {
    fn info(&self, service: ServiceId) -> Option<&ServiceInfo> {
        self.get(&service)
    }
}

/// The ancestor set `A`: the headers of the last `L` slots, by hash and slot (GP 0.7.2 §11.4.1).
pub trait Ancestry {
    fn contains(&self, header: &HeaderHash, slot: TimeSlot) -> bool;
}

/// The state the reports transition reads.
#[derive(Clone, Copy)]
pub struct ReportsInput<'a> {
    /// `τ' = H_t`.
    pub slot: TimeSlot,
    /// `ρ‡`: pending reports after disputes and assurances.
    pub pending: &'a AvailabilityAssignments,
    /// `κ'`.
    pub active: &'a ValidatorsData,
    /// `λ'`.
    pub previous: &'a ValidatorsData,
    /// `η'`.
    pub entropy: &'a EntropyBuffer,
    /// `ψ'_O`.
    pub offenders: &'a BTreeSet<Ed25519Public>,
    /// `β†`: recent history with the parent's state root corrected.
    pub recent: &'a RecentBlocks,
    /// `α`.
    pub auth_pools: &'a AuthPools,
    /// `δ`.
    pub services: &'a dyn Services,
    /// Every package already in the pipeline: reported in recent history, accumulated (`ξ`),
    /// ready (`ω`) or pending availability (`ρ`). See [`known_packages`].
    pub known_packages: &'a BTreeSet<WorkPackageHash>,
    /// The ancestor set, when the caller tracks one. The conformance vectors carry none, so they
    /// leave lookup anchors checked for age only.
    pub ancestry: Option<&'a dyn Ancestry>,
}

impl std::fmt::Debug for ReportsInput<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportsInput").field("slot", &self.slot).finish_non_exhaustive()
    }
}

/// What the reports transition yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportsOutput {
    /// `ρ'`.
    pub pending: AvailabilityAssignments,
    /// The packages reported, with their segment roots, sorted by package hash (the dictionary
    /// recent history records for this block).
    pub reported: Vec<ReportedWorkPackage>,
    /// `R`: the Ed25519 keys of every guarantor whose credential is in the extrinsic.
    pub reporters: BTreeSet<Ed25519Public>,
}

/// The packages already in the pipeline (the exclusions of GP 0.7.2 §11.4.1): reported in recent
/// history, accumulated in the last epoch, waiting in the ready queue, or pending availability.
pub fn known_packages<'a>(
    recent: &RecentBlocks,
    accumulated: impl IntoIterator<Item = &'a WorkPackageHash>,
    ready: impl IntoIterator<Item = &'a WorkReport>,
    pending: &AvailabilityAssignments,
) -> BTreeSet<WorkPackageHash> {
    let mut known: BTreeSet<WorkPackageHash> = recent.reported_packages().map(|p| p.hash).collect();
    known.extend(accumulated);
    known.extend(ready.into_iter().map(|r| r.package_spec.hash));
    known.extend(pending.0.iter().flatten().map(|a| a.report.package_spec.hash));
    known
}

/// Applies `E_G` (GP 0.7.2 §11.4–11.5).
pub fn apply(
    spec: &ChainSpec,
    input: &ReportsInput<'_>,
    guarantees: &[ReportGuarantee],
) -> Result<ReportsOutput, ReportsError> {
    let (output, signatures) = apply_deferring_signatures(spec, input, guarantees)?;
    signatures.verify().map_err(|_| ReportsError::BadSignature)?;
    Ok(output)
}

/// [`apply`] but for the guarantors' signatures, returned unverified for the caller to verify
/// (with [`ReportsError::BadSignature`] if they fail) before the output means anything. Every
/// other rule is checked first in `apply` too, and nothing can fail after the signatures, so
/// this gives `apply`'s verdict.
pub fn apply_deferring_signatures(
    spec: &ChainSpec,
    input: &ReportsInput<'_>,
    guarantees: &[ReportGuarantee],
) -> Result<(ReportsOutput, Ed25519Batch), ReportsError> {
    let slot = input.slot;
    let cores = usize::from(spec.cores_count);
    let rotation = spec.rotation_period.max(1);
    // Assignments are computed once, and the previous rotation's only if a guarantee needs it.
    let current = GuarantorAssignments::current(spec, input.entropy, slot, input.active);
    let mut previous: Option<GuarantorAssignments> = None;
    let mut reporters = BTreeSet::new();
    let mut last_core: Option<u16> = None;
    // Signatures are verified together, in one batch, once everything else has been checked.
    let mut signed = Ed25519Batch::new();

    for guarantee in guarantees {
        let report = &guarantee.report;
        let core = report.core_index;
        if usize::from(core) >= cores {
            return Err(ReportsError::BadCoreIndex);
        }
        if last_core.is_some_and(|c| c >= core) {
            return Err(ReportsError::OutOfOrderGuarantee);
        }
        last_core = Some(core);

        check_report_shape(spec, report)?;

        // Credentials: two or three, sorted by validator index.
        let credential = &guarantee.signatures;
        if !(2..=3).contains(&credential.len()) {
            return Err(ReportsError::InsufficientGuarantees);
        }
        if credential.windows(2).any(|w| w[0].validator_index >= w[1].validator_index) {
            return Err(ReportsError::NotSortedOrUniqueGuarantors);
        }
        if credential.iter().any(|s| usize::from(s.validator_index) >= usize::from(spec.validators_count)) {
            return Err(ReportsError::BadValidatorIndex);
        }

        // The guarantee's slot must be in this rotation or the previous one.
        if guarantee.slot > slot {
            return Err(ReportsError::FutureReportSlot);
        }
        let earliest = (i64::from(slot / rotation) - 1) * i64::from(rotation);
        if i64::from(guarantee.slot) < earliest {
            return Err(ReportsError::ReportEpochBeforeLast);
        }
        let assignments = if slot / rotation == guarantee.slot / rotation {
            &current
        } else {
            previous.get_or_insert_with(|| {
                GuarantorAssignments::previous(spec, input.entropy, slot, input.active, input.previous)
            })
        };

        let message = [contexts::GUARANTEE, &blake2b_256(&report.encode())].concat();
        for credential in credential {
            let index = usize::from(credential.validator_index);
            // Φ has replaced an offender's keys with zeros, which no signature verifies; say so.
            let key = assignments.keys.get(index).ok_or(ReportsError::BadValidatorIndex)?;
            if input.offenders.contains(key) {
                return Err(ReportsError::BannedValidator);
            }
            if assignments.cores.get(index) != Some(&core) {
                return Err(ReportsError::WrongAssignment);
            }
            signed.push(*key, message.clone(), credential.signature);
            reporters.insert(*key);
        }

        // The core must be free and must authorize the report.
        if input.pending.0.get(usize::from(core)).is_some_and(Option::is_some) {
            return Err(ReportsError::CoreEngaged);
        }
        if !input
            .auth_pools
            .0
            .get(usize::from(core))
            .is_some_and(|pool| pool.contains(&report.authorizer_hash))
        {
            return Err(ReportsError::CoreUnauthorized);
        }

        check_digests(input.services, report)?;
        check_context(spec, input.recent, slot, input.ancestry, &report.context)?;
    }

    // Packages: unique within the extrinsic and new to the pipeline.
    let mut incoming: BTreeMap<WorkPackageHash, Hash> = BTreeMap::new();
    for guarantee in guarantees {
        let spec_ = &guarantee.report.package_spec;
        if incoming.insert(spec_.hash, spec_.exports_root).is_some() {
            return Err(ReportsError::DuplicatePackage);
        }
    }
    let recent_reported: BTreeSet<(WorkPackageHash, Hash)> =
        input.recent.reported_packages().map(|p| (p.hash, p.exports_root)).collect();
    let recent_packages: BTreeSet<WorkPackageHash> = recent_reported.iter().map(|(p, _)| *p).collect();
    if incoming.keys().any(|p| input.known_packages.contains(p) || recent_packages.contains(p)) {
        return Err(ReportsError::DuplicatePackage);
    }

    // Dependencies: prerequisites in this block or recent history, and segment-root
    // lookups matching a package known there. A lookup whose package is unknown is a
    // lookup that matches nothing, so it is reported as such rather than as a missing dependency.
    for guarantee in guarantees {
        let report = &guarantee.report;
        let known = |p: &WorkPackageHash| incoming.contains_key(p) || recent_packages.contains(p);
        for lookup in &report.segment_root_lookup {
            let pair = (lookup.work_package_hash, lookup.segment_tree_root);
            if incoming.get(&pair.0) != Some(&pair.1) && !recent_reported.contains(&pair) {
                return Err(ReportsError::SegmentRootLookupInvalid);
            }
        }
        if !report.context.prerequisites.iter().all(known) {
            return Err(ReportsError::DependencyMissing);
        }
    }

    let mut pending = input.pending.clone();
    // ρ has one entry per core; a shorter value built by hand is padded rather than indexed past.
    if pending.0.len() < cores {
        pending.0.resize(cores, None);
    }
    for guarantee in guarantees {
        let core = usize::from(guarantee.report.core_index);
        pending.0[core] = Some(AvailabilityAssignment { report: guarantee.report.clone(), timeout: slot });
    }
    let reported =
        incoming.into_iter().map(|(hash, exports_root)| ReportedWorkPackage { hash, exports_root }).collect();
    Ok((ReportsOutput { pending, reported, reporters }, signed))
}

/// Each digest's service exists, its code hash is the service's, and it gets at least the
/// service's minimum gas (GP 0.7.2 §11.4).
pub fn check_digests(services: &dyn Services, report: &WorkReport) -> Result<(), ReportsError> {
    for digest in &report.results {
        let info = services.info(digest.service_id).ok_or(ReportsError::BadServiceId)?;
        if digest.code_hash != info.code_hash {
            return Err(ReportsError::BadCodeHash);
        }
        if digest.accumulate_gas < info.min_item_gas {
            return Err(ReportsError::ServiceItemGasTooLow);
        }
    }
    Ok(())
}

/// The refinement context's conditions (GP 0.7.2 §11.4): the anchor is in recent history
/// `β†` with the same state root and Beefy root, and the lookup anchor is at most `L` slots before
/// `slot` (and an ancestor, when `ancestry` is given). A guarantor checks a package's context by
/// this before refining it, as a block's guarantee will be.
pub fn check_context(
    spec: &ChainSpec,
    recent: &RecentBlocks,
    slot: TimeSlot,
    ancestry: Option<&dyn Ancestry>,
    context: &RefineContext,
) -> Result<(), ReportsError> {
    let anchor = recent
        .history
        .iter()
        .find(|b| b.header_hash == context.anchor)
        .ok_or(ReportsError::AnchorNotRecent)?;
    if anchor.state_root != context.state_root {
        return Err(ReportsError::BadStateRoot);
    }
    if anchor.beefy_root != context.beefy_root {
        return Err(ReportsError::BadBeefyMmrRoot);
    }
    if u64::from(context.lookup_anchor_slot) + u64::from(spec.max_lookup_anchor_age) < u64::from(slot) {
        return Err(ReportsError::LookupAnchorNotRecent);
    }
    if ancestry.is_some_and(|a| !a.contains(&context.lookup_anchor, context.lookup_anchor_slot)) {
        return Err(ReportsError::LookupAnchorNotRecent);
    }
    Ok(())
}

/// The conditions on a report alone: digests, dependencies, size and gas (GP 0.7.2
/// §11.1, §11.4).
pub fn check_report_shape(spec: &ChainSpec, report: &WorkReport) -> Result<(), ReportsError> {
    if report.results.is_empty() {
        return Err(ReportsError::MissingWorkResults);
    }
    if report.results.len() > MAX_PACKAGE_ITEMS {
        return Err(ReportsError::WorkReportTooBig);
    }
    if report.segment_root_lookup.len() + report.context.prerequisites.len() > MAX_REPORT_DEPENDENCIES {
        return Err(ReportsError::TooManyDependencies);
    }
    let output_size =
        report.results.iter().fold(report.auth_output.len(), |sum, digest| match &digest.result {
            WorkExecResult::Ok(output) => sum.saturating_add(output.len()),
            _ => sum,
        });
    if output_size > MAX_REPORT_VAR_SIZE {
        return Err(ReportsError::WorkReportTooBig);
    }
    let gas = report.results.iter().try_fold(0u64, |sum, digest| sum.checked_add(digest.accumulate_gas));
    if gas.is_none_or(|gas| gas > spec.max_accumulate_gas) {
        return Err(ReportsError::WorkReportGasTooHigh);
    }
    Ok(())
}
