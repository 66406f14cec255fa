//! The general host functions of GP 0.7.2 §B.5, shared by the invocations: `gas`, `fetch`,
//! `lookup`, `read`, `write`, `info`, and JIP-1's `log`.
//!
//! Each function is the paper's mutation after the call's gas has been charged: the dispatcher of
//! an invocation charges `g` first (and returns out-of-gas when it cannot), then calls one of these.
//! They return [`HostOutcome::Continue`] or [`HostOutcome::Panic`] and change only the registers,
//! memory or account the paper says they change; a panic leaves everything as it was.

use std::borrow::Cow;
use std::collections::BTreeMap;

use orrery_codec::Encode;
use orrery_pvm::{HostContext, HostOutcome};
use orrery_state::ServiceAccount;
use orrery_types::constants::{
    AUTH_POOL_SIZE, AUTH_QUEUE_SIZE, DEPOSIT_BASE, DEPOSIT_PER_BYTE, DEPOSIT_PER_ITEM, MAX_AUTH_CODE_SIZE,
    MAX_BUNDLE_SIZE, MAX_PACKAGE_EXPORTS, MAX_PACKAGE_EXTRINSICS, MAX_PACKAGE_IMPORTS, MAX_PACKAGE_ITEMS,
    MAX_REPORT_DEPENDENCIES, MAX_REPORT_VAR_SIZE, MAX_SERVICE_CODE_SIZE, MEMO_SIZE, RECENT_HISTORY_LEN,
};
use orrery_types::{ChainSpec, Hash, ServiceId, WorkItem, WorkPackage};

use crate::codes::{FULL, NONE};
use crate::inputs::AccumulationInput;
use crate::memory;

/// `2^64 − 1`: the register value that names the calling service itself.
pub const SELF: u64 = u64::MAX;

/// The service accounts a host function may look other services up in (`d`).
pub trait Accounts {
    fn account(&self, id: ServiceId) -> Option<&ServiceAccount>;
}

impl Accounts for BTreeMap<ServiceId, ServiceAccount> {
    fn account(&self, id: ServiceId) -> Option<&ServiceAccount> {
        self.get(&id)
    }
}

/// A register value as a service id, if it is one.
fn service_id(value: u64) -> Option<ServiceId> {
    ServiceId::try_from(value).ok()
}

fn outcome(ok: bool) -> HostOutcome {
    if ok {
        HostOutcome::Continue
    } else {
        HostOutcome::Panic
    }
}

/// `Ω_G` (`gas` = 0): `ω7 = ϱ'`, the gas left after the call's own cost.
pub fn gas(ctx: &mut HostContext<'_>) -> HostOutcome {
    let left = ctx.gas().max(0) as u64;
    ctx.set_reg(7, left);
    HostOutcome::Continue
}

/// What `fetch` can see; the invocation leaves out (`None`) what it does not have. Is-authorized
/// has the package; refine the package, trace, item, imports and extrinsics; accumulate the
/// entropy and its inputs.
#[derive(Debug, Clone, Copy)]
pub struct FetchData<'a> {
    pub spec: &'a ChainSpec,
    /// `p`: the work package.
    pub package: Option<&'a WorkPackage>,
    /// `n`: the entropy `η'_0`.
    pub entropy: Option<&'a Hash>,
    /// `r`: the authorizer trace.
    pub auth_trace: Option<&'a [u8]>,
    /// `i`: the index of the work item being refined.
    pub item_index: Option<usize>,
    /// `ī`: per work item, its imported segments.
    pub imports: Option<&'a [Vec<Vec<u8>>]>,
    /// `x̄`: per work item, its extrinsic blobs.
    pub extrinsics: Option<&'a [Vec<Vec<u8>>]>,
    /// `i`: the accumulation inputs.
    pub inputs: Option<&'a [AccumulationInput]>,
}

impl<'a> FetchData<'a> {
    /// Nothing but the chain spec's constants.
    pub fn new(spec: &'a ChainSpec) -> Self {
        Self {
            spec,
            package: None,
            entropy: None,
            auth_trace: None,
            item_index: None,
            imports: None,
            extrinsics: None,
            inputs: None,
        }
    }
}

