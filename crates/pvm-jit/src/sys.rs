//! Everything that touches raw memory, in one place: executable code pages (W^X), the guest's
//! sandbox (a reserved address range), the SIGSEGV handler, entering compiled code, and the two
//! functions compiled code calls back (a memory access the hardware refused, and `sbrk`).
//!
//! The sandbox is one anonymous mapping, reserved `PROT_NONE` and `MAP_NORESERVE`:
//!
//! ```text
//! | protections: 2^20 bytes | page map: 2^20 bytes | context: 4 KiB | guest memory: 2^32 bytes | guard: 64 KiB |
//!                                                                     ^ base (the GS base in compiled code)
//! ```
//!
//! Compiled code forms every guest address as a 32-bit value (`gs:` with 32-bit address
//! arithmetic, so at most `base + 2^32 - 1`) and accesses at most 8 bytes at it, so nothing a guest
//! names lies outside the mapping. A guest page's host protection follows its access (none, read,
//! read-write) while compiled code runs: an access the guest may not make faults, and the SIGSEGV
//! handler here redoes it from the access's [`Site`] (its registers, width and slot) exactly as the
//! interpreter's memory does (the page map records each page's access for it), then resumes after
//! it or leaves through the code's epilogue with the exit recorded. Accesses across pages that are
//! both usable, which the interpreter allows, simply succeed; one past 2^32 reaches the guard and
//! is redone by the handler with the paper's wrap-around. Compiled code carries no slow path of
//! its own.

#![allow(unsafe_code)]

use std::cell::Cell;
use std::io;
use std::mem::{offset_of, ManuallyDrop};
use std::sync::{Once, OnceLock};

use orrery_pvm::{Access, MemoryError, PAGE_SIZE};

/// Bytes of each page map: one per guest page (bit 0 readable, bit 1 writable).
pub(crate) const MAP_BYTES: usize = 1 << 20;
/// Bytes of the context page.
pub(crate) const CTX_BYTES: usize = 4096;
const GUEST_BYTES: usize = 1 << 32;
const GUARD_BYTES: usize = 1 << 16;
/// The two page maps (the host protection of each page, then the guest's access) and the context.
const HEADER_BYTES: usize = 2 * MAP_BYTES + CTX_BYTES;
const TOTAL_BYTES: usize = HEADER_BYTES + GUEST_BYTES + GUARD_BYTES;
/// The context's displacement from the guest base.
pub(crate) const CTX_DISP: i32 = -(CTX_BYTES as i32);
/// Addresses below this panic rather than fault (GP 0.7.2 §A.4).
const LOW_LIMIT: u32 = 1 << 16;

const READ: u8 = 1;
const WRITE: u8 = 2;

/// Why compiled code returned (`Ctx::exit_kind`).
pub(crate) mod exit {
    pub(crate) const HALT: u32 = 1;
    pub(crate) const PANIC: u32 = 2;
    pub(crate) const HOST_CALL: u32 = 3;
    pub(crate) const PAGE_FAULT: u32 = 4;
    /// A block's gas could not be paid: `exit_slot` is the block's first slot, gas is untouched.
    pub(crate) const GAS_SHORT: u32 = 5;
}

/// The state compiled code and the host share, at `base + CTX_DISP`.
#[repr(C)]
#[derive(Debug, Default)]
pub(crate) struct Ctx {
    pub regs: [u64; 13],
    pub gas: i64,
    /// The host stack pointer at entry, restored by the epilogue.
    pub host_rsp: u64,
    pub exit_kind: u32,
    /// The slot whose instruction caused the exit.
    pub exit_slot: u32,
    pub exit_arg: u64,
    /// `sbrk`'s state: where the search for the break starts, and the first address it may not reach.
    pub heap_top: u32,
    pub heap_limit: u64,
    /// Page ranges `[first, end)` whose access was ever set, so that a sandbox can be reset for
    /// reuse without a scan of the page map (see [`Sandbox::reset`]); `spans[..span_count]`.
    pub spans: [[u32; 2]; SPANS],
    pub span_count: u32,
    /// Some page's host protection may be wider than its access (left by a reset, a loader's
    /// write or a narrowed access): [`Sandbox::settle`] narrows it before compiled code runs.
    pub unsettled: u32,
}

/// Spans kept apart in [`Ctx::spans`]; past it they merge into one covering range.
const SPANS: usize = 16;

const _: () = assert!(std::mem::size_of::<Ctx>() <= CTX_BYTES);

pub(crate) const CTX_REGS: i32 = CTX_DISP + offset_of!(Ctx, regs) as i32;
pub(crate) const CTX_GAS: i32 = CTX_DISP + offset_of!(Ctx, gas) as i32;
pub(crate) const CTX_HOST_RSP: i32 = CTX_DISP + offset_of!(Ctx, host_rsp) as i32;
pub(crate) const CTX_EXIT_KIND: i32 = CTX_DISP + offset_of!(Ctx, exit_kind) as i32;
pub(crate) const CTX_EXIT_SLOT: i32 = CTX_DISP + offset_of!(Ctx, exit_slot) as i32;
pub(crate) const CTX_EXIT_ARG: i32 = CTX_DISP + offset_of!(Ctx, exit_arg) as i32;

/// Machine code in its own mapping: written while writable, then made read-execute, never both.
#[derive(Debug)]
pub(crate) struct Code {
    ptr: *mut u8,
    len: usize,
}

