//! Hostile programs: every load and store width at every boundary of the address space and of the
//! mapped pages, self-jumping loops, jumps through huge and hostile jump tables. Each runs on the
//! recompiler and on the interpreter, and must end the same way (a host crash fails the test run).
#![cfg(all(target_arch = "x86_64", target_os = "linux"))]

use std::sync::Arc;

use orrery_pvm::{Access, Exit, Machine, Metering, Program, PAGE_SIZE};
use orrery_pvm_jit::{compile, Instance};

fn program(instructions: &[&[u8]], jump_table: Vec<u32>) -> Arc<Program> {
    let mut code = Vec::new();
    let mut starts = Vec::new();
    for ins in instructions {
        starts.push(code.len());
        code.extend_from_slice(ins);
    }
    let mut bitmask = vec![0u8; code.len().div_ceil(8)];
    for s in starts {
        bitmask[s / 8] |= 1 << (s % 8);
    }
    Arc::new(Program::from_parts(code, bitmask, jump_table).expect("a valid program"))
}

/// Regions mapped in every run: the page just above 2^16 read-only, two read-write pages in the
/// middle with an inaccessible one between, and the top page read-write.
const REGIONS: [(u32, u32, Access); 4] = [
    (0x1_0000, PAGE_SIZE, Access::ReadOnly),
    (0x2_0000, PAGE_SIZE, Access::ReadWrite),
    (0x2_2000, PAGE_SIZE, Access::ReadWrite),
    (0xffff_f000, PAGE_SIZE, Access::ReadWrite),
];

#[derive(Debug, PartialEq, Eq)]
struct State {
    exit: Exit,
    pc: u32,
    gas: i64,
    regs: [u64; 13],
    pages: Vec<(u32, Vec<u8>)>,
}

fn both(program: &Arc<Program>, regs: [u64; 13], gas: i64) -> (State, State) {
    let mut m = Machine::new(Arc::clone(program), 0, gas);
    m.set_metering(Metering::Block);
    *m.regs_mut() = regs;
    let compiled = Arc::new(compile(Arc::clone(program)).expect("compiles"));
    let mut j = Instance::new(compiled, 0, gas).expect("instance");
    *j.regs_mut() = regs;
    for (address, length, access) in REGIONS {
        m.memory.set_access(address, length, access);
        j.memory_mut().set_access(address, length, access);
        let fill: Vec<u8> = (0..length).map(|i| (i as u8) ^ 0x5a).collect();
        m.memory.write_initial(address, &fill).expect("mapped");
        j.memory_mut().write_initial(address, &fill).expect("mapped");
    }
    let exit = m.run();
    let want = State {
        exit,
        pc: m.pc(),
        gas: m.gas(),
        regs: *m.regs(),
        pages: REGIONS.iter().map(|&(p, _, _)| (p, m.memory.read_vec(p, PAGE_SIZE).unwrap())).collect(),
    };
    m.into_memory().recycle();
    let exit = j.run();
    let got = State {
        exit,
        pc: j.pc(),
        gas: j.gas(),
        regs: *j.regs(),
        pages: j
            .memory()
            .accessible_pages()
            .map(|(p, _)| (p, j.memory().read_vec(p, PAGE_SIZE).unwrap()))
            .collect(),
    };
    (got, want)
}

/// Addresses at every edge: 0, around 2^16, around each mapped page, the top of the space.
fn edges() -> Vec<u32> {
    let mut out = Vec::new();
    for base in [0u32, 0x1_0000, 0x1_1000, 0x2_0000, 0x2_1000, 0x2_2000, 0x2_3000, 0xffff_f000, 0x8000_0000] {
        for delta in -9i64..=9 {
            out.push((i64::from(base) + delta) as u32);
        }
    }
    out.extend([u32::MAX, u32::MAX - 1, u32::MAX - 3, u32::MAX - 7]);
    out
}

