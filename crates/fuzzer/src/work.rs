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
//!   minimum, so that the transfer fails and is logged);
//! - a copy of the manager retires (forgets its code, points its code hash at the manager) and,
//!   more than `D` slots later, the manager ejects it (§B.7 `forget`, `upgrade`, `eject`);
//! - the manager solicits a blob, which the generator provides in the next block's preimage
//!   extrinsic, and later forgets it (§B.7 `solicit`, `forget`; §12.4);
//! - the manager solicits a key set of `V` validators drawn from the generator's keys, and once
//!   it is provided designates it as `ι` (§B.7 `designate`; the safrole lane's validator
//!   management). Which of these a lane uses is its [`WorkMix`].
//!
//! The generator knows the services only from the head state (code hashes), never from a model of
//! its own: whatever accumulation made of an earlier item, the next package is valid.
//!
//! Assurances: in seven blocks of ten, for the cores with a report pending in the parent's `ρ`,
//! usually a supermajority of the prior `κ` (eq. 11.13) assures all of them (the reports become available and are accumulated),
//! otherwise a random minority assures random ones (the reports wait, and time out after `U`).

use std::collections::HashMap;

use orrery_author::genesis::validator_data;
use orrery_chain_spec::dev::{DevServices, MANAGER_SERVICE};
use orrery_chain_spec::package::{
    manager_deploy, manager_designate, manager_eject, manager_forget, manager_fund, manager_retire,
    manager_solicit, work_package, Call, PackageAuthorizer,
};
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

/// What the work workload's packages do: services' work (deploy, upgrade, write, fund, retire
/// and eject), the manager's preimages (solicit, provided by the generator, forget), validator
/// sets (a key set solicited, provided, then designated).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkMix {
    pub services: bool,
    pub preimages: bool,
    pub validators: bool,
}

/// At most this many blobs solicited by the manager and not yet forgotten: the requests stay
/// few, and so does the generator's memory of them.
const MAX_BLOBS: usize = 16;

/// The work workload's settings (part of the generator's [`crate::Config`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WorkConfig {
    /// Chance that a block carries guarantees.
    pub ratio: f64,
    pub mix: WorkMix,
    /// The most work items in one package.
    pub max_items: usize,
    /// The most reports in one block (full has 341 cores; a block with a report on most of them
    /// takes about half a second to make and import, which a long lane cannot afford).
    pub max_reports: usize,
}

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
    /// Items soliciting a blob (a key set among them) for the manager.
    pub solicits: u64,
    /// Items forgetting one.
    pub forgets: u64,
    /// Items designating a solicited and provided key set as the next validators `ι`.
    pub designates: u64,
    /// Items retiring a copy of the manager.
    pub retires: u64,
    /// Items ejecting a retired copy.
    pub ejects: u64,
}

/// One kind of item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Item {
    DeployKv,
    DeployManager,
    UpgradeToKv(ServiceId),
    Write(ServiceId),
    Fund(ServiceId),
    /// A fresh blob, or a validator key set, for the manager to solicit.
    Solicit {
        keys: bool,
    },
    Forget([u8; 32], u32),
    Designate([u8; 32]),
    Retire(ServiceId),
    Eject(ServiceId),
}

/// Where a package is made: the head state, the slot of the block that will carry it, the keys
/// the generator holds (a key set is drawn from them) and the spec.
struct At<'a> {
    state: &'a State,
    slot: TimeSlot,
    keys: &'a [ValidatorKeys],
    spec: &'a orrery_types::ChainSpec,
}

/// `V` validators' keys (`V` × 336 octets, GP 0.7.2 eq. 6.8) drawn from `at.keys`, in random
/// order, none an offender: so that the keys the generator holds go in and out of the sets, and
/// an offender's place is taken by a fresh key.
fn key_set(rng: &mut ChaCha8Rng, at: &At<'_>) -> Vec<u8> {
    let offenders = &at.state.disputes.offenders;
    let mut fresh: Vec<&ValidatorKeys> =
        at.keys.iter().filter(|k| !offenders.contains(&k.ed25519_public())).collect();
    fresh.shuffle(rng);
    fresh.truncate(usize::from(at.spec.validators_count));
    fresh.into_iter().flat_map(|k| validator_data(k).encode()).collect()
}

