//! Every refine host call run through the PVM: a program `ecalli n; jump_ind r0` with registers
//! and memory set by hand, one dispatcher kept across calls, and registers, memory, inner
//! machines and exports checked against GP 0.7.2 §B.8 worked out by hand. A call costs 10 and
//! the program's one basic block 2 more, so a run that continues ends with `GAS − 12`.

mod refine_common;

use std::collections::BTreeMap;

use orrery_invocation::codes::{index, FULL, HUH, NONE, OK, OOB, WHAT, WHO};
use orrery_invocation::refine::guard::{COPY_BUDGET, MAX_INNER_MACHINES, MAX_INNER_PROGRAM};
use orrery_invocation::refine::machines::exit_code;
use orrery_invocation::refine::{RefineHost, RefineInputs};
use orrery_invocation::testing::{Asm, RO, RW, UNMAPPED};
use orrery_pvm::{Access, Exit, Host, Machine, StandardProgram};
use orrery_state::ServiceAccount;
use orrery_types::constants::{MAX_PACKAGE_EXPORTS, SEGMENT_SIZE};
use orrery_types::{ChainSpec, WorkPackage};
use refine_common::*;

const ME: u32 = 7;
const OTHER: u32 = 8;
const GAS: i64 = 1_000_000;
const AFTER: i64 = GAS - 12;
const SELF: u64 = u64::MAX;

/// The inner program of `guests/probe` (see its source): load_u32 r7,[0x20000]; add_imm_64 r7,r7,1;
/// store_u32 [0x20004],r7; ecalli 42; jump_ind r0 — one block of five instructions.
const INNER: [u8; 25] = [
    0,
    0,
    19,
    56,
    7,
    0x00,
    0x00,
    0x02,
    0x00,
    149,
    0x77,
    1,
    61,
    7,
    0x04,
    0x00,
    0x02,
    0x00,
    10,
    42,
    50,
    0,
    0b0100_0001,
    0b1000_0010,
    0b0000_0010,
];

/// What the dispatcher is built from.
struct Env {
    spec: ChainSpec,
    package: WorkPackage,
    accounts: BTreeMap<u32, ServiceAccount>,
    imports: Vec<Vec<Vec<u8>>>,
    extrinsics: Vec<Vec<Vec<u8>>>,
    export_offset: usize,
}

const OLD: &[u8] = b"available since slot 5";
const NEW: &[u8] = b"available from slot 11";
const THEIRS: &[u8] = b"the other service's";

impl Env {
    fn new() -> Self {
        let me = account(&[(OLD, 5), (NEW, ANCHOR + 1)]);
        let other = account(&[(THEIRS, 0)]);
        Self {
            spec: spec(),
            package: package(vec![item(ME, b"code", b"payload".to_vec(), 1_000, 0)]),
            accounts: accounts(vec![(ME, me), (OTHER, other)]),
            imports: vec![vec![vec![0x11; SEGMENT_SIZE]]],
            extrinsics: vec![vec![b"xt".to_vec()]],
            export_offset: 0,
        }
    }

    fn host(&self) -> RefineHost<'_, BTreeMap<u32, ServiceAccount>> {
        let inputs = RefineInputs {
            spec: &self.spec,
            package: &self.package,
            auth_trace: b"auth trace",
            item_index: 0,
            imports: &self.imports,
            extrinsics: &self.extrinsics,
            export_offset: self.export_offset,
        };
        RefineHost::new(inputs, &self.accounts, ME, 1_000_000)
    }
}

/// Runs `ecalli index` then halts with `host`, from the standard layout of [`Asm::service_blob`]
/// (one read-only page of `RO_BYTE` at `RO`, read-write pages from `RW`).
fn call<H: Host>(
    host: &mut H,
    index: u64,
    regs: &[(usize, u64)],
    memory: &[(u32, &[u8])],
    gas: i64,
) -> (Exit, Machine) {
    let mut asm = Asm::new();
    asm.ecalli(index as u32).halt();
    let (_, program) = StandardProgram::from_service_code(&asm.service_blob()).unwrap();
    let mut machine = program.instantiate(&[], 0, gas).unwrap();
    for &(r, v) in regs {
        machine.set_reg(r, v);
    }
    for &(address, data) in memory {
        machine.memory.write(address, data).unwrap();
    }
    let exit = machine.run_with_host(host);
    (exit, machine)
}

