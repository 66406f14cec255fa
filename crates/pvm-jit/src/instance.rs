//! A machine running compiled code: the same state and exits as orrery-pvm's [`orrery_pvm::Machine`]
//! (registers, gas, program counter, memory, [`Exit`]), the same resumption rules after a host call
//! or a page fault, and both metering modes.
//!
//! Compiled code charges per basic block and stops at a block it cannot pay for (`GAS_SHORT`); the
//! host side here turns that, and every other exit, into what the interpreter does in the chosen
//! [`Metering`] mode: per instruction, a block that cannot be paid in full is entered all the same
//! with the first unpaid slot remembered, an exit inside a block gives back the rest of it, and a run
//! that went below zero ends out of gas at the first unpaid instruction.

use std::sync::Arc;

use orrery_pvm::{
    Access, Exit, ExitDetail, Guest, GuestMemory, Host, InvocationResult, MemoryError, Metering, Program,
    StandardProgram, MAX_INPUT, PAGE_SIZE, REGISTER_COUNT,
};

use crate::compile::Compiled;
use crate::sys::{self, exit, Sandbox};

/// Where the next [`Instance::run`] starts (as the interpreter's own resume state).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resume {
    Slot { slot: u32, charge: bool },
    Trap { pc: u32 },
}

/// Why an instance could not be made.
#[derive(Debug, thiserror::Error)]
pub enum InstanceError {
    /// Reserving the sandbox's address range failed.
    #[error("reserving the guest sandbox: {0}")]
    Sandbox(#[from] std::io::Error),
    /// Argument data longer than Z_I (GP 0.7.2 §A.7).
    #[error("argument data of {0} bytes exceeds the 2^24-byte limit")]
    ArgumentsTooLong(usize),
}

/// A PVM instance running compiled code.
#[derive(Debug)]
pub struct Instance {
    compiled: Arc<Compiled>,
    sandbox: Sandbox,
    pc: u32,
    resume: Resume,
    metering: Metering,
}

impl Instance {
    /// A machine at `pc` with zero registers, the given gas and every page inaccessible, as
    /// [`orrery_pvm::Machine::new`].
    pub fn new(compiled: Arc<Compiled>, pc: u32, gas: i64) -> Result<Instance, InstanceError> {
        let mut sandbox = Sandbox::new()?;
        let ctx = sandbox.ctx_mut();
        ctx.gas = gas;
        ctx.heap_top = 0;
        ctx.heap_limit = 1 << 32;
        let mut instance =
            Instance { compiled, sandbox, pc, resume: Resume::Trap { pc }, metering: Metering::Block };
        instance.set_pc(pc);
        Ok(instance)
    }

    /// The compiled program.
    pub fn compiled(&self) -> &Arc<Compiled> {
        &self.compiled
    }

    /// The registers ω.
    pub fn regs(&self) -> &[u64; REGISTER_COUNT] {
        &self.sandbox.ctx().regs
    }

    /// The registers, for a host to change.
    pub fn regs_mut(&mut self) -> &mut [u64; REGISTER_COUNT] {
        &mut self.sandbox.ctx_mut().regs
    }

    /// One register.
    pub fn reg(&self, index: usize) -> u64 {
        self.regs()[index]
    }

    /// Sets one register.
    pub fn set_reg(&mut self, index: usize, value: u64) {
        self.regs_mut()[index] = value;
    }

    /// The gas counter ϱ.
    pub fn gas(&self) -> i64 {
        self.sandbox.ctx().gas
    }

    /// Sets the gas counter.
    pub fn set_gas(&mut self, gas: i64) {
        self.sandbox.ctx_mut().gas = gas;
    }

    /// The program counter: before a run where it starts, after an exit the instruction that caused
    /// it (for `OutOfGas`, the block or instruction that could not be paid for).
    pub fn pc(&self) -> u32 {
        self.pc
    }

    /// Moves execution to `pc`; the next run first charges from `pc` to the end of its block.
    pub fn set_pc(&mut self, pc: u32) {
        self.pc = pc;
        self.resume = match self.compiled.slot_at(pc) {
            Some(slot) => Resume::Slot { slot, charge: true },
            None => Resume::Trap { pc },
        };
    }

    /// How gas is charged; [`Metering::Block`] unless set.
    pub fn set_metering(&mut self, metering: Metering) {
        self.metering = metering;
    }

    /// Declares the heap that `sbrk` grows, as [`orrery_pvm::Machine::set_heap`].
    pub fn set_heap(&mut self, base: u32, limit: u64) {
        let ctx = self.sandbox.ctx_mut();
        ctx.heap_top = base;
        ctx.heap_limit = limit.min(1 << 32);
    }

    /// The guest memory.
    pub fn memory(&self) -> &Sandbox {
        &self.sandbox
    }

    /// The guest memory, to change.
    pub fn memory_mut(&mut self) -> &mut Sandbox {
        &mut self.sandbox
    }

