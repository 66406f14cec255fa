//! `restaking-cases`: a test probe, not a service to deploy. Its refine runs one of EigenLayer's
//! unit-test cases that `orrery-restaking-math` ports (`crates/restaking-math/cases`, the same
//! files the native tests run), chosen by the payload `E2(index)` into `cases::ALL`, and outputs
//! the case's name; a number that differs from the contract test's panics, and the work item's
//! result is a panic. `crates/restaking-math/tests/pvm.rs` runs every case through Ψ_R, so the
//! arithmetic the `restaking` service runs gives the reference numbers inside the PVM too.
//! Accumulate does nothing.

#![no_std]

extern crate alloc;

#[path = "../../../crates/restaking-math/cases/mod.rs"]
#[allow(dead_code)]
mod cases;

orrery_service_sdk::case_probe!(cases::ALL);
