//! Accumulation (GP 0.7.2 §12): the reports that became available, the ready queue ω and the
//! accumulated history ξ decide which reports accumulate now; the services' accumulations change
//! δ, ι, φ and χ; the outputs θ' and the accumulation statistics follow.
//!
//! - Queueing (§12.1): reports without prerequisites or segment-root lookups accumulate at once
//!   (`W^!`); the rest wait in ω with the packages they depend on (`W^Q`), edited by `E` as packages
//!   accumulate, and `Q` releases those whose dependencies are met, giving `W*`.
//! - Execution (§12.2): `Block::outer` is Δ+, which accumulates as many reports of `W*` as the block's
//!   gas allows, round after round, each round's deferred transfers feeding the next; `Block::parallel` is
//!   Δ*, which accumulates every service of a round against the same state (on all cores, the
//!   services being independent) and merges their changes, privileges by the paper's `R`.
//! - Integration (§12.3): θ', the statistics `S`, last-accumulation slots, and the shifted ξ' and ω'.
//!
//! Nothing here does I/O; the PVM runs inside, metered by gas, so a service that loops forever
//! stops at its gas limit and one that panics or faults leaves only what it had checkpointed.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use orrery_invocation::accumulate::{accumulate as invoke, AccumulateOutput, PartialState};
use orrery_invocation::general::LogMessage;
use orrery_invocation::{AccumulationInput, DeferredTransfer, OperandTuple, ProgramCache};
use orrery_state::{
    AccumulatedQueue, AccumulationOutput, AuthQueues, Privileges, ReadyQueue, ReadyRecord, ServiceAccount,
    ServicesStatistics, ValidatorsData,
};
use orrery_types::{ChainSpec, Gas, Hash, Preimage, ServiceId, TimeSlot, WorkPackageHash, WorkReport};
use rayon::prelude::*;

use crate::preimages;

/// Why accumulation cannot complete: the block is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccumulateError {
    /// Two services of one round created, or changed, the same service index (GP 0.7.2 §12.2:
    /// "the block must be considered invalid").
    #[error("service {0} was created or altered by two services in one accumulation round")]
    ServiceIndexCollision(ServiceId),
}

/// The state accumulation reads and writes: the partial state `S` and the queues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccumulationState {
    /// `δ`.
    pub accounts: BTreeMap<ServiceId, ServiceAccount>,
    /// `ι`.
    pub staging: ValidatorsData,
    /// `φ`.
    pub auth_queues: AuthQueues,
    /// `χ`.
    pub privileges: Privileges,
    /// `ω`.
    pub ready: ReadyQueue,
    /// `ξ`.
    pub accumulated: AccumulatedQueue,
}

/// One service's entry of the accumulation statistics `S` (GP 0.7.2 eq. 12.26).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServiceAccumulation {
    /// `G(s)`: gas used over every round.
    pub gas_used: Gas,
    /// `N(s)`: work digests accumulated.
    pub count: u32,
}

/// The result of accumulating one block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accumulated {
    /// `δ‡` (before preimage integration), `ι'`, `φ'`, `χ'`, `ω'` and `ξ'`.
    pub state: AccumulationState,
    /// `θ'`: the yielded hashes, by service.
    pub outputs: Vec<AccumulationOutput>,
    /// `S`.
    pub statistics: BTreeMap<ServiceId, ServiceAccumulation>,
    /// `n`: how many reports of `W*` accumulated.
    pub reports_accumulated: usize,
    /// What the services logged, in order of rounds and services.
    pub logs: Vec<(ServiceId, LogMessage)>,
}

impl Accumulated {
    /// The root of `θ'` that the accumulation output log appends.
    pub fn root(&self) -> Hash {
        crate::history::accumulation_root(&self.outputs)
    }
}

/// What accumulation needs besides the state: the block's slot `H_t` (`τ'`), the prior slot `τ`,
/// the posterior entropy `η'_0`, and the reports that became available `W`.
#[derive(Debug, Clone, Copy)]
pub struct AccumulateInput<'a> {
    pub slot: TimeSlot,
    pub prior_slot: TimeSlot,
    pub entropy: &'a Hash,
    pub available: &'a [WorkReport],
}

