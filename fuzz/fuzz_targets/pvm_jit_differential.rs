//! orrery-pvm-jit (the recompiler) against orrery-pvm (the interpreter): the input chooses a
//! program, registers, page map and memory (`orrery_pvm_diff::generate`) and a metering mode; both
//! must end in the same state (every exit across host calls, pc, gas, registers, accessible pages).

#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use orrery_pvm::{Access, Exit, Machine, Metering, Program, PAGE_SIZE};
use orrery_pvm_diff::generate;

/// Host calls a run continues across; the host's action changes a register and the gas.
const HOST_CALLS: usize = 4;

fn host(regs: &mut [u64; 13], gas: &mut i64, index: u64) {
    regs[7] ^= index.rotate_left(7);
    *gas -= (index % 3) as i64;
}

type State = (Vec<Exit>, u32, i64, [u64; 13], Vec<(u32, Access, Vec<u8>)>);

fuzz_target!(|data: &[u8]| {
    let Some((&mode, data)) = data.split_first() else { return };
    let metering = if mode % 2 == 0 { Metering::Block } else { Metering::Instruction };
    let case = generate(data);
    let Ok(program) = Program::from_blob(&case.program_blob()) else { return };
    let program = Arc::new(program);

    let mut m = Machine::new(Arc::clone(&program), case.pc, case.gas);
    m.set_metering(metering);
    *m.regs_mut() = case.regs;
    let compiled = Arc::new(orrery_pvm_jit::compile(Arc::clone(&program)).expect("compiles"));
    let mut j = orrery_pvm_jit::Instance::new(compiled, case.pc, case.gas).expect("sandbox");
    j.set_metering(metering);
    *j.regs_mut() = case.regs;
    for region in &case.regions {
        let access = if region.writable { Access::ReadWrite } else { Access::ReadOnly };
        m.memory.set_access(region.address, region.length, access);
        j.memory_mut().set_access(region.address, region.length, access);
    }
    for (address, bytes) in &case.memory {
        m.memory.write_initial(*address, bytes).expect("mapped");
        j.memory_mut().write_initial(*address, bytes).expect("mapped");
    }

    let mut exits = Vec::new();
    loop {
        let exit = m.run();
        exits.push(exit);
        match exit {
            Exit::HostCall(index) if exits.len() <= HOST_CALLS => {
                let mut gas = m.gas();
                host(m.regs_mut(), &mut gas, index);
                m.set_gas(gas);
            }
            _ => break,
        }
    }
    let pages = m
        .memory
        .accessible_pages()
        .map(|(p, a)| (p, a, m.memory.read_vec(p, PAGE_SIZE).unwrap_or_default()))
        .collect();
    let want: State = (exits, m.pc(), m.gas(), *m.regs(), pages);

    let mut exits = Vec::new();
    loop {
        let exit = j.run();
        exits.push(exit);
        match exit {
            Exit::HostCall(index) if exits.len() <= HOST_CALLS => {
                let mut gas = j.gas();
                host(j.regs_mut(), &mut gas, index);
                j.set_gas(gas);
            }
            _ => break,
        }
    }
    let pages = j
        .memory()
        .accessible_pages()
        .map(|(p, a)| (p, a, j.memory().read_vec(p, PAGE_SIZE).unwrap_or_default()))
        .collect();
    let got: State = (exits, j.pc(), j.gas(), *j.regs(), pages);

    assert_eq!(got, want, "recompiler and interpreter differ ({metering:?}):\n{case:?}");
});
