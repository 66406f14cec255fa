//! Differential testing of orrery-pvm against polkavm 0.37 (the `JamV1` instruction set, its
//! interpreter, strict mode, synchronous gas metering with one gas per instruction charged per basic
//! block, dynamic paging so that any page map can be given).
//!
//! A [`Case`] is a program with registers, program counter, gas and a page map with contents. It runs
//! on both machines, continuing across a few host calls with the same deterministic host action, and
//! the two [`Outcome`]s (status, program counter, gas, registers, every mapped page) must be equal.
//! [`generate`] turns arbitrary bytes into a case, for the property test and the fuzz target alike.
//!
//! polkavm 0.37's `JamV1` is not exactly GP 0.7.2's instruction set: it has no `sbrk` (GP 101), its
//! ten two-register bit operations are numbered 101–110 (GP 102–111) and its opcode 2 is a no-op hint.
//! [`to_polkavm_numbering`] translates; cases with `sbrk` are not comparable (polkavm's dynamic
//! paging has no heap) and are generated only for orrery-pvm.
//!
//! [`run_guest`] runs a case on any orrery backend ([`orrery_pvm::Guest`]), for comparing the
//! recompiler (orrery-pvm-jit) with the interpreter.
//!
//! Differences from GP 0.7.2 found in polkavm and excluded from comparison are listed on
//! [`compare`].

mod guest;

use std::sync::Arc;

pub use guest::{has_sbrk, region_pages, run_guest, with_sbrk, GuestOutcome, Pages, HEAP};
use orrery_pvm::{Access, Exit, Machine, Program, PAGE_SIZE};
pub use polkavm::Engine;
use polkavm::{
    BackendKind, Config, GasMeteringKind, InterruptKind, MemoryProtection, Module, ModuleConfig, ProgramBlob,
    ProgramCounter, ProgramParts, Reg,
};

/// How many host calls a run continues across before it stops.
pub const MAX_HOST_CALLS: usize = 4;

/// A mapped region of memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    pub address: u32,
    pub length: u32,
    pub writable: bool,
}

/// A program and the machine state to run it from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// GP 0.7.2 instruction data c.
    pub code: Vec<u8>,
    /// The opcode bitmask k, packed least significant bit first, padding bits zero.
    pub bitmask: Vec<u8>,
    pub jump_table: Vec<u32>,
    pub regs: [u64; 13],
    pub pc: u32,
    pub gas: i64,
    /// Regions made accessible (page aligned, at or above 2^16), later ones overriding earlier ones.
    pub regions: Vec<Region>,
    /// Initial contents, inside the regions.
    pub memory: Vec<(u32, Vec<u8>)>,
}

/// How a run ended, as both machines report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Halt,
    Panic,
    OutOfGas,
    PageFault(u32),
    /// Still at a host call after [`MAX_HOST_CALLS`] continued ones.
    HostCall(u64),
}

/// The state after a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The exit of each run, host calls first.
    pub exits: Vec<Status>,
    /// `None` where a machine does not report one (polkavm after a halt).
    pub pc: Option<u32>,
    pub gas: i64,
    pub regs: [u64; 13],
    /// Every accessible page and its contents, in address order.
    pub pages: Vec<(u32, Vec<u8>)>,
}

/// Why a case was not compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// The program uses `sbrk`, which polkavm 0.37's `JamV1` lacks.
    Sbrk,
    /// A conditional branch targets a position outside ϖ. GP 0.7.2 panics only when such a branch
    /// is taken; polkavm 0.37 traps whenever it executes one, taken or not.
    InvalidBranchTarget(u32),
    /// A three-register instruction's third operand octet is 16 or more. GP 0.7.2 reads r_D as
    /// min(12, octet); polkavm 0.37 reads its low four bits.
    WideThirdRegister(u32),
    /// An instruction whose operands reach past its skip into an opcode that the translation to
    /// polkavm's numbering rewrites: the two machines would see different operand bytes.
    OverlappingOperands(u32),
    /// A store crossing from a read-only page into an inaccessible one. GP 0.7.2 faults at the lowest
    /// offending address, the read-only page; polkavm 0.37 reports the inaccessible one. Everything
    /// else about the two runs was equal.
    ReadOnlyThenUnmappedStore(u32),
    /// polkavm rejects the program at load time (an invalid opcode, a bad skip, a missing final
    /// terminator, …) where GP 0.7.2 would run it and trap.
    Rejected(String),
}