fn package_hash(report: &WorkReport) -> WorkPackageHash {
    report.package_spec.hash
}

/// `P`: the package hashes of some reports.
fn package_hashes<'a>(reports: impl IntoIterator<Item = &'a WorkReport>) -> BTreeSet<WorkPackageHash> {
    reports.into_iter().map(package_hash).collect()
}

/// A report with the packages it still waits for.
type Waiting = (WorkReport, BTreeSet<WorkPackageHash>);

/// `E(r, x)`: drops the reports whose package is in `x` and the dependencies that are.
fn edit(queue: Vec<Waiting>, done: &BTreeSet<WorkPackageHash>) -> Vec<Waiting> {
    queue
        .into_iter()
        .filter(|(report, _)| !done.contains(&package_hash(report)))
        .map(|(report, deps)| {
            let deps = deps.difference(done).copied().collect();
            (report, deps)
        })
        .collect()
}

/// `Q(r)`: the reports whose dependencies are met, in order, releasing more as they go.
fn release(mut queue: Vec<Waiting>) -> Vec<WorkReport> {
    let mut out = Vec::new();
    loop {
        let ready: Vec<WorkReport> =
            queue.iter().filter(|(_, deps)| deps.is_empty()).map(|(r, _)| r.clone()).collect();
        if ready.is_empty() {
            return out;
        }
        let done = package_hashes(&ready);
        out.extend(ready);
        queue = edit(queue, &done);
    }
}

/// `D(r)`: a report with its prerequisites and segment-root lookups as dependencies.
fn dependencies(report: &WorkReport) -> Waiting {
    let deps = report
        .context
        .prerequisites
        .iter()
        .copied()
        .chain(report.segment_root_lookup.iter().map(|l| l.work_package_hash))
        .collect();
    (report.clone(), deps)
}

fn from_record(record: &ReadyRecord) -> Waiting {
    (record.report.clone(), record.dependencies.iter().copied().collect())
}

fn to_record((report, deps): Waiting) -> ReadyRecord {
    ReadyRecord { report, dependencies: deps.into_iter().collect() }
}

/// `(W^!, W^Q)`: the reports to accumulate at once and those to queue, the latter edited by what
/// ξ already holds.
fn partition(available: &[WorkReport], accumulated: &AccumulatedQueue) -> (Vec<WorkReport>, Vec<Waiting>) {
    let history: BTreeSet<WorkPackageHash> = accumulated.0.iter().flatten().copied().collect();
    let (now, queued): (Vec<&WorkReport>, Vec<&WorkReport>) = available
        .iter()
        .partition(|r| r.context.prerequisites.is_empty() && r.segment_root_lookup.is_empty());
    let now = now.into_iter().cloned().collect();
    let queued = edit(queued.into_iter().map(dependencies).collect(), &history);
    (now, queued)
}

/// `W*` from the partition and the ready queue, at epoch slot `m`.
fn accumulatable(now: &[WorkReport], queued: &[Waiting], ready: &ReadyQueue, m: usize) -> Vec<WorkReport> {
    let m = m.min(ready.0.len());
    let waiting: Vec<Waiting> = ready.0[m..]
        .iter()
        .chain(&ready.0[..m])
        .flatten()
        .map(from_record)
        .chain(queued.iter().cloned())
        .collect();
    let q = edit(waiting, &package_hashes(now));
    let mut out = now.to_vec();
    out.extend(release(q));
    out
}

/// What one round of accumulation gives: `(o', t', b, u)` and the logs.
struct Round {
    state: PartialState,
    transfers: Vec<DeferredTransfer>,
    outputs: BTreeSet<(ServiceId, Hash)>,
    gas_used: Vec<(ServiceId, Gas)>,
    logs: Vec<(ServiceId, LogMessage)>,
}

/// `R(o, a, b)`: the manager's choice if it changed it, else the holder's.
fn choose<T: PartialEq + Clone>(original: &T, manager: &T, holder: &T) -> T {
    if manager == original {
        holder.clone()
    } else {
        manager.clone()
    }
}

/// The context of one block's accumulation.
struct Block<'a> {
    spec: &'a ChainSpec,
    slot: TimeSlot,
    entropy: &'a Hash,
    cache: &'a ProgramCache,
}

