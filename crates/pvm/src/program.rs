//! Program decoding (GP 0.7.2 §A.1–A.5): `deblob`, the skip function, basic blocks, operand decoding,
//! and the translation of the code into a compact array of pre-decoded instructions that the
//! interpreter walks (and that a recompiler can later consume).
//!
//! Layout of the pre-decoded form. Every opcode position (bitmask bit set) becomes one *slot*, in code
//! order, so that sequential flow is always `slot + 1`. Where an instruction's successor `ı + 1 +
//! skip(ı)` is not itself an opcode position (the skip is capped at 24, or the code ends) a synthetic
//! `trap` slot with that program counter is inserted, which is exactly what the paper's ζ (code
//! followed by zeroes, opcode 0 = trap) executes there. Branch and jump-table targets are resolved to
//! slots once; a target outside ϖ becomes [`INVALID_SLOT`], which the interpreter turns into a panic
//! when (and only when) the branch is taken.
//!
//! Gas: each slot carries the number of instructions from it to the end of its basic block, inclusive.
//! The interpreter charges that amount when it enters a block, as the vectors require (see the crate
//! docs on gas).

use crate::error::ProgramError;
use crate::opcode::{ArgKind, Opcode};

/// A slot index that no program has: the resolution of a branch or jump-table target outside ϖ.
pub(crate) const INVALID_SLOT: u32 = u32::MAX;

/// The longest skip the paper allows (§A.2).
const MAX_SKIP: usize = 24;

/// A register index, at most 12 by construction, so that indexing the register file needs neither
/// a bounds check nor a mask in the interpreter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Reg {
    R0,
    R1,
    R2,
    R3,
    R4,
    R5,
    R6,
    R7,
    R8,
    R9,
    R10,
    R11,
    R12,
}

impl Reg {
    /// The register an operand nibble or octet names: min(12, n), as §A.5 reads it.
    fn clamped(n: u8) -> Reg {
        const ALL: [Reg; 13] = [
            Reg::R0,
            Reg::R1,
            Reg::R2,
            Reg::R3,
            Reg::R4,
            Reg::R5,
            Reg::R6,
            Reg::R7,
            Reg::R8,
            Reg::R9,
            Reg::R10,
            Reg::R11,
            Reg::R12,
        ];
        ALL[usize::from(n.min(12))]
    }

    #[inline(always)]
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// One pre-decoded instruction. Register fields hold indices already clamped to 0..=12; immediates are
/// the paper's ν values truncated to 32 bits (all of them are sign extensions of at most four octets,
/// so `x as i32 as i64 as u64` restores them), except `load_imm_64` whose 64-bit ν_X is split over
/// `x` (low) and `y` (high). Offsets are resolved to slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Instr {
    pub op: Opcode,
    pub a: Reg,
    pub b: Reg,
    pub d: Reg,
    pub x: u32,
    pub y: u32,
    /// Instructions from this one to the end of its basic block, inclusive: the gas charged on
    /// entering the block here.
    pub cost: u32,
}

/// A static branch or jump target: the program counter, or `None` when it is not in ϖ (taking
/// the branch panics).
pub type Target = Option<u32>;

/// One decoded instruction, as the paper's operand rules read it: registers clamped to 12,
/// immediates sign-extended to 64 bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instruction {
    pub pc: u32,
    /// The opcode executed: invalid opcodes and positions without one read as `trap`.
    pub opcode: Opcode,
    /// r_A (r_D for the two-register form's destination is `d`).
    pub a: u8,
    pub b: u8,
    pub d: u8,
    /// ν_X (for `load_imm_64`, the full 64-bit value).
    pub imm_x: u64,
    /// ν_Y where the form has a second immediate.
    pub imm_y: u64,
    /// The resolved static target of jumps and branches.
    pub target: Option<Target>,
}

