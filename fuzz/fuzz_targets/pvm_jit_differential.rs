//! orrery-pvm-jit (the recompiler) against orrery-pvm (the interpreter): the input chooses a
//! program, registers, page map and memory (`orrery_pvm_diff::generate`), a metering mode and
//! whether `move_reg` becomes `sbrk` with a heap; both must end in the same state (every exit
//! across host calls, pc, gas, registers, accessible pages), through the same harness as the
//! crate's differential test (`orrery_pvm_diff::run_guest`).

#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use orrery_pvm::{Machine, Metering, Program};
use orrery_pvm_diff::{generate, run_guest, with_sbrk, Pages};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, data)) = data.split_first() else { return };
    let metering = if mode % 2 == 0 { Metering::Block } else { Metering::Instruction };
    let mut case = generate(data);
    let heap = mode & 2 != 0 && with_sbrk(&mut case);
    let Ok(program) = Program::from_blob(&case.program_blob()) else { return };
    let program = Arc::new(program);

    let mut m = Machine::new(Arc::clone(&program), case.pc, case.gas);
    let want = run_guest(&mut m, &case, metering, heap, Pages::All);
    let compiled = Arc::new(orrery_pvm_jit::compile(Arc::clone(&program)).expect("compiles"));
    let mut j = orrery_pvm_jit::Instance::new(compiled, case.pc, case.gas).expect("sandbox");
    let got = run_guest(&mut j, &case, metering, heap, Pages::All);

    assert_eq!(got, want, "recompiler and interpreter differ ({metering:?}, heap {heap}):\n{case:?}");
});
