//! Gas metering: per block (the `pvm/` vectors) against per instruction (Ψ_M in the block-import
//! traces). Expected figures are counted by hand from the programs below.

mod common;

use std::sync::Arc;

use orrery_pvm::{Exit, Machine, Metering, Program};

use common::program;

const LOAD_IMM_R1: &[u8] = &[51, 1, 1];
const LOAD_IMM_R2: &[u8] = &[51, 2, 2];
const LOAD_IMM_R3: &[u8] = &[51, 3, 3];
const ECALLI_7: &[u8] = &[10, 7];
/// `load_u8 r2, 0`: an access below 2^16, a panic.
const LOAD_U8_LOW: &[u8] = &[52, 2];
const TRAP: &[u8] = &[0];
const FALLTHROUGH: &[u8] = &[1];

fn machine(program: &Arc<Program>, gas: i64, metering: Metering) -> Machine {
    let mut machine = Machine::new(Arc::clone(program), 0, gas);
    machine.set_metering(metering);
    machine
}

/// One block of five: load_imm, load_imm, ecalli, load_imm, trap.
fn with_host_call() -> Arc<Program> {
    program(&[LOAD_IMM_R1, LOAD_IMM_R2, ECALLI_7, LOAD_IMM_R3, TRAP])
}

#[test]
fn a_host_call_mid_block() {
    // Per block: all five paid on entry.
    let mut m = machine(&with_host_call(), 100, Metering::Block);
    assert_eq!(m.run(), Exit::HostCall(7));
    assert_eq!(m.gas(), 95);
    assert_eq!(m.run(), Exit::Panic);
    assert_eq!(m.gas(), 95);

    // Per instruction: three paid at the host call, the other two when the run resumes.
    let mut m = machine(&with_host_call(), 100, Metering::Instruction);
    assert_eq!(m.run(), Exit::HostCall(7));
    assert_eq!(m.gas(), 97);
    assert_eq!(m.run(), Exit::Panic);
    assert_eq!(m.gas(), 95);
    assert_eq!(m.reg(3), 3);
}

#[test]
fn a_panic_mid_block_pays_up_to_the_faulting_instruction() {
    let p = program(&[LOAD_IMM_R1, LOAD_U8_LOW, LOAD_IMM_R3, TRAP]);
    let mut m = machine(&p, 100, Metering::Block);
    assert_eq!(m.run(), Exit::Panic);
    assert_eq!(m.gas(), 96);

    let mut m = machine(&p, 100, Metering::Instruction);
    assert_eq!(m.run(), Exit::Panic);
    assert_eq!(m.gas(), 98, "load_imm and the faulting load");
    assert_eq!(m.pc(), 3);
    assert_eq!(m.reg(3), 0, "nothing after the fault ran");
}

#[test]
fn out_of_gas_inside_a_block() {
    // Two instructions' worth of gas: per block, the block is never entered.
    let mut m = machine(&with_host_call(), 2, Metering::Block);
    assert_eq!(m.run(), Exit::OutOfGas);
    assert_eq!((m.gas(), m.pc()), (2, 0));

    // Per instruction: both loads run, the host call is never made.
    let mut m = machine(&with_host_call(), 2, Metering::Instruction);
    assert_eq!(m.run(), Exit::OutOfGas);
    assert_eq!((m.gas(), m.pc()), (0, 6));
    assert_eq!((m.reg(1), m.reg(2)), (1, 2));
}

#[test]
fn out_of_gas_found_on_leaving_the_block() {
    // load_imm ×3, fallthrough | trap: with gas for two, the third load is where it runs out,
    // noticed when the block ends.
    let p = program(&[LOAD_IMM_R1, LOAD_IMM_R2, LOAD_IMM_R3, FALLTHROUGH, TRAP]);
    let mut m = machine(&p, 2, Metering::Instruction);
    assert_eq!(m.run(), Exit::OutOfGas);
    assert_eq!((m.gas(), m.pc()), (0, 6));

    // With gas for all four, the trap's block is the one that cannot be paid.
    let mut m = machine(&p, 4, Metering::Instruction);
    assert_eq!(m.run(), Exit::OutOfGas);
    assert_eq!((m.gas(), m.pc()), (0, 10));

    // And with five, the trap runs.
    let mut m = machine(&p, 5, Metering::Instruction);
    assert_eq!(m.run(), Exit::Panic);
    assert_eq!(m.gas(), 0);
}

#[test]
fn zero_gas_runs_nothing() {
    for metering in [Metering::Block, Metering::Instruction] {
        let mut m = machine(&with_host_call(), 0, metering);
        assert_eq!(m.run(), Exit::OutOfGas);
        assert_eq!((m.gas(), m.pc()), (0, 0));
    }
}