fn mem(machine: &Machine, address: u32, length: u32) -> Vec<u8> {
    machine.memory.read_vec(address, length).unwrap()
}

#[test]
fn historical_lookup_sees_preimages_as_of_the_anchor() {
    let env = Env::new();
    let mut host = env.host();
    let hash = blake(OLD);
    // The whole value, own service by 2^64 − 1.
    let (exit, m) = call(
        &mut host,
        index::HISTORICAL_LOOKUP,
        &[(7, SELF), (8, RW.into()), (9, (RW + 64).into()), (10, 0), (11, 100)],
        &[(RW, &hash)],
        GAS,
    );
    assert_eq!((exit, m.reg(7), m.gas()), (Exit::Halt, OLD.len() as u64, AFTER));
    assert_eq!(mem(&m, RW + 64, OLD.len() as u32), OLD);
    // From offset 10, at most 3 octets; own service by its index.
    let (_, m) = call(
        &mut host,
        index::HISTORICAL_LOOKUP,
        &[(7, ME.into()), (8, RW.into()), (9, (RW + 64).into()), (10, 10), (11, 3)],
        &[(RW, &hash)],
        GAS,
    );
    assert_eq!(m.reg(7), OLD.len() as u64);
    assert_eq!(mem(&m, RW + 64, 4), [OLD[10], OLD[11], OLD[12], 0]);
    // Another service's preimage.
    let (_, m) = call(
        &mut host,
        index::HISTORICAL_LOOKUP,
        &[(7, OTHER.into()), (8, RW.into()), (9, (RW + 64).into()), (10, 0), (11, 100)],
        &[(RW, &blake(THEIRS))],
        GAS,
    );
    assert_eq!(m.reg(7), THEIRS.len() as u64);
    // Not yet available at the anchor (slot 10 < 11), no such service, no such hash: NONE.
    for (service, hash) in [(SELF, blake(NEW)), (99, hash), (SELF, [5; 32])] {
        let (exit, m) = call(
            &mut host,
            index::HISTORICAL_LOOKUP,
            &[(7, service), (8, RW.into()), (9, (RW + 64).into()), (10, 0), (11, 100)],
            &[(RW, &hash)],
            GAS,
        );
        assert_eq!((exit, m.reg(7)), (Exit::Halt, NONE));
        assert_eq!(mem(&m, RW + 64, 4), [0; 4], "nothing written");
    }
    // NONE needs no writable output (l = 0).
    let (exit, m) = call(
        &mut host,
        index::HISTORICAL_LOOKUP,
        &[(7, 99), (8, RW.into()), (9, RO.into()), (10, 0), (11, 100)],
        &[(RW, &hash)],
        GAS,
    );
    assert_eq!((exit, m.reg(7)), (Exit::Halt, NONE));
    // An unreadable hash or an unwritable output for a value: panic, ω7 unchanged.
    let (exit, m) = call(
        &mut host,
        index::HISTORICAL_LOOKUP,
        &[(7, SELF), (8, UNMAPPED.into()), (9, RW.into()), (10, 0), (11, 100)],
        &[],
        GAS,
    );
    assert_eq!((exit, m.reg(7)), (Exit::Panic, SELF));
    let (exit, _) = call(
        &mut host,
        index::HISTORICAL_LOOKUP,
        &[(7, SELF), (8, RW.into()), (9, RO.into()), (10, 0), (11, 100)],
        &[(RW, &hash)],
        GAS,
    );
    assert_eq!(exit, Exit::Panic);
}

