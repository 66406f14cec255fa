//! Host calls: Ψ_H of GP 0.7.2 §A.6. The machine stops at `ecalli`; a [`Host`] sees the call's index
//! and a [`HostContext`] over registers, memory and gas, and says whether execution continues after
//! the `ecalli` or ends. The PVM knows nothing about what the calls mean; the accumulate and refine
//! layers implement [`Host`].

use crate::machine::{Exit, Machine, REGISTER_COUNT};
use crate::memory::Memory;

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

/// The machine state a host may read and change during a call: registers, memory and gas. Neither
/// the program counter nor the program are reachable from here.
#[derive(Debug)]
pub struct HostContext<'a> {
    machine: &'a mut Machine,
}

impl HostContext<'_> {
    /// The registers.
    pub fn regs(&self) -> &[u64; REGISTER_COUNT] {
        self.machine.regs()
    }

    /// The registers, to change.
    pub fn regs_mut(&mut self) -> &mut [u64; REGISTER_COUNT] {
        self.machine.regs_mut()
    }

    /// One register.
    pub fn reg(&self, index: usize) -> u64 {
        self.machine.reg(index)
    }

    /// Sets one register.
    pub fn set_reg(&mut self, index: usize, value: u64) {
        self.machine.set_reg(index, value);
    }

    /// The memory.
    pub fn memory(&self) -> &Memory {
        &self.machine.memory
    }

    /// The memory, to change.
    pub fn memory_mut(&mut self) -> &mut Memory {
        &mut self.machine.memory
    }

    /// The gas left.
    pub fn gas(&self) -> i64 {
        self.machine.gas()
    }

    /// Charges `amount` gas as the paper's host functions do (ϱ' = ϱ − g). Returns false, charging
    /// nothing, when less than `amount` is left; the host should then return
    /// [`HostOutcome::OutOfGas`].
    pub fn charge(&mut self, amount: u64) -> bool {
        match i64::try_from(amount) {
            Ok(amount) if amount <= self.machine.gas() => {
                self.machine.set_gas(self.machine.gas() - amount);
                true
            }
            _ => false,
        }
    }

    /// Sets the gas counter.
    pub fn set_gas(&mut self, gas: i64) {
        self.machine.set_gas(gas);
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

impl Machine {
    /// Ψ_H: runs, handing each host call to `host`, until an exit that is not a continued host call.
    /// The result is never [`Exit::HostCall`]; when the host ends the run, the program counter is
    /// left at the `ecalli`.
    pub fn run_with_host<H: Host + ?Sized>(&mut self, host: &mut H) -> Exit {
        loop {
            match self.run() {
                Exit::HostCall(index) => {
                    let outcome = host.call(index, &mut HostContext { machine: self });
                    match outcome {
                        HostOutcome::Continue => continue,
                        HostOutcome::Halt => return Exit::Halt,
                        HostOutcome::Panic => return Exit::Panic,
                        HostOutcome::OutOfGas => return Exit::OutOfGas,
                        HostOutcome::PageFault(page) => return Exit::PageFault(page),
                    }
                }
                exit => return exit,
            }
        }
    }
}
