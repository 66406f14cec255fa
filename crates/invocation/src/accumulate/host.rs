//! The accumulate context pair `(x, y)` and its host-call dispatcher `F` (GP 0.7.2 §B.4), with the
//! accumulate functions of §B.7.
//!
//! `x` is the regular dimension, which every call changes; `y` the exceptional one, which only
//! `checkpoint` sets (to `x`). The invocation keeps `x` when it halts and `y` when it panics or
//! runs out of gas. Each function below first reads and checks everything it needs, then changes
//! `x`, so that a panic, a failure code or running out of gas leaves `x` exactly as it was.

use std::collections::{BTreeMap, BTreeSet};

use orrery_crypto::blake2b_256;
use orrery_pvm::{Host, HostContext, HostOutcome};
use orrery_state::{ServiceAccount, ServiceInfo, ValidatorData, ValidatorsData};
use orrery_types::constants::{
    AUTH_QUEUE_SIZE, DEPOSIT_BASE, DEPOSIT_PER_BYTE, DEPOSIT_PER_ITEM, MEMO_SIZE, MIN_PUBLIC_SERVICE_INDEX,
};
use orrery_types::{ChainSpec, Hash, ServiceId, TimeSlot};

use super::state::StateView;
use crate::codes::{index, CASH, CORE, FULL, HOST_CALL_GAS, HUH, LOW, NONE, OK, WHAT, WHO};
use crate::general::{self, FetchData, LogMessage, SELF};
use crate::inputs::{AccumulationInput, DeferredTransfer};
use crate::memory;

/// `L`: the implications of an accumulation so far (GP 0.7.2 eq. B.7).
#[derive(Debug, Clone)]
pub struct Implications<'a> {
    /// `s`: the accumulating service.
    pub id: ServiceId,
    /// `e`: the partial state as this accumulation has changed it.
    pub state: StateView<'a>,
    /// `i`: the index the next `new` service gets.
    pub next_free_id: ServiceId,
    /// `t`: the transfers made, in order.
    pub transfers: Vec<DeferredTransfer>,
    /// `y`: the hash yielded, if any.
    pub yield_hash: Option<Hash>,
    /// `p`: the preimages provided, by service.
    pub provisions: BTreeSet<(ServiceId, Vec<u8>)>,
}

/// The span of service indices `new` draws from: `2^32 − S − 2^8`.
const PUBLIC_SPAN: u64 = (1 << 32) - MIN_PUBLIC_SERVICE_INDEX as u64 - (1 << 8);

/// `check(i)` (GP 0.7.2 eq. B.10): the first index from `i` on, stepping through the public range,
/// that is not a service of `accounts`. Terminates: each step visits a new index, and there are
/// fewer accounts than indices.
pub fn check(accounts: &BTreeMap<ServiceId, ServiceAccount>, candidate: ServiceId) -> ServiceId {
    let s = i64::from(MIN_PUBLIC_SERVICE_INDEX);
    let mut i = candidate;
    while accounts.contains_key(&i) {
        i = ((i64::from(i) - s + 1).rem_euclid(PUBLIC_SPAN as i64) + s) as ServiceId;
    }
    i
}

/// The first `next_free_id` of an accumulation of `service` (the `i` of `I`, GP 0.7.2 eq. B.9):
/// from `blake2b(E(s, η'_0, H_t))`, with `s` and `H_t` in the general natural encoding.
pub fn initial_free_id(
    accounts: &BTreeMap<ServiceId, ServiceAccount>,
    service: ServiceId,
    entropy: &Hash,
    slot: TimeSlot,
) -> ServiceId {
    let mut preimage = Vec::with_capacity(9 + 32 + 9);
    orrery_codec::natural::encode_to(service.into(), &mut preimage);
    preimage.extend_from_slice(entropy);
    orrery_codec::natural::encode_to(slot.into(), &mut preimage);
    let hash = blake2b_256(&preimage);
    let x = u64::from(u32::from_le_bytes([hash[0], hash[1], hash[2], hash[3]]));
    check(accounts, (x % PUBLIC_SPAN + u64::from(MIN_PUBLIC_SERVICE_INDEX)) as ServiceId)
}