#[test]
fn export_pads_counts_and_fills_up() {
    let mut env = Env::new();
    env.export_offset = 7;
    let mut host = env.host();
    let (exit, m) = call(&mut host, index::EXPORT, &[(7, RW.into()), (8, 3)], &[(RW, b"abc")], GAS);
    assert_eq!((exit, m.reg(7), m.gas()), (Exit::Halt, 7, AFTER));
    // ω8 past W_G reads only W_G octets (the heap has four pages readable from RW).
    let (exit, m) = call(&mut host, index::EXPORT, &[(7, RW.into()), (8, u64::MAX)], &[(RW, b"xyz")], GAS);
    assert_eq!((exit, m.reg(7)), (Exit::Halt, 8));
    let mut first = b"abc".to_vec();
    first.resize(SEGMENT_SIZE, 0);
    assert_eq!(host.exports.len(), 2);
    assert_eq!(host.exports[0], first);
    assert_eq!(&host.exports[1][..3], b"xyz");
    assert_eq!(host.exports[1].len(), SEGMENT_SIZE);
    // Unreadable: panic, nothing exported.
    let (exit, _) = call(&mut host, index::EXPORT, &[(7, UNMAPPED.into()), (8, 1)], &[], GAS);
    assert_eq!((exit, host.exports.len()), (Exit::Panic, 2));

    // ς + |e| = W_X: FULL.
    env.export_offset = MAX_PACKAGE_EXPORTS - 1;
    let mut host = env.host();
    let (_, m) = call(&mut host, index::EXPORT, &[(7, RW.into()), (8, 1)], &[], GAS);
    assert_eq!(m.reg(7), (MAX_PACKAGE_EXPORTS - 1) as u64);
    let (exit, m) = call(&mut host, index::EXPORT, &[(7, RW.into()), (8, 1)], &[], GAS);
    assert_eq!((exit, m.reg(7), host.exports.len()), (Exit::Halt, FULL, 1));
}

/// Creates the probe's inner machine from `INNER` at RW + 0x800; its index.
fn new_machine(host: &mut RefineHost<'_, BTreeMap<u32, ServiceAccount>>, pc: u64) -> u64 {
    let program = RW + 0x800;
    let (exit, m) = call(
        host,
        index::MACHINE,
        &[(7, program.into()), (8, INNER.len() as u64), (9, pc)],
        &[(program, &INNER)],
        GAS,
    );
    assert_eq!(exit, Exit::Halt);
    m.reg(7)
}

/// `invoke` on machine `n` with `gas` and registers `regs` (ω0 the halt address): the exit code,
/// ω8, and the gas and registers written back.
fn invoke(
    host: &mut RefineHost<'_, BTreeMap<u32, ServiceAccount>>,
    n: u64,
    gas: u64,
    regs: [u64; 13],
) -> (u64, u64, u64, [u64; 13]) {
    let mut block = gas.to_le_bytes().to_vec();
    regs.iter().for_each(|r| block.extend_from_slice(&r.to_le_bytes()));
    let (exit, m) = call(host, index::INVOKE, &[(7, n), (8, RW.into())], &[(RW, &block)], GAS);
    assert_eq!((exit, m.gas()), (Exit::Halt, AFTER));
    let out = mem(&m, RW, 112);
    let word = |i: usize| u64::from_le_bytes(out[8 * i..8 * i + 8].try_into().unwrap());
    (m.reg(7), m.reg(8), word(0), std::array::from_fn(|i| word(1 + i)))
}

const HALT: u64 = 0xffff_0000;

fn halting_regs() -> [u64; 13] {
    let mut regs = [0; 13];
    regs[0] = HALT;
    regs
}

#[test]
fn machine_gives_the_least_free_index_and_rejects_bad_programs() {
    let env = Env::new();
    let mut host = env.host();
    assert_eq!(new_machine(&mut host, 0), 0);
    assert_eq!(new_machine(&mut host, 0), 1);
    assert_eq!(host.machines.len(), 2);
    // Expunge 0: the next is 0 again.
    let (_, m) = call(&mut host, index::EXPUNGE, &[(7, 0)], &[], GAS);
    assert_eq!(m.reg(7), 0);
    assert_eq!(new_machine(&mut host, 3), 0);
    assert_eq!(host.machines.get(0).unwrap().pc, 3);
    // A blob deblob rejects: HUH, no machine.
    let (exit, m) = call(&mut host, index::MACHINE, &[(7, RO.into()), (8, 16), (9, 0)], &[], GAS);
    assert_eq!((exit, m.reg(7), host.machines.len()), (Exit::Halt, HUH, 2));
    // An unreadable program: panic.
    let (exit, m) = call(&mut host, index::MACHINE, &[(7, UNMAPPED.into()), (8, 4), (9, 0)], &[], GAS);
    assert_eq!((exit, m.reg(7)), (Exit::Panic, UNMAPPED.into()));
}

