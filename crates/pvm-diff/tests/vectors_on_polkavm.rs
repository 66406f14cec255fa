//! The harness itself, checked: every `pvm/` vector, run on polkavm through [`run_polkavm`], gives
//! the vector's status, registers, program counter, gas and memory. (polkavm generated these
//! vectors; if this failed, the harness would be at fault, not the machines.) The vectors folder
//! must exist.

use orrery_pvm::Program;
use orrery_pvm_diff::{polkavm_engine, run_polkavm, Case, Region, Status};
use serde_json::Value;

fn case_from(json: &Value) -> Case {
    let bytes =
        |v: &Value| -> Vec<u8> { v.as_array().unwrap().iter().map(|b| b.as_u64().unwrap() as u8).collect() };
    let program = Program::from_blob(&bytes(&json["program"])).unwrap();
    let regs: Vec<u64> =
        json["initial-regs"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
    Case {
        code: program.code().to_vec(),
        bitmask: program.bitmask().to_vec(),
        jump_table: program.jump_table().iter().map(|&t| t as u32).collect(),
        regs: regs.try_into().unwrap(),
        pc: json["initial-pc"].as_u64().unwrap() as u32,
        gas: json["initial-gas"].as_i64().unwrap(),
        regions: json["initial-page-map"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| Region {
                address: p["address"].as_u64().unwrap() as u32,
                length: p["length"].as_u64().unwrap() as u32,
                writable: p["is-writable"].as_bool().unwrap(),
            })
            .collect(),
        memory: json["initial-memory"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["address"].as_u64().unwrap() as u32, bytes(&c["contents"])))
            .collect(),
    }
}

#[test]
fn polkavm_through_the_harness_reproduces_the_vectors() {
    let dir = orrery_testkit::vectors().join("pvm/programs");
    let engine = polkavm_engine();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 307);
    let mut failures = Vec::new();
    for file in &files {
        let json: Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
        let case = case_from(&json);
        let outcome = match run_polkavm(&engine, &case) {
            Ok(outcome) => outcome,
            Err(skip) => {
                failures.push(format!("{}: not run: {skip:?}", file.display()));
                continue;
            }
        };
        let status = match outcome.exits.last() {
            Some(Status::Halt) => "halt",
            Some(Status::Panic) => "panic",
            Some(Status::PageFault(_)) => "page-fault",
            other => panic!("unexpected exit {other:?}"),
        };
        let expected_regs: Vec<u64> =
            json["expected-regs"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
        let mut problems = Vec::new();
        if status != json["expected-status"].as_str().unwrap() {
            problems.push(format!("status {status}"));
        }
        if outcome.regs[..] != expected_regs[..] {
            problems.push(format!("regs {:?}", outcome.regs));
        }
        if outcome.gas != json["expected-gas"].as_i64().unwrap() {
            problems.push(format!("gas {}", outcome.gas));
        }
        // polkavm reports no program counter after a halt.
        if status != "halt" && outcome.pc.map(u64::from) != json["expected-pc"].as_u64() {
            problems.push(format!("pc {:?}", outcome.pc));
        }
        for chunk in json["expected-memory"].as_array().unwrap() {
            let address = chunk["address"].as_u64().unwrap() as u32;
            for (i, byte) in chunk["contents"].as_array().unwrap().iter().enumerate() {
                let at = address + i as u32;
                let page = outcome.pages.iter().find(|(p, _)| at.wrapping_sub(*p) < 4096);
                let actual = page.map(|(p, data)| data[(at - p) as usize]);
                if actual != Some(byte.as_u64().unwrap() as u8) {
                    problems.push(format!("memory at {at:#x}: {actual:?}"));
                }
            }
        }
        if !problems.is_empty() {
            failures.push(format!("{}: {}", file.display(), problems.join(", ")));
        }
    }
    assert!(failures.is_empty(), "{} vectors differ on polkavm:\n{}", failures.len(), failures.join("\n"));
}
