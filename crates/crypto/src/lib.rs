//! Hashing and signatures for JAM: blake2b-256, keccak-256, Ed25519 (ZIP-215) and Bandersnatch VRFs
//!
//! Status: not yet written; see the open issue that brings it.