impl std::fmt::Display for Instruction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (a, b, d) = (self.a, self.b, self.d);
        let (x, y) = (self.imm_x as i64, self.imm_y as i64);
        let at = match self.target {
            Some(Some(pc)) => format!("@{pc}"),
            _ => "@invalid".to_owned(),
        };
        write!(f, "{}", self.opcode.name())?;
        match self.opcode.arg_kind() {
            ArgKind::None => Ok(()),
            ArgKind::OneImm => write!(f, " {x}"),
            ArgKind::OneRegExtImm => write!(f, " r{a}, {:#x}", self.imm_x),
            ArgKind::TwoImm => write!(f, " [{:#x}], {y}", self.imm_x as u32),
            ArgKind::OneOffset => write!(f, " {at}"),
            ArgKind::OneRegOneImm => write!(f, " r{a}, {x}"),
            ArgKind::OneRegTwoImm => write!(f, " [r{a} + {x}], {y}"),
            ArgKind::OneRegImmOffset => write!(f, " r{a}, {x}, {at}"),
            ArgKind::TwoReg => write!(f, " r{d}, r{a}"),
            ArgKind::TwoRegOneImm => write!(f, " r{a}, r{b}, {x}"),
            ArgKind::TwoRegOneOffset => write!(f, " r{a}, r{b}, {at}"),
            ArgKind::TwoRegTwoImm => write!(f, " r{a}, r{b}, {x}, {y}"),
            ArgKind::ThreeReg => write!(f, " r{d}, r{a}, r{b}"),
        }
    }
}

/// A decoded program: the paper's (c, k, j) and its pre-decoded instruction array.
#[derive(Debug, Clone)]
pub struct Program {
    code: Vec<u8>,
    bitmask: Vec<u8>,
    jump_table: Vec<u64>,
    /// The number of entries of a jump table encoded with z = 0 (each one is target 0).
    zero_width_jumps: u64,
    pub(crate) zero_width_slot: u32,
    block_starts: Vec<u64>,
    pub(crate) instrs: Vec<Instr>,
    pub(crate) pcs: Vec<u32>,
    pub(crate) jump_slots: Vec<u32>,
}

impl Program {
    /// `deblob` (GP 0.7.2 eq. A.2): `E(|j|) ‖ E1(z) ‖ E(|c|) ‖ E_z(j) ‖ E(c) ‖ E(k)` with |k| = |c|,
    /// then pre-decoding. Every malformed blob is an error; nothing here panics or allocates more
    /// than a small multiple of the blob's length.
    pub fn from_blob(blob: &[u8]) -> Result<Program, ProgramError> {
        let mut rest = blob;
        let jump_count = natural(&mut rest, "jump table length")?;
        let z = usize::from(take(&mut rest, 1, "jump table entry size")?[0]);
        let code_len = natural(&mut rest, "code length")?;
        if code_len > u64::from(u32::MAX) {
            return Err(ProgramError::CodeTooLong(code_len));
        }
        let table_bytes = jump_count.saturating_mul(z as u64);
        let table = take(&mut rest, table_bytes, "jump table")?;
        let code = take(&mut rest, code_len, "code")?;
        let bitmask = take(&mut rest, code_len.div_ceil(8), "opcode bitmask")?;
        if !rest.is_empty() {
            return Err(ProgramError::TrailingBytes(rest.len()));
        }
        if code_len % 8 != 0 {
            let last = bitmask[bitmask.len() - 1];
            if last >> (code_len % 8) != 0 {
                return Err(ProgramError::BitmaskPadding);
            }
        }
        // Zero-width entries all encode target 0 and take no space, so their count is bounded only by
        // the prefix: they are kept as a count, never materialised.
        let (jump_table, zero_width) = if z == 0 {
            (Vec::new(), jump_count)
        } else {
            (table.chunks_exact(z).map(le_saturating).collect(), 0)
        };
        Ok(Self::from_parts_unchecked(code.to_vec(), bitmask.to_vec(), jump_table, zero_width))
    }

    /// Builds a program from its three parts (the bitmask packed as in the blob, least significant bit
    /// first). Set padding bits beyond the code are ignored here.
    pub fn from_parts(
        code: Vec<u8>,
        bitmask: Vec<u8>,
        jump_table: Vec<u32>,
    ) -> Result<Program, ProgramError> {
        if code.len() as u64 > u64::from(u32::MAX) {
            return Err(ProgramError::CodeTooLong(code.len() as u64));
        }
        let needed = code.len().div_ceil(8);
        if bitmask.len() < needed {
            return Err(ProgramError::Truncated {
                what: "opcode bitmask",
                needed: (needed - bitmask.len()) as u64,
                remaining: 0,
            });
        }
        let mut bitmask = bitmask;
        bitmask.truncate(needed);
        if code.len() % 8 != 0 {
            let keep = (1u8 << (code.len() % 8)) - 1;
            if let Some(last) = bitmask.last_mut() {
                *last &= keep;
            }
        }
        Ok(Self::from_parts_unchecked(code, bitmask, jump_table.into_iter().map(u64::from).collect(), 0))
    }

