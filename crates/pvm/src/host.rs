//! Host calls: Ψ_H of GP 0.7.2 §A.6. The machine stops at `ecalli`; a [`Host`] sees the call's index
//! and a [`HostContext`] over registers, memory and gas, and says whether execution continues after
//! the `ecalli` or ends. The PVM knows nothing about what the calls mean; the accumulate and refine
//! layers implement [`Host`].

use std::sync::Arc;

use crate::machine::{Exit, Machine, Metering, REGISTER_COUNT};
use crate::memory::{Access, Memory, MemoryError};
use crate::program::Program;

/// What a host call asks of the machine (the paper's {▸, ∎, ☇, ∞} plus a page fault).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HostOutcome {
    /// Continue after the `ecalli`.
    Continue,
    /// End the run as a halt.
    Halt,
    /// End the run as a panic.
    Panic,
    /// End the run out of gas (the host found the gas insufficient for the call).
    OutOfGas,
    /// End the run with a page fault at this page address.
    PageFault(u32),
}

/// A guest's memory as a host sees it: page access, and reads and writes checked against it with
/// the interpreter's errors. [`Memory`] is the interpreter's; a recompiler's sandbox is another.
pub trait GuestMemory {
    /// The access of the page holding `address`.
    fn access(&self, address: u32) -> Access;

    /// Sets the access of every page overlapping `[address, address + length)`; making a page
    /// inaccessible discards its contents.
    fn set_access(&mut self, address: u32, length: u32, access: Access);

    /// Reads `buf.len()` bytes from `address` if all are readable (V_μ), wrapping at 2^32.
    fn read(&self, address: u32, buf: &mut [u8]) -> Result<(), MemoryError>;

    /// `length` bytes from `address` if all are readable; nothing is allocated when they are not.
    fn read_vec(&self, address: u32, length: u32) -> Result<Vec<u8>, MemoryError>;

    /// Writes `data` at `address` if all of it is writable (V*_μ).
    fn write(&mut self, address: u32, data: &[u8]) -> Result<(), MemoryError>;

    /// Writes `data` into accessible pages, read-only ones included: how a loader fills sections.
    fn write_initial(&mut self, address: u32, data: &[u8]) -> Result<(), MemoryError>;

    /// Whether `[address, address + length)` is readable.
    fn is_readable(&self, address: u32, length: u32) -> bool;

    /// Whether `[address, address + length)` is writable.
    fn is_writable(&self, address: u32, length: u32) -> bool;

    /// Every accessible page's address and access, in address order.
    fn accessible_pages(&self) -> Box<dyn Iterator<Item = (u32, Access)> + '_>;
}

impl GuestMemory for Memory {
    fn access(&self, address: u32) -> Access {
        Memory::access(self, address)
    }
    fn set_access(&mut self, address: u32, length: u32, access: Access) {
        Memory::set_access(self, address, length, access);
    }
    fn read(&self, address: u32, buf: &mut [u8]) -> Result<(), MemoryError> {
        Memory::read(self, address, buf)
    }
    fn read_vec(&self, address: u32, length: u32) -> Result<Vec<u8>, MemoryError> {
        Memory::read_vec(self, address, length)
    }
    fn write(&mut self, address: u32, data: &[u8]) -> Result<(), MemoryError> {
        Memory::write(self, address, data)
    }
    fn write_initial(&mut self, address: u32, data: &[u8]) -> Result<(), MemoryError> {
        Memory::write_initial(self, address, data)
    }
    fn is_readable(&self, address: u32, length: u32) -> bool {
        Memory::is_readable(self, address, length)
    }
    fn is_writable(&self, address: u32, length: u32) -> bool {
        Memory::is_writable(self, address, length)
    }
    fn accessible_pages(&self) -> Box<dyn Iterator<Item = (u32, Access)> + '_> {
        Box::new(Memory::accessible_pages(self))
    }
}

/// A PVM machine, whichever backend runs it: orrery-pvm's interpreter ([`Machine`]) or a
/// recompiler's instance. Host calls ([`HostContext`]), Y ([`crate::StandardProgram::instantiate_into`])
/// and Ψ_M ([`crate::run_instantiated`]) are written once over it. Every implementation must run
/// exactly as the interpreter does, exits and all.
pub trait Guest {
    /// The program it runs.
    fn program(&self) -> &Arc<Program>;
    /// The registers ω.
    fn regs(&self) -> &[u64; REGISTER_COUNT];
    /// The registers, to change.
    fn regs_mut(&mut self) -> &mut [u64; REGISTER_COUNT];
    /// The gas counter ϱ.
    fn gas(&self) -> i64;
    /// Sets the gas counter.
    fn set_gas(&mut self, gas: i64);
    /// The memory.
    fn memory(&self) -> &dyn GuestMemory;
    /// The memory, to change.
    fn memory_mut(&mut self) -> &mut dyn GuestMemory;
    /// The program counter: before a run where it starts, after an exit the instruction that
    /// caused it.
    fn pc(&self) -> u32;
    /// Moves execution to `pc`; the next run first charges from `pc` to the end of its block.
    fn set_pc(&mut self, pc: u32);
    /// How gas is charged.
    fn set_metering(&mut self, metering: Metering);
    /// Declares the heap that `sbrk` grows: its base and the first address it may not reach.
    fn set_heap(&mut self, base: u32, limit: u64);
    /// Runs until an exit; host calls are returned to the caller.
    fn run(&mut self) -> Exit;
}