/// The host action both machines get at a host call: ω7 ^= the call's index.
fn host_action(regs: &mut [u64; 13], index: u64) {
    regs[7] ^= index;
}

impl Case {
    /// The GP 0.7.2 program blob: `E(|j|) ‖ E1(4) ‖ E(|c|) ‖ E4(j) ‖ c ‖ k`.
    pub fn program_blob(&self) -> Vec<u8> {
        program_blob(&self.code, &self.bitmask, &self.jump_table)
    }

    fn is_opcode_position(&self, i: usize) -> bool {
        self.bitmask[i / 8] >> (i % 8) & 1 == 1
    }
}

fn natural(x: u64, out: &mut Vec<u8>) {
    if x < 0x80 {
        out.push(x as u8);
        return;
    }
    let bits = 64 - x.leading_zeros() as usize;
    let l = ((bits - 1) / 7).min(8);
    if l == 8 {
        out.push(0xff);
    } else {
        out.push((0xffu16 << (8 - l)) as u8 | (x >> (8 * l)) as u8);
    }
    out.extend_from_slice(&x.to_le_bytes()[..l]);
}

fn program_blob(code: &[u8], bitmask: &[u8], jump_table: &[u32]) -> Vec<u8> {
    let mut out = Vec::new();
    natural(jump_table.len() as u64, &mut out);
    out.push(4);
    natural(code.len() as u64, &mut out);
    for entry in jump_table {
        out.extend_from_slice(&entry.to_le_bytes());
    }
    out.extend_from_slice(code);
    out.extend_from_slice(bitmask);
    out
}

/// The code in polkavm 0.37 `JamV1` numbering, or `None` when it uses `sbrk`.
pub fn to_polkavm_numbering(case: &Case) -> Option<Vec<u8>> {
    to_polkavm_numbering_with(case, None)
}

/// As [`to_polkavm_numbering`], with `sbrk` replaced by `stand_in` when given: for real programs
/// whose `sbrk`s are known not to run in the part being compared.
pub fn to_polkavm_numbering_with(case: &Case, stand_in: Option<u8>) -> Option<Vec<u8>> {
    let mut code = case.code.clone();
    for (i, byte) in code.iter_mut().enumerate() {
        if !case.is_opcode_position(i) {
            continue;
        }
        *byte = match *byte {
            101 => stand_in?,
            op @ 102..=111 => op - 1,
            // GP 0.7.2's opcode 2 is invalid (a trap); polkavm's is a no-op. 3 is invalid in both.
            2 => 3,
            op => op,
        };
    }
    Some(code)
}

/// Runs a case on orrery-pvm.
pub fn run_orrery(case: &Case) -> Outcome {
    let program = Program::from_blob(&case.program_blob()).expect("generated blobs are well formed");
    let mut machine = Machine::new(Arc::new(program), case.pc, case.gas);
    *machine.regs_mut() = case.regs;
    for region in &case.regions {
        let access = if region.writable { Access::ReadWrite } else { Access::ReadOnly };
        machine.memory.set_access(region.address, region.length, access);
    }
    for (address, data) in &case.memory {
        machine.memory.write_initial(*address, data).expect("contents lie in mapped pages");
    }
    let mut exits = Vec::new();
    loop {
        let status = match machine.run() {
            Exit::Halt => Status::Halt,
            Exit::Panic => Status::Panic,
            Exit::OutOfGas => Status::OutOfGas,
            Exit::PageFault(page) => Status::PageFault(page),
            Exit::HostCall(index) => Status::HostCall(index),
        };
        exits.push(status);
        match status {
            Status::HostCall(index) if exits.len() <= MAX_HOST_CALLS => {
                host_action(machine.regs_mut(), index)
            }
            _ => break,
        }
    }
    let pages = machine
        .memory
        .accessible_pages()
        .map(|(page, _)| (page, machine.memory.read_vec(page, PAGE_SIZE).unwrap_or_default()))
        .collect();
    Outcome { exits, pc: Some(machine.pc()), gas: machine.gas(), regs: *machine.regs(), pages }
}