/// The most `log` messages kept from one invocation.
pub const LOG_MESSAGES: usize = 256;

/// `F` of Ψ_A with its context: the dispatcher the PVM calls at each `ecalli`.
#[derive(Debug)]
pub struct AccumulateHost<'a> {
    spec: &'a ChainSpec,
    /// `H_t`, which is also `τ'`.
    slot: TimeSlot,
    /// `η'_0`.
    entropy: &'a Hash,
    /// `i`: the accumulation inputs.
    inputs: &'a [AccumulationInput],
    /// `x`.
    pub regular: Implications<'a>,
    /// `y`.
    pub exceptional: Implications<'a>,
    /// What the service logged, at most [`LOG_MESSAGES`] messages.
    pub logs: Vec<LogMessage>,
    /// The distinct storage keys `write` was called with, at most [`WRITTEN_KEYS`] of them, each
    /// at most [`WRITTEN_KEY_LIMIT`] octets: for showing storage changes by key.
    pub written_keys: Vec<Vec<u8>>,
}

/// The most storage keys an [`AccumulateHost`] keeps for the operator.
pub const WRITTEN_KEYS: usize = 256;
/// The longest storage key an [`AccumulateHost`] keeps for the operator.
pub const WRITTEN_KEY_LIMIT: u64 = 1024;

fn reg_array<const N: usize>(ctx: &HostContext<'_>, first: usize) -> [u64; N] {
    std::array::from_fn(|i| ctx.reg(first + i))
}

impl<'a> AccumulateHost<'a> {
    /// `I(s, id)²`: both dimensions start as the same implications of `state`.
    pub fn new(
        spec: &'a ChainSpec,
        slot: TimeSlot,
        entropy: &'a Hash,
        inputs: &'a [AccumulationInput],
        id: ServiceId,
        state: StateView<'a>,
    ) -> Self {
        let next_free_id = initial_free_id(&state.base().accounts, id, entropy, slot);
        let regular = Implications {
            id,
            state,
            next_free_id,
            transfers: Vec::new(),
            yield_hash: None,
            provisions: BTreeSet::new(),
        };
        Self {
            spec,
            slot,
            entropy,
            inputs,
            exceptional: regular.clone(),
            regular,
            logs: Vec::new(),
            written_keys: Vec::new(),
        }
    }

    /// `t − D` as a signed value: the slot before which an unavailable preimage may be dropped.
    fn expiry(&self) -> i64 {
        i64::from(self.slot) - i64::from(self.spec.preimage_expunge_period)
    }

    /// `Ω_B` (`bless` = 14): sets `(m, a, v, r, z)` from `ω7`, the `C` assigners at `ω8`, `ω9`,
    /// `ω10` and the `ω12` always-accumulate pairs `E_4(s) ⌢ E_8(g)` at `ω11`.
    fn bless(&mut self, ctx: &mut HostContext<'_>) -> HostOutcome {
        let [m, a, v, r, o, n] = reg_array::<6>(ctx, 7);
        let cores = u64::from(self.spec.cores_count);
        let Some(assigners) = memory::read(ctx, a, 4 * cores) else {
            return HostOutcome::Panic;
        };
        let Some(pairs) = n.checked_mul(12).and_then(|len| memory::read(ctx, o, len)) else {
            return HostOutcome::Panic;
        };
        let (Ok(m), Ok(v), Ok(r)) = (ServiceId::try_from(m), ServiceId::try_from(v), ServiceId::try_from(r))
        else {
            ctx.set_reg(7, WHO);
            return HostOutcome::Continue;
        };
        let privileges = self.regular.state.privileges_mut();
        privileges.bless = m;
        privileges.assign = assigners.chunks_exact(4).map(le_u32).collect();
        privileges.designate = v;
        privileges.register = r;
        // A dictionary built from the pairs; a repeated service takes its last gas.
        privileges.always_acc =
            pairs.chunks_exact(12).map(|pair| (le_u32(&pair[..4]), le_u64(&pair[4..]))).collect();
        ctx.set_reg(7, OK);
        HostOutcome::Continue
    }