impl Block<'_> {
    /// `Δ1(o, t, r, f, s)`: one service's inputs and gas, accumulated with Ψ_A.
    fn single(
        &self,
        state: &PartialState,
        transfers: &[DeferredTransfer],
        reports: &[WorkReport],
        free: &BTreeMap<ServiceId, Gas>,
        service: ServiceId,
    ) -> AccumulateOutput {
        let mut gas = free.get(&service).copied().unwrap_or(0);
        let mut inputs = Vec::new();
        for t in transfers.iter().filter(|t| t.dest == service) {
            gas = gas.saturating_add(t.gas);
            inputs.push(AccumulationInput::Transfer(t.clone()));
        }
        for report in reports {
            for digest in report.results.iter().filter(|d| d.service_id == service) {
                gas = gas.saturating_add(digest.accumulate_gas);
                inputs.push(AccumulationInput::Operand(OperandTuple {
                    package_hash: report.package_spec.hash,
                    segment_root: report.package_spec.exports_root,
                    authorizer_hash: report.authorizer_hash,
                    payload_hash: digest.payload_hash,
                    gas_limit: digest.accumulate_gas,
                    result: digest.result.clone(),
                    auth_trace: report.auth_output.clone(),
                }));
            }
        }
        invoke(self.spec, state, self.slot, service, gas, &inputs, self.entropy, Some(self.cache))
    }

    /// `Δ*(o, t, r, f)`.
    fn parallel(
        &self,
        mut state: PartialState,
        transfers: &[DeferredTransfer],
        reports: &[WorkReport],
        free: &BTreeMap<ServiceId, Gas>,
    ) -> Result<Round, AccumulateError> {
        let services: BTreeSet<ServiceId> = reports
            .iter()
            .flat_map(|r| r.results.iter().map(|d| d.service_id))
            .chain(free.keys().copied())
            .chain(transfers.iter().map(|t| t.dest))
            .collect();
        let services: Vec<ServiceId> = services.into_iter().collect();
        let results: Vec<AccumulateOutput> =
            services.par_iter().map(|&s| self.single(&state, transfers, reports, free, s)).collect();
        let by_service: BTreeMap<ServiceId, &AccumulateOutput> =
            services.iter().copied().zip(results.iter()).collect();

        // The privileged services' post-states. A privileged service that did not accumulate in
        // this round would run with no gas and no inputs, which changes nothing: its post-state is
        // the round's starting state.
        let privileges = &state.privileges;
        let post = |s: ServiceId| by_service.get(&s).map(|o| &o.changes);
        let manager = post(privileges.bless);
        let manager_privileges = manager.and_then(|c| c.privileges.as_deref()).unwrap_or(privileges);
        let holder_privileges =
            |s: ServiceId| post(s).and_then(|c| c.privileges.as_deref()).unwrap_or(privileges);
        let mut next = Privileges {
            bless: manager_privileges.bless,
            always_acc: manager_privileges.always_acc.clone(),
            assign: privileges.assign.clone(),
            designate: choose(
                &privileges.designate,
                &manager_privileges.designate,
                &holder_privileges(privileges.designate).designate,
            ),
            register: choose(
                &privileges.register,
                &manager_privileges.register,
                &holder_privileges(privileges.register).register,
            ),
        };
        for (core, original) in privileges.assign.iter().enumerate() {
            let from_manager = manager_privileges.assign.get(core).unwrap_or(original);
            let from_holder = holder_privileges(*original).assign.get(core).unwrap_or(original);
            next.assign[core] = choose(original, from_manager, from_holder);
        }
        let staging = post(privileges.designate).and_then(|c| c.staging.clone());
        let queues: Vec<Option<Arc<AuthQueues>>> =
            privileges.assign.iter().map(|a| post(*a).and_then(|c| c.auth_queues.clone())).collect();

        let provisions: Vec<Preimage> = by_service
            .values()
            .flat_map(|o| o.provisions.iter())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .map(|(s, blob)| Preimage { requester: *s, blob: blob.clone() })
            .collect();
        let outputs = by_service.iter().filter_map(|(&s, o)| o.yield_hash.map(|h| (s, h))).collect();
        let gas_used = by_service.iter().map(|(&s, o)| (s, o.gas_used)).collect();

        // n and m: each service's own account and the accounts it created; the accounts it removed.
        // The outputs are consumed here, so that each changed account is moved, not copied.
        let mut created: BTreeMap<ServiceId, Arc<ServiceAccount>> = BTreeMap::new();
        let mut removed: BTreeSet<ServiceId> = BTreeSet::new();
        let mut round_transfers = Vec::new();
        let mut logs = Vec::new();
        for (&s, output) in services.iter().zip(results) {
            round_transfers.extend(output.transfers);
            logs.extend(output.logs.into_iter().map(|l| (s, l)));
            for (id, account) in output.changes.accounts {
                let existing = state.accounts.contains_key(&id);
                if let Some(account) = account {
                    // Changes to another existing service are not the changer's to make.
                    let own = id == s || !existing;
                    if own && created.insert(id, account).is_some() {
                        return Err(AccumulateError::ServiceIndexCollision(id));
                    }
                } else if existing {
                    removed.insert(id);
                }
            }
        }

        // ι', φ': the delegator's and each core's assigner's.
        state.privileges = next;
        if let Some(staging) = staging {
            state.staging = Arc::try_unwrap(staging).unwrap_or_else(|shared| ValidatorsData::clone(&shared));
        }
        for (core, queues) in queues.iter().enumerate() {
            if let (Some(queues), Some(slot)) = (queues, state.auth_queues.0.get_mut(core)) {
                if let Some(queue) = queues.0.get(core) {
                    *slot = *queue;
                }
            }
        }
        // d' = I((d ∪ n) ∖ m, provisions).
        for (id, account) in created {
            let account = Arc::try_unwrap(account).unwrap_or_else(|shared| ServiceAccount::clone(&shared));
            state.accounts.insert(id, account);
        }
        for id in &removed {
            state.accounts.remove(id);
        }
        preimages::integrate(&mut state.accounts, &provisions, self.slot);
        Ok(Round { state, transfers: round_transfers, outputs, gas_used, logs })
    }

    /// `Δ+(g, t, r, o, f)`: rounds of Δ* until no reports fit the gas and no transfers are left.
    /// Returns `(n, o', b, u)` and the logs.
    #[allow(clippy::type_complexity)]
    fn outer(
        &self,
        mut gas: Gas,
        mut transfers: Vec<DeferredTransfer>,
        reports: &[WorkReport],
        mut state: PartialState,
        free: &BTreeMap<ServiceId, Gas>,
    ) -> Result<
        (
            usize,
            PartialState,
            BTreeSet<(ServiceId, Hash)>,
            Vec<(ServiceId, Gas)>,
            Vec<(ServiceId, LogMessage)>,
        ),
        AccumulateError,
    > {
        let mut free = free.clone();
        let mut done = 0;
        let mut outputs = BTreeSet::new();
        let mut used = Vec::new();
        let mut logs = Vec::new();
        loop {
            let remaining = &reports[done..];
            // i: the longest prefix whose digests' gas fits.
            let mut total: Gas = 0;
            let mut fit = 0;
            for report in remaining {
                let sum = report.results.iter().fold(0u64, |s, d| s.saturating_add(d.accumulate_gas));
                match total.checked_add(sum) {
                    Some(t) if t <= gas => {
                        total = t;
                        fit += 1;
                    }
                    _ => break,
                }
            }
            if transfers.len() + fit + free.len() == 0 {
                return Ok((done, state, outputs, used, logs));
            }
            let transfer_gas = transfers.iter().fold(0u64, |s, t| s.saturating_add(t.gas));
            let round = self.parallel(state, &transfers, &remaining[..fit], &free)?;
            let round_gas = round.gas_used.iter().fold(0u64, |s, (_, u)| s.saturating_add(*u));
            gas = gas.saturating_add(transfer_gas).saturating_sub(round_gas);
            done += fit;
            state = round.state;
            transfers = round.transfers;
            outputs.extend(round.outputs);
            used.extend(round.gas_used);
            logs.extend(round.logs);
            free.clear();
        }
    }
}

