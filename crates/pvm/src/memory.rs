//! The PVM's RAM (GP 0.7.2 §4.4 and §A.4): a 32-bit address space of 4 KiB pages, each inaccessible,
//! read-only or read-write, held sparsely.
//!
//! A flat table of 2^20 page entries (4 MiB of lazily zeroed virtual memory, so untouched parts cost
//! nothing) maps each page to its access and, once it has been written, to its data. Pages that are
//! accessible but never written share one zero page, so mapping a large heap or stack allocates
//! nothing until the program touches it.
//!
//! During a run the interpreter reaches the memory through a [`PageCache`], which remembers the page
//! written last and the page read last, so that most loads and stores skip the table.

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
#[derive(Clone)]
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
}

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
        Memory { table, pages: vec![[0; PAGE_SIZE as usize]], free: Vec::new(), spans: Vec::new() }
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

/// A page the interpreter used last: an access of `N` bytes at an address `a` with
/// `a - base + N <= limit` goes straight to `data`.
#[derive(Debug, Clone, Copy)]
struct Window {
    base: u32,
    /// `PAGE_SIZE`, or 0 for no page.
    limit: u32,
    data: *mut u8,
}

impl Window {
    const EMPTY: Window = Window { base: 0, limit: 0, data: std::ptr::null_mut() };

    /// The offset of an `N`-byte access at `address` inside the window, if it lies entirely in it.
    #[inline(always)]
    fn offset<const N: usize>(&self, address: u32) -> Option<usize> {
        let offset = address.wrapping_sub(self.base) as usize;
        (offset + N <= self.limit as usize).then_some(offset)
    }
}

/// The interpreter's access to the RAM during a run: the memory, borrowed exclusively, and the
/// page read last and the page written last, so that an access within one of them costs a
/// subtraction, a comparison and the access itself rather than a walk of the page table.
///
/// Invariant: a window with a nonzero `limit` covers one page whose access allows its use (read
/// for `read`; write, with storage of its own, for `write`) and its `data` points to that page's
/// `PAGE_SIZE` bytes in `memory.pages`. Every change to the memory goes through this value while it
/// lives, and each one either keeps the invariant (a store through `write`, which changes neither
/// the table nor where pages are) or empties the windows it may break.
#[derive(Debug)]
pub(crate) struct PageCache<'a> {
    memory: &'a mut Memory,
    read: Window,
    write: Window,
}

impl<'a> PageCache<'a> {
    pub(crate) fn new(memory: &'a mut Memory) -> PageCache<'a> {
        PageCache { memory, read: Window::EMPTY, write: Window::EMPTY }
    }

    /// The memory, for a change of any kind (both windows are emptied).
    pub(crate) fn memory_mut(&mut self) -> &mut Memory {
        self.read = Window::EMPTY;
        self.write = Window::EMPTY;
        self.memory
    }

    /// An `N`-byte load (V_μ for one operand).
    #[inline(always)]
    pub(crate) fn load<const N: usize>(&mut self, address: u32) -> Result<[u8; N], MemoryError> {
        // The written page first: a program's stack is where it reads most.
        let hit = match self.write.offset::<N>(address) {
            Some(offset) => Some((self.write.data, offset)),
            None => self.read.offset::<N>(address).map(|offset| (self.read.data, offset)),
        };
        if let Some((data, offset)) = hit {
            // SAFETY: by the invariant `data` points to the PAGE_SIZE readable bytes of a page in
            // `memory.pages`, which has neither moved nor been freed since the window was set, and
            // `offset + N <= PAGE_SIZE`. The read is unaligned-safe and nothing holds a reference
            // to those bytes (this value borrows the memory exclusively).
            #[allow(unsafe_code)]
            return Ok(unsafe { data.add(offset).cast::<[u8; N]>().read_unaligned() });
        }
        self.load_miss(address)
    }

    #[inline(never)]
    fn load_miss<const N: usize>(&mut self, address: u32) -> Result<[u8; N], MemoryError> {
        let out = self.memory.load(address)?;
        // The load succeeded, so the page holding `address` is readable; its data (its own or the
        // shared zero page) is where `page_ptr` says until the table or the page vector changes.
        let entry = self.memory.table[(address >> PAGE_BITS) as usize];
        self.read =
            Window { base: address & !(PAGE_SIZE - 1), limit: PAGE_SIZE, data: self.memory.page_ptr(entry) };
        Ok(out)
    }

    /// An `N`-byte store (V*_μ for one operand).
    #[inline(always)]
    pub(crate) fn store<const N: usize>(&mut self, address: u32, bytes: [u8; N]) -> Result<(), MemoryError> {
        if let Some(offset) = self.write.offset::<N>(address) {
            // SAFETY: by the invariant `write.data` points to the PAGE_SIZE bytes of a writable page
            // with storage of its own in `memory.pages`, unmoved since the window was set, and
            // `offset + N <= PAGE_SIZE`. Nothing holds a reference to those bytes; `read` may
            // point to the same page, through a raw pointer only.
            #[allow(unsafe_code)]
            unsafe {
                self.write.data.add(offset).cast::<[u8; N]>().write_unaligned(bytes)
            };
            return Ok(());
        }
        self.store_miss(address, bytes)
    }

    #[inline(never)]
    fn store_miss<const N: usize>(&mut self, address: u32, bytes: [u8; N]) -> Result<(), MemoryError> {
        // A failed write changes nothing, so the windows stay valid.
        self.memory.write(address, &bytes)?;
        // The write may have given pages storage (so `read` may show the zero page where the data
        // now is) and moved the page vector, so `read` is replaced too. The page holding `address`
        // is writable, hence readable, and, having just been written, has storage; it serves both
        // (a program's stack is where it mostly reads and writes).
        let entry = self.memory.table[(address >> PAGE_BITS) as usize];
        self.write =
            Window { base: address & !(PAGE_SIZE - 1), limit: PAGE_SIZE, data: self.memory.page_ptr(entry) };
        self.read = self.write;
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
        // Both windows now hold page 0x20000: an access that leaves it is not served from them.
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
        // Read-only pages read but never write, whichever window was used last.
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