    /// `Ω_A` (`assign` = 15): core `ω7`'s authorizer queue from the `Q` hashes at `ω8`, and its
    /// assigner `ω9`; only the core's current assigner may.
    fn assign(&mut self, ctx: &mut HostContext<'_>) -> HostOutcome {
        let [c, o, a] = reg_array::<3>(ctx, 7);
        let Some(queue) = memory::read(ctx, o, 32 * AUTH_QUEUE_SIZE as u64) else {
            return HostOutcome::Panic;
        };
        let x = &mut self.regular;
        let core = match usize::try_from(c) {
            Ok(core) if c < u64::from(self.spec.cores_count) => core,
            _ => {
                ctx.set_reg(7, CORE);
                return HostOutcome::Continue;
            }
        };
        if x.state.privileges().assign.get(core) != Some(&x.id) {
            ctx.set_reg(7, HUH);
            return HostOutcome::Continue;
        }
        let Ok(assigner) = ServiceId::try_from(a) else {
            ctx.set_reg(7, WHO);
            return HostOutcome::Continue;
        };
        let queues = x.state.auth_queues_mut();
        if let Some(slot) = queues.0.get_mut(core) {
            for (entry, hash) in slot.iter_mut().zip(queue.chunks_exact(32)) {
                entry.copy_from_slice(hash);
            }
        }
        if let Some(entry) = x.state.privileges_mut().assign.get_mut(core) {
            *entry = assigner;
        }
        ctx.set_reg(7, OK);
        HostOutcome::Continue
    }

    /// `Ω_D` (`designate` = 16): the staged validator keys from the `V` 336-octet keys at `ω7`;
    /// only the delegator may.
    fn designate(&mut self, ctx: &mut HostContext<'_>) -> HostOutcome {
        let validators = u64::from(self.spec.validators_count);
        let Some(keys) = memory::read(ctx, ctx.reg(7), 336 * validators) else {
            return HostOutcome::Panic;
        };
        let x = &mut self.regular;
        if x.id != x.state.privileges().designate {
            ctx.set_reg(7, HUH);
            return HostOutcome::Continue;
        }
        let staged = keys
            .chunks_exact(336)
            .map(|k| ValidatorData {
                bandersnatch: k[..32].try_into().unwrap_or([0; 32]),
                ed25519: k[32..64].try_into().unwrap_or([0; 32]),
                bls: k[64..208].try_into().unwrap_or([0; 144]),
                metadata: k[208..336].try_into().unwrap_or([0; 128]),
            })
            .collect();
        x.state.set_staging(ValidatorsData(staged));
        ctx.set_reg(7, OK);
        HostOutcome::Continue
    }

    /// `Ω_C` (`checkpoint` = 17): `y = x`, and `ω7` the gas left.
    fn checkpoint(&mut self, ctx: &mut HostContext<'_>) -> HostOutcome {
        self.exceptional = self.regular.clone();
        ctx.set_reg(7, ctx.gas().max(0) as u64);
        HostOutcome::Continue
    }

