//! The instruction set of GP 0.7.2 §A.5: every opcode with its name, its argument layout and whether
//! it ends a basic block.

/// How an instruction's operand octets are laid out (one table of GP §A.5 each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    /// §A.5.1: no operands.
    None,
    /// §A.5.2: one immediate.
    OneImm,
    /// §A.5.3: one register and an 8-octet immediate.
    OneRegExtImm,
    /// §A.5.4: two immediates.
    TwoImm,
    /// §A.5.5: one signed offset.
    OneOffset,
    /// §A.5.6: one register and one immediate.
    OneRegOneImm,
    /// §A.5.7: one register and two immediates.
    OneRegTwoImm,
    /// §A.5.8: one register, one immediate and one offset.
    OneRegImmOffset,
    /// §A.5.9: two registers.
    TwoReg,
    /// §A.5.10: two registers and one immediate.
    TwoRegOneImm,
    /// §A.5.11: two registers and one offset.
    TwoRegOneOffset,
    /// §A.5.12: two registers and two immediates.
    TwoRegTwoImm,
    /// §A.5.13: three registers.
    ThreeReg,
}

macro_rules! opcodes {
    ($($value:literal $variant:ident $name:literal $kind:ident $term:literal;)*) => {
        /// A valid opcode of GP 0.7.2 (the set U of §A.3). Its discriminant is the opcode octet.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum Opcode {
            $($variant = $value,)*
        }

        impl Opcode {
            /// Every opcode, in numeric order.
            pub const ALL: &'static [Opcode] = &[$(Opcode::$variant,)*];

            /// The opcode an octet names, if it names one.
            #[inline]
            pub const fn from_u8(byte: u8) -> Option<Opcode> {
                // A table, not a match: decoding calls this for every instruction.
                const TABLE: [Option<Opcode>; 256] = {
                    let mut table = [None; 256];
                    $(table[$value] = Some(Opcode::$variant);)*
                    table
                };
                TABLE[byte as usize]
            }

            /// The name the paper gives it.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Opcode::$variant => $name,)*
                }
            }

            /// Its operand layout.
            #[inline]
            pub const fn arg_kind(self) -> ArgKind {
                const TABLE: [ArgKind; 256] = {
                    let mut table = [ArgKind::None; 256];
                    $(table[$value] = ArgKind::$kind;)*
                    table
                };
                TABLE[self as usize]
            }

            /// Whether it belongs to T, the basic-block terminators of §A.3.
            #[inline]
            pub const fn is_terminator(self) -> bool {
                const TABLE: [bool; 256] = {
                    let mut table = [false; 256];
                    $(table[$value] = $term;)*
                    table
                };
                TABLE[self as usize]
            }
        }
    };
}

