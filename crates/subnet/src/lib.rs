//! The `subnet` service's protocol (issue 19): what a work item carries, what refine hands to
//! accumulate, and what accumulate keeps in storage. The service itself is `services/subnet`; this
//! crate is shared by it (compiled for the PVM) and by the host code that builds work items and
//! reads the service's storage (tests, benches, tools).
//!
//! Encodings follow the Gray Paper's codec (GP 0.7.2 Appendix C): fixed-width little-endian
//! integers `E_n`, the compact natural `E` for lengths and counts, no padding. Every payload and
//! every refine output starts with [`VERSION`]; anything else is refused.
//!
//! - [`wire`]: the commands ([`wire::Command`]: create a subnet, register a neuron, set weights),
//!   each signed by an Ed25519 key over [`wire::signing_message`] (domain [`wire::DOMAIN`]); the
//!   payload ([`wire::encode_payload`]); refine's verdict per command ([`wire::Verdict`]) and the
//!   reasons a command is refused ([`wire::Refusal`]).
//! - [`store`]: the storage keys and records (subnet, neuron, epoch output, miners list).
//! - [`avs`]: the `subnet-avs` service's commands, records and rule (issue 19's demo: slash
//!   validators far from consensus in `restaking`, rate miners in `registry`).
//!
//! What is not here: signature verification (the service verifies with `ed25519-zebra`, host code
//! signs with it), the epoch arithmetic (`orrery-yuma`).
#![no_std]

extern crate alloc;

pub mod avs;
pub mod codec;
pub mod store;
pub mod wire;

/// The protocol version: the first octet of every payload and refine output.
pub const VERSION: u8 = 1;

/// At most this many neurons in one subnet: 4096 miners and 256 validators (issue 19's largest
/// size) with room to spare, so that a weight row's sum stays under the epoch's 2^31 bound.
pub const MAX_NEURONS: usize = 8192;