/// What the head state allows the workload: read once a block, every core's package drawing
/// from it (a package made for one core changes no state the next one reads).
struct Allowed {
    kv: Vec<ServiceId>,
    /// Copies of the manager (upgradable to `kv`, retirable).
    copies: Vec<ServiceId>,
    ejectable: Vec<ServiceId>,
    /// Every service but the manager.
    funded: Vec<ServiceId>,
    /// The manager's requests for the blobs it solicited, in hash order: `(hash, length)`.
    requested: Vec<([u8; 32], u32)>,
    /// Solicited key sets the manager holds the preimage of.
    designable: Vec<[u8; 32]>,
}

/// The workload's code and what it has made.
#[derive(Debug, Clone)]
pub struct Workload {
    authorizer: PackageAuthorizer,
    manager_code: &'static [u8],
    manager_hash: [u8; 32],
    kv_hash: [u8; 32],
    /// Blobs the manager has been asked to solicit (by hash), so that the generator can provide
    /// them; the key sets among them.
    blobs: HashMap<[u8; 32], (Vec<u8>, TimeSlot)>,
    key_sets: std::collections::HashSet<[u8; 32]>,
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
            blobs: HashMap::new(),
            key_sets: Default::default(),
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

    /// Forgets blobs whose solicit never reached the state (its report not accumulated) or whose
    /// request is gone (forgotten, or expunged): a few dozen slots after they were made.
    fn prune(&mut self, state: &State, slot: TimeSlot) {
        let stale: Vec<[u8; 32]> = self
            .blobs
            .iter()
            .filter(|(hash, (_, made))| made.saturating_add(48) < slot && self.request(state, hash).is_none())
            .map(|(hash, _)| *hash)
            .collect();
        for hash in stale {
            self.blobs.remove(&hash);
            self.key_sets.remove(&hash);
        }
    }

    /// The manager's request for `hash` among the blobs it solicited: `(length, slots)`.
    fn request(&self, state: &State, hash: &[u8; 32]) -> Option<(u32, Vec<TimeSlot>)> {
        let len = u32::try_from(self.blobs.get(hash)?.0.len()).ok()?;
        let slots = state.accounts.get(&MANAGER_SERVICE)?.request(hash, len)?.ok()?;
        Some((len, slots))
    }

    /// Retired copies that `slot` may eject: code hash `E32(0)` (the manager's id), their own code
    /// request forgotten more than `D` slots ago (`[x, y]`, `y < t − D`; GP 0.7.2 §B.7 eject).
    fn ejectable(&self, state: &State, slot: TimeSlot, expunge: u32) -> Vec<ServiceId> {
        let len = self.manager_code.len() as u32;
        state
            .accounts
            .iter()
            .filter(|(_, a)| a.info.code_hash == [0; 32])
            .filter(|(_, a)| match a.request(&self.manager_hash, len) {
                Some(Ok(slots)) => slots.len() == 2 && slots[1].saturating_add(expunge) < slot,
                _ => false,
            })
            .map(|(&id, _)| id)
            .collect()
    }

    /// The blobs the manager waits for (requested, not provided): for the preimage extrinsic.
    pub fn wanted(&self, state: &State) -> Vec<(ServiceId, Vec<u8>)> {
        let mut out: Vec<(ServiceId, Vec<u8>)> = self
            .blobs
            .iter()
            .filter(|(hash, _)| self.request(state, hash).is_some_and(|(_, slots)| slots.is_empty()))
            .map(|(_, (blob, _))| (MANAGER_SERVICE, blob.clone()))
            .collect();
        // The map's order is not the seed's: the generator must be deterministic.
        out.sort();
        out
    }

