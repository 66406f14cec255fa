//! Ψ_A end to end on services assembled by hand: what a halt, a panic, a page fault, running out
//! of gas and a missing program each leave behind (GP 0.7.2 §B.4, the collapse `C`), with gas
//! worked out from the programs' basic blocks (each charged in full on entry) and 10 per host call.

mod common;

use common::*;
use orrery_invocation::accumulate::{accumulate, AccumulateOutput, PartialState};
use orrery_invocation::codes::index;
use orrery_invocation::{AccumulationInput, DeferredTransfer};

const ME: u32 = 7;
const SLOT: u32 = 100;
const ENTROPY: [u8; 32] = [0x11; 32];

fn run(state: &PartialState, gas: u64, inputs: &[AccumulationInput]) -> AccumulateOutput {
    accumulate(&spec(), state, SLOT, ME, gas, inputs, &ENTROPY, None)
}

fn post(state: &PartialState, output: &AccumulateOutput) -> PartialState {
    output.changes.apply_to(state)
}

/// Writes `μ[value…+1]` under the one-octet key at `key` (registers 7–10, then `ecalli 4`).
fn write(asm: &mut Asm, key: u32, value: u32) -> &mut Asm {
    asm.load_imm64(7, key.into())
        .load_imm64(8, 1)
        .load_imm64(9, value.into())
        .load_imm64(10, 1)
        .ecalli(index::WRITE as u32)
}

fn incoming(amount: u64) -> AccumulationInput {
    AccumulationInput::Transfer(DeferredTransfer { source: 1, dest: ME, amount, memo: [0; 128], gas: 0 })
}

#[test]
fn checkpoint_keeps_state_through_a_panic() {
    let mut asm = Asm::new();
    asm.to_entry().store_imm_u8(RW, b'a').store_imm_u8(RW + 1, b'x').store_imm_u8(RW + 2, b'b');
    write(&mut asm, RW, RW + 1).ecalli(index::CHECKPOINT as u32);
    write(&mut asm, RW + 2, RW + 1).trap();
    let state = partial_state(vec![(ME, account_with_code(1_000_000, &asm))]);
    let output = run(&state, 1_000, &[]);
    // One basic block from pc 5 to the trap: 3 stores, 2 × (4 loads + ecalli), the checkpoint and
    // the trap are 3 + 10 + 1 + 1 = 15 instructions; three host calls cost 30.
    assert_eq!(output.gas_used, 45);
    let me = &post(&state, &output).accounts[&ME];
    assert_eq!(me.storage(b"a"), Some(&b"x"[..]), "written before the checkpoint");
    assert_eq!(me.storage(b"b"), None, "written after it: rolled back");
}

#[test]
fn a_service_that_loops_forever_stops_at_its_gas_limit() {
    let mut asm = Asm::new();
    asm.to_entry();
    // The jump must start a basic block to be a valid target: a fallthrough ends the one before.
    write(&mut asm, RW, RW).fallthrough().jump_self();
    let state = partial_state(vec![(ME, account_with_code(1_000, &asm))]);
    let output = run(&state, 10_000, &[incoming(50)]);
    assert_eq!(output.gas_used, 10_000, "all of it");
    // The exceptional dimension: the state Ψ_A started from, the transfer credited.
    let me = &post(&state, &output).accounts[&ME];
    assert_eq!(me.info.balance, 1_050);
    assert_eq!(me.storage(&[0]), None);
    assert!(output.transfers.is_empty() && output.yield_hash.is_none());
}

#[test]
fn a_page_fault_is_a_panic_and_keeps_only_the_start() {
    let mut asm = Asm::new();
    asm.to_entry().store_imm_u8(RW, b'k');
    write(&mut asm, RW, RW).store_imm_u8(UNMAPPED, 1).halt();
    let state = partial_state(vec![(ME, account_with_code(1_000_000, &asm))]);
    let output = run(&state, 1_000, &[]);
    // Ψ_M pays per instruction executed: store, 4 loads, ecalli and the faulting store (not the
    // jump_ind after it, which the block holds but the run never reaches), plus the write's 10.
    assert_eq!(output.gas_used, 17);
    assert_eq!(post(&state, &output), state);
}