// SAFETY: the mapping is immutable (read-execute) once built and owned by this value alone; sharing
// it between threads shares only reads and executions of fixed bytes.
unsafe impl Send for Code {}
// SAFETY: as for Send.
unsafe impl Sync for Code {}

impl Code {
    pub(crate) fn new(bytes: &[u8]) -> io::Result<Code> {
        install_handler()?;
        let len = bytes.len().max(1).div_ceil(4096) * 4096;
        // SAFETY: a fresh private anonymous mapping; no existing memory is affected.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                // Populated at once: the copy below writes every page, and one call that fills them
                // costs less than a fault for each.
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_POPULATE,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let code = Code { ptr: ptr.cast(), len };
        // SAFETY: the mapping is `len >= bytes.len()` writable bytes that nothing else references.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), code.ptr, bytes.len()) };
        // SAFETY: changes the protection of our own mapping only.
        if unsafe { libc::mprotect(code.ptr.cast(), len, libc::PROT_READ | libc::PROT_EXEC) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(code)
    }
}

impl Code {
    /// The machine code, for inspection.
    pub(crate) fn bytes(&self, len: usize) -> &[u8] {
        // SAFETY: the mapping is `self.len` readable bytes that are never written after `new`.
        unsafe { std::slice::from_raw_parts(self.ptr, len.min(self.len)) }
    }
}

impl Drop for Code {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping this value owns; no reference into it outlives it.
        unsafe { libc::munmap(self.ptr.cast(), self.len) };
    }
}

/// A guest's memory and context (see the module docs).
#[derive(Debug)]
pub struct Sandbox {
    start: *mut u8,
}

// SAFETY: the mapping is owned by this value alone and reached only through `&self`/`&mut self`
// (or, while compiled code runs, through the `&mut Sandbox` that `enter` holds).
unsafe impl Send for Sandbox {}
// SAFETY: `&Sandbox` methods only read.
unsafe impl Sync for Sandbox {}

/// Reset sandboxes kept for the next [`Sandbox::new`]: reserving and releasing 4 GiB of address
/// space for every run costs more than a short run itself (the kernel's mapping work), so a dropped
/// sandbox is reset (its pages discarded and made inaccessible, its context zeroed) and kept,
/// up to this many.
const POOL_LIMIT: usize = 16;

static POOL: std::sync::Mutex<Vec<Sandbox>> = std::sync::Mutex::new(Vec::new());

impl Drop for Sandbox {
    fn drop(&mut self) {
        if self.start.is_null() {
            return;
        }
        if let Ok(mut pool) = POOL.lock() {
            if pool.len() < POOL_LIMIT {
                let mut kept = Sandbox { start: std::mem::replace(&mut self.start, std::ptr::null_mut()) };
                kept.reset();
                pool.push(kept);
                return;
            }
        }
        // SAFETY: unmaps exactly the mapping this value owns.
        unsafe { libc::munmap(self.start.cast(), TOTAL_BYTES) };
    }
}

/// How [`Sandbox::reprotect`] changes a page's host protection, from its access and protection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    /// To at least its access (what the host's own copies need at once).
    Widen,
    /// To exactly its access (what compiled code needs).
    Narrow,
    /// To read-write where it is accessible at all (a loader writing read-only data).
    Loadable,
}

impl Change {
    fn target(self, access: u8, protection: u8) -> u8 {
        match self {
            Change::Widen => access | protection,
            Change::Narrow => access,
            Change::Loadable if access != 0 => READ | WRITE,
            Change::Loadable => protection,
        }
    }

    /// Whether eight pages (their accesses and protections as words) all keep their protection.
    fn keeps(self, access: u64, protection: u64) -> bool {
        match self {
            Change::Widen => access & !protection == 0,
            Change::Narrow => access == protection,
            Change::Loadable => access
                .to_ne_bytes()
                .iter()
                .zip(protection.to_ne_bytes())
                .all(|(&a, p)| self.target(a, p) == p),
        }
    }
}

/// Eight entries of a page map from `at`, as a word.
fn word(map: &[u8], at: usize) -> u64 {
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&map[at..at + 8]);
    u64::from_ne_bytes(bytes)
}

/// Whether every entry of `map` is `value`, a word at a time.
fn all_equal(map: &[u8], value: u8) -> bool {
    let words = map.chunks_exact(8);
    let rest = words.remainder();
    let same = u64::from_ne_bytes([value; 8]);
    rest.iter().all(|&b| b == value) && words.map(|w| word(w, 0)).all(|w| w == same)
}

/// The `mprotect` protection of page-map bits.
fn prot_of(bits: u8) -> i32 {
    match bits {
        0 => libc::PROT_NONE,
        READ => libc::PROT_READ,
        _ => libc::PROT_READ | libc::PROT_WRITE,
    }
}

fn bits(access: Access) -> u8 {
    match access {
        Access::Inaccessible => 0,
        Access::ReadOnly => READ,
        Access::ReadWrite => READ | WRITE,
    }
}

impl Sandbox {
    /// A sandbox with every guest page inaccessible and a zero context: a reset one from the pool,
    /// or a fresh reservation.
    pub(crate) fn new() -> io::Result<Sandbox> {
        if let Some(sandbox) = POOL.lock().ok().and_then(|mut pool| pool.pop()) {
            return Ok(sandbox);
        }
        Sandbox::reserve()
    }

