//! Hashing and signatures for JAM (GP 0.7.2 §3.8 and Appendix F, "Bandersnatch VRF"): blake2b-256, keccak-256,
//! Ed25519 with ZIP-215 verification, and (in [`bandersnatch`]) the Bandersnatch IETF and ring VRFs.
//!
//! Verification never panics on malformed keys or signatures; it returns `false` or an error.

#![forbid(unused_must_use)]

pub mod bandersnatch;
pub mod context;
mod ed25519;
mod hash;
mod key_cache;

pub use ed25519::{
    ed25519_verify, ed25519_verify_batch, prepare_ed25519_keys, Ed25519Batch, Ed25519BatchError, Ed25519Error,
};
pub use hash::{blake2b_256, blake2b_256_concat, keccak_256};
