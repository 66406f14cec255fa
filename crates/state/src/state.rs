//! The whole state σ (GP 0.7.2 §4.2).

use std::collections::BTreeMap;

use orrery_types::{ServiceId, TimeSlot};

use crate::{
    AccumulatedQueue, AccumulationOutput, AuthPools, AuthQueues, AvailabilityAssignments, DisputesRecords,
    EntropyBuffer, Privileges, ReadyQueue, RecentBlocks, SafroleState, ServiceAccount, Statistics,
    ValidatorsData,
};

/// `σ = (α, β, θ, γ, δ, η, ι, κ, λ, ρ, τ, φ, χ, ψ, π, ω, ξ)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    /// `α`: authorizer pools.
    pub auth_pools: AuthPools,
    /// `φ`: authorizer queues.
    pub auth_queues: AuthQueues,
    /// `β`: recent blocks and the accumulation output log.
    pub recent_blocks: RecentBlocks,
    /// `γ`: Safrole's state.
    pub safrole: SafroleState,
    /// `ψ`: judgments.
    pub disputes: DisputesRecords,
    /// `η`: entropy.
    pub entropy: EntropyBuffer,
    /// `ι`: validators queued for the epoch after next.
    pub staging_validators: ValidatorsData,
    /// `κ`: the active validators.
    pub active_validators: ValidatorsData,
    /// `λ`: the previous epoch's validators.
    pub previous_validators: ValidatorsData,
    /// `ρ`: reports pending availability.
    pub pending_reports: AvailabilityAssignments,
    /// `τ`: the latest block's slot.
    pub timeslot: TimeSlot,
    /// `χ`: privileged services.
    pub privileges: Privileges,
    /// `π`: activity statistics.
    pub statistics: Statistics,
    /// `ω`: reports ready for accumulation.
    pub ready_queue: ReadyQueue,
    /// `ξ`: recently accumulated packages.
    pub accumulated: AccumulatedQueue,
    /// `θ`: the latest accumulation outputs.
    pub accumulation_outputs: Vec<AccumulationOutput>,
    /// `δ`: service accounts.
    pub accounts: BTreeMap<ServiceId, ServiceAccount>,
}
