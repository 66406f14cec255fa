//! Writing JAM services and authorizers in Rust for the PVM (GP 0.7.2 Appendix B): typed wrappers
//! for every host call, entry-point macros that decode what each invocation passes, a global
//! allocator and a panic handler.
//!
//! ```ignore
//! #![no_std]
//! extern crate alloc;
//! use alloc::vec::Vec;
//! use orrery_service_sdk::{accumulate::inputs, entry::*, general::write};
//!
//! fn refine(args: RefineArgs<'_>) -> Vec<u8> {
//!     [b"Hello ".as_slice(), args.payload].concat()
//! }
//! fn accumulate(args: AccumulateArgs) -> Option<[u8; 32]> {
//!     for input in inputs(args.input_count) { /* … */ }
//!     None
//! }
//! orrery_service_sdk::refine!(refine);
//! orrery_service_sdk::accumulate!(accumulate);
//! ```
//!
//! A guest crate is `#![no_std]`, a `staticlib` built for polkavm-linker's 64-bit RISC-V target
//! and linked into a JAM blob by `orrery service build` (`guests/build.sh` for `guests/`; see
//! the workspace's `SERVICE-TOOLCHAIN.md` and `docs/SERVICES.md`), with the exports in the order the invocations expect:
//! [`entry::REFINE_EXPORT`] at instruction 0 and [`entry::ACCUMULATE_EXPORT`] at 5 for a service,
//! [`entry::IS_AUTHORIZED_EXPORT`] at 0 for an authorizer.
//!
//! # Modules
//!
//! - [`entry`]: [`refine!`], [`accumulate!`] and [`is_authorized!`], and the arguments they decode
//!   ([`entry::RefineArgs`] `E(c, i, w_s, ↕w_y, H(p))`, [`entry::AccumulateArgs`] `E(t, s, |i|)`,
//!   [`entry::IsAuthorizedArgs`] `E2(c)`).
//! - [`general`]: `gas` (0), `fetch` (1, every selector as [`general::Fetch`]), `lookup` (2),
//!   `read` (3), `write` (4), `info` (5) and JIP-1 `log` (100), with [`general::HostError`] for the
//!   paper's error codes, and [`general::validator_count`] (`V` from `fetch`'s constants).
//! - [`refine`]: `historical_lookup` (6), `export` (7) and inner machines,
//!   [`refine::InnerMachine`]: `machine` (8), `peek` (9), `poke` (10), `pages` (11), `invoke` (12),
//!   `expunge` (13).
//! - [`accumulate`]: `bless` (14), `assign` (15), `designate` (16), `checkpoint` (17), `new` (18),
//!   `upgrade` (19), `transfer` (20), `eject` (21), `query` (22), `solicit` (23), `forget` (24),
//!   `yield` (25), `provide` (26), and the accumulation inputs decoded ([`accumulate::Input`]).
//! - [`raw`]: the calls as bare register functions, for what the wrappers do not cover.
//! - [`codec`]: the Appendix C encodings a service needs.
//! - [`allocator`]: size classes over a 32 MiB static arena (192 MiB with the
//!   `large-heap` feature); [`panic`]: log, then trap.
//!
//! # On the PVM and off it
//!
//! The allocator, the panic handler and the host calls exist on the PVM target
//! (`target_arch = "riscv64"` with the `e` feature) only. Built for anything else the crate still
//! compiles, so it sits in the workspace and its pure parts (argument decoding, codec, the
//! arena) are tested by `cargo test`; a host call made there panics, since there is no host.
//!
//! # Why not Parity's `jam-pvm-common`
//!
//! Parity's guest API is `jam-pvm-common` (0.1.28 on docs.rs) over `jam-types` (0.1.26,
//! 2025-11-19). Its general host calls carry GP 0.7.2's indices (gas 0, fetch 1, lookup 2, read 3,
//! write 4, info 5, JIP-1 log 100), so numbering is not the issue. Orrery keeps its own SDK
//! because:
//!
//! - Version drift: those crates are released with PolkaJAM, not against a named revision of the
//!   paper. Every entry point they generate first calls `startup::load_protocol_parameters()`,
//!   which fetches the protocol parameters and `expect`s them to decode as *its* revision lays
//!   them out, and the arguments are decoded with `jam-codec` into its own `RefineParams` and
//!   `AccumulateParams`. Against a node that implements GP 0.7.2 to the letter, any drift there
//!   is a panic at the first instruction, outside the service author's code. This crate decodes
//!   GP 0.7.2's encodings itself (eq. B.5, B.9, C.33), checked by its own tests and by the
//!   invocation tests that run its guests on Orrery's Ψ_R and Ψ_A.
//! - Dependencies: `jam-types` brings `jam-codec`, `bounded-collections-next`, `atomic-traits`
//!   and `macro_rules_attribute`, all of which must build with `-Zbuild-std` under the Debian
//!   rustc 1.96 of `SERVICE-TOOLCHAIN.md` (no rustup nightly here). This crate needs only
//!   `polkavm-derive`, already in the workspace.
//! - The tool-chain does not depend on the choice: `orrery service build` recognises both APIs
//!   by their exports (`orrery_refine`/`orrery_accumulate` or `refine_ext`/`accumulate_ext`), so
//!   a service written on `jam-pvm-common` 0.1.28 builds unchanged into a GP blob (linked by
//!   polkavm-linker 0.30, since its allocator needs `sbrk`); `crates/cli/tests/parity.rs` builds
//!   and runs one, and the published `jam-bootstrap-service`, from crates.io.

#![no_std]
// Host calls are foreign calls and the heap is a static: this crate is where guests' unsafe code
// lives, each block with its reason.
#![allow(unsafe_code)]

extern crate alloc;

pub mod accumulate;
pub mod allocator;
pub mod codec;
pub mod entry;
pub mod general;
pub mod panic;
pub mod raw;
pub mod refine;
pub mod storage;

#[doc(hidden)]
pub mod __private {
    pub use alloc::format;
    pub use alloc::vec::Vec;
    #[cfg(all(target_arch = "riscv64", target_feature = "e"))]
    pub use polkavm_derive::{default_abi, polkavm_export};
}