#[test]
fn a_halt_with_32_octets_yields_them() {
    let mut asm = Asm::new();
    asm.to_entry().load_imm64(7, RO.into()).load_imm64(8, 32).halt();
    let state = partial_state(vec![(ME, account_with_code(1_000, &asm))]);
    let output = run(&state, 1_000, &[]);
    assert_eq!(output.yield_hash, Some([RO_BYTE; 32]));
    assert_eq!(output.gas_used, 3);
}

#[test]
fn any_other_output_keeps_the_yielded_hash() {
    // yield μ[RO…+32], then halt with 31 octets of output: not a hash, so the `yield` stands.
    let mut asm = Asm::new();
    asm.to_entry().load_imm64(7, RO.into()).ecalli(index::YIELD as u32);
    asm.load_imm64(7, RO.into()).load_imm64(8, 31).halt();
    let state = partial_state(vec![(ME, account_with_code(1_000, &asm))]);
    assert_eq!(run(&state, 1_000, &[]).yield_hash, Some([RO_BYTE; 32]));
    // Output from memory that is not readable is empty, which is no hash either.
    let mut asm = Asm::new();
    asm.to_entry().load_imm64(7, UNMAPPED.into()).load_imm64(8, 32).halt();
    let state = partial_state(vec![(ME, account_with_code(1_000, &asm))]);
    let output = run(&state, 1_000, &[]);
    assert_eq!((output.yield_hash, output.gas_used), (None, 3));
}

#[test]
fn the_arguments_are_slot_service_and_input_count() {
    // Stores its argument data μ[ω7…+ω8] under the key "k".
    let mut asm = Asm::new();
    asm.to_entry()
        .move_reg(9, 7)
        .move_reg(10, 8)
        .store_imm_u8(RW, b'k')
        .load_imm64(7, RW.into())
        .load_imm64(8, 1)
        .ecalli(index::WRITE as u32)
        .halt();
    let state = partial_state(vec![(ME, account_with_code(1_000_000, &asm))]);
    let output = run(&state, 1_000, &[incoming(1), incoming(2)]);
    // E(100, 7, 2): three one-octet general naturals.
    assert_eq!(post(&state, &output).accounts[&ME].storage(b"k"), Some(&[100, 7, 2][..]));
    assert_eq!(post(&state, &output).accounts[&ME].info.balance, 1_000_003);
}

#[test]
fn a_missing_or_broken_program_uses_no_gas() {
    let mut no_code = account(500);
    no_code.info.code_hash = [1; 32];
    let mut garbage = account(500);
    garbage.info.code_hash = [2; 32];
    garbage.set_preimage(&[2; 32], vec![0, 1, 2, 3]);
    for account in [no_code, garbage] {
        let state = partial_state(vec![(ME, account)]);
        let output = run(&state, 1_000, &[incoming(7)]);
        assert_eq!(output.gas_used, 0);
        assert_eq!(post(&state, &output).accounts[&ME].info.balance, 507, "transfers still arrive");
    }
    // A service that does not exist: nothing at all.
    let state = partial_state(vec![]);
    let output = run(&state, 1_000, &[incoming(7)]);
    assert_eq!((output.gas_used, post(&state, &output)), (0, state));
}

#[test]
fn a_panic_discards_transfers_and_restores_the_balance() {
    let mut asm = Asm::new();
    asm.to_entry()
        .load_imm64(7, 8)
        .load_imm64(8, 300)
        .load_imm64(9, 0)
        .load_imm64(10, RO.into())
        .ecalli(index::TRANSFER as u32)
        .trap();
    let state = partial_state(vec![(ME, account_with_code(1_000, &asm)), (8, account(0))]);
    let output = run(&state, 1_000, &[]);
    assert!(output.transfers.is_empty());
    assert_eq!(post(&state, &output), state);
    // The same transfer followed by a halt stays.
    let mut asm = Asm::new();
    asm.to_entry()
        .load_imm64(7, 8)
        .load_imm64(8, 300)
        .load_imm64(9, 0)
        .load_imm64(10, RO.into())
        .ecalli(index::TRANSFER as u32)
        .halt();
    let state = partial_state(vec![(ME, account_with_code(1_000, &asm)), (8, account(0))]);
    let output = run(&state, 1_000, &[]);
    assert_eq!(output.transfers.len(), 1);
    assert_eq!(post(&state, &output).accounts[&ME].info.balance, 700);
}
