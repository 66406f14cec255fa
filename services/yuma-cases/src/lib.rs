//! `yuma-cases`: a test probe, not a service to deploy. Its refine runs one of subtensor's math
//! and coinbase test cases that `orrery-yuma` ports (`crates/yuma/cases`, the same files the
//! native tests run), chosen by the payload `E2(index)` into `cases::ALL`, and outputs the case's
//! name; a number that differs from subtensor's panics, and the work item's result is a panic.
//! `crates/yuma/tests/cases_pvm.rs` runs every case through Ψ_R, so the arithmetic the `subnet`
//! service runs gives the reference numbers inside the PVM too. Accumulate does nothing.

#![no_std]

extern crate alloc;

use alloc::vec::Vec;

use orrery_service_sdk::entry::{AccumulateArgs, RefineArgs};

#[path = "../../../crates/yuma/cases/mod.rs"]
#[allow(dead_code)]
mod cases;

fn refine(args: RefineArgs<'_>) -> Vec<u8> {
    let index = match args.payload {
        [a, b] => usize::from(u16::from_le_bytes([*a, *b])),
        _ => panic!("the payload is E2(case index), not {} octets", args.payload.len()),
    };
    let Some((name, case)) = cases::ALL.get(index) else {
        panic!("no case {index}: there are {}", cases::ALL.len());
    };
    case();
    name.as_bytes().to_vec()
}

fn accumulate(_: AccumulateArgs) -> Option<[u8; 32]> {
    None
}

orrery_service_sdk::refine!(refine);
orrery_service_sdk::accumulate!(accumulate);
