//! The Polkadot Virtual Machine of GP 0.7.2 Appendix A: program decoding, an interpreter with gas,
//! paged memory and host calls, and the standard program initialisation of §A.7.
//!
//! Status: interpreter complete for the 139 instructions of GP 0.7.2 (listed in [`Opcode::ALL`]),
//! checked against the 307 `pvm/` vectors, polkavm 0.37 (differential tests) and real service blobs.
//!
//! - [`Program`] decodes a program blob (`deblob`, §A.1) and pre-decodes it into a compact instruction
//!   array indexed by slot, with branch and jump-table targets resolved once.
//! - [`Machine`] runs it: 13 registers, a gas counter, a sparse 32-bit [`Memory`] of 4 KiB pages, and
//!   exits ([`Exit`]) for halt, panic, out-of-gas, page faults and host calls, after which the host
//!   may change the state and resume.
//! - [`Host`] and [`Machine::run_with_host`] are Ψ_H (§A.6): the host-call loop, knowing nothing
//!   about services.
//! - [`StandardProgram`] is Y (§A.7): a service blob's memory layout and registers for an invocation
//!   with argument data.
//!
//! Gas. Every instruction costs 1 (the vectors' and traces' model). The vectors charge it per basic
//! block on entry (a page fault in the first instruction of a two-instruction block leaves 2 less
//! gas), as polkavm does, so that is what this interpreter does: entering a block charges all of its
//! instructions; a run that cannot pay for the next block stops with [`Exit::OutOfGas`] at that
//! block's start with the gas left untouched, so it can resume once gas is added.
//!
//! Where the vectors and the paper differ (the vectors win): after a halt or a panic the program
//! counter is the instruction that caused it, not 0; gas is per block, as above.

#![forbid(unused_must_use)]

mod error;
mod host;
mod init;
mod machine;
mod memory;
mod opcode;
mod program;

pub use error::{BlobError, ProgramError};
pub use host::{Host, HostContext, HostOutcome, NoHost};
pub use init::{invoke, invoke_program, InvocationResult, Layout, StandardProgram, MAX_INPUT, ZONE_SIZE};
pub use machine::{Exit, Machine, HALT_ADDRESS, REGISTER_COUNT};
pub use memory::{Access, Memory, MemoryError, PAGE_SIZE};
pub use opcode::{ArgKind, Opcode, INSTRUCTION_COUNT};
pub use program::Program;
