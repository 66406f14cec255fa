//! The PVM's RAM (GP 0.7.2 §4.4 and §A.4): a 32-bit address space of 4 KiB pages, each inaccessible,
//! read-only or read-write, held sparsely.
//!
//! A flat table of 2^20 page entries (4 MiB of lazily zeroed virtual memory, so untouched parts cost
//! nothing) maps each page to its access and, once it has been written, to its data. Pages that are
//! accessible but never written share one zero page, so mapping a large heap or stack allocates
//! nothing until the program touches it.
//!
//! During a run the interpreter reaches the memory through a [`PageCache`], a small software TLB of
//! the pages used recently, so that most loads and stores skip the table.

use std::marker::PhantomData;

/// The page size Z_P.
pub const PAGE_SIZE: u32 = 4096;
const PAGE_BITS: u32 = 12;
const PAGE_COUNT: usize = 1 << (32 - PAGE_BITS);
/// Addresses below this always panic when they would fault (§A.4).
pub(crate) const LOW_LIMIT: u32 = 1 << 16;

const READ: u32 = 1;
const WRITE: u32 = 2;

/// A page's access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    Inaccessible,
    ReadOnly,
    ReadWrite,
}

impl Access {
    fn bits(self) -> u32 {
        match self {
            Access::Inaccessible => 0,
            Access::ReadOnly => READ,
            Access::ReadWrite => READ | WRITE,
        }
    }

    fn from_bits(bits: u32) -> Access {
        if bits & WRITE != 0 {
            Access::ReadWrite
        } else if bits & READ != 0 {
            Access::ReadOnly
        } else {
            Access::Inaccessible
        }
    }
}

/// Why an access failed, as the paper's ε^μ: a panic when the lowest offending address is below
/// 2^16, else a fault naming the lowest offending page's address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MemoryError {
    #[error("access below 2^16 at {0:#x}")]
    LowAddress(u32),
    #[error("page fault at page {0:#x}")]
    PageFault(u32),
}

impl MemoryError {
    fn at(address: u32) -> MemoryError {
        if address < LOW_LIMIT {
            MemoryError::LowAddress(address)
        } else {
            MemoryError::PageFault(address & !(PAGE_SIZE - 1))
        }
    }
}

type Page = [u8; PAGE_SIZE as usize];

/// The RAM of one machine.
pub struct Memory {
    /// Per page: `data_index << 2 | access bits`; data index 0 is the shared zero page.
    table: Box<[u32; PAGE_COUNT]>,
    /// Page data, contiguous so that an access is one table load and one data load; `pages[0]`
    /// stays zero.
    pages: Vec<Page>,
    /// Data slots released by pages made inaccessible, for reuse.
    free: Vec<u32>,
    /// Ranges of table entries (first and last page) that may be non-zero: every page ever made
    /// accessible lies in one. [`Memory::recycle`] zeroes just these.
    spans: Vec<(u32, u32)>,
    /// The interpreter's software TLB (see [`PageCache`]). It lives here, not in the cache, so that
    /// it survives the host calls between runs: it is emptied by whatever changes the table or the
    /// page vector, here, and by nothing else.
    tlb: [TlbEntry; TLB_ENTRIES],
}

impl Clone for Memory {
    /// A copy with an empty TLB: the entries point into this memory's pages, not the copy's.
    fn clone(&self) -> Memory {
        Memory {
            table: self.table.clone(),
            pages: self.pages.clone(),
            free: self.free.clone(),
            spans: self.spans.clone(),
            tlb: [TlbEntry::EMPTY; TLB_ENTRIES],
        }
    }
}

// SAFETY: the only non-`Send`/`Sync` parts are the TLB's raw pointers, which point into `pages`,
// a heap allocation this value owns and that moves between threads with it. They are dereferenced
// only by a `PageCache`, which borrows the memory exclusively, never through `&Memory`; so sharing
// or sending a memory exposes nothing the plain fields would not.
#[allow(unsafe_code)]
unsafe impl Send for Memory {}
#[allow(unsafe_code)]
unsafe impl Sync for Memory {}

