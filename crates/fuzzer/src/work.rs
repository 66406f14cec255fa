//! The work workload (GP 0.7.2 §11, §12.4, §14): work packages for the dev chain's own services,
//! refined for real (`orrery_work_report::compute_work_report`: Ψ_I by the dev authorizer, Ψ_R of
//! each item's service code in the PVM), guaranteed by two or three of the core's guarantors,
//! assured by the validators in later blocks, and accumulated by import once available.
//!
//! The genesis holds the manager (`services/manager`) as service 0 with every privilege, as a dev
//! chain does ([`orrery_chain_spec::dev::install_services`]). The items a package carries, chosen
//! at random from what the head state allows:
//! - the manager deploys `kv` (`services/kv`), or a copy of itself (services created, §B.7 `new`,
//!   with their code provided in the same accumulation);
//! - a copy of the manager upgrades itself to `kv`'s code (§B.7 `upgrade`);
//! - a `kv` service writes and removes storage (§B.7 `write`);
//! - the manager funds a service (§B.7 `transfer`, the memo gas sometimes below the receiver's
//!   minimum, so that the transfer fails and is logged).
//!
//! The generator knows the services only from the head state (code hashes), never from a model of
//! its own: whatever accumulation made of an earlier item, the next package is valid.
//!
//! Assurances: every block, for the cores with a report pending in the parent's `ρ`, usually a
//! supermajority of `κ'` assures all of them (the reports become available and are accumulated),
//! otherwise a random minority assures random ones (the reports wait, and time out after `U`).

use std::collections::HashMap;

use orrery_chain_spec::dev::{DevServices, MANAGER_SERVICE};
use orrery_chain_spec::package::{manager_deploy, manager_fund, work_package, Call, PackageAuthorizer};
use orrery_codec::{BitVec, Encode};
use orrery_crypto::{blake2b_256, blake2b_256_concat, context};
use orrery_import::{ChainState, ImportContext};
use orrery_keys::ValidatorKeys;
use orrery_state::{State, ValidatorsData};
use orrery_stf::assignments::GuarantorAssignments;
use orrery_types::{
    AvailAssurance, CoreIndex, HeaderHash, RefineContext, ReportGuarantee, ServiceId, TimeSlot,
    ValidatorSignature,
};
use orrery_work_report::{compute_work_report, PackageData};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// `kv`'s code, which the manager deploys.
const KV_CODE: &[u8] = include_bytes!("../../../services/kv/kv.jam");

/// Refine gas for each item: far above what the manager or `kv` use, far below `G_R`.
const REFINE_GAS: u64 = 20_000_000;

/// The gas minimums of every service the workload deploys (`g`, `m`).
const MIN_ITEM_GAS: u64 = 1_000;
const MIN_MEMO_GAS: u64 = 1_000;

/// At most this much code in one package's results: two deployments of the manager's size would
/// pass `W_R` (48 KiB), which is a valid report (the item's result is `Oversize`) but no workload.
const CODE_BUDGET: usize = 40 * 1024;

/// At most this many services of each kind are deployed: enough to spread storage and transfers,
/// few enough that a long run does not grow `δ` without bound.
const MAX_DEPLOYED: usize = 6;

/// What the work workload has made so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkCounts {
    /// Guarantees put in blocks (one report each).
    pub reports: u64,
    pub items: u64,
    pub assurances: u64,
    /// Items deploying `kv` or a copy of the manager.
    pub deploys: u64,
    /// Items upgrading a copy of the manager to `kv`.
    pub upgrades: u64,
    /// Items writing `kv` storage.
    pub writes: u64,
    /// Items funding a service.
    pub funds: u64,
}

/// One kind of item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Item {
    DeployKv,
    DeployManager,
    UpgradeToKv(ServiceId),
    Write(ServiceId),
    Fund(ServiceId),
}

/// The workload's code and what it has made.
#[derive(Debug, Clone)]
pub struct Workload {
    authorizer: PackageAuthorizer,
    manager_code: &'static [u8],
    manager_hash: [u8; 32],
    kv_hash: [u8; 32],
    /// Packages made so far: added to the first item's refine gas, so that no two packages are
    /// the same (a package may be reported once, GP 0.7.2 eq. 11.39) whatever their items.
    packages: u64,
    pub counts: WorkCounts,
}