/// The polkavm engine the cases run on: the interpreter, with dynamic paging allowed.
pub fn polkavm_engine() -> Engine {
    let mut config = Config::new();
    config.set_backend(Some(BackendKind::Interpreter));
    config.set_allow_dynamic_paging(true);
    Engine::new(&config).expect("the polkavm interpreter is always available")
}

const REGS: [Reg; 13] = [
    Reg::RA,
    Reg::SP,
    Reg::T0,
    Reg::T1,
    Reg::T2,
    Reg::S0,
    Reg::S1,
    Reg::A0,
    Reg::A1,
    Reg::A2,
    Reg::A3,
    Reg::A4,
    Reg::A5,
];

/// Runs a case on polkavm.
pub fn run_polkavm(engine: &Engine, case: &Case) -> Result<Outcome, Skip> {
    run_polkavm_with(engine, case, None, MAX_HOST_CALLS)
}

/// Runs a case on polkavm with `sbrk` replaced by `stand_in` (see [`to_polkavm_numbering_with`]),
/// continuing across at most `host_calls` host calls.
pub fn run_polkavm_with(
    engine: &Engine,
    case: &Case,
    stand_in: Option<u8>,
    host_calls: usize,
) -> Result<Outcome, Skip> {
    let mut code = to_polkavm_numbering_with(case, stand_in).ok_or(Skip::Sbrk)?;
    // polkavm 0.37 refuses to load a JamV1 program whose last instruction could run off the end;
    // GP 0.7.2 runs it and traps at |c| (ζ is c followed by zeroes). An explicit trap at |c| is the
    // same program, as long as nothing branches to |c| (see `known_difference`).
    let mut bitmask = case.bitmask.clone();
    if needs_end_trap(case) {
        let len = code.len();
        if len % 8 == 0 {
            bitmask.push(0);
        }
        bitmask[len / 8] |= 1 << (len % 8);
        code.push(0);
    }
    let mut parts = ProgramParts::empty(polkavm::program::InstructionSetKind::JamV1);
    parts.code_and_jump_table = program_blob(&code, &bitmask, &case.jump_table).into();
    let blob = ProgramBlob::from_parts(parts).map_err(|e| Skip::Rejected(e.to_string()))?;
    let mut config = ModuleConfig::new();
    config.set_gas_metering(Some(GasMeteringKind::Sync));
    config.set_dynamic_paging(true);
    config.set_strict(true);
    let module = Module::from_blob(engine, &config, blob).map_err(|e| Skip::Rejected(e.to_string()))?;
    let mut instance = module.instantiate().map_err(|e| Skip::Rejected(e.to_string()))?;
    // Everything is mapped writable, filled, then read-only regions protected, in the case's order
    // so that later regions override earlier ones as they do in orrery-pvm.
    for region in &case.regions {
        instance
            .zero_memory_with_memory_protection(region.address, region.length, MemoryProtection::ReadWrite)
            .map_err(|e| Skip::Rejected(format!("mapping {region:?}: {e}")))?;
    }
    for (address, data) in &case.memory {
        instance.write_memory(*address, data).map_err(|e| Skip::Rejected(format!("writing memory: {e}")))?;
    }
    for region in &case.regions {
        let change = if region.writable {
            instance.unprotect_memory(region.address, region.length)
        } else {
            instance.protect_memory(region.address, region.length)
        };
        change.map_err(|e| Skip::Rejected(format!("protecting {region:?}: {e}")))?;
    }
    for (reg, value) in REGS.iter().zip(case.regs) {
        instance.set_reg(*reg, value);
    }
    instance.set_gas(case.gas);
    instance.set_next_program_counter(ProgramCounter(case.pc));

    let mut exits = Vec::new();
    loop {
        let interrupt = instance.run().map_err(|e| Skip::Rejected(format!("run: {e}")))?;
        let status = match interrupt {
            InterruptKind::Finished => Status::Halt,
            InterruptKind::Trap => Status::Panic,
            InterruptKind::NotEnoughGas => Status::OutOfGas,
            InterruptKind::Segfault(fault) => Status::PageFault(fault.page_address),
            InterruptKind::Ecalli(index) => Status::HostCall(index as i32 as i64 as u64),
            InterruptKind::Step => continue,
        };
        exits.push(status);
        match status {
            Status::HostCall(index) if exits.len() <= host_calls => {
                let mut regs = [0u64; 13];
                for (value, reg) in regs.iter_mut().zip(REGS) {
                    *value = instance.reg(reg);
                }
                host_action(&mut regs, index);
                for (reg, value) in REGS.iter().zip(regs) {
                    instance.set_reg(*reg, value);
                }
            }
            _ => break,
        }
    }
    let mut regs = [0u64; 13];
    for (value, reg) in regs.iter_mut().zip(REGS) {
        *value = instance.reg(reg);
    }
    // polkavm reports no program counter after a halt; the vectors give the halting jump's, as
    // orrery-pvm does, so there is nothing to compare then.
    let pc = instance.program_counter().map(|pc| pc.0);
    let mut pages = Vec::new();
    let mut mapped: Vec<u32> = case
        .regions
        .iter()
        .flat_map(|r| (0..r.length / PAGE_SIZE).map(move |i| r.address + i * PAGE_SIZE))
        .collect();
    mapped.sort_unstable();
    mapped.dedup();
    for page in mapped {
        let data = instance
            .read_memory(page, PAGE_SIZE)
            .map_err(|e| Skip::Rejected(format!("reading memory: {e}")))?;
        pages.push((page, data));
    }
    Ok(Outcome { exits, pc, gas: instance.gas(), regs, pages })
}