/// The most spans kept apart; past it they merge into one covering range.
const SPAN_LIMIT: usize = 64;
/// The most zeroed tables a thread keeps for reuse.
const SPARE_LIMIT: usize = 4;

thread_local! {
    /// Tables of recycled memories, all zero again. Zeroing a fresh 4 MiB table costs more than
    /// many whole invocations (the allocator reuses freed memory and must clear it), so machines
    /// that are done hand theirs back (see [`Memory::recycle`]).
    static SPARE_TABLES: std::cell::RefCell<Vec<Box<[u32; PAGE_COUNT]>>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

impl std::fmt::Debug for Memory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memory").field("pages_with_data", &(self.pages.len() - 1 - self.free.len())).finish()
    }
}

impl Default for Memory {
    fn default() -> Self {
        Self::new()
    }
}

impl Memory {
    /// An address space with every page inaccessible.
    pub fn new() -> Memory {
        let spare = SPARE_TABLES.with(|spare| spare.try_borrow_mut().ok().and_then(|mut s| s.pop()));
        let table = match spare {
            Some(table) => table,
            None => match vec![0u32; PAGE_COUNT].into_boxed_slice().try_into() {
                Ok(table) => table,
                Err(_) => unreachable!("the vector has exactly one entry per page"),
            },
        };
        Memory {
            table,
            pages: vec![[0; PAGE_SIZE as usize]],
            free: Vec::new(),
            spans: Vec::new(),
            tlb: [TlbEntry::EMPTY; TLB_ENTRIES],
        }
    }

    /// Gives the page table back for the next [`Memory::new`] on this thread, zeroing only the
    /// entries this memory used. Dropping a memory instead is always correct, just slower for the
    /// next one.
    pub fn recycle(mut self) {
        for &(first, last) in &self.spans {
            self.table[first as usize..=last as usize].fill(0);
        }
        let table = self.table;
        SPARE_TABLES.with(|spare| {
            if let Ok(mut spare) = spare.try_borrow_mut() {
                if spare.len() < SPARE_LIMIT {
                    spare.push(table);
                }
            }
        });
    }

    /// Notes that the entries of pages `first..=last` may become non-zero.
    fn note_span(&mut self, first: u32, last: u32) {
        match self.spans.last_mut() {
            Some(span) if first <= span.1.saturating_add(1) && last.saturating_add(1) >= span.0 => {
                *span = (span.0.min(first), span.1.max(last));
            }
            _ => self.spans.push((first, last)),
        }
        if self.spans.len() > SPAN_LIMIT {
            let first = self.spans.iter().map(|s| s.0).min().unwrap_or(first);
            let last = self.spans.iter().map(|s| s.1).max().unwrap_or(last);
            self.spans = vec![(first, last)];
        }
    }

    /// Sets the access of every page overlapping `[address, address + length)`. Making a page
    /// inaccessible discards its contents; other changes keep them.
    pub fn set_access(&mut self, address: u32, length: u32, access: Access) {
        if length == 0 {
            return;
        }
        let first = address >> PAGE_BITS;
        let last =
            ((u64::from(address) + u64::from(length) - 1) >> PAGE_BITS).min(PAGE_COUNT as u64 - 1) as u32;
        if access != Access::Inaccessible {
            self.note_span(first, last);
        }
        self.flush_tlb();
        for page in first..=last {
            let entry = &mut self.table[page as usize];
            let data = *entry >> 2;
            if access == Access::Inaccessible && data != 0 {
                self.pages[data as usize].fill(0);
                self.free.push(data);
                *entry = 0;
            } else {
                *entry = (data << 2) | access.bits();
            }
        }
    }

    /// The access of the page holding `address`.
    pub fn access(&self, address: u32) -> Access {
        Access::from_bits(self.table[(address >> PAGE_BITS) as usize])
    }

