//! The inner machines of refinement, `m ∈ ⟨N → M⟩` (GP 0.7.2 eq. B.4 and §B.8), and the six host
//! calls that create, inspect, change, run and remove them: `machine`, `peek`, `poke`, `pages`,
//! `invoke` and `expunge`.
//!
//! Each inner machine `(c, u, i)` (code, RAM, program counter) is held as an [`orrery_pvm::Guest`] of
//! the current [`crate::Backend`] (the interpreter's `Machine` or the recompiler's `Instance`, with
//! its code from the process's code cache), which carries all three, and the paper's program counter beside it. Only `machine` and `invoke`
//! change the counter, and `invoke` leaves the machine ready to resume exactly where the paper's
//! counter points, so the machine's own resume state never disagrees with it.
//!
//! Where the vectors and the paper differ the PVM follows the vectors (see `orrery-pvm`): after a
//! halt or a panic the inner counter is the instruction that caused it (the paper's Ψ gives 0), and
//! gas is charged per basic block. An inner machine that runs out of gas reports 0 gas left: the
//! paper's `ϱ' < 0` has no 64-bit encoding.
//!
//! Resource bounds the paper lacks are in [`super::guard`].

use std::collections::BTreeMap;
use std::sync::Arc;

use orrery_pvm::{Access, Exit, Guest, HostContext, HostOutcome, Program, PAGE_SIZE, REGISTER_COUNT};

use super::guard::{Budget, MAX_INNER_MACHINES, MAX_INNER_PROGRAM};
use crate::codes::{HUH, OK, OOB, WHO};
use crate::memory;

/// The result codes of `invoke` (GP 0.7.2 §B.1, inner invocations).
pub mod exit_code {
    /// The inner machine halted.
    pub const HALT: u64 = 0;
    /// It panicked.
    pub const PANIC: u64 = 1;
    /// It touched an inaccessible page; `ω8` is the page's address.
    pub const FAULT: u64 = 2;
    /// It made a host call; `ω8` is the call's index.
    pub const HOST: u64 = 3;
    /// It ran out of gas.
    pub const OOG: u64 = 4;
}

/// `N_P`: the number of pages in the 32-bit address space, 2^32 / Z_P.
const PAGE_COUNT: u64 = (1 << 32) / PAGE_SIZE as u64;

/// One inner machine `(c, u, i)`.
pub struct InnerMachine {
    /// Code, RAM, registers and gas of the last run, and where the next run resumes.
    pub machine: Box<dyn Guest + Send>,
    /// `i`: the paper's program counter.
    pub pc: u64,
}

impl std::fmt::Debug for InnerMachine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InnerMachine").field("pc", &self.pc).field("gas", &self.machine.gas()).finish()
    }
}

/// `m`: the inner machines by index.
#[derive(Debug, Default)]
pub struct InnerMachines {
    machines: BTreeMap<u64, InnerMachine>,
}

/// `[address, address + length)` inside 32 bits, or `None`.
fn range(address: u64, length: u64) -> Option<(u32, u32)> {
    let end = address.checked_add(length)?;
    if end > 1 << 32 {
        return None;
    }
    Some((u32::try_from(address).ok()?, u32::try_from(length).ok()?))
}

/// Whether `N_{address…+length}` is readable (or, with `write`, writable) in an inner RAM.
fn inner_accessible(machine: &dyn Guest, address: u64, length: u64, write: bool) -> bool {
    if length == 0 {
        return true;
    }
    match range(address, length) {
        Some((a, l)) if write => machine.memory().is_writable(a, l),
        Some((a, l)) => machine.memory().is_readable(a, l),
        None => false,
    }
}

/// Copies are made a bounded chunk at a time, so a long copy allocates nothing in proportion.
const CHUNK: u32 = 64 * 1024;

fn reg_array<const N: usize>(ctx: &HostContext<'_>) -> [u64; N] {
    std::array::from_fn(|i| ctx.reg(7 + i))
}

impl InnerMachines {
    pub fn new() -> Self {
        Self::default()
    }

    /// The inner machine `n`, if there is one.
    pub fn get(&self, n: u64) -> Option<&InnerMachine> {
        self.machines.get(&n)
    }

    /// How many inner machines there are.
    pub fn len(&self) -> usize {
        self.machines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.machines.is_empty()
    }

