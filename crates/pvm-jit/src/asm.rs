//! A small x86-64 encoder: exactly the instructions the translator emits, appended to a byte
//! buffer, with labels patched once the whole program is laid out. No validation beyond what the
//! translator needs: every operand combination used is one the encodings below handle (memory
//! operands are `[base + disp]`, `[base + index*scale + disp]` or `[disp32]`, optionally
//! GS-relative and with 32-bit address arithmetic, with the shortest displacement, never
//! rsp-based).

/// Host registers by their hardware number.
pub(crate) const RAX: u8 = 0;
pub(crate) const RCX: u8 = 1;
pub(crate) const RDX: u8 = 2;
pub(crate) const RBX: u8 = 3;
pub(crate) const RSP: u8 = 4;
pub(crate) const RBP: u8 = 5;
pub(crate) const RSI: u8 = 6;
pub(crate) const RDI: u8 = 7;
pub(crate) const R8: u8 = 8;
pub(crate) const R9: u8 = 9;
pub(crate) const R10: u8 = 10;
pub(crate) const R11: u8 = 11;
pub(crate) const R12: u8 = 12;
pub(crate) const R13: u8 = 13;
pub(crate) const R14: u8 = 14;
pub(crate) const R15: u8 = 15;

/// Condition codes (the low nibble of `jcc`, `setcc` and `cmovcc`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Cond {
    B = 2,
    Ae = 3,
    E = 4,
    Ne = 5,
    Be = 6,
    A = 7,
    L = 0xc,
    Ge = 0xd,
    Le = 0xe,
    G = 0xf,
}

/// The `/digit` of the group-1 ALU instructions (and the two-register opcode is `digit * 8 + 1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Alu {
    Add = 0,
    Or = 1,
    And = 4,
    Sub = 5,
    Xor = 6,
    Cmp = 7,
}

/// The `/digit` of the shift and rotate group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Shift {
    Rol = 0,
    Ror = 1,
    Shl = 4,
    Shr = 5,
    Sar = 7,
}

/// The `/digit` of the `F7` group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Unary {
    Not = 2,
    Neg = 3,
    Mul = 4,
    Imul = 5,
    Div = 6,
    Idiv = 7,
}

/// A memory operand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Mem {
    /// The base register, or none for an absolute displacement.
    pub base: Option<u8>,
    /// Index register and scale (1, 2, 4 or 8).
    pub index: Option<(u8, u8)>,
    pub disp: i32,
    /// Relative to the GS segment's base (a `gs:` prefix): the guest base while compiled code runs.
    pub gs: bool,
    /// A 32-bit address (the `0x67` prefix): base plus displacement wraps at 2^32 before the
    /// segment's base is added, which is exactly the paper's guest address arithmetic.
    pub addr32: bool,
}

impl Mem {
    pub(crate) fn at(base: u8, disp: i32) -> Mem {
        Mem { base: Some(base), index: None, disp, gs: false, addr32: false }
    }

    pub(crate) fn indexed(base: u8, index: u8, scale: u8, disp: i32) -> Mem {
        Mem { base: Some(base), index: Some((index, scale)), disp, gs: false, addr32: false }
    }

    /// `gs:[disp]`: the segment's base plus the sign-extended displacement (the context, below the
    /// guest base).
    pub(crate) fn gs(disp: i32) -> Mem {
        Mem { base: None, index: None, disp, gs: true, addr32: false }
    }

    /// `gs:[(r32 + disp) mod 2^32]`: guest memory at a register plus an offset.
    pub(crate) fn guest(base: u8, disp: i32) -> Mem {
        Mem { base: Some(base), index: None, disp, gs: true, addr32: true }
    }

    /// `gs:[address]`: guest memory at a fixed 32-bit address.
    pub(crate) fn guest_at(address: u32) -> Mem {
        Mem { base: None, index: None, disp: address as i32, gs: true, addr32: true }
    }
}

/// A position in the code to be bound later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Label(u32);

/// The buffer and its labels.
#[derive(Debug, Default)]
pub(crate) struct Asm {
    pub buf: Vec<u8>,
    labels: Vec<u32>,
    /// (position of a rel32 field, label): the field becomes `label - (position + 4)`.
    fixups: Vec<(u32, Label)>,
}

const UNBOUND: u32 = u32::MAX;