    /// Every accessible page's address and access, in address order.
    pub fn accessible_pages(&self) -> impl Iterator<Item = (u32, Access)> + '_ {
        self.table
            .iter()
            .enumerate()
            .filter(|(_, e)| **e & READ != 0)
            .map(|(page, e)| ((page as u32) << PAGE_BITS, Access::from_bits(*e)))
    }

    /// Reads `buf.len()` bytes from `address` if all of them are readable (V_μ). Addresses wrap at
    /// 2^32, as the paper's indices do.
    pub fn read(&self, address: u32, buf: &mut [u8]) -> Result<(), MemoryError> {
        self.check(address, buf.len(), READ)?;
        self.copy_out(address, buf);
        Ok(())
    }

    /// A convenience over [`Memory::read`].
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

    /// Writes `data` at `address` into pages that are accessible, read-only ones included: how a
    /// loader fills read-only sections.
    pub fn write_initial(&mut self, address: u32, data: &[u8]) -> Result<(), MemoryError> {
        self.check(address, data.len(), READ)?;
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

    /// The first byte of `[address, address + length)` (in the paper's index order) lacking `need`.
    fn check(&self, address: u32, length: usize, need: u32) -> Result<(), MemoryError> {
        let mut offset = 0usize;
        while offset < length {
            let at = address.wrapping_add(offset as u32);
            if self.table[(at >> PAGE_BITS) as usize] & need != need {
                return Err(MemoryError::at(at));
            }
            // On to the next page boundary.
            offset += (PAGE_SIZE - (at & (PAGE_SIZE - 1))) as usize;
        }
        Ok(())
    }

    fn copy_out(&self, address: u32, buf: &mut [u8]) {
        let mut done = 0;
        while done < buf.len() {
            let at = address.wrapping_add(done as u32);
            let off = (at & (PAGE_SIZE - 1)) as usize;
            let n = (PAGE_SIZE as usize - off).min(buf.len() - done);
            let page = &self.pages[(self.table[(at >> PAGE_BITS) as usize] >> 2) as usize];
            buf[done..done + n].copy_from_slice(&page[off..off + n]);
            done += n;
        }
    }

    fn copy_in(&mut self, address: u32, data: &[u8]) {
        let mut done = 0;
        while done < data.len() {
            let at = address.wrapping_add(done as u32);
            let off = (at & (PAGE_SIZE - 1)) as usize;
            let n = (PAGE_SIZE as usize - off).min(data.len() - done);
            let page = self.page_data_mut(at >> PAGE_BITS);
            page[off..off + n].copy_from_slice(&data[done..done + n]);
            done += n;
        }
    }

    /// The data of an accessible page, given storage on first use.
    fn page_data_mut(&mut self, page: u32) -> &mut Page {
        let entry = self.table[page as usize];
        let mut data = entry >> 2;
        if data == 0 {
            // The table changes, and the page vector may move.
            self.flush_tlb();
            data = match self.free.pop() {
                Some(slot) => slot,
                None => {
                    self.pages.push([0; PAGE_SIZE as usize]);
                    (self.pages.len() - 1) as u32
                }
            };
            self.table[page as usize] = (data << 2) | (entry & 3);
        }
        &mut self.pages[data as usize]
    }

    /// Empties the interpreter's TLB: every change to the table or the page vector calls this.
    fn flush_tlb(&mut self) {
        self.tlb = [TlbEntry::EMPTY; TLB_ENTRIES];
    }

    /// An `N`-byte little-endian load (V_μ for one operand): the interpreter's path when its
    /// [`PageCache`] misses.
    fn load<const N: usize>(&self, address: u32) -> Result<[u8; N], MemoryError> {
        let mut out = [0u8; N];
        self.read(address, &mut out)?;
        Ok(out)
    }

    /// The start of the data of the page whose table entry is `entry`, as a raw pointer that does
    /// not borrow the page vector (`Vec::as_mut_ptr` materialises no reference to it).
    fn page_ptr(&mut self, entry: u32) -> *mut u8 {
        self.pages.as_mut_ptr().wrapping_add((entry >> 2) as usize).cast()
    }
}

