//! The recompiler against orrery-pvm's interpreter (the reference) on generated programs: the same
//! exits (continuing across host calls), program counter, gas, registers and every accessible page,
//! in both metering modes. Programs come from orrery-pvm-diff's generator (well-formed and malformed
//! instructions, jump tables, mapped regions with contents, registers pointing into them); some
//! cases turn `move_reg` into `sbrk` (the same operand layout), with a heap, since the generator
//! leaves `sbrk` out for polkavm's sake.
#![cfg(all(target_arch = "x86_64", target_os = "linux"))]

use std::sync::Arc;

use orrery_pvm::{Access, Exit, Machine, Metering, Opcode, Program, PAGE_SIZE};
use orrery_pvm_diff::{generate, Case};
use orrery_pvm_jit::{compile, Instance};

/// Host calls a run continues across.
const HOST_CALLS: usize = 4;

#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    exits: Vec<Exit>,
    pc: u32,
    gas: i64,
    regs: [u64; 13],
    pages: Vec<(u32, Access, Vec<u8>)>,
}

/// The host's action at a call, the same for both: it changes a register and the gas, so that
/// resumption must carry both.
fn host(regs: &mut [u64; 13], gas: &mut i64, index: u64) {
    regs[7] ^= index.rotate_left(7);
    *gas -= (index % 3) as i64;
}

const HEAP: (u32, u64) = (0x0002_0000, 0x0010_0000);

