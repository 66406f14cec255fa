//! The refine host calls (GP 0.7.2 §B.8): historical lookup, segment export, and inner machines.
//!
//! Imported segments and extrinsics are read with [`crate::general::fetch`]
//! ([`Fetch::MyImport`](crate::general::Fetch::MyImport) and
//! [`Fetch::MyExtrinsic`](crate::general::Fetch::MyExtrinsic)).

use alloc::vec::Vec;

use crate::general::{read_all, HostError, Service};
use crate::raw;

/// `W_G`: the length of an exported or imported segment.
pub const SEGMENT_SIZE: usize = 4104;
/// `Z_P`: the PVM page size.
pub const PAGE_SIZE: u64 = 4096;

/// `historical_lookup` (6): the preimage of `hash` as `service` held it at the package's lookup
/// anchor.
pub fn historical_lookup(service: Service, hash: &[u8; 32]) -> Option<Vec<u8>> {
    let h = hash.as_ptr() as u64;
    // SAFETY: `hash` is 32 readable octets; `read_all` passes a buffer writable for its length.
    read_all(|o, f, l| unsafe { raw::historical_lookup(service.register(), h, o, f, l) })
}

/// `export` (7): exports `data` (at most `W_G` octets; zero-padded to a segment) and returns its
/// index among the package's exports. `Full` once the package has `W_X` exports.
pub fn export(data: &[u8]) -> Result<u64, HostError> {
    // SAFETY: `data` is readable for its length (the host reads at most W_G of it).
    HostError::check(unsafe { raw::export(data.as_ptr() as u64, data.len() as u64) })
}

/// How an inner machine's run ended (`invoke`'s `ω7`, with `ω8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InnerExit {
    /// `HALT` (0).
    Halt,
    /// `PANIC` (1).
    Panic,
    /// `FAULT` (2): an access to the page at this address.
    Fault(u64),
    /// `HOST` (3): `ecalli` with this index; the next invoke resumes after it.
    Host(u64),
    /// `OOG` (4).
    OutOfGas,
}

/// The access `pages` gives a range of an inner machine's pages (`ω10`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageMode {
    /// 0: inaccessible (contents dropped).
    Inaccessible = 0,
    /// 1: read-only, zeroed.
    ReadOnlyZeroed = 1,
    /// 2: read-write, zeroed.
    ReadWriteZeroed = 2,
    /// 3: read-only, contents kept (only for pages already accessible).
    ReadOnly = 3,
    /// 4: read-write, contents kept (only for pages already accessible).
    ReadWrite = 4,
}

/// An inner PVM instance, created with `machine` (8) and removed with `expunge` (13) (or when
/// the refine invocation ends).
#[derive(Debug)]
pub struct InnerMachine {
    index: u64,
}

/// The registers and gas of an inner machine's run, laid out as `invoke` reads and writes them:
/// `E8(gas) ⌢ E8(registers)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(C)]
pub struct InnerState {
    pub gas: u64,
    pub regs: [u64; 13],
}

impl InnerMachine {
    /// `machine` (8): a machine running `program` (a PVM program blob, `deblob`'s format, not a
    /// service blob) from instruction `pc`, with all memory inaccessible. `Huh` when the program
    /// does not decode.
    pub fn new(program: &[u8], pc: u64) -> Result<Self, HostError> {
        // SAFETY: `program` is readable for its length.
        let index =
            HostError::check(unsafe { raw::machine(program.as_ptr() as u64, program.len() as u64, pc) })?;
        Ok(Self { index })
    }

    /// The machine's index `n`.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// `peek` (9): copies the machine's memory at `address` into `buf`. `Oob` when not readable.
    pub fn peek(&self, address: u64, buf: &mut [u8]) -> Result<(), HostError> {
        // SAFETY: `buf` is writable for its length.
        HostError::check_ok(unsafe {
            raw::peek(self.index, buf.as_mut_ptr() as u64, address, buf.len() as u64)
        })
    }

    /// `poke` (10): copies `data` into the machine's memory at `address`. `Oob` when not writable.
    pub fn poke(&mut self, address: u64, data: &[u8]) -> Result<(), HostError> {
        // SAFETY: `data` is readable for its length.
        HostError::check_ok(unsafe {
            raw::poke(self.index, data.as_ptr() as u64, address, data.len() as u64)
        })
    }

    /// `pages` (11): sets the access of `count` pages from page `first` (page numbers, not
    /// addresses). `Huh` for a page below 16, a range reaching page 2^20 − 1, or a keeping mode
    /// over an inaccessible page.
    pub fn pages(&mut self, first: u64, count: u64, mode: PageMode) -> Result<(), HostError> {
        // SAFETY: `pages` touches no memory of the caller.
        HostError::check_ok(unsafe { raw::pages(self.index, first, count, mode as u64) })
    }

    /// `invoke` (12): runs the machine with `state.gas` and `state.regs` until it exits, and
    /// leaves the gas left and the registers in `state`.
    pub fn invoke(&mut self, state: &mut InnerState) -> Result<InnerExit, HostError> {
        let o = state as *mut InnerState as u64;
        // SAFETY: `InnerState` is 112 octets, `repr(C)`, writable; the host writes the same layout.
        let (code, detail) = unsafe { raw::invoke(self.index, o) };
        Ok(match HostError::check(code)? {
            0 => InnerExit::Halt,
            1 => InnerExit::Panic,
            2 => InnerExit::Fault(detail),
            3 => InnerExit::Host(detail),
            4 => InnerExit::OutOfGas,
            _ => return Err(HostError::Huh),
        })
    }

    /// `expunge` (13): removes the machine; its program counter.
    pub fn expunge(self) -> Result<u64, HostError> {
        // SAFETY: `expunge` touches no memory of the caller.
        HostError::check(unsafe { raw::expunge(self.index) })
    }
}