impl Guest for Machine {
    fn program(&self) -> &Arc<Program> {
        Machine::program(self)
    }
    fn regs(&self) -> &[u64; REGISTER_COUNT] {
        Machine::regs(self)
    }
    fn regs_mut(&mut self) -> &mut [u64; REGISTER_COUNT] {
        Machine::regs_mut(self)
    }
    fn gas(&self) -> i64 {
        Machine::gas(self)
    }
    fn set_gas(&mut self, gas: i64) {
        Machine::set_gas(self, gas);
    }
    fn memory(&self) -> &dyn GuestMemory {
        &self.memory
    }
    fn memory_mut(&mut self) -> &mut dyn GuestMemory {
        &mut self.memory
    }
    fn pc(&self) -> u32 {
        Machine::pc(self)
    }
    fn set_pc(&mut self, pc: u32) {
        Machine::set_pc(self, pc);
    }
    fn set_metering(&mut self, metering: Metering) {
        Machine::set_metering(self, metering);
    }
    fn set_heap(&mut self, base: u32, limit: u64) {
        Machine::set_heap(self, base, limit);
    }
    fn run(&mut self) -> Exit {
        Machine::run(self)
    }
}

/// The machine state a host may read and change during a call: registers, memory and gas. Neither
/// the program counter nor the program are reachable from here.
pub struct HostContext<'a> {
    guest: &'a mut dyn Guest,
}

impl std::fmt::Debug for HostContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostContext").field("regs", self.regs()).field("gas", &self.gas()).finish()
    }
}

impl<'a> HostContext<'a> {
    /// The context of a call made by `guest`.
    pub fn new(guest: &'a mut dyn Guest) -> Self {
        HostContext { guest }
    }
}

impl HostContext<'_> {
    /// The registers.
    pub fn regs(&self) -> &[u64; REGISTER_COUNT] {
        self.guest.regs()
    }

    /// The registers, to change.
    pub fn regs_mut(&mut self) -> &mut [u64; REGISTER_COUNT] {
        self.guest.regs_mut()
    }

    /// One register.
    pub fn reg(&self, index: usize) -> u64 {
        self.guest.regs()[index]
    }

    /// Sets one register.
    pub fn set_reg(&mut self, index: usize, value: u64) {
        self.guest.regs_mut()[index] = value;
    }

    /// The memory.
    pub fn memory(&self) -> &dyn GuestMemory {
        self.guest.memory()
    }

    /// The memory, to change.
    pub fn memory_mut(&mut self) -> &mut dyn GuestMemory {
        self.guest.memory_mut()
    }

    /// The gas left.
    pub fn gas(&self) -> i64 {
        self.guest.gas()
    }

    /// Charges `amount` gas as the paper's host functions do (ϱ' = ϱ − g). Returns false, charging
    /// nothing, when less than `amount` is left; the host should then return
    /// [`HostOutcome::OutOfGas`].
    pub fn charge(&mut self, amount: u64) -> bool {
        match i64::try_from(amount) {
            Ok(amount) if amount <= self.guest.gas() => {
                let left = self.guest.gas() - amount;
                self.guest.set_gas(left);
                true
            }
            _ => false,
        }
    }

    /// Sets the gas counter.
    pub fn set_gas(&mut self, gas: i64) {
        self.guest.set_gas(gas);
    }
}

/// The host-call dispatcher of Ψ_H: the paper's context mutator f, with its context X as `self`.
pub trait Host {
    /// Handles `ecalli index`.
    fn call(&mut self, index: u64, context: &mut HostContext<'_>) -> HostOutcome;
}

/// A host that answers no call: the first `ecalli` ends the run as a panic.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHost;

impl Host for NoHost {
    fn call(&mut self, _index: u64, _context: &mut HostContext<'_>) -> HostOutcome {
        HostOutcome::Panic
    }
}

/// Ψ_H on any [`Guest`]: runs, handing each host call to `host`, until an exit that is not a
/// continued host call. The result is never [`Exit::HostCall`]; when the host ends the run, the
/// program counter is left at the `ecalli`.
pub fn run_with_host<G: Guest, H: Host + ?Sized>(guest: &mut G, host: &mut H) -> Exit {
    loop {
        match guest.run() {
            Exit::HostCall(index) => match host.call(index, &mut HostContext::new(guest)) {
                HostOutcome::Continue => continue,
                HostOutcome::Halt => return Exit::Halt,
                HostOutcome::Panic => return Exit::Panic,
                HostOutcome::OutOfGas => return Exit::OutOfGas,
                HostOutcome::PageFault(page) => return Exit::PageFault(page),
            },
            exit => return exit,
        }
    }
}

impl Machine {
    /// Ψ_H: [`run_with_host`] on the interpreter.
    pub fn run_with_host<H: Host + ?Sized>(&mut self, host: &mut H) -> Exit {
        run_with_host(self, host)
    }
}
