//! The recompiler against orrery-pvm's interpreter (the reference) on generated programs: the same
//! exits (continuing across host calls), program counter, gas, registers and every accessible page,
//! in both metering modes. Programs come from orrery-pvm-diff's generator (well-formed and malformed
//! instructions, jump tables, mapped regions with contents, registers pointing into them); some
//! cases turn `move_reg` into `sbrk` (the same operand layout), with a heap, since the generator
//! leaves `sbrk` out for polkavm's sake.
#![cfg(all(target_arch = "x86_64", target_os = "linux"))]

use std::sync::Arc;

use orrery_pvm::{Machine, Metering, Program};
use orrery_pvm_diff::{generate, has_sbrk, region_pages, run_guest, with_sbrk, Case, GuestOutcome, Pages};
use orrery_pvm_jit::{compile, Instance};

/// Without `sbrk` only the regions can be accessible: comparing those pages spares the
/// interpreter a scan of 2^20 entries per case (the recompiler's scan is checked to find no
/// others).
fn pages(case: &Case) -> Pages {
    if has_sbrk(case) {
        Pages::All
    } else {
        Pages::Regions
    }
}

fn interpreter(case: &Case, program: &Arc<Program>, metering: Metering, heap: bool) -> GuestOutcome {
    let mut m = Machine::new(Arc::clone(program), case.pc, case.gas);
    let outcome = run_guest(&mut m, case, metering, heap, pages(case));
    m.into_memory().recycle();
    outcome
}

fn recompiler(case: &Case, program: &Arc<Program>, metering: Metering, heap: bool) -> GuestOutcome {
    let compiled = Arc::new(compile(Arc::clone(program)).expect("compiles"));
    let mut m = Instance::new(compiled, case.pc, case.gas).expect("instance");
    let outcome = run_guest(&mut m, case, metering, heap, pages(case));
    if !has_sbrk(case) {
        let candidates: std::collections::BTreeSet<u32> = region_pages(case).collect();
        for (page, _) in m.memory().accessible_pages() {
            assert!(candidates.contains(&page), "page {page:#x} accessible outside the regions");
        }
    }
    outcome
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
