//! Standard program initialisation Y (GP 0.7.2 §A.7) and the argument invocation Ψ_M (§A.8).
//!
//! A service's code blob is `E(↕m) ‖ p` (GP §9.1: metadata, then the program); `p` is
//! `E3(|o|) ‖ E3(|w|) ‖ E2(z) ‖ E3(s) ‖ o ‖ w ‖ E4(|c|) ‖ c` with read-only data o, read-write data w,
//! z extra heap pages, a stack of s bytes and the program c of §A.1.

use std::sync::Arc;

use crate::error::BlobError;
use crate::host::{run_with_host, Guest, Host};
use crate::machine::{Exit, Machine, HALT_ADDRESS};
use crate::memory::{Access, PAGE_SIZE};
use crate::program::Program;

/// The major zone size Z_Z.
pub const ZONE_SIZE: u32 = 1 << 16;
/// The maximum argument size Z_I.
pub const MAX_INPUT: u32 = 1 << 24;

/// P(x): `x` rounded up to whole pages.
fn page_round(x: u64) -> u64 {
    x.div_ceil(u64::from(PAGE_SIZE)) * u64::from(PAGE_SIZE)
}

/// Z(x): `x` rounded up to whole zones.
fn zone_round(x: u64) -> u64 {
    x.div_ceil(u64::from(ZONE_SIZE)) * u64::from(ZONE_SIZE)
}

/// A program in the standard format, decoded once and instantiable for any argument data.
#[derive(Debug, Clone)]
pub struct StandardProgram {
    ro_data: Vec<u8>,
    rw_data: Vec<u8>,
    heap_pages: u16,
    stack_size: u32,
    program: Arc<Program>,
}

/// Where Y puts things, for a given program and argument length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub ro_start: u32,
    pub heap_base: u32,
    /// The end of the read-write data and the z heap pages: the initial break.
    pub heap_end: u32,
    pub stack_start: u32,
    pub stack_end: u32,
    pub args_start: u32,
}

impl StandardProgram {
    /// Splits a service code blob `E(↕m) ‖ p` into its metadata and its program.
    pub fn from_service_code(blob: &[u8]) -> Result<(Vec<u8>, StandardProgram), BlobError> {
        let (len, used) = orrery_codec::natural::decode(blob).map_err(BlobError::Metadata)?;
        let rest = &blob[used..];
        if len > rest.len() as u64 {
            return Err(BlobError::Truncated {
                what: "metadata",
                needed: len - rest.len() as u64,
                remaining: rest.len(),
            });
        }
        let (metadata, program) = rest.split_at(len as usize);
        Ok((metadata.to_vec(), StandardProgram::from_blob(program)?))
    }

