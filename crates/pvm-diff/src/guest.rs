//! A generated [`Case`] on any orrery PVM backend ([`Guest`]): the interpreter and the recompiler
//! (orrery-pvm-jit) are compared through this one harness, in its tests and its fuzz target.
//!
//! Unlike the polkavm comparison, this one also covers `sbrk` ([`with_sbrk`] puts it in, with a
//! heap) and a host action that changes the gas, so resumption must carry both.

use orrery_pvm::{Access, Exit, Guest, Metering, Opcode, PAGE_SIZE};

use crate::{Case, MAX_HOST_CALLS};

/// The heap a case with `sbrk` gets: its base and the first address it may not reach.
pub const HEAP: (u32, u64) = (0x0002_0000, 0x0010_0000);

/// How a run on a guest ended: every exit (across host calls), pc, gas, registers and pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestOutcome {
    pub exits: Vec<Exit>,
    pub pc: u32,
    pub gas: i64,
    pub regs: [u64; 13],
    /// Pages with their access and contents: every accessible one, or with
    /// [`Pages::Regions`] those the case's regions cover.
    pub pages: Vec<(u32, Access, Vec<u8>)>,
}

/// Which pages an outcome holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pages {
    /// Every accessible page (a scan of the whole page map).
    All,
    /// The pages the case's regions cover, accessible or not: all a program without `sbrk` can
    /// have, and much cheaper on the interpreter's memory than a scan.
    Regions,
}

/// The host's action at a call: it changes a register and the gas.
fn host(regs: &mut [u64; 13], gas: &mut i64, index: u64) {
    regs[7] ^= index.rotate_left(7);
    *gas -= (index % 3) as i64;
}

/// Runs `case` on `guest` (fresh: the case's program at its pc with its gas, nothing mapped),
/// with `metering` and, when `heap`, the [`HEAP`], continuing across [`MAX_HOST_CALLS`] host
/// calls.
pub fn run_guest(
    guest: &mut dyn Guest,
    case: &Case,
    metering: Metering,
    heap: bool,
    pages: Pages,
) -> GuestOutcome {
    guest.set_metering(metering);
    if heap {
        guest.set_heap(HEAP.0, HEAP.1);
    }
    *guest.regs_mut() = case.regs;
    for region in &case.regions {
        let access = if region.writable { Access::ReadWrite } else { Access::ReadOnly };
        guest.memory_mut().set_access(region.address, region.length, access);
    }
    for (address, data) in &case.memory {
        guest.memory_mut().write_initial(*address, data).expect("contents lie in mapped pages");
    }
    let mut exits = Vec::new();
    loop {
        let exit = guest.run();
        exits.push(exit);
        match exit {
            Exit::HostCall(index) if exits.len() <= MAX_HOST_CALLS => {
                let mut gas = guest.gas();
                host(guest.regs_mut(), &mut gas, index);
                guest.set_gas(gas);
            }
            _ => break,
        }
    }
    let memory = guest.memory();
    let read = |page: u32| memory.read_vec(page, PAGE_SIZE).unwrap_or_default();
    let pages = match pages {
        Pages::All => memory.accessible_pages().map(|(page, access)| (page, access, read(page))).collect(),
        Pages::Regions => region_pages(case).map(|page| (page, memory.access(page), read(page))).collect(),
    };
    GuestOutcome { exits, pc: guest.pc(), gas: guest.gas(), regs: *guest.regs(), pages }
}

/// Every page a case's regions cover, in order.
pub fn region_pages(case: &Case) -> impl Iterator<Item = u32> {
    let regions = case.regions.iter().flat_map(|r| {
        let last = (u64::from(r.address) + u64::from(r.length.max(1)) - 1) / u64::from(PAGE_SIZE);
        (u64::from(r.address) / u64::from(PAGE_SIZE)..=last).map(|p| p as u32 * PAGE_SIZE)
    });
    let mut all: Vec<u32> = regions.collect();
    all.sort_unstable();
    all.dedup();
    all.into_iter()
}

/// Whether the program has an `sbrk` at an opcode position.
pub fn has_sbrk(case: &Case) -> bool {
    (0..case.code.len()).any(|i| is_opcode(case, i) && case.code[i] == Opcode::Sbrk as u8)
}

/// Turns every `move_reg` at an opcode position into `sbrk` (the same operand layout); whether
/// there was one.
pub fn with_sbrk(case: &mut Case) -> bool {
    let mut changed = false;
    for i in 0..case.code.len() {
        if is_opcode(case, i) && case.code[i] == Opcode::MoveReg as u8 {
            case.code[i] = Opcode::Sbrk as u8;
            changed = true;
        }
    }
    changed
}

fn is_opcode(case: &Case, i: usize) -> bool {
    case.bitmask.get(i / 8).is_some_and(|b| b >> (i % 8) & 1 == 1)
}