/// The number of entries of a [`PageCache`]: a power of two, indexed by the low bits of the page
/// number. Service code touches its stack, its heap and its read-only data in turn, and a handful
/// of pages of each; 64 entries keep conflicts rare and cost 1 KiB to empty.
const TLB_ENTRIES: usize = 64;
/// A tag no page has (page numbers are below 2^20).
const NO_PAGE: u32 = u32::MAX;

/// One entry of a [`PageCache`]: page `read_tag` may be read through `data`, and page `write_tag`
/// (the same page, or [`NO_PAGE`]) written through it.
#[derive(Debug, Clone, Copy)]
struct TlbEntry {
    read_tag: u32,
    write_tag: u32,
    data: *mut u8,
}

impl TlbEntry {
    const EMPTY: TlbEntry = TlbEntry { read_tag: NO_PAGE, write_tag: NO_PAGE, data: std::ptr::null_mut() };
}

/// `span` readable bytes of one page that a [`PageCache`] found in its TLB, for the loads of a
/// fused run (see `program::fuse_memory_runs`). It borrows the cache, so the memory cannot change
/// while it lives.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReadSpan<'c> {
    data: *const u8,
    span: u32,
    _cache: PhantomData<&'c PageCache<'c>>,
}

impl ReadSpan<'_> {
    /// The 8 bytes at `offset`, little-endian, if `offset + 8 <= span`.
    #[inline(always)]
    pub(crate) fn load_u64(self, offset: u32) -> Option<u64> {
        if u64::from(offset) + 8 > u64::from(self.span) {
            return None;
        }
        // SAFETY: `data` came from `PageCache::readable_span`, which found the page in the TLB, so
        // by the TLB's invariant it points to `span` readable bytes of one page in `memory.pages`;
        // this value borrows the cache, so the memory has not changed since. `offset + 8 <= span`.
        // Nothing holds a mutable reference to those bytes.
        #[allow(unsafe_code)]
        Some(unsafe { u64::from_le_bytes(self.data.add(offset as usize).cast::<[u8; 8]>().read_unaligned()) })
    }
}

/// `span` writable bytes of one page, for the stores of a fused run. It borrows the cache
/// exclusively.
#[derive(Debug)]
pub(crate) struct WriteSpan<'c> {
    data: *mut u8,
    span: u32,
    _cache: PhantomData<&'c mut PageCache<'c>>,
}

impl WriteSpan<'_> {
    /// Writes 8 bytes little-endian at `offset`; false (and nothing written) unless
    /// `offset + 8 <= span`.
    #[inline(always)]
    pub(crate) fn store_u64(&mut self, offset: u32, value: u64) -> bool {
        if u64::from(offset) + 8 > u64::from(self.span) {
            return false;
        }
        // SAFETY: as in `ReadSpan::load_u64`, and `data` came from `PageCache::writable_span`, so
        // the bytes are a writable page's own storage; this value borrows the cache exclusively.
        #[allow(unsafe_code)]
        unsafe {
            self.data.add(offset as usize).cast::<[u8; 8]>().write_unaligned(value.to_le_bytes())
        };
        true
    }
}

/// The interpreter's access to the RAM during a run: the memory, borrowed exclusively, with its
/// direct-mapped software TLB of the pages used recently, so that an access within one of them
/// costs a shift, a mask, two comparisons and the access itself rather than a walk of the page
/// table.
///
/// Invariant (of `Memory::tlb`, kept by the memory itself): an entry with `read_tag == p` (not
/// [`NO_PAGE`]) sits at index `p % TLB_ENTRIES`, page `p` is readable, and `data` points to the
/// `PAGE_SIZE` bytes the table gives it in `memory.pages` (its own, or the shared zero page); with
/// `write_tag == p` too, page `p` is writable and those bytes are its own storage. Entries are set
/// only here, from the table; every change to the table or to where pages are (`set_access`, a
/// page given storage) empties the TLB; a store through an entry changes neither.
#[derive(Debug)]
pub(crate) struct PageCache<'a> {
    memory: &'a mut Memory,
}