    /// Makes every page whose access was ever set inaccessible again (contents discarded), clears
    /// the page map there and zeroes the context: the state [`Sandbox::reserve`] gives, as far as
    /// the guest and the host's checked accesses can tell. The pages keep their host protection
    /// until [`Sandbox::settle`] (so that a next guest with the same layout changes none), and
    /// their spans stay recorded for it.
    fn reset(&mut self) {
        let count = (self.ctx().span_count as usize).min(SPANS);
        let spans = self.ctx().spans;
        for &[first, end] in &spans[..count] {
            let (first, end) = (first as usize, end as usize);
            if first < end && end <= MAP_BYTES {
                self.clear_pages(first, end - 1);
                self.map_mut()[first..end].fill(0);
            }
        }
        *self.ctx_mut() = Ctx { spans, span_count: count as u32, unsettled: 1, ..Ctx::default() };
    }

    /// Makes the contents of guest pages `first..=last` zero: short runs of host-writable pages
    /// (a stack, a small heap) by writing zeros, so that the next guest finds them present instead
    /// of taking a fault on each; the rest by discarding them.
    fn clear_pages(&mut self, first: usize, last: usize) {
        const WRITE_ZEROS_UP_TO: usize = 64;
        let mut page = first;
        while page <= last {
            let protection = self.protections()[page];
            let mut end = page + 1;
            let same = u64::from_ne_bytes([protection; 8]);
            while end + 8 <= last + 1 && word(self.protections(), end) == same {
                end += 8;
            }
            while end <= last && self.protections()[end] == protection {
                end += 1;
            }
            if protection == READ | WRITE && end - page <= WRITE_ZEROS_UP_TO {
                let at = self.base().wrapping_add(page * PAGE_SIZE as usize);
                // SAFETY: whole guest pages of our own mapping (end <= 2^20), mapped read-write (the
                // protections say so); no reference into guest memory exists while `&mut self` is
                // held.
                unsafe { std::ptr::write_bytes(at, 0, (end - page) * PAGE_SIZE as usize) };
            } else if protection != 0 {
                self.discard_pages(page, end - 1);
            }
            page = end;
        }
    }

    /// Discards the contents of guest pages `first..=last` (below 2^20): they read as zero after.
    fn discard_pages(&mut self, first: usize, last: usize) {
        let at = self.base().wrapping_add(first * PAGE_SIZE as usize);
        let len = (last + 1 - first) * PAGE_SIZE as usize;
        // SAFETY: whole guest pages of our own mapping (last < 2^20); discarding them affects
        // nothing else, and no reference into guest memory exists while `&mut self` is held.
        unsafe { libc::madvise(at.cast(), len, libc::MADV_DONTNEED) };
    }

    /// Gives pages `first..=last` the host protection `change` asks for where they do not have it
    /// already, one `mprotect` per run of pages with the same new protection.
    fn reprotect(&mut self, first: usize, last: usize, change: Change) {
        let mut page = first;
        while page <= last {
            // Eight pages at a time while nothing changes: a long range (a heap of thousands of
            // pages) is mostly that.
            while page + 8 <= last + 1 && change.keeps(word(self.map(), page), word(self.protections(), page))
            {
                page += 8;
            }
            if page > last {
                break;
            }
            let want = change.target(self.map()[page], self.protections()[page]);
            if want == self.protections()[page] {
                page += 1;
                continue;
            }
            let mut end = page + 1;
            while end <= last
                && self.protections()[end] != want
                && change.target(self.map()[end], self.protections()[end]) == want
            {
                end += 1;
            }
            let at = self.base().wrapping_add(page * PAGE_SIZE as usize);
            let len = (end - page) * PAGE_SIZE as usize;
            // SAFETY: whole guest pages of our own mapping (end <= 2^20); no reference into guest
            // memory exists while `&mut self` is held.
            if unsafe { libc::mprotect(at.cast(), len, prot_of(want)) } != 0 {
                panic!("mprotect of guest pages failed: {}", io::Error::last_os_error());
            }
            self.protections_mut()[page..end].fill(want);
            page = end;
        }
    }

    /// Narrows every page's host protection to its access, where a reset, a loader's write or a
    /// narrowed access left it wider: what compiled code needs before it runs (the hardware's
    /// check is the access check). Nothing to do, and no system call, when nothing was left.
    pub(crate) fn settle(&mut self) {
        if self.ctx().unsettled == 0 {
            return;
        }
        let count = (self.ctx().span_count as usize).min(SPANS);
        let spans = self.ctx().spans;
        for &[first, end] in &spans[..count] {
            let (first, end) = (first as usize, end as usize);
            if first < end && end <= MAP_BYTES {
                self.reprotect(first, end - 1, Change::Narrow);
            }
        }
        self.ctx_mut().unsettled = 0;
    }

    /// Records that the access of pages `[first, end)` was set (see [`Ctx::spans`]).
    fn record_span(&mut self, first: u32, end: u32) {
        let ctx = self.ctx_mut();
        let count = (ctx.span_count as usize).min(SPANS);
        for span in &mut ctx.spans[..count] {
            // Overlapping or touching: widen it.
            if first <= span[1] && span[0] <= end {
                span[0] = span[0].min(first);
                span[1] = span[1].max(end);
                return;
            }
        }
        if count < SPANS {
            ctx.spans[count] = [first, end];
            ctx.span_count = count as u32 + 1;
        } else {
            let low = ctx.spans.iter().map(|s| s[0]).min().unwrap_or(first).min(first);
            let high = ctx.spans.iter().map(|s| s[1]).max().unwrap_or(end).max(end);
            ctx.spans[0] = [low, high];
            ctx.span_count = 1;
        }
    }