/// The constants blob of `fetch` selector 0, in the paper's order.
pub fn constants(spec: &ChainSpec) -> Vec<u8> {
    let mut out = Vec::with_capacity(134);
    let e8 = |out: &mut Vec<u8>, x: u64| out.extend_from_slice(&x.to_le_bytes());
    let e4 = |out: &mut Vec<u8>, x: u64| out.extend_from_slice(&(x as u32).to_le_bytes());
    let e2 = |out: &mut Vec<u8>, x: u64| out.extend_from_slice(&(x as u16).to_le_bytes());
    e8(&mut out, DEPOSIT_PER_ITEM); // B_I
    e8(&mut out, DEPOSIT_PER_BYTE); // B_L
    e8(&mut out, DEPOSIT_BASE); // B_S
    e2(&mut out, spec.cores_count.into()); // C
    e4(&mut out, spec.preimage_expunge_period.into()); // D
    e4(&mut out, spec.epoch_length.into()); // E
    e8(&mut out, spec.max_accumulate_gas); // G_A
    e8(&mut out, spec.max_is_authorized_gas); // G_I
    e8(&mut out, spec.max_refine_gas); // G_R
    e8(&mut out, spec.max_block_gas); // G_T
    e2(&mut out, RECENT_HISTORY_LEN as u64); // H
    e2(&mut out, MAX_PACKAGE_ITEMS as u64); // I
    e2(&mut out, MAX_REPORT_DEPENDENCIES as u64); // J
    e2(&mut out, spec.max_tickets_per_extrinsic.into()); // K
    e4(&mut out, spec.max_lookup_anchor_age.into()); // L
    e2(&mut out, spec.tickets_per_validator.into()); // N
    e2(&mut out, AUTH_POOL_SIZE as u64); // O
    e2(&mut out, spec.slot_duration.into()); // P
    e2(&mut out, AUTH_QUEUE_SIZE as u64); // Q
    e2(&mut out, spec.rotation_period.into()); // R
    e2(&mut out, MAX_PACKAGE_EXTRINSICS as u64); // T
    e2(&mut out, spec.availability_timeout.into()); // U
    e2(&mut out, spec.validators_count.into()); // V
    e4(&mut out, MAX_AUTH_CODE_SIZE as u64); // W_A
    e4(&mut out, MAX_BUNDLE_SIZE as u64); // W_B
    e4(&mut out, MAX_SERVICE_CODE_SIZE as u64); // W_C
    e4(&mut out, spec.erasure_piece_size.into()); // W_E
    e4(&mut out, MAX_PACKAGE_IMPORTS as u64); // W_M
    e4(&mut out, spec.segment_pieces.into()); // W_P
    e4(&mut out, MAX_REPORT_VAR_SIZE as u64); // W_R
    e4(&mut out, MEMO_SIZE as u64); // W_T
    e4(&mut out, MAX_PACKAGE_EXPORTS as u64); // W_X
    e4(&mut out, spec.ticket_submission_end.into()); // Y
    out
}

/// `S(w)`: a work item's summary for `fetch` selectors 11 and 12.
fn item_summary(item: &WorkItem) -> Vec<u8> {
    let mut out = Vec::with_capacity(62);
    out.extend_from_slice(&item.service.to_le_bytes());
    out.extend_from_slice(&item.code_hash);
    out.extend_from_slice(&item.refine_gas_limit.to_le_bytes());
    out.extend_from_slice(&item.accumulate_gas_limit.to_le_bytes());
    out.extend_from_slice(&item.export_count.to_le_bytes());
    out.extend_from_slice(&(item.import_segments.len() as u16).to_le_bytes());
    out.extend_from_slice(&(item.extrinsic.len() as u16).to_le_bytes());
    out.extend_from_slice(&(item.payload.len() as u32).to_le_bytes());
    out
}