#[test]
fn every_width_at_every_boundary_faults_or_succeeds_as_the_interpreter() {
    // load_ind_* r1, [r2 + 0] and store_ind_* [r2 + 0], r3; then trap.
    let loads: [u8; 7] = [124, 125, 126, 127, 128, 129, 130];
    let stores: [u8; 4] = [120, 121, 122, 123];
    let mut runs = 0;
    for address in edges() {
        for &op in loads.iter().chain(&stores) {
            let operands = if op >= 124 { 0x21 } else { 0x23 };
            // With the offset in the instruction too: [r2 + 7] and [r2 - 1].
            for offset in [&[][..], &[7][..], &[0xff][..]] {
                let mut ins = vec![op, operands];
                ins.extend_from_slice(offset);
                let p = program(&[&ins, &[0]], vec![]);
                let mut regs = [0u64; 13];
                regs[2] = u64::from(address) | 0xdead_0000_0000_0000;
                regs[3] = 0x0102_0304_0506_0708;
                let (got, want) = both(&p, regs, 100);
                assert_eq!(got, want, "opcode {op} at {address:#x} offset {offset:?}");
                runs += 1;
            }
        }
    }
    assert!(runs > 1000);
}

#[test]
fn absolute_and_immediate_stores_at_the_top_and_bottom() {
    for address in edges() {
        let a = address.to_le_bytes();
        for op in [52u8, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62] {
            // load_*/store_* r1, address (four-octet immediate).
            let p = program(&[&[op, 1, a[0], a[1], a[2], a[3]], &[0]], vec![]);
            let (got, want) = both(&p, [7; 13], 100);
            assert_eq!(got, want, "opcode {op} at {address:#x}");
        }
        for op in [30u8, 31, 32, 33] {
            // store_imm_*: lx = 4 octets of address, then a one-octet value.
            let p = program(&[&[op, 4, a[0], a[1], a[2], a[3], 0x99], &[0]], vec![]);
            let (got, want) = both(&p, [7; 13], 100);
            assert_eq!(got, want, "opcode {op} at {address:#x}");
        }
    }
}

#[test]
fn a_self_jumping_loop_runs_out_of_its_gas() {
    // jump +0: a block of one that jumps to itself.
    let p = program(&[&[40, 0]], vec![]);
    let (got, want) = both(&p, [0; 13], 1_000_000);
    assert_eq!(got, want);
    assert_eq!((got.exit, got.gas), (Exit::OutOfGas, 0));
}

#[test]
fn hostile_dynamic_jumps_panic_or_land_as_the_interpreter() {
    // jump_ind r1, 0 over a jump table of 2^16 entries, most pointing nowhere useful.
    let table: Vec<u32> =
        (0..1u32 << 16).map(|i| if i % 3 == 0 { 0 } else { i.wrapping_mul(2_654_435_761) }).collect();
    let p = program(&[&[50, 1], &[0]], table);
    for target in
        [0u64, 1, 2, 3, 4, 6, 8, 1 << 17, (1 << 17) + 2, 0xffff_0000, 0xffff_fffe, 1 << 32, u64::MAX]
    {
        let mut regs = [0u64; 13];
        regs[1] = target;
        let (got, want) = both(&p, regs, 1000);
        assert_eq!(got, want, "target {target:#x}");
    }
}

#[test]
fn a_zero_width_jump_table_of_huge_length_is_target_zero() {
    // deblob with z = 0 and |j| = 2^40: every index below it is target 0.
    let mut blob = Vec::new();
    let natural = |x: u64, out: &mut Vec<u8>| {
        // GP C.6 for values below 2^56: prefix byte then little-endian octets.
        let l = (0..8).find(|&l| x < 1u64 << (7 * (l + 1))).unwrap_or(8);
        if l == 8 {
            out.push(0xff);
            out.extend_from_slice(&x.to_le_bytes());
        } else {
            let prefix = (0xffu16 << (8 - l)) as u8 | (x >> (8 * l)) as u8;
            out.push(prefix);
            out.extend_from_slice(&x.to_le_bytes()[..l]);
        }
    };
    natural(1 << 40, &mut blob);
    blob.push(0);
    // code: jump_ind r1, 0 ; trap ; bitmask 0b101.
    natural(3, &mut blob);
    blob.extend_from_slice(&[50, 1, 0, 0b101]);
    let p = Arc::new(Program::from_blob(&blob).expect("deblob"));
    assert_eq!(p.jump_table_len(), 1 << 40);
    for target in [2u64, 4, 0x7fff_fffe, 0xffff_fffe] {
        let mut regs = [0u64; 13];
        regs[1] = target;
        let (got, want) = both(&p, regs, 10);
        assert_eq!(got, want, "target {target:#x}");
    }
}