    /// `Ω_N` (`new` = 18): a service with code hash at `ω7`, its code length `ω8`, gas limits `ω9`,
    /// `ω10` and gratis storage `ω11`, funded from the caller with its threshold balance. The
    /// registrar may ask for index `ω12` below `S`.
    fn new_service(&mut self, ctx: &mut HostContext<'_>) -> HostOutcome {
        let [o, l, g, m, f, i] = reg_array::<6>(ctx, 7);
        let (Some(code_hash), Ok(length)) = (memory::read_array::<32>(ctx, o), u32::try_from(l)) else {
            return HostOutcome::Panic;
        };
        let x = &mut self.regular;
        let privileges = x.state.privileges();
        if f != 0 && x.id != privileges.bless {
            ctx.set_reg(7, HUH);
            return HostOutcome::Continue;
        }
        let registrar = x.id == privileges.register;
        let mut account = ServiceAccount::new(ServiceInfo {
            code_hash,
            min_item_gas: g,
            min_memo_gas: m,
            deposit_offset: f,
            creation_slot: self.slot,
            last_accumulation_slot: 0,
            parent_service: x.id,
            ..ServiceInfo::default()
        });
        account.set_request(&code_hash, length, &[]);
        account.info.balance = account.threshold_balance();
        let Some(caller) = x.state.account(x.id) else {
            return HostOutcome::Panic;
        };
        let Some(balance) = caller
            .info
            .balance
            .checked_sub(account.info.balance)
            .filter(|b| *b >= caller.threshold_balance())
        else {
            ctx.set_reg(7, CASH);
            return HostOutcome::Continue;
        };
        let id = if registrar && i < u64::from(MIN_PUBLIC_SERVICE_INDEX) {
            let wanted = i as ServiceId;
            if x.state.contains(wanted) {
                ctx.set_reg(7, FULL);
                return HostOutcome::Continue;
            }
            wanted
        } else {
            let id = x.next_free_id;
            let s = u64::from(MIN_PUBLIC_SERVICE_INDEX);
            let next = s + (u64::from(id).wrapping_sub(s).wrapping_add(42)) % PUBLIC_SPAN;
            x.next_free_id = check(&x.state.base().accounts, next as ServiceId);
            id
        };
        x.state.insert_account(id, account);
        if let Some(caller) = x.state.account_mut(x.id) {
            caller.info.balance = balance;
        }
        ctx.set_reg(7, id.into());
        HostOutcome::Continue
    }

    /// `Ω_U` (`upgrade` = 19): the caller's code hash from `ω7` and gas limits `ω8`, `ω9`.
    fn upgrade(&mut self, ctx: &mut HostContext<'_>) -> HostOutcome {
        let [o, g, m] = reg_array::<3>(ctx, 7);
        let Some(code_hash) = memory::read_array::<32>(ctx, o) else {
            return HostOutcome::Panic;
        };
        let x = &mut self.regular;
        let Some(caller) = x.state.account_mut(x.id) else {
            return HostOutcome::Panic;
        };
        caller.info.code_hash = code_hash;
        caller.info.min_item_gas = g;
        caller.info.min_memo_gas = m;
        ctx.set_reg(7, OK);
        HostOutcome::Continue
    }

    /// `Ω_T` (`transfer` = 20): `ω8` to service `ω7` with gas `ω9` and the memo at `ω10`. Costs
    /// `10 + ω9` when it succeeds; the 10 is already charged.
    fn transfer(&mut self, ctx: &mut HostContext<'_>) -> HostOutcome {
        let [d, amount, l, o] = reg_array::<4>(ctx, 7);
        let Some(memo) = memory::read_array::<MEMO_SIZE>(ctx, o) else {
            return HostOutcome::Panic;
        };
        let x = &mut self.regular;
        let Some(dest) = ServiceId::try_from(d).ok().filter(|d| x.state.contains(*d)) else {
            ctx.set_reg(7, WHO);
            return HostOutcome::Continue;
        };
        if x.state.account(dest).is_some_and(|a| l < a.info.min_memo_gas) {
            ctx.set_reg(7, LOW);
            return HostOutcome::Continue;
        }
        let Some(caller) = x.state.account(x.id) else {
            return HostOutcome::Panic;
        };
        let Some(balance) =
            caller.info.balance.checked_sub(amount).filter(|b| *b >= caller.threshold_balance())
        else {
            ctx.set_reg(7, CASH);
            return HostOutcome::Continue;
        };
        // g = 10 + l: the rest of the cost, or out of gas with nothing changed.
        if !ctx.charge(l) {
            return HostOutcome::OutOfGas;
        }
        let source = x.id;
        x.transfers.push(DeferredTransfer { source, dest, amount, memo, gas: l });
        if let Some(caller) = x.state.account_mut(source) {
            caller.info.balance = balance;
        }
        ctx.set_reg(7, OK);
        HostOutcome::Continue
    }