#[test]
fn an_inner_machine_faults_is_given_a_page_poked_runs_and_halts() {
    let env = Env::new();
    let mut host = env.host();
    let n = new_machine(&mut host, 0);
    // The block (5 instructions) is paid on entry; the load faults on page 0x20000.
    assert_eq!(invoke(&mut host, n, 1000, halting_regs()), (exit_code::FAULT, 0x20000, 995, halting_regs()));
    assert_eq!(host.machines.get(n).unwrap().pc, 0);
    // pages 0x20 read-write, poke 41 there.
    let (_, m) = call(&mut host, index::PAGES, &[(7, n), (8, 0x20), (9, 1), (10, 2)], &[], GAS);
    assert_eq!(m.reg(7), OK);
    let (_, m) = call(
        &mut host,
        index::POKE,
        &[(7, n), (8, RW.into()), (9, 0x20000), (10, 4)],
        &[(RW, &41u32.to_le_bytes())],
        GAS,
    );
    assert_eq!((m.reg(7), m.gas()), (OK, AFTER));
    // Runs on: 42 stored, then ecalli 42 exits with the counter after it (15 + 2 = 17).
    let mut regs = halting_regs();
    regs[7] = 42;
    assert_eq!(invoke(&mut host, n, 995, halting_regs()), (exit_code::HOST, 42, 995, regs));
    assert_eq!(host.machines.get(n).unwrap().pc, 17);
    // peek the stored word; 8 octets from 0x20000 are 41 then 42.
    let (_, m) =
        call(&mut host, index::PEEK, &[(7, n), (8, (RW + 256).into()), (9, 0x20000), (10, 8)], &[], GAS);
    assert_eq!(m.reg(7), OK);
    assert_eq!(mem(&m, RW + 256, 8), [41, 0, 0, 0, 42, 0, 0, 0]);
    // Resumes after the ecalli and halts at jump_ind (pc 17, the vectors' convention); ω8 keeps
    // the block's address.
    let (code, detail, gas, _) = invoke(&mut host, n, 995, regs);
    assert_eq!((code, detail, gas), (exit_code::HALT, u64::from(RW), 995));
    let (_, m) = call(&mut host, index::EXPUNGE, &[(7, n)], &[], GAS);
    assert_eq!((m.reg(7), host.machines.len()), (17, 0));
}

#[test]
fn inner_machines_panic_and_run_out_of_gas() {
    let env = Env::new();
    let mut host = env.host();
    let program = RW + 0x800;
    for (code, expected) in
        [(&[0u8, 0, 1, 0, 1][..], exit_code::PANIC), (&[0, 0, 2, 40, 0, 1][..], exit_code::OOG)]
    {
        let (_, m) = call(
            &mut host,
            index::MACHINE,
            &[(7, program.into()), (8, code.len() as u64), (9, 0)],
            &[(program, code)],
            GAS,
        );
        let n = m.reg(7);
        let (got, detail, gas, _) = invoke(&mut host, n, 10, [7; 13]);
        // trap pays 1; the loop pays 1 per turn until none is left and reports 0.
        assert_eq!(
            (got, detail, gas),
            (expected, RW.into(), if expected == exit_code::PANIC { 9 } else { 0 })
        );
    }
    // A counter past every instruction traps (and past 2^32 stays as given).
    let n = new_machine(&mut host, 1 << 40);
    let (code, _, gas, _) = invoke(&mut host, n, 10, [0; 13]);
    assert_eq!((code, gas, host.machines.get(n).unwrap().pc), (exit_code::PANIC, 9, 1 << 40));
}