    fn from_parts_unchecked(
        code: Vec<u8>,
        bitmask: Vec<u8>,
        jump_table: Vec<u64>,
        zero_width: u64,
    ) -> Program {
        let mut program = Program {
            code,
            bitmask,
            jump_table,
            zero_width_jumps: zero_width,
            zero_width_slot: INVALID_SLOT,
            block_starts: Vec::new(),
            instrs: Vec::new(),
            pcs: Vec::new(),
            jump_slots: Vec::new(),
        };
        program.compile();
        program
    }

    /// The instruction data c.
    pub fn code(&self) -> &[u8] {
        &self.code
    }

    /// The opcode bitmask k, packed least significant bit first.
    pub fn bitmask(&self) -> &[u8] {
        &self.bitmask
    }

    /// The dynamic jump table j (entries wider than 64 bits saturate). A table encoded with z = 0 is
    /// reported by [`Program::jump_table_len`] only.
    pub fn jump_table(&self) -> &[u64] {
        &self.jump_table
    }

    /// |j|.
    pub fn jump_table_len(&self) -> u64 {
        self.jump_table.len() as u64 + self.zero_width_jumps
    }

    /// The slot a dynamic jump to table index `index` (address / 2 - 1) continues at, or
    /// [`INVALID_SLOT`].
    #[inline]
    pub(crate) fn jump_slot(&self, index: u32) -> u32 {
        match self.jump_slots.get(index as usize) {
            Some(&slot) => slot,
            None if u64::from(index) < self.zero_width_jumps => self.zero_width_slot,
            None => INVALID_SLOT,
        }
    }

    /// The slot (index into [`Program::instructions`]) where the static target of the instruction
    /// in slot `slot` continues: the first slot of a basic block, or none when the target is not
    /// one (the jump panics) or the instruction has no static target. What a translator needs
    /// instead of looking the target's program counter up.
    pub fn target_slot(&self, slot: usize) -> Option<u32> {
        let ins = self.instrs.get(slot)?;
        let static_target = matches!(
            ins.op.arg_kind(),
            ArgKind::OneOffset | ArgKind::OneRegImmOffset | ArgKind::TwoRegOneOffset
        );
        (static_target && ins.y != INVALID_SLOT).then_some(ins.y)
    }

    /// The slot a dynamic jump through jump-table index `index` (address / 2 − 1) continues at,
    /// if it is a basic block's first slot.
    pub fn jump_table_slot(&self, index: u32) -> Option<u32> {
        Some(self.jump_slot(index)).filter(|&slot| slot != INVALID_SLOT)
    }

    /// Whether k marks `pc` as the start of an instruction.
    pub fn is_opcode_position(&self, pc: u32) -> bool {
        bit(&self.bitmask, pc as usize, self.code.len())
    }

    /// Whether `pc` is in ϖ, the basic-block starts of §A.3.
    pub fn is_basic_block_start(&self, pc: u32) -> bool {
        let pc = pc as usize;
        pc < self.code.len() && self.block_starts[pc / 64] >> (pc % 64) & 1 == 1
    }

    /// skip(ı) of §A.2 for any index.
    pub fn skip(&self, pc: u32) -> u32 {
        skip(&self.bitmask, self.code.len(), pc as usize) as u32
    }

    /// The number of pre-decoded slots (instructions plus synthetic traps), for sizing diagnostics.
    pub fn slot_count(&self) -> usize {
        self.instrs.len()
    }

    /// Each slot's program counter, in slot order (what [`Program::instructions`] gives as `pc`).
    pub fn slot_pcs(&self) -> &[u32] {
        &self.pcs
    }