/// The program counters polkavm steps through (with step tracing), for diagnosing a difference.
pub fn polkavm_trace(engine: &Engine, case: &Case, limit: usize) -> Vec<(u32, i64)> {
    let Some(code) = to_polkavm_numbering(case) else { return Vec::new() };
    let mut parts = ProgramParts::empty(polkavm::program::InstructionSetKind::JamV1);
    parts.code_and_jump_table = program_blob(&code, &case.bitmask, &case.jump_table).into();
    let Ok(blob) = ProgramBlob::from_parts(parts) else { return Vec::new() };
    let mut config = ModuleConfig::new();
    config.set_gas_metering(Some(GasMeteringKind::Sync));
    config.set_dynamic_paging(true);
    config.set_strict(true);
    config.set_step_tracing(true);
    let Ok(module) = Module::from_blob(engine, &config, blob) else { return Vec::new() };
    let Ok(mut instance) = module.instantiate() else { return Vec::new() };
    for region in &case.regions {
        let _ = instance.zero_memory_with_memory_protection(
            region.address,
            region.length,
            MemoryProtection::ReadWrite,
        );
    }
    for (address, data) in &case.memory {
        let _ = instance.write_memory(*address, data);
    }
    for region in case.regions.iter().filter(|r| !r.writable) {
        let _ = instance.protect_memory(region.address, region.length);
    }
    for (reg, value) in REGS.iter().zip(case.regs) {
        instance.set_reg(*reg, value);
    }
    instance.set_gas(case.gas);
    instance.set_next_program_counter(ProgramCounter(case.pc));
    let mut out = Vec::new();
    while out.len() < limit {
        match instance.run() {
            Ok(InterruptKind::Step) => {
                out.push((instance.program_counter().map_or(u32::MAX, |p| p.0), instance.gas()))
            }
            _ => break,
        }
    }
    out
}