/// The value `v` that `fetch` selects with `ω10` (and `ω11`, `ω12`), or `None`.
pub fn fetch_value<'a>(data: &FetchData<'a>, selector: u64, a: u64, b: u64) -> Option<Cow<'a, [u8]>> {
    let index = |x: u64| usize::try_from(x).ok();
    let nested = |outer: &'a [Vec<Vec<u8>>], i: Option<usize>, j: Option<usize>| {
        outer.get(i?)?.get(j?).map(|v| Cow::Borrowed(v.as_slice()))
    };
    match selector {
        0 => Some(Cow::Owned(constants(data.spec))),
        1 => data.entropy.map(|n| Cow::Borrowed(&n[..])),
        2 => data.auth_trace.map(Cow::Borrowed),
        3 => nested(data.extrinsics?, index(a), index(b)),
        4 => nested(data.extrinsics?, data.item_index, index(a)),
        5 => nested(data.imports?, index(a), index(b)),
        6 => nested(data.imports?, data.item_index, index(a)),
        7 => data.package.map(|p| Cow::Owned(p.encode())),
        8 => data.package.map(|p| Cow::Borrowed(p.authorizer_config.as_slice())),
        9 => data.package.map(|p| Cow::Borrowed(p.authorization.as_slice())),
        10 => data.package.map(|p| Cow::Owned(p.context.encode())),
        11 => data.package.map(|p| {
            let summaries: Vec<Vec<u8>> = p.items.iter().map(item_summary).collect();
            let mut out = Vec::new();
            orrery_codec::natural::encode_to(summaries.len() as u64, &mut out);
            summaries.iter().for_each(|s| out.extend_from_slice(s));
            Cow::Owned(out)
        }),
        12 => data.package?.items.get(index(a)?).map(|w| Cow::Owned(item_summary(w))),
        13 => data.package?.items.get(index(a)?).map(|w| Cow::Borrowed(w.payload.as_slice())),
        14 => data.inputs.map(|i| Cow::Owned(i.to_vec().encode())),
        15 => data.inputs?.get(index(a)?).map(|i| Cow::Owned(i.encode())),
        _ => None,
    }
}

/// `Ω_Y` (`fetch` = 1): `v` by `ω10`, written from offset `ω8`, at most `ω9` octets, at `ω7`.
pub fn fetch(ctx: &mut HostContext<'_>, data: &FetchData<'_>) -> HostOutcome {
    let value = fetch_value(data, ctx.reg(10), ctx.reg(11), ctx.reg(12));
    let output = ctx.reg(7);
    outcome(memory::write_result(ctx, output, value.as_deref(), 8))
}

/// `Ω_L` (`lookup` = 2): the preimage of the hash at `ω8` in the caller's (`ω7 ∈ {s, 2^64−1}`) or
/// another service's account, written at `ω9` from offset `ω10`, at most `ω11` octets.
pub fn lookup(
    ctx: &mut HostContext<'_>,
    caller: ServiceId,
    caller_account: &ServiceAccount,
    accounts: &impl Accounts,
) -> HostOutcome {
    let target = ctx.reg(7);
    let account = if target == SELF || target == u64::from(caller) {
        Some(caller_account)
    } else {
        service_id(target).and_then(|id| accounts.account(id))
    };
    let Some(hash) = memory::read_array::<32>(ctx, ctx.reg(8)) else {
        return HostOutcome::Panic;
    };
    let value = account.and_then(|a| a.preimage(&hash));
    let output = ctx.reg(9);
    outcome(memory::write_result(ctx, output, value, 10))
}

/// `Ω_R` (`read` = 3): the storage value under the key `μ_{ω8…+ω9}` of the caller (`ω7 = 2^64−1`
/// or its own id) or another service, written at `ω10` from offset `ω11`, at most `ω12` octets.
pub fn read(
    ctx: &mut HostContext<'_>,
    caller: ServiceId,
    caller_account: &ServiceAccount,
    accounts: &impl Accounts,
) -> HostOutcome {
    let target = match ctx.reg(7) {
        SELF => u64::from(caller),
        other => other,
    };
    let account = if target == u64::from(caller) {
        Some(caller_account)
    } else {
        service_id(target).and_then(|id| accounts.account(id))
    };
    let Some(key) = memory::read(ctx, ctx.reg(8), ctx.reg(9)) else {
        return HostOutcome::Panic;
    };
    let value = account.and_then(|a| a.storage(&key));
    let output = ctx.reg(10);
    outcome(memory::write_result(ctx, output, value, 11))
}

