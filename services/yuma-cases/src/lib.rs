//! `yuma-cases`: a test probe, not a service to deploy. Its refine runs one of subtensor's math
//! and coinbase test cases that `orrery-yuma` ports (`crates/yuma/cases`, the same files the
//! native tests run), chosen by the payload `E2(index)` into `cases::ALL`, and outputs the case's
//! name; a number that differs from subtensor's panics, and the work item's result is a panic.
//! `crates/yuma/tests/cases_pvm.rs` runs every case through Ψ_R, so the arithmetic the `subnet`
//! service runs gives the reference numbers inside the PVM too. Accumulate does nothing.

#![no_std]

extern crate alloc;

#[path = "../../../crates/yuma/cases/mod.rs"]
#[allow(dead_code)]
mod cases;

orrery_service_sdk::case_probe!(cases::ALL);