/// How many operand octets an instruction at `pc` with skip `skip` reads (GP 0.7.2 §A.5), which
/// can exceed its skip: register octets and immediate lengths come from the operand octets
/// themselves.
fn operand_reach(code: &[u8], pc: usize, skip: usize, kind: orrery_pvm::ArgKind) -> usize {
    use orrery_pvm::ArgKind;
    let at = |n: usize| usize::from(code.get(pc + n).copied().unwrap_or(0));
    match kind {
        ArgKind::None => 0,
        ArgKind::OneImm | ArgKind::OneOffset => skip.min(4),
        ArgKind::OneRegExtImm => 9,
        ArgKind::TwoImm => {
            let lx = (at(1) % 8).min(4);
            (1 + lx + skip.saturating_sub(lx + 1).min(4)).max(1)
        }
        ArgKind::OneRegOneImm | ArgKind::TwoRegOneImm | ArgKind::TwoRegOneOffset => {
            1 + skip.saturating_sub(1).min(4)
        }
        ArgKind::OneRegTwoImm | ArgKind::OneRegImmOffset => {
            let lx = (at(1) / 16 % 8).min(4);
            1 + lx + skip.saturating_sub(lx + 1).min(4)
        }
        ArgKind::TwoReg => 1,
        ArgKind::TwoRegTwoImm => {
            let lx = (at(2) % 8).min(4);
            2 + lx + skip.saturating_sub(lx + 2).min(4)
        }
        ArgKind::ThreeReg => 2,
    }
}

/// Whether the program's last instruction can run off the end of the code (it is not an
/// unconditional terminator), so that polkavm needs an explicit trap appended.
fn needs_end_trap(case: &Case) -> bool {
    use orrery_pvm::Opcode;
    let Some(last) = (0..case.code.len()).rev().find(|&i| case.is_opcode_position(i)) else {
        return true;
    };
    !matches!(
        Opcode::from_u8(case.code[last]),
        Some(Opcode::Trap | Opcode::Jump | Opcode::JumpInd | Opcode::LoadImmJump | Opcode::LoadImmJumpInd)
    )
}

/// A place where polkavm 0.37 is known to depart from GP 0.7.2 (or where the translation to its
/// numbering cannot be faithful), if the program has one.
pub fn known_difference(case: &Case) -> Option<Skip> {
    use orrery_pvm::{ArgKind, Opcode};
    let program = Program::from_blob(&case.program_blob()).ok()?;
    let rewritten = |p: usize| {
        case.code.get(p).is_some_and(|&b| b == 2 || (101..=111).contains(&b)) && case.is_opcode_position(p)
    };
    if needs_end_trap(case) && case.jump_table.contains(&(case.code.len() as u32)) {
        return Some(Skip::InvalidBranchTarget(case.code.len() as u32));
    }
    for i in program.instructions() {
        let pc = i.pc as usize;
        if pc < case.code.len() && case.is_opcode_position(pc) {
            let skip = program.skip(i.pc) as usize;
            let reach = operand_reach(&case.code, pc, skip, i.opcode.arg_kind());
            if (pc + 1 + skip..=pc + reach).any(rewritten) {
                return Some(Skip::OverlappingOperands(i.pc));
            }
        }
        let conditional = !matches!(i.opcode, Opcode::Jump | Opcode::LoadImmJump);
        if i.target == Some(None) && conditional {
            return Some(Skip::InvalidBranchTarget(i.pc));
        }
        // With a trap appended for polkavm, a target of |c| would become valid there.
        if i.target == Some(None) && needs_end_trap(case) {
            return Some(Skip::InvalidBranchTarget(i.pc));
        }
        let third = case.code.get(i.pc as usize + 2).copied().unwrap_or(0);
        if i.opcode.arg_kind() == ArgKind::ThreeReg && third >= 16 {
            return Some(Skip::WideThirdRegister(i.pc));
        }
    }
    None
}

