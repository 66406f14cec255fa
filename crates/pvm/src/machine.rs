//! The interpreter: Ψ of GP 0.7.2 §A.1 over the pre-decoded program, one `match` per instruction,
//! registers in a fixed array, gas charged per basic block, memory through the page table.
//!
//! A [`Machine`] runs until an exit and keeps its state, so that a host can inspect and change
//! registers, memory and gas after a host call or a page fault and then call [`Machine::run`] again.

use std::sync::Arc;

use crate::memory::{Access, Memory, MemoryError, PageCache, PAGE_SIZE};
use crate::opcode::Opcode;
use crate::program::{Program, INVALID_SLOT, RUN_HEAD};

/// The number of registers.
pub const REGISTER_COUNT: usize = 13;

/// The dynamic-jump address that halts the machine (2^32 − 2^16, §A.4).
pub const HALT_ADDRESS: u32 = 0xffff_0000;

/// How a run ended (ε of §A.1). After `HostCall` and `PageFault` the machine can be resumed; after
/// `OutOfGas`, once gas has been added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Exit {
    /// A dynamic jump to [`HALT_ADDRESS`].
    Halt,
    /// A trap, an invalid instruction or jump, or an access below 2^16.
    Panic,
    /// Not enough gas to enter the next basic block.
    OutOfGas,
    /// An access to an inaccessible page (or a write to a read-only one), with the page's address.
    PageFault(u32),
    /// `ecalli` with its immediate ν_X as a 64-bit value.
    HostCall(u64),
}

/// How gas is charged. Both charge 1 per instruction; they differ where a run ends inside a basic
/// block, or runs out of gas there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Metering {
    /// A block's instructions are paid on entering it, all of them, and a block that cannot be paid
    /// for in full is not entered (out of gas at its start). This is what the `pvm/` vectors
    /// expect, and polkavm's default.
    #[default]
    Block,
    /// Only the instructions executed are paid, the one that ends the run included: an exit in the
    /// middle of a block gives back what was paid for the rest of it, and gas runs out at the first
    /// instruction that cannot be paid for. This is what the block-import traces expect of Ψ_M
    /// (their README: "the gas cost for a single instruction is 1"; polkavm's per-instruction
    /// metering). After `OutOfGas` in this mode the registers and memory may hold the effects of
    /// instructions past the one that ran out (a block is still entered as a whole), so such a run
    /// is not meant to be resumed.
    Instruction,
}

/// Where the next [`Machine::run`] starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resume {
    /// At a slot, charging the rest of its block first when `charge` is set.
    Slot { slot: u32, charge: bool },
    /// At a position that holds no instruction: the paper's ζ reads opcode 0 (trap) there.
    Trap { pc: u32 },
}

/// The heap that `sbrk` grows (see [`Machine::set_heap`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Heap {
    /// Where the search for the break starts: the heap base h, then the break after each `sbrk`.
    top: u32,
    /// The first address the heap may not reach (at most 2^32).
    limit: u64,
}

/// A PVM instance: program, registers, program counter, gas and RAM.
#[derive(Debug, Clone)]
pub struct Machine {
    program: Arc<Program>,
    /// The registers; the interpreter indexes them with `Reg`, which needs no bounds check.
    regs: [u64; REGISTER_COUNT],
    gas: i64,
    pc: u32,
    resume: Resume,
    metering: Metering,
    heap: Heap,
    /// The RAM; the host may read and write it between runs.
    pub memory: Memory,
}

/// The members and the span in bytes of a fused run, from its head's `y` (see
/// `program::fuse_memory_runs`).
#[inline(always)]
fn run_shape(y: u32) -> (usize, u32) {
    (((y >> 24) & 0x7f) as usize, (y >> 12) & 0xfff)
}

#[inline(always)]
fn sx32(x: u32) -> u64 {
    x as i32 as i64 as u64
}

#[inline(always)]
fn sext4(x: u64) -> u64 {
    x as u32 as i32 as i64 as u64
}