fn interpreter(case: &Case, program: &Arc<Program>, metering: Metering, heap: bool) -> Outcome {
    let mut m = Machine::new(Arc::clone(program), case.pc, case.gas);
    m.set_metering(metering);
    if heap {
        m.set_heap(HEAP.0, HEAP.1);
    }
    *m.regs_mut() = case.regs;
    for region in &case.regions {
        let access = if region.writable { Access::ReadWrite } else { Access::ReadOnly };
        m.memory.set_access(region.address, region.length, access);
    }
    for (address, data) in &case.memory {
        m.memory.write_initial(*address, data).expect("contents lie in mapped pages");
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
    // Without `sbrk` only the regions can be accessible: comparing those pages (and that the
    // recompiler has no others) spares a scan of 2^20 entries per case.
    let pages: Vec<(u32, Access, Vec<u8>)> = if has_sbrk(case) {
        m.memory
            .accessible_pages()
            .map(|(page, access)| (page, access, m.memory.read_vec(page, PAGE_SIZE).unwrap_or_default()))
            .collect()
    } else {
        candidate_pages(case)
            .map(|page| {
                let access = m.memory.access(page);
                (page, access, m.memory.read_vec(page, PAGE_SIZE).unwrap_or_default())
            })
            .collect()
    };
    let outcome = Outcome { exits, pc: m.pc(), gas: m.gas(), regs: *m.regs(), pages };
    m.into_memory().recycle();
    outcome
}

fn recompiler(case: &Case, program: &Arc<Program>, metering: Metering, heap: bool) -> Outcome {
    let compiled = Arc::new(compile(Arc::clone(program)).expect("compiles"));
    let mut m = Instance::new(compiled, case.pc, case.gas).expect("instance");
    m.set_metering(metering);
    if heap {
        m.set_heap(HEAP.0, HEAP.1);
    }
    *m.regs_mut() = case.regs;
    for region in &case.regions {
        let access = if region.writable { Access::ReadWrite } else { Access::ReadOnly };
        m.memory_mut().set_access(region.address, region.length, access);
    }
    for (address, data) in &case.memory {
        m.memory_mut().write_initial(*address, data).expect("contents lie in mapped pages");
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
    let read = |page: u32| m.memory().read_vec(page, PAGE_SIZE).unwrap_or_default();
    let pages: Vec<(u32, Access, Vec<u8>)> = if has_sbrk(case) {
        m.memory().accessible_pages().map(|(page, access)| (page, access, read(page))).collect()
    } else {
        let candidates: std::collections::BTreeSet<u32> = candidate_pages(case).collect();
        for (page, _) in m.memory().accessible_pages() {
            assert!(candidates.contains(&page), "page {page:#x} accessible outside the regions");
        }
        candidate_pages(case).map(|page| (page, m.memory().access(page), read(page))).collect()
    };
    Outcome { exits, pc: m.pc(), gas: m.gas(), regs: *m.regs(), pages }
}

/// Whether the program has an `sbrk` at an opcode position (generated raw, or put there).
fn has_sbrk(case: &Case) -> bool {
    (0..case.code.len())
        .any(|i| case.bitmask[i / 8] >> (i % 8) & 1 == 1 && case.code[i] == Opcode::Sbrk as u8)
}

/// Every page a case's regions cover.
fn candidate_pages(case: &Case) -> impl Iterator<Item = u32> {
    let regions = case.regions.iter().flat_map(|r| {
        let last = (u64::from(r.address) + u64::from(r.length.max(1)) - 1) / u64::from(PAGE_SIZE);
        (u64::from(r.address) / u64::from(PAGE_SIZE)..=last).map(|p| p as u32 * PAGE_SIZE)
    });
    let mut all: Vec<u32> = regions.collect();
    all.sort_unstable();
    all.dedup();
    all.into_iter()
}

/// xorshift64, for a fixed stream of cases.
fn stream(seed: u64, len: usize) -> impl FnMut() -> Vec<u8> {
    let mut x = seed;
    move || {
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }
}

/// Turns every `move_reg` at an opcode position into `sbrk`.
fn with_sbrk(case: &mut Case) -> bool {
    let mut changed = false;
    for i in 0..case.code.len() {
        if case.bitmask[i / 8] >> (i % 8) & 1 == 1 && case.code[i] == Opcode::MoveReg as u8 {
            case.code[i] = Opcode::Sbrk as u8;
            changed = true;
        }
    }
    changed
}

fn run_cases(seed: u64, count: usize, metering: Metering) -> (usize, std::collections::BTreeSet<String>) {
    let mut next = stream(seed, 3000);
    let mut exits = std::collections::BTreeSet::new();
    let mut compared = 0;
    for n in 0..count {
        let mut case = generate(&next());
        let heap = n % 4 == 0 && with_sbrk(&mut case);
        let Ok(program) = Program::from_blob(&case.program_blob()) else { continue };
        let program = Arc::new(program);
        let want = interpreter(&case, &program, metering, heap);
        let got = recompiler(&case, &program, metering, heap);
        assert_eq!(
            got,
            want,
            "case {n} ({metering:?}, heap {heap}):\n{}\n{case:?}",
            program.disassemble(0..u32::MAX)
        );
        compared += 1;
        if compared % 50_000 == 0 {
            eprintln!("{metering:?}: {compared} cases agree");
        }
        for exit in &want.exits {
            exits.insert(format!("{exit:?}").split('(').next().unwrap_or_default().to_owned());
        }
    }
    (compared, exits)
}

/// Cases per metering mode: 4000 in the normal tests; `ORRERY_JIT_DIFF_CASES` sets more for a long
/// run (`scripts/pvm-jit-differential.sh`), and `ORRERY_JIT_DIFF_SEED` another stream.
fn case_count() -> usize {
    std::env::var("ORRERY_JIT_DIFF_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(4000)
}

fn seed(default: u64) -> u64 {
    let extra: u64 = std::env::var("ORRERY_JIT_DIFF_SEED").ok().and_then(|n| n.parse().ok()).unwrap_or(0);
    default ^ extra.wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

#[test]
fn generated_programs_run_the_same_per_block() {
    let count = case_count();
    let (compared, exits) = run_cases(seed(0x9e37_79b9_7f4a_7c15), count, Metering::Block);
    assert_eq!(compared, count);
    for exit in ["Halt", "Panic", "OutOfGas", "PageFault", "HostCall"] {
        assert!(exits.contains(exit), "no case ended with {exit}: {exits:?}");
    }
}

#[test]
fn generated_programs_run_the_same_per_instruction() {
    let count = case_count();
    let (compared, exits) = run_cases(seed(0x2545_f491_4f6c_dd1d), count, Metering::Instruction);
    assert_eq!(compared, count);
    for exit in ["Halt", "Panic", "OutOfGas", "PageFault", "HostCall"] {
        assert!(exits.contains(exit), "no case ended with {exit}: {exits:?}");
    }
}