/// Sandboxes are reused after a machine is dropped: the next machine must find nothing of the
/// last one (no accessible page, no contents, zero registers, its own gas and heap), including
/// pages an `sbrk` opened. Many in a row, so the pool's sandboxes come round again.
#[test]
fn a_reused_sandbox_keeps_nothing_of_its_last_guest() {
    // ω8 = sbrk(ω7) (the break before), then ω9 stored as a byte at the heap base, then trap.
    let p = program(&[&[101, 0x78], &[59, 0x09, 0x00, 0x00, 0x03, 0x00], &[0]], vec![]);
    let compiled = Arc::new(compile(Arc::clone(&p)).expect("compiles"));
    for round in 0..40u64 {
        let mut m = Instance::new(Arc::clone(&compiled), 0, 1000).expect("instance");
        assert_eq!(m.memory().accessible_pages().count(), 0, "round {round}: pages left from before");
        assert_eq!(*m.regs(), [0; 13], "round {round}");
        assert_eq!(m.gas(), 1000, "round {round}");
        for (address, length, access) in REGIONS {
            m.memory_mut().set_access(address, length, access);
            let mut page = vec![0u8; length as usize];
            m.memory().read(address, &mut page).expect("readable");
            assert!(page.iter().all(|&b| b == 0), "round {round}: contents left at {address:#x}");
        }
        m.memory_mut().write(0x2_0000, &round.to_le_bytes()).expect("writable");
        m.set_heap(0x3_0000, 0x10_0000);
        m.set_reg(7, 5000);
        m.set_reg(9, round + 1);
        let _ = m.run();
        assert!(m.memory().access(0x3_0000) == Access::ReadWrite, "round {round}: sbrk opened the heap");
    }
}

/// A pooled sandbox keeps its pages' host protection past a reset, so that a guest with the same
/// layout changes none; a page the last guest could write and this one may not must still be
/// refused to it (read and write) and to the host, and read as zero once opened again.
#[test]
fn a_page_the_last_guest_could_write_is_refused_to_the_next() {
    // load_u64 ω1, [0x50000]; store_u64 [0x50000], ω1; trap
    let p = program(&[&[58, 1, 0x00, 0x00, 0x05, 0x00], &[62, 1, 0x00, 0x00, 0x05, 0x00], &[0]], vec![]);
    let compiled = Arc::new(compile(Arc::clone(&p)).expect("compiles"));
    for round in 0..20u64 {
        // Even rounds open the page and leave a value in it; odd rounds do not open it.
        let mut m = Instance::new(Arc::clone(&compiled), 0, 1000).expect("instance");
        m.set_metering(Metering::Block);
        assert!(m.memory().read_vec(0x5_0000, 8).is_err(), "round {round}: the host may read a stale page");
        if round % 2 == 0 {
            m.memory_mut().set_access(0x5_0000, PAGE_SIZE, Access::ReadWrite);
            assert_eq!(m.memory().read_vec(0x5_0000, 8).expect("open"), vec![0; 8], "round {round}");
            m.memory_mut().write(0x5_0000, &(round + 1).to_le_bytes()).expect("writable");
            assert_eq!(m.run(), Exit::Panic, "round {round}");
            assert_eq!(m.reg(1), round + 1, "round {round}");
        } else {
            assert_eq!(m.run(), Exit::PageFault(0x5_0000), "round {round}: the guest reached a stale page");
            assert_eq!(m.pc(), 0, "round {round}");
            // Opened read-only now: the load succeeds (zero), the store faults.
            m.memory_mut().set_access(0x5_0000, PAGE_SIZE, Access::ReadOnly);
            assert_eq!(m.run(), Exit::PageFault(0x5_0000), "round {round}: wrote a read-only page");
            assert_eq!((m.reg(1), m.pc()), (0, 6), "round {round}");
        }
    }
}