opcodes! {
    0 Trap "trap" None true;
    1 Fallthrough "fallthrough" None true;
    10 Ecalli "ecalli" OneImm false;
    20 LoadImm64 "load_imm_64" OneRegExtImm false;
    30 StoreImmU8 "store_imm_u8" TwoImm false;
    31 StoreImmU16 "store_imm_u16" TwoImm false;
    32 StoreImmU32 "store_imm_u32" TwoImm false;
    33 StoreImmU64 "store_imm_u64" TwoImm false;
    40 Jump "jump" OneOffset true;
    50 JumpInd "jump_ind" OneRegOneImm true;
    51 LoadImm "load_imm" OneRegOneImm false;
    52 LoadU8 "load_u8" OneRegOneImm false;
    53 LoadI8 "load_i8" OneRegOneImm false;
    54 LoadU16 "load_u16" OneRegOneImm false;
    55 LoadI16 "load_i16" OneRegOneImm false;
    56 LoadU32 "load_u32" OneRegOneImm false;
    57 LoadI32 "load_i32" OneRegOneImm false;
    58 LoadU64 "load_u64" OneRegOneImm false;
    59 StoreU8 "store_u8" OneRegOneImm false;
    60 StoreU16 "store_u16" OneRegOneImm false;
    61 StoreU32 "store_u32" OneRegOneImm false;
    62 StoreU64 "store_u64" OneRegOneImm false;
    70 StoreImmIndU8 "store_imm_ind_u8" OneRegTwoImm false;
    71 StoreImmIndU16 "store_imm_ind_u16" OneRegTwoImm false;
    72 StoreImmIndU32 "store_imm_ind_u32" OneRegTwoImm false;
    73 StoreImmIndU64 "store_imm_ind_u64" OneRegTwoImm false;
    80 LoadImmJump "load_imm_jump" OneRegImmOffset true;
    81 BranchEqImm "branch_eq_imm" OneRegImmOffset true;
    82 BranchNeImm "branch_ne_imm" OneRegImmOffset true;
    83 BranchLtUImm "branch_lt_u_imm" OneRegImmOffset true;
    84 BranchLeUImm "branch_le_u_imm" OneRegImmOffset true;
    85 BranchGeUImm "branch_ge_u_imm" OneRegImmOffset true;
    86 BranchGtUImm "branch_gt_u_imm" OneRegImmOffset true;
    87 BranchLtSImm "branch_lt_s_imm" OneRegImmOffset true;
    88 BranchLeSImm "branch_le_s_imm" OneRegImmOffset true;
    89 BranchGeSImm "branch_ge_s_imm" OneRegImmOffset true;
    90 BranchGtSImm "branch_gt_s_imm" OneRegImmOffset true;
    100 MoveReg "move_reg" TwoReg false;
    101 Sbrk "sbrk" TwoReg false;
    102 CountSetBits64 "count_set_bits_64" TwoReg false;
    103 CountSetBits32 "count_set_bits_32" TwoReg false;
    104 LeadingZeroBits64 "leading_zero_bits_64" TwoReg false;
    105 LeadingZeroBits32 "leading_zero_bits_32" TwoReg false;
    106 TrailingZeroBits64 "trailing_zero_bits_64" TwoReg false;
    107 TrailingZeroBits32 "trailing_zero_bits_32" TwoReg false;
    108 SignExtend8 "sign_extend_8" TwoReg false;
    109 SignExtend16 "sign_extend_16" TwoReg false;
    110 ZeroExtend16 "zero_extend_16" TwoReg false;
    111 ReverseBytes "reverse_bytes" TwoReg false;
    120 StoreIndU8 "store_ind_u8" TwoRegOneImm false;
    121 StoreIndU16 "store_ind_u16" TwoRegOneImm false;
    122 StoreIndU32 "store_ind_u32" TwoRegOneImm false;
    123 StoreIndU64 "store_ind_u64" TwoRegOneImm false;
    124 LoadIndU8 "load_ind_u8" TwoRegOneImm false;
    125 LoadIndI8 "load_ind_i8" TwoRegOneImm false;
    126 LoadIndU16 "load_ind_u16" TwoRegOneImm false;
    127 LoadIndI16 "load_ind_i16" TwoRegOneImm false;
    128 LoadIndU32 "load_ind_u32" TwoRegOneImm false;
    129 LoadIndI32 "load_ind_i32" TwoRegOneImm false;
    130 LoadIndU64 "load_ind_u64" TwoRegOneImm false;
    131 AddImm32 "add_imm_32" TwoRegOneImm false;
    132 AndImm "and_imm" TwoRegOneImm false;
    133 XorImm "xor_imm" TwoRegOneImm false;
    134 OrImm "or_imm" TwoRegOneImm false;
    135 MulImm32 "mul_imm_32" TwoRegOneImm false;
    136 SetLtUImm "set_lt_u_imm" TwoRegOneImm false;
    137 SetLtSImm "set_lt_s_imm" TwoRegOneImm false;
    138 ShloLImm32 "shlo_l_imm_32" TwoRegOneImm false;
    139 ShloRImm32 "shlo_r_imm_32" TwoRegOneImm false;
    140 SharRImm32 "shar_r_imm_32" TwoRegOneImm false;
    141 NegAddImm32 "neg_add_imm_32" TwoRegOneImm false;
    142 SetGtUImm "set_gt_u_imm" TwoRegOneImm false;
    143 SetGtSImm "set_gt_s_imm" TwoRegOneImm false;
    144 ShloLImmAlt32 "shlo_l_imm_alt_32" TwoRegOneImm false;
    145 ShloRImmAlt32 "shlo_r_imm_alt_32" TwoRegOneImm false;
    146 SharRImmAlt32 "shar_r_imm_alt_32" TwoRegOneImm false;
    147 CmovIzImm "cmov_iz_imm" TwoRegOneImm false;
    148 CmovNzImm "cmov_nz_imm" TwoRegOneImm false;
    149 AddImm64 "add_imm_64" TwoRegOneImm false;
    150 MulImm64 "mul_imm_64" TwoRegOneImm false;
    151 ShloLImm64 "shlo_l_imm_64" TwoRegOneImm false;
    152 ShloRImm64 "shlo_r_imm_64" TwoRegOneImm false;
    153 SharRImm64 "shar_r_imm_64" TwoRegOneImm false;
    154 NegAddImm64 "neg_add_imm_64" TwoRegOneImm false;
    155 ShloLImmAlt64 "shlo_l_imm_alt_64" TwoRegOneImm false;
    156 ShloRImmAlt64 "shlo_r_imm_alt_64" TwoRegOneImm false;
    157 SharRImmAlt64 "shar_r_imm_alt_64" TwoRegOneImm false;
    158 RotR64Imm "rot_r_64_imm" TwoRegOneImm false;
    159 RotR64ImmAlt "rot_r_64_imm_alt" TwoRegOneImm false;
    160 RotR32Imm "rot_r_32_imm" TwoRegOneImm false;
    161 RotR32ImmAlt "rot_r_32_imm_alt" TwoRegOneImm false;
    170 BranchEq "branch_eq" TwoRegOneOffset true;
    171 BranchNe "branch_ne" TwoRegOneOffset true;
    172 BranchLtU "branch_lt_u" TwoRegOneOffset true;
    173 BranchLtS "branch_lt_s" TwoRegOneOffset true;
    174 BranchGeU "branch_ge_u" TwoRegOneOffset true;
    175 BranchGeS "branch_ge_s" TwoRegOneOffset true;
    180 LoadImmJumpInd "load_imm_jump_ind" TwoRegTwoImm true;
    190 Add32 "add_32" ThreeReg false;
    191 Sub32 "sub_32" ThreeReg false;
    192 Mul32 "mul_32" ThreeReg false;
    193 DivU32 "div_u_32" ThreeReg false;
    194 DivS32 "div_s_32" ThreeReg false;
    195 RemU32 "rem_u_32" ThreeReg false;
    196 RemS32 "rem_s_32" ThreeReg false;
    197 ShloL32 "shlo_l_32" ThreeReg false;
    198 ShloR32 "shlo_r_32" ThreeReg false;
    199 SharR32 "shar_r_32" ThreeReg false;
    200 Add64 "add_64" ThreeReg false;
    201 Sub64 "sub_64" ThreeReg false;
    202 Mul64 "mul_64" ThreeReg false;
    203 DivU64 "div_u_64" ThreeReg false;
    204 DivS64 "div_s_64" ThreeReg false;
    205 RemU64 "rem_u_64" ThreeReg false;
    206 RemS64 "rem_s_64" ThreeReg false;
    207 ShloL64 "shlo_l_64" ThreeReg false;
    208 ShloR64 "shlo_r_64" ThreeReg false;
    209 SharR64 "shar_r_64" ThreeReg false;
    210 And "and" ThreeReg false;
    211 Xor "xor" ThreeReg false;
    212 Or "or" ThreeReg false;
    213 MulUpperSS "mul_upper_s_s" ThreeReg false;
    214 MulUpperUU "mul_upper_u_u" ThreeReg false;
    215 MulUpperSU "mul_upper_s_u" ThreeReg false;
    216 SetLtU "set_lt_u" ThreeReg false;
    217 SetLtS "set_lt_s" ThreeReg false;
    218 CmovIz "cmov_iz" ThreeReg false;
    219 CmovNz "cmov_nz" ThreeReg false;
    220 RotL64 "rot_l_64" ThreeReg false;
    221 RotL32 "rot_l_32" ThreeReg false;
    222 RotR64 "rot_r_64" ThreeReg false;
    223 RotR32 "rot_r_32" ThreeReg false;
    224 AndInv "and_inv" ThreeReg false;
    225 OrInv "or_inv" ThreeReg false;
    226 Xnor "xnor" ThreeReg false;
    227 Max "max" ThreeReg false;
    228 MaxU "max_u" ThreeReg false;
    229 Min "min" ThreeReg false;
    230 MinU "min_u" ThreeReg false;
}