    /// What `state` allows the workload for a block at `slot`.
    fn allowed(&self, state: &State, slot: TimeSlot, expunge: u32) -> Allowed {
        let mut known: Vec<[u8; 32]> = self.blobs.keys().copied().collect();
        known.sort_unstable();
        Allowed {
            kv: Self::running(state, &self.kv_hash),
            copies: Self::running(state, &self.manager_hash),
            ejectable: self.ejectable(state, slot, expunge),
            funded: state.accounts.keys().copied().filter(|&id| id != MANAGER_SERVICE).collect(),
            requested: known
                .iter()
                .filter_map(|h| self.request(state, h).map(|(len, _)| (*h, len)))
                .collect(),
            designable: known
                .iter()
                .filter(|h| self.key_sets.contains(*h))
                .filter(|h| state.accounts.get(&MANAGER_SERVICE).is_some_and(|a| a.preimage(h).is_some()))
                .copied()
                .collect(),
        }
    }

    /// One to `max_items` items of what `allowed` allows.
    fn items(&self, rng: &mut ChaCha8Rng, allowed: &Allowed, mix: WorkMix, max_items: usize) -> Vec<Item> {
        let mut code = 0usize;
        let mut items = Vec::new();
        for _ in 0..rng.gen_range(1..=max_items.max(1)) {
            let mut menu: Vec<(Item, u32)> = Vec::new();
            if mix.preimages || mix.validators {
                if self.blobs.len() < MAX_BLOBS {
                    menu.push((
                        Item::Solicit { keys: mix.validators && (!mix.preimages || rng.gen_bool(0.5)) },
                        2,
                    ));
                }
                if let Some(&(hash, len)) = allowed.requested.choose(rng) {
                    menu.push((Item::Forget(hash, len), 1));
                }
            }
            if mix.validators {
                if let Some(&hash) = allowed.designable.choose(rng) {
                    menu.push((Item::Designate(hash), 1));
                }
            }
            if mix.services {
                self.service_items(rng, &mut menu, allowed, code);
            }
            let Ok(&(item, _)) = menu.choose_weighted(rng, |(_, w)| *w) else { break };
            code += match item {
                Item::DeployKv | Item::UpgradeToKv(_) => KV_CODE.len(),
                Item::DeployManager => self.manager_code.len(),
                _ => 0,
            };
            items.push(item);
        }
        items
    }

    /// The services' items the head state allows, into `menu` with their weights.
    fn service_items(&self, rng: &mut ChaCha8Rng, menu: &mut Vec<(Item, u32)>, s: &Allowed, code: usize) {
        if s.kv.len() < MAX_DEPLOYED && code + KV_CODE.len() <= CODE_BUDGET {
            menu.push((Item::DeployKv, 2));
        }
        if s.copies.len() < MAX_DEPLOYED && code + self.manager_code.len() <= CODE_BUDGET {
            menu.push((Item::DeployManager, 1));
        }
        if let Some(&copy) = s.copies.choose(rng) {
            // Upgrades add `kv` services too: bounded as well, or a long run's `δ` would grow for
            // ever (a `kv` service is never retired; its code cannot).
            if code + KV_CODE.len() <= CODE_BUDGET && s.kv.len() < 2 * MAX_DEPLOYED {
                menu.push((Item::UpgradeToKv(copy), 2));
            }
            menu.push((Item::Retire(copy), 1));
        }
        if let Some(&service) = s.kv.choose(rng) {
            menu.push((Item::Write(service), 5));
        }
        if let Some(&service) = s.funded.choose(rng) {
            menu.push((Item::Fund(service), 2));
        }
        if let Some(&service) = s.ejectable.choose(rng) {
            menu.push((Item::Eject(service), 3));
        }
    }