impl Machine {
    /// A machine at `pc` with zero registers, the given gas and an empty address space.
    pub fn new(program: Arc<Program>, pc: u32, gas: i64) -> Machine {
        let mut machine = Machine {
            program,
            regs: [0; REGISTER_COUNT],
            gas,
            pc,
            resume: Resume::Trap { pc },
            metering: Metering::Block,
            heap: Heap { top: 0, limit: 1 << 32 },
            memory: Memory::new(),
        };
        machine.set_pc(pc);
        machine
    }

    /// The program.
    pub fn program(&self) -> &Arc<Program> {
        &self.program
    }

    /// The registers ω.
    pub fn regs(&self) -> &[u64; REGISTER_COUNT] {
        &self.regs
    }

    /// The registers, for a host to change.
    pub fn regs_mut(&mut self) -> &mut [u64; REGISTER_COUNT] {
        &mut self.regs
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
        self.gas
    }

    /// Sets the gas counter.
    pub fn set_gas(&mut self, gas: i64) {
        self.gas = gas;
    }

    /// The program counter ı: before a run, where it starts; after an exit, the instruction that
    /// caused it (for `OutOfGas`, the start of the block that could not be paid for).
    pub fn pc(&self) -> u32 {
        self.pc
    }

    /// Moves execution to `pc`. The next run first charges the instructions from `pc` to the end of
    /// its basic block.
    pub fn set_pc(&mut self, pc: u32) {
        self.pc = pc;
        self.resume = match self.program.slot_at(pc) {
            Some(slot) => Resume::Slot { slot, charge: true },
            None => Resume::Trap { pc },
        };
    }

    /// How gas is charged (see [`Metering`]); [`Metering::Block`] unless set.
    pub fn set_metering(&mut self, metering: Metering) {
        self.metering = metering;
    }

    /// The machine's memory, the rest dropped: for [`Memory::recycle`] once a run is over.
    pub fn into_memory(self) -> Memory {
        self.memory
    }

    /// Declares the heap that `sbrk` grows: its base h (the paper's term; 0 for a machine without
    /// the standard layout) and the first address it may not reach.
    pub fn set_heap(&mut self, base: u32, limit: u64) {
        self.heap = Heap { top: base, limit: limit.min(1 << 32) };
    }

