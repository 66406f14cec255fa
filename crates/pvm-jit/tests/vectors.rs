//! All 307 `pvm/` vectors of JAM 0.7.2 through the recompiler: status, page-fault address,
//! registers, program counter, gas and every accessible page as the vectors expect.
#![cfg(all(target_arch = "x86_64", target_os = "linux"))]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use orrery_pvm::{Access, Exit, Program, PAGE_SIZE};
use orrery_pvm_jit::{compile, Instance};
use serde_json::Value as Json;

fn u64s(v: &Json) -> Vec<u64> {
    v.as_array().expect("a list").iter().map(|x| x.as_u64().expect("a number")).collect()
}

fn bytes(v: &Json) -> Vec<u8> {
    u64s(v).into_iter().map(|b| u8::try_from(b).expect("a byte")).collect()
}

fn chunks(v: &Json) -> Vec<(u32, Vec<u8>)> {
    v.as_array()
        .expect("a list")
        .iter()
        .map(|c| (c["address"].as_u64().expect("address") as u32, bytes(&c["contents"])))
        .collect()
}

/// The differences between the run and the vector, empty when it passes.
fn check(path: &Path) -> Vec<String> {
    let case: Json = serde_json::from_slice(&std::fs::read(path).expect("read")).expect("JSON");
    let program = Arc::new(Program::from_blob(&bytes(&case["program"])).expect("deblob"));
    let compiled = Arc::new(compile(program).expect("compiles"));
    let pc = case["initial-pc"].as_u64().expect("pc") as u32;
    let mut m = Instance::new(compiled, pc, case["initial-gas"].as_i64().expect("gas")).expect("instance");
    for (i, value) in u64s(&case["initial-regs"]).into_iter().enumerate() {
        m.set_reg(i, value);
    }
    for page in case["initial-page-map"].as_array().expect("page map") {
        let access =
            if page["is-writable"].as_bool().expect("bool") { Access::ReadWrite } else { Access::ReadOnly };
        m.memory_mut().set_access(
            page["address"].as_u64().expect("address") as u32,
            page["length"].as_u64().expect("length") as u32,
            access,
        );
    }
    for (address, contents) in chunks(&case["initial-memory"]) {
        m.memory_mut().write_initial(address, &contents).expect("initial memory");
    }

    let exit = m.run();

    let mut problems = Vec::new();
    let status = match exit {
        Exit::Halt => "halt",
        Exit::Panic => "panic",
        Exit::PageFault(_) => "page-fault",
        Exit::OutOfGas => "out-of-gas",
        Exit::HostCall(_) => "host",
    };
    if status != case["expected-status"].as_str().unwrap_or("?") {
        problems.push(format!("status: expected {} got {exit:?}", case["expected-status"]));
    }
    if let Exit::PageFault(address) = exit {
        if case["expected-page-fault-address"].as_u64() != Some(u64::from(address)) {
            problems.push(format!("fault address {address:#x}"));
        }
    }
    if m.regs()[..] != u64s(&case["expected-regs"])[..] {
        problems.push(format!("registers: expected {} got {:?}", case["expected-regs"], m.regs()));
    }
    if Some(u64::from(m.pc())) != case["expected-pc"].as_u64() {
        problems.push(format!("pc: expected {} got {}", case["expected-pc"], m.pc()));
    }
    if Some(m.gas()) != case["expected-gas"].as_i64() {
        problems.push(format!("gas: expected {} got {}", case["expected-gas"], m.gas()));
    }
    let mut pages: BTreeMap<u32, Vec<u8>> = BTreeMap::new();
    for (address, contents) in chunks(&case["expected-memory"]) {
        for (i, byte) in contents.iter().enumerate() {
            let at = address.wrapping_add(i as u32);
            pages.entry(at & !(PAGE_SIZE - 1)).or_insert_with(|| vec![0; PAGE_SIZE as usize])
                [(at % PAGE_SIZE) as usize] = *byte;
        }
    }
    for page in pages.keys() {
        if m.memory().access(*page) == Access::Inaccessible {
            problems.push(format!("expected contents in inaccessible page {page:#x}"));
        }
    }
    let zero = vec![0; PAGE_SIZE as usize];
    for (page, _) in m.memory().accessible_pages() {
        let actual = m.memory().read_vec(page, PAGE_SIZE).expect("accessible");
        if &actual != pages.get(&page).unwrap_or(&zero) {
            problems.push(format!("memory of page {page:#x} differs"));
        }
    }
    problems
}

#[test]
fn all_pvm_vectors_pass_through_the_recompiler() {
    let dir = orrery_testkit::vectors().join("pvm/programs");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 307, "the 0.7.2 vectors have 307 programs");
    let failures: Vec<String> = files
        .iter()
        .filter_map(|path| {
            let problems = check(path);
            (!problems.is_empty()).then(|| format!("{}: {}", path.display(), problems.join("; ")))
        })
        .collect();
    assert!(failures.is_empty(), "{} of 307 failed:\n{}", failures.len(), failures.join("\n"));
}