impl Default for Workload {
    fn default() -> Self {
        Self::new()
    }
}

impl Workload {
    pub fn new() -> Self {
        let services = DevServices::ORRERY;
        Self {
            authorizer: PackageAuthorizer::dev(&services),
            manager_code: services.manager,
            manager_hash: blake2b_256(services.manager),
            kv_hash: blake2b_256(KV_CODE),
            packages: 0,
            counts: WorkCounts::default(),
        }
    }

    /// The services of `state` running `code_hash`, the manager itself left out.
    fn running(state: &State, code_hash: &[u8; 32]) -> Vec<ServiceId> {
        state
            .accounts
            .iter()
            .filter(|(&id, a)| id != MANAGER_SERVICE && a.info.code_hash == *code_hash)
            .map(|(&id, _)| id)
            .collect()
    }

    /// One to `max_items` items the head state allows.
    fn items(&self, rng: &mut ChaCha8Rng, state: &State, max_items: usize) -> Vec<Item> {
        let kv = Self::running(state, &self.kv_hash);
        let copies = Self::running(state, &self.manager_hash);
        let funded: Vec<ServiceId> =
            state.accounts.keys().copied().filter(|&id| id != MANAGER_SERVICE).collect();
        let mut code = 0usize;
        let mut items = Vec::new();
        for _ in 0..rng.gen_range(1..=max_items.max(1)) {
            let mut menu: Vec<(Item, u32)> = Vec::new();
            if kv.len() < MAX_DEPLOYED && code + KV_CODE.len() <= CODE_BUDGET {
                menu.push((Item::DeployKv, 2));
            }
            if copies.len() < MAX_DEPLOYED && code + self.manager_code.len() <= CODE_BUDGET {
                menu.push((Item::DeployManager, 1));
            }
            if let Some(&copy) = copies.choose(rng) {
                if code + KV_CODE.len() <= CODE_BUDGET {
                    menu.push((Item::UpgradeToKv(copy), 2));
                }
            }
            if let Some(&service) = kv.choose(rng) {
                menu.push((Item::Write(service), 5));
            }
            if let Some(&service) = funded.choose(rng) {
                menu.push((Item::Fund(service), 2));
            }
            let Ok(&(item, _)) = menu.choose_weighted(rng, |(_, w)| *w) else { break };
            code += match item {
                Item::DeployKv | Item::UpgradeToKv(_) => KV_CODE.len(),
                Item::DeployManager => self.manager_code.len(),
                Item::Write(_) | Item::Fund(_) => 0,
            };
            items.push(item);
        }
        items
    }

    /// The call making `item`, its accumulate gas `gas`.
    fn call(&self, rng: &mut ChaCha8Rng, state: &State, item: Item, gas: u64) -> Call {
        let manager = |payload: Vec<u8>| Call {
            service: MANAGER_SERVICE,
            code_hash: state.accounts.get(&MANAGER_SERVICE).map(|a| a.info.code_hash).unwrap_or_default(),
            payload,
            refine_gas: REFINE_GAS,
            accumulate_gas: gas,
        };
        match item {
            Item::DeployKv => manager(manager_deploy(
                MIN_ITEM_GAS,
                MIN_MEMO_GAS,
                rng.gen_range(1_000_000..10_000_000),
                KV_CODE,
            )),
            Item::DeployManager => {
                let endowment = rng.gen_range(1_000_000..10_000_000);
                manager(manager_deploy(MIN_ITEM_GAS, MIN_MEMO_GAS, endowment, self.manager_code))
            }
            Item::UpgradeToKv(copy) => {
                let mut payload = vec![2];
                payload.extend_from_slice(&MIN_ITEM_GAS.to_le_bytes());
                payload.extend_from_slice(&MIN_MEMO_GAS.to_le_bytes());
                payload.extend_from_slice(KV_CODE);
                Call {
                    service: copy,
                    code_hash: self.manager_hash,
                    payload,
                    refine_gas: REFINE_GAS,
                    accumulate_gas: gas,
                }
            }
            Item::Write(service) => {
                let mut payload = Vec::new();
                for _ in 0..rng.gen_range(1..=4) {
                    // Few keys, so that writes overwrite and removals find something.
                    payload.extend_from_slice(format!("k{}=", rng.gen_range(0..16)).as_bytes());
                    if rng.gen_bool(0.8) {
                        let len = rng.gen_range(1..48);
                        payload.extend((0..len).map(|_| rng.gen_range(b'a'..=b'z')));
                    }
                    payload.push(b'\n');
                }
                Call {
                    service,
                    code_hash: self.kv_hash,
                    payload,
                    refine_gas: REFINE_GAS,
                    accumulate_gas: gas,
                }
            }
            Item::Fund(service) => {
                // Now and then below the receiver's memo minimum: a failed transfer, logged.
                let memo_gas = if rng.gen_bool(0.1) { MIN_MEMO_GAS / 2 } else { MIN_MEMO_GAS };
                manager(manager_fund(service, rng.gen_range(1..1_000_000), memo_gas))
            }
        }
    }