impl Asm {
    /// An empty buffer with room for `bytes`, reusing `self`'s allocations.
    pub(crate) fn cleared(mut self, bytes: usize) -> Asm {
        self.buf.clear();
        self.labels.clear();
        self.fixups.clear();
        self.buf.reserve(bytes);
        self
    }

    /// The bytes of memory this holds.
    pub(crate) fn capacity(&self) -> usize {
        self.buf.capacity() + 4 * self.labels.capacity() + 8 * self.fixups.capacity()
    }

    pub(crate) fn pos(&self) -> u32 {
        self.buf.len() as u32
    }

    pub(crate) fn label(&mut self) -> Label {
        self.labels.push(UNBOUND);
        Label(self.labels.len() as u32 - 1)
    }

    pub(crate) fn bind(&mut self, label: Label) {
        self.labels[label.0 as usize] = self.pos();
    }

    /// Where a bound label is.
    pub(crate) fn offset_of(&self, label: Label) -> Option<u32> {
        Some(self.labels[label.0 as usize]).filter(|&p| p != UNBOUND)
    }

    /// Patches every reference; false if one names a label never bound.
    pub(crate) fn finish(&mut self) -> bool {
        for &(at, label) in &self.fixups {
            let target = self.labels[label.0 as usize];
            if target == UNBOUND {
                return false;
            }
            let rel = i64::from(target) - (i64::from(at) + 4);
            self.buf[at as usize..at as usize + 4].copy_from_slice(&(rel as i32).to_le_bytes());
        }
        true
    }

    fn byte(&mut self, b: u8) {
        self.buf.push(b);
    }

    fn bytes(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }

    fn imm32(&mut self, v: i32) {
        self.bytes(&v.to_le_bytes());
    }

    fn rel32(&mut self, label: Label) {
        self.fixups.push((self.pos(), label));
        self.imm32(0);
    }

    /// A REX prefix when needed (or when `force`d, for byte registers 4–7 to mean spl..dil).
    fn rex(&mut self, w: bool, r: u8, x: u8, b: u8, force: bool) {
        let rex = 0x40 | u8::from(w) << 3 | (r >> 3 & 1) << 2 | (x >> 3 & 1) << 1 | (b >> 3 & 1);
        if rex != 0x40 || force {
            self.byte(rex);
        }
    }

    /// `prefix? REX opcode modrm(reg, rm)` with a register operand.
    fn rr(&mut self, prefix: Option<u8>, w: bool, force: bool, opcode: &[u8], reg: u8, rm: u8) {
        if let Some(p) = prefix {
            self.byte(p);
        }
        self.rex(w, reg, 0, rm, force);
        self.bytes(opcode);
        self.byte(0xc0 | (reg & 7) << 3 | (rm & 7));
    }

    /// `gs? addr32? prefix? REX opcode modrm(reg, mem)` with a memory operand.
    fn rm(&mut self, prefix: Option<u8>, w: bool, force: bool, opcode: &[u8], reg: u8, mem: Mem) {
        if mem.gs {
            self.byte(0x65);
        }
        if mem.addr32 {
            self.byte(0x67);
        }
        if let Some(p) = prefix {
            self.byte(p);
        }
        let index = mem.index.map_or(0, |(i, _)| i);
        let Some(base) = mem.base else {
            // No base: modrm rm=100 with a SIB of no index and no base, then disp32 (the short
            // form mod=00 rm=101 would be rip-relative).
            self.rex(w, reg, 0, 0, force);
            self.bytes(opcode);
            self.byte((reg & 7) << 3 | 4);
            self.byte(0x25);
            self.imm32(mem.disp);
            return;
        };
        self.rex(w, reg, index, base, force);
        self.bytes(opcode);
        // The shortest displacement: none (except from rbp and r13, whose "no displacement"
        // encoding means something else), 8 bits, or 32.
        let (mode, disp8) = if mem.disp == 0 && base & 7 != RBP {
            (0x00, None)
        } else if let Ok(d) = i8::try_from(mem.disp) {
            (0x40, Some(d))
        } else {
            (0x80, None)
        };
        match mem.index {
            None if base & 7 != RSP => {
                self.byte(mode | (reg & 7) << 3 | (base & 7));
            }
            None => {
                self.byte(mode | (reg & 7) << 3 | 4);
                self.byte(0x24);
            }
            Some((index, scale)) => {
                let ss = match scale {
                    1 => 0,
                    2 => 1,
                    4 => 2,
                    _ => 3,
                };
                self.byte(mode | (reg & 7) << 3 | 4);
                self.byte(ss << 6 | (index & 7) << 3 | (base & 7));
            }
        }
        match (mode, disp8) {
            (0x00, _) => {}
            (_, Some(d)) => self.byte(d as u8),
            _ => self.imm32(mem.disp),
        }
    }