    /// `Ω_M` (`machine` = 8): a new inner machine with the program `μ_{ω7…+ω8}`, an empty RAM and
    /// counter `ω9`, under the least unused index, which `ω7` returns; `HUH` when the program does
    /// not decode.
    pub fn machine(&mut self, ctx: &mut HostContext<'_>, budget: &mut Budget) -> HostOutcome {
        let [p_o, p_z, i] = reg_array::<3>(ctx);
        if !memory::is_readable(ctx, p_o, p_z) {
            return HostOutcome::Panic;
        }
        if p_z > MAX_INNER_PROGRAM
            || !Budget::take(&mut budget.program, p_z)
            || self.machines.len() >= MAX_INNER_MACHINES
        {
            return HostOutcome::Panic;
        }
        let Some(blob) = memory::read(ctx, p_o, p_z) else {
            return HostOutcome::Panic;
        };
        let Ok(program) = Program::from_blob(&blob) else {
            ctx.set_reg(7, HUH);
            return HostOutcome::Continue;
        };
        // The least free index: with at most MAX_INNER_MACHINES keys, one of 0..=len is free.
        let n = (0..).find(|n| !self.machines.contains_key(n)).unwrap_or(0);
        // A counter past 2^32 names no instruction; u32::MAX names none either (no code is that
        // long), so the first run traps there as the paper's would.
        let start = u32::try_from(i).unwrap_or(u32::MAX);
        let machine = crate::backend::new_machine(
            Arc::new(program),
            start,
            0,
            Some(&orrery_crypto::blake2b_256(&blob)),
        );
        self.machines.insert(n, InnerMachine { machine, pc: i });
        ctx.set_reg(7, n);
        HostOutcome::Continue
    }

    /// `Ω_P` (`peek` = 9): copies `ω10` octets from `ω9` of inner machine `ω7`'s RAM to `ω8` of the
    /// caller's. `WHO` for no such machine, `OOB` when the inner range is not readable.
    pub fn peek(&mut self, ctx: &mut HostContext<'_>, budget: &mut Budget) -> HostOutcome {
        let [n, o, s, z] = reg_array::<4>(ctx);
        if !memory::is_writable(ctx, o, z) {
            return HostOutcome::Panic;
        }
        let Some(inner) = self.machines.get(&n) else {
            ctx.set_reg(7, WHO);
            return HostOutcome::Continue;
        };
        if !inner_accessible(&*inner.machine, s, z, false) {
            ctx.set_reg(7, OOB);
            return HostOutcome::Continue;
        }
        if !Budget::take(&mut budget.copy, z) {
            return HostOutcome::Panic;
        }
        let copied = copy_in_chunks(
            s,
            o,
            z,
            |at, chunk| inner.machine.memory().read(at, chunk).is_ok(),
            |at, chunk| ctx.memory_mut().write(at, chunk).is_ok(),
        );
        if !copied {
            return HostOutcome::Panic;
        }
        ctx.set_reg(7, OK);
        HostOutcome::Continue
    }

    /// `Ω_O` (`poke` = 10): copies `ω10` octets from `ω8` of the caller's RAM to `ω9` of inner
    /// machine `ω7`'s. `WHO` for no such machine, `OOB` when the inner range is not writable.
    pub fn poke(&mut self, ctx: &mut HostContext<'_>, budget: &mut Budget) -> HostOutcome {
        let [n, s, o, z] = reg_array::<4>(ctx);
        if !memory::is_readable(ctx, s, z) {
            return HostOutcome::Panic;
        }
        let Some(inner) = self.machines.get_mut(&n) else {
            ctx.set_reg(7, WHO);
            return HostOutcome::Continue;
        };
        if !inner_accessible(&*inner.machine, o, z, true) {
            ctx.set_reg(7, OOB);
            return HostOutcome::Continue;
        }
        if !Budget::take(&mut budget.copy, z) {
            return HostOutcome::Panic;
        }
        let copied = copy_in_chunks(
            s,
            o,
            z,
            |at, chunk| ctx.memory().read(at, chunk).is_ok(),
            |at, chunk| inner.machine.memory_mut().write(at, chunk).is_ok(),
        );
        if !copied {
            return HostOutcome::Panic;
        }
        ctx.set_reg(7, OK);
        HostOutcome::Continue
    }

    /// `Ω_Z` (`pages` = 11): sets the access of pages `ω8 … ω8+ω9` of inner machine `ω7` by mode
    /// `ω10`: 0 inaccessible, 1 read-only, 2 read-write (all three zero the pages), 3 read-only and
    /// 4 read-write keeping the contents (only of pages already accessible). `WHO` for no such
    /// machine; `HUH` for a mode past 4, a page below 16 or a range reaching page 2^20 − 1.
    pub fn pages(&mut self, ctx: &mut HostContext<'_>, budget: &mut Budget) -> HostOutcome {
        let [n, p, c, r] = reg_array::<4>(ctx);
        let Some(inner) = self.machines.get_mut(&n) else {
            ctx.set_reg(7, WHO);
            return HostOutcome::Continue;
        };
        let in_range = p.checked_add(c).is_some_and(|end| end < PAGE_COUNT);
        if r > 4 || p < 16 || !in_range {
            ctx.set_reg(7, HUH);
            return HostOutcome::Continue;
        }
        if !Budget::take(&mut budget.pages, c) {
            return HostOutcome::Panic;
        }
        // p + c < 2^20, so page addresses and lengths fit in 32 bits.
        let (start, length) = ((p * u64::from(PAGE_SIZE)) as u32, (c * u64::from(PAGE_SIZE)) as u32);
        let memory = inner.machine.memory_mut();
        if r > 2
            && (p..p + c)
                .any(|page| memory.access((page * u64::from(PAGE_SIZE)) as u32) == Access::Inaccessible)
        {
            ctx.set_reg(7, HUH);
            return HostOutcome::Continue;
        }
        // Making a page inaccessible discards its contents, which zeroes it for modes 0–2.
        let access = match r {
            0..=2 => {
                memory.set_access(start, length, Access::Inaccessible);
                [Access::Inaccessible, Access::ReadOnly, Access::ReadWrite][r as usize]
            }
            3 => Access::ReadOnly,
            _ => Access::ReadWrite,
        };
        memory.set_access(start, length, access);
        ctx.set_reg(7, OK);
        HostOutcome::Continue
    }

