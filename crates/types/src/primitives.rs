//! Fixed-size values used everywhere (GP 0.7.2 §3.8 and Appendix I).
//!
//! They are plain byte arrays and integers: the paper gives them no behaviour, and arrays keep the
//! codec and comparisons trivial.

/// A 32-byte blake2b-256 output, or any other 32-byte opaque value.
pub type Hash = [u8; 32];
pub type HeaderHash = Hash;
pub type StateRoot = Hash;
pub type WorkPackageHash = Hash;
pub type WorkReportHash = Hash;
pub type ErasureRoot = Hash;
pub type ExportsRoot = Hash;
pub type Entropy = Hash;
pub type CodeHash = Hash;

pub type TimeSlot = u32;
pub type ValidatorIndex = u16;
pub type CoreIndex = u16;
pub type ServiceId = u32;
pub type Gas = u64;
pub type Balance = u64;

pub type BandersnatchPublic = [u8; 32];
pub type Ed25519Public = [u8; 32];
pub type BlsPublic = [u8; 144];
pub type BandersnatchVrfSignature = [u8; 96];
pub type BandersnatchRingVrfSignature = [u8; 784];
pub type BandersnatchRingCommitment = [u8; 144];
pub type Ed25519Signature = [u8; 64];
pub type ValidatorMetadata = [u8; 128];