    pub(crate) fn mov_rr(&mut self, w: bool, dst: u8, src: u8) {
        self.rr(None, w, false, &[0x89], src, dst);
    }

    /// `mov dst, [mem]` (32 or 64 bits).
    pub(crate) fn load(&mut self, w: bool, dst: u8, mem: Mem) {
        self.rm(None, w, false, &[0x8b], dst, mem);
    }

    /// `mov [mem], src` of `bytes` (1, 2, 4 or 8).
    pub(crate) fn store(&mut self, bytes: u8, mem: Mem, src: u8) {
        match bytes {
            1 => self.rm(None, false, true, &[0x88], src, mem),
            2 => self.rm(Some(0x66), false, false, &[0x89], src, mem),
            4 => self.rm(None, false, false, &[0x89], src, mem),
            _ => self.rm(None, true, false, &[0x89], src, mem),
        }
    }

    /// `mov [mem], imm` of `bytes` (1, 2, 4 or 8; the 8-byte form sign-extends a 32-bit
    /// immediate, the others take its low bytes).
    pub(crate) fn store_imm(&mut self, bytes: u8, mem: Mem, imm: i32) {
        match bytes {
            1 => {
                self.rm(None, false, false, &[0xc6], 0, mem);
                self.byte(imm as u8);
            }
            2 => {
                self.rm(Some(0x66), false, false, &[0xc7], 0, mem);
                self.bytes(&(imm as u16).to_le_bytes());
            }
            4 => {
                self.rm(None, false, false, &[0xc7], 0, mem);
                self.imm32(imm);
            }
            _ => {
                self.rm(None, true, false, &[0xc7], 0, mem);
                self.imm32(imm);
            }
        }
    }

    /// A zero- or sign-extending load of `bytes` into a 64-bit register.
    pub(crate) fn load_ext(&mut self, bytes: u8, signed: bool, dst: u8, mem: Mem) {
        match (bytes, signed) {
            (1, false) => self.rm(None, false, false, &[0x0f, 0xb6], dst, mem),
            (1, true) => self.rm(None, true, false, &[0x0f, 0xbe], dst, mem),
            (2, false) => self.rm(None, false, false, &[0x0f, 0xb7], dst, mem),
            (2, true) => self.rm(None, true, false, &[0x0f, 0xbf], dst, mem),
            (4, false) => self.rm(None, false, false, &[0x8b], dst, mem),
            (4, true) => self.rm(None, true, false, &[0x63], dst, mem),
            _ => self.rm(None, true, false, &[0x8b], dst, mem),
        }
    }

    /// `dst = imm`, in the shortest form.
    pub(crate) fn mov_ri(&mut self, dst: u8, imm: u64) {
        if let Ok(v) = u32::try_from(imm) {
            self.rex(false, 0, 0, dst, false);
            self.byte(0xb8 + (dst & 7));
            self.bytes(&v.to_le_bytes());
        } else if let Ok(v) = i32::try_from(imm as i64) {
            self.rr(None, true, false, &[0xc7], 0, dst);
            self.imm32(v);
        } else {
            self.rex(true, 0, 0, dst, false);
            self.byte(0xb8 + (dst & 7));
            self.bytes(&imm.to_le_bytes());
        }
    }

    /// `mov dword [mem], imm`.
    pub(crate) fn mov_mi32(&mut self, mem: Mem, imm: u32) {
        self.rm(None, false, false, &[0xc7], 0, mem);
        self.bytes(&imm.to_le_bytes());
    }

    pub(crate) fn alu_rr(&mut self, op: Alu, w: bool, dst: u8, src: u8) {
        self.rr(None, w, false, &[(op as u8) << 3 | 1], src, dst);
    }

    /// `op dst, [mem]`.
    pub(crate) fn alu_rm(&mut self, op: Alu, w: bool, dst: u8, mem: Mem) {
        self.rm(None, w, false, &[(op as u8) << 3 | 3], dst, mem);
    }

    pub(crate) fn imul_rri(&mut self, w: bool, dst: u8, src: u8, imm: i32) {
        if let Ok(imm) = i8::try_from(imm) {
            self.rr(None, w, false, &[0x6b], dst, src);
            self.byte(imm as u8);
        } else {
            self.rr(None, w, false, &[0x69], dst, src);
            self.imm32(imm);
        }
    }

