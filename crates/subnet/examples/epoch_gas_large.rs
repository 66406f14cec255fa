//! Issue 19's larger size, 4096 miners × 256 validators, through the `subnet` service: sets the
//! subnet up through signed work items (4352 registrations, 256 rows of 4096 weights; a few
//! seconds on the recompiler), then prints one epoch-only accumulation's gas and time beside the
//! native epoch's time on the same stored state. A measurement, not a test (too slow for CI);
//! the 256 × 64 case is tested in `tests/epoch_gas.rs`.
//!
//! `cargo run --release -p orrery-subnet --example epoch_gas_large`
//!
//! The epoch's sparse matrices of 256 × 4096 cells outgrow the SDK's default 32 MiB heap arena
//! ("memory allocation of 65536 bytes failed"), so the service is built with the SDK's
//! `large-heap` feature (192 MiB). `ORRERY_PVM=interpreter` measures the interpreter.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

fn main() {
    let (miners, validators) = (4096usize, 256usize);
    let gas = 1_000_000_000_000;
    let started = Instant::now();
    let chain = common::big_subnet(miners, validators, gas);
    println!("set up in {:.1} s", started.elapsed().as_secs_f64());
    let input = chain.epoch_input(0, (miners + validators) as u16);
    let t = Instant::now();
    let native = orrery_yuma::epoch(&input).expect("well-formed");
    let native_time = t.elapsed();
    let t = Instant::now();
    let out = chain.dry_run(4, gas);
    let pvm_time = t.elapsed();
    let log = out
        .logs
        .iter()
        .map(|l| String::from_utf8_lossy(&l.message).into_owned())
        .find(|l| l.contains("epoch"));
    println!("exit {:?}, gas used {}; {}", out.exit.map(|e| e.exit), out.gas_used, log.unwrap_or_default());
    println!(
        "G_A {} ({:.0} x), full G_T 3500000000 ({:.2} x)",
        chain.spec.max_accumulate_gas,
        out.gas_used as f64 / chain.spec.max_accumulate_gas as f64,
        out.gas_used as f64 / 3.5e9
    );
    println!(
        "native epoch {:.1} ms, PVM accumulation {:.1} ms: {:.1} x ({} neurons' results)",
        native_time.as_secs_f64() * 1e3,
        pvm_time.as_secs_f64() * 1e3,
        pvm_time.as_secs_f64() / native_time.as_secs_f64(),
        native.neurons.len()
    );
}
