//! The `compute-service` guest: the `compute` guest's workload as a service. Refine reads `E4(n)`
//! from its payload (8192 blocks, one MiB, when shorter) and returns BLAKE2b-256 of `n` × 128
//! octets of the xorshift64 stream (`../compute/src/work.rs`, shared). Accumulate does nothing.

#![no_std]

extern crate alloc;

use alloc::vec::Vec;

use orrery_service_sdk::entry::{AccumulateArgs, RefineArgs};

#[path = "../../compute/src/work.rs"]
mod work;

fn refine(args: RefineArgs<'_>) -> Vec<u8> {
    let blocks = match args.payload {
        [a, b, c, d, ..] => u32::from_le_bytes([*a, *b, *c, *d]).max(1),
        _ => 8192,
    };
    work::blake2b_256_of_stream(u64::from(blocks)).to_vec()
}

fn accumulate(_: AccumulateArgs) -> Option<[u8; 32]> {
    None
}

orrery_service_sdk::refine!(refine);
orrery_service_sdk::accumulate!(accumulate);