    /// `op dst, imm` (sign-extended to 64 bits when `w`), with an 8-bit immediate when it fits.
    pub(crate) fn alu_ri(&mut self, op: Alu, w: bool, dst: u8, imm: i32) {
        if let Ok(imm) = i8::try_from(imm) {
            self.rr(None, w, false, &[0x83], op as u8, dst);
            self.byte(imm as u8);
        } else {
            self.rr(None, w, false, &[0x81], op as u8, dst);
            self.imm32(imm);
        }
    }

    /// `op qword/dword [mem], imm`, with an 8-bit immediate when it fits.
    pub(crate) fn alu_mi(&mut self, op: Alu, w: bool, mem: Mem, imm: i32) {
        if let Ok(imm) = i8::try_from(imm) {
            self.rm(None, w, false, &[0x83], op as u8, mem);
            self.byte(imm as u8);
        } else {
            self.rm(None, w, false, &[0x81], op as u8, mem);
            self.imm32(imm);
        }
    }

    pub(crate) fn shift_cl(&mut self, op: Shift, w: bool, dst: u8) {
        self.rr(None, w, false, &[0xd3], op as u8, dst);
    }

    pub(crate) fn shift_ri(&mut self, op: Shift, w: bool, dst: u8, imm: u8) {
        self.rr(None, w, false, &[0xc1], op as u8, dst);
        self.byte(imm);
    }

    pub(crate) fn imul_rr(&mut self, w: bool, dst: u8, src: u8) {
        self.rr(None, w, false, &[0x0f, 0xaf], dst, src);
    }

    pub(crate) fn unary(&mut self, op: Unary, w: bool, rm: u8) {
        self.rr(None, w, false, &[0xf7], op as u8, rm);
    }

    /// `cqo` (w) or `cdq`.
    pub(crate) fn sign_split(&mut self, w: bool) {
        if w {
            self.byte(0x48);
        }
        self.byte(0x99);
    }

    /// `movsxd dst, src32`.
    pub(crate) fn movsxd(&mut self, dst: u8, src: u8) {
        self.rr(None, true, false, &[0x63], dst, src);
    }

    /// `movsx dst64, src8/16` or `movzx dst32, src8/16`.
    pub(crate) fn extend_rr(&mut self, bytes: u8, signed: bool, dst: u8, src: u8) {
        let op = match (bytes, signed) {
            (1, false) => 0xb6,
            (1, true) => 0xbe,
            (_, false) => 0xb7,
            (_, true) => 0xbf,
        };
        self.rr(None, signed, true, &[0x0f, op], dst, src);
    }

    pub(crate) fn setcc(&mut self, cond: Cond, dst: u8) {
        self.rr(None, false, true, &[0x0f, 0x90 | cond as u8], 0, dst);
    }

    pub(crate) fn cmov(&mut self, cond: Cond, w: bool, dst: u8, src: u8) {
        self.rr(None, w, false, &[0x0f, 0x40 | cond as u8], dst, src);
    }

    pub(crate) fn test_rr(&mut self, w: bool, a: u8, b: u8) {
        self.rr(None, w, false, &[0x85], b, a);
    }

    pub(crate) fn bswap(&mut self, r: u8) {
        self.rex(true, 0, 0, r, false);
        self.bytes(&[0x0f, 0xc8 + (r & 7)]);
    }

    /// `lzcnt dst, src` (the operand's width for zero).
    pub(crate) fn lzcnt(&mut self, w: bool, dst: u8, src: u8) {
        self.rr(Some(0xf3), w, false, &[0x0f, 0xbd], dst, src);
    }

    /// `tzcnt dst, src` (the operand's width for zero).
    pub(crate) fn tzcnt(&mut self, w: bool, dst: u8, src: u8) {
        self.rr(Some(0xf3), w, false, &[0x0f, 0xbc], dst, src);
    }

    /// `rdgsbase r64`.
    pub(crate) fn rdgsbase(&mut self, r: u8) {
        self.rr(Some(0xf3), true, false, &[0x0f, 0xae], 1, r);
    }

    /// `wrgsbase r64`.
    pub(crate) fn wrgsbase(&mut self, r: u8) {
        self.rr(Some(0xf3), true, false, &[0x0f, 0xae], 3, r);
    }

