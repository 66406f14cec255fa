//! `pvm`: every program in `programs/` runs to the expected status, registers, pc, gas and memory,
//! on orrery-invocation's current PVM backend (the recompiler or the interpreter, `--pvm`).
//!
//! Schema: `pvm/schema.asn`. The initial page map makes pages accessible; `expected-memory` lists the
//! non-zero bytes afterwards, every other accessible byte must be zero.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use orrery_pvm::{Access, Exit, Guest, Program, PAGE_SIZE};
use serde_json::Value as Json;

use crate::json::read_json;
use crate::{files_with_extension, stem, CaseOutcome, Family};

pub(crate) fn run(family: &Family) -> Result<Vec<CaseOutcome>, String> {
    let files = files_with_extension(&family.dir.join("programs"), "json").map_err(|e| e.to_string())?;
    Ok(files.iter().map(|file| CaseOutcome::from_result(stem(file), check_file(file))).collect())
}

fn check_file(path: &Path) -> Result<(), String> {
    let case = read_json(path)?;
    let u64_of = |v: &Json, what: &str| v.as_u64().ok_or_else(|| format!("{what}: not an unsigned integer"));
    let field = |name: &str| case.get(name).ok_or_else(|| format!("missing field {name:?}"));
    let regs = |name: &str| -> Result<Vec<u64>, String> {
        let list = field(name)?.as_array().ok_or_else(|| format!("{name}: not a list"))?;
        if list.len() != 13 {
            return Err(format!("{name}: {} registers", list.len()));
        }
        list.iter().map(|v| u64_of(v, name)).collect()
    };
    let bytes = |v: &Json, what: &str| -> Result<Vec<u8>, String> {
        let list = v.as_array().ok_or_else(|| format!("{what}: not a list"))?;
        list.iter()
            .map(|b| u64_of(b, what).and_then(|b| u8::try_from(b).map_err(|_| format!("{what}: byte {b}"))))
            .collect()
    };
    let chunks = |name: &str| -> Result<Vec<(u32, Vec<u8>)>, String> {
        let list = field(name)?.as_array().ok_or_else(|| format!("{name}: not a list"))?;
        list.iter()
            .map(|c| {
                let address = u64_of(&c["address"], name)? as u32;
                Ok((address, bytes(&c["contents"], name)?))
            })
            .collect()
    };
    let i64_of = |name: &str| field(name)?.as_i64().ok_or_else(|| format!("{name}: not an integer"));

    let program =
        Program::from_blob(&bytes(field("program")?, "program")?).map_err(|e| format!("deblob: {e}"))?;
    let initial_pc = u64_of(field("initial-pc")?, "initial-pc")? as u32;
    let mut machine =
        orrery_invocation::backend::new_machine(Arc::new(program), initial_pc, i64_of("initial-gas")?, None);
    for (i, value) in regs("initial-regs")?.into_iter().enumerate() {
        machine.regs_mut()[i] = value;
    }
    for page in field("initial-page-map")?.as_array().ok_or("initial-page-map: not a list")? {
        let address = u64_of(&page["address"], "page address")? as u32;
        let length = u64_of(&page["length"], "page length")? as u32;
        let writable = page["is-writable"].as_bool().ok_or("is-writable: not a boolean")?;
        machine.memory_mut().set_access(
            address,
            length,
            if writable { Access::ReadWrite } else { Access::ReadOnly },
        );
    }
    for (address, contents) in chunks("initial-memory")? {
        machine.memory_mut().write_initial(address, &contents).map_err(|e| format!("initial memory: {e}"))?;
    }

    let exit = machine.run();

    let mut problems = Vec::new();
    let status = match exit {
        Exit::Halt => "halt",
        Exit::Panic => "panic",
        Exit::PageFault(_) => "page-fault",
        Exit::OutOfGas => "out-of-gas",
        Exit::HostCall(_) => "host",
    };
    let expected_status = field("expected-status")?.as_str().unwrap_or("?");
    if status != expected_status {
        problems.push(format!("status: expected {expected_status} got {exit:?}"));
    }
    if let Exit::PageFault(address) = exit {
        let expected = case.get("expected-page-fault-address").and_then(Json::as_u64);
        if expected != Some(u64::from(address)) {
            problems.push(format!("page fault address: expected {expected:?} got {address:#x}"));
        }
    }
    let expected_regs = regs("expected-regs")?;
    if machine.regs()[..] != expected_regs[..] {
        problems.push(format!("registers: expected {expected_regs:?} got {:?}", machine.regs()));
    }
    let expected_pc = u64_of(field("expected-pc")?, "expected-pc")?;
    if u64::from(machine.pc()) != expected_pc {
        problems.push(format!("pc: expected {expected_pc} got {}", machine.pc()));
    }
    let expected_gas = i64_of("expected-gas")?;
    if machine.gas() != expected_gas {
        problems.push(format!("gas: expected {expected_gas} got {}", machine.gas()));
    }
    problems.extend(memory_differences(&*machine, &chunks("expected-memory")?));

    if problems.is_empty() {
        Ok(())
    } else {
        problems.truncate(6);
        Err(problems.join("\n"))
    }
}

/// Every accessible page must hold exactly the expected chunks over zeroes.
fn memory_differences(machine: &dyn Guest, expected: &[(u32, Vec<u8>)]) -> Vec<String> {
    let mut pages: BTreeMap<u32, Vec<u8>> = BTreeMap::new();
    let mut problems = Vec::new();
    for (address, contents) in expected {
        for (i, byte) in contents.iter().enumerate() {
            let at = address.wrapping_add(i as u32);
            let page = pages.entry(at & !(PAGE_SIZE - 1)).or_insert_with(|| vec![0; PAGE_SIZE as usize]);
            page[(at % PAGE_SIZE) as usize] = *byte;
        }
    }
    for page in pages.keys() {
        if machine.memory().access(*page) == Access::Inaccessible {
            problems.push(format!("memory: expected contents in inaccessible page {page:#x}"));
        }
    }
    for (page, _) in machine.memory().accessible_pages() {
        let actual = machine.memory().read_vec(page, PAGE_SIZE).unwrap_or_default();
        let zero = vec![0; PAGE_SIZE as usize];
        let want = pages.get(&page).unwrap_or(&zero);
        if let Some(at) = actual.iter().zip(want).position(|(a, w)| a != w) {
            problems.push(format!(
                "memory at {:#x}: expected {:#04x} got {:#04x}",
                page + at as u32,
                want[at],
                actual[at]
            ));
        }
    }
    problems
}