    /// `Ω_J` (`eject` = 21): removes service `ω7`, whose code hash is the caller's index and whose
    /// only footprint is the request for the hash at `ω8`, unavailable since before `t − D`, and
    /// takes its balance.
    fn eject(&mut self, ctx: &mut HostContext<'_>) -> HostOutcome {
        let [d, o] = reg_array::<2>(ctx, 7);
        let Some(hash) = memory::read_array::<32>(ctx, o) else {
            return HostOutcome::Panic;
        };
        let expiry = self.expiry();
        let x = &mut self.regular;
        let mut own_index = [0u8; 32];
        own_index[..4].copy_from_slice(&x.id.to_le_bytes());
        let target = ServiceId::try_from(d)
            .ok()
            .filter(|d| *d != x.id)
            .and_then(|d| x.state.account(d).map(|a| (d, a)))
            .filter(|(_, a)| a.info.code_hash == own_index);
        let Some((target, account)) = target else {
            ctx.set_reg(7, WHO);
            return HostOutcome::Continue;
        };
        let length = account.info.bytes.max(81) - 81;
        let request = u32::try_from(length).ok().and_then(|l| account.request(&hash, l));
        if account.info.items != 2 || request.is_none() {
            ctx.set_reg(7, HUH);
            return HostOutcome::Continue;
        }
        let expired = matches!(request, Some(Ok(slots)) if slots.len() == 2 && i64::from(slots[1]) < expiry);
        if !expired {
            ctx.set_reg(7, HUH);
            return HostOutcome::Continue;
        }
        let amount = account.info.balance;
        x.state.remove_account(target);
        if let Some(caller) = x.state.account_mut(x.id) {
            caller.info.balance = caller.info.balance.saturating_add(amount);
        }
        ctx.set_reg(7, OK);
        HostOutcome::Continue
    }

    /// `Ω_Q` (`query` = 22): the state of the caller's request for the hash at `ω7` of length `ω8`,
    /// packed into `ω7` and `ω8`.
    fn query(&mut self, ctx: &mut HostContext<'_>) -> HostOutcome {
        let [o, z] = reg_array::<2>(ctx, 7);
        let Some(hash) = memory::read_array::<32>(ctx, o) else {
            return HostOutcome::Panic;
        };
        let x = &self.regular;
        let slots =
            u32::try_from(z).ok().and_then(|z| x.state.account(x.id)?.request(&hash, z)).and_then(Result::ok);
        let shift = |t: u32| u64::from(t) << 32;
        let (a, b) = match slots.as_deref() {
            Some([]) => (0, 0),
            Some([x]) => (1 + shift(*x), 0),
            Some([x, y]) => (2 + shift(*x), u64::from(*y)),
            Some([x, y, z]) => (3 + shift(*x), u64::from(*y) + shift(*z)),
            _ => (NONE, 0),
        };
        ctx.set_reg(7, a);
        ctx.set_reg(8, b);
        HostOutcome::Continue
    }