    pub(crate) fn popcnt(&mut self, w: bool, dst: u8, src: u8) {
        self.rr(Some(0xf3), w, false, &[0x0f, 0xb8], dst, src);
    }

    /// `lea dst, [mem]`: a 64-bit sum.
    pub(crate) fn lea(&mut self, dst: u8, mem: Mem) {
        self.rm(None, true, false, &[0x8d], dst, mem);
    }

    /// `rorx dst, src, imm` (BMI2; VEX.LZ.F2.0F3A.W0/W1 F0 /r ib): a rotation into another
    /// register, flags untouched.
    pub(crate) fn rorx(&mut self, w: bool, dst: u8, src: u8, imm: u8) {
        self.byte(0xc4);
        self.byte((!dst >> 3 & 1) << 7 | 1 << 6 | (!src >> 3 & 1) << 5 | 0b00011);
        self.byte(u8::from(w) << 7 | 0b1111 << 3 | 0b11);
        self.byte(0xf0);
        self.byte(0xc0 | (dst & 7) << 3 | (src & 7));
        self.byte(imm);
    }

    /// `lea dst32, [mem]`: a 32-bit sum, zero-extended.
    pub(crate) fn lea32(&mut self, dst: u8, mem: Mem) {
        self.rm(None, false, false, &[0x8d], dst, mem);
    }

    /// `lea dst, [rip + label]`.
    pub(crate) fn lea_label(&mut self, dst: u8, label: Label) {
        self.rex(true, dst, 0, 0, false);
        self.byte(0x8d);
        self.byte((dst & 7) << 3 | 5);
        self.rel32(label);
    }

    pub(crate) fn jmp(&mut self, label: Label) {
        self.byte(0xe9);
        self.rel32(label);
    }

    pub(crate) fn jcc(&mut self, cond: Cond, label: Label) {
        self.bytes(&[0x0f, 0x80 | cond as u8]);
        self.rel32(label);
    }

    pub(crate) fn jmp_r(&mut self, r: u8) {
        self.rex(false, 0, 0, r, false);
        self.bytes(&[0xff, 0xe0 | (r & 7)]);
    }

    pub(crate) fn call_r(&mut self, r: u8) {
        self.rex(false, 0, 0, r, false);
        self.bytes(&[0xff, 0xd0 | (r & 7)]);
    }

    pub(crate) fn push(&mut self, r: u8) {
        self.rex(false, 0, 0, r, false);
        self.byte(0x50 + (r & 7));
    }

    pub(crate) fn pop(&mut self, r: u8) {
        self.rex(false, 0, 0, r, false);
        self.byte(0x58 + (r & 7));
    }

    pub(crate) fn ret(&mut self) {
        self.byte(0xc3);
    }

    /// Pads with `int3` to a multiple of `align`.
    pub(crate) fn align(&mut self, align: usize) {
        while self.buf.len() % align != 0 {
            self.byte(0xcc);
        }
    }