    /// Reserves a fresh sandbox with every guest page inaccessible.
    fn reserve() -> io::Result<Sandbox> {
        // SAFETY: a fresh private anonymous reservation; no existing memory is affected.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                TOTAL_BYTES,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the page maps and the context, at the start of our own mapping.
        let made = unsafe { libc::mprotect(ptr, HEADER_BYTES, libc::PROT_READ | libc::PROT_WRITE) };
        if made != 0 {
            let error = io::Error::last_os_error();
            // SAFETY: the mapping just made, never shared; not pooled, since it is unusable.
            unsafe { libc::munmap(ptr, TOTAL_BYTES) };
            return Err(error);
        }
        Ok(Sandbox { start: ptr.cast() })
    }

    /// The guest base: the GS base while compiled code runs in this sandbox.
    pub(crate) fn base(&self) -> *mut u8 {
        self.start.wrapping_add(HEADER_BYTES)
    }

    pub(crate) fn ctx(&self) -> &Ctx {
        // SAFETY: the context page is mapped read-write for the life of `self`, zero-initialised
        // (a valid `Ctx`: integers only), aligned to a page, and written only through `&mut self`.
        unsafe { &*self.start.add(2 * MAP_BYTES).cast::<Ctx>() }
    }

    pub(crate) fn ctx_mut(&mut self) -> &mut Ctx {
        // SAFETY: as in `ctx`, and `&mut self` makes this the only reference.
        unsafe { &mut *self.start.add(2 * MAP_BYTES).cast::<Ctx>() }
    }

    /// Each guest page's access (`READ`, `WRITE`): what the guest and the host's checks see.
    fn map(&self) -> &[u8] {
        // SAFETY: the page map is MAP_BYTES mapped read-write bytes after the protections.
        unsafe { std::slice::from_raw_parts(self.start.add(MAP_BYTES), MAP_BYTES) }
    }

