//! A service that does its work in refine: refine hashes the payload with BLAKE2b-256 (the `blake2`
//! crate, compiled for the PVM); accumulate stores the digest under `digest`, the payload's length
//! under `length` (`E4`), and counts the payloads hashed under `count` (`E4`).

#![no_std]

extern crate alloc;

use alloc::vec::Vec;

use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};
use orrery_service_sdk::accumulate::{inputs, Input, WorkResult};
use orrery_service_sdk::entry::{AccumulateArgs, RefineArgs};
use orrery_service_sdk::general::{read, write, Level, Service};

/// Refine's output: `BLAKE2b-256(payload) ‖ E4(|payload|)`.
fn refine(args: RefineArgs<'_>) -> Vec<u8> {
    let digest = Blake2b::<U32>::digest(args.payload);
    let mut out = digest.to_vec();
    out.extend_from_slice(&(args.payload.len() as u32).to_le_bytes());
    out
}

fn accumulate(args: AccumulateArgs) -> Option<[u8; 32]> {
    for input in inputs(args.input_count) {
        let Input::Operand(operand) = input else { continue };
        let WorkResult::Ok(output) = operand.result else { continue };
        let (Some(digest), Some(length)) = (output.get(..32), output.get(32..36)) else { continue };
        write(b"digest", digest).expect("the balance covers the storage");
        write(b"length", length).expect("the balance covers the storage");
        let count = read(Service::Me, b"count").and_then(|v| v.try_into().ok()).map_or(0, u32::from_le_bytes);
        write(b"count", &(count + 1).to_le_bytes()).expect("the balance covers the storage");
        orrery_service_sdk::log!(Level::Info, "payload {} hashed", count + 1);
    }
    None
}

orrery_service_sdk::refine!(refine);
orrery_service_sdk::accumulate!(accumulate);