    /// `Ω_S` (`solicit` = 23): requests the preimage of the hash at `ω7` of length `ω8`, or asks
    /// again for one that became unavailable.
    fn solicit(&mut self, ctx: &mut HostContext<'_>) -> HostOutcome {
        let [o, z] = reg_array::<2>(ctx, 7);
        let Some(hash) = memory::read_array::<32>(ctx, o) else {
            return HostOutcome::Panic;
        };
        let slot = self.slot;
        let x = &mut self.regular;
        let Some(caller) = x.state.account(x.id) else {
            return HostOutcome::Panic;
        };
        // A length past 2^32 keys no existing request, so the paper adds a new one, whose footprint
        // `81 + z` no balance can cover unless the gratis offset is as large: FULL, as the paper
        // gives it. Where the offset does cover it the request cannot be written (a request's key
        // holds `E_4(z)`), and the call is refused.
        let Ok(length) = u32::try_from(z) else {
            let info = &caller.info;
            let required = u128::from(DEPOSIT_BASE)
                + u128::from(DEPOSIT_PER_ITEM) * (u128::from(info.items) + 2)
                + u128::from(DEPOSIT_PER_BYTE) * (u128::from(info.bytes) + 81 + u128::from(z));
            let threshold = required.saturating_sub(u128::from(info.deposit_offset));
            ctx.set_reg(7, if u128::from(info.balance) < threshold { FULL } else { HUH });
            return HostOutcome::Continue;
        };
        let slots = match caller.request(&hash, length) {
            None => Vec::new(),
            Some(Ok(slots)) if slots.len() == 2 => [slots.as_slice(), &[slot]].concat(),
            _ => {
                ctx.set_reg(7, HUH);
                return HostOutcome::Continue;
            }
        };
        let mut info = caller.info.clone();
        if !caller.has_request(&hash, length) {
            info.items = info.items.saturating_add(2);
            info.bytes = info.bytes.saturating_add(81 + u64::from(length));
        }
        if info.balance < info.threshold_balance() {
            ctx.set_reg(7, FULL);
            return HostOutcome::Continue;
        }
        if let Some(caller) = x.state.account_mut(x.id) {
            caller.set_request(&hash, length, &slots);
        }
        ctx.set_reg(7, OK);
        HostOutcome::Continue
    }

    /// `Ω_F` (`forget` = 24): drops, or marks unavailable, the caller's request for the hash at
    /// `ω7` of length `ω8`.
    fn forget(&mut self, ctx: &mut HostContext<'_>) -> HostOutcome {
        let [o, z] = reg_array::<2>(ctx, 7);
        let Some(hash) = memory::read_array::<32>(ctx, o) else {
            return HostOutcome::Panic;
        };
        let (slot, expiry) = (self.slot, self.expiry());
        let x = &mut self.regular;
        let slots =
            u32::try_from(z).ok().and_then(|z| x.state.account(x.id)?.request(&hash, z).map(|r| (z, r)));
        let expired = |y: &u32| i64::from(*y) < expiry;
        enum Change {
            Drop,
            Set(Vec<TimeSlot>),
        }
        let (length, change) = match slots {
            Some((z, Ok(slots))) => match slots.as_slice() {
                [] => (z, Change::Drop),
                [_, y] if expired(y) => (z, Change::Drop),
                [x] => (z, Change::Set(vec![*x, slot])),
                [_, y, w] if expired(y) => (z, Change::Set(vec![*w, slot])),
                _ => {
                    ctx.set_reg(7, HUH);
                    return HostOutcome::Continue;
                }
            },
            _ => {
                ctx.set_reg(7, HUH);
                return HostOutcome::Continue;
            }
        };
        let Some(caller) = x.state.account_mut(x.id) else {
            return HostOutcome::Panic;
        };
        match change {
            Change::Drop => {
                caller.remove_request(&hash, length);
                caller.remove_preimage(&hash);
            }
            Change::Set(slots) => caller.set_request(&hash, length, &slots),
        }
        ctx.set_reg(7, OK);
        HostOutcome::Continue
    }

    /// `Ω_♉` (`yield` = 25): the hash at `ω7` becomes the accumulation's output.
    fn yield_hash(&mut self, ctx: &mut HostContext<'_>) -> HostOutcome {
        let Some(hash) = memory::read_array::<32>(ctx, ctx.reg(7)) else {
            return HostOutcome::Panic;
        };
        self.regular.yield_hash = Some(hash);
        ctx.set_reg(7, OK);
        HostOutcome::Continue
    }