impl<'a> PageCache<'a> {
    pub(crate) fn new(memory: &'a mut Memory) -> PageCache<'a> {
        PageCache { memory }
    }

    /// The memory, for a change of any kind (those that break the TLB's invariant empty it).
    pub(crate) fn memory_mut(&mut self) -> &mut Memory {
        self.memory
    }

    /// A pointer to the byte at `address`, if the TLB holds its page for reading (or, with
    /// `write`, for writing) and the `len` bytes from it stay inside that page. One lookup for
    /// every access; `write` and, for single accesses, `len` are constants where it is inlined.
    #[inline(always)]
    fn lookup(&self, address: u32, len: u32, write: bool) -> Option<*mut u8> {
        let page = address >> PAGE_BITS;
        let entry = &self.memory.tlb[page as usize % TLB_ENTRIES];
        let tag = if write { entry.write_tag } else { entry.read_tag };
        let offset = address & (PAGE_SIZE - 1);
        // SAFETY (for callers): see `load` and `store`.
        (tag == page && offset + len <= PAGE_SIZE).then(|| entry.data.wrapping_add(offset as usize))
    }

    /// The `span` bytes from `address`, for reading, if the TLB holds their page and they lie
    /// inside it: a pointer to the first, valid for `span` bytes of reads.
    #[inline(always)]
    pub(crate) fn readable_span(&self, address: u32, span: u32) -> Option<ReadSpan<'_>> {
        self.lookup(address, span, false).map(|data| ReadSpan { data, span, _cache: PhantomData })
    }

