//! The translation: one pass over orrery-pvm's pre-decoded instructions ([`Program::instructions`],
//! the slots the interpreter walks, synthetic traps included), one x86-64 template per
//! instruction, then the out-of-line exits, then the dynamic jump table.
//!
//! Register assignment: all thirteen guest registers live in host registers for the whole run (ω0–ω12
//! in rbx, rsi, r15, rdx, rdi, rbp, r8–r14); rax and rcx are scratch. The guest base is the GS
//! segment's base (set by the prologue with `wrgsbase` and the thread's own restored by the
//! epilogue, or, where the kernel does not allow that, around the run by `sys::enter`): guest memory is
//! `gs:[(ω + offset) mod 2^32]`, one instruction with 32-bit address arithmetic, and the context
//! (`Ctx`) sits at fixed displacements below it. The few templates that need rdx (division, the
//! high multiplications) lend it: ω3 waits in the context meanwhile and their operand reads and
//! result writes go there.
//!
//! Gas (per basic block, as the interpreter charges it): a slot that starts a block (slot 0 and
//! every slot after a terminator) begins with `sub [gas], cost; jl short` where `cost` is the
//! interpreter's cost of that slot; `short` gives the gas back and exits, and the host side decides
//! what the metering mode does with that (see `instance`). Every branch and jump enters a block
//! through that check; a resumed run enters a slot after it, having paid on the host side.

use std::sync::Arc;

use orrery_pvm::{Opcode, Program, PAGE_SIZE};

use crate::asm::{Alu, Asm, Cond, Label, Mem, Shift, Unary, R15, RAX, RCX, RDI, RDX, RSI, RSP};
use crate::asm::{R10, R11, R12, R13, R14, R8, R9, RBP, RBX};
use crate::sys::{self, exit, Code, Site, CTX_EXIT_ARG, CTX_EXIT_KIND, CTX_EXIT_SLOT, CTX_GAS};
use crate::sys::{CTX_HOST_RSP, CTX_REGS, NO_REG, SIGNED, STORE};

