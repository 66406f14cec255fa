//! The global allocator for guests: size classes over a fixed arena.
//!
//! polkavm-linker's JAM target emits no `sbrk`, so the heap is a zero-initialised static
//! ([`ARENA_SIZE`] octets). A static of zeroes costs nothing in the blob: the linker turns it into
//! heap pages `z` of the standard program layout (GP 0.7.2 §A.7), and a page the guest never
//! touches costs the node nothing either.
//!
//! Every request is rounded up to a power of two of at least 16 octets, its class. A freed block
//! goes on its class's free list and serves the next request of that class; otherwise blocks are
//! cut from the arena's unused end, aligned to their own size (to at most 4 KiB), so a reused block
//! suits any alignment its class can hold. Blocks are never split or merged: time is O(1) and the
//! waste at most half of each block, a fair trade for programs that live one invocation.
//! Running out of arena returns null, which `alloc` reports as an allocation failure (a panic).
//!
//! The arena logic is target-independent and tested on the build machine; only the
//! `#[global_allocator]` registration is PVM-only.

use core::alloc::Layout;
use core::ptr::NonNull;

/// The arena's size: 32 MiB (8192 heap pages).
#[cfg(not(feature = "large-heap"))]
pub const ARENA_SIZE: usize = 32 << 20;
/// The arena's size with the `large-heap` feature: 192 MiB (49152 heap pages), for services whose
/// single invocation holds large working sets (the `subnet` service's epoch at 4096 × 256).
#[cfg(feature = "large-heap")]
pub const ARENA_SIZE: usize = 192 << 20;

/// The smallest block, as a power of two.
const MIN_CLASS_BITS: u32 = 4;
/// Classes from 16 octets to the whole arena.
const CLASSES: usize = (usize::BITS - MIN_CLASS_BITS) as usize;
/// The largest alignment blocks get from their position alone.
const MAX_NATURAL_ALIGN: usize = 4096;

/// The allocator's state over an arena of `size` octets at `base`.
#[derive(Debug)]
pub struct Arena {
    base: NonNull<u8>,
    size: usize,
    /// Offset of the first octet never handed out.
    next: usize,
    /// Per class, the first free block (linked through their first word), or null.
    free: [*mut u8; CLASSES],
}

/// `(class, block size)` for a layout, or `None` past the arena's reach.
fn class_of(layout: Layout) -> Option<(usize, usize)> {
    let size = layout.size().max(layout.align()).max(1 << MIN_CLASS_BITS).checked_next_power_of_two()?;
    Some(((size.trailing_zeros() - MIN_CLASS_BITS) as usize, size))
}

impl Arena {
    /// An allocator over `[base, base + size)`, which it owns from now on.
    ///
    /// # Safety
    ///
    /// The range must be writable, aligned to 16, and used by nothing else.
    pub const unsafe fn new(base: NonNull<u8>, size: usize) -> Self {
        Self { base, size, next: 0, free: [core::ptr::null_mut(); CLASSES] }
    }

    /// A block for `layout`, or null when the arena is full.
    pub fn alloc(&mut self, layout: Layout) -> *mut u8 {
        let Some((class, size)) = class_of(layout) else {
            return core::ptr::null_mut();
        };
        let head = self.free[class];
        if !head.is_null() && (head as usize) % layout.align() == 0 {
            // SAFETY: a free block holds the next free block's address in its first word, written
            // by `dealloc`; blocks are at least 16 octets and 16-aligned.
            self.free[class] = unsafe { head.cast::<*mut u8>().read() };
            return head;
        }
        let align = size.min(MAX_NATURAL_ALIGN).max(layout.align());
        let base = self.base.as_ptr() as usize;
        let Some(start) = (base + self.next).checked_next_multiple_of(align) else {
            return core::ptr::null_mut();
        };
        match (start - base).checked_add(size) {
            Some(end) if end <= self.size => {
                self.next = end;
                // SAFETY: `start - base + size <= self.size`: the block lies inside the arena.
                unsafe { self.base.as_ptr().add(start - base) }
            }
            _ => core::ptr::null_mut(),
        }
    }

    /// Returns a block to its class's free list.
    ///
    /// # Safety
    ///
    /// `ptr` came from [`Arena::alloc`] with the same `layout` and is not used again.
    pub unsafe fn dealloc(&mut self, ptr: *mut u8, layout: Layout) {
        let Some((class, _)) = class_of(layout) else { return };
        // SAFETY: the block is at least 16 octets, 16-aligned, and no longer in use.
        unsafe { ptr.cast::<*mut u8>().write(self.free[class]) };
        self.free[class] = ptr;
    }

