//! orrery-pvm against polkavm 0.37: the input chooses a program, registers, page map and memory
//! (`orrery_pvm_diff::generate`); both machines must end in the same state.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use orrery_pvm_diff::{compare, generate, polkavm_engine, Engine};

static ENGINE: OnceLock<Engine> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let engine = ENGINE.get_or_init(polkavm_engine);
    let case = generate(data);
    if let Err(why) = compare(engine, &case) {
        panic!("orrery-pvm and polkavm differ:\n{why}\n{case:?}");
    }
});