#[test]
fn peek_poke_and_pages_answer_who_oob_and_huh() {
    let env = Env::new();
    let mut host = env.host();
    let n = new_machine(&mut host, 0);
    let no = n + 5;
    for (call_index, regs) in [
        (index::PEEK, [no, RW.into(), 0x20000, 4]),
        (index::POKE, [no, RW.into(), 0x20000, 4]),
        (index::PAGES, [no, 0x20, 1, 2]),
        (index::EXPUNGE, [no, 0, 0, 0]),
    ] {
        let (exit, m) =
            call(&mut host, call_index, &[(7, regs[0]), (8, regs[1]), (9, regs[2]), (10, regs[3])], &[], GAS);
        assert_eq!((exit, m.reg(7)), (Exit::Halt, WHO), "call {call_index}");
    }
    let (exit, m) = call(&mut host, index::INVOKE, &[(7, no), (8, RW.into())], &[], GAS);
    assert_eq!((exit, m.reg(7), m.reg(8)), (Exit::Halt, WHO, RW.into()));

    // Inaccessible inner memory: OOB, nothing copied.
    let (_, m) =
        call(&mut host, index::PEEK, &[(7, n), (8, RW.into()), (9, 0x20000), (10, 4)], &[(RW, &[9; 4])], GAS);
    assert_eq!((m.reg(7), mem(&m, RW, 4)), (OOB, vec![9; 4]));
    // A read-only inner page: peek fine, poke OOB.
    let (_, m) = call(&mut host, index::PAGES, &[(7, n), (8, 0x20), (9, 2), (10, 1)], &[], GAS);
    assert_eq!(m.reg(7), OK);
    let (_, m) = call(&mut host, index::POKE, &[(7, n), (8, RW.into()), (9, 0x20000), (10, 4)], &[], GAS);
    assert_eq!(m.reg(7), OOB);
    // A range crossing into an inaccessible page is OOB too.
    let (_, m) = call(&mut host, index::PEEK, &[(7, n), (8, RW.into()), (9, 0x21ffe), (10, 4)], &[], GAS);
    assert_eq!(m.reg(7), OOB);
    // Zero octets from anywhere: OK.
    let (_, m) = call(&mut host, index::PEEK, &[(7, n), (8, RW.into()), (9, 0x90000), (10, 0)], &[], GAS);
    assert_eq!(m.reg(7), OK);

    // pages: HUH for a mode past 4, a page below 16, a range reaching 2^20 pages, and keeping
    // modes over inaccessible pages (0x22 is, 0x20–0x21 are not).
    for regs in [
        [n, 0x20, 1, 5],
        [n, 15, 1, 2],
        [n, 0xf_ffff, 1, 2],
        [n, u64::MAX, 2, 2],
        [n, 0x21, 2, 4],
        [n, 0x22, 1, 3],
    ] {
        let (_, m) = call(
            &mut host,
            index::PAGES,
            &[(7, regs[0]), (8, regs[1]), (9, regs[2]), (10, regs[3])],
            &[],
            GAS,
        );
        assert_eq!(m.reg(7), HUH, "pages {regs:?}");
    }
    // Mode 4 keeps contents, mode 2 zeroes them, mode 0 removes access.
    let (_, m) = call(&mut host, index::PAGES, &[(7, n), (8, 0x20), (9, 2), (10, 4)], &[], GAS);
    assert_eq!(m.reg(7), OK);
    let (_, m) =
        call(&mut host, index::POKE, &[(7, n), (8, RW.into()), (9, 0x20000), (10, 4)], &[(RW, b"keep")], GAS);
    assert_eq!(m.reg(7), OK);
    let (_, m) = call(&mut host, index::PAGES, &[(7, n), (8, 0x20), (9, 1), (10, 3)], &[], GAS);
    assert_eq!(m.reg(7), OK);
    let (_, m) = call(&mut host, index::PEEK, &[(7, n), (8, RW.into()), (9, 0x20000), (10, 4)], &[], GAS);
    assert_eq!((m.reg(7), mem(&m, RW, 4)), (OK, b"keep".to_vec()));
    let (_, m) = call(&mut host, index::PAGES, &[(7, n), (8, 0x20), (9, 1), (10, 2)], &[], GAS);
    assert_eq!(m.reg(7), OK);
    let (_, m) = call(&mut host, index::PEEK, &[(7, n), (8, RW.into()), (9, 0x20000), (10, 4)], &[], GAS);
    assert_eq!((m.reg(7), mem(&m, RW, 4)), (OK, vec![0; 4]));
    let (_, m) = call(&mut host, index::PAGES, &[(7, n), (8, 0x20), (9, 1), (10, 0)], &[], GAS);
    assert_eq!(m.reg(7), OK);
    let (_, m) = call(&mut host, index::PEEK, &[(7, n), (8, RW.into()), (9, 0x20000), (10, 4)], &[], GAS);
    assert_eq!(m.reg(7), OOB);
}