    fn map_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `map`, with `&mut self`.
        unsafe { std::slice::from_raw_parts_mut(self.start.add(MAP_BYTES), MAP_BYTES) }
    }

    /// Each guest page's host protection now, in the same bits: never narrower than its access,
    /// and equal to it while compiled code runs (see [`Sandbox::settle`]).
    fn protections(&self) -> &[u8] {
        // SAFETY: the protections are MAP_BYTES mapped read-write bytes at the start of the mapping.
        unsafe { std::slice::from_raw_parts(self.start, MAP_BYTES) }
    }

    fn protections_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `protections`, with `&mut self`.
        unsafe { std::slice::from_raw_parts_mut(self.start, MAP_BYTES) }
    }

    /// Sets the access of every page overlapping `[address, address + length)` (no wrap at 2^32):
    /// as the interpreter's memory, making a page inaccessible discards its contents.
    ///
    /// # Panics
    /// If the kernel refuses to change the pages' protection (it can only run out of memory
    /// mappings, `vm.max_map_count`): running on with a protection other than the access would be
    /// wrong, not just slow.
    pub fn set_access(&mut self, address: u32, length: u32, access: Access) {
        if length == 0 {
            return;
        }
        let first = (address / PAGE_SIZE) as usize;
        let last = ((u64::from(address) + u64::from(length) - 1) / u64::from(PAGE_SIZE)) as usize;
        let last = last.min(MAP_BYTES - 1);
        if access == Access::Inaccessible && self.protections()[first..=last].iter().any(|&p| p != 0) {
            self.discard_pages(first, last);
        }
        let wanted = bits(access);
        self.map_mut()[first..=last].fill(wanted);
        self.record_span(first as u32, last as u32 + 1);
        // Widened at once, so that the host's own copies may follow; narrowed before compiled code
        // runs (a guest that reuses a pooled sandbox's layout changes no protection at all).
        self.reprotect(first, last, Change::Widen);
        if !all_equal(&self.protections()[first..=last], wanted) {
            self.ctx_mut().unsettled = 1;
        }
    }

    /// The access of the page holding `address`.
    pub fn access(&self, address: u32) -> Access {
        match self.map()[(address / PAGE_SIZE) as usize] {
            0 => Access::Inaccessible,
            READ => Access::ReadOnly,
            _ => Access::ReadWrite,
        }
    }

    /// Every accessible page's address and access, in address order.
    pub fn accessible_pages(&self) -> impl Iterator<Item = (u32, Access)> + '_ {
        // Eight entries at a time: a sparse map is mostly zero words.
        self.map()
            .chunks_exact(8)
            .enumerate()
            .filter(|(_, word)| u64::from_ne_bytes((*word).try_into().unwrap_or([0; 8])) != 0)
            .flat_map(|(w, word)| {
                word.iter().enumerate().filter(|(_, &b)| b != 0).map(move |(i, _)| (w * 8 + i) as u32)
            })
            .map(|page| (page * PAGE_SIZE, self.access(page * PAGE_SIZE)))
    }

    /// The first byte of `[address, address + length)` (wrapping) lacking `need`, as the
    /// interpreter's memory reports it.
    fn check(&self, address: u32, length: usize, need: u8) -> Result<(), MemoryError> {
        let map = self.map();
        let mut offset = 0usize;
        while offset < length {
            let at = address.wrapping_add(offset as u32);
            if map[(at / PAGE_SIZE) as usize] & need != need {
                return Err(if at < LOW_LIMIT {
                    MemoryError::LowAddress(at)
                } else {
                    MemoryError::PageFault(at & !(PAGE_SIZE - 1))
                });
            }
            offset += (PAGE_SIZE - at % PAGE_SIZE) as usize;
        }
        Ok(())
    }

    /// Copies out of checked-readable guest memory, wrapping at 2^32.
    fn copy_out(&self, address: u32, buf: &mut [u8]) {
        let mut done = 0usize;
        while done < buf.len() {
            let at = address.wrapping_add(done as u32);
            // Up to 2^32 at most: the rest wraps to address 0.
            let n = ((1u64 << 32) - u64::from(at)).min((buf.len() - done) as u64) as usize;
            // SAFETY: `check` found every page of [at, at + n) readable, so mapped with at least
            // PROT_READ; at + n ≤ 2^32 lies in the guest part of our mapping; `buf` is ours.
            unsafe {
                std::ptr::copy_nonoverlapping(self.base().add(at as usize), buf[done..].as_mut_ptr(), n)
            };
            done += n;
        }
    }

    /// Copies into guest memory, wrapping at 2^32; the pages must be writable at the host level.
    fn copy_in(&mut self, address: u32, data: &[u8]) {
        let mut done = 0usize;
        while done < data.len() {
            let at = address.wrapping_add(done as u32);
            let n = ((1u64 << 32) - u64::from(at)).min((data.len() - done) as u64) as usize;
            // SAFETY: the caller made sure every page of [at, at + n) is mapped read-write; at + n ≤
            // 2^32 lies in the guest part of our mapping, and `&mut self` excludes other access.
            unsafe { std::ptr::copy_nonoverlapping(data[done..].as_ptr(), self.base().add(at as usize), n) };
            done += n;
        }
    }

    /// Reads `buf.len()` bytes from `address` if all are readable (V_μ).
    pub fn read(&self, address: u32, buf: &mut [u8]) -> Result<(), MemoryError> {
        self.check(address, buf.len(), READ)?;
        self.copy_out(address, buf);
        Ok(())
    }

    /// A convenience over [`Sandbox::read`].
    pub fn read_vec(&self, address: u32, length: u32) -> Result<Vec<u8>, MemoryError> {
        self.check(address, length as usize, READ)?;
        let mut buf = vec![0; length as usize];
        self.copy_out(address, &mut buf);
        Ok(buf)
    }

    /// Writes `data` at `address` if all of it is writable (V*_μ).
    pub fn write(&mut self, address: u32, data: &[u8]) -> Result<(), MemoryError> {
        self.check(address, data.len(), READ | WRITE)?;
        self.copy_in(address, data);
        Ok(())
    }

    /// Writes into accessible pages, read-only ones included (how a loader fills read-only data).
    pub fn write_initial(&mut self, address: u32, data: &[u8]) -> Result<(), MemoryError> {
        self.check(address, data.len(), READ)?;
        if data.is_empty() {
            return Ok(());
        }
        let end = u64::from(address) + data.len() as u64;
        if end > 1 << 32 {
            // Wraps past 2^32: split there, each part its own range of pages.
            let split = ((1u64 << 32) - u64::from(address)) as usize;
            self.write_initial(address, &data[..split])?;
            return self.write_initial(0, &data[split..]);
        }
        let first = (address / PAGE_SIZE) as usize;
        let last = ((end - 1) / u64::from(PAGE_SIZE)) as usize;
        // Read-only pages are made writable for the copy; `settle` gives them back their access
        // before the guest runs.
        if (first..=last).any(|page| self.protections()[page] & WRITE == 0) {
            self.reprotect(first, last, Change::Loadable);
            self.ctx_mut().unsettled = 1;
        }
        self.copy_in(address, data);
        Ok(())
    }

    /// Whether `[address, address + length)` is readable.
    pub fn is_readable(&self, address: u32, length: u32) -> bool {
        self.check(address, length as usize, READ).is_ok()
    }

    /// Whether `[address, address + length)` is writable.
    pub fn is_writable(&self, address: u32, length: u32) -> bool {
        self.check(address, length as usize, READ | WRITE).is_ok()
    }
}

/// Redoes the access at `site` that the hardware refused (on a page the guest may not use that
/// way, or past 2^32 into the guard) exactly as the interpreter would, `value` being a store's:
/// the loaded value (0 for a store), or none after recording the exit (a panic below 2^16, a page
/// fault) and its slot in the context.
fn redo_access(sandbox: &mut Sandbox, site: &Site, address: u32, value: u64) -> Option<u64> {
    let width = usize::from(site.kind & 0xf).min(8);
    let signed = site.kind & SIGNED != 0;
    let result = if site.kind & STORE != 0 {
        sandbox.write(address, &value.to_le_bytes()[..width]).map(|()| 0)
    } else {
        let mut bytes = [0u8; 8];
        sandbox.read(address, &mut bytes[..width]).map(|()| {
            let raw = u64::from_le_bytes(bytes);
            match (width, signed) {
                (1, true) => raw as u8 as i8 as i64 as u64,
                (2, true) => raw as u16 as i16 as i64 as u64,
                (4, true) => raw as u32 as i32 as i64 as u64,
                _ => raw,
            }
        })
    };
    let c = sandbox.ctx_mut();
    match result {
        Ok(value) => Some(value),
        Err(MemoryError::LowAddress(_)) => {
            c.exit_kind = exit::PANIC;
            c.exit_slot = site.slot;
            None
        }
        Err(MemoryError::PageFault(page)) => {
            c.exit_kind = exit::PAGE_FAULT;
            c.exit_slot = site.slot;
            c.exit_arg = u64::from(page);
            None
        }
    }
}