/// Accumulates the block: `W*` from ω, ξ and the available reports, Δ+ over it with the block's
/// gas, then the posterior queues, outputs and statistics (GP 0.7.2 §12.1–12.3). `δ‡` is before
/// preimage integration, which [`preimages::integrate`] does next.
///
/// The prior state is taken by value so that δ is not copied: accumulation changes it in place. An
/// error means the block is invalid and what was computed is dropped; a caller that must go back
/// to the prior state keeps its own copy (or snapshot) of it.
pub fn apply(
    spec: &ChainSpec,
    prior: AccumulationState,
    input: &AccumulateInput<'_>,
    cache: &ProgramCache,
) -> Result<Accumulated, AccumulateError> {
    let AccumulationState {
        accounts,
        staging,
        auth_queues,
        privileges,
        ready: prior_ready,
        accumulated: history,
    } = prior;
    let epoch = spec.epoch_length as usize;
    let m = input.slot as usize % epoch.max(1);
    let (now, queued) = partition(input.available, &history);
    let reports = accumulatable(&now, &queued, &prior_ready, m);

    // g = max(G_T, G_A·C + Σ χ_Z).
    let free = privileges.always_acc.clone();
    let free_total = free.values().fold(0u64, |s, g| s.saturating_add(*g));
    let gas = spec
        .max_block_gas
        .max(spec.max_accumulate_gas.saturating_mul(spec.cores_count.into()).saturating_add(free_total));
    let state = PartialState { accounts, staging, auth_queues, privileges };
    let block = Block { spec, slot: input.slot, entropy: input.entropy, cache };
    let (count, state, outputs, used, logs) = block.outer(gas, Vec::new(), &reports, state, &free)?;
    let count = count.min(reports.len());

    // S: gas over every round, digests of the accumulated reports.
    let mut statistics: BTreeMap<ServiceId, ServiceAccumulation> = BTreeMap::new();
    for (s, u) in used {
        let entry = statistics.entry(s).or_default();
        entry.gas_used = entry.gas_used.saturating_add(u);
    }
    for digest in reports[..count].iter().flat_map(|r| r.results.iter()) {
        let entry = statistics.entry(digest.service_id).or_default();
        entry.count = entry.count.saturating_add(1);
    }
    statistics.retain(|_, s| s.gas_used != 0 || s.count != 0);

    // δ‡: the accumulated services record the slot.
    let mut accounts = state.accounts;
    for s in statistics.keys() {
        if let Some(account) = accounts.get_mut(s) {
            account.info.last_accumulation_slot = input.slot;
        }
    }

    // ξ' and ω'.
    let newest = package_hashes(&reports[..count]);
    let mut accumulated: Vec<Vec<WorkPackageHash>> = history.0.into_iter().skip(1).collect();
    accumulated.push(newest.iter().copied().collect());
    let elapsed = input.slot.saturating_sub(input.prior_slot) as usize;
    let mut ready = vec![Vec::new(); epoch];
    for i in 0..epoch {
        let at = (m + epoch - i) % epoch;
        ready[at] = if i == 0 {
            edit(queued.clone(), &newest).into_iter().map(to_record).collect()
        } else if i < elapsed {
            Vec::new()
        } else {
            let prior_entries =
                prior_ready.0.get(at).map(|e| e.iter().map(from_record).collect()).unwrap_or_default();
            edit(prior_entries, &newest).into_iter().map(to_record).collect()
        };
    }

    Ok(Accumulated {
        state: AccumulationState {
            accounts,
            staging: state.staging,
            auth_queues: state.auth_queues,
            privileges: state.privileges,
            ready: ReadyQueue(ready),
            accumulated: AccumulatedQueue(accumulated),
        },
        outputs: outputs.into_iter().map(|(service, hash)| AccumulationOutput { service, hash }).collect(),
        statistics,
        reports_accumulated: count,
        logs,
    })
}

/// Adds `S` to the block's service statistics (`a`, GP 0.7.2 §13.2).
pub fn add_statistics(
    services: &mut ServicesStatistics,
    statistics: &BTreeMap<ServiceId, ServiceAccumulation>,
) {
    for (s, stats) in statistics {
        let record = services.entry(*s).or_default();
        record.accumulate_count = record.accumulate_count.saturating_add(stats.count);
        record.accumulate_gas_used = record.accumulate_gas_used.saturating_add(stats.gas_used);
    }
}