#[test]
fn calls_panic_on_the_callers_inaccessible_memory() {
    let env = Env::new();
    let mut host = env.host();
    let n = new_machine(&mut host, 0);
    let (_, m) = call(&mut host, index::PAGES, &[(7, n), (8, 0x20), (9, 1), (10, 2)], &[], GAS);
    assert_eq!(m.reg(7), OK);
    // peek into read-only memory, poke from unmapped memory, invoke with a read-only block (it
    // must be writable, not just readable): panics, with or without such a machine.
    for target in [n, n + 9] {
        let cases = [
            (index::PEEK, [target, RO.into(), 0x20000, 4]),
            (index::POKE, [target, UNMAPPED.into(), 0x20000, 4]),
            (index::INVOKE, [target, RO.into(), 0, 0]),
        ];
        for (call_index, regs) in cases {
            let (exit, m) = call(
                &mut host,
                call_index,
                &[(7, regs[0]), (8, regs[1]), (9, regs[2]), (10, regs[3])],
                &[],
                GAS,
            );
            assert_eq!((exit, m.reg(7)), (Exit::Panic, target), "call {call_index} on {target}");
        }
    }
    // Ranges past 2^32 are never accessible.
    let (exit, _) = call(&mut host, index::EXPORT, &[(7, u64::MAX - 1), (8, 4)], &[], GAS);
    assert_eq!(exit, Exit::Panic);
    // The machine is untouched by the failed calls.
    assert_eq!(host.machines.get(n).unwrap().pc, 0);
}

#[test]
fn every_call_runs_out_of_gas_below_its_cost() {
    let env = Env::new();
    let calls = [
        index::GAS,
        index::FETCH,
        index::HISTORICAL_LOOKUP,
        index::EXPORT,
        index::MACHINE,
        index::PEEK,
        index::POKE,
        index::PAGES,
        index::INVOKE,
        index::EXPUNGE,
        index::LOG,
        index::WRITE,
        1000,
    ];
    for call_index in calls {
        let mut host = env.host();
        // The block's 2, then 9 left for a call costing 10.
        let (exit, m) = call(&mut host, call_index, &[(7, 77)], &[], 2 + 9);
        assert_eq!((exit, m.gas(), m.reg(7)), (Exit::OutOfGas, 9, 77), "call {call_index}");
        assert!(host.exports.is_empty() && host.machines.is_empty());
    }
}