/// `sbrk` (§A.5.9) as orrery-pvm's interpreter does it (see its `sbrk`): the break is a byte
/// address; while it sits on a page boundary accessible pages at it are skipped; a request past
/// the heap's limit returns 0 and changes nothing.
/// Called only by compiled code, so inside `enter`: the sandbox is the one this thread runs in.
pub(crate) extern "C" fn sbrk(size: u64) -> u64 {
    let running = RUNNING.with(Cell::get);
    // `enter` holds that sandbox exclusively for the duration of the call, and compiled code
    // touches nothing of it while this runs; the handle is not dropped (the pool keeps it).
    let mut sandbox = ManuallyDrop::new(Sandbox { start: running.sandbox });
    crate::instance::sbrk(&mut sandbox, size)
}

/// A site's register field when it names none.
pub(crate) const NO_REG: u8 = 0xff;
/// [`Site::kind`]'s bits above the width.
pub(crate) const SIGNED: u8 = 0x10;
pub(crate) const STORE: u8 = 0x20;

/// A guest memory access in compiled code: one instruction, which the hardware refuses exactly
/// where the guest may not make it (and past 2^32), and what the fault handler needs to redo it
/// as the interpreter would. Compiled code keeps them sorted by `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Site {
    /// The access instruction's offset in the code, and the offset right after it.
    pub at: u32,
    pub back: u32,
    /// The slot of the instruction it belongs to.
    pub slot: u32,
    /// The address: host register `base`'s low 32 bits plus `offset`, wrapping at 2^32, or the
    /// fixed address `offset` when `base` is [`NO_REG`].
    pub base: u8,
    pub offset: u32,
    /// The width in bytes (1, 2, 4, 8), with [`SIGNED`] and [`STORE`].
    pub kind: u8,
    /// A load's destination host register; a store's value host register, or [`NO_REG`] for `imm`.
    pub reg: u8,
    /// A store's immediate, sign-extended to 64 bits.
    pub imm: i32,
}

/// Every guest memory access of a compiled program, sorted by offset.
pub(crate) type Sites = Vec<Site>;

/// The `gregs` index in a signal's context of each host register, by its hardware number.
const GREGS: [libc::c_int; 16] = [
    libc::REG_RAX,
    libc::REG_RCX,
    libc::REG_RDX,
    libc::REG_RBX,
    libc::REG_RSP,
    libc::REG_RBP,
    libc::REG_RSI,
    libc::REG_RDI,
    libc::REG_R8,
    libc::REG_R9,
    libc::REG_R10,
    libc::REG_R11,
    libc::REG_R12,
    libc::REG_R13,
    libc::REG_R14,
    libc::REG_R15,
];

/// What the fault handler needs of the code a thread runs: where it is, its sites, the sandbox it
/// runs in and where it leaves.
#[derive(Debug, Clone, Copy)]
struct Running {
    start: usize,
    len: usize,
    sites: *const Site,
    site_count: usize,
    sandbox: *mut u8,
    exit: usize,
}

const NOT_RUNNING: Running = Running {
    start: 0,
    len: 0,
    sites: std::ptr::null(),
    site_count: 0,
    sandbox: std::ptr::null_mut(),
    exit: 0,
};

thread_local! {
    /// The code running on this thread, for the fault handler; [`NOT_RUNNING`] when none runs. A
    /// const-initialised cell of plain data needs no lazy initialisation or destructor, so reading
    /// it in a signal handler does no allocation.
    static RUNNING: Cell<Running> = const { Cell::new(NOT_RUNNING) };
}

/// The SIGSEGV action before ours, to pass on faults that are not guest accesses.
struct Previous(libc::sigaction);
// SAFETY: written once, before our handler is installed, and only read after.
unsafe impl Sync for Previous {}
// SAFETY: as for Sync.
unsafe impl Send for Previous {}

static PREVIOUS: OnceLock<Previous> = OnceLock::new();
static INSTALL: Once = Once::new();

/// Installs the fault handler once per process. Guest accesses are plain loads and stores at
/// `base + address`; the host protection of every guest page follows its access, so an access the
/// guest may not make faults, and the handler redoes it from its site exactly as the interpreter
/// does (a page fault, a panic, or the access itself when it was only across pages or past 2^32).
fn install_handler() -> io::Result<()> {
    let mut result = Ok(());
    INSTALL.call_once(|| {
        // SAFETY: plain-data structures initialised by zeroing and filled as sigaction(2) expects;
        // the handler is an `extern "C"` function with the SA_SIGINFO signature.
        unsafe {
            let mut previous: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(libc::SIGSEGV, std::ptr::null(), &mut previous) != 0 {
                result = Err(io::Error::last_os_error());
                return;
            }
            let _ = PREVIOUS.set(Previous(previous));
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_fault as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut action.sa_mask);
            if libc::sigaction(libc::SIGSEGV, &action, std::ptr::null_mut()) != 0 {
                result = Err(io::Error::last_os_error());
            }
        }
    });
    result
}