    /// As [`PageCache::readable_span`], for writing (and reading).
    #[inline(always)]
    pub(crate) fn writable_span(&mut self, address: u32, span: u32) -> Option<WriteSpan<'_>> {
        self.lookup(address, span, true).map(|data| WriteSpan { data, span, _cache: PhantomData })
    }

    /// An `N`-byte load (V_μ for one operand).
    #[inline(always)]
    pub(crate) fn load<const N: usize>(&mut self, address: u32) -> Result<[u8; N], MemoryError> {
        if let Some(at) = self.lookup(address, N as u32, false) {
            // SAFETY: by the invariant the entry's `data` points to the PAGE_SIZE readable bytes of
            // the page holding `address` in `memory.pages`, which have neither moved nor been freed
            // since the entry was set, and `at` is `data + offset` with `offset + N <= PAGE_SIZE`.
            // The read is unaligned-safe and nothing holds a reference to those bytes (this value
            // borrows the memory exclusively).
            #[allow(unsafe_code)]
            return Ok(unsafe { at.cast::<[u8; N]>().read_unaligned() });
        }
        self.load_miss(address)
    }

    #[inline(never)]
    fn load_miss<const N: usize>(&mut self, address: u32) -> Result<[u8; N], MemoryError> {
        let out = self.memory.load(address)?;
        // The load succeeded, so the page holding `address` is readable; its data (its own or the
        // shared zero page) is where `page_ptr` says until the table or the page vector changes.
        self.install(address >> PAGE_BITS);
        Ok(out)
    }

    /// Fills the entry of readable page `page` from the table.
    fn install(&mut self, page: u32) {
        let entry = self.memory.table[page as usize];
        debug_assert!(entry & READ != 0);
        let writable = entry & WRITE != 0 && entry >> 2 != 0;
        self.memory.tlb[page as usize % TLB_ENTRIES] = TlbEntry {
            read_tag: page,
            write_tag: if writable { page } else { NO_PAGE },
            data: self.memory.page_ptr(entry),
        };
    }

    /// An `N`-byte store (V*_μ for one operand).
    #[inline(always)]
    pub(crate) fn store<const N: usize>(&mut self, address: u32, bytes: [u8; N]) -> Result<(), MemoryError> {
        if let Some(at) = self.lookup(address, N as u32, true) {
            // SAFETY: by the invariant the entry's `data` points to the PAGE_SIZE bytes of the
            // writable page holding `address`, its own storage in `memory.pages`, unmoved since the
            // entry was set, and `at` is `data + offset` with `offset + N <= PAGE_SIZE`. Nothing
            // holds a reference to those bytes; other entries may point to the same page, through
            // raw pointers only.
            #[allow(unsafe_code)]
            unsafe {
                at.cast::<[u8; N]>().write_unaligned(bytes)
            };
            return Ok(());
        }
        self.store_miss(address, bytes)
    }

    #[inline(never)]
    fn store_miss<const N: usize>(&mut self, address: u32, bytes: [u8; N]) -> Result<(), MemoryError> {
        // A failed write changes nothing; one that gives a page storage empties the TLB.
        self.memory.write(address, &bytes)?;
        // The page holding `address` is writable, hence readable, and, having just been written,
        // has storage.
        self.install(address >> PAGE_BITS);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_start_inaccessible_and_zero() {
        let mut m = Memory::new();
        assert_eq!(m.read_vec(0x20000, 1), Err(MemoryError::PageFault(0x20000)));
        m.set_access(0x20000, 4096, Access::ReadOnly);
        assert_eq!(m.read_vec(0x20ff0, 4).unwrap(), vec![0; 4]);
        assert_eq!(m.write(0x20ff0, &[1]), Err(MemoryError::PageFault(0x20000)));
        m.write_initial(0x20ff0, &[1, 2]).unwrap();
        assert_eq!(PageCache::new(&mut m).load::<2>(0x20ff0).unwrap(), [1, 2]);
    }

    #[test]
    fn crossing_accesses_fault_at_the_lowest_offending_page() {
        let mut m = Memory::new();
        m.set_access(0x20000, 4096, Access::ReadWrite);
        let mut c = PageCache::new(&mut m);
        assert_eq!(c.store::<8>(0x20ffc, [9; 8]), Err(MemoryError::PageFault(0x21000)));
        assert_eq!(c.load::<8>(0x1fffc), Err(MemoryError::PageFault(0x1f000)));
        c.memory_mut().set_access(0x21000, 4096, Access::ReadOnly);
        assert_eq!(c.store::<8>(0x20ffc, [9; 8]), Err(MemoryError::PageFault(0x21000)));
        c.memory_mut().set_access(0x21000, 4096, Access::ReadWrite);
        c.store::<8>(0x20ffc, [1, 2, 3, 4, 5, 6, 7, 8]).unwrap();
        assert_eq!(c.load::<8>(0x20ffc).unwrap(), [1, 2, 3, 4, 5, 6, 7, 8]);
        // The cache now holds page 0x20000: an access that leaves it is not served from it.
        c.store::<2>(0x20ff0, [5, 6]).unwrap();
        assert_eq!(c.load::<4>(0x20ffe).unwrap(), [3, 4, 5, 6]);
        assert_eq!(c.load::<8>(0x20ff8).unwrap(), [0, 0, 0, 0, 1, 2, 3, 4]);
        assert_eq!(c.load::<2>(0x20ff0).unwrap(), [5, 6]);
    }

    #[test]
    fn low_addresses_and_wrap_around() {
        let mut m = Memory::new();
        let mut c = PageCache::new(&mut m);
        assert_eq!(c.load::<1>(0xffff), Err(MemoryError::LowAddress(0xffff)));
        c.memory_mut().set_access(0xffff_f000, 4096, Access::ReadWrite);
        // The top page is writable; the bytes that wrap to address 0 are not, and are below 2^16.
        assert_eq!(c.store::<4>(0xffff_fffe, [1; 4]), Err(MemoryError::LowAddress(0)));
        c.store::<2>(0xffff_fffe, [1, 2]).unwrap();
        assert_eq!(c.load::<2>(0xffff_fffe).unwrap(), [1, 2]);
        assert_eq!(c.load::<4>(0xffff_fffe), Err(MemoryError::LowAddress(0)));
    }

    #[test]
    fn the_page_cache_follows_storage_and_access_changes() {
        let mut m = Memory::new();
        m.set_access(0x40000, 64 * 4096, Access::ReadWrite);
        m.set_access(0x80000, 4096, Access::ReadOnly);
        m.write_initial(0x80000, &[42]).unwrap();
        let mut c = PageCache::new(&mut m);
        // A readable page without storage reads as zeros (the shared zero page); the first store
        // gives it storage, and later loads see the store, not the zero page.
        assert_eq!(c.load::<8>(0x40010).unwrap(), [0; 8]);
        c.store::<8>(0x40010, [1; 8]).unwrap();
        assert_eq!(c.load::<8>(0x40010).unwrap(), [1; 8]);
        // Storage for many more pages moves the page vector; the earlier pages keep their data.
        for page in 1..64u32 {
            let address = 0x40000 + page * 4096;
            assert_eq!(c.load::<4>(address).unwrap(), [0; 4]);
            c.store::<4>(address, page.to_le_bytes()).unwrap();
            assert_eq!(c.load::<8>(0x40010).unwrap(), [1; 8]);
            c.store::<1>(0x40010, [1]).unwrap();
        }
        for page in 1..64u32 {
            assert_eq!(c.load::<4>(0x40000 + page * 4096).unwrap(), page.to_le_bytes());
        }
        // Read-only pages read but never write, whatever the cache held last.
        assert_eq!(c.load::<1>(0x80000).unwrap(), [42]);
        assert_eq!(c.store::<1>(0x80000, [0]), Err(MemoryError::PageFault(0x80000)));
        assert_eq!(c.load::<1>(0x80000).unwrap(), [42]);
        // Access changes made through the cache take effect at once.
        c.memory_mut().set_access(0x40000, 4096, Access::Inaccessible);
        assert_eq!(c.load::<1>(0x40010), Err(MemoryError::PageFault(0x40000)));
        assert_eq!(c.store::<1>(0x40010, [0]), Err(MemoryError::PageFault(0x40000)));
        c.memory_mut().set_access(0x80000, 4096, Access::Inaccessible);
        assert_eq!(c.load::<1>(0x80000), Err(MemoryError::PageFault(0x80000)));
        assert_eq!(c.load::<4>(0x41000).unwrap(), 1u32.to_le_bytes());
    }

    #[test]
    fn a_recycled_table_comes_back_empty() {
        let mut m = Memory::new();
        m.set_access(0x30000, 3 * 4096, Access::ReadWrite);
        m.write(0x31000, &[5]).unwrap();
        m.set_access(0xfeff_0000, 1, Access::ReadOnly);
        m.recycle();
        let m = Memory::new();
        assert_eq!(m.accessible_pages().count(), 0);
        assert_eq!(m.read_vec(0x31000, 1), Err(MemoryError::PageFault(0x31000)));
    }

    #[test]
    fn inaccessible_pages_lose_their_contents() {
        let mut m = Memory::new();
        m.set_access(0x30000, 1, Access::ReadWrite);
        m.write(0x30000, &[7]).unwrap();
        m.set_access(0x30000, 1, Access::Inaccessible);
        m.set_access(0x30000, 1, Access::ReadWrite);
        assert_eq!(m.read_vec(0x30000, 1).unwrap(), vec![0]);
        assert_eq!(m.accessible_pages().collect::<Vec<_>>(), vec![(0x30000, Access::ReadWrite)]);
    }
}
