//! The refine dispatcher `F` with its context pair `(m, e)` (GP 0.7.2 eq. B.5), the refine
//! functions `historical_lookup` and `export` (§B.8), and `fetch` as refinement sees it.

use std::borrow::Cow;

use orrery_codec::Encode;
use orrery_pvm::{Host, HostContext, HostOutcome};
use orrery_types::constants::{MAX_PACKAGE_EXPORTS, SEGMENT_SIZE};
use orrery_types::{ChainSpec, Hash, ServiceId, TimeSlot, WorkPackage};

use super::guard::Budget;
use super::machines::InnerMachines;
use crate::codes::{index, FULL, HOST_CALL_GAS, WHAT};
use crate::general::{self, Accounts, FetchData, LogMessage, SELF};
use crate::memory;

/// The most `log` messages kept from one invocation.
pub const LOG_MESSAGES: usize = 256;

/// `fetch` with the package's encodings made once: selectors 7, 10 and 11 would otherwise encode
/// the whole package on every call. Every octet copied counts against the copy budget.
#[derive(Debug)]
pub(crate) struct Fetcher<'a> {
    pub data: FetchData<'a>,
    package: Option<&'a WorkPackage>,
    encoded_package: Option<Vec<u8>>,
    encoded_context: Option<Vec<u8>>,
    summaries: Option<Vec<u8>>,
}

impl<'a> Fetcher<'a> {
    pub fn new(data: FetchData<'a>) -> Self {
        Self { package: data.package, data, encoded_package: None, encoded_context: None, summaries: None }
    }

    fn value(&mut self, selector: u64, a: u64, b: u64) -> Option<Cow<'_, [u8]>> {
        let package = match (selector, self.package) {
            (7 | 10 | 11, Some(package)) => package,
            _ => return general::fetch_value(&self.data, selector, a, b),
        };
        let cached = match selector {
            7 => self.encoded_package.get_or_insert_with(|| package.encode()),
            10 => self.encoded_context.get_or_insert_with(|| package.context.encode()),
            _ => {
                let data = &self.data;
                self.summaries.get_or_insert_with(|| {
                    general::fetch_value(data, 11, 0, 0).unwrap_or_default().into_owned()
                })
            }
        };
        Some(Cow::Borrowed(cached.as_slice()))
    }

    /// `Ω_Y` (`fetch` = 1).
    pub fn fetch(&mut self, ctx: &mut HostContext<'_>, budget: &mut Budget) -> HostOutcome {
        let (output, first, most) = (ctx.reg(7), ctx.reg(8), ctx.reg(9));
        let (selector, a, b) = (ctx.reg(10), ctx.reg(11), ctx.reg(12));
        let value = self.value(selector, a, b);
        if let Some(v) = &value {
            let len = v.len() as u64;
            let copied = most.min(len - first.min(len));
            if !Budget::take(&mut budget.copy, copied) {
                return HostOutcome::Panic;
            }
        }
        if memory::write_result(ctx, output, value.as_deref(), 8) {
            HostOutcome::Continue
        } else {
            HostOutcome::Panic
        }
    }
}

/// `F` of Ψ_R with its context: the dispatcher the PVM calls at each `ecalli` during refinement.
#[derive(Debug)]
pub struct RefineHost<'a, A: Accounts + ?Sized> {
    fetcher: Fetcher<'a>,
    /// `d`: the service accounts as of the lookup anchor.
    accounts: &'a A,
    /// `w_s`: the service whose item is refined.
    service: ServiceId,
    /// `(p_x)_t`: the lookup anchor's slot.
    anchor_slot: TimeSlot,
    /// `ς`: the exports of the package's earlier items.
    export_offset: usize,
    /// `m`: the inner machines.
    pub machines: InnerMachines,
    /// `e`: the segments exported so far.
    pub exports: Vec<Vec<u8>>,
    /// What is left of the resource guards.
    pub budget: Budget,
    /// What the service logged (JIP-1), at most [`LOG_MESSAGES`].
    pub logs: Vec<LogMessage>,
}

/// The zero hash refinement's `fetch` gives for the entropy (`n = H_0`, eq. B.5).
static ZERO_HASH: Hash = [0; 32];

/// What [`RefineHost::new`] needs beyond the accounts.
#[derive(Debug, Clone, Copy)]
pub struct RefineInputs<'a> {
    pub spec: &'a ChainSpec,
    /// `p`.
    pub package: &'a WorkPackage,
    /// `r`: the authorizer trace.
    pub auth_trace: &'a [u8],
    /// `i`: the item refined.
    pub item_index: usize,
    /// `ī`: every item's imported segments.
    pub imports: &'a [Vec<Vec<u8>>],
    /// `x̄`: every item's extrinsic blobs.
    pub extrinsics: &'a [Vec<Vec<u8>>],
    /// `ς`.
    pub export_offset: usize,
}