    /// Each slot's gas cost per basic block, in slot order: the instructions from it to the end of
    /// its block, inclusive (what the interpreter charges on entering a block there).
    pub fn slot_costs(&self) -> impl ExactSizeIterator<Item = u32> + '_ {
        self.instrs.iter().map(|ins| ins.cost)
    }

    /// Each slot's opcode, in slot order (what [`Program::instructions`] gives as `opcode`),
    /// without decoding the operands.
    pub fn slot_opcodes(&self) -> impl ExactSizeIterator<Item = Opcode> + '_ {
        self.instrs.iter().map(|ins| ins.op)
    }

    /// The slot that executes at `pc`, if `pc` is an opcode position or a synthetic trap position.
    pub(crate) fn slot_at(&self, pc: u32) -> Option<u32> {
        self.pcs.binary_search(&pc).ok().map(|s| s as u32)
    }

    /// The instruction at `pc` as the paper reads it (opcode(ı) of §A.5): invalid or unmarked positions
    /// read as `trap`.
    pub fn opcode_at(&self, pc: u32) -> Opcode {
        match self.code.get(pc as usize) {
            Some(&byte) if self.is_opcode_position(pc) => Opcode::from_u8(byte).unwrap_or(Opcode::Trap),
            _ => Opcode::Trap,
        }
    }

    /// Every instruction the interpreter can execute, in code order, decoded (synthetic traps
    /// included: where a skip of 24 or the end of the code leads to a position holding no opcode).
    pub fn instructions(&self) -> impl Iterator<Item = Instruction> + '_ {
        self.instrs.iter().zip(&self.pcs).map(|(ins, &pc)| {
            let kind = ins.op.arg_kind();
            let static_target =
                matches!(kind, ArgKind::OneOffset | ArgKind::OneRegImmOffset | ArgKind::TwoRegOneOffset);
            let target = static_target.then(|| self.pcs.get(ins.y as usize).copied());
            let imm = |v: u32| v as i32 as i64 as u64;
            let (imm_x, imm_y) = match kind {
                ArgKind::OneRegExtImm => (u64::from(ins.x) | u64::from(ins.y) << 32, 0),
                ArgKind::TwoImm | ArgKind::OneRegTwoImm | ArgKind::TwoRegTwoImm => (imm(ins.x), imm(ins.y)),
                _ => (imm(ins.x), 0),
            };
            Instruction {
                pc,
                opcode: ins.op,
                a: ins.a as u8,
                b: ins.b as u8,
                d: ins.d as u8,
                imm_x,
                imm_y,
                target,
            }
        })
    }

    /// A listing of the instructions at `pcs` (as the interpreter sees them: registers clamped,
    /// immediates sign-extended, targets as program counters), one per line; `>` marks ϖ.
    pub fn disassemble(&self, pcs: std::ops::Range<u32>) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        for ins in self.instructions().filter(|i| pcs.contains(&i.pc)) {
            let block = if self.is_basic_block_start(ins.pc) { ">" } else { " " };
            let _ = writeln!(out, "{block}{:>8}: {ins}", ins.pc);
        }
        out
    }

    fn compile(&mut self) {
        let len = self.code.len();
        let mut starts: Vec<u32> = Vec::new();
        for (index, &byte) in self.bitmask.iter().enumerate() {
            let mut bits = byte;
            while bits != 0 {
                let i = index * 8 + bits.trailing_zeros() as usize;
                if i < len {
                    starts.push(i as u32);
                }
                bits &= bits - 1;
            }
        }

        // Successor of each opcode position: the next set bit of k ‖ [1, 1, …], capped by skip ≤ 24.
        let successor = |m: usize| -> usize {
            let i = starts[m] as usize;
            let next = starts.get(m + 1).map_or(len, |&n| n as usize);
            i + 1 + (next - i - 1).min(MAX_SKIP)
        };

        // ϖ: 0 and the successors of terminators, restricted to positions holding a valid opcode.
        let valid =
            |i: usize| i < len && bit(&self.bitmask, i, len) && Opcode::from_u8(self.code[i]).is_some();
        let mut block_starts = vec![0u64; len.div_ceil(64)];
        let mut mark = |i: usize| {
            if valid(i) {
                block_starts[i / 64] |= 1 << (i % 64);
            }
        };
        mark(0);
        for (m, &start) in starts.iter().enumerate() {
            let op = Opcode::from_u8(self.code[start as usize]);
            if op.is_some_and(Opcode::is_terminator) {
                mark(successor(m));
            }
        }
        self.block_starts = block_starts;

        // Slot numbering: each opcode position, then a synthetic trap wherever its successor is not
        // the next opcode position. The last opcode position's successor never is one, so the last
        // slot is always a trap: the interpreter relies on this to step to `slot + 1` unchecked.
        let mut pcs: Vec<u32> = Vec::with_capacity(starts.len() + 1);
        let mut skips: Vec<u8> = Vec::with_capacity(starts.len() + 1);
        for (m, &start) in starts.iter().enumerate() {
            pcs.push(start);
            let next = successor(m);
            skips.push((next - start as usize - 1) as u8);
            if starts.get(m + 1).is_none_or(|&n| n as usize != next) {
                pcs.push(next as u32);
                skips.push(0);
            }
        }
        // The slot of every block start, by program counter; everything else is INVALID_SLOT.
        let mut block_slot = vec![INVALID_SLOT; len];
        for (slot, &pc) in pcs.iter().enumerate() {
            if self.is_basic_block_start(pc) {
                block_slot[pc as usize] = slot as u32;
            }
        }
        let slot_of = |pc: i64| -> u32 {
            usize::try_from(pc).ok().and_then(|pc| block_slot.get(pc)).copied().unwrap_or(INVALID_SLOT)
        };

        let mut instrs = Vec::with_capacity(pcs.len());
        for (&pc, &skip) in pcs.iter().zip(&skips) {
            instrs.push(self.decode_at(pc, usize::from(skip), &slot_of));
        }
        debug_assert!(instrs.last().is_none_or(|ins| ins.op == Opcode::Trap));
        // Block costs, from the end: a terminator (or trap) ends its block.
        let mut remaining = 0u32;
        for ins in instrs.iter_mut().rev() {
            remaining = if ins.op.is_terminator() { 1 } else { remaining.saturating_add(1) };
            ins.cost = remaining;
        }

        fuse_memory_runs(&mut instrs, &pcs, &self.block_starts);

        // Jump table entries resolved to slots; only the first 2^31 entries are reachable by an
        // address below 2^32.
        let jump_slots = self
            .jump_table
            .iter()
            .take(1 << 31)
            .map(|&target| if target > u64::from(u32::MAX) { INVALID_SLOT } else { slot_of(target as i64) })
            .collect();
        let zero_width_slot = slot_of(0);
        self.jump_slots = jump_slots;
        self.zero_width_slot = zero_width_slot;
        self.instrs = instrs;
        self.pcs = pcs;
    }

    /// Decodes the instruction executed at `pc` (§A.5's tables), with offsets resolved by `slot_of`.
    fn decode_at(&self, pc: u32, l: usize, slot_of: &dyn Fn(i64) -> u32) -> Instr {
        let i = pc as usize;
        let op = self.opcode_at(pc);
        let mut ins = Instr { op, a: Reg::R0, b: Reg::R0, d: Reg::R0, x: 0, y: 0, cost: 0 };
        if op == Opcode::Trap {
            return ins;
        }
        let c = &self.code;
        let at = |n: usize| -> u8 { c.get(i + n).copied().unwrap_or(0) };
        let reg_lo = |n: usize| Reg::clamped(at(n) % 16);
        let reg_hi = |n: usize| Reg::clamped(at(n) / 16);
        // ν values: sign-extended `len` octets starting `off` after the opcode.
        let imm = |off: usize, len: usize| -> u32 { sext32(read(c, i + off, len), len) };
        let offset = |off: usize, len: usize| -> u32 {
            let value = read(c, i + off, len);
            slot_of(i as i64 + i64::from(sext32(value, len) as i32))
        };
        match op.arg_kind() {
            ArgKind::None => {}
            ArgKind::OneImm => {
                ins.x = imm(1, l.min(4));
            }
            ArgKind::OneRegExtImm => {
                ins.a = reg_lo(1);
                let value = read(c, i + 2, 8);
                ins.x = value as u32;
                ins.y = (value >> 32) as u32;
            }
            ArgKind::TwoImm => {
                let lx = usize::from(at(1) % 8).min(4);
                let ly = l.saturating_sub(lx + 1).min(4);
                ins.x = imm(2, lx);
                ins.y = imm(2 + lx, ly);
            }
            ArgKind::OneOffset => {
                ins.y = offset(1, l.min(4));
            }
            ArgKind::OneRegOneImm => {
                ins.a = reg_lo(1);
                ins.x = imm(2, l.saturating_sub(1).min(4));
            }
            ArgKind::OneRegTwoImm | ArgKind::OneRegImmOffset => {
                ins.a = reg_lo(1);
                let lx = usize::from((at(1) / 16) % 8).min(4);
                let ly = l.saturating_sub(lx + 1).min(4);
                ins.x = imm(2, lx);
                ins.y =
                    if op.arg_kind() == ArgKind::OneRegTwoImm { imm(2 + lx, ly) } else { offset(2 + lx, ly) };
            }
            ArgKind::TwoReg => {
                ins.d = reg_lo(1);
                ins.a = reg_hi(1);
            }
            ArgKind::TwoRegOneImm => {
                ins.a = reg_lo(1);
                ins.b = reg_hi(1);
                ins.x = imm(2, l.saturating_sub(1).min(4));
            }
            ArgKind::TwoRegOneOffset => {
                ins.a = reg_lo(1);
                ins.b = reg_hi(1);
                ins.y = offset(2, l.saturating_sub(1).min(4));
            }
            ArgKind::TwoRegTwoImm => {
                ins.a = reg_lo(1);
                ins.b = reg_hi(1);
                let lx = usize::from(at(2) % 8).min(4);
                let ly = l.saturating_sub(lx + 2).min(4);
                ins.x = imm(3, lx);
                ins.y = imm(3 + lx, ly);
            }
            ArgKind::ThreeReg => {
                ins.a = reg_lo(1);
                ins.b = reg_hi(1);
                ins.d = Reg::clamped(at(2));
            }
        }
        ins
    }
}

