//! `yuma-epoch`: a test probe, the arithmetic of the `subnet` service without the service. Refine
//! reads its payload as one epoch's input (`orrery_yuma::codec`'s encoding of an `EpochInput`), runs
//! `orrery_yuma::epoch` on it inside the PVM and outputs `E1(0) ‖ E(EpochOutput)`, or
//! `E1(1) ‖ E1(code)` when the epoch refuses the input (`orrery_yuma::codec::error_code`). A payload
//! that does not decode is a panic (refine's result is then a panic, not an output). Accumulate does
//! nothing: nothing is stored.
//!
//! `crates/yuma/tests/epoch.rs` runs every epoch of the subtensor scenarios both natively and through
//! this blob (Ψ_R) and requires the two outputs to be equal, so what the PVM computes is what the
//! native tests check against subtensor's numbers.

#![no_std]

extern crate alloc;

use alloc::vec::Vec;

use orrery_service_sdk::entry::{AccumulateArgs, RefineArgs};
use orrery_yuma::codec::{decode_input, encode_result};

fn refine(args: RefineArgs<'_>) -> Vec<u8> {
    let Some(input) = decode_input(args.payload) else {
        panic!("the payload ({} octets) is not an encoded epoch input", args.payload.len());
    };
    encode_result(&orrery_yuma::epoch(&input))
}

fn accumulate(_args: AccumulateArgs) -> Option<[u8; 32]> {
    None
}

orrery_service_sdk::refine!(refine);
orrery_service_sdk::accumulate!(accumulate);