/// When the run ended at a store whose bytes start in a read-only page and end in an inaccessible
/// one, the two pages' addresses.
fn read_only_then_unmapped_store(case: &Case, ours: &Outcome) -> Option<(u32, u32)> {
    use orrery_pvm::Opcode::*;
    let program = Program::from_blob(&case.program_blob()).ok()?;
    let pc = ours.pc?;
    let ins = program.instructions().find(|i| i.pc == pc)?;
    let r = |i: u8| ours.regs[usize::from(i)];
    let (address, size) = match ins.opcode {
        StoreImmU8 | StoreU8 => (ins.imm_x, 1),
        StoreImmU16 | StoreU16 => (ins.imm_x, 2),
        StoreImmU32 | StoreU32 => (ins.imm_x, 4),
        StoreImmU64 | StoreU64 => (ins.imm_x, 8),
        StoreImmIndU8 => (r(ins.a).wrapping_add(ins.imm_x), 1),
        StoreImmIndU16 => (r(ins.a).wrapping_add(ins.imm_x), 2),
        StoreImmIndU32 => (r(ins.a).wrapping_add(ins.imm_x), 4),
        StoreImmIndU64 => (r(ins.a).wrapping_add(ins.imm_x), 8),
        StoreIndU8 => (r(ins.b).wrapping_add(ins.imm_x), 1),
        StoreIndU16 => (r(ins.b).wrapping_add(ins.imm_x), 2),
        StoreIndU32 => (r(ins.b).wrapping_add(ins.imm_x), 4),
        StoreIndU64 => (r(ins.b).wrapping_add(ins.imm_x), 8),
        _ => return None,
    };
    let address = address as u32;
    let lo = address & !(PAGE_SIZE - 1);
    let hi = address.wrapping_add(size - 1) & !(PAGE_SIZE - 1);
    let access = |page: u32| {
        case.regions.iter().rev().find(|r| page.wrapping_sub(r.address) < r.length).map(|r| r.writable)
    };
    (lo != hi && access(lo) == Some(false) && access(hi).is_none()).then_some((lo, hi))
}

/// The result of comparing one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Same,
    /// Equal but for a documented polkavm departure from GP 0.7.2.
    KnownDifference(Skip),
    Skipped(Skip),
}

/// Runs a case on both machines and compares everything. Returns an error describing the first
/// difference.
pub fn compare(engine: &Engine, case: &Case) -> Result<Verdict, String> {
    if let Some(skip) = known_difference(case) {
        return Ok(Verdict::Skipped(skip));
    }
    let ours = run_orrery(case);
    let mut theirs = match run_polkavm(engine, case) {
        Ok(outcome) => outcome,
        Err(skip) => return Ok(Verdict::Skipped(skip)),
    };
    if theirs.pc.is_none() && theirs.exits.last() == Some(&Status::Halt) {
        theirs.pc = ours.pc;
    }
    let mut known = None;
    if let (Some(Status::PageFault(a)), Some(Status::PageFault(b))) = (ours.exits.last(), theirs.exits.last())
    {
        if a != b && read_only_then_unmapped_store(case, &ours) == Some((*a, *b)) {
            known = Some(Skip::ReadOnlyThenUnmappedStore(*a));
            theirs.exits = ours.exits.clone();
        }
    }
    if ours == theirs {
        return Ok(known.map_or(Verdict::Same, Verdict::KnownDifference));
    }
    if ours == theirs {
        return Ok(Verdict::Same);
    }
    let mut why = Vec::new();
    if ours.exits != theirs.exits {
        why.push(format!("exits: orrery {:?}, polkavm {:?}", ours.exits, theirs.exits));
    }
    if ours.pc != theirs.pc {
        why.push(format!("pc: orrery {:?}, polkavm {:?}", ours.pc, theirs.pc));
    }
    if ours.gas != theirs.gas {
        why.push(format!("gas: orrery {}, polkavm {}", ours.gas, theirs.gas));
    }
    if ours.regs != theirs.regs {
        why.push(format!("regs: orrery {:x?}, polkavm {:x?}", ours.regs, theirs.regs));
    }
    if ours.pages != theirs.pages {
        let first = ours.pages.iter().zip(&theirs.pages).find(|(a, b)| a != b);
        why.push(match first {
            Some(((page, a), (_, b))) => {
                let at = a.iter().zip(b).position(|(x, y)| x != y).unwrap_or(0);
                format!("memory at {:#x}: orrery {:#04x}, polkavm {:#04x}", page + at as u32, a[at], b[at])
            }
            None => format!("mapped pages: orrery {}, polkavm {}", ours.pages.len(), theirs.pages.len()),
        });
    }
    Err(why.join("\n"))
}

/// A source of choices: the bytes given, then zeroes.
#[derive(Debug)]
struct Choices<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Choices<'_> {
    fn u8(&mut self) -> u8 {
        let byte = self.bytes.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        byte
    }

    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    fn u64(&mut self) -> u64 {
        u64::from(self.u32()) | u64::from(self.u32()) << 32
    }

    /// A value below `n` (n > 0).
    fn below(&mut self, n: u32) -> u32 {
        self.u32() % n.max(1)
    }

    fn chance(&mut self, percent: u8) -> bool {
        self.u8() % 100 < percent
    }
}