    /// Runs until an exit, exactly as [`orrery_pvm::Machine::run`] would from the same state.
    pub fn run(&mut self) -> Exit {
        let compiled = Arc::clone(&self.compiled);
        let per_instruction = self.metering == Metering::Instruction;
        let costs = &compiled.costs;
        let pcs = compiled.program.slot_pcs();
        // Per instruction, the first slot of an underpaid block that could not be paid for.
        let mut unpaid_from = usize::MAX;
        let mut gas = self.gas();

        let mut slot = match self.resume {
            Resume::Slot { slot, charge } => {
                if charge {
                    let cost = i64::from(costs[slot as usize]);
                    if gas < cost {
                        if !(per_instruction && gas >= 1) {
                            self.pc = pcs[slot as usize];
                            return Exit::OutOfGas;
                        }
                        unpaid_from = slot as usize + gas as usize;
                    }
                    gas -= cost;
                }
                slot as usize
            }
            Resume::Trap { pc } => {
                self.pc = pc;
                if gas < 1 {
                    return Exit::OutOfGas;
                }
                self.set_gas(gas - 1);
                return Exit::Panic;
            }
        };

        loop {
            self.set_gas(gas);
            let entry = compiled.body[slot] as usize;
            let (sites, exit) = (&compiled.sites, compiled.exit as usize);
            sys::enter(&compiled.code, sites, exit, compiled.sets_gs, &mut self.sandbox, entry);
            let ctx = self.sandbox.ctx();
            gas = ctx.gas;
            let at = ctx.exit_slot as usize;
            let (exit, resume) = match ctx.exit_kind {
                exit::GAS_SHORT => {
                    // Entering the block at `at` cannot be paid in full: compiled code charged it
                    // all the same, and its cost goes back here.
                    gas += i64::from(costs[at]);
                    if per_instruction && gas >= 1 {
                        unpaid_from = at + gas as usize;
                        gas -= i64::from(costs[at]);
                        slot = at;
                        continue;
                    }
                    // Per instruction with gas below zero, the block just left overran it.
                    let stop = if per_instruction && gas < 0 { unpaid_from } else { at };
                    self.set_gas(gas.max(0));
                    self.pc = pcs[stop];
                    self.resume = Resume::Slot { slot: stop as u32, charge: true };
                    return Exit::OutOfGas;
                }
                exit::HALT => (Exit::Halt, Resume::Slot { slot: at as u32, charge: false }),
                exit::HOST_CALL => {
                    (Exit::HostCall(ctx.exit_arg), Resume::Slot { slot: at as u32 + 1, charge: false })
                }
                exit::PAGE_FAULT => {
                    (Exit::PageFault(ctx.exit_arg as u32), Resume::Slot { slot: at as u32, charge: false })
                }
                _ => (Exit::Panic, Resume::Slot { slot: at as u32, charge: false }),
            };
            let mut resume = resume;
            if per_instruction {
                // Give back the rest of the block, which a resumed run pays for again.
                gas += i64::from(costs[at]) - 1;
                if let Resume::Slot { charge, .. } = &mut resume {
                    *charge = true;
                }
                if gas < 0 {
                    let stop = unpaid_from.min(at);
                    self.set_gas(0);
                    self.pc = pcs[stop];
                    self.resume = Resume::Slot { slot: stop as u32, charge: true };
                    return Exit::OutOfGas;
                }
            }
            self.set_gas(gas);
            self.pc = pcs[at];
            self.resume = resume;
            return exit;
        }
    }

    /// Ψ_H: runs, handing each host call to `host`, until an exit that is not a continued host call
    /// (orrery-pvm's [`orrery_pvm::run_with_host`], the same loop the interpreter runs).
    pub fn run_with_host<H: Host + ?Sized>(&mut self, host: &mut H) -> Exit {
        orrery_pvm::run_with_host(self, host)
    }
}

impl GuestMemory for Sandbox {
    fn access(&self, address: u32) -> Access {
        Sandbox::access(self, address)
    }
    fn set_access(&mut self, address: u32, length: u32, access: Access) {
        Sandbox::set_access(self, address, length, access);
    }
    fn read(&self, address: u32, buf: &mut [u8]) -> Result<(), MemoryError> {
        Sandbox::read(self, address, buf)
    }
    fn read_vec(&self, address: u32, length: u32) -> Result<Vec<u8>, MemoryError> {
        Sandbox::read_vec(self, address, length)
    }
    fn write(&mut self, address: u32, data: &[u8]) -> Result<(), MemoryError> {
        Sandbox::write(self, address, data)
    }
    fn write_initial(&mut self, address: u32, data: &[u8]) -> Result<(), MemoryError> {
        Sandbox::write_initial(self, address, data)
    }
    fn is_readable(&self, address: u32, length: u32) -> bool {
        Sandbox::is_readable(self, address, length)
    }
    fn is_writable(&self, address: u32, length: u32) -> bool {
        Sandbox::is_writable(self, address, length)
    }
    fn accessible_pages(&self) -> Box<dyn Iterator<Item = (u32, Access)> + '_> {
        Box::new(Sandbox::accessible_pages(self))
    }
}

