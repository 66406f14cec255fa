//! A recompiler for the PVM (GP 0.7.2 Appendix A): orrery-pvm's pre-decoded program translated to
//! x86-64 machine code, run with the same state and the same exits as orrery-pvm's interpreter,
//! which stays the reference.
//!
//! Status (issue 18): every one of the 139 instructions is translated; all 307 `pvm/` vectors pass
//! through it (orrery-conformance's `pvm` family on the recompiler, `tests/backends.rs` there); a
//! differential test runs generated programs (orrery-pvm-diff's generator and its
//! harness `run_guest`, with host calls, faults, `sbrk` and both metering
//! modes) on both and compares every exit, register, the gas, the program counter and every
//! accessible page (4000 per metering mode in the tests; 1,000,000 per mode in a long run of
//! `scripts/pvm-jit-differential.sh`, all equal); real blobs run in lockstep with the interpreter
//! across host calls. orrery-invocation runs Ψ_I, Ψ_R, Ψ_A and inner machines on it by default on
//! x86-64 Linux (`Backend`, `--pvm`, `ORRERY_PVM`), its code from [`CodeCache::global`]; the
//! storage and preimages traces import to the vectors' roots on it. Not here: register allocation
//! beyond a fixed assignment of the thirteen guest registers to host registers (so the compute
//! guest runs at about polkavm 0.37's speed, not faster; docs/performance/pvm-jit.md). The
//! differential cargo-fuzz target is `fuzz/fuzz_targets/pvm_jit_differential.rs`;
//! `scripts/pvm-jit-differential.sh` is the long run.
//!
//! - [`compile`] turns an [`orrery_pvm::Program`] into [`Compiled`] code, shareable between machines.
//! - [`Instance`] is a machine running it: registers, gas, program counter, a [`Sandbox`] memory,
//!   [`orrery_pvm::Exit`] on every exit, resumable after host calls and page faults exactly as
//!   [`orrery_pvm::Machine`] is, in both [`orrery_pvm::Metering`] modes. It implements
//!   [`orrery_pvm::Guest`] (and the sandbox [`orrery_pvm::GuestMemory`]), so the host calls, Y and
//!   Ψ_M that orrery-pvm writes over that trait drive it unchanged: [`instantiate`] and [`invoke`]
//!   are Y and Ψ_M (§A.7–A.8) on it.
//! - [`CodeCache`] keeps compiled programs by code hash, bounded in bytes (least recently used
//!   out first), a hit checked against the program itself.
//!
//! # Why our own single-pass emitter
//!
//! Blobs arrive with work packages and are compiled on the way to running them, so compile time per
//! kilobyte counts as much as run time. The choices were:
//! - a compiler backend (Cranelift): SSA construction, register allocation and optimisation cost
//!   tens to hundreds of microseconds per kilobyte of input, an order of magnitude above a template
//!   emitter, for code whose shape (a register machine with explicit gas and checked memory) gains
//!   little from those optimisations; it is also the largest dependency of the three;
//! - an encoder library (iced-x86's encoder, dynasmrt): no optimisation, so the same generated code
//!   as our own, for a general encoder's per-instruction validation and a dependency;
//! - a hand-written encoder of the ~40 instruction forms the templates use (`asm`): one pass, no
//!   intermediate form, tested against the manual's encodings; what polkavm does as well.
//!
//! We chose the last. The other two were reasoned about, not measured. Ours compiles the 103 KiB of
//! code of the vectors' bootstrap service in about 1.0 ms (9–12 µs per KiB across guests), 1.5–1.9×
//! polkavm 0.37's time for the same guests (docs/performance/pvm-jit.md).
//!
//! # How it runs
//!
//! See `compile` for the register assignment and gas, `sys` for the sandbox. Guest memory is a
//! reserved 4 GiB range with a guard after it, made the thread's GS segment while compiled code
//! runs; a guest address is always a 32-bit value (32-bit address arithmetic under `gs:`) added to
//! the range's base, so no guest address reaches host memory. Each guest page's host protection
//! follows its access (none, read-only, read-write) while compiled code runs, so a guest load or
//! store is one host instruction and the hardware refuses what the guest may not do; a
//! process-wide SIGSEGV handler then redoes that access from its recorded site exactly as the
//! interpreter's memory does (a page fault with the page's address, a panic below 2^16, or the
//! access itself when it only wrapped past 2^32). Faults that are not guest accesses go to the
//! handler installed before ours (Rust's stack-overflow report, or the default action). A library
//! that installs its own SIGSEGV handler later without passing faults on would break this; none in
//! the workspace does. The recompiler needs x86-64-v3's BMI1, BMI2 and LZCNT (elsewhere `compile`
//! refuses and orrery-invocation runs the interpreter); where the kernel does not let user code set
//! the GS base (FSGSBASE, Linux 5.9 and later) it is set by `arch_prctl` around each run instead.
//!
//! The crate is built only for x86-64 Linux; elsewhere it is empty and the interpreter is the
//! only PVM.

#![cfg(all(target_arch = "x86_64", target_os = "linux"))]
#![forbid(unused_must_use)]

mod asm;
mod cache;
mod compile;
mod instance;
mod sys;

pub use cache::{CacheStats, CodeCache, GLOBAL_CAPACITY};
pub use compile::{compile, CompileError, Compiled};
pub use instance::{instantiate, invoke, invoke_detailed, Instance, InstanceError};
pub use sys::Sandbox;