extern "C" fn on_fault(signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    let running = RUNNING.try_with(Cell::get).unwrap_or(NOT_RUNNING);
    if running.start != 0 {
        // SAFETY: the kernel passes a valid ucontext_t for an SA_SIGINFO handler. `running` describes
        // the code this thread is running, its site table and its sandbox (set by `enter` for the
        // duration of the call; none of them can be dropped while it runs), and a fault at an
        // address inside that code comes from this thread running it, so the sandbox is the one
        // `enter` holds exclusively and nothing else touches it until the handler returns.
        unsafe {
            let context = &mut *context.cast::<libc::ucontext_t>();
            let gregs = &mut context.uc_mcontext.gregs;
            let rip = gregs[libc::REG_RIP as usize] as usize;
            if rip >= running.start && rip < running.start + running.len {
                let sites = std::slice::from_raw_parts(running.sites, running.site_count);
                if let Ok(i) = sites.binary_search_by_key(&((rip - running.start) as u32), |site| site.at) {
                    let site = &sites[i];
                    let register = |r: u8| gregs[GREGS[usize::from(r & 15)] as usize] as u64;
                    let address = match site.base {
                        NO_REG => site.offset,
                        base => (register(base) as u32).wrapping_add(site.offset),
                    };
                    let value = match site.reg {
                        NO_REG => site.imm as i64 as u64,
                        reg => register(reg),
                    };
                    let mut sandbox = ManuallyDrop::new(Sandbox { start: running.sandbox });
                    let resume = match redo_access(&mut sandbox, site, address, value) {
                        Some(loaded) => {
                            if site.kind & STORE == 0 {
                                gregs[GREGS[usize::from(site.reg & 15)] as usize] = loaded as i64;
                            }
                            site.back as usize
                        }
                        None => running.exit,
                    };
                    gregs[libc::REG_RIP as usize] = (running.start + resume) as i64;
                    return;
                }
            }
        }
    }
    // Not a guest access: whatever handled SIGSEGV before us handles it.
    match PREVIOUS.get() {
        Some(Previous(previous)) if previous.sa_sigaction == libc::SIG_IGN => {}
        Some(Previous(previous)) if previous.sa_sigaction != libc::SIG_DFL => {
            // SAFETY: the previous action's handler, called as its flags say it expects.
            unsafe {
                if previous.sa_flags & libc::SA_SIGINFO != 0 {
                    let handler = std::mem::transmute::<
                        usize,
                        extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void),
                    >(previous.sa_sigaction);
                    handler(signal, info, context);
                } else {
                    let handler =
                        std::mem::transmute::<usize, extern "C" fn(libc::c_int)>(previous.sa_sigaction);
                    handler(signal);
                }
            }
        }
        _ => {
            // The default action: restored, so that the faulting instruction faults again on return
            // and the process ends as it would have without us.
            // SAFETY: a zeroed sigaction with SIG_DFL is a valid argument.
            unsafe {
                let mut default: libc::sigaction = std::mem::zeroed();
                default.sa_sigaction = libc::SIG_DFL;
                libc::sigaction(libc::SIGSEGV, &default, std::ptr::null_mut());
            }
        }
    }
}

/// Whether this thread may set its GS base with `wrgsbase`: the CPU has FSGSBASE and the kernel
/// enabled it (Linux 5.9 and later say so in `AT_HWCAP2`). Without it `wrgsbase` faults, so code
/// is compiled to leave the GS base to `enter`, which sets it with `arch_prctl` (two system calls
/// a run instead of two instructions).
pub(crate) fn gs_base_writable() -> bool {
    const HWCAP2_FSGSBASE: libc::c_ulong = 1 << 1;
    static WRITABLE: OnceLock<bool> = OnceLock::new();
    // SAFETY: getauxval reads the process's auxiliary vector; any type is a valid argument.
    *WRITABLE.get_or_init(|| unsafe { libc::getauxval(libc::AT_HWCAP2) } & HWCAP2_FSGSBASE != 0)
}

/// The entry of compiled code: `prologue(base, target)` (see `compile::prologue`).
type Entry = unsafe extern "sysv64" fn(*mut u8, *const u8);