impl<'a, A: Accounts + ?Sized> RefineHost<'a, A> {
    /// The dispatcher for refining item `context.item_index` of service `service`, with empty `m`
    /// and `e` and the inner machines allowed `inner_gas` in all.
    pub fn new(context: RefineInputs<'a>, accounts: &'a A, service: ServiceId, inner_gas: u64) -> Self {
        let data = FetchData {
            package: Some(context.package),
            entropy: Some(&ZERO_HASH),
            auth_trace: Some(context.auth_trace),
            item_index: Some(context.item_index),
            imports: Some(context.imports),
            extrinsics: Some(context.extrinsics),
            ..FetchData::new(context.spec)
        };
        Self {
            fetcher: Fetcher::new(data),
            accounts,
            service,
            anchor_slot: context.package.context.lookup_anchor_slot,
            export_offset: context.export_offset,
            machines: InnerMachines::new(),
            exports: Vec::new(),
            budget: Budget::new(inner_gas),
            logs: Vec::new(),
        }
    }

    /// `Ω_H` (`historical_lookup` = 6): the preimage of the hash at `ω8` as service `ω7` (the
    /// refined service for `2^64 − 1`) held it at the lookup anchor, written at `ω9` from offset
    /// `ω10`, at most `ω11` octets; `NONE` when there is no such service or preimage.
    fn historical_lookup(&mut self, ctx: &mut HostContext<'_>) -> HostOutcome {
        let target = ctx.reg(7);
        let account = if target == SELF {
            self.accounts.account(self.service)
        } else {
            ServiceId::try_from(target).ok().and_then(|id| self.accounts.account(id))
        };
        let Some(hash) = memory::read_array::<32>(ctx, ctx.reg(8)) else {
            return HostOutcome::Panic;
        };
        let value = account.and_then(|a| a.historical_lookup(self.anchor_slot, &hash)).map(|v| &v[..]);
        let (output, first, most) = (ctx.reg(9), ctx.reg(10), ctx.reg(11));
        if let Some(v) = value {
            let len = v.len() as u64;
            if !Budget::take(&mut self.budget.copy, most.min(len - first.min(len))) {
                return HostOutcome::Panic;
            }
        }
        if memory::write_result(ctx, output, value, 10) {
            HostOutcome::Continue
        } else {
            HostOutcome::Panic
        }
    }

    /// `Ω_E` (`export` = 7): appends `μ_{ω7…+min(ω8, W_G)}`, zero-padded to a segment, to `e`, and
    /// returns its index in the package (`ς + |e|`); `FULL` once the package has `W_X` exports.
    fn export(&mut self, ctx: &mut HostContext<'_>) -> HostOutcome {
        let (p, z) = (ctx.reg(7), ctx.reg(8).min(SEGMENT_SIZE as u64));
        let Some(mut segment) = memory::read(ctx, p, z) else {
            return HostOutcome::Panic;
        };
        let index = self.export_offset.saturating_add(self.exports.len());
        if index >= MAX_PACKAGE_EXPORTS {
            ctx.set_reg(7, FULL);
            return HostOutcome::Continue;
        }
        segment.resize(SEGMENT_SIZE, 0);
        self.exports.push(segment);
        ctx.set_reg(7, index as u64);
        HostOutcome::Continue
    }
}

impl<A: Accounts + ?Sized> Host for RefineHost<'_, A> {
    fn call(&mut self, call: u64, ctx: &mut HostContext<'_>) -> HostOutcome {
        if !ctx.charge(HOST_CALL_GAS) {
            return HostOutcome::OutOfGas;
        }
        match call {
            index::GAS => general::gas(ctx),
            index::FETCH => self.fetcher.fetch(ctx, &mut self.budget),
            index::HISTORICAL_LOOKUP => self.historical_lookup(ctx),
            index::EXPORT => self.export(ctx),
            index::MACHINE => self.machines.machine(ctx, &mut self.budget),
            index::PEEK => self.machines.peek(ctx, &mut self.budget),
            index::POKE => self.machines.poke(ctx, &mut self.budget),
            index::PAGES => self.machines.pages(ctx, &mut self.budget),
            index::INVOKE => self.machines.invoke(ctx, &mut self.budget),
            index::EXPUNGE => self.machines.expunge(ctx),
            index::LOG => {
                log(ctx, &mut self.logs);
                HostOutcome::Continue
            }
            _ => {
                ctx.set_reg(7, WHAT);
                HostOutcome::Continue
            }
        }
    }
}

/// JIP-1 `log`: keeps the message (up to [`LOG_MESSAGES`]) and answers `WHAT`, as an unknown call
/// does, so that a service behaves alike on hosts with and without `log`.
pub(crate) fn log(ctx: &mut HostContext<'_>, logs: &mut Vec<LogMessage>) {
    if let Some(message) = general::log(ctx) {
        if logs.len() < LOG_MESSAGES {
            logs.push(message);
        }
    }
    ctx.set_reg(7, WHAT);
}
