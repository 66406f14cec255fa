//! The real service blobs of the vectors, laid out by orrery-pvm's Y and started at the accumulate
//! entry (pc 5), run on polkavm too: both must stop at the same first host call with the same
//! registers, program counter and gas. An independent check of orrery-pvm's tests/real_blobs.rs.
//!
//! Both blobs contain `sbrk`, which polkavm 0.37's `JamV1` lacks; none runs before the first host
//! call (orrery-pvm's hand-traced path), so it is replaced by `move_reg` for polkavm.

use orrery_pvm::{Access, Exit, StandardProgram, PAGE_SIZE};
use orrery_pvm_diff::{polkavm_engine, run_polkavm_with, Case, Region, Status};

fn code_blob(case: &str, service: u64) -> Vec<u8> {
    let path = orrery_testkit::vectors().join("stf/accumulate/tiny").join(format!("{case}.json"));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
            .unwrap();
    let account =
        json["pre_state"]["accounts"].as_array().unwrap().iter().find(|a| a["id"] == service).unwrap();
    let code_hash = account["data"]["service"]["code_hash"].as_str().unwrap();
    let blob = account["data"]["preimage_blobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["hash"] == code_hash)
        .unwrap();
    let text = blob["blob"].as_str().unwrap().trim_start_matches("0x");
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
}

fn check(blob: &[u8], args: &[u8]) {
    let (_, program) = StandardProgram::from_service_code(blob).unwrap();
    let gas = 1_000_000;
    let mut machine = program.instantiate(args, 5, gas).unwrap();
    let p = program.program();
    let case = Case {
        code: p.code().to_vec(),
        bitmask: p.bitmask().to_vec(),
        jump_table: p.jump_table().iter().map(|&t| t as u32).collect(),
        regs: *machine.regs(),
        pc: 5,
        gas,
        regions: machine
            .memory
            .accessible_pages()
            .map(|(page, access)| Region {
                address: page,
                length: PAGE_SIZE,
                writable: access == Access::ReadWrite,
            })
            .collect(),
        memory: machine
            .memory
            .accessible_pages()
            .map(|(page, _)| (page, machine.memory.read_vec(page, PAGE_SIZE).unwrap()))
            .filter(|(_, data)| data.iter().any(|&b| b != 0))
            .collect(),
    };
    let exit = machine.run();
    let Exit::HostCall(index) = exit else { panic!("orrery-pvm: {exit:?}") };
    let theirs = run_polkavm_with(&polkavm_engine(), &case, Some(100), 0).unwrap();
    assert_eq!(theirs.exits, vec![Status::HostCall(index)]);
    assert_eq!(theirs.pc, Some(machine.pc()));
    assert_eq!(theirs.gas, machine.gas());
    assert_eq!(theirs.regs, *machine.regs());
}

#[test]
fn test_service_first_host_call_agrees_with_polkavm() {
    check(&code_blob("process_one_immediate_report-1", 1729), &[0x2b, 0x86, 0xc1, 0x01]);
}

#[test]
fn bootstrap_service_first_host_call_agrees_with_polkavm() {
    check(&code_blob("transfer_for_ejected_service-1", 0), &[0x2b, 0x00, 0x01]);
}