#[test]
fn gas_fetch_log_and_other_calls_in_refine() {
    let env = Env::new();
    let mut host = env.host();
    let (_, m) = call(&mut host, index::GAS, &[], &[], GAS);
    assert_eq!(m.reg(7), AFTER as u64);
    // fetch: the entropy is the zero hash; the trace and own import are there; inputs are not.
    let fetch = |host: &mut RefineHost<'_, BTreeMap<u32, ServiceAccount>>, selector: u64, a: u64| {
        let (exit, m) = call(
            host,
            index::FETCH,
            &[(7, RW.into()), (8, 0), (9, 4200), (10, selector), (11, a)],
            &[(RW, &[0xee; 32])],
            GAS,
        );
        assert_eq!(exit, Exit::Halt);
        (m.reg(7), m)
    };
    let (len, m) = fetch(&mut host, 1, 0);
    assert_eq!((len, mem(&m, RW, 32)), (32, vec![0; 32]));
    let (len, m) = fetch(&mut host, 2, 0);
    assert_eq!((len, mem(&m, RW, 10)), (10, b"auth trace".to_vec()));
    let (len, m) = fetch(&mut host, 6, 0);
    assert_eq!((len, mem(&m, RW, 4)), (SEGMENT_SIZE as u64, vec![0x11; 4]));
    let (len, m) = fetch(&mut host, 4, 0);
    assert_eq!((len, mem(&m, RW, 2)), (2, b"xt".to_vec()));
    // Selector 3 names item ω11's extrinsic ω12 (here ω12 = 0): item 0 has one, item 1 none.
    let (len, _) = fetch(&mut host, 3, 0);
    assert_eq!(len, 2);
    let (len, _) = fetch(&mut host, 3, 1);
    assert_eq!(len, NONE);
    let (len, _) = fetch(&mut host, 14, 0);
    assert_eq!(len, NONE);
    let (len, _) = fetch(&mut host, 15, 0);
    assert_eq!(len, NONE);
    // log answers WHAT and keeps the message; accumulate's calls answer WHAT in refine.
    let (exit, m) =
        call(&mut host, index::LOG, &[(7, 2), (8, 0), (9, 0), (10, RW.into()), (11, 2)], &[(RW, b"hi")], GAS);
    assert_eq!((exit, m.reg(7), m.gas()), (Exit::Halt, WHAT, AFTER));
    assert_eq!(host.logs.last().unwrap().message, b"hi");
    for other in [index::LOOKUP, index::READ, index::WRITE, index::INFO, index::BLESS, index::YIELD, 255] {
        let (exit, m) = call(&mut host, other, &[(7, 1)], &[], GAS);
        assert_eq!((exit, m.reg(7), m.gas()), (Exit::Halt, WHAT, AFTER), "call {other}");
    }
}

#[test]
fn resource_guards_end_runaway_invocations() {
    let env = Env::new();
    // More than MAX_INNER_MACHINES machines at once: the invocation panics.
    let mut host = env.host();
    for i in 0..MAX_INNER_MACHINES as u64 {
        assert_eq!(new_machine(&mut host, 0), i);
    }
    let program = RW + 0x800;
    let (exit, _) = call(
        &mut host,
        index::MACHINE,
        &[(7, program.into()), (8, INNER.len() as u64), (9, 0)],
        &[(program, &INNER)],
        GAS,
    );
    assert_eq!(exit, Exit::Panic);
    // A readable program longer than W_C: panic, before reading it.
    let mut host = env.host();
    let mut asm = Asm::new();
    asm.ecalli(index::MACHINE as u32).halt();
    let (_, program_code) = StandardProgram::from_service_code(&asm.service_blob()).unwrap();
    let mut machine = program_code.instantiate(&[], 0, GAS).unwrap();
    let big = MAX_INNER_PROGRAM as u32 + 1;
    machine.memory.set_access(0x100_0000, big, Access::ReadWrite);
    for (r, v) in [(7, 0x100_0000), (8, u64::from(big)), (9, 0)] {
        machine.set_reg(r, v);
    }
    assert_eq!(machine.run_with_host(&mut host), Exit::Panic);
    assert!(host.machines.is_empty());
    // Inner gas is capped at what is left of the item's refine gas (1,000,000 here): a machine
    // asking for more runs out there.
    let mut host = env.host();
    let code = [0u8, 0, 2, 40, 0, 1];
    let (_, m) =
        call(&mut host, index::MACHINE, &[(7, program.into()), (8, 6), (9, 0)], &[(program, &code)], GAS);
    let (exit_code_got, _, gas, _) = invoke(&mut host, m.reg(7), u64::MAX, [0; 13]);
    assert_eq!((exit_code_got, gas, host.budget.inner_gas), (exit_code::OOG, 0, 0));
    // The copy budget is large: a normal peek uses a sliver of it.
    let n = new_machine(&mut host, 0);
    let (_, m) = call(&mut host, index::PAGES, &[(7, n), (8, 0x20), (9, 1), (10, 2)], &[], GAS);
    assert_eq!(m.reg(7), OK);
    let (_, m) = call(&mut host, index::PEEK, &[(7, n), (8, RW.into()), (9, 0x20000), (10, 4096)], &[], GAS);
    assert_eq!((m.reg(7), host.budget.copy), (OK, COPY_BUDGET - 4096));
}