/// How many instructions GP 0.7.2 defines (the size of U).
pub const INSTRUCTION_COUNT: usize = 139;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_every_instruction_of_the_paper_once() {
        assert_eq!(Opcode::ALL.len(), INSTRUCTION_COUNT);
        for (i, op) in Opcode::ALL.iter().enumerate() {
            assert_eq!(Opcode::from_u8(*op as u8), Some(*op));
            if i > 0 {
                assert!((Opcode::ALL[i - 1] as u8) < (*op as u8), "not in numeric order at {}", op.name());
            }
        }
        let valid = (0..=255u8).filter(|b| Opcode::from_u8(*b).is_some()).count();
        assert_eq!(valid, INSTRUCTION_COUNT);
    }

    #[test]
    fn terminators_are_the_set_t_of_the_paper() {
        // GP 0.7.2 §A.3 lists: trap, fallthrough, jump, jump_ind, load_imm_jump, load_imm_jump_ind,
        // the six two-register branches and the ten immediate branches.
        let names: Vec<&str> = Opcode::ALL.iter().filter(|o| o.is_terminator()).map(|o| o.name()).collect();
        assert_eq!(names.len(), 2 + 2 + 2 + 6 + 10);
        for name in ["trap", "fallthrough", "jump", "jump_ind", "load_imm_jump", "load_imm_jump_ind"] {
            assert!(names.contains(&name), "{name}");
        }
    }
}