    /// `Ω_K` (`invoke` = 12): runs inner machine `ω7` with the gas and 13 registers encoded at `ω8`
    /// (`E8(g) ⌢ E8(w)`, 112 octets, which must be writable) until it exits, writes its gas and
    /// registers back there and returns how it ended in `ω7` ([`exit_code`]), with the host-call
    /// index or fault address in `ω8`. `WHO` for no such machine.
    ///
    /// The inner run gets at most `budget.inner_gas` (see [`super::guard`]); what it uses comes off.
    pub fn invoke(&mut self, ctx: &mut HostContext<'_>, budget: &mut Budget) -> HostOutcome {
        let [n, o] = reg_array::<2>(ctx);
        if !memory::is_writable(ctx, o, 112) {
            return HostOutcome::Panic;
        }
        let Some(block) = memory::read_array::<112>(ctx, o) else {
            return HostOutcome::Panic;
        };
        let Some(inner) = self.machines.get_mut(&n) else {
            ctx.set_reg(7, WHO);
            return HostOutcome::Continue;
        };
        let word = |i: usize| {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(&block[8 * i..8 * i + 8]);
            u64::from_le_bytes(bytes)
        };
        let requested = word(0);
        let given = requested.min(budget.inner_gas).min(i64::MAX as u64);
        let machine = &mut *inner.machine;
        machine.set_gas(given as i64);
        for (i, reg) in machine.regs_mut().iter_mut().enumerate() {
            *reg = word(1 + i);
        }
        let exit = machine.run();
        let (left, reported) = match exit {
            // Ψ_M counts a run out of gas as having used all of it; the register block says 0.
            Exit::OutOfGas => (0, 0),
            _ => {
                let left = machine.gas().max(0) as u64;
                (left, requested - (given - left))
            }
        };
        budget.inner_gas -= given - left;

        let mut out = [0u8; 112];
        out[..8].copy_from_slice(&reported.to_le_bytes());
        for (i, reg) in machine.regs().iter().enumerate().take(REGISTER_COUNT) {
            out[8 + 8 * i..16 + 8 * i].copy_from_slice(&reg.to_le_bytes());
        }
        let pc = machine.pc();
        inner.pc = match exit {
            // ı' + skip(ı') + 1: after the ecalli, where the machine resumes.
            Exit::HostCall(_) => u64::from(pc) + u64::from(machine.program().skip(pc)) + 1,
            // A counter past 2^32 stays as the caller gave it: the machine traps there again.
            Exit::Panic if inner.pc > u64::from(u32::MAX) => inner.pc,
            _ => u64::from(pc),
        };
        if !memory::write(ctx, o, &out) {
            return HostOutcome::Panic;
        }
        let (code, detail) = match exit {
            Exit::Halt => (exit_code::HALT, None),
            Exit::Panic => (exit_code::PANIC, None),
            Exit::OutOfGas => (exit_code::OOG, None),
            Exit::PageFault(address) => (exit_code::FAULT, Some(u64::from(address))),
            Exit::HostCall(index) => (exit_code::HOST, Some(index)),
        };
        ctx.set_reg(7, code);
        if let Some(detail) = detail {
            ctx.set_reg(8, detail);
        }
        HostOutcome::Continue
    }

    /// `Ω_X` (`expunge` = 13): removes inner machine `ω7`, returning its program counter; `WHO` for
    /// no such machine.
    pub fn expunge(&mut self, ctx: &mut HostContext<'_>) -> HostOutcome {
        match self.machines.remove(&ctx.reg(7)) {
            Some(inner) => ctx.set_reg(7, inner.pc),
            None => ctx.set_reg(7, WHO),
        }
        HostOutcome::Continue
    }
}

/// Copies `len` octets from `from` (through `read`) to `to` (through `write`) a bounded chunk at a
/// time, so a large copy never needs a buffer of its whole length; false when either side fails.
/// Both ranges were checked to lie below 2^32 by the caller, so the u32 arithmetic cannot wrap.
fn copy_in_chunks(
    from: u64,
    to: u64,
    len: u64,
    mut read: impl FnMut(u32, &mut [u8]) -> bool,
    mut write: impl FnMut(u32, &[u8]) -> bool,
) -> bool {
    let (mut from, mut to, mut left) = (from as u32, to as u32, len as u32);
    let mut buffer = vec![0u8; left.min(CHUNK) as usize];
    while left > 0 {
        let step = left.min(CHUNK);
        let chunk = &mut buffer[..step as usize];
        if !read(from, chunk) || !write(to, chunk) {
            return false;
        }
        (from, to, left) = (from.wrapping_add(step), to.wrapping_add(step), left - step);
    }
    true
}
