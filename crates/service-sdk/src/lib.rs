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
//! and linked into a JAM blob by `guests/build.sh` (see `guests/README.md` and the workspace's
//! `SERVICE-TOOLCHAIN.md`), with the exports in the order the invocations expect:
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
//!   paper's error codes.
//! - [`refine`]: `historical_lookup` (6), `export` (7) and inner machines,
//!   [`refine::InnerMachine`]: `machine` (8), `peek` (9), `poke` (10), `pages` (11), `invoke` (12),
//!   `expunge` (13).
//! - [`accumulate`]: `bless` (14), `assign` (15), `designate` (16), `checkpoint` (17), `new` (18),
//!   `upgrade` (19), `transfer` (20), `eject` (21), `query` (22), `solicit` (23), `forget` (24),
//!   `yield` (25), `provide` (26), and the accumulation inputs decoded ([`accumulate::Input`]).
//! - [`raw`]: the calls as bare register functions, for what the wrappers do not cover.
//! - [`codec`]: the Appendix C encodings a service needs.
//! - [`allocator`]: size classes over a 32 MiB static arena; [`panic`]: log, then trap.
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
//! `jam-pvm-common` (0.1.29 on crates.io, with `jam-types`) builds on the same polkavm-derive 0.37,
//! but follows a later revision of the paper: it numbers the host calls differently (a
//! `grow_heap` call at 1 shifts `fetch` and everything after it by one) and encodes its types with
//! `jam-codec`. Against GP 0.7.2, which Orrery implements, its calls would reach the wrong host
//! functions. This crate follows GP 0.7.2 to the index, needs nothing beyond polkavm-derive, and
//! builds with the Debian toolchain of `SERVICE-TOOLCHAIN.md`.

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

#[doc(hidden)]
pub mod __private {
    pub use alloc::format;
    pub use alloc::vec::Vec;
    #[cfg(all(target_arch = "riscv64", target_feature = "e"))]
    pub use polkavm_derive::{default_abi, polkavm_export};
}
