//! Memory ranges as the host functions name them: `N_{o…+l}` from 64-bit registers.
//!
//! The paper's readable and writable sets `V_μ` and `V*_μ` hold addresses below 2^32, so a range
//! reaching past 2^32 is never inside them; an empty range is inside every set. The checks look at
//! page access only; the data is copied after, so nothing is allocated for a range that fails.

use orrery_pvm::HostContext;

/// `[address, address + length)` as 32-bit values, when it lies below 2^32.
fn bounded(address: u64, length: u64) -> Option<(u32, u32)> {
    let end = address.checked_add(length)?;
    if end > 1 << 32 {
        return None;
    }
    Some((u32::try_from(address).ok()?, u32::try_from(length).ok()?))
}

/// Whether `N_{address…+length} ⊆ V_μ`.
pub fn is_readable(ctx: &HostContext<'_>, address: u64, length: u64) -> bool {
    if length == 0 {
        return true;
    }
    bounded(address, length).is_some_and(|(a, l)| ctx.memory().is_readable(a, l))
}

/// Whether `N_{address…+length} ⊆ V*_μ`.
pub fn is_writable(ctx: &HostContext<'_>, address: u64, length: u64) -> bool {
    if length == 0 {
        return true;
    }
    bounded(address, length).is_some_and(|(a, l)| ctx.memory().is_writable(a, l))
}

/// `μ_{address…+length}`, or `None` when the range is not readable.
pub fn read(ctx: &HostContext<'_>, address: u64, length: u64) -> Option<Vec<u8>> {
    if length == 0 {
        return Some(Vec::new());
    }
    let (a, l) = bounded(address, length)?;
    ctx.memory().read_vec(a, l).ok()
}

/// `μ_{address…+N}` into an array, or `None` when not readable.
pub fn read_array<const N: usize>(ctx: &HostContext<'_>, address: u64) -> Option<[u8; N]> {
    let mut out = [0u8; N];
    if N == 0 {
        return Some(out);
    }
    let (a, _) = bounded(address, N as u64)?;
    ctx.memory().read(a, &mut out).ok()?;
    Some(out)
}

/// Writes `data` at `address`; false (writing nothing) when the range is not writable.
pub fn write(ctx: &mut HostContext<'_>, address: u64, data: &[u8]) -> bool {
    if data.is_empty() {
        return true;
    }
    match bounded(address, data.len() as u64) {
        Some((a, _)) => ctx.memory_mut().write(a, data).is_ok(),
        None => false,
    }
}

/// The paper's output pattern shared by `fetch`, `lookup`, `read` and `info`: with `v` the value,
/// `f = min(ω_first, |v|)`, `l = min(ω_first+1, |v| − f)`; a panic when `N_{o…+l}` is not writable,
/// `NONE` when there is no value, else `v_{f…+l}` written at `o` and `ω7 = |v|`. Returns false for a
/// panic.
pub fn write_result(ctx: &mut HostContext<'_>, output: u64, value: Option<&[u8]>, first: usize) -> bool {
    let Some(value) = value else {
        // No value: `l` is 0, the empty range is writable, and the result is NONE.
        ctx.set_reg(7, crate::codes::NONE);
        return true;
    };
    let len = value.len() as u64;
    let f = ctx.reg(first).min(len);
    let l = ctx.reg(first + 1).min(len - f);
    if !is_writable(ctx, output, l) {
        return false;
    }
    // f + l ≤ |v|, both fit in usize.
    let slice = &value[f as usize..(f + l) as usize];
    if !write(ctx, output, slice) {
        return false;
    }
    ctx.set_reg(7, len);
    true
}