    /// `Ω_♈` (`provide` = 26): provides the `ω9` octets at `ω8` to service `ω7` (the caller when
    /// `2^64 − 1`), which must have requested them and not yet been given them.
    fn provide(&mut self, ctx: &mut HostContext<'_>) -> HostOutcome {
        let [target, o, z] = reg_array::<3>(ctx, 7);
        let x = &mut self.regular;
        let service = if target == SELF { Some(x.id) } else { ServiceId::try_from(target).ok() };
        let Some(blob) = memory::read(ctx, o, z) else {
            return HostOutcome::Panic;
        };
        let Some((service, account)) = service.and_then(|s| x.state.account(s).map(|a| (s, a))) else {
            ctx.set_reg(7, WHO);
            return HostOutcome::Continue;
        };
        let wanted = u32::try_from(z)
            .ok()
            .and_then(|z| account.request(&blake2b_256(&blob), z))
            .is_some_and(|r| r.is_ok_and(|slots| slots.is_empty()));
        if !wanted {
            ctx.set_reg(7, HUH);
            return HostOutcome::Continue;
        }
        let provision = (service, blob);
        if x.provisions.contains(&provision) {
            ctx.set_reg(7, HUH);
            return HostOutcome::Continue;
        }
        x.provisions.insert(provision);
        ctx.set_reg(7, OK);
        HostOutcome::Continue
    }
}

fn le_u32(bytes: &[u8]) -> u32 {
    bytes.iter().rev().fold(0, |acc, &b| acc << 8 | u32::from(b))
}

fn le_u64(bytes: &[u8]) -> u64 {
    bytes.iter().rev().fold(0, |acc, &b| acc << 8 | u64::from(b))
}

impl Host for AccumulateHost<'_> {
    fn call(&mut self, call: u64, ctx: &mut HostContext<'_>) -> HostOutcome {
        if !ctx.charge(HOST_CALL_GAS) {
            return HostOutcome::OutOfGas;
        }
        match call {
            index::GAS => general::gas(ctx),
            index::FETCH => {
                let data = FetchData {
                    entropy: Some(self.entropy),
                    inputs: Some(self.inputs),
                    ..FetchData::new(self.spec)
                };
                general::fetch(ctx, &data)
            }
            index::LOOKUP => {
                let x = &self.regular;
                match x.state.account(x.id) {
                    Some(caller) => general::lookup(ctx, x.id, caller, &x.state),
                    None => HostOutcome::Panic,
                }
            }
            index::READ => {
                let x = &self.regular;
                match x.state.account(x.id) {
                    Some(caller) => general::read(ctx, x.id, caller, &x.state),
                    None => HostOutcome::Panic,
                }
            }
            index::WRITE => {
                let (key_at, key_len) = (ctx.reg(7), ctx.reg(8));
                let x = &mut self.regular;
                let outcome = match x.state.account_mut(x.id) {
                    Some(caller) => general::write(ctx, caller),
                    None => HostOutcome::Panic,
                };
                if outcome == HostOutcome::Continue
                    && key_len <= WRITTEN_KEY_LIMIT
                    && self.written_keys.len() < WRITTEN_KEYS
                {
                    if let Some(key) = crate::memory::read(ctx, key_at, key_len) {
                        if !self.written_keys.contains(&key) {
                            self.written_keys.push(key);
                        }
                    }
                }
                outcome
            }
            index::INFO => general::info(ctx, self.regular.id, &self.regular.state),
            index::BLESS => self.bless(ctx),
            index::ASSIGN => self.assign(ctx),
            index::DESIGNATE => self.designate(ctx),
            index::CHECKPOINT => self.checkpoint(ctx),
            index::NEW => self.new_service(ctx),
            index::UPGRADE => self.upgrade(ctx),
            index::TRANSFER => self.transfer(ctx),
            index::EJECT => self.eject(ctx),
            index::QUERY => self.query(ctx),
            index::SOLICIT => self.solicit(ctx),
            index::FORGET => self.forget(ctx),
            index::YIELD => self.yield_hash(ctx),
            index::PROVIDE => self.provide(ctx),
            index::LOG => {
                if let Some(message) = general::log(ctx) {
                    if self.logs.len() < LOG_MESSAGES {
                        self.logs.push(message);
                    }
                }
                ctx.set_reg(7, WHAT);
                HostOutcome::Continue
            }
            _ => {
                ctx.set_reg(7, WHAT);
                HostOutcome::Continue
            }
        }
    }
}