    /// Runs until an exit (Ψ of §A.1, continuing across nothing: host calls are returned to the caller).
    // The handler macros take each operation as a closure that is applied once, in place.
    #[allow(clippy::redundant_closure_call)]
    pub fn run(&mut self) -> Exit {
        let program = Arc::clone(&self.program);
        let code = &program.instrs[..];
        let mut gas = self.gas;
        let per_instruction = self.metering == Metering::Instruction;
        // Per instruction, a block entered without the gas for all of it: the first slot that could
        // not be paid for. Execution reaching it, or leaving the block, runs out of gas there.
        let mut unpaid_from: usize = usize::MAX;

        let mut slot = match self.resume {
            Resume::Slot { slot, charge } => {
                if charge {
                    let cost = i64::from(code[slot as usize].cost);
                    if gas < cost {
                        if !(per_instruction && gas >= 1) {
                            self.pc = program.pcs[slot as usize];
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
                self.gas = gas - 1;
                return Exit::Panic;
            }
        };

        // A local copy of the registers: stores to it cannot alias the memory's tables, so the
        // compiler keeps those in registers. Written back on every exit. (Padded to 16: with
        // exactly 13 the compiler laid the handlers' common tails out with one more jump per
        // instruction, ~25% slower on the compute benchmark.)
        let mut local_regs = [0u64; 16];
        local_regs[..REGISTER_COUNT].copy_from_slice(&self.regs);
        let regs = &mut local_regs;
        let mut memory = PageCache::new(&mut self.memory);

        // Leaves the loop with an exit caused by the instruction at `slot`, resuming at `$resume`.
        macro_rules! exit {
            ($exit:expr, $resume:expr) => {{
                self.regs.copy_from_slice(&regs[..REGISTER_COUNT]);
                let mut resume = $resume;
                if per_instruction {
                    // Give back the rest of the block, which a resumed run pays for again.
                    gas += i64::from(code[slot].cost) - 1;
                    if let Resume::Slot { charge, .. } = &mut resume {
                        *charge = true;
                    }
                    if gas < 0 {
                        self.gas = 0;
                        self.pc = program.pcs[unpaid_from.min(slot)];
                        self.resume = Resume::Slot { slot: unpaid_from.min(slot) as u32, charge: true };
                        return Exit::OutOfGas;
                    }
                }
                self.gas = gas;
                self.pc = program.pcs[slot];
                self.resume = resume;
                return $exit;
            }};
        }
        macro_rules! exit_here {
            ($exit:expr) => {
                exit!($exit, Resume::Slot { slot: slot as u32, charge: false })
            };
        }
        // Enters the basic block at slot `$target`, paying for it, or panics here when the target is
        // not a block start.
        macro_rules! jump {
            ($target:expr) => {{
                let target = $target as usize;
                let Some(next) = code.get(target) else { exit_here!(Exit::Panic) };
                let cost = i64::from(next.cost);
                if gas < cost {
                    if per_instruction && gas >= 1 {
                        unpaid_from = target + gas as usize;
                    } else {
                        // Per instruction with gas below zero, the block just left overran it.
                        let at = if per_instruction && gas < 0 { unpaid_from } else { target };
                        self.regs.copy_from_slice(&regs[..REGISTER_COUNT]);
                        self.gas = gas.max(0);
                        self.pc = program.pcs[at];
                        self.resume = Resume::Slot { slot: at as u32, charge: true };
                        return Exit::OutOfGas;
                    }
                }
                gas -= cost;
                slot = target;
                continue;
            }};
        }
        // A dynamic jump (djump of eq. A.18) to address `$a`.
        macro_rules! djump {
            ($a:expr) => {{
                let a: u32 = $a;
                if a == HALT_ADDRESS {
                    exit_here!(Exit::Halt);
                }
                if a == 0 || a % 2 != 0 {
                    exit_here!(Exit::Panic);
                }
                let target = program.jump_slot(a / 2 - 1);
                if target == INVALID_SLOT {
                    exit_here!(Exit::Panic);
                }
                jump!(target)
            }};
        }
        macro_rules! mem_fault {
            ($err:expr) => {
                match $err {
                    MemoryError::LowAddress(_) => exit_here!(Exit::Panic),
                    MemoryError::PageFault(page) => exit_here!(Exit::PageFault(page)),
                }
            };
        }

        'dispatch: loop {
            debug_assert!(slot < code.len());
            // The fetch is unchecked: a bounds check here splits the dispatch in two and costs
            // ~14% of the run time on the compute benchmark.
            // SAFETY: `slot < code.len()` holds at every fetch. It starts valid: a resumed slot
            // comes from `Program::slot_at` (an index into `pcs`, which has one entry per slot) or
            // from an earlier exit at a valid slot, or is the slot after an `ecalli`, which is
            // never the last one. `jump!` only moves to a slot that `code.get` found. `next!`
            // moves to `slot + 1` only after an instruction that does not end its block, and the
            // last slot of every program is a trap (see `Program::compile`), so `slot + 1` is a
            // slot too. A fused run moves to a member of the run or to the slot after its last
            // member: the run's slots were found by the checked slice `code[slot..slot + run]`,
            // and its last member is a load or store, so not the last slot. The program is shared and immutable, so the slots cannot change under us.
            #[allow(unsafe_code)]
            let ins = unsafe { code.get_unchecked(slot) };
            // Operand fields are read where used, so that dispatch itself loads only the opcode.
            macro_rules! a {
                () => {
                    ins.a.index()
                };
            }
            macro_rules! b {
                () => {
                    ins.b.index()
                };
            }
            macro_rules! d {
                () => {
                    ins.d.index()
                };
            }

            macro_rules! next {
                () => {{
                    slot += 1;
                    continue;
                }};
            }
            macro_rules! branch {
                ($cond:expr) => {{
                    if $cond {
                        jump!(ins.y)
                    } else {
                        jump!(slot + 1)
                    }
                }};
            }
            macro_rules! load {
                ($n:literal, $addr:expr, $conv:expr) => {{
                    match memory.load::<$n>($addr) {
                        Ok(bytes) => {
                            regs[a!()] = $conv(bytes);
                            next!()
                        }
                        Err(err) => mem_fault!(err),
                    }
                }};
            }
            macro_rules! store {
                ($n:literal, $addr:expr, $value:expr) => {{
                    let value: u64 = $value;
                    let bytes = value.to_le_bytes();
                    let mut out = [0u8; $n];
                    out.copy_from_slice(&bytes[..$n]);
                    match memory.store::<$n>($addr, out) {
                        Ok(()) => next!(),
                        Err(err) => mem_fault!(err),
                    }
                }};
            }
            macro_rules! op2 {
                ($f:expr) => {{
                    regs[d!()] = $f(regs[a!()]);
                    next!()
                }};
            }
            macro_rules! op_imm {
                ($f:expr) => {{
                    let f: fn(u64, u64) -> u64 = $f;
                    regs[a!()] = f(regs[b!()], sx32(ins.x));
                    next!()
                }};
            }
            macro_rules! op3 {
                ($f:expr) => {{
                    let f: fn(u64, u64) -> u64 = $f;
                    regs[d!()] = f(regs[a!()], regs[b!()]);
                    next!()
                }};
            }

            let u8v = |v: [u8; 1]| u64::from(v[0]);
            let i8v = |v: [u8; 1]| v[0] as i8 as i64 as u64;
            let u16v = |v: [u8; 2]| u64::from(u16::from_le_bytes(v));
            let i16v = |v: [u8; 2]| i16::from_le_bytes(v) as i64 as u64;
            let u32v = |v: [u8; 4]| u64::from(u32::from_le_bytes(v));
            let i32v = |v: [u8; 4]| i32::from_le_bytes(v) as i64 as u64;
            let u64v = u64::from_le_bytes;

            match ins.op {
                // §A.5.1
                Opcode::Trap => exit_here!(Exit::Panic),
                Opcode::Fallthrough => jump!(slot + 1),
                // §A.5.2
                Opcode::Ecalli => {
                    exit!(Exit::HostCall(sx32(ins.x)), Resume::Slot { slot: slot as u32 + 1, charge: false })
                }
                // §A.5.3
                Opcode::LoadImm64 => {
                    regs[a!()] = u64::from(ins.x) | u64::from(ins.y) << 32;
                    next!()
                }
                // §A.5.4
                Opcode::StoreImmU8 => store!(1, ins.x, sx32(ins.y)),
                Opcode::StoreImmU16 => store!(2, ins.x, sx32(ins.y)),
                Opcode::StoreImmU32 => store!(4, ins.x, sx32(ins.y)),
                Opcode::StoreImmU64 => store!(8, ins.x, sx32(ins.y)),
                // §A.5.5
                Opcode::Jump => jump!(ins.y),
                // §A.5.6
                Opcode::JumpInd => djump!((regs[a!()] as u32).wrapping_add(ins.x)),
                Opcode::LoadImm => {
                    regs[a!()] = sx32(ins.x);
                    next!()
                }
                Opcode::LoadU8 => load!(1, ins.x, u8v),
                Opcode::LoadI8 => load!(1, ins.x, i8v),
                Opcode::LoadU16 => load!(2, ins.x, u16v),
                Opcode::LoadI16 => load!(2, ins.x, i16v),
                Opcode::LoadU32 => load!(4, ins.x, u32v),
                Opcode::LoadI32 => load!(4, ins.x, i32v),
                Opcode::LoadU64 => load!(8, ins.x, u64v),
                Opcode::StoreU8 => store!(1, ins.x, regs[a!()]),
                Opcode::StoreU16 => store!(2, ins.x, regs[a!()]),
                Opcode::StoreU32 => store!(4, ins.x, regs[a!()]),
                Opcode::StoreU64 => store!(8, ins.x, regs[a!()]),
                // §A.5.7
                Opcode::StoreImmIndU8 => store!(1, (regs[a!()] as u32).wrapping_add(ins.x), sx32(ins.y)),
                Opcode::StoreImmIndU16 => store!(2, (regs[a!()] as u32).wrapping_add(ins.x), sx32(ins.y)),
                Opcode::StoreImmIndU32 => store!(4, (regs[a!()] as u32).wrapping_add(ins.x), sx32(ins.y)),
                Opcode::StoreImmIndU64 => store!(8, (regs[a!()] as u32).wrapping_add(ins.x), sx32(ins.y)),
                // §A.5.8
                Opcode::LoadImmJump => {
                    regs[a!()] = sx32(ins.x);
                    jump!(ins.y)
                }
                Opcode::BranchEqImm => branch!(regs[a!()] == sx32(ins.x)),
                Opcode::BranchNeImm => branch!(regs[a!()] != sx32(ins.x)),
                Opcode::BranchLtUImm => branch!(regs[a!()] < sx32(ins.x)),
                Opcode::BranchLeUImm => branch!(regs[a!()] <= sx32(ins.x)),
                Opcode::BranchGeUImm => branch!(regs[a!()] >= sx32(ins.x)),
                Opcode::BranchGtUImm => branch!(regs[a!()] > sx32(ins.x)),
                Opcode::BranchLtSImm => branch!((regs[a!()] as i64) < i64::from(ins.x as i32)),
                Opcode::BranchLeSImm => branch!((regs[a!()] as i64) <= i64::from(ins.x as i32)),
                Opcode::BranchGeSImm => branch!((regs[a!()] as i64) >= i64::from(ins.x as i32)),
                Opcode::BranchGtSImm => branch!((regs[a!()] as i64) > i64::from(ins.x as i32)),
                // §A.5.9
                Opcode::MoveReg => op2!(|v| v),
                Opcode::Sbrk => {
                    let size = regs[a!()];
                    regs[d!()] = sbrk(&mut self.heap, memory.memory_mut(), size);
                    next!()
                }
                Opcode::CountSetBits64 => op2!(|v: u64| u64::from(v.count_ones())),
                Opcode::CountSetBits32 => op2!(|v: u64| u64::from((v as u32).count_ones())),
                Opcode::LeadingZeroBits64 => op2!(|v: u64| u64::from(v.leading_zeros())),
                Opcode::LeadingZeroBits32 => op2!(|v: u64| u64::from((v as u32).leading_zeros())),
                Opcode::TrailingZeroBits64 => op2!(|v: u64| u64::from(v.trailing_zeros())),
                Opcode::TrailingZeroBits32 => op2!(|v: u64| u64::from((v as u32).trailing_zeros())),
                Opcode::SignExtend8 => op2!(|v: u64| v as i8 as i64 as u64),
                Opcode::SignExtend16 => op2!(|v: u64| v as i16 as i64 as u64),
                Opcode::ZeroExtend16 => op2!(|v: u64| v as u16 as u64),
                Opcode::ReverseBytes => op2!(u64::swap_bytes),
                // §A.5.10
                Opcode::StoreIndU8 => store!(1, (regs[b!()] as u32).wrapping_add(ins.x), regs[a!()]),
                Opcode::StoreIndU16 => store!(2, (regs[b!()] as u32).wrapping_add(ins.x), regs[a!()]),
                Opcode::StoreIndU32 => store!(4, (regs[b!()] as u32).wrapping_add(ins.x), regs[a!()]),
                Opcode::StoreIndU64 => {
                    let address = (regs[b!()] as u32).wrapping_add(ins.x);
                    if ins.y & RUN_HEAD != 0 {
                        let (run, span) = run_shape(ins.y);
                        if let Some(mut data) =
                            memory.writable_span(address.wrapping_sub(ins.y & 0xfff), span)
                        {
                            // Every member (this one first) stores one register at its offset.
                            for (done, member) in code[slot..slot + run].iter().enumerate() {
                                if !data.store_u64(member.y & 0xfff, regs[member.a.index()]) {
                                    slot += done;
                                    continue 'dispatch;
                                }
                            }
                            slot += run;
                            continue;
                        }
                    }
                    store!(8, address, regs[a!()])
                }
                Opcode::LoadIndU8 => load!(1, (regs[b!()] as u32).wrapping_add(ins.x), u8v),
                Opcode::LoadIndI8 => load!(1, (regs[b!()] as u32).wrapping_add(ins.x), i8v),
                Opcode::LoadIndU16 => load!(2, (regs[b!()] as u32).wrapping_add(ins.x), u16v),
                Opcode::LoadIndI16 => load!(2, (regs[b!()] as u32).wrapping_add(ins.x), i16v),
                Opcode::LoadIndU32 => load!(4, (regs[b!()] as u32).wrapping_add(ins.x), u32v),
                Opcode::LoadIndI32 => load!(4, (regs[b!()] as u32).wrapping_add(ins.x), i32v),
                Opcode::LoadIndU64 => {
                    let address = (regs[b!()] as u32).wrapping_add(ins.x);
                    if ins.y & RUN_HEAD != 0 {
                        let (run, span) = run_shape(ins.y);
                        if let Some(data) = memory.readable_span(address.wrapping_sub(ins.y & 0xfff), span) {
                            // Only the last member may load into the base, so every address is
                            // the base's old value plus the member's offset.
                            for (done, member) in code[slot..slot + run].iter().enumerate() {
                                match data.load_u64(member.y & 0xfff) {
                                    Some(value) => regs[member.a.index()] = value,
                                    None => {
                                        slot += done;
                                        continue 'dispatch;
                                    }
                                }
                            }
                            slot += run;
                            continue;
                        }
                    }
                    load!(8, address, u64v)
                }
                Opcode::AddImm32 => op_imm!(|s, i| sext4(s.wrapping_add(i))),
                Opcode::AndImm => op_imm!(|s, i| s & i),
                Opcode::XorImm => op_imm!(|s, i| s ^ i),
                Opcode::OrImm => op_imm!(|s, i| s | i),
                Opcode::MulImm32 => op_imm!(|s, i| sext4(s.wrapping_mul(i))),
                Opcode::SetLtUImm => op_imm!(|s, i| u64::from(s < i)),
                Opcode::SetLtSImm => op_imm!(|s, i| u64::from((s as i64) < (i as i64))),
                Opcode::ShloLImm32 => op_imm!(|s, i| sext4(s << (i % 32))),
                Opcode::ShloRImm32 => op_imm!(|s, i| sext4(u64::from(s as u32 >> (i % 32)))),
                Opcode::SharRImm32 => op_imm!(|s, i| ((s as u32 as i32) >> (i % 32)) as i64 as u64),
                Opcode::NegAddImm32 => op_imm!(|s, i| sext4(i.wrapping_sub(s))),
                Opcode::SetGtUImm => op_imm!(|s, i| u64::from(s > i)),
                Opcode::SetGtSImm => op_imm!(|s, i| u64::from((s as i64) > (i as i64))),
                Opcode::ShloLImmAlt32 => op_imm!(|s, i| sext4(i << (s % 32))),
                Opcode::ShloRImmAlt32 => op_imm!(|s, i| sext4(u64::from(i as u32 >> (s % 32)))),
                Opcode::SharRImmAlt32 => op_imm!(|s, i| ((i as u32 as i32) >> (s % 32)) as i64 as u64),
                Opcode::CmovIzImm => {
                    if regs[b!()] == 0 {
                        regs[a!()] = sx32(ins.x);
                    }
                    next!()
                }
                Opcode::CmovNzImm => {
                    if regs[b!()] != 0 {
                        regs[a!()] = sx32(ins.x);
                    }
                    next!()
                }
                Opcode::AddImm64 => op_imm!(|s, i| s.wrapping_add(i)),
                Opcode::MulImm64 => op_imm!(|s, i| s.wrapping_mul(i)),
                Opcode::ShloLImm64 => op_imm!(|s, i| s << (i % 64)),
                Opcode::ShloRImm64 => op_imm!(|s, i| s >> (i % 64)),
                Opcode::SharRImm64 => op_imm!(|s, i| ((s as i64) >> (i % 64)) as u64),
                Opcode::NegAddImm64 => op_imm!(|s, i| i.wrapping_sub(s)),
                Opcode::ShloLImmAlt64 => op_imm!(|s, i| i << (s % 64)),
                Opcode::ShloRImmAlt64 => op_imm!(|s, i| i >> (s % 64)),
                Opcode::SharRImmAlt64 => op_imm!(|s, i| ((i as i64) >> (s % 64)) as u64),
                Opcode::RotR64Imm => op_imm!(|s, i| s.rotate_right((i % 64) as u32)),
                Opcode::RotR64ImmAlt => op_imm!(|s, i| i.rotate_right((s % 64) as u32)),
                Opcode::RotR32Imm => {
                    op_imm!(|s, i| sext4(u64::from((s as u32).rotate_right((i % 32) as u32))))
                }
                Opcode::RotR32ImmAlt => {
                    op_imm!(|s, i| sext4(u64::from((i as u32).rotate_right((s % 32) as u32))))
                }
                // §A.5.11
                Opcode::BranchEq => branch!(regs[a!()] == regs[b!()]),
                Opcode::BranchNe => branch!(regs[a!()] != regs[b!()]),
                Opcode::BranchLtU => branch!(regs[a!()] < regs[b!()]),
                Opcode::BranchLtS => branch!((regs[a!()] as i64) < (regs[b!()] as i64)),
                Opcode::BranchGeU => branch!(regs[a!()] >= regs[b!()]),
                Opcode::BranchGeS => branch!((regs[a!()] as i64) >= (regs[b!()] as i64)),
                // §A.5.12: the address uses ω_B before ω'_A is written.
                Opcode::LoadImmJumpInd => {
                    let address = (regs[b!()] as u32).wrapping_add(ins.y);
                    regs[a!()] = sx32(ins.x);
                    djump!(address)
                }
                // §A.5.13
                Opcode::Add32 => op3!(|a, b| sext4(a.wrapping_add(b))),
                Opcode::Sub32 => op3!(|a, b| sext4(a.wrapping_sub(b))),
                Opcode::Mul32 => op3!(|a, b| sext4(a.wrapping_mul(b))),
                Opcode::DivU32 => op3!(|a, b| match (b as u32, a as u32) {
                    (0, _) => u64::MAX,
                    (b, a) => sext4(u64::from(a / b)),
                }),
                Opcode::DivS32 => op3!(|a, b| {
                    let (a, b) = (a as u32 as i32, b as u32 as i32);
                    match b {
                        0 => u64::MAX,
                        -1 if a == i32::MIN => a as i64 as u64,
                        b => (a / b) as i64 as u64,
                    }
                }),
                Opcode::RemU32 => op3!(|a, b| match (b as u32, a as u32) {
                    (0, a) => sext4(u64::from(a)),
                    (b, a) => sext4(u64::from(a % b)),
                }),
                Opcode::RemS32 => op3!(|a, b| {
                    let (a, b) = (a as u32 as i32, b as u32 as i32);
                    match b {
                        0 => a as i64 as u64,
                        -1 => 0,
                        b => (a % b) as i64 as u64,
                    }
                }),
                Opcode::ShloL32 => op3!(|a, b| sext4(a << (b % 32))),
                Opcode::ShloR32 => op3!(|a, b| sext4(u64::from(a as u32 >> (b % 32)))),
                Opcode::SharR32 => op3!(|a, b| ((a as u32 as i32) >> (b % 32)) as i64 as u64),
                Opcode::Add64 => op3!(u64::wrapping_add),
                Opcode::Sub64 => op3!(u64::wrapping_sub),
                Opcode::Mul64 => op3!(u64::wrapping_mul),
                Opcode::DivU64 => op3!(|a, b| a.checked_div(b).unwrap_or(u64::MAX)),
                Opcode::DivS64 => op3!(|a, b| match b as i64 {
                    0 => u64::MAX,
                    -1 if a as i64 == i64::MIN => a,
                    b => ((a as i64) / b) as u64,
                }),
                Opcode::RemU64 => op3!(|a, b| a.checked_rem(b).unwrap_or(a)),
                Opcode::RemS64 => op3!(|a, b| match b as i64 {
                    0 => a,
                    -1 => 0,
                    b => ((a as i64) % b) as u64,
                }),
                Opcode::ShloL64 => op3!(|a, b| a << (b % 64)),
                Opcode::ShloR64 => op3!(|a, b| a >> (b % 64)),
                Opcode::SharR64 => op3!(|a, b| ((a as i64) >> (b % 64)) as u64),
                Opcode::And => op3!(|a, b| a & b),
                Opcode::Xor => op3!(|a, b| a ^ b),
                Opcode::Or => op3!(|a, b| a | b),
                Opcode::MulUpperSS => {
                    op3!(|a, b| ((i128::from(a as i64) * i128::from(b as i64)) >> 64) as u64)
                }
                Opcode::MulUpperUU => op3!(|a, b| ((u128::from(a) * u128::from(b)) >> 64) as u64),
                Opcode::MulUpperSU => op3!(|a, b| ((i128::from(a as i64) * i128::from(b)) >> 64) as u64),
                Opcode::SetLtU => op3!(|a, b| u64::from(a < b)),
                Opcode::SetLtS => op3!(|a, b| u64::from((a as i64) < (b as i64))),
                Opcode::CmovIz => {
                    if regs[b!()] == 0 {
                        regs[d!()] = regs[a!()];
                    }
                    next!()
                }
                Opcode::CmovNz => {
                    if regs[b!()] != 0 {
                        regs[d!()] = regs[a!()];
                    }
                    next!()
                }
                Opcode::RotL64 => op3!(|a, b| a.rotate_left((b % 64) as u32)),
                Opcode::RotL32 => op3!(|a, b| sext4(u64::from((a as u32).rotate_left((b % 32) as u32)))),
                Opcode::RotR64 => op3!(|a, b| a.rotate_right((b % 64) as u32)),
                Opcode::RotR32 => op3!(|a, b| sext4(u64::from((a as u32).rotate_right((b % 32) as u32)))),
                Opcode::AndInv => op3!(|a, b| a & !b),
                Opcode::OrInv => op3!(|a, b| a | !b),
                Opcode::Xnor => op3!(|a, b| !(a ^ b)),
                Opcode::Max => op3!(|a, b| (a as i64).max(b as i64) as u64),
                Opcode::MaxU => op3!(|a, b| a.max(b)),
                Opcode::Min => op3!(|a, b| (a as i64).min(b as i64) as u64),
                Opcode::MinU => op3!(|a, b| a.min(b)),
            }
        }
    }
}

/// `sbrk` (§A.5.9), as the vectors run it (their traces' README, "Notes on SBRK", which follows
/// polkavm): the break is a byte address. `sbrk(0)` returns it; `sbrk(n)` returns it and moves it
/// up by exactly n, making the pages up to the new break read-write. (The paper's least x ≥ h with
/// [x, x + ω_A) not readable, read literally, would overlap readable memory; a break rounded up to
/// pages instead changes what guests' allocators see, and the gas the `stf/accumulate` vectors
/// expect.) While the break sits on a page boundary, accessible pages at it are skipped: so the
/// first call starts past the read-write data and heap pages Y set up, and pages the host made
/// readable above the break are not handed out again. A request that would pass the heap's limit
/// changes nothing and returns 0, which guests treat as failure.
fn sbrk(heap: &mut Heap, memory: &mut Memory, size: u64) -> u64 {
    let page = u64::from(PAGE_SIZE);
    let mut x = u64::from(heap.top);
    if x % page == 0 {
        while x < heap.limit && memory.access(x as u32) != Access::Inaccessible {
            x += page;
        }
    }
    let Some(end) = x.checked_add(size).filter(|&end| end <= heap.limit) else {
        return 0;
    };
    if size > 0 {
        // The page holding x, when x is inside one, is already read-write: setting it again keeps
        // its contents.
        memory.set_access(x as u32, (end - x).min(u64::from(u32::MAX)) as u32, Access::ReadWrite);
    }
    heap.top = end.min(u64::from(u32::MAX)) as u32;
    x
}