    fn count(&mut self, items: &[Item]) {
        let c = &mut self.counts;
        c.reports += 1;
        c.items += items.len() as u64;
        for item in items {
            match item {
                Item::DeployKv | Item::DeployManager => c.deploys += 1,
                Item::UpgradeToKv(_) => c.upgrades += 1,
                Item::Write(_) => c.writes += 1,
                Item::Fund(_) => c.funds += 1,
            }
        }
    }

    /// Guarantees for the block at `slot` on `head`: a report on some of the cores with nothing
    /// pending, each signed by two or three of the core's guarantors in `slot`'s rotation (`M` of
    /// `entropy'`, `κ'`; GP 0.7.2 eq. 11.26), offenders left out. Each package's anchor is a block of
    /// the recent history `β` and its lookup anchor one of `ancestors` (the head's latest, itself
    /// first) within `L` slots (eqs. 11.33–11.35), so a target must keep both.
    #[allow(clippy::too_many_arguments)]
    pub fn guarantees(
        &mut self,
        ctx: &ImportContext,
        rng: &mut ChaCha8Rng,
        keys: &[ValidatorKeys],
        by_ed25519: &HashMap<[u8; 32], usize>,
        ancestors: &[(HeaderHash, TimeSlot)],
        head: &ChainState,
        slot: TimeSlot,
        posterior: &orrery_stf::safrole::SafroleOutput,
        max_items: usize,
        max_reports: usize,
    ) -> Vec<ReportGuarantee> {
        let spec = &ctx.spec;
        let prior = head.state();
        let assignments = GuarantorAssignments::current(spec, &posterior.entropy, slot, &posterior.active);
        let history = &prior.recent_blocks.history;
        let lookup_anchors: Vec<(HeaderHash, TimeSlot)> = ancestors
            .iter()
            .filter(|(_, t)| t.saturating_add(spec.max_lookup_anchor_age) >= slot)
            .copied()
            .collect();
        if history.is_empty() || lookup_anchors.is_empty() {
            return Vec::new();
        }
        let free: Vec<CoreIndex> = (0..spec.cores_count)
            .filter(|&c| prior.pending_reports.0.get(usize::from(c)).is_some_and(|r| r.is_none()))
            .collect();
        let n = rng.gen_range(1..=max_reports.max(1)).min(free.len());
        let mut cores: Vec<CoreIndex> = free.choose_multiple(rng, n).copied().collect();
        // Ascending, as the extrinsic orders them (eq. 11.24).
        cores.sort_unstable();
        let mut out = Vec::new();
        for core in cores {
            // The core's guarantors whose keys we hold and who are not offenders.
            let mut guarantors: Vec<(u16, usize)> = (0..assignments.cores.len())
                .filter(|&v| assignments.cores[v] == core)
                .filter(|&v| !prior.disputes.offenders.contains(&assignments.keys[v]))
                .filter_map(|v| Some((u16::try_from(v).ok()?, *by_ed25519.get(&assignments.keys[v])?)))
                .collect();
            if guarantors.len() < 2 {
                continue;
            }
            guarantors.shuffle(rng);
            guarantors.truncate(rng.gen_range(2..=guarantors.len().min(3)));
            guarantors.sort_unstable();

            let items = self.items(rng, prior, max_items);
            if items.is_empty() {
                continue;
            }
            // The items' accumulate gas sums to less than `G_A` (GP 0.7.2 eq. 14.6).
            let gas = spec.max_accumulate_gas.saturating_sub(1) / items.len() as u64;
            let mut calls: Vec<Call> = items.iter().map(|&item| self.call(rng, prior, item, gas)).collect();
            self.packages += 1;
            calls[0].refine_gas += self.packages;
            // The head's entry in `β` has no state root yet: the block being made brings it.
            let anchor = rng.gen_range(0..history.len());
            let at = &history[anchor];
            let state_root = if anchor + 1 == history.len() { head.root() } else { at.state_root };
            // Mostly the head, as a builder would; an older one makes a service deployed since
            // invisible to refine's historical lookup (its result `BadCode`), which is valid too.
            let (lookup_anchor, lookup_anchor_slot) = match rng.gen_bool(0.7) {
                true => lookup_anchors[0],
                false => *lookup_anchors.choose(rng).unwrap_or(&lookup_anchors[0]),
            };
            let context = RefineContext {
                anchor: at.header_hash,
                state_root,
                beefy_root: at.beefy_root,
                lookup_anchor,
                lookup_anchor_slot,
                prerequisites: Vec::new(),
            };
            let package = work_package(&self.authorizer, context, &calls);
            let n = package.items.len();
            let data = PackageData {
                imports: vec![Vec::new(); n],
                justifications: vec![Vec::new(); n],
                extrinsics: vec![Vec::new(); n],
                segment_roots: Default::default(),
            };
            // A package the authorizer or the limits refuse is no report: the workload's own bug,
            // but not one to stop the chain for.
            let computed = match compute_work_report(
                spec,
                &package,
                core,
                &prior.accounts,
                &data,
                Some(&ctx.programs),
            ) {
                Ok(c) => c,
                Err(_) => continue,
            };
            let report_hash = blake2b_256(&computed.report.encode());
            let message = [context::GUARANTEE, report_hash.as_slice()].concat();
            let signatures = guarantors
                .iter()
                .map(|&(validator_index, key)| ValidatorSignature {
                    validator_index,
                    signature: keys[key].ed25519_sign(&message),
                })
                .collect();
            self.count(&items);
            out.push(ReportGuarantee { report: computed.report, slot, signatures });
        }
        out
    }