    /// Raw little-endian 32-bit data (the jump table).
    pub(crate) fn data32(&mut self, v: i32) {
        self.imm32(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected bytes from the Intel SDM's encoding tables, worked by hand.
    #[test]
    fn encodings_match_the_manual() {
        let mut a = Asm::default();
        a.mov_rr(true, RAX, R15); // mov rax, r15: REX.WR 89 /r, modrm 11 111 000
        assert_eq!(a.buf, [0x4c, 0x89, 0xf8]);
        let mut a = Asm::default();
        a.load(true, RCX, Mem::at(R15, -8)); // mov rcx, [r15 - 8]: 49 8b 4f f8 (mod 01, disp8)
        assert_eq!(a.buf, [0x49, 0x8b, 0x4f, 0xf8]);
        let mut a = Asm::default();
        a.load(true, RCX, Mem::at(R15, -4096)); // mov rcx, [r15 - 4096]: 49 8b 8f + disp32
        assert_eq!(a.buf, [0x49, 0x8b, 0x8f, 0x00, 0xf0, 0xff, 0xff]);
        let mut a = Asm::default();
        a.store(1, Mem::indexed(R15, RAX, 1, 0), RSI); // mov [r15 + rax], sil: 41 88 34 07 (mod 00)
        assert_eq!(a.buf, [0x41, 0x88, 0x34, 0x07]);
        let mut a = Asm::default();
        a.load(true, RAX, Mem::at(R13, 0)); // mov rax, [r13]: mod 00 would mean rip/no base: 49 8b 45 00
        assert_eq!(a.buf, [0x49, 0x8b, 0x45, 0x00]);
        let mut a = Asm::default();
        a.load(true, RAX, Mem::indexed(RBP, RCX, 8, 0)); // mov rax, [rbp + rcx*8]: 48 8b 44 cd 00
        assert_eq!(a.buf, [0x48, 0x8b, 0x44, 0xcd, 0x00]);
        let mut a = Asm::default();
        a.alu_ri(Alu::Add, true, RDI, 1); // add rdi, 1: 48 83 c7 01 (imm8)
        a.alu_ri(Alu::Cmp, false, RAX, 128); // cmp eax, 128: 81 f8 80 00 00 00 (imm32)
        assert_eq!(a.buf, [0x48, 0x83, 0xc7, 0x01, 0x81, 0xf8, 0x80, 0x00, 0x00, 0x00]);
        let mut a = Asm::default();
        a.load(true, R9, Mem::guest(RSI, 0x140)); // mov r9, gs:[esi + 0x140]: 65 67 4c 8b 8e + disp32
        assert_eq!(a.buf, [0x65, 0x67, 0x4c, 0x8b, 0x8e, 0x40, 0x01, 0x00, 0x00]);
        let mut a = Asm::default();
        a.load(true, RAX, Mem::gs(-4096)); // mov rax, gs:[-4096]: 65 48 8b 04 25 + disp32
        assert_eq!(a.buf, [0x65, 0x48, 0x8b, 0x04, 0x25, 0x00, 0xf0, 0xff, 0xff]);
        let mut a = Asm::default();
        a.store_imm(2, Mem::guest_at(0x2_0000), -1); // mov word gs:[0x20000], 0xffff: 65 67 66 c7 04 25
        assert_eq!(a.buf, [0x65, 0x67, 0x66, 0xc7, 0x04, 0x25, 0x00, 0x00, 0x02, 0x00, 0xff, 0xff]);
        let mut a = Asm::default();
        a.store(8, Mem::guest(R12, 8), R13); // mov gs:[r12d + 8], r13: 65 67 4d 89 6c 24 08
        assert_eq!(a.buf, [0x65, 0x67, 0x4d, 0x89, 0x6c, 0x24, 0x08]);
        let mut a = Asm::default();
        a.lzcnt(true, RAX, RCX); // f3 48 0f bd c1
        a.tzcnt(false, RAX, R9); // f3 41 0f bc c1
        assert_eq!(a.buf, [0xf3, 0x48, 0x0f, 0xbd, 0xc1, 0xf3, 0x41, 0x0f, 0xbc, 0xc1]);
        let mut a = Asm::default();
        a.rorx(true, RAX, RCX, 5); // rorx rax, rcx, 5: c4 e3 fb f0 c1 05
        a.rorx(false, R9, R12, 31); // rorx r9d, r12d, 31: c4 43 7b f0 cc 1f
        assert_eq!(a.buf, [0xc4, 0xe3, 0xfb, 0xf0, 0xc1, 0x05, 0xc4, 0x43, 0x7b, 0xf0, 0xcc, 0x1f]);
        let mut a = Asm::default();
        a.rdgsbase(RAX); // f3 48 0f ae c8
        a.wrgsbase(RDI); // f3 48 0f ae df
        assert_eq!(a.buf, [0xf3, 0x48, 0x0f, 0xae, 0xc8, 0xf3, 0x48, 0x0f, 0xae, 0xdf]);
        let mut a = Asm::default();
        a.mov_ri(RAX, u64::MAX); // mov rax, -1: 48 c7 c0 ff ff ff ff
        assert_eq!(a.buf, [0x48, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff]);
        let mut a = Asm::default();
        a.popcnt(true, RAX, R9); // popcnt rax, r9: f3 49 0f b8 c1
        assert_eq!(a.buf, [0xf3, 0x49, 0x0f, 0xb8, 0xc1]);
        let mut a = Asm::default();
        a.shift_cl(Shift::Sar, false, RAX); // sar eax, cl: d3 f8
        assert_eq!(a.buf, [0xd3, 0xf8]);
        let mut a = Asm::default();
        a.push(R12); // 41 54
        a.bswap(RAX); // 48 0f c8
        assert_eq!(a.buf, [0x41, 0x54, 0x48, 0x0f, 0xc8]);
    }
}