/// Marks a run head's `y` (see [`fuse_memory_runs`]).
pub(crate) const RUN_HEAD: u32 = 1 << 31;
/// The most accesses in one fused run (7 bits of the head's `y`).
const RUN_MAX_LEN: usize = 64;
/// The widest span of bytes a fused run may cover, so that it usually sits inside one page.
const RUN_MAX_SPAN: i64 = 512;

/// Fuses runs of `load_ind_u64` (or of `store_ind_u64`) off one base register, as compilers emit
/// to save and restore registers, so that the interpreter can do a whole run in one dispatch.
///
/// A run is two or more consecutive slots of the same opcode with the same base `b`, in one basic
/// block, whose accesses all lie in `RUN_MAX_SPAN` bytes; a load into the base register ends it
/// (it is the run's last member: the others use the base as it was). Only `y`, unused by these two
/// opcodes, is written: the head's is `RUN_HEAD | len << 24 | span << 12 | off` and every other
/// member's is `off`, where `off` is the member's offset from the lowest address of the run and
/// `span` is the bytes from that address to the end of the highest access. The interpreter does the
/// run at once only when the whole span is in one cached page; otherwise it executes the head alone
/// and the members after it one by one, as plain instructions (their `y` has no `RUN_HEAD`), so
/// that a fault leaves exactly the state unfused execution would.
fn fuse_memory_runs(instrs: &mut [Instr], pcs: &[u32], block_starts: &[u64]) {
    let starts_block = |pc: u32| {
        let pc = pc as usize;
        block_starts.get(pc / 64).is_some_and(|w| w >> (pc % 64) & 1 == 1)
    };
    let mut head = 0;
    while head < instrs.len() {
        let first = instrs[head];
        if !matches!(first.op, Opcode::LoadIndU64 | Opcode::StoreIndU64) {
            head += 1;
            continue;
        }
        let is_load = first.op == Opcode::LoadIndU64;
        let offset = |ins: &Instr| i64::from(ins.x as i32);
        let (mut lo, mut hi) = (offset(&first), offset(&first) + 8);
        let mut end = head + 1;
        // A load into the base ends the run with itself.
        let mut closed = is_load && first.a == first.b;
        while !closed && end < instrs.len() && end - head < RUN_MAX_LEN {
            let ins = &instrs[end];
            if ins.op != first.op || ins.b != first.b || starts_block(pcs[end]) {
                break;
            }
            let (new_lo, new_hi) = (lo.min(offset(ins)), hi.max(offset(ins) + 8));
            if new_hi - new_lo > RUN_MAX_SPAN {
                break;
            }
            (lo, hi) = (new_lo, new_hi);
            closed = is_load && ins.a == first.b;
            end += 1;
        }
        let len = end - head;
        if len >= 2 {
            for ins in &mut instrs[head..end] {
                ins.y = (offset(ins) - lo) as u32;
            }
            instrs[head].y |= RUN_HEAD | (len as u32) << 24 | ((hi - lo) as u32) << 12;
        }
        head = end;
    }
}