    /// The call making `item`, its accumulate gas `gas`.
    fn call(&mut self, rng: &mut ChaCha8Rng, at: &At<'_>, item: Item, gas: u64) -> Call {
        let state = at.state;
        let manager = |payload: Vec<u8>| Call {
            service: MANAGER_SERVICE,
            code_hash: state.accounts.get(&MANAGER_SERVICE).map(|a| a.info.code_hash).unwrap_or_default(),
            payload,
            refine_gas: REFINE_GAS,
            accumulate_gas: gas,
        };
        let copy = |service: ServiceId, payload: Vec<u8>| Call {
            service,
            code_hash: self.manager_hash,
            payload,
            refine_gas: REFINE_GAS,
            accumulate_gas: gas,
        };
        match item {
            Item::Solicit { keys } => {
                let blob = if keys {
                    key_set(rng, at)
                } else {
                    (0..rng.gen_range(1..=512)).map(|_| rng.gen()).collect()
                };
                let (hash, len) = (blake2b_256(&blob), blob.len() as u32);
                if keys {
                    self.key_sets.insert(hash);
                }
                self.blobs.insert(hash, (blob, at.slot));
                manager(manager_solicit(&hash, len))
            }
            Item::Forget(hash, len) => manager(manager_forget(&hash, len)),
            Item::Designate(hash) => manager(manager_designate(&hash)),
            Item::Retire(service) => {
                copy(service, manager_retire(MANAGER_SERVICE, self.manager_code.len() as u32))
            }
            Item::Eject(service) => manager(manager_eject(service, &self.manager_hash)),
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
            Item::UpgradeToKv(service) => {
                let mut payload = vec![2];
                payload.extend_from_slice(&MIN_ITEM_GAS.to_le_bytes());
                payload.extend_from_slice(&MIN_MEMO_GAS.to_le_bytes());
                payload.extend_from_slice(KV_CODE);
                copy(service, payload)
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
                Item::Solicit { .. } => c.solicits += 1,
                Item::Forget(..) => c.forgets += 1,
                Item::Designate(_) => c.designates += 1,
                Item::Retire(_) => c.retires += 1,
                Item::Eject(_) => c.ejects += 1,
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
        config: &WorkConfig,
        rng: &mut ChaCha8Rng,
        keys: &[ValidatorKeys],
        by_ed25519: &HashMap<[u8; 32], usize>,
        ancestors: &[(HeaderHash, TimeSlot)],
        head: &ChainState,
        slot: TimeSlot,
        posterior: &orrery_stf::safrole::SafroleOutput,
    ) -> Vec<ReportGuarantee> {
        let spec = &ctx.spec;
        let prior = head.state();
        self.prune(prior, slot);
        let at = At { state: prior, slot, keys, spec };
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
        let n = rng.gen_range(1..=config.max_reports.max(1)).min(free.len());
        let mut cores: Vec<CoreIndex> = free.choose_multiple(rng, n).copied().collect();
        // Ascending, as the extrinsic orders them (eq. 11.24).
        cores.sort_unstable();
        let allowed = self.allowed(prior, slot, spec.preimage_expunge_period);
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

            let items = self.items(rng, &allowed, config.mix, config.max_items);
            if items.is_empty() {
                continue;
            }
            // The items' accumulate gas sums to less than `G_A` (GP 0.7.2 eq. 14.6).
            let gas = spec.max_accumulate_gas.saturating_sub(1) / items.len() as u64;
            let mut calls: Vec<Call> = items.iter().map(|&item| self.call(rng, &at, item, gas)).collect();
            self.packages += 1;
            calls[0].refine_gas += self.packages;
            // The head's entry in `β` has no state root yet: the block being made brings it.
            let anchor = rng.gen_range(0..history.len());
            let entry = &history[anchor];
            let state_root = if anchor + 1 == history.len() { head.root() } else { entry.state_root };
            // Mostly the head, as a builder would; an older one makes a service deployed since
            // invisible to refine's historical lookup (its result `BadCode`), which is valid too.
            let (lookup_anchor, lookup_anchor_slot) = match rng.gen_bool(0.7) {
                true => lookup_anchors[0],
                false => *lookup_anchors.choose(rng).unwrap_or(&lookup_anchors[0]),
            };
            let context = RefineContext {
                anchor: entry.header_hash,
                state_root,
                beefy_root: entry.beefy_root,
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
    /// `prior`'s `ρ`, by validators of `active` (the prior `κ`, GP 0.7.2 eq. 11.13) whose keys we
    /// hold (eqs. 11.10–11.15).
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
