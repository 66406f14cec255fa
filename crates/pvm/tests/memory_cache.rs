//! The interpreter's software TLB lives in the memory and survives host calls: what the host does
//! between runs (writes, access changes, cloning the machine) must show in the next run exactly as
//! if every access walked the page table. Expected values are worked by hand from the programs.

mod common;

use std::sync::Arc;

use orrery_pvm::{Access, Exit, Machine};

use common::program;

/// `load_ind_u64 rA, [rB + offset]` / `store_ind_u64 [rB + offset], rA`, with four-octet offsets.
fn ind(op: u8, a: u8, b: u8, offset: i32) -> Vec<u8> {
    let mut ins = vec![op, a | b << 4];
    ins.extend_from_slice(&offset.to_le_bytes());
    ins
}

const LOAD: u8 = 130;
const STORE: u8 = 123;
const PAGE: u32 = 0x2_0000;

fn read_u64(m: &Machine, address: u32) -> u64 {
    let mut out = [0; 8];
    m.memory.read(address, &mut out).unwrap();
    u64::from_le_bytes(out)
}

#[test]
fn host_changes_between_runs_are_seen() {
    // 0: r2 = [r1]; 6: [r1 + 8] = r2; 12: ecalli 0; 14: r3 = [r1]; 20: [r1 + 16] = r3; 26: trap.
    let p = program(&[
        &ind(LOAD, 2, 1, 0),
        &ind(STORE, 2, 1, 8),
        &[10, 0],
        &ind(LOAD, 3, 1, 0),
        &ind(STORE, 3, 1, 16),
        &[0],
    ]);
    let mut m = Machine::new(p, 0, 1000);
    m.set_reg(1, u64::from(PAGE));
    m.memory.set_access(PAGE, 4096, Access::ReadWrite);
    m.memory.write(PAGE, &1u64.to_le_bytes()).unwrap();
    assert_eq!(m.run(), Exit::HostCall(0));
    assert_eq!((m.reg(2), read_u64(&m, PAGE + 8)), (1, 1));

    // A write by the host is read by the next run; a page made read-only faults on the store.
    m.memory.write(PAGE, &5u64.to_le_bytes()).unwrap();
    m.memory.set_access(PAGE, 4096, Access::ReadOnly);
    assert_eq!(m.run(), Exit::PageFault(PAGE));
    assert_eq!((m.pc(), m.reg(3)), (20, 5));
    m.memory.set_access(PAGE, 4096, Access::ReadWrite);
    assert_eq!(m.run(), Exit::Panic);
    assert_eq!((m.pc(), read_u64(&m, PAGE + 16)), (26, 5));

    // A page made inaccessible faults on the load, and comes back zeroed.
    m.memory.set_access(PAGE, 4096, Access::Inaccessible);
    m.set_pc(14);
    assert_eq!(m.run(), Exit::PageFault(PAGE));
    assert_eq!(m.pc(), 14);
    m.memory.set_access(PAGE, 4096, Access::ReadWrite);
    m.set_pc(14);
    assert_eq!(m.run(), Exit::Panic);
    assert_eq!((m.reg(3), read_u64(&m, PAGE + 16)), (0, 0));

    // A clone has memory of its own: its run neither reads nor writes the original's pages, though
    // the original's TLB holds them.
    m.memory.write(PAGE, &9u64.to_le_bytes()).unwrap();
    let mut copy = m.clone();
    m.memory.write(PAGE, &7u64.to_le_bytes()).unwrap();
    copy.set_pc(14);
    assert_eq!(copy.run(), Exit::Panic);
    assert_eq!((copy.reg(3), read_u64(&copy, PAGE + 16)), (9, 9));
    assert_eq!((read_u64(&m, PAGE), read_u64(&m, PAGE + 16)), (7, 0));
    m.set_pc(14);
    assert_eq!(m.run(), Exit::Panic);
    assert_eq!((m.reg(3), read_u64(&m, PAGE + 16)), (7, 7));
}

#[test]
fn a_fused_run_faulting_on_its_second_access_leaves_the_unfused_state() {
    // A register save run across a page boundary: [r1 - 8] = r2, [r1] = r3, [r1 + 8] = r4, trap,
    // with r1 at the start of a read-write page whose predecessor is read-only.
    let p = program(&[&ind(STORE, 2, 1, 16), &ind(STORE, 3, 1, 8), &ind(STORE, 4, 1, 0), &[0]]);
    let mut m = Machine::new(Arc::clone(&p), 0, 100);
    m.memory.set_access(PAGE, 4096, Access::ReadOnly);
    m.memory.set_access(PAGE + 4096, 4096, Access::ReadWrite);
    m.set_reg(1, u64::from(PAGE + 4096 - 16));
    for r in 2..5 {
        m.set_reg(r, 0x1111 * r as u64);
    }
    // The first store, at PAGE + 4096, succeeds; the second, in the read-only page, faults.
    assert_eq!(m.run(), Exit::PageFault(PAGE));
    assert_eq!((m.pc(), m.gas()), (6, 96));
    assert_eq!(read_u64(&m, PAGE + 4096), 0x2222);
    // Loads back into registers, the base last: r5 = [r1 + 16], r1 = [r1 + 8].
    m.memory.set_access(PAGE, 4096, Access::ReadWrite);
    assert_eq!(m.run(), Exit::Panic);
    assert_eq!((read_u64(&m, PAGE + 4096 - 8), read_u64(&m, PAGE + 4096 - 16)), (0x3333, 0x4444));
    let p = program(&[&ind(LOAD, 5, 1, 16), &ind(LOAD, 1, 1, 8), &ind(LOAD, 6, 1, 0), &[0]]);
    let mut l = Machine::new(p, 0, 100);
    l.memory = m.memory.clone();
    l.set_reg(1, u64::from(PAGE + 4096 - 16));
    assert_eq!(l.run(), Exit::Panic);
    // The second load replaces the base with 0x3333, so the third reads [0x3333], below 2^16: a
    // panic there, with the first two loads done.
    assert_eq!((l.pc(), l.reg(5), l.reg(1), l.reg(6)), (12, 0x2222, 0x3333, 0));
}