    /// The same block when the new size stays in its class, else a new one with the contents.
    ///
    /// # Safety
    ///
    /// As [`Arena::dealloc`] for `ptr` and `layout`; `new_size` is not zero.
    pub unsafe fn realloc(&mut self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let Ok(new_layout) = Layout::from_size_align(new_size, layout.align()) else {
            return core::ptr::null_mut();
        };
        if class_of(new_layout).map(|c| c.0) == class_of(layout).map(|c| c.0) {
            return ptr;
        }
        let new = self.alloc(new_layout);
        if !new.is_null() {
            // SAFETY: both blocks are valid for the smaller size and do not overlap.
            unsafe {
                core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
        }
        new
    }

    /// Octets never handed out yet.
    pub fn untouched(&self) -> usize {
        self.size - self.next
    }
}

#[cfg(all(target_arch = "riscv64", target_feature = "e"))]
mod global {
    use core::alloc::{GlobalAlloc, Layout};
    use core::cell::UnsafeCell;
    use core::ptr::NonNull;

    use super::{Arena, ARENA_SIZE};

    #[repr(C, align(4096))]
    struct Memory(UnsafeCell<[u8; ARENA_SIZE]>);

    // SAFETY: the PVM runs one thread; nothing is ever shared between threads.
    unsafe impl Sync for Memory {}

    struct State(UnsafeCell<Option<Arena>>);

    // SAFETY: as for `Memory`.
    unsafe impl Sync for State {}

    // Kept apart from the state so that it is all zeroes, which the linker leaves out of the blob.
    static MEMORY: Memory = Memory(UnsafeCell::new([0; ARENA_SIZE]));
    static STATE: State = State(UnsafeCell::new(None));

    fn arena() -> &'static mut Arena {
        // SAFETY: single-threaded, and no caller holds the reference across another call.
        let slot = unsafe { &mut *STATE.0.get() };
        slot.get_or_insert_with(|| {
            let base = MEMORY.0.get().cast::<u8>();
            // SAFETY: the static is writable, 4096-aligned, and used by the arena alone.
            unsafe { Arena::new(NonNull::new_unchecked(base), ARENA_SIZE) }
        })
    }

    struct Allocator;

    // SAFETY: blocks come from the arena, which hands each out once until it is freed.
    unsafe impl GlobalAlloc for Allocator {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            arena().alloc(layout)
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: the caller's contract is the arena's.
            unsafe { arena().dealloc(ptr, layout) }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            // SAFETY: the caller's contract is the arena's.
            unsafe { arena().realloc(ptr, layout, new_size) }
        }
    }

    #[global_allocator]
    static ALLOCATOR: Allocator = Allocator;
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use std::vec;
    use std::vec::Vec;

    fn arena(words: &mut [u128]) -> Arena {
        let base = NonNull::new(words.as_mut_ptr().cast::<u8>()).unwrap();
        // SAFETY: the buffer is writable, 16-aligned and owned by this test.
        unsafe { Arena::new(base, words.len() * 16) }
    }

    #[test]
    fn blocks_are_aligned_disjoint_and_reused() {
        let mut memory = vec![0u128; 4096];
        let mut a = arena(&mut memory);
        let mut blocks = Vec::new();
        for (size, align) in [(1, 1), (24, 8), (100, 4), (16, 16), (5000, 64), (33, 32)] {
            let layout = Layout::from_size_align(size, align).unwrap();
            let p = a.alloc(layout);
            assert!(!p.is_null());
            assert_eq!(p as usize % align, 0);
            // SAFETY: the block is `size` writable octets.
            unsafe { core::ptr::write_bytes(p, 0xa5, size) };
            blocks.push((p as usize, class_of(layout).unwrap().1, layout));
        }
        let mut sorted: Vec<_> = blocks.iter().map(|&(p, s, _)| (p, s)).collect();
        sorted.sort();
        for pair in sorted.windows(2) {
            assert!(pair[0].0 + pair[0].1 <= pair[1].0, "blocks overlap: {pair:?}");
        }
        // A freed block serves the next request of its class.
        let (p, _, layout) = blocks[2];
        // SAFETY: `p` came from this arena with `layout`.
        unsafe { a.dealloc(p as *mut u8, layout) };
        assert_eq!(a.alloc(Layout::from_size_align(128, 4).unwrap()) as usize, p);
    }

    #[test]
    fn full_arena_gives_null_and_realloc_keeps_contents() {
        let mut memory = vec![0u128; 64];
        let mut a = arena(&mut memory);
        assert!(a.alloc(Layout::from_size_align(2048, 1).unwrap()).is_null());
        let layout = Layout::from_size_align(10, 1).unwrap();
        let p = a.alloc(layout);
        // SAFETY: `p` is 10 writable octets.
        unsafe { core::ptr::copy_nonoverlapping(b"0123456789".as_ptr(), p, 10) };
        // Within the class (16): the same block.
        // SAFETY: `p` came from this arena with `layout`.
        assert_eq!(unsafe { a.realloc(p, layout, 16) }, p);
        // SAFETY: as above.
        let q = unsafe { a.realloc(p, layout, 100) };
        assert_ne!(q, p);
        // SAFETY: `q` holds at least the 10 octets copied.
        assert_eq!(unsafe { core::slice::from_raw_parts(q, 10) }, b"0123456789");
        assert!(a.untouched() < 1024);
    }
}