/// Bit `i` of a packed bitmask over `len` positions; positions past `len` read as set, as in the
/// paper's k ‖ [1, 1, …].
fn bit(bitmask: &[u8], i: usize, len: usize) -> bool {
    i >= len || bitmask[i / 8] >> (i % 8) & 1 == 1
}

/// skip(i) = min(24, j) for the least j with (k ‖ [1, 1, …])_{i+1+j} = 1.
fn skip(bitmask: &[u8], len: usize, i: usize) -> usize {
    (0..MAX_SKIP).find(|j| bit(bitmask, i + 1 + j, len)).unwrap_or(MAX_SKIP)
}

/// `len` little-endian octets of ζ = c ‖ [0, 0, …] from `at`.
fn read(code: &[u8], at: usize, len: usize) -> u64 {
    (0..len).fold(0u64, |acc, n| acc | u64::from(code.get(at + n).copied().unwrap_or(0)) << (8 * n))
}

/// X_n of eq. A.15 restricted to 32 bits: the sign extension of an n-octet value (n ≤ 4).
fn sext32(value: u64, len: usize) -> u32 {
    match len {
        0 => 0,
        1..=3 => {
            let shift = 32 - 8 * len as u32;
            (((value as u32) << shift) as i32 >> shift) as u32
        }
        _ => value as u32,
    }
}