    /// Decodes `p` as Y requires (eq. A.39–A.41), and its program c with `deblob`.
    pub fn from_blob(p: &[u8]) -> Result<StandardProgram, BlobError> {
        let mut rest = p;
        let mut take = |n: u64, what: &'static str| -> Result<&[u8], BlobError> {
            if n > rest.len() as u64 {
                return Err(BlobError::Truncated {
                    what,
                    needed: n - rest.len() as u64,
                    remaining: rest.len(),
                });
            }
            let (head, tail) = rest.split_at(n as usize);
            rest = tail;
            Ok(head)
        };
        let le = |bytes: &[u8]| bytes.iter().rev().fold(0u64, |acc, &b| acc << 8 | u64::from(b));
        let ro_len = le(take(3, "read-only data length")?);
        let rw_len = le(take(3, "read-write data length")?);
        let heap_pages = le(take(2, "heap page count")?) as u16;
        let stack_size = le(take(3, "stack size")?) as u32;
        let ro_data = take(ro_len, "read-only data")?.to_vec();
        let rw_data = take(rw_len, "read-write data")?.to_vec();
        let code_len = le(take(4, "code length")?);
        let code = take(code_len, "code")?;
        let trailing = rest.len();
        if trailing != 0 {
            return Err(BlobError::CodeLength { declared: code_len, actual: code_len as usize + trailing });
        }
        let fits = 5 * u64::from(ZONE_SIZE)
            + zone_round(ro_len)
            + zone_round(rw_len + u64::from(heap_pages) * u64::from(PAGE_SIZE))
            + zone_round(u64::from(stack_size))
            + u64::from(MAX_INPUT)
            <= 1 << 32;
        if !fits {
            return Err(BlobError::LayoutTooLarge {
                ro: ro_len,
                rw: rw_len,
                heap_pages: u64::from(heap_pages),
                stack: u64::from(stack_size),
            });
        }
        let program = Program::from_blob(code).map_err(BlobError::Program)?;
        Ok(StandardProgram { ro_data, rw_data, heap_pages, stack_size, program: Arc::new(program) })
    }

    /// The decoded program c.
    pub fn program(&self) -> &Arc<Program> {
        &self.program
    }

    /// The read-only data o.
    pub fn ro_data(&self) -> &[u8] {
        &self.ro_data
    }

    /// The read-write data w.
    pub fn rw_data(&self) -> &[u8] {
        &self.rw_data
    }

    /// z, the extra heap pages.
    pub fn heap_pages(&self) -> u16 {
        self.heap_pages
    }

    /// s, the stack size.
    pub fn stack_size(&self) -> u32 {
        self.stack_size
    }

    /// The addresses of eq. A.42 (every value fits in 32 bits, as `from_blob` checked).
    pub fn layout(&self) -> Layout {
        let z = u64::from(ZONE_SIZE);
        let top = 1u64 << 32;
        let heap_base = 2 * z + zone_round(self.ro_data.len() as u64);
        let heap_end = heap_base
            + page_round(self.rw_data.len() as u64)
            + u64::from(self.heap_pages) * u64::from(PAGE_SIZE);
        let stack_end = top - 2 * z - u64::from(MAX_INPUT);
        let stack_start = stack_end - page_round(u64::from(self.stack_size));
        Layout {
            ro_start: z as u32,
            heap_base: heap_base as u32,
            heap_end: heap_end as u32,
            stack_start: stack_start as u32,
            stack_end: stack_end as u32,
            args_start: (top - z - u64::from(MAX_INPUT)) as u32,
        }
    }

    /// Y(p, a): a machine at `pc` with `gas`, the memory of eq. A.42 and the registers of eq. A.43.
    pub fn instantiate(&self, args: &[u8], pc: u32, gas: i64) -> Result<Machine, BlobError> {
        if args.len() > MAX_INPUT as usize {
            return Err(BlobError::ArgumentsTooLong(args.len()));
        }
        let mut machine = Machine::new(Arc::clone(&self.program), pc, gas);
        self.instantiate_into(&mut machine, args)?;
        Ok(machine)
    }

    /// Y(p, a) onto a fresh guest of any backend (every page inaccessible, registers zero): the
    /// memory of eq. A.42, the registers of eq. A.43 and the heap `sbrk` grows.
    pub fn instantiate_into(&self, guest: &mut dyn Guest, args: &[u8]) -> Result<(), BlobError> {
        if args.len() > MAX_INPUT as usize {
            return Err(BlobError::ArgumentsTooLong(args.len()));
        }
        let layout = self.layout();
        let memory = guest.memory_mut();
        let mut fill = |start: u32, data: &[u8], len: u64, access: Access| {
            if len > 0 {
                memory.set_access(start, len as u32, access);
                // Every page written here was just made accessible, so this cannot fail.
                let _ = memory.write_initial(start, data);
            }
        };
        fill(layout.ro_start, &self.ro_data, page_round(self.ro_data.len() as u64), Access::ReadOnly);
        fill(
            layout.heap_base,
            &self.rw_data,
            u64::from(layout.heap_end - layout.heap_base),
            Access::ReadWrite,
        );
        fill(layout.stack_start, &[], u64::from(layout.stack_end - layout.stack_start), Access::ReadWrite);
        fill(layout.args_start, args, page_round(args.len() as u64), Access::ReadOnly);
        // sbrk grows from h and keeps one zone clear below the stack, as the layout does between
        // sections.
        guest.set_heap(layout.heap_base, u64::from(layout.stack_start - ZONE_SIZE));
        let regs = guest.regs_mut();
        regs[0] = u64::from(HALT_ADDRESS);
        regs[1] = u64::from(layout.stack_end);
        regs[7] = u64::from(layout.args_start);
        regs[8] = args.len() as u64;
        Ok(())
    }
}