/// `Ω_W` (`write` = 4): sets the caller's storage key `μ_{ω7…+ω8}` to `μ_{ω9…+ω10}`, or removes it
/// when `ω10 = 0`. `ω7` is the previous value's length or `NONE`; `FULL`, changing nothing, when
/// the new footprint's threshold exceeds the balance.
pub fn write(ctx: &mut HostContext<'_>, account: &mut ServiceAccount) -> HostOutcome {
    let (key_at, key_len, value_at, value_len) = (ctx.reg(7), ctx.reg(8), ctx.reg(9), ctx.reg(10));
    let Some(key) = memory::read(ctx, key_at, key_len) else {
        return HostOutcome::Panic;
    };
    let value = if value_len == 0 {
        None
    } else {
        match memory::read(ctx, value_at, value_len) {
            Some(value) => Some(value),
            None => return HostOutcome::Panic,
        }
    };
    let info_before = account.info.clone();
    let previous = match value {
        Some(value) => account.set_storage(&key, value),
        None => account.remove_storage(&key),
    };
    if account.threshold_balance() > account.info.balance {
        // Undo: the account must be exactly as before.
        match &previous {
            Some(old) => account.set_storage(&key, old.clone()),
            None => account.remove_storage(&key),
        };
        account.info = info_before;
        ctx.set_reg(7, FULL);
        return HostOutcome::Continue;
    }
    ctx.set_reg(7, previous.map_or(NONE, |old| old.len() as u64));
    HostOutcome::Continue
}

/// The 96 octets `info` returns for an account.
pub fn info_bytes(account: &ServiceAccount) -> Vec<u8> {
    let info = &account.info;
    let mut out = Vec::with_capacity(96);
    out.extend_from_slice(&info.code_hash);
    for x in [info.balance, info.threshold_balance(), info.min_item_gas, info.min_memo_gas, info.bytes] {
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.extend_from_slice(&info.items.to_le_bytes());
    out.extend_from_slice(&info.deposit_offset.to_le_bytes());
    for x in [info.creation_slot, info.last_accumulation_slot, info.parent_service] {
        out.extend_from_slice(&x.to_le_bytes());
    }
    out
}

/// `Ω_I` (`info` = 5): the fixed fields of the caller (`ω7 = 2^64−1`) or of service `ω7`, written
/// at `ω8` from offset `ω9`, at most `ω10` octets.
pub fn info(ctx: &mut HostContext<'_>, caller: ServiceId, accounts: &impl Accounts) -> HostOutcome {
    let target = match ctx.reg(7) {
        SELF => Some(caller),
        other => service_id(other),
    };
    let value = target.and_then(|id| accounts.account(id)).map(info_bytes);
    let output = ctx.reg(8);
    outcome(memory::write_result(ctx, output, value.as_deref(), 9))
}

/// One message passed to `log`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogMessage {
    pub level: u64,
    pub target: Option<Vec<u8>>,
    pub message: Vec<u8>,
}

/// The most octets of a target or message kept from one `log` call; longer ones are cut. The
/// paper gives `log` no cost, so what it may copy out of the machine is bounded here.
pub const LOG_LIMIT: u64 = 4096;

/// JIP-1 `log` (= 100): level `ω7`, target `μ_{ω8…+ω9}` (none when both are 0), message
/// `μ_{ω10…+ω11}`. A range that is not readable makes it do nothing. Returns the message, if it
/// could be read; the dispatcher sets `ω7 = WHAT`, as JIP-1 asks so that a service behaves the
/// same whether or not its host implements `log`.
pub fn log(ctx: &HostContext<'_>) -> Option<LogMessage> {
    let level = ctx.reg(7);
    let (target_at, target_len) = (ctx.reg(8), ctx.reg(9));
    let (message_at, message_len) = (ctx.reg(10), ctx.reg(11));
    if !memory::is_readable(ctx, target_at, target_len) || !memory::is_readable(ctx, message_at, message_len)
    {
        return None;
    }
    let target = if target_at == 0 && target_len == 0 {
        None
    } else {
        Some(memory::read(ctx, target_at, target_len.min(LOG_LIMIT))?)
    };
    let message = memory::read(ctx, message_at, message_len.min(LOG_LIMIT))?;
    Some(LogMessage { level, target, message })
}