/// A little-endian natural of any width, saturating at u64::MAX.
fn le_saturating(bytes: &[u8]) -> u64 {
    if bytes.iter().skip(8).any(|&b| b != 0) {
        return u64::MAX;
    }
    read(bytes, 0, bytes.len().min(8))
}

fn take<'a>(rest: &mut &'a [u8], n: u64, what: &'static str) -> Result<&'a [u8], ProgramError> {
    if n > rest.len() as u64 {
        return Err(ProgramError::Truncated { what, needed: n - rest.len() as u64, remaining: rest.len() });
    }
    let (head, tail) = rest.split_at(n as usize);
    *rest = tail;
    Ok(head)
}

fn natural(rest: &mut &[u8], what: &'static str) -> Result<u64, ProgramError> {
    let (value, used) =
        orrery_codec::natural::decode(rest).map_err(|source| ProgramError::Natural { what, source })?;
    *rest = &rest[used..];
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob(jump_table: &[u8], z: u8, code: &[u8], bitmask: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        orrery_codec::natural::encode_to((jump_table.len() / z.max(1) as usize) as u64, &mut out);
        out.push(z);
        orrery_codec::natural::encode_to(code.len() as u64, &mut out);
        out.extend_from_slice(jump_table);
        out.extend_from_slice(code);
        out.extend_from_slice(bitmask);
        out
    }

    #[test]
    fn target_and_jump_table_slots_are_block_starts_or_none() {
        // pc 0: jump +2 (to pc 2); pc 2: trap; pc 3: jump +127 (past the code); pc 5: trap.
        let code = vec![40, 2, 0, 40, 127, 0];
        let p = Program::from_parts(code, vec![0b0010_1101], vec![2, 3, 4]).unwrap();
        let pcs: Vec<u32> = p.instructions().map(|i| i.pc).collect();
        assert_eq!(&pcs[..4], &[0, 2, 3, 5]);
        assert_eq!(p.slot_pcs(), &pcs[..]);
        let opcodes: Vec<Opcode> = p.slot_opcodes().collect();
        assert_eq!(&opcodes[..4], &[Opcode::Jump, Opcode::Trap, Opcode::Jump, Opcode::Trap]);
        // Every instruction here ends its block: each costs itself alone.
        assert!(p.slot_costs().all(|cost| cost == 1));
        // The jump at pc 0 lands on pc 2, slot 1; the one at pc 3 lands nowhere; a trap has none.
        assert_eq!(p.target_slot(0), Some(1));
        assert_eq!(p.target_slot(2), None);
        assert_eq!(p.target_slot(1), None);
        assert_eq!(p.target_slot(99), None);
        // Table entries: pc 2 (slot 1, after a jump), pc 3 (slot 2, after a trap), pc 4 (inside
        // an instruction), then past the table.
        assert_eq!(p.jump_table_slot(0), Some(1));
        assert_eq!(p.jump_table_slot(1), Some(2));
        assert_eq!(p.jump_table_slot(2), None);
        assert_eq!(p.jump_table_slot(3), None);
    }

    #[test]
    fn deblob_splits_the_three_parts() {
        // One two-octet jump entry (0x0003), code [fallthrough, trap, trap] with all bits set.
        let p = Program::from_blob(&blob(&[3, 0], 2, &[1, 0, 0], &[0b111])).unwrap();
        assert_eq!(p.jump_table(), &[3]);
        assert_eq!(p.code(), &[1, 0, 0]);
        assert!(p.is_basic_block_start(0) && p.is_basic_block_start(1));
        // 1 follows a trap, 2 follows a trap: both block starts.
        assert!(p.is_basic_block_start(2));
    }

    #[test]
    fn malformed_blobs_are_errors() {
        assert!(matches!(Program::from_blob(&[]), Err(ProgramError::Natural { .. })));
        assert!(matches!(Program::from_blob(&[0, 0, 4, 1]), Err(ProgramError::Truncated { .. })));
        let mut ok = blob(&[], 0, &[1], &[1]);
        assert!(Program::from_blob(&ok).is_ok());
        ok.push(0);
        assert_eq!(Program::from_blob(&ok).unwrap_err(), ProgramError::TrailingBytes(1));
        assert_eq!(Program::from_blob(&blob(&[], 0, &[1], &[3])).unwrap_err(), ProgramError::BitmaskPadding);
        // A huge declared jump table fails on length, not on allocation.
        let huge = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 4, 0];
        assert!(matches!(Program::from_blob(&huge), Err(ProgramError::Truncated { .. })));
    }

    #[test]
    fn skip_is_capped_at_24_and_padded_with_ones() {
        let code = vec![1u8; 40];
        let mut bitmask = vec![0u8; 5];
        bitmask[0] = 1;
        let p = Program::from_parts(code, bitmask, vec![]).unwrap();
        assert_eq!(p.skip(0), 24);
        assert_eq!(p.skip(39), 0);
        // The successor of the fallthrough at 0 is 25, not an opcode position: a synthetic trap.
        assert_eq!(p.pcs, vec![0, 25]);
        assert_eq!(p.instrs[1].op, Opcode::Trap);
    }

    #[test]
    fn immediates_follow_the_papers_sign_extension() {
        // load_imm r7, with a one-octet immediate 0x80: ν = 2^64 - 128.
        let p = Program::from_parts(vec![51, 7, 0x80], vec![0b001], vec![]).unwrap();
        let ins = p.instrs[0];
        assert_eq!((ins.op, ins.a), (Opcode::LoadImm, Reg::R7));
        assert_eq!(ins.x as i32 as i64 as u64, u64::MAX - 127);
        // Register nibbles above 12 clamp to 12.
        let p = Program::from_parts(vec![100, 0xff], vec![0b01], vec![]).unwrap();
        assert_eq!((p.instrs[0].d, p.instrs[0].a), (Reg::R12, Reg::R12));
    }

    #[test]
    fn branch_targets_outside_blocks_are_invalid() {
        // jump +1 lands on the trap that follows it (a block start since jump terminates);
        // jump +2 would land past the code.
        let p = Program::from_parts(vec![40, 2, 0], vec![0b101], vec![]).unwrap();
        assert_eq!(p.instrs[0].y, 1);
        let p = Program::from_parts(vec![40, 9, 0], vec![0b101], vec![]).unwrap();
        assert_eq!(p.instrs[0].y, INVALID_SLOT);
    }
}