/// The result of Ψ_M: output data, or how it failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvocationResult {
    /// A halt; the output is the readable range [ω7, ω7 + ω8), or empty when it is not readable.
    Output(Vec<u8>),
    Panic,
    OutOfGas,
}

/// Ψ_M (§A.8): Y, then Ψ_H from `pc` with `gas`, then R. Returns the gas used (never more than
/// `gas`) and the result. A blob Y rejects, or whose program does not decode, is a panic that uses
/// no gas.
pub fn invoke<H: Host + ?Sized>(
    blob: &[u8],
    pc: u32,
    gas: u64,
    args: &[u8],
    host: &mut H,
) -> (u64, InvocationResult) {
    match StandardProgram::from_blob(blob) {
        Ok(program) => invoke_program(&program, pc, gas, args, host),
        Err(_) => (0, InvocationResult::Panic),
    }
}

/// Ψ_M over a program already decoded.
pub fn invoke_program<H: Host + ?Sized>(
    program: &StandardProgram,
    pc: u32,
    gas: u64,
    args: &[u8],
    host: &mut H,
) -> (u64, InvocationResult) {
    let (used, result, _) = invoke_program_detailed(program, pc, gas, args, host);
    (used, result)
}

/// How a run of Ψ_M ended, in more detail than its result `R` keeps: the machine's exit and the
/// program counter it stopped at. For diagnostics (an operator or a service author wants to
/// know where a service faulted); nothing in the protocol depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitDetail {
    /// The exit: a page fault keeps the page's address, which `R` folds into a panic.
    pub exit: Exit,
    /// The program counter at the exit: the faulting or trapping instruction, or the `ecalli`
    /// whose host call ended the run.
    pub pc: u32,
}

/// [`invoke_program`], also returning how the machine stopped (`None` when the arguments did not
/// fit the memory layout, so that no machine ran).
pub fn invoke_program_detailed<H: Host + ?Sized>(
    program: &StandardProgram,
    pc: u32,
    gas: u64,
    args: &[u8],
    host: &mut H,
) -> (u64, InvocationResult, Option<ExitDetail>) {
    let start = i64::try_from(gas).unwrap_or(i64::MAX);
    let Ok(mut machine) = program.instantiate(args, pc, start) else {
        return (0, InvocationResult::Panic, None);
    };
    let (used, result, detail) = run_instantiated(&mut machine, host);
    machine.into_memory().recycle();
    (used, result, Some(detail))
}

/// The rest of Ψ_M once Y has laid out `guest` (with its starting gas): Ψ_H with per-instruction
/// metering, then R. Returns the gas used, the result and how the machine stopped.
pub fn run_instantiated<G: Guest, H: Host + ?Sized>(
    guest: &mut G,
    host: &mut H,
) -> (u64, InvocationResult, ExitDetail) {
    let start = guest.gas();
    guest.set_metering(crate::Metering::Instruction);
    let exit = run_with_host(guest, host);
    let detail = ExitDetail { exit, pc: guest.pc() };
    // u = ϱ − max(ϱ', 0); running out of gas leaves ϱ' < 0 in the paper, so all of it is used.
    let used = match exit {
        Exit::OutOfGas => start,
        _ => start - guest.gas().max(0),
    } as u64;
    let result = match exit {
        Exit::OutOfGas => InvocationResult::OutOfGas,
        Exit::Halt => {
            let (address, length) = (guest.regs()[7], guest.regs()[8]);
            let output = u32::try_from(address)
                .ok()
                .zip(u32::try_from(length).ok())
                .filter(|&(a, l)| u64::from(a) + u64::from(l) <= 1 << 32)
                .and_then(|(a, l)| guest.memory().read_vec(a, l).ok());
            InvocationResult::Output(output.unwrap_or_default())
        }
        Exit::Panic | Exit::PageFault(_) | Exit::HostCall(_) => InvocationResult::Panic,
    };
    (used, result, detail)
}
