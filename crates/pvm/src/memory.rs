//! The PVM's RAM (GP 0.7.2 §4.4 and §A.4): a 32-bit address space of 4 KiB pages, each inaccessible,
//! read-only or read-write, held sparsely.
//!
//! A flat table of 2^20 page entries (4 MiB of lazily zeroed virtual memory, so untouched parts cost
//! nothing) maps each page to its access and, once it has been written, to its data. Pages that are
//! accessible but never written share one zero page, so mapping a large heap or stack allocates
//! nothing until the program touches it.

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

    /// An `N`-byte little-endian load for the interpreter: the fast path stays within one readable page.
    #[inline(always)]
    pub(crate) fn load<const N: usize>(&self, address: u32) -> Result<[u8; N], MemoryError> {
        let entry = self.table[(address >> PAGE_BITS) as usize];
        let off = (address & (PAGE_SIZE - 1)) as usize;
        if entry & READ != 0 && off <= PAGE_SIZE as usize - N {
            let page = &self.pages[(entry >> 2) as usize];
            let mut out = [0u8; N];
            out.copy_from_slice(&page[off..off + N]);
            return Ok(out);
        }
        self.load_slow(address)
    }

    #[inline(never)]
    fn load_slow<const N: usize>(&self, address: u32) -> Result<[u8; N], MemoryError> {
        let mut out = [0u8; N];
        self.read(address, &mut out)?;
        Ok(out)
    }

    /// An `N`-byte store for the interpreter: the fast path stays within one writable page that
    /// already has storage.
    #[inline(always)]
    pub(crate) fn store<const N: usize>(&mut self, address: u32, bytes: [u8; N]) -> Result<(), MemoryError> {
        let entry = self.table[(address >> PAGE_BITS) as usize];
        let off = (address & (PAGE_SIZE - 1)) as usize;
        if entry & WRITE != 0 && entry >> 2 != 0 && off <= PAGE_SIZE as usize - N {
            let page = &mut self.pages[(entry >> 2) as usize];
            page[off..off + N].copy_from_slice(&bytes);
            return Ok(());
        }
        self.store_slow(address, &bytes)
    }

    #[inline(never)]
    fn store_slow(&mut self, address: u32, bytes: &[u8]) -> Result<(), MemoryError> {
        self.write(address, bytes)
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
        assert_eq!(m.load::<2>(0x20ff0).unwrap(), [1, 2]);
    }

    #[test]
    fn crossing_accesses_fault_at_the_lowest_offending_page() {
        let mut m = Memory::new();
        m.set_access(0x20000, 4096, Access::ReadWrite);
        assert_eq!(m.store::<8>(0x20ffc, [9; 8]), Err(MemoryError::PageFault(0x21000)));
        assert_eq!(m.load::<8>(0x1fffc), Err(MemoryError::PageFault(0x1f000)));
        m.set_access(0x21000, 4096, Access::ReadOnly);
        assert_eq!(m.store::<8>(0x20ffc, [9; 8]), Err(MemoryError::PageFault(0x21000)));
        m.set_access(0x21000, 4096, Access::ReadWrite);
        m.store::<8>(0x20ffc, [1, 2, 3, 4, 5, 6, 7, 8]).unwrap();
        assert_eq!(m.load::<8>(0x20ffc).unwrap(), [1, 2, 3, 4, 5, 6, 7, 8]);
    }

    #[test]
    fn low_addresses_and_wrap_around() {
        let mut m = Memory::new();
        assert_eq!(m.load::<1>(0xffff), Err(MemoryError::LowAddress(0xffff)));
        m.set_access(0xffff_f000, 4096, Access::ReadWrite);
        // The top page is writable; the bytes that wrap to address 0 are not, and are below 2^16.
        assert_eq!(m.store::<4>(0xffff_fffe, [1; 4]), Err(MemoryError::LowAddress(0)));
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