/// Why a program could not be compiled.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    /// A basic block longer than a 32-bit immediate can charge (GP 0.7.2 §A.3 puts no bound on a
    /// block; code of 2^31 instructions cannot be a real blob).
    #[error("a basic block at pc {pc} costs {cost} gas, more than one charge can hold")]
    BlockTooLong { pc: u32, cost: u64 },
    /// The code is larger than the 32-bit offsets of this code generator reach.
    #[error("the compiled code would exceed 2 GiB")]
    CodeTooLarge,
    /// This CPU lacks an instruction the templates use.
    #[error("this CPU lacks {0}, which the recompiler needs")]
    CpuFeature(&'static str),
    /// Mapping the code executable failed.
    #[error("mapping the compiled code: {0}")]
    Map(#[from] std::io::Error),
}

/// A program compiled to machine code, shareable between machines.
#[derive(Debug)]
pub struct Compiled {
    pub(crate) code: Code,
    /// Guest access instructions, for the fault handler.
    pub(crate) sites: sys::Sites,
    /// The offset of the epilogue, where a refused access leaves.
    pub(crate) exit: u32,
    /// Whether the code sets the GS base itself (`wrgsbase`), or leaves it to `sys::enter`.
    pub(crate) sets_gs: bool,
    pub(crate) program: Arc<Program>,
    /// Per slot: its cost (the interpreter's), its code offset. (Its program counter is the
    /// program's `slot_pcs`.)
    pub(crate) costs: Vec<u32>,
    pub(crate) body: Vec<u32>,
    code_len: usize,
}

impl Compiled {
    /// The program compiled.
    pub fn program(&self) -> &Arc<Program> {
        &self.program
    }

    /// Bytes of machine code (with exits and the jump table).
    pub fn code_len(&self) -> usize {
        self.code_len
    }

    /// The bytes this keeps alive: its machine code (whole pages), its per-slot tables and the
    /// program's pre-decoded instructions (16 bytes each). What a cache bounds.
    pub fn footprint(&self) -> usize {
        let page = PAGE_SIZE as usize;
        self.code_len.div_ceil(page) * page
            + 4 * (self.costs.len() + self.body.len())
            + std::mem::size_of::<Site>() * self.sites.len()
            + 16 * self.program.slot_count()
            + self.program.code().len()
            + self.program.bitmask().len()
            + 8 * self.program.jump_table().len()
    }

    /// The machine code (prologue, slots, exits, jump table), for inspection with a disassembler.
    pub fn machine_code(&self) -> &[u8] {
        self.code.bytes(self.code_len)
    }

    /// The offset in [`Compiled::machine_code`] of the instruction at `pc`, if one starts there.
    pub fn offset_of_pc(&self, pc: u32) -> Option<u32> {
        self.slot_at(pc).map(|slot| self.body[slot as usize])
    }

    /// The slot that executes at `pc` (an instruction or a synthetic trap), if any.
    pub(crate) fn slot_at(&self, pc: u32) -> Option<u32> {
        self.program.slot_pcs().binary_search(&pc).ok().map(|s| s as u32)
    }
}

/// Where a guest register lives.
#[derive(Debug, Clone, Copy)]
enum Loc {
    Reg(u8),
    Mem(i32),
}

/// The host register of each guest register. ω3, one of the two least used in the compute guest
/// and the bootstrap service (counted in their disassembly), sits in rdx, which division and the
/// high multiplications need for a moment (see [`Translator::lending_rdx`]).
const HOST: [u8; 13] = [RBX, RSI, R15, RDX, RDI, RBP, R8, R9, R10, R11, R12, R13, R14];

/// Where ω_guest waits while rdx is lent.
const fn reg_disp(guest: u8) -> i32 {
    CTX_REGS + 8 * guest as i32
}

/// The guest registers with their host registers.
fn pinned() -> impl Iterator<Item = (u8, u8)> {
    HOST.iter().enumerate().map(|(guest, &host)| (guest as u8, host))
}

/// A field of the context, below the guest base.
fn ctx(disp: i32) -> Mem {
    Mem::gs(disp)
}

/// Where a guest memory access is: a guest register plus an offset, or a fixed address.
#[derive(Debug, Clone, Copy)]
enum Address {
    Reg(u8, u32),
    Fixed(u32),
}

/// What a store writes: a host register, or an immediate.
#[derive(Debug, Clone, Copy)]
enum Value {
    Reg(u8),
    Imm(u64),
}

/// A memory access's direction: a load into a guest register, or a store.
#[derive(Debug, Clone, Copy)]
enum Transfer {
    Load(u8),
    Store(Value),
}

/// A deferred out-of-line exit: at `label`, exit with `kind` at `slot`.
#[derive(Debug)]
struct Stub {
    label: Label,
    kind: u32,
    slot: u32,
}

/// The sizes of a memory access.
#[derive(Debug, Clone, Copy)]
struct Width {
    bytes: u8,
    signed: bool,
}

const fn w(bytes: u8, signed: bool) -> Width {
    Width { bytes, signed }
}

struct Translator {
    asm: Asm,
    program: Arc<Program>,
    /// Per slot: the label of its gas check (block starts only: what jumps land on).
    check: Vec<Option<Label>>,
    stubs: Vec<Stub>,
    epilogue: Label,
    /// Per exit kind, the code that records it and leaves.
    exits: [Label; 6],
    /// Every access instruction, in the order emitted.
    sites: Vec<Site>,
    table: Label,
    /// The jump table resolved to slots (None: invalid), and the count of zero-width entries.
    jump_slots: Vec<Option<u32>>,
    zero_width: u64,
    zero_slot: Option<u32>,
    /// Inside a template that borrowed rdx: ω3 is in the context.
    rdx_lent: bool,
    /// The prologue and epilogue set and restore the GS base.
    sets_gs: bool,
}

thread_local! {
    /// The emitter's buffers, kept on the thread between compilations: fresh ones of a megabyte
    /// cost a page fault for every page written, more than the emitting itself.
    static SCRATCH: std::cell::Cell<Option<Asm>> = const { std::cell::Cell::new(None) };
}

/// The most a thread keeps in [`SCRATCH`] (enough for about 400 KB of PVM code).
const SCRATCH_LIMIT: usize = 8 << 20;

/// Compiles `program`.
///
/// The code sets the GS base itself where the kernel lets user code do so (`wrgsbase`), else it
/// is set around each run by a system call; `ORRERY_JIT_GS_SYSCALL=1` in the environment forces
/// the latter, so that a machine with FSGSBASE can test the path of one without.
pub fn compile(program: Arc<Program>) -> Result<Compiled, CompileError> {
    static FORCE_SYSCALL: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let forced =
        *FORCE_SYSCALL.get_or_init(|| std::env::var_os("ORRERY_JIT_GS_SYSCALL").is_some_and(|v| v == "1"));
    compile_with(program, sys::gs_base_writable() && !forced)
}

/// Compiles `program` to set the GS base itself (`sets_gs`, where `wrgsbase` works) or to have
/// `sys::enter` set it.
pub(crate) fn compile_with(program: Arc<Program>, sets_gs: bool) -> Result<Compiled, CompileError> {
    for (present, feature) in [
        (std::is_x86_feature_detected!("popcnt"), "popcnt"),
        (std::is_x86_feature_detected!("lzcnt"), "lzcnt"),
        (std::is_x86_feature_detected!("bmi1"), "tzcnt (BMI1)"),
        (std::is_x86_feature_detected!("bmi2"), "rorx (BMI2)"),
    ] {
        if !present {
            return Err(CompileError::CpuFeature(feature));
        }
    }
    let ends: Vec<bool> = program.slot_opcodes().map(Opcode::is_terminator).collect();
    let slots = ends.len();
    // Costs as the interpreter charges them (the decoder's).
    let costs: Vec<u32> = program.slot_costs().collect();
    // The decoder resolved every jump target to a block's first slot already.
    let jump_slots: Vec<Option<u32>> =
        (0..program.jump_table().len().min(1 << 31) as u32).map(|i| program.jump_table_slot(i)).collect();
    let zero_width = program.jump_table_len() - program.jump_table().len() as u64;
    let zero_slot =
        if zero_width > 0 { program.jump_table_slot(program.jump_table().len() as u32) } else { None };

    let mut asm = SCRATCH.take().unwrap_or_default().cleared(slots * 32 + 4096);
    let check = (0..slots).map(|slot| (slot == 0 || ends[slot - 1]).then(|| asm.label())).collect();
    let epilogue = asm.label();
    let exits = [(); 6].map(|()| asm.label());
    let table = asm.label();
    let mut t = Translator {
        asm,
        program: Arc::clone(&program),
        check,
        stubs: Vec::new(),
        epilogue,
        exits,
        sites: Vec::new(),
        table,
        jump_slots,
        zero_width,
        zero_slot,
        rdx_lent: false,
        sets_gs,
    };
    t.prologue_and_epilogue();
    let mut body = Vec::with_capacity(slots);
    for (slot, i) in program.instructions().enumerate() {
        if let Some(check) = t.check[slot] {
            let cost = i32::try_from(costs[slot])
                .map_err(|_| CompileError::BlockTooLong { pc: i.pc, cost: u64::from(costs[slot]) })?;
            t.asm.bind(check);
            t.asm.alu_mi(Alu::Sub, true, ctx(CTX_GAS), cost);
            let short = t.exit_stub(exit::GAS_SHORT, slot as u32);
            t.asm.jcc(Cond::L, short);
        }
        // Where a run resumes at this slot (after a host call, or with gas paid on the host side).
        body.push(t.asm.pos());
        t.instruction(slot as u32, i);
        if t.asm.buf.len() > i32::MAX as usize / 2 {
            return Err(CompileError::CodeTooLarge);
        }
    }
    t.emit_stubs();
    t.emit_table();
    if !t.asm.finish() || t.asm.buf.len() > i32::MAX as usize / 2 {
        return Err(CompileError::CodeTooLarge);
    }
    let sites = std::mem::take(&mut t.sites);
    let exit = t.asm.offset_of(t.epilogue).unwrap_or(0);
    let code_len = t.asm.buf.len();
    let code = Code::new(&t.asm.buf)?;
    if t.asm.capacity() <= SCRATCH_LIMIT {
        SCRATCH.set(Some(t.asm));
    }
    Ok(Compiled { code, sites, exit, sets_gs, program: Arc::clone(&program), costs, body, code_len })
}

impl Translator {
    /// Offset 0: `prologue(base, target)` saves the callee-saved registers and the thread's GS base,
    /// makes `base` the GS base, records the stack pointer, loads the guest registers and jumps to
    /// `target`. The epilogue undoes it.
    fn prologue_and_epilogue(&mut self) {
        let a = &mut self.asm;
        for r in [RBX, RBP, R12, R13, R14, R15] {
            a.push(r);
        }
        // Six pushes after the return address: 8 more keep rsp 16-aligned for `sbrk`'s call, and
        // hold the thread's GS base.
        a.alu_ri(Alu::Sub, true, RSP, 8);
        if self.sets_gs {
            a.rdgsbase(RAX);
            a.store(8, Mem::at(RSP, 0), RAX);
            a.wrgsbase(RDI);
        }
        a.store(8, ctx(CTX_HOST_RSP), RSP);
        a.mov_rr(true, RAX, RSI);
        self.reload_all();
        self.asm.jmp_r(RAX);

        let epilogue = self.epilogue;
        self.asm.bind(epilogue);
        self.spill_all();
        let a = &mut self.asm;
        a.load(true, RSP, ctx(CTX_HOST_RSP));
        if self.sets_gs {
            a.load(true, RAX, Mem::at(RSP, 0));
            a.wrgsbase(RAX);
        }
        a.alu_ri(Alu::Add, true, RSP, 8);
        for r in [R15, R14, R13, R12, RBP, RBX] {
            a.pop(r);
        }
        a.ret();

        for kind in [exit::HALT, exit::PANIC, exit::HOST_CALL, exit::GAS_SHORT] {
            let label = self.exits[kind as usize];
            self.asm.bind(label);
            self.asm.mov_mi32(ctx(CTX_EXIT_KIND), kind);
            self.asm.jmp(epilogue);
        }
    }

    fn spill_all(&mut self) {
        for (guest, host) in pinned() {
            self.asm.store(8, ctx(reg_disp(guest)), host);
        }
    }

    fn reload_all(&mut self) {
        for (guest, host) in pinned() {
            self.asm.load(true, host, ctx(reg_disp(guest)));
        }
    }

    fn loc(&self, guest: u8) -> Loc {
        if guest == 3 && self.rdx_lent {
            Loc::Mem(reg_disp(3))
        } else {
            Loc::Reg(HOST[usize::from(guest)])
        }
    }

    /// Emits `template` with rdx free for it: ω3 waits in the context, where the template's reads
    /// and writes of ω3 go, and comes back after. The template must not exit.
    fn lending_rdx(&mut self, template: impl FnOnce(&mut Self)) {
        self.asm.store(8, ctx(reg_disp(3)), RDX);
        self.rdx_lent = true;
        template(self);
        self.rdx_lent = false;
        self.asm.load(true, RDX, ctx(reg_disp(3)));
    }

    /// scratch = ω_guest (64 bits; with `!w` the low 32, zero-extended).
    fn ld(&mut self, w: bool, scratch: u8, guest: u8) {
        match self.loc(guest) {
            Loc::Reg(host) => self.asm.mov_rr(w, scratch, host),
            Loc::Mem(disp) => self.asm.load(w, scratch, ctx(disp)),
        }
    }

    /// ω_guest = scratch.
    fn st(&mut self, guest: u8, scratch: u8) {
        match self.loc(guest) {
            Loc::Reg(host) => self.asm.mov_rr(true, host, scratch),
            Loc::Mem(disp) => self.asm.store(8, ctx(disp), scratch),
        }
    }

    /// The host register holding ω_guest: its own, or rcx loaded from the context.
    fn value_reg(&mut self, guest: u8) -> u8 {
        match self.loc(guest) {
            Loc::Reg(host) => host,
            Loc::Mem(disp) => {
                self.asm.load(true, RCX, ctx(disp));
                RCX
            }
        }
    }

    /// Flags from ω_guest compared with zero.
    fn test_zero(&mut self, guest: u8) {
        match self.loc(guest) {
            Loc::Reg(host) => self.asm.test_rr(true, host, host),
            Loc::Mem(disp) => self.asm.alu_mi(Alu::Cmp, true, ctx(disp), 0),
        }
    }

    /// ω_guest = value.
    fn st_imm(&mut self, guest: u8, value: u64) {
        match self.loc(guest) {
            Loc::Reg(host) => self.asm.mov_ri(host, value),
            Loc::Mem(_) => {
                self.asm.mov_ri(RAX, value);
                self.st(guest, RAX);
            }
        }
    }

    fn exit_stub(&mut self, kind: u32, slot: u32) -> Label {
        let label = self.asm.label();
        self.stubs.push(Stub { label, kind, slot });
        label
    }

    /// Exits here with `kind` at `slot` (a host call's index already in the context).
    fn exit_now(&mut self, kind: u32, slot: u32) {
        self.asm.mov_mi32(ctx(CTX_EXIT_SLOT), slot);
        let to = self.exits[kind as usize];
        self.asm.jmp(to);
    }

    /// Where control goes to enter the block at `target` (a slot resolved by the decoder), or a
    /// panic at `slot` when the target is not a block start.
    fn block(&mut self, slot: u32, target: Option<u32>) -> Label {
        match target.and_then(|t| self.check.get(t as usize).copied().flatten()) {
            Some(label) => label,
            None => self.exit_stub(exit::PANIC, slot),
        }
    }

    /// The resolved static target of the instruction at `slot`.
    fn target(&self, slot: u32) -> Option<u32> {
        self.program.target_slot(slot as usize)
    }

    /// A guest memory access of `width` at `address`: a load into a guest register or a store.
    /// The access is one instruction, recorded as a site: when the hardware refuses it, the fault
    /// handler redoes it as the interpreter would and resumes after it, or leaves (see `sys`).
    fn access(&mut self, slot: u32, width: Width, address: Address, transfer: Transfer) {
        let (base, offset) = match address {
            Address::Reg(guest, offset) => match self.loc(guest) {
                Loc::Reg(host) => (host, offset),
                Loc::Mem(_) => {
                    self.ld(false, RAX, guest);
                    (RAX, offset)
                }
            },
            Address::Fixed(address) => (NO_REG, address),
        };
        let at = match base {
            NO_REG => Mem::guest_at(offset),
            base => Mem::guest(base, offset as i32),
        };
        // A 64-bit immediate that is not a sign-extended 32-bit one goes through rcx.
        let transfer = match transfer {
            Transfer::Store(Value::Imm(v)) if width.bytes == 8 && i32::try_from(v as i64).is_err() => {
                self.asm.mov_ri(RCX, v);
                Transfer::Store(Value::Reg(RCX))
            }
            other => other,
        };
        let site = self.asm.pos();
        let (kind, reg, imm, then_store) = match transfer {
            Transfer::Load(dest) => match self.loc(dest) {
                Loc::Reg(host) => {
                    self.asm.load_ext(width.bytes, width.signed, host, at);
                    (0, host, 0, None)
                }
                Loc::Mem(_) => {
                    self.asm.load_ext(width.bytes, width.signed, RCX, at);
                    (0, RCX, 0, Some(dest))
                }
            },
            Transfer::Store(Value::Reg(value)) => {
                self.asm.store(width.bytes, at, value);
                (STORE, value, 0, None)
            }
            Transfer::Store(Value::Imm(value)) => {
                self.asm.store_imm(width.bytes, at, value as i32);
                (STORE, NO_REG, value as i32, None)
            }
        };
        let kind = width.bytes | if width.signed { SIGNED } else { 0 } | kind;
        self.sites.push(Site { at: site, back: self.asm.pos(), slot, base, offset, kind, reg, imm });
        if let Some(dest) = then_store {
            self.st(dest, RCX);
        }
    }

    /// rax = (ω_guest + offset) mod 2^32.
    fn address(&mut self, guest: u8, offset: u64) {
        match self.loc(guest) {
            Loc::Reg(host) => self.asm.lea32(RAX, Mem::at(host, offset as u32 as i32)),
            Loc::Mem(_) => {
                self.ld(false, RAX, guest);
                if offset as u32 != 0 {
                    self.asm.alu_ri(Alu::Add, false, RAX, offset as u32 as i32);
                }
            }
        }
    }

    /// A dynamic jump (djump, GP 0.7.2 eq. A.18) to the address in eax.
    fn djump(&mut self, slot: u32) {
        let panic = self.exit_stub(exit::PANIC, slot);
        let halt = self.exit_stub(exit::HALT, slot);
        let a = &mut self.asm;
        a.alu_ri(Alu::Cmp, false, RAX, orrery_pvm::HALT_ADDRESS as i32);
        a.jcc(Cond::E, halt);
        a.test_rr(false, RAX, RAX);
        a.jcc(Cond::E, panic);
        a.mov_rr(false, RCX, RAX);
        a.alu_ri(Alu::And, false, RCX, 1);
        a.jcc(Cond::Ne, panic);
        // index = a / 2 - 1, at most 2^31 - 1.
        a.shift_ri(Shift::Shr, false, RAX, 1);
        a.alu_ri(Alu::Sub, false, RAX, 1);
        if !self.jump_slots.is_empty() {
            let a = &mut self.asm;
            a.alu_ri(Alu::Cmp, false, RAX, self.jump_slots.len() as i32);
            a.jcc(Cond::Ae, panic);
            let table = self.table;
            a.lea_label(RCX, table);
            a.load_ext(4, true, RAX, Mem::indexed(RCX, RAX, 4, 0));
            a.test_rr(true, RAX, RAX);
            a.jcc(Cond::E, panic);
            a.alu_rr(Alu::Add, true, RAX, RCX);
            a.jmp_r(RAX);
        } else if self.zero_width > 0 {
            // Every entry of a zero-width table is target 0; the index is below 2^31.
            let target = self.zero_slot;
            if self.zero_width < 1 << 31 {
                self.asm.alu_ri(Alu::Cmp, false, RAX, self.zero_width as i32);
                self.asm.jcc(Cond::Ae, panic);
            }
            let to = self.block(slot, target);
            self.asm.jmp(to);
        } else {
            self.asm.jmp(panic);
        }
    }

    fn op3(&mut self, i: &orrery_pvm::Instruction, w: bool, f: impl FnOnce(&mut Asm)) {
        self.ld(w, RAX, i.a);
        self.ld(w, RCX, i.b);
        f(&mut self.asm);
        if !w {
            self.asm.movsxd(RAX, RAX);
        }
        self.st(i.d, RAX);
    }

    /// ω_D = ω_A op ω_B, with ω_B used where it lives, and in ω_D's own host register when it has
    /// one (unless ω_D is ω_B, which the first move would overwrite: a commutative operation then
    /// swaps its operands and works in place).
    fn op3_alu(&mut self, i: &orrery_pvm::Instruction, w: bool, op: Alu) {
        let (a, b) = if op != Alu::Sub && i.d == i.b { (i.b, i.a) } else { (i.a, i.b) };
        let dst = match self.loc(i.d) {
            Loc::Reg(host) if i.d == a || i.d != b => host,
            _ => RAX,
        };
        if dst != RAX && i.d == a && w {
            // In place: nothing to move.
        } else {
            self.ld(w, dst, a);
        }
        match self.loc(b) {
            Loc::Reg(host) => self.asm.alu_rr(op, w, dst, host),
            Loc::Mem(disp) => self.asm.alu_rm(op, w, dst, ctx(disp)),
        }
        if !w {
            self.asm.movsxd(dst, dst);
        }
        if dst == RAX {
            self.st(i.d, RAX);
        }
    }

    /// ω_A = ω_B op imm, the immediate in the instruction (sign-extended from 32 bits, as ν_X is),
    /// computed in ω_A's host register when it has one.
    fn op_imm_direct(&mut self, i: &orrery_pvm::Instruction, w: bool, f: impl FnOnce(&mut Asm, u8, i32)) {
        let dst = match self.loc(i.a) {
            Loc::Reg(host) => host,
            Loc::Mem(_) => RAX,
        };
        if !(dst != RAX && i.a == i.b && w) {
            self.ld(w, dst, i.b);
        }
        f(&mut self.asm, dst, i.imm_x as i32);
        if !w {
            self.asm.movsxd(dst, dst);
        }
        if dst == RAX {
            self.st(i.a, RAX);
        }
    }

    /// ω_A = ω_B op imm for an operation with a form that writes a register other than its
    /// source (`lea` for addition, `rorx` for rotation): that one instruction when ω_A and ω_B are
    /// different registers, else as [`Translator::op_imm_direct`].
    fn op_imm_copying(
        &mut self,
        i: &orrery_pvm::Instruction,
        w: bool,
        in_place: impl FnOnce(&mut Asm, u8, i32),
        copying: impl FnOnce(&mut Asm, u8, u8, i32),
    ) {
        match (self.loc(i.a), self.loc(i.b)) {
            (Loc::Reg(dst), Loc::Reg(src)) if dst != src => {
                copying(&mut self.asm, dst, src, i.imm_x as i32);
                if !w {
                    self.asm.movsxd(dst, dst);
                }
            }
            _ => self.op_imm_direct(i, w, in_place),
        }
    }

    /// ω_A = f(ω_B, imm) with the immediate in rcx.
    fn op_imm(&mut self, i: &orrery_pvm::Instruction, w: bool, f: impl FnOnce(&mut Asm)) {
        self.ld(w, RAX, i.b);
        self.asm.mov_ri(RCX, i.imm_x);
        f(&mut self.asm);
        if !w {
            self.asm.movsxd(RAX, RAX);
        }
        self.st(i.a, RAX);
    }

    /// ω_A = f(imm, ω_B): the `_alt` forms, immediate in rax and register in rcx.
    fn op_imm_alt(&mut self, i: &orrery_pvm::Instruction, w: bool, f: impl FnOnce(&mut Asm)) {
        self.asm.mov_ri(RAX, if w { i.imm_x } else { u64::from(i.imm_x as u32) });
        self.ld(w, RCX, i.b);
        f(&mut self.asm);
        if !w {
            self.asm.movsxd(RAX, RAX);
        }
        self.st(i.a, RAX);
    }

    /// ω_D = f(ω_A), operand in rcx and result in rax.
    fn op2(&mut self, i: &orrery_pvm::Instruction, f: impl FnOnce(&mut Asm)) {
        self.ld(true, RCX, i.a);
        f(&mut self.asm);
        self.st(i.d, RAX);
    }

    /// A conditional branch on flags already set.
    fn branch(&mut self, slot: u32, cond: Cond) {
        let target = self.target(slot);
        let taken = self.block(slot, target);
        // Not taken: on into the next slot's gas check, emitted right after this one (a terminator
        // is never the last slot, which is always a trap).
        self.asm.jcc(cond, taken);
    }

    /// Division templates: rax = dividend, rcx = divisor, both loaded.
    fn divide(&mut self, w: bool, signed: bool, remainder: bool) {
        let a = &mut self.asm;
        let done = a.label();
        let by_zero = a.label();
        let by_minus_one = a.label();
        let extend = a.label();
        a.test_rr(w, RCX, RCX);
        a.jcc(Cond::E, by_zero);
        if signed {
            a.alu_ri(Alu::Cmp, w, RCX, -1);
            a.jcc(Cond::E, by_minus_one);
            a.sign_split(w);
            a.unary(Unary::Idiv, w, RCX);
        } else {
            a.mov_ri(RDX, 0);
            a.unary(Unary::Div, w, RCX);
        }
        if remainder {
            a.mov_rr(w, RAX, RDX);
        }
        a.jmp(extend);
        // x / -1 = -x (wrapping: the most negative value stays), x % -1 = 0.
        a.bind(by_minus_one);
        if signed {
            if remainder {
                a.mov_ri(RAX, 0);
            } else {
                a.unary(Unary::Neg, w, RAX);
            }
        }
        a.jmp(extend);
        // x / 0 = 2^64 - 1; x % 0 = x (sign-extended from 32 bits in the 32-bit forms).
        a.bind(by_zero);
        if !remainder {
            a.mov_ri(RAX, u64::MAX);
            a.jmp(done);
        }
        a.bind(extend);
        if !w {
            a.movsxd(RAX, RAX);
        }
        a.bind(done);
    }

    fn instruction(&mut self, slot: u32, i: orrery_pvm::Instruction) {
        use Opcode as O;
        let x = i.imm_x;
        let x32 = x as i32;
        match i.opcode {
            O::Trap => self.exit_now(exit::PANIC, slot),
            // The next slot's gas check is emitted right after this one.
            O::Fallthrough => {}
            O::Ecalli => {
                // Execution resumes at the next slot's body, entered from the host.
                self.asm.mov_ri(RAX, x);
                self.asm.store(8, ctx(CTX_EXIT_ARG), RAX);
                self.exit_now(exit::HOST_CALL, slot);
            }
            O::LoadImm64 | O::LoadImm => self.st_imm(i.a, x),
            O::StoreImmU8 | O::StoreImmU16 | O::StoreImmU32 | O::StoreImmU64 => {
                let bytes = 1 << (i.opcode as u8 - O::StoreImmU8 as u8);
                self.access(
                    slot,
                    w(bytes, false),
                    Address::Fixed(x as u32),
                    Transfer::Store(Value::Imm(i.imm_y)),
                );
            }
            O::Jump => {
                let target = self.target(slot);
                let to = self.block(slot, target);
                self.asm.jmp(to);
            }
            O::JumpInd => {
                self.address(i.a, x);
                self.djump(slot);
            }
            O::LoadU8 | O::LoadI8 | O::LoadU16 | O::LoadI16 | O::LoadU32 | O::LoadI32 | O::LoadU64 => {
                let width = load_width(i.opcode, O::LoadU8);
                self.access(slot, width, Address::Fixed(x as u32), Transfer::Load(i.a));
            }
            O::StoreU8 | O::StoreU16 | O::StoreU32 | O::StoreU64 => {
                let bytes = 1 << (i.opcode as u8 - O::StoreU8 as u8);
                let value = self.value_reg(i.a);
                self.access(
                    slot,
                    w(bytes, false),
                    Address::Fixed(x as u32),
                    Transfer::Store(Value::Reg(value)),
                );
            }
            O::StoreImmIndU8 | O::StoreImmIndU16 | O::StoreImmIndU32 | O::StoreImmIndU64 => {
                let bytes = 1 << (i.opcode as u8 - O::StoreImmIndU8 as u8);
                let address = Address::Reg(i.a, x as u32);
                self.access(slot, w(bytes, false), address, Transfer::Store(Value::Imm(i.imm_y)));
            }
            O::LoadImmJump => {
                self.st_imm(i.a, x);
                let target = self.target(slot);
                let to = self.block(slot, target);
                self.asm.jmp(to);
            }
            O::BranchEqImm
            | O::BranchNeImm
            | O::BranchLtUImm
            | O::BranchLeUImm
            | O::BranchGeUImm
            | O::BranchGtUImm
            | O::BranchLtSImm
            | O::BranchLeSImm
            | O::BranchGeSImm
            | O::BranchGtSImm => {
                let cond = match i.opcode {
                    O::BranchEqImm => Cond::E,
                    O::BranchNeImm => Cond::Ne,
                    O::BranchLtUImm => Cond::B,
                    O::BranchLeUImm => Cond::Be,
                    O::BranchGeUImm => Cond::Ae,
                    O::BranchGtUImm => Cond::A,
                    O::BranchLtSImm => Cond::L,
                    O::BranchLeSImm => Cond::Le,
                    O::BranchGeSImm => Cond::Ge,
                    _ => Cond::G,
                };
                // The 32-bit immediate is sign-extended by the comparison, as ν_X is.
                let a = self.value_reg(i.a);
                self.asm.alu_ri(Alu::Cmp, true, a, x32);
                self.branch(slot, cond);
            }
            O::MoveReg => match self.loc(i.d) {
                Loc::Reg(host) => self.ld(true, host, i.a),
                Loc::Mem(_) => {
                    self.ld(true, RAX, i.a);
                    self.st(i.d, RAX);
                }
            },
            O::Sbrk => {
                self.spill_all();
                let a = &mut self.asm;
                a.load(true, RDI, ctx(reg_disp(i.a)));
                a.mov_ri(RAX, sys::sbrk as *const () as usize as u64);
                a.call_r(RAX);
                self.reload_all();
                self.st(i.d, RAX);
            }
            O::CountSetBits64 => self.op2(&i, |a| a.popcnt(true, RAX, RCX)),
            O::CountSetBits32 => self.op2(&i, |a| a.popcnt(false, RAX, RCX)),
            // lzcnt and tzcnt give the operand's width for zero, as the paper does.
            O::LeadingZeroBits64 => self.op2(&i, |a| a.lzcnt(true, RAX, RCX)),
            O::LeadingZeroBits32 => self.op2(&i, |a| a.lzcnt(false, RAX, RCX)),
            O::TrailingZeroBits64 => self.op2(&i, |a| a.tzcnt(true, RAX, RCX)),
            O::TrailingZeroBits32 => self.op2(&i, |a| a.tzcnt(false, RAX, RCX)),
            O::SignExtend8 => self.op2(&i, |a| a.extend_rr(1, true, RAX, RCX)),
            O::SignExtend16 => self.op2(&i, |a| a.extend_rr(2, true, RAX, RCX)),
            O::ZeroExtend16 => self.op2(&i, |a| a.extend_rr(2, false, RAX, RCX)),
            O::ReverseBytes => self.op2(&i, |a| {
                a.mov_rr(true, RAX, RCX);
                a.bswap(RAX);
            }),
            O::StoreIndU8 | O::StoreIndU16 | O::StoreIndU32 | O::StoreIndU64 => {
                let bytes = 1 << (i.opcode as u8 - O::StoreIndU8 as u8);
                let value = self.value_reg(i.a);
                let address = Address::Reg(i.b, x as u32);
                self.access(slot, w(bytes, false), address, Transfer::Store(Value::Reg(value)));
            }
            O::LoadIndU8
            | O::LoadIndI8
            | O::LoadIndU16
            | O::LoadIndI16
            | O::LoadIndU32
            | O::LoadIndI32
            | O::LoadIndU64 => {
                let width = load_width(i.opcode, O::LoadIndU8);
                self.access(slot, width, Address::Reg(i.b, x as u32), Transfer::Load(i.a));
            }
            O::AddImm32 => self.op_imm_copying(
                &i,
                false,
                |a, r, x| a.alu_ri(Alu::Add, false, r, x),
                |a, d, s, x| a.lea32(d, Mem::at(s, x)),
            ),
            O::AndImm => self.op_imm_direct(&i, true, |a, r, x| a.alu_ri(Alu::And, true, r, x)),
            O::XorImm => self.op_imm_direct(&i, true, |a, r, x| a.alu_ri(Alu::Xor, true, r, x)),
            O::OrImm => self.op_imm_direct(&i, true, |a, r, x| a.alu_ri(Alu::Or, true, r, x)),
            O::MulImm32 => self.op_imm_direct(&i, false, |a, r, x| a.imul_rri(false, r, r, x)),
            O::SetLtUImm => self.op_imm(&i, true, |a| set(a, Cond::B)),
            O::SetLtSImm => self.op_imm(&i, true, |a| set(a, Cond::L)),
            O::ShloLImm32 => {
                self.op_imm_direct(&i, false, |a, r, x| a.shift_ri(Shift::Shl, false, r, x as u8 & 31))
            }
            O::ShloRImm32 => {
                self.op_imm_direct(&i, false, |a, r, x| a.shift_ri(Shift::Shr, false, r, x as u8 & 31))
            }
            O::SharRImm32 => {
                self.op_imm_direct(&i, false, |a, r, x| a.shift_ri(Shift::Sar, false, r, x as u8 & 31))
            }
            O::NegAddImm32 => self.op_imm(&i, false, |a| {
                a.alu_rr(Alu::Sub, false, RCX, RAX);
                a.mov_rr(false, RAX, RCX);
            }),
            O::SetGtUImm => self.op_imm(&i, true, |a| set(a, Cond::A)),
            O::SetGtSImm => self.op_imm(&i, true, |a| set(a, Cond::G)),
            O::ShloLImmAlt32 => self.op_imm_alt(&i, false, |a| a.shift_cl(Shift::Shl, false, RAX)),
            O::ShloRImmAlt32 => self.op_imm_alt(&i, false, |a| a.shift_cl(Shift::Shr, false, RAX)),
            O::SharRImmAlt32 => self.op_imm_alt(&i, false, |a| a.shift_cl(Shift::Sar, false, RAX)),
            O::CmovIzImm | O::CmovNzImm => {
                self.ld(true, RAX, i.a);
                self.asm.mov_ri(RCX, x);
                self.test_zero(i.b);
                let cond = if i.opcode == O::CmovIzImm { Cond::E } else { Cond::Ne };
                self.asm.cmov(cond, true, RAX, RCX);
                self.st(i.a, RAX);
            }
            O::AddImm64 => self.op_imm_copying(
                &i,
                true,
                |a, r, x| a.alu_ri(Alu::Add, true, r, x),
                |a, d, s, x| a.lea(d, Mem::at(s, x)),
            ),
            O::MulImm64 => self.op_imm_direct(&i, true, |a, r, x| a.imul_rri(true, r, r, x)),
            O::ShloLImm64 => {
                self.op_imm_direct(&i, true, |a, r, x| a.shift_ri(Shift::Shl, true, r, x as u8 & 63))
            }
            O::ShloRImm64 => {
                self.op_imm_direct(&i, true, |a, r, x| a.shift_ri(Shift::Shr, true, r, x as u8 & 63))
            }
            O::SharRImm64 => {
                self.op_imm_direct(&i, true, |a, r, x| a.shift_ri(Shift::Sar, true, r, x as u8 & 63))
            }
            O::NegAddImm64 => self.op_imm(&i, true, |a| {
                a.alu_rr(Alu::Sub, true, RCX, RAX);
                a.mov_rr(true, RAX, RCX);
            }),
            O::ShloLImmAlt64 => self.op_imm_alt(&i, true, |a| a.shift_cl(Shift::Shl, true, RAX)),
            O::ShloRImmAlt64 => self.op_imm_alt(&i, true, |a| a.shift_cl(Shift::Shr, true, RAX)),
            O::SharRImmAlt64 => self.op_imm_alt(&i, true, |a| a.shift_cl(Shift::Sar, true, RAX)),
            O::RotR64Imm => self.op_imm_copying(
                &i,
                true,
                |a, r, x| a.shift_ri(Shift::Ror, true, r, x as u8 & 63),
                |a, d, s, x| a.rorx(true, d, s, x as u8 & 63),
            ),
            O::RotR64ImmAlt => self.op_imm_alt(&i, true, |a| a.shift_cl(Shift::Ror, true, RAX)),
            O::RotR32Imm => self.op_imm_copying(
                &i,
                false,
                |a, r, x| a.shift_ri(Shift::Ror, false, r, x as u8 & 31),
                |a, d, s, x| a.rorx(false, d, s, x as u8 & 31),
            ),
            O::RotR32ImmAlt => self.op_imm_alt(&i, false, |a| a.shift_cl(Shift::Ror, false, RAX)),
            O::BranchEq | O::BranchNe | O::BranchLtU | O::BranchLtS | O::BranchGeU | O::BranchGeS => {
                let cond = match i.opcode {
                    O::BranchEq => Cond::E,
                    O::BranchNe => Cond::Ne,
                    O::BranchLtU => Cond::B,
                    O::BranchLtS => Cond::L,
                    O::BranchGeU => Cond::Ae,
                    _ => Cond::Ge,
                };
                let a = match self.loc(i.a) {
                    Loc::Reg(host) => host,
                    Loc::Mem(_) => {
                        self.ld(true, RAX, i.a);
                        RAX
                    }
                };
                let b = self.value_reg(i.b);
                self.asm.alu_rr(Alu::Cmp, true, a, b);
                self.branch(slot, cond);
            }
            O::LoadImmJumpInd => {
                // The address uses ω_B before ω'_A is written.
                self.address(i.b, i.imm_y);
                self.st_imm(i.a, x);
                self.djump(slot);
            }
            O::Add32 => self.op3_alu(&i, false, Alu::Add),
            O::Sub32 => self.op3_alu(&i, false, Alu::Sub),
            O::Mul32 => self.op3(&i, false, |a| a.imul_rr(false, RAX, RCX)),
            O::DivU32 | O::DivS32 | O::RemU32 | O::RemS32 | O::DivU64 | O::DivS64 | O::RemU64 | O::RemS64 => {
                let wide = matches!(i.opcode, O::DivU64 | O::DivS64 | O::RemU64 | O::RemS64);
                let signed = matches!(i.opcode, O::DivS32 | O::RemS32 | O::DivS64 | O::RemS64);
                let remainder = matches!(i.opcode, O::RemU32 | O::RemS32 | O::RemU64 | O::RemS64);
                self.lending_rdx(|t| {
                    t.ld(wide, RAX, i.a);
                    t.ld(wide, RCX, i.b);
                    t.divide(wide, signed, remainder);
                    t.st(i.d, RAX);
                });
            }
            O::ShloL32 => self.op3(&i, false, |a| a.shift_cl(Shift::Shl, false, RAX)),
            O::ShloR32 => self.op3(&i, false, |a| a.shift_cl(Shift::Shr, false, RAX)),
            O::SharR32 => self.op3(&i, false, |a| a.shift_cl(Shift::Sar, false, RAX)),
            O::Add64 => self.op3_alu(&i, true, Alu::Add),
            O::Sub64 => self.op3_alu(&i, true, Alu::Sub),
            O::Mul64 => self.op3(&i, true, |a| a.imul_rr(true, RAX, RCX)),
            O::ShloL64 => self.op3(&i, true, |a| a.shift_cl(Shift::Shl, true, RAX)),
            O::ShloR64 => self.op3(&i, true, |a| a.shift_cl(Shift::Shr, true, RAX)),
            O::SharR64 => self.op3(&i, true, |a| a.shift_cl(Shift::Sar, true, RAX)),
            O::And => self.op3_alu(&i, true, Alu::And),
            O::Xor => self.op3_alu(&i, true, Alu::Xor),
            O::Or => self.op3_alu(&i, true, Alu::Or),
            O::MulUpperSS => self.lending_rdx(|t| {
                t.op3(&i, true, |a| {
                    a.unary(Unary::Imul, true, RCX);
                    a.mov_rr(true, RAX, RDX);
                })
            }),
            O::MulUpperUU => self.lending_rdx(|t| {
                t.op3(&i, true, |a| {
                    a.unary(Unary::Mul, true, RCX);
                    a.mov_rr(true, RAX, RDX);
                })
            }),
            O::MulUpperSU => self.lending_rdx(|t| {
                // high(signed a × unsigned b) = high_unsigned(a, b) − (a < 0 ? b : 0).
                t.ld(true, RAX, i.a);
                t.ld(true, RCX, i.b);
                t.asm.unary(Unary::Mul, true, RCX);
                t.ld(true, RAX, i.a);
                t.asm.shift_ri(Shift::Sar, true, RAX, 63);
                t.asm.alu_rr(Alu::And, true, RAX, RCX);
                t.asm.alu_rr(Alu::Sub, true, RDX, RAX);
                t.st(i.d, RDX);
            }),
            O::SetLtU => self.op3(&i, true, |a| set(a, Cond::B)),
            O::SetLtS => self.op3(&i, true, |a| set(a, Cond::L)),
            O::CmovIz | O::CmovNz => {
                self.ld(true, RAX, i.d);
                self.ld(true, RCX, i.a);
                self.test_zero(i.b);
                let cond = if i.opcode == O::CmovIz { Cond::E } else { Cond::Ne };
                self.asm.cmov(cond, true, RAX, RCX);
                self.st(i.d, RAX);
            }
            O::RotL64 => self.op3(&i, true, |a| a.shift_cl(Shift::Rol, true, RAX)),
            O::RotL32 => self.op3(&i, false, |a| a.shift_cl(Shift::Rol, false, RAX)),
            O::RotR64 => self.op3(&i, true, |a| a.shift_cl(Shift::Ror, true, RAX)),
            O::RotR32 => self.op3(&i, false, |a| a.shift_cl(Shift::Ror, false, RAX)),
            O::AndInv => self.op3(&i, true, |a| {
                a.unary(Unary::Not, true, RCX);
                a.alu_rr(Alu::And, true, RAX, RCX);
            }),
            O::OrInv => self.op3(&i, true, |a| {
                a.unary(Unary::Not, true, RCX);
                a.alu_rr(Alu::Or, true, RAX, RCX);
            }),
            O::Xnor => self.op3(&i, true, |a| {
                a.alu_rr(Alu::Xor, true, RAX, RCX);
                a.unary(Unary::Not, true, RAX);
            }),
            // rax = ω_A, replaced by ω_B where ω_A is not already the one wanted.
            O::Max | O::MaxU | O::Min | O::MinU => {
                let cond = match i.opcode {
                    O::Max => Cond::L,
                    O::MaxU => Cond::B,
                    O::Min => Cond::G,
                    _ => Cond::A,
                };
                self.ld(true, RAX, i.a);
                let b = self.value_reg(i.b);
                self.asm.alu_rr(Alu::Cmp, true, RAX, b);
                self.asm.cmov(cond, true, RAX, b);
                self.st(i.d, RAX);
            }
        }
    }

    fn emit_stubs(&mut self) {
        for Stub { label, kind, slot } in std::mem::take(&mut self.stubs) {
            self.asm.bind(label);
            self.exit_now(kind, slot);
        }
    }

    /// The jump table: per entry, the offset of the target block's check from the table, or 0
    /// for an entry that is not a block start.
    fn emit_table(&mut self) {
        self.asm.align(8);
        let table = self.table;
        self.asm.bind(table);
        let start = self.asm.pos();
        let slots = std::mem::take(&mut self.jump_slots);
        for slot in slots {
            let offset = slot
                .and_then(|s| self.check[s as usize])
                .and_then(|l| self.asm.offset_of(l))
                .map_or(0, |at| at as i32 - start as i32);
            self.asm.data32(offset);
        }
    }
}

/// rax = (rax <cond> rcx) as 0 or 1, after a 64-bit comparison.
fn set(a: &mut Asm, cond: Cond) {
    a.alu_rr(Alu::Cmp, true, RAX, RCX);
    a.setcc(cond, RAX);
    a.extend_rr(1, false, RAX, RAX);
}

/// The width of `load_{u8,i8,u16,i16,u32,i32,u64}` counted from the first of its group.
fn load_width(op: Opcode, first: Opcode) -> Width {
    match op as u8 - first as u8 {
        0 => w(1, false),
        1 => w(1, true),
        2 => w(2, false),
        3 => w(2, true),
        4 => w(4, false),
        5 => w(4, true),
        _ => w(8, false),
    }
}
