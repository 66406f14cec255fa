//! The Polkadot Virtual Machine of GP 0.7.2 Appendix A: program decoding, an interpreter with gas,
//! paged memory and host calls, and the standard program initialisation of §A.7.
//!
//! Status: complete for GP 0.7.2. All 307 `pvm/` vectors pass; the real service blobs of the vectors
//! run to their first host call as worked out by hand; every behaviour is compared with polkavm 0.37
//! by the `orrery-pvm-diff` crate (property test and fuzz target).
//!
//! - [`Program`] decodes a program blob (`deblob`, §A.1) and pre-decodes it once into a compact
//!   array of instructions (16 bytes each: opcode, clamped registers, immediates, branch targets
//!   resolved to array indices, and the gas cost of the basic block entered there). The interpreter
//!   walks that array; a recompiler can consume the same form.
//! - [`Machine`] runs it: 13 registers in a fixed array, a gas counter, a sparse 32-bit [`Memory`]
//!   of 4 KiB pages (inaccessible, read-only or read-write; nothing is allocated for pages never
//!   written), and exits ([`Exit`]) for halt, panic, out-of-gas, page faults (with the page's
//!   address) and host calls, after which a host may change registers, memory and gas and resume.
//! - [`Host`] and [`run_with_host`] are Ψ_H (§A.6): the host-call loop, knowing nothing about
//!   services. [`invoke`] is Ψ_M (§A.8). Both, Y and the host calls' [`HostContext`] are written
//!   over [`Guest`] (registers, gas, a [`GuestMemory`] with page-access checks, run), which this
//!   interpreter's [`Machine`] implements and a recompiler (`orrery-pvm-jit`) implements too.
//! - [`StandardProgram`] is Y (§A.7): a service blob's read-only data, read-write data, heap, stack
//!   and arguments laid out, and the registers set, for an invocation.
//!
//! # Instructions
//!
//! GP 0.7.2 defines 139 instructions ([`INSTRUCTION_COUNT`], [`Opcode::ALL`]); all are handled:
//! - no arguments: `trap` 0, `fallthrough` 1;
//! - one immediate: `ecalli` 10; one register and a 64-bit immediate: `load_imm_64` 20;
//! - two immediates: `store_imm_u8/u16/u32/u64` 30–33; one offset: `jump` 40;
//! - one register and one immediate: `jump_ind` 50, `load_imm` 51, `load_u8/i8/u16/i16/u32/i32/u64`
//!   52–58, `store_u8/u16/u32/u64` 59–62;
//! - one register and two immediates: `store_imm_ind_u8/u16/u32/u64` 70–73;
//! - one register, an immediate and an offset: `load_imm_jump` 80, `branch_{eq,ne,lt_u,le_u,ge_u,
//!   gt_u,lt_s,le_s,ge_s,gt_s}_imm` 81–90;
//! - two registers: `move_reg` 100, `sbrk` 101, `count_set_bits_64/32` 102–103,
//!   `leading_zero_bits_64/32` 104–105, `trailing_zero_bits_64/32` 106–107, `sign_extend_8/16`
//!   108–109, `zero_extend_16` 110, `reverse_bytes` 111;
//! - two registers and one immediate: `store_ind_u8/u16/u32/u64` 120–123,
//!   `load_ind_u8/i8/u16/i16/u32/i32/u64` 124–130, `add_imm_32` 131, `and_imm` 132, `xor_imm` 133,
//!   `or_imm` 134, `mul_imm_32` 135, `set_lt_u_imm` 136, `set_lt_s_imm` 137, `shlo_l_imm_32` 138,
//!   `shlo_r_imm_32` 139, `shar_r_imm_32` 140, `neg_add_imm_32` 141, `set_gt_u_imm` 142,
//!   `set_gt_s_imm` 143, `shlo_l/shlo_r/shar_r_imm_alt_32` 144–146, `cmov_iz_imm` 147,
//!   `cmov_nz_imm` 148, `add_imm_64` 149, `mul_imm_64` 150, `shlo_l/shlo_r/shar_r_imm_64` 151–153,
//!   `neg_add_imm_64` 154, `shlo_l/shlo_r/shar_r_imm_alt_64` 155–157, `rot_r_64_imm(_alt)`
//!   158–159, `rot_r_32_imm(_alt)` 160–161;
//! - two registers and one offset: `branch_{eq,ne,lt_u,lt_s,ge_u,ge_s}` 170–175;
//! - two registers and two immediates: `load_imm_jump_ind` 180;
//! - three registers: `add/sub/mul_32` 190–192, `div_u/div_s/rem_u/rem_s_32` 193–196,
//!   `shlo_l/shlo_r/shar_r_32` 197–199, `add/sub/mul_64` 200–202, `div_u/div_s/rem_u/rem_s_64`
//!   203–206, `shlo_l/shlo_r/shar_r_64` 207–209, `and` 210, `xor` 211, `or` 212,
//!   `mul_upper_s_s/u_u/s_u` 213–215, `set_lt_u/s` 216–217, `cmov_iz/nz` 218–219,
//!   `rot_l_64/32` 220–221, `rot_r_64/32` 222–223, `and_inv` 224, `or_inv` 225, `xnor` 226,
//!   `max/max_u/min/min_u` 227–230.
//!
//! # Gas
//!
//! Every instruction costs 1, as in the vectors and traces. The vectors charge it per basic block on
//! entry (a page fault in the first instruction of a two-instruction block leaves two less gas), as
//! polkavm does, so this interpreter does the same: entering a block charges all of its
//! instructions. A run that cannot pay for the next block stops with [`Exit::OutOfGas`] at that
//! block's start with the gas left untouched, so that it can resume once gas is added; [`invoke`]
//! counts such a run as having used all its gas, as the paper's Ψ_M does. A run started (or moved
//! with [`Machine::set_pc`]) in the middle of a block pays for the rest of that block.
//!
//! # Where the vectors and the paper differ (the vectors win)
//!
//! - After a halt or a panic the program counter is the instruction that caused it, not 0.
//! - Gas is charged per basic block, as above, not per instruction (the paper also leaves the gas of
//!   a faulting instruction unspecified).
//!
//! `sbrk` is not exercised by the vectors. The paper asks for the least x ≥ h (the heap base) such
//! that [x, x + ω_A) is not readable and becomes writable; read as intended, x is the break, the
//! first unreadable address at or above h. The requested bytes from x become read-write (whole
//! pages) and x is returned; a request past the heap's limit (one zone below the stack for a
//! standard program) returns 0 and changes nothing. Guests such as the vectors' services call
//! `sbrk(0)` for the break and test later results only against zero.

#![forbid(unused_must_use)]

mod error;
mod host;
mod init;
mod machine;
mod memory;
mod opcode;
mod program;

pub use error::{BlobError, ProgramError};
pub use host::{run_with_host, Guest, GuestMemory, Host, HostContext, HostOutcome, NoHost};
pub use init::{
    invoke, invoke_program, invoke_program_detailed, run_instantiated, ExitDetail, InvocationResult, Layout,
    StandardProgram, MAX_INPUT, ZONE_SIZE,
};
pub use machine::{Exit, Machine, Metering, HALT_ADDRESS, REGISTER_COUNT};
pub use memory::{Access, Memory, MemoryError, PAGE_SIZE};
pub use opcode::{ArgKind, Opcode, INSTRUCTION_COUNT};
pub use program::{Instruction, Program, Target};