/// Runs compiled code from `offset` until it exits.
///
/// The code must come from `compile::compile` (its prologue at offset 0) and `offset` must be one
/// of its slot entries; the caller guarantees both by construction.
/// The thread's GS base, by `arch_prctl`.
fn gs_base_by_syscall() -> io::Result<u64> {
    const ARCH_GET_GS: libc::c_int = 0x1004;
    let mut base = 0u64;
    // SAFETY: ARCH_GET_GS writes the thread's GS base to the `u64` the pointer names.
    if unsafe { libc::syscall(libc::SYS_arch_prctl, ARCH_GET_GS, &mut base as *mut u64) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(base)
}

/// Sets the thread's GS base by `arch_prctl`.
fn set_gs_base_by_syscall(base: u64) -> io::Result<()> {
    const ARCH_SET_GS: libc::c_int = 0x1001;
    // SAFETY: sets this thread's GS base, which nothing in a Rust program on x86-64 Linux reads
    // (thread-locals use FS) but the compiled code `enter` runs.
    if unsafe { libc::syscall(libc::SYS_arch_prctl, ARCH_SET_GS, base) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A fault at one of `sites` the guest may not make leaves through `exit`, the code's epilogue,
/// with the exit recorded in the context. Code compiled without setting the GS base itself
/// (`sets_gs`, see [`gs_base_writable`]) has it set here around the call.
///
/// # Panics
/// If the kernel refuses to set the GS base (it cannot for a valid user address): running the code
/// with another base would let it write elsewhere.
pub(crate) fn enter(
    code: &Code,
    sites: &Sites,
    exit: usize,
    sets_gs: bool,
    sandbox: &mut Sandbox,
    offset: usize,
) {
    debug_assert!(offset < code.len);
    // The hardware checks the guest's accesses only where every page's protection is its access.
    sandbox.settle();
    let running = Running {
        start: code.ptr as usize,
        len: code.len,
        sites: sites.as_ptr(),
        site_count: sites.len(),
        sandbox: sandbox.start,
        exit,
    };
    let outer = RUNNING.with(|r| r.replace(running));
    // SAFETY: `code.ptr` is the start of read-execute machine code whose offset 0 is the prologue,
    // a `sysv64` function of two pointer arguments that saves and restores every callee-saved
    // register, the stack pointer and (when `sets_gs`, compiled only where `wrgsbase` works) the
    // thread's GS base, and returns normally (see `compile::prologue`); otherwise the GS base was
    // set above. The
    // target is an instruction boundary inside the same code. The compiled code reads and writes
    // only the sandbox at `base`, which it makes the GS base: guest accesses at `base + a` for a
    // 32-bit `a` (32-bit address arithmetic under `gs:`) and at most 8 bytes (inside the guest
    // range and its guard), faulting unless the page's host protection, settled above to the
    // page's access, allows them (the fault handler then redoes them in this sandbox, knowing this
    // code through `RUNNING`, and resumes it or sends it to `exit`), and the context below it. It
    // calls only `sbrk`, which finds that sandbox through `RUNNING`; `&mut sandbox` gives it to
    // them exclusively for the duration of the call.
    let outer_gs = if sets_gs {
        None
    } else {
        let outer = gs_base_by_syscall().expect("the thread's GS base");
        set_gs_base_by_syscall(sandbox.base() as u64).expect("setting the GS base");
        Some(outer)
    };
    unsafe {
        let entry: Entry = std::mem::transmute::<*mut u8, Entry>(code.ptr);
        entry(sandbox.base(), code.ptr.add(offset));
    }
    if let Some(outer) = outer_gs {
        set_gs_base_by_syscall(outer).expect("restoring the GS base");
    }
    RUNNING.with(|r| r.set(outer));
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use orrery_pvm::{Access, Exit, Program};

    use crate::compile::compile_with;
    use crate::Instance;

    fn gs_base() -> u64 {
        super::gs_base_by_syscall().expect("arch_prctl")
    }

    fn set_gs_base(base: u64) {
        super::set_gs_base_by_syscall(base).expect("arch_prctl");
    }

    /// Compiled code makes the sandbox the GS base; the thread's own must be back after every
    /// kind of exit, including one the fault handler sends out of a refused access, and an
    /// `sbrk` must reach the sandbox: with the base set by the code itself and by `enter`.
    #[test]
    fn the_threads_gs_base_is_restored_after_every_exit() {
        let modes: &[bool] = if super::gs_base_writable() { &[true, false] } else { &[false] };
        for &sets_gs in modes {
            std::thread::spawn(move || run_every_exit(sets_gs)).join().expect("the test thread");
        }
    }

    fn run_every_exit(sets_gs: bool) {
        let mine = 0x0000_7654_3210_0000;
        set_gs_base(mine);
        // ecalli 1; store_imm_u8 [0x20000], 0x99; ω8 = sbrk(ω7); trap
        let instructions: [&[u8]; 4] = [&[10, 1], &[30, 4, 0x00, 0x00, 0x02, 0x00, 0x99], &[101, 0x78], &[0]];
        let mut code = Vec::new();
        let mut bitmask = vec![0u8; 2];
        for ins in instructions {
            bitmask[code.len() / 8] |= 1 << (code.len() % 8);
            code.extend_from_slice(ins);
        }
        let program = Arc::new(Program::from_parts(code, bitmask, vec![]).expect("valid"));
        let compiled = Arc::new(compile_with(program, sets_gs).expect("compiles"));
        let mut instance = Instance::new(compiled, 0, 100).expect("instance");
        instance.set_heap(0x3_0000, 0x10_0000);
        instance.set_reg(7, 5000);
        assert_eq!(instance.run(), Exit::HostCall(1));
        assert_eq!(gs_base(), mine);
        assert_eq!(instance.run(), Exit::PageFault(0x2_0000));
        assert_eq!(gs_base(), mine);
        instance.memory_mut().set_access(0x2_0000, 4096, Access::ReadWrite);
        assert_eq!(instance.run(), Exit::Panic);
        assert_eq!(gs_base(), mine);
        assert_eq!(instance.memory().read_vec(0x2_0000, 1).expect("readable"), vec![0x99]);
        // sbrk gave the break before (the heap's base) and opened the pages after it.
        assert_eq!(instance.reg(8), 0x3_0000, "sets_gs {sets_gs}");
        assert_eq!(instance.memory().access(0x3_0000), Access::ReadWrite);
        set_gs_base(0);
    }
}
