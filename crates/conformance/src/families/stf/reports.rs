//! `stf/reports`: work-report guarantees and the statistics they feed (GP 0.7.2 §11.3–11.5, §13.2).

use std::collections::{BTreeMap, BTreeSet};

use orrery_codec::{Decode, Describe, Encode};
use orrery_state::{
    AuthPools, AvailabilityAssignments, CoresStatistics, EntropyBuffer, RecentBlocks, ServiceInfo,
    ValidatorsData,
};
use orrery_stf::reports::{self, ReportsInput};
use orrery_stf::statistics;
use orrery_types::{ChainSpec, Ed25519Public, Hash, ReportGuarantee, ServiceId, TimeSlot, WorkPackageHash};

use super::{
    services_statistics, services_statistics_entries, ErrorCodes, ServicesStatisticsMapEntry, StfResult,
    StfVector,
};

/// The part of a service account this transition reads: its fixed fields.
#[derive(Debug, Clone, Encode, Decode, Describe)]
pub(crate) struct Account {
    service: ServiceInfo,
}

#[derive(Debug, Clone, Encode, Decode, Describe)]
pub(crate) struct AccountsMapEntry {
    id: ServiceId,
    data: Account,
}

#[derive(Debug, Clone, Encode, Decode, Describe)]
pub(crate) struct State {
    /// `ρ‡`, mutated to `ρ'`.
    avail_assignments: AvailabilityAssignments,
    /// `κ'`.
    curr_validators: ValidatorsData,
    /// `λ'`.
    prev_validators: ValidatorsData,
    /// `η'`.
    entropy: EntropyBuffer,
    /// `ψ'_O`.
    offenders: Vec<Ed25519Public>,
    /// `β†`.
    recent_blocks: RecentBlocks,
    /// `α`.
    auth_pools: AuthPools,
    accounts: Vec<AccountsMapEntry>,
    cores_statistics: CoresStatistics,
    services_statistics: Vec<ServicesStatisticsMapEntry>,
}

#[derive(Debug, Clone, Encode, Decode, Describe)]
pub(crate) struct Input {
    guarantees: Vec<ReportGuarantee>,
    slot: TimeSlot,
    known_packages: Vec<WorkPackageHash>,
}

#[derive(Debug, Clone, Encode, Decode, Describe)]
pub(crate) struct ReportedPackage {
    work_package_hash: WorkPackageHash,
    segment_tree_root: Hash,
}

#[derive(Debug, Clone, Encode, Decode, Describe)]
pub(crate) struct OutputData {
    reported: Vec<ReportedPackage>,
    reporters: Vec<Ed25519Public>,
}

pub(crate) struct Errors;

impl ErrorCodes for Errors {
    const NAMES: &'static [&'static str] = &[
        "bad_core_index",
        "future_report_slot",
        "report_epoch_before_last",
        "insufficient_guarantees",
        "out_of_order_guarantee",
        "not_sorted_or_unique_guarantors",
        "wrong_assignment",
        "core_engaged",
        "anchor_not_recent",
        "bad_service_id",
        "bad_code_hash",
        "dependency_missing",
        "duplicate_package",
        "bad_state_root",
        "bad_beefy_mmr_root",
        "core_unauthorized",
        "bad_validator_index",
        "work_report_gas_too_high",
        "service_item_gas_too_low",
        "too_many_dependencies",
        "segment_root_lookup_invalid",
        "bad_signature",
        "work_report_too_big",
        "banned_validator",
        "lookup_anchor_not_recent",
        "missing_work_results",
    ];
}

pub(crate) struct Reports;

impl StfVector for Reports {
    type Input = Input;
    type State = State;
    type Output = StfResult<OutputData, Errors>;

    fn apply(spec: &ChainSpec, input: &Input, pre: &State) -> Result<(State, Self::Output), String> {
        let offenders: BTreeSet<Ed25519Public> = pre.offenders.iter().copied().collect();
        let services: BTreeMap<ServiceId, ServiceInfo> =
            pre.accounts.iter().map(|a| (a.id, a.data.service.clone())).collect();
        let known_packages: BTreeSet<WorkPackageHash> = input.known_packages.iter().copied().collect();
        let prior = ReportsInput {
            slot: input.slot,
            pending: &pre.avail_assignments,
            active: &pre.curr_validators,
            previous: &pre.prev_validators,
            entropy: &pre.entropy,
            offenders: &offenders,
            recent: &pre.recent_blocks,
            auth_pools: &pre.auth_pools,
            services: &services,
            known_packages: &known_packages,
            // The vectors carry no ancestry; lookup anchors are checked for age only.
            ancestry: None,
        };
        match reports::apply(spec, &prior, &input.guarantees) {
            Ok(out) => {
                let mut cores = pre.cores_statistics.clone();
                let mut services = services_statistics(&pre.services_statistics);
                statistics::add_reports(
                    &mut cores,
                    &mut services,
                    input.guarantees.iter().map(|g| &g.report),
                );
                let state = State {
                    avail_assignments: out.pending,
                    cores_statistics: cores,
                    services_statistics: services_statistics_entries(&services),
                    ..pre.clone()
                };
                let output = OutputData {
                    reported: out
                        .reported
                        .iter()
                        .map(|p| ReportedPackage {
                            work_package_hash: p.hash,
                            segment_tree_root: p.exports_root,
                        })
                        .collect(),
                    reporters: out.reporters.into_iter().collect(),
                };
                Ok((state, StfResult::from_code(Ok(output))?))
            }
            Err(e) => Ok((pre.clone(), StfResult::from_code(Err(e.code()))?)),
        }
    }
}
