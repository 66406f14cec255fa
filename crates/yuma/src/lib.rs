//! Bittensor's Yuma consensus, the arithmetic of one subnet epoch, exact to opentensor/subtensor.
//!
//! Subtensor (`pallets/subtensor/src/epoch/run_epoch.rs` and `epoch/math.rs`) computes in the fixed-point
//! types of the `substrate-fixed` crate: I32F32 for proportions, I64F64 for stake normalization, I96F32 for
//! the emission. This crate uses the same crate at the same version (0.6.0, the tag subtensor pins), so
//! every product, quotient, conversion and rounding is the same bit for bit; what we rewrote is the
//! algorithm around them, kept to subtensor's order of operations.
//!
//! What is here:
//! - [`math`]: the vector and matrix operations of the epoch (dense and sparse), the stake-weighted median,
//!   the bond moving averages, under subtensor's names;
//! - [`epoch::epoch`]: one epoch as a pure function of the subnet's state ([`epoch::EpochInput`]):
//!   activity, stake normalization and permits, weight masking, consensus at κ, clipping, validator trust,
//!   incentive, bonds with either the legacy EMA rule or Yuma 3 (with or without liquid alpha), dividends
//!   and the emission shares;
//! - [`emission`]: the owner's cut and the miners'/validators' halves around the epoch;
//! - [`codec`]: the epoch's input, output and result as GP-style octets (fixed-point values by their
//!   raw bits), for running the same epoch inside a PVM service and reading its result back.
//!
//! What is not: subtensor's dense epoch (a test-only twin of the sparse one), root-network dividends,
//! parent/child stake and delegate takes, the storage around all this. Inputs are checked (uids in range,
//! no duplicate columns, stakes and weight rows whose sums fit subtensor's fixed-point types); an input
//! that passes always yields an output: the arithmetic saturates or yields zero where subtensor's does,
//! and never panics.
//!
//! `no_std` with `alloc`, so the same code runs natively and inside PVM services.
#![no_std]

extern crate alloc;

pub mod codec;
pub mod emission;
pub mod epoch;
pub mod math;

pub use epoch::{epoch, EpochError, EpochInput, EpochOutput, EpochParams, Neuron, NeuronOutput};
pub use substrate_fixed::types::{I32F32, I64F64, I96F32, U96F32};