    /// Assurances anchored on the parent `head_hash` for the cores with a report pending in
    /// `prior`'s `ρ`, by validators of `active` (`κ'`) whose keys we hold (GP 0.7.2 eqs. 11.10–11.15).
    pub fn assurances(
        &mut self,
        rng: &mut ChaCha8Rng,
        keys: &[ValidatorKeys],
        by_ed25519: &HashMap<[u8; 32], usize>,
        head_hash: HeaderHash,
        prior: &State,
        active: &ValidatorsData,
    ) -> Vec<AvailAssurance> {
        let pending: Vec<usize> =
            prior.pending_reports.0.iter().enumerate().filter(|(_, r)| r.is_some()).map(|(c, _)| c).collect();
        // Not every block: on full each assurance is one of about 700 signatures to make and check.
        if pending.is_empty() || rng.gen_bool(0.3) {
            return Vec::new();
        }
        let ours: Vec<(u16, usize)> = active
            .iter()
            .enumerate()
            .filter_map(|(v, k)| Some((u16::try_from(v).ok()?, *by_ed25519.get(&k.ed25519)?)))
            .collect();
        let cores = prior.pending_reports.0.len();
        let supermajority = (2 * active.len()) / 3 + 1;
        // Usually enough for availability; otherwise a minority with random bits.
        let (count, all_bits) = if rng.gen_bool(0.85) && ours.len() >= supermajority {
            (rng.gen_range(supermajority..=ours.len()), true)
        } else {
            (rng.gen_range(0..=ours.len().min(supermajority.saturating_sub(1))), false)
        };
        let mut assurers: Vec<(u16, usize)> = ours.choose_multiple(rng, count).copied().collect();
        assurers.sort_unstable();
        let mut out = Vec::with_capacity(assurers.len());
        for (validator_index, key) in assurers {
            let mut bitfield = BitVec::zeros(cores);
            for &c in &pending {
                bitfield.set(c, all_bits || rng.gen_bool(0.5));
            }
            let message =
                [context::AVAILABLE, &blake2b_256_concat(&[&head_hash, bitfield.as_bytes()])].concat();
            out.push(AvailAssurance {
                anchor: head_hash,
                bitfield,
                validator_index,
                signature: keys[key].ed25519_sign(&message),
            });
        }
        self.counts.assurances += out.len() as u64;
        out
    }
}