impl Guest for Instance {
    fn program(&self) -> &Arc<Program> {
        self.compiled.program()
    }
    fn regs(&self) -> &[u64; REGISTER_COUNT] {
        Instance::regs(self)
    }
    fn regs_mut(&mut self) -> &mut [u64; REGISTER_COUNT] {
        Instance::regs_mut(self)
    }
    fn gas(&self) -> i64 {
        Instance::gas(self)
    }
    fn set_gas(&mut self, gas: i64) {
        Instance::set_gas(self, gas);
    }
    fn memory(&self) -> &dyn GuestMemory {
        &self.sandbox
    }
    fn memory_mut(&mut self) -> &mut dyn GuestMemory {
        &mut self.sandbox
    }
    fn pc(&self) -> u32 {
        Instance::pc(self)
    }
    fn set_pc(&mut self, pc: u32) {
        Instance::set_pc(self, pc);
    }
    fn set_metering(&mut self, metering: Metering) {
        Instance::set_metering(self, metering);
    }
    fn set_heap(&mut self, base: u32, limit: u64) {
        Instance::set_heap(self, base, limit);
    }
    fn run(&mut self) -> Exit {
        Instance::run(self)
    }
}

/// `sbrk` (§A.5.9) exactly as orrery-pvm's interpreter runs it (see the crate docs of orrery-pvm):
/// the break is a byte address; `sbrk(0)` returns it; `sbrk(n)` returns it and moves it up by n,
/// making the pages up to the new break read-write; while it sits on a page boundary, accessible
/// pages at it are skipped; a request past the heap's limit changes nothing and returns 0.
pub(crate) fn sbrk(sandbox: &mut Sandbox, size: u64) -> u64 {
    let page = u64::from(PAGE_SIZE);
    let (top, limit) = (sandbox.ctx().heap_top, sandbox.ctx().heap_limit);
    let mut x = u64::from(top);
    if x % page == 0 {
        while x < limit && sandbox.access(x as u32) != Access::Inaccessible {
            x += page;
        }
    }
    let Some(end) = x.checked_add(size).filter(|&end| end <= limit) else {
        return 0;
    };
    if size > 0 {
        // The page holding x, when x is inside one, is already read-write: setting it again keeps
        // its contents.
        sandbox.set_access(x as u32, (end - x).min(u64::from(u32::MAX)) as u32, Access::ReadWrite);
    }
    sandbox.ctx_mut().heap_top = end.min(u64::from(u32::MAX)) as u32;
    x
}

/// Y (GP 0.7.2 §A.7) onto a sandbox: orrery-pvm's [`StandardProgram::instantiate_into`], the same
/// layout the interpreter gets.
pub fn instantiate(
    program: &StandardProgram,
    compiled: Arc<Compiled>,
    args: &[u8],
    pc: u32,
    gas: i64,
) -> Result<Instance, InstanceError> {
    if args.len() > MAX_INPUT as usize {
        return Err(InstanceError::ArgumentsTooLong(args.len()));
    }
    let mut instance = Instance::new(compiled, pc, gas)?;
    program.instantiate_into(&mut instance, args).map_err(|_| InstanceError::ArgumentsTooLong(args.len()))?;
    Ok(instance)
}

/// Ψ_M (§A.8) on compiled code, as [`orrery_pvm::invoke_program`]: the gas used (never more than
/// `gas`) and the result.
pub fn invoke<H: Host + ?Sized>(
    program: &StandardProgram,
    compiled: &Arc<Compiled>,
    pc: u32,
    gas: u64,
    args: &[u8],
    host: &mut H,
) -> Result<(u64, InvocationResult), InstanceError> {
    invoke_detailed(program, compiled, pc, gas, args, host).map(|(used, result, _)| (used, result))
}

/// Ψ_M (§A.8) on compiled code: as [`orrery_pvm::invoke_program_detailed`] (the same
/// [`orrery_pvm::run_instantiated`] after Y), the gas used (never more than `gas`), the result and
/// how the machine stopped (`None` when the arguments did not fit, so no machine ran).
pub fn invoke_detailed<H: Host + ?Sized>(
    program: &StandardProgram,
    compiled: &Arc<Compiled>,
    pc: u32,
    gas: u64,
    args: &[u8],
    host: &mut H,
) -> Result<(u64, InvocationResult, Option<ExitDetail>), InstanceError> {
    let start = i64::try_from(gas).unwrap_or(i64::MAX);
    let mut instance = match instantiate(program, Arc::clone(compiled), args, pc, start) {
        Ok(instance) => instance,
        Err(InstanceError::ArgumentsTooLong(_)) => return Ok((0, InvocationResult::Panic, None)),
        Err(other) => return Err(other),
    };
    let (used, result, detail) = orrery_pvm::run_instantiated(&mut instance, host);
    Ok((used, result, Some(detail)))
}