/// GP 0.7.2 opcodes except `sbrk`, which polkavm cannot run.
fn comparable_opcodes() -> Vec<orrery_pvm::Opcode> {
    orrery_pvm::Opcode::ALL.iter().copied().filter(|op| *op != orrery_pvm::Opcode::Sbrk).collect()
}

/// A case from arbitrary bytes: a short program of well-formed instructions (now and then a malformed
/// one), a jump table into it, a few mapped regions with contents, and registers that often point
/// into them or at jump-table addresses.
pub fn generate(bytes: &[u8]) -> Case {
    use orrery_pvm::ArgKind;
    let mut c = Choices { bytes, at: 0 };
    let opcodes = comparable_opcodes();

    // Regions first, so that registers can point into them.
    let mut regions = Vec::new();
    for _ in 0..1 + c.below(3) {
        let address = if c.chance(20) {
            0xfffe_0000 + c.below(8) * PAGE_SIZE
        } else {
            0x10000 + c.below(16) * PAGE_SIZE
        };
        let pages = 1 + c.below(3);
        let length = (pages * PAGE_SIZE).min(0u32.wrapping_sub(address));
        regions.push(Region { address, length, writable: c.chance(70) });
    }
    let mut memory = Vec::new();
    for _ in 0..c.below(4) {
        let region = &regions[c.below(regions.len() as u32) as usize];
        let offset = c.below(region.length - 16);
        let data: Vec<u8> = (0..1 + c.below(16)).map(|_| c.u8()).collect();
        memory.push((region.address + offset, data));
    }

    // Instructions: (position, offset field position) for later patching.
    let mut code = Vec::new();
    let mut starts = Vec::new();
    let mut offset_fields = Vec::new();
    let count = 1 + c.below(40);
    for _ in 0..count {
        starts.push(code.len() as u32);
        if c.u8() < 2 {
            // A raw, possibly invalid, opcode with random operands.
            code.push(c.u8());
            for _ in 0..c.below(4) {
                code.push(c.u8());
            }
            continue;
        }
        let op = opcodes[c.below(opcodes.len() as u32) as usize];
        code.push(op as u8);
        let reg = |c: &mut Choices<'_>| if c.chance(90) { c.below(13) as u8 } else { c.below(16) as u8 };
        let imm = |c: &mut Choices<'_>, code: &mut Vec<u8>| -> u8 {
            let (value, len) = match c.below(5) {
                0 => (c.below(16), 1),
                1 => (0u32.wrapping_sub(c.below(16)), 1),
                // An address in a mapped region, as absolute loads and stores need.
                2 => {
                    let region = &regions[c.below(regions.len() as u32) as usize];
                    (region.address + c.below(region.length), 4)
                }
                _ => (c.u32(), c.below(5)),
            };
            let len = if c.chance(10) { c.below(5) } else { len } as u8;
            code.extend_from_slice(&value.to_le_bytes()[..len as usize]);
            len
        };
        match op.arg_kind() {
            ArgKind::None => {}
            ArgKind::OneImm => {
                imm(&mut c, &mut code);
            }
            ArgKind::OneRegExtImm => {
                code.push(reg(&mut c));
                let value = c.u64();
                code.extend_from_slice(&value.to_le_bytes());
            }
            ArgKind::TwoImm => {
                let at = code.len();
                code.push(0);
                let lx = imm(&mut c, &mut code);
                code[at] = lx | ((c.u8() & 0xf8) * u8::from(c.chance(10)));
                imm(&mut c, &mut code);
            }
            ArgKind::OneOffset => {
                offset_fields.push((starts.len() - 1, code.len()));
                code.extend_from_slice(&[0; 4]);
            }
            ArgKind::OneRegOneImm => {
                code.push(reg(&mut c));
                imm(&mut c, &mut code);
            }
            ArgKind::OneRegTwoImm | ArgKind::OneRegImmOffset => {
                let at = code.len();
                code.push(0);
                let lx = imm(&mut c, &mut code);
                code[at] = reg(&mut c) | lx << 4;
                if op.arg_kind() == ArgKind::OneRegTwoImm {
                    imm(&mut c, &mut code);
                } else {
                    offset_fields.push((starts.len() - 1, code.len()));
                    code.extend_from_slice(&[0; 4]);
                }
            }
            ArgKind::TwoReg => code.push(reg(&mut c) | reg(&mut c) << 4),
            ArgKind::TwoRegOneImm => {
                code.push(reg(&mut c) | reg(&mut c) << 4);
                imm(&mut c, &mut code);
            }
            ArgKind::TwoRegOneOffset => {
                code.push(reg(&mut c) | reg(&mut c) << 4);
                offset_fields.push((starts.len() - 1, code.len()));
                code.extend_from_slice(&[0; 4]);
            }
            ArgKind::TwoRegTwoImm => {
                code.push(reg(&mut c) | reg(&mut c) << 4);
                let at = code.len();
                code.push(0);
                let lx = imm(&mut c, &mut code);
                code[at] = lx;
                imm(&mut c, &mut code);
            }
            ArgKind::ThreeReg => {
                code.push(reg(&mut c) | reg(&mut c) << 4);
                code.push(reg(&mut c));
            }
        }
    }
    // End with a trap or a return (jump_ind r0), so that no block runs off the end.
    starts.push(code.len() as u32);
    if c.chance(50) {
        code.extend_from_slice(&[orrery_pvm::Opcode::JumpInd as u8, 0]);
    } else {
        code.push(0);
    }

    let mut bitmask = vec![0u8; code.len().div_ceil(8)];
    for &start in &starts {
        bitmask[start as usize / 8] |= 1 << (start % 8);
    }
    // Targets: mostly basic-block starts (ϖ: 0 and what follows a terminator), sometimes any
    // instruction, now and then any position.
    let blocks: Vec<u32> = match Program::from_parts(code.clone(), bitmask.clone(), Vec::new()) {
        Ok(program) => starts.iter().copied().filter(|&s| program.is_basic_block_start(s)).collect(),
        Err(_) => Vec::new(),
    };
    let code_len = code.len() as u32;
    let target = |c: &mut Choices<'_>| -> u32 {
        match c.below(64) {
            0 => c.below(code_len + 4),
            1 => starts[c.below(starts.len() as u32) as usize],
            _ if !blocks.is_empty() => blocks[c.below(blocks.len() as u32) as usize],
            _ => 0,
        }
    };
    for (instr, field) in offset_fields {
        let offset = target(&mut c).wrapping_sub(starts[instr]);
        code[field..field + 4].copy_from_slice(&offset.to_le_bytes());
    }
    let jump_table: Vec<u32> = (0..c.below(6)).map(|_| target(&mut c).min(code_len - 1)).collect();

    let mut regs = [0u64; 13];
    for reg in regs.iter_mut() {
        *reg = match c.below(10) {
            0 | 1 => u64::from(c.below(16)),
            2..=5 => {
                let region = &regions[c.below(regions.len() as u32) as usize];
                u64::from(region.address + c.below(region.length))
            }
            6 => 2 * (1 + u64::from(c.below(jump_table.len() as u32 + 1))),
            7 => 0xffff_0000,
            8 => (-(i64::from(c.below(16)))) as u64,
            _ => c.u64(),
        };
    }
    let gas = if c.chance(20) { i64::from(c.below(40)) } else { 1000 + i64::from(c.below(10_000)) };
    // Start at 0, or at the start of some other basic block.
    let program = Program::from_parts(code.clone(), bitmask.clone(), jump_table.clone());
    let pc = match program {
        Ok(p) if c.chance(20) => {
            let candidates: Vec<u32> =
                starts.iter().copied().filter(|&s| p.is_basic_block_start(s)).collect();
            candidates.get(c.below(candidates.len().max(1) as u32) as usize).copied().unwrap_or(0)
        }
        _ => 0,
    };
    Case { code, bitmask, jump_table, regs, pc, gas, regions, memory }
}
