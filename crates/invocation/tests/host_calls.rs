//! Every accumulate host call, run through the PVM: a program `ecalli n; jump_ind r0` with the
//! registers and memory set by hand, then the registers, memory and context checked against the
//! paper's definitions (GP 0.7.2 §B.5, §B.7) worked out by hand. A host call's gas is 10 (and the
//! program's one basic block 2 more), so a run that continues ends with `GAS − 12`.

mod common;

use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};
use common::*;
use orrery_invocation::codes::{index, CASH, CORE, FULL, HUH, LOW, NONE, OK, WHAT, WHO};
use orrery_invocation::{AccumulationInput, DeferredTransfer, OperandTuple};
use orrery_pvm::Exit;
use orrery_state::ServiceAccount;
use orrery_types::WorkExecResult;

fn blake(data: &[u8]) -> [u8; 32] {
    Blake2b::<U32>::digest(data).into()
}

const ME: u32 = 7;
const OTHER: u32 = 8;
const AFTER: i64 = GAS - BLOCK_GAS - 10;

fn env_with(accounts: Vec<(u32, ServiceAccount)>) -> Env {
    Env::new(partial_state(accounts), ME)
}

fn simple_env() -> Env {
    env_with(vec![(ME, account(1_000_000)), (OTHER, account(5))])
}

fn idx(i: u64) -> u32 {
    i as u32
}

#[test]
fn gas_reports_what_is_left_after_its_own_cost() {
    let env = simple_env();
    let run = call(&env, idx(index::GAS), &[], &[], GAS);
    assert_eq!(run.exit, Exit::Halt);
    assert_eq!(run.reg(7), AFTER as u64);
    assert_eq!(run.machine.gas(), AFTER);
}

/// The constants of `fetch` selector 0 for the tiny spec, in the paper's order and widths.
fn tiny_constants() -> Vec<u8> {
    let fields: [(u64, usize); 33] = [
        (10, 8),            // B_I
        (1, 8),             // B_L
        (100, 8),           // B_S
        (2, 2),             // C
        (32, 4),            // D (the vectors' tiny value)
        (12, 4),            // E
        (10_000_000, 8),    // G_A
        (50_000_000, 8),    // G_I
        (1_000_000_000, 8), // G_R
        (20_000_000, 8),    // G_T
        (8, 2),             // H
        (16, 2),            // I
        (8, 2),             // J
        (3, 2),             // K
        (24, 4),            // L (the fuzzer's tiny value)
        (3, 2),             // N
        (8, 2),             // O
        (6, 2),             // P
        (80, 2),            // Q
        (4, 2),             // R
        (128, 2),           // T
        (5, 2),             // U
        (6, 2),             // V
        (64_000, 4),        // W_A
        (13_791_360, 4),    // W_B
        (4_000_000, 4),     // W_C
        (4, 4),             // W_E
        (3072, 4),          // W_M
        (1026, 4),          // W_P
        (49_152, 4),        // W_R
        (128, 4),           // W_T
        (3072, 4),          // W_X
        (10, 4),            // Y
    ];
    fields.iter().flat_map(|&(v, w)| v.to_le_bytes()[..w].to_vec()).collect()
}

fn transfer() -> DeferredTransfer {
    DeferredTransfer { source: 1, dest: ME, amount: 0x0102, memo: [0x33; 128], gas: 0x0a0b }
}

fn operand() -> OperandTuple {
    OperandTuple {
        package_hash: [1; 32],
        segment_root: [2; 32],
        authorizer_hash: [3; 32],
        payload_hash: [4; 32],
        gas_limit: 200,
        result: WorkExecResult::Ok(vec![0xaa, 0xbb]),
        auth_trace: vec![0xcc],
    }
}

#[test]
fn fetch_constants_entropy_and_inputs() {
    let mut env = simple_env();
    env.inputs = vec![AccumulationInput::Transfer(transfer()), AccumulationInput::Operand(operand())];
    let fetch = |selector: u64, index: u64, offset: u64, length: u64| {
        let run = call(
            &env,
            idx(index::FETCH),
            &[(7, u64::from(RW)), (8, offset), (9, length), (10, selector), (11, index)],
            &[],
            GAS,
        );
        assert_eq!(run.exit, Exit::Halt);
        let len = run.reg(7);
        (len, run.mem(RW, length.min(len.saturating_sub(offset)) as u32))
    };
    let constants = tiny_constants();
    assert_eq!(constants.len(), 134);
    assert_eq!(fetch(0, 0, 0, 1000), (134, constants.clone()));
    // From offset 3, at most 4 octets; ω7 is still the whole length.
    assert_eq!(fetch(0, 0, 3, 4), (134, constants[3..7].to_vec()));
    assert_eq!(fetch(1, 0, 0, 32), (32, vec![0x11; 32]));

    // E_X of the transfer: E4(1), E4(7), E8(0x0102), memo, E8(0x0a0b), after discriminator 1.
    let mut x = vec![1];
    x.extend_from_slice(&[1, 0, 0, 0, 7, 0, 0, 0]);
    x.extend_from_slice(&[2, 1, 0, 0, 0, 0, 0, 0]);
    x.extend_from_slice(&[0x33; 128]);
    x.extend_from_slice(&[0x0b, 0x0a, 0, 0, 0, 0, 0, 0]);
    // E_U of the operand after discriminator 0: four hashes, g = 200 as a general natural
    // (0x80 | 0, 0xc8), O = 0 then ↕[aa bb], then ↕[cc].
    let mut u = vec![0];
    for b in 1..=4u8 {
        u.extend_from_slice(&[b; 32]);
    }
    u.extend_from_slice(&[0x80, 0xc8, 0, 2, 0xaa, 0xbb, 1, 0xcc]);
    assert_eq!(fetch(15, 0, 0, 1000), (x.len() as u64, x.clone()));
    assert_eq!(fetch(15, 1, 0, 1000), (u.len() as u64, u.clone()));
    let all = [vec![2], x, u].concat();
    assert_eq!(fetch(14, 0, 0, 1000), (all.len() as u64, all));
}

#[test]
fn fetch_out_of_range_and_unwritable() {
    let env = simple_env();
    // Past the inputs, refine-only selectors and unknown ones: NONE, memory untouched.
    for (selector, index) in [(15, 0), (2, 0), (7, 0), (13, 0), (16, 0), (u64::MAX, 0)] {
        let run = call(
            &env,
            idx(index::FETCH),
            &[(7, u64::from(RW)), (9, 8), (10, selector), (11, index)],
            &[],
            GAS,
        );
        assert_eq!((run.exit, run.reg(7)), (Exit::Halt, NONE), "selector {selector}");
        assert_eq!(run.mem(RW, 8), vec![0; 8]);
    }
    // A read-only or unmapped output is a panic, unless nothing is to be written.
    for output in [RO, UNMAPPED, u32::MAX - 2] {
        let run = call(&env, idx(index::FETCH), &[(7, u64::from(output)), (9, 8), (10, 1)], &[], GAS);
        assert_eq!(run.exit, Exit::Panic, "{output:#x}");
    }
    let run = call(&env, idx(index::FETCH), &[(7, u64::from(UNMAPPED)), (9, 0), (10, 1)], &[], GAS);
    assert_eq!((run.exit, run.reg(7)), (Exit::Halt, 32));
    // An output address past 2^32 is never writable.
    let run = call(&env, idx(index::FETCH), &[(7, 1 << 32), (9, 1), (10, 1)], &[], GAS);
    assert_eq!(run.exit, Exit::Panic);
}

#[test]
fn lookup_own_and_other_preimages() {
    let blob = b"preimage data".to_vec();
    let hash = blake(&blob);
    let mut me = account(1_000);
    me.set_preimage(&hash, blob.clone());
    let mut other = account(1_000);
    other.set_preimage(&hash, b"other's".to_vec());
    let env = env_with(vec![(ME, me), (OTHER, other)]);
    let memory: &[(u32, &[u8])] = &[(RW, &hash)];
    let out = u64::from(RW + 0x100);
    for (target, expected) in
        [(u64::MAX, &blob[..]), (u64::from(ME), &blob[..]), (u64::from(OTHER), b"other's")]
    {
        let run = call(
            &env,
            idx(index::LOOKUP),
            &[(7, target), (8, u64::from(RW)), (9, out), (10, 1), (11, 5)],
            memory,
            GAS,
        );
        assert_eq!((run.exit, run.reg(7)), (Exit::Halt, expected.len() as u64));
        assert_eq!(run.mem(RW + 0x100, 5), expected[1..6].to_vec());
    }
    // Unknown service or hash: NONE.
    for (target, hash_at) in [(9u64, RW), (1 << 40, RW), (u64::MAX, RW + 0x200)] {
        let run = call(
            &env,
            idx(index::LOOKUP),
            &[(7, target), (8, u64::from(hash_at)), (9, out), (11, 5)],
            memory,
            GAS,
        );
        assert_eq!((run.exit, run.reg(7)), (Exit::Halt, NONE));
    }
    // The hash not readable: a panic.
    let run =
        call(&env, idx(index::LOOKUP), &[(7, u64::MAX), (8, u64::from(UNMAPPED)), (9, out)], memory, GAS);
    assert_eq!(run.exit, Exit::Panic);
    // The output not writable: a panic, but only when something is to be written.
    let run = call(
        &env,
        idx(index::LOOKUP),
        &[(7, u64::MAX), (8, u64::from(RW)), (9, u64::from(RO)), (11, 5)],
        memory,
        GAS,
    );
    assert_eq!(run.exit, Exit::Panic);
}

#[test]
fn read_own_and_other_storage() {
    let mut me = account(1_000_000);
    me.set_storage(b"key", b"my value".to_vec());
    let mut other = account(1_000_000);
    other.set_storage(b"key", b"their value".to_vec());
    let env = env_with(vec![(ME, me), (OTHER, other)]);
    let memory: &[(u32, &[u8])] = &[(RW, b"key")];
    let out = u64::from(RW + 0x100);
    for (target, expected) in
        [(u64::MAX, &b"my value"[..]), (u64::from(ME), b"my value"), (u64::from(OTHER), b"their value")]
    {
        let run = call(
            &env,
            idx(index::READ),
            &[(7, target), (8, u64::from(RW)), (9, 3), (10, out), (11, 3), (12, 100)],
            memory,
            GAS,
        );
        assert_eq!((run.exit, run.reg(7)), (Exit::Halt, expected.len() as u64));
        assert_eq!(run.mem(RW + 0x100, expected.len() as u32 - 3), expected[3..].to_vec());
    }
    // Missing key (a prefix of the stored one) and missing service.
    for (target, len) in [(u64::MAX, 2), (99, 3)] {
        let run = call(
            &env,
            idx(index::READ),
            &[(7, target), (8, u64::from(RW)), (9, len), (10, out), (12, 100)],
            memory,
            GAS,
        );
        assert_eq!((run.exit, run.reg(7)), (Exit::Halt, NONE));
    }
    let run = call(
        &env,
        idx(index::READ),
        &[(7, u64::MAX), (8, u64::from(UNMAPPED)), (9, 3), (10, out)],
        memory,
        GAS,
    );
    assert_eq!(run.exit, Exit::Panic);
    let run = call(
        &env,
        idx(index::READ),
        &[(7, u64::MAX), (8, u64::from(RW)), (9, 3), (10, u64::from(RO)), (12, 1)],
        memory,
        GAS,
    );
    assert_eq!(run.exit, Exit::Panic);
}

#[test]
fn write_sets_removes_and_counts() {
    let env = env_with(vec![(ME, account(1_000_000))]);
    let memory: &[(u32, &[u8])] = &[(RW, b"key"), (RW + 0x10, b"value!")];
    let regs = [(7, u64::from(RW)), (8, 3), (9, u64::from(RW + 0x10)), (10, 6)];
    let run = call(&env, idx(index::WRITE), &regs, memory, GAS);
    assert_eq!((run.exit, run.reg(7)), (Exit::Halt, NONE), "no previous value");
    let me = run.host.regular.state.account(ME).unwrap().clone();
    assert_eq!(me.storage(b"key"), Some(&b"value!"[..]));
    // One item of 34 + 3 + 6 octets.
    assert_eq!((me.info.items, me.info.bytes), (1, 43));
    // The exceptional dimension is untouched.
    assert_eq!(run.host.exceptional.state.account(ME).unwrap().storage(b"key"), None);

    // Overwrite then remove, on the same context: ω7 is the previous length each time.
    let host = run.host;
    let run = call_with(
        &env,
        host,
        idx(index::WRITE),
        &[(7, u64::from(RW)), (8, 3), (9, u64::from(RW + 0x10)), (10, 2)],
        memory,
        GAS,
    );
    assert_eq!(run.reg(7), 6);
    assert_eq!(run.host.regular.state.account(ME).unwrap().storage(b"key"), Some(&b"va"[..]));
    let run = call_with(
        &env,
        run.host,
        idx(index::WRITE),
        &[(7, u64::from(RW)), (8, 3), (9, u64::from(UNMAPPED)), (10, 0)],
        memory,
        GAS,
    );
    assert_eq!((run.exit, run.reg(7)), (Exit::Halt, 2), "a zero length removes, reading no value");
    let me = run.host.regular.state.account(ME).unwrap();
    assert_eq!((me.storage(b"key"), me.info.items, me.info.bytes), (None, 0, 0));

    // Unreadable key or value: a panic, nothing written.
    for regs in [
        [(7, u64::from(UNMAPPED)), (8, 3), (9, u64::from(RW)), (10, 1)],
        [(7, u64::from(RW)), (8, 3), (9, u64::from(UNMAPPED)), (10, 1)],
    ] {
        let run = call(&env, idx(index::WRITE), &regs, memory, GAS);
        assert_eq!(run.exit, Exit::Panic);
        assert_eq!(run.host.regular.state.account(ME).unwrap().storage(b"key"), None);
    }
}

#[test]
fn write_beyond_the_balance_is_full() {
    // Threshold after the write: 100 + 10·1 + (34 + 3 + 6) = 153.
    for (balance, expected) in [(152, FULL), (153, NONE)] {
        let env = env_with(vec![(ME, account(balance))]);
        let memory: &[(u32, &[u8])] = &[(RW, b"key"), (RW + 0x10, b"value!")];
        let run = call(
            &env,
            idx(index::WRITE),
            &[(7, u64::from(RW)), (8, 3), (9, u64::from(RW + 0x10)), (10, 6)],
            memory,
            GAS,
        );
        assert_eq!((run.exit, run.reg(7)), (Exit::Halt, expected));
        let me = run.host.regular.state.account(ME).unwrap();
        if expected == FULL {
            assert_eq!(*me, env.state.accounts[&ME], "a FULL write changes nothing");
        }
    }
}

#[test]
fn info_encodes_the_account() {
    let mut other = account(0x0102);
    other.info.code_hash = [9; 32];
    other.info.min_item_gas = 3;
    other.info.min_memo_gas = 4;
    other.info.deposit_offset = 5;
    other.info.creation_slot = 6;
    other.info.last_accumulation_slot = 7;
    other.info.parent_service = 8;
    other.set_storage(b"k", vec![1]);
    let env = env_with(vec![(ME, account(1)), (OTHER, other)]);
    // c, E8(b, t, g, m, o), E4(i), E8(f), E4(r, a, p): t = 100 + 10 + 36 − 5 = 141, o = 34 + 1 + 1.
    let mut expected = vec![9; 32];
    for x in [0x0102u64, 141, 3, 4, 36] {
        expected.extend_from_slice(&x.to_le_bytes());
    }
    expected.extend_from_slice(&1u32.to_le_bytes());
    expected.extend_from_slice(&5u64.to_le_bytes());
    for x in [6u32, 7, 8] {
        expected.extend_from_slice(&x.to_le_bytes());
    }
    assert_eq!(expected.len(), 96);
    let run = call(
        &env,
        idx(index::INFO),
        &[(7, u64::from(OTHER)), (8, u64::from(RW)), (9, 0), (10, 96)],
        &[],
        GAS,
    );
    assert_eq!((run.exit, run.reg(7)), (Exit::Halt, 96));
    assert_eq!(run.mem(RW, 96), expected);
    // Itself by 2^64 − 1: balance 1, threshold 100.
    let run = call(&env, idx(index::INFO), &[(7, u64::MAX), (8, u64::from(RW)), (9, 32), (10, 16)], &[], GAS);
    assert_eq!(run.mem(RW, 16), [1u64.to_le_bytes(), 100u64.to_le_bytes()].concat());
    let run = call(&env, idx(index::INFO), &[(7, 99), (8, u64::from(RW)), (10, 96)], &[], GAS);
    assert_eq!(run.reg(7), NONE);
    let run = call(&env, idx(index::INFO), &[(7, u64::MAX), (8, u64::from(RO)), (10, 96)], &[], GAS);
    assert_eq!(run.exit, Exit::Panic);
}

#[test]
fn bless_sets_every_privilege() {
    let env = simple_env();
    // Assigners 11, 12 (C = 2); two always-accumulate pairs (20 ↦ 1000, 21 ↦ 2000).
    let assigners = [11u32.to_le_bytes(), 12u32.to_le_bytes()].concat();
    let mut pairs = Vec::new();
    for (s, g) in [(20u32, 1000u64), (21, 2000)] {
        pairs.extend_from_slice(&s.to_le_bytes());
        pairs.extend_from_slice(&g.to_le_bytes());
    }
    let memory: &[(u32, &[u8])] = &[(RW, &assigners), (RW + 0x100, &pairs)];
    let regs = [(7, 10), (8, u64::from(RW)), (9, 13), (10, 14), (11, u64::from(RW + 0x100)), (12, 2)];
    let run = call(&env, idx(index::BLESS), &regs, memory, GAS);
    assert_eq!((run.exit, run.reg(7)), (Exit::Halt, OK));
    let p = run.host.regular.state.privileges();
    assert_eq!((p.bless, p.assign.clone(), p.designate, p.register), (10, vec![11, 12], 13, 14));
    assert_eq!(p.always_acc.iter().map(|(s, g)| (*s, *g)).collect::<Vec<_>>(), vec![(20, 1000), (21, 2000)]);

    // A manager, delegator or registrar past 2^32: WHO, nothing set.
    for r in [7, 9, 10] {
        let mut bad = regs;
        bad[r - 7].1 = 1 << 32;
        let run = call(&env, idx(index::BLESS), &bad, memory, GAS);
        assert_eq!((run.exit, run.reg(7)), (Exit::Halt, WHO));
        assert_eq!(run.host.regular.state.privileges(), &env.state.privileges);
    }
    // Assigners or pairs not readable (including a count whose 12n overflows): a panic.
    for (r, v) in [(8, u64::from(UNMAPPED)), (11, u64::from(UNMAPPED)), (12, u64::MAX / 2)] {
        let mut bad = regs;
        bad[r - 7].1 = v;
        let run = call(&env, idx(index::BLESS), &bad, memory, GAS);
        assert_eq!(run.exit, Exit::Panic);
    }
}

#[test]
fn assign_needs_the_cores_assigner() {
    let mut state = partial_state(vec![(ME, account(1_000))]);
    state.privileges.assign = vec![OTHER, ME];
    let env = Env::new(state, ME);
    let queue: Vec<u8> = (0..80u8).flat_map(|i| [i; 32]).collect();
    let memory: &[(u32, &[u8])] = &[(RW, &queue)];
    let run = call(&env, idx(index::ASSIGN), &[(7, 1), (8, u64::from(RW)), (9, 42)], memory, GAS);
    assert_eq!((run.exit, run.reg(7)), (Exit::Halt, OK));
    let view = &run.host.regular.state;
    assert_eq!(view.auth_queues().0[1][79], [79; 32]);
    assert_eq!(view.auth_queues().0[0], env.state.auth_queues.0[0]);
    assert_eq!(view.privileges().assign, vec![OTHER, 42]);
    for (regs, code) in [
        ([(7, 2), (8, u64::from(RW)), (9, 42)], CORE),
        ([(7, 0), (8, u64::from(RW)), (9, 42)], HUH),
        ([(7, 1), (8, u64::from(RW)), (9, 1 << 32)], WHO),
    ] {
        let run = call(&env, idx(index::ASSIGN), &regs, memory, GAS);
        assert_eq!((run.exit, run.reg(7)), (Exit::Halt, code));
        assert!(run.host.regular.state.changes().auth_queues.is_none());
    }
    // The queue is read before anything else: unreadable is a panic even for a bad core.
    let run = call(&env, idx(index::ASSIGN), &[(7, 5), (8, u64::from(RW + 0x3c00))], memory, GAS);
    assert_eq!(run.exit, Exit::Panic);
}

#[test]
fn designate_needs_the_delegator() {
    let mut state = partial_state(vec![(ME, account(1_000))]);
    state.privileges.designate = ME;
    let env = Env::new(state, ME);
    let keys: Vec<u8> = (0..6u8).flat_map(|i| [i + 1; 336]).collect();
    let memory: &[(u32, &[u8])] = &[(RW, &keys)];
    let run = call(&env, idx(index::DESIGNATE), &[(7, u64::from(RW))], memory, GAS);
    assert_eq!((run.exit, run.reg(7)), (Exit::Halt, OK));
    let staged = run.host.regular.state.staging();
    assert_eq!(staged.0.len(), 6);
    assert_eq!((staged.0[2].bandersnatch, staged.0[2].metadata), ([3; 32], [3; 128]));
    let other = Env::new(partial_state(vec![(ME, account(1_000))]), ME);
    let run = call(&other, idx(index::DESIGNATE), &[(7, u64::from(RW))], memory, GAS);
    assert_eq!((run.exit, run.reg(7)), (Exit::Halt, HUH));
    let run = call(&env, idx(index::DESIGNATE), &[(7, u64::from(RW + 0x3c00))], memory, GAS);
    assert_eq!(run.exit, Exit::Panic, "6 × 336 octets from the last heap page run off the heap");
}

#[test]
fn checkpoint_copies_x_to_y_and_reports_gas() {
    let env = simple_env();
    let memory: &[(u32, &[u8])] = &[(RW, b"key"), (RW + 0x10, b"v")];
    let run = call(
        &env,
        idx(index::WRITE),
        &[(7, u64::from(RW)), (8, 3), (9, u64::from(RW + 0x10)), (10, 1)],
        memory,
        GAS,
    );
    assert!(run.host.exceptional.state.account(ME).unwrap().storage(b"key").is_none());
    let run = call_with(&env, run.host, idx(index::CHECKPOINT), &[], &[], GAS);
    assert_eq!((run.exit, run.reg(7)), (Exit::Halt, AFTER as u64));
    assert_eq!(run.host.exceptional.state.account(ME).unwrap().storage(b"key"), Some(&b"v"[..]));
}

/// `check` and `I`'s first index, worked from the paper with an independent blake2b.
fn expected_first_id(service: u32, entropy: [u8; 32], slot: u32) -> u32 {
    // E(s, η, t): s = 7 and t = 100 are single-octet general naturals.
    assert!(service < 128 && slot < 128);
    let preimage = [&[service as u8][..], &entropy, &[slot as u8]].concat();
    let h = blake(&preimage);
    let x = u64::from(u32::from_le_bytes([h[0], h[1], h[2], h[3]]));
    (x % ((1 << 32) - (1 << 16) - (1 << 8)) + (1 << 16)) as u32
}

#[test]
fn new_creates_funded_services() {
    let env = simple_env();
    let code_hash = [0x5c; 32];
    let memory: &[(u32, &[u8])] = &[(RW, &code_hash)];
    let regs = [(7, u64::from(RW)), (8, 1000), (9, 11), (10, 12), (11, 0), (12, 0)];
    let run = call(&env, idx(index::NEW), &regs, memory, GAS);
    let first = expected_first_id(ME, env.entropy, env.slot);
    assert_eq!((run.exit, run.reg(7)), (Exit::Halt, u64::from(first)));
    let view = &run.host.regular.state;
    let created = view.account(first).unwrap();
    // Threshold of one request for 1000 octets: 100 + 10·2 + 81 + 1000 = 1201.
    assert_eq!(created.info.balance, 1201);
    assert_eq!((created.info.items, created.info.bytes), (2, 1081));
    assert_eq!(created.request(&code_hash, 1000), Some(Ok(vec![])));
    assert_eq!(
        (created.info.code_hash, created.info.min_item_gas, created.info.min_memo_gas),
        (code_hash, 11, 12)
    );
    assert_eq!((created.info.creation_slot, created.info.parent_service), (env.slot, ME));
    assert_eq!(view.account(ME).unwrap().info.balance, 1_000_000 - 1201);
    // The next index: S + (i − S + 42) mod (2^32 − S − 2^8), free in the base state.
    let next = (1u64 << 16) + (u64::from(first) - (1 << 16) + 42) % ((1 << 32) - (1 << 16) - (1 << 8));
    assert_eq!(u64::from(run.host.regular.next_free_id), next);

    // Not enough left above the caller's own threshold (100): CASH.
    let poor = env_with(vec![(ME, account(1300))]);
    let run = call(&poor, idx(index::NEW), &regs, memory, GAS);
    assert_eq!((run.exit, run.reg(7)), (Exit::Halt, CASH));
    let just = env_with(vec![(ME, account(1301))]);
    assert_eq!(
        call(&just, idx(index::NEW), &regs, memory, GAS).reg(7),
        u64::from(expected_first_id(ME, just.entropy, just.slot))
    );
    // Gratis storage needs the manager.
    let mut gratis = regs;
    gratis[4].1 = 1;
    assert_eq!(call(&env, idx(index::NEW), &gratis, memory, GAS).reg(7), HUH);
    // A code length past 2^32, or an unreadable hash: a panic.
    let mut long = regs;
    long[1].1 = 1 << 32;
    assert_eq!(call(&env, idx(index::NEW), &long, memory, GAS).exit, Exit::Panic);
    let mut unreadable = regs;
    unreadable[0].1 = u64::from(UNMAPPED);
    assert_eq!(call(&env, idx(index::NEW), &unreadable, memory, GAS).exit, Exit::Panic);
}

#[test]
fn new_by_the_registrar_below_s() {
    let mut state = partial_state(vec![(ME, account(1_000_000)), (OTHER, account(0))]);
    state.privileges.register = ME;
    let env = Env::new(state, ME);
    let memory: &[(u32, &[u8])] = &[(RW, &[1; 32])];
    let regs = |i: u64| [(7, u64::from(RW)), (8, 10), (9, 0), (10, 0), (11, 0), (12, i)];
    let run = call(&env, idx(index::NEW), &regs(300), memory, GAS);
    assert_eq!(run.reg(7), 300);
    assert!(run.host.regular.state.contains(300));
    assert_eq!(run.host.regular.next_free_id, run.host.exceptional.next_free_id, "unchanged");
    assert_eq!(call(&env, idx(index::NEW), &regs(u64::from(OTHER)), memory, GAS).reg(7), FULL);
    // At or above S the registrar gets the next free index like anyone.
    let run = call(&env, idx(index::NEW), &regs(1 << 16), memory, GAS);
    assert_eq!(run.reg(7), u64::from(expected_first_id(ME, env.entropy, env.slot)));
}

#[test]
fn upgrade_changes_code_and_limits() {
    let env = simple_env();
    let memory: &[(u32, &[u8])] = &[(RW, &[0xee; 32])];
    let run = call(&env, idx(index::UPGRADE), &[(7, u64::from(RW)), (8, 5), (9, 6)], memory, GAS);
    assert_eq!((run.exit, run.reg(7)), (Exit::Halt, OK));
    let info = &run.host.regular.state.account(ME).unwrap().info;
    assert_eq!((info.code_hash, info.min_item_gas, info.min_memo_gas), ([0xee; 32], 5, 6));
    let run = call(&env, idx(index::UPGRADE), &[(7, u64::from(UNMAPPED))], memory, GAS);
    assert_eq!(run.exit, Exit::Panic);
}

#[test]
fn transfer_checks_and_charges_its_gas() {
    let mut other = account(0);
    other.info.min_memo_gas = 50;
    let env = env_with(vec![(ME, account(1_000)), (OTHER, other)]);
    let memo = [0x4d; 128];
    let memory: &[(u32, &[u8])] = &[(RW, &memo)];
    let regs = |dest: u64, amount: u64, gas: u64| [(7, dest), (8, amount), (9, gas), (10, u64::from(RW))];
    let run = call(&env, idx(index::TRANSFER), &regs(u64::from(OTHER), 900, 60), memory, GAS);
    assert_eq!((run.exit, run.reg(7)), (Exit::Halt, OK));
    // 10 + 60 gas.
    assert_eq!(run.machine.gas(), GAS - BLOCK_GAS - 70);
    assert_eq!(
        run.host.regular.transfers,
        vec![DeferredTransfer { source: ME, dest: OTHER, amount: 900, memo, gas: 60 }]
    );
    assert_eq!(run.host.regular.state.account(ME).unwrap().info.balance, 100);
    // The receiver is credited only when it accumulates.
    assert_eq!(run.host.regular.state.account(OTHER).unwrap().info.balance, 0);

    for (regs, code) in [
        (regs(99, 1, 60), WHO),
        (regs(1 << 32, 1, 60), WHO),
        (regs(u64::from(OTHER), 1, 49), LOW),
        // Below the threshold of 100 afterwards.
        (regs(u64::from(OTHER), 901, 60), CASH),
        (regs(u64::from(OTHER), 2000, 60), CASH),
    ] {
        let run = call(&env, idx(index::TRANSFER), &regs, memory, GAS);
        assert_eq!((run.exit, run.reg(7)), (Exit::Halt, code));
        assert!(run.host.regular.transfers.is_empty());
        assert_eq!(run.machine.gas(), AFTER, "a failed transfer costs 10");
    }
    // Enough gas for the 10 but not for the transfer's 60: out of gas, nothing done.
    let run = call(&env, idx(index::TRANSFER), &regs(u64::from(OTHER), 900, 60), memory, BLOCK_GAS + 69);
    assert_eq!(run.exit, Exit::OutOfGas);
    assert!(run.host.regular.transfers.is_empty());
    assert_eq!(run.host.regular.state.account(ME).unwrap().info.balance, 1_000);
    let run = call(&env, idx(index::TRANSFER), &regs(u64::from(OTHER), 900, 60), memory, BLOCK_GAS + 70);
    assert_eq!((run.exit, run.reg(7)), (Exit::Halt, OK));
    // The memo not readable: a panic.
    let run = call(
        &env,
        idx(index::TRANSFER),
        &[(7, u64::from(OTHER)), (9, 60), (10, u64::from(RW + 0x3f90))],
        memory,
        GAS,
    );
    assert_eq!(run.exit, Exit::Panic);
}

/// A child of `ME` that can be ejected: code hash `E_32(ME)`, one request (2 items) for a
/// `length`-octet preimage of `hash` with the given slots.
fn child(hash: &[u8; 32], length: u32, slots: &[u32], balance: u64) -> ServiceAccount {
    let mut child = account(balance);
    let mut code_hash = [0; 32];
    code_hash[..4].copy_from_slice(&ME.to_le_bytes());
    child.info.code_hash = code_hash;
    child.set_request(hash, length, slots);
    child
}

#[test]
fn eject_only_expired_children() {
    let hash = [0x77; 32];
    let memory: &[(u32, &[u8])] = &[(RW, &hash)];
    let eject = |child_account: ServiceAccount, slot: u32| {
        let mut env = env_with(vec![(ME, account(10)), (OTHER, child_account)]);
        env.slot = slot;
        let run = call(&env, idx(index::EJECT), &[(7, u64::from(OTHER)), (8, u64::from(RW))], memory, GAS);
        assert_eq!(run.exit, Exit::Halt);
        let removed = !run.host.regular.state.contains(OTHER);
        let balance = run.host.regular.state.account(ME).unwrap().info.balance;
        (run.reg(7), removed, balance)
    };
    // The request for the 50-octet preimage became unavailable at slot 60; D = 32 in tiny, so it
    // may go when 60 < t − 32, from t = 93.
    assert_eq!(eject(child(&hash, 50, &[10, 60], 500), 93), (OK, true, 510));
    assert_eq!(eject(child(&hash, 50, &[10, 60], 500), 92), (HUH, false, 10));
    assert_eq!(eject(child(&hash, 50, &[10], 500), 1000), (HUH, false, 10));
    assert_eq!(eject(child(&hash, 50, &[10, 60, 70], 500), 1000), (HUH, false, 10));
    // The length is the child's octets less 81: a request for another length does not match.
    let mut other_length = child(&hash, 50, &[10, 60], 500);
    other_length.info.bytes += 1;
    assert_eq!(eject(other_length, 1000), (HUH, false, 10));
    // More than the one request: HUH.
    let mut storing = child(&hash, 50, &[10, 60], 500);
    storing.info.items = 3;
    assert_eq!(eject(storing, 1000), (HUH, false, 10));
    // Not the caller's child, or the caller itself, or nobody: WHO.
    let mut stranger = child(&hash, 50, &[10, 60], 500);
    stranger.info.code_hash = [0; 32];
    assert_eq!(eject(stranger, 1000), (WHO, false, 10));
    let env = env_with(vec![(ME, child(&hash, 50, &[10, 60], 500))]);
    let run = call(&env, idx(index::EJECT), &[(7, u64::from(ME)), (8, u64::from(RW))], memory, GAS);
    assert_eq!(run.reg(7), WHO);
    let run = call(&env, idx(index::EJECT), &[(7, 99), (8, u64::from(RW))], memory, GAS);
    assert_eq!(run.reg(7), WHO);
    let run = call(&env, idx(index::EJECT), &[(7, 99), (8, u64::from(UNMAPPED))], memory, GAS);
    assert_eq!(run.exit, Exit::Panic);
}

#[test]
fn query_packs_the_request_state() {
    let hash = [0x42; 32];
    let memory: &[(u32, &[u8])] = &[(RW, &hash)];
    let query = |slots: Option<&[u32]>, length: u64| {
        let mut me = account(1_000_000);
        if let Some(slots) = slots {
            me.set_request(&hash, 9, slots);
        }
        let env = env_with(vec![(ME, me)]);
        let run = call(&env, idx(index::QUERY), &[(7, u64::from(RW)), (8, length)], memory, GAS);
        assert_eq!(run.exit, Exit::Halt);
        (run.reg(7), run.reg(8))
    };
    let x = 1u64 << 32;
    assert_eq!(query(None, 9), (NONE, 0));
    assert_eq!(query(Some(&[]), 9), (0, 0));
    assert_eq!(query(Some(&[]), 10), (NONE, 0));
    assert_eq!(query(Some(&[]), (1 << 32) + 9), (NONE, 0));
    assert_eq!(query(Some(&[5]), 9), (1 + 5 * x, 0));
    assert_eq!(query(Some(&[5, 6]), 9), (2 + 5 * x, 6));
    assert_eq!(query(Some(&[5, 6, 7]), 9), (3 + 5 * x, 6 + 7 * x));
    let env = simple_env();
    let run = call(&env, idx(index::QUERY), &[(7, u64::from(UNMAPPED)), (8, 9)], memory, GAS);
    assert_eq!(run.exit, Exit::Panic);
}

#[test]
fn solicit_and_forget_walk_the_request_states() {
    let hash = [0x61; 32];
    let memory: &[(u32, &[u8])] = &[(RW, &hash)];
    // One step on a fresh account holding the given request (if any) and preimage, at `slot`.
    let step = |call_index: u64, slots: Option<&[u32]>, slot: u32, balance: u64| {
        let mut me = account(balance);
        if let Some(slots) = slots {
            me.set_request(&hash, 4, slots);
            me.set_preimage(&hash, b"abcd".to_vec());
        }
        let mut env = env_with(vec![(ME, me)]);
        env.slot = slot;
        let run = call(&env, idx(call_index), &[(7, u64::from(RW)), (8, 4)], memory, GAS);
        assert_eq!(run.exit, Exit::Halt);
        let me = run.host.regular.state.account(ME).unwrap();
        let request = me.request(&hash, 4).map(Result::unwrap);
        (run.reg(7), request, me.preimage(&hash).is_some(), (me.info.items, me.info.bytes))
    };
    let rich = 1_000_000;
    // Solicit: a new request, counted (2 items, 81 + 4 octets); again after it became unavailable.
    assert_eq!(step(index::SOLICIT, None, 100, rich), (OK, Some(vec![]), false, (2, 85)));
    assert_eq!(step(index::SOLICIT, Some(&[1, 2]), 100, rich), (OK, Some(vec![1, 2, 100]), true, (2, 85)));
    for state in [&[][..], &[1], &[1, 2, 3]] {
        assert_eq!(step(index::SOLICIT, Some(state), 100, rich).0, HUH);
    }
    // The new request would need 100 + 20 + 85 = 205.
    assert_eq!(step(index::SOLICIT, None, 100, 204).0, FULL);
    assert_eq!(step(index::SOLICIT, None, 100, 205).0, OK);

    // Forget, with D = 32 at slot 100: expired when y < 68.
    assert_eq!(step(index::FORGET, Some(&[]), 100, rich), (OK, None, false, (0, 0)));
    assert_eq!(step(index::FORGET, Some(&[5]), 100, rich), (OK, Some(vec![5, 100]), true, (2, 85)));
    assert_eq!(step(index::FORGET, Some(&[5, 67]), 100, rich), (OK, None, false, (0, 0)));
    assert_eq!(step(index::FORGET, Some(&[5, 68]), 100, rich).0, HUH);
    assert_eq!(step(index::FORGET, Some(&[5, 67, 90]), 100, rich), (OK, Some(vec![90, 100]), true, (2, 85)));
    assert_eq!(step(index::FORGET, Some(&[5, 68, 90]), 100, rich).0, HUH);
    assert_eq!(step(index::FORGET, None, 100, rich).0, HUH);

    let env = simple_env();
    for call_index in [index::SOLICIT, index::FORGET] {
        let run = call(&env, idx(call_index), &[(7, u64::from(UNMAPPED)), (8, 4)], memory, GAS);
        assert_eq!(run.exit, Exit::Panic);
    }
}

#[test]
fn yield_sets_the_output() {
    let env = simple_env();
    let memory: &[(u32, &[u8])] = &[(RW, &[0x99; 32])];
    let run = call(&env, idx(index::YIELD), &[(7, u64::from(RW))], memory, GAS);
    assert_eq!((run.exit, run.reg(7)), (Exit::Halt, OK));
    assert_eq!(run.host.regular.yield_hash, Some([0x99; 32]));
    assert_eq!(run.host.exceptional.yield_hash, None);
    let run = call(&env, idx(index::YIELD), &[(7, u64::from(RW + 0x3ff0))], memory, GAS);
    assert_eq!(run.exit, Exit::Panic);
}

#[test]
fn provide_only_what_was_asked() {
    let blob = b"wanted".to_vec();
    let mut other = account(0);
    other.set_request(&blake(&blob), 6, &[]);
    let mut me = account(1_000);
    me.set_request(&blake(&blob), 6, &[3]);
    let env = env_with(vec![(ME, me), (OTHER, other)]);
    let memory: &[(u32, &[u8])] = &[(RW, &blob)];
    let regs = |target: u64, len: u64| [(7, target), (8, u64::from(RW)), (9, len)];
    let run = call(&env, idx(index::PROVIDE), &regs(u64::from(OTHER), 6), memory, GAS);
    assert_eq!((run.exit, run.reg(7)), (Exit::Halt, OK));
    assert!(run.host.regular.provisions.contains(&(OTHER, blob.clone())));
    // The same again: HUH.
    let run = call_with(&env, run.host, idx(index::PROVIDE), &regs(u64::from(OTHER), 6), memory, GAS);
    assert_eq!(run.reg(7), HUH);
    assert_eq!(run.host.regular.provisions.len(), 1);
    // Already provided to itself ([3]), a different length, nobody.
    assert_eq!(call(&env, idx(index::PROVIDE), &regs(u64::MAX, 6), memory, GAS).reg(7), HUH);
    assert_eq!(call(&env, idx(index::PROVIDE), &regs(u64::from(OTHER), 5), memory, GAS).reg(7), HUH);
    assert_eq!(call(&env, idx(index::PROVIDE), &regs(99, 6), memory, GAS).reg(7), WHO);
    assert_eq!(call(&env, idx(index::PROVIDE), &regs(1 << 32, 6), memory, GAS).reg(7), WHO);
    let run = call(
        &env,
        idx(index::PROVIDE),
        &[(7, u64::from(OTHER)), (8, u64::from(UNMAPPED)), (9, 6)],
        memory,
        GAS,
    );
    assert_eq!(run.exit, Exit::Panic);
}

#[test]
fn log_costs_like_an_unknown_call_and_keeps_the_message() {
    let env = simple_env();
    let memory: &[(u32, &[u8])] = &[(RW, b"target"), (RW + 0x10, b"hello")];
    let regs = [(7, 2), (8, u64::from(RW)), (9, 6), (10, u64::from(RW + 0x10)), (11, 5)];
    let run = call(&env, idx(index::LOG), &regs, memory, GAS);
    assert_eq!((run.exit, run.reg(7), run.machine.gas()), (Exit::Halt, WHAT, AFTER));
    assert_eq!(run.host.logs.len(), 1);
    let log = &run.host.logs[0];
    assert_eq!(
        (log.level, log.target.as_deref(), &log.message[..]),
        (2, Some(&b"target"[..]), &b"hello"[..])
    );
    // No target when its address and length are both 0; an unreadable message is dropped quietly.
    let run = call(
        &env,
        idx(index::LOG),
        &[(7, 0), (8, 0), (9, 0), (10, u64::from(RW + 0x10)), (11, 5)],
        memory,
        GAS,
    );
    assert_eq!(run.host.logs[0].target, None);
    let run = call(&env, idx(index::LOG), &[(10, u64::from(UNMAPPED)), (11, 5)], memory, GAS);
    assert_eq!((run.exit, run.reg(7), run.host.logs.len()), (Exit::Halt, WHAT, 0));
}

#[test]
fn unknown_calls_cost_gas_and_say_what() {
    let env = simple_env();
    for n in [6, 7, 12, 13, 27, 99, 101, 0x7fff_ffff] {
        let run = call(&env, n, &[(7, 5)], &[], GAS);
        assert_eq!((run.exit, run.reg(7), run.machine.gas()), (Exit::Halt, WHAT, AFTER), "call {n}");
    }
}

/// Every call that reads or writes memory, with every pointer register at an unmapped page.
#[test]
fn every_call_panics_on_inaccessible_memory() {
    let mut state = partial_state(vec![(ME, account(1_000_000)), (OTHER, account(1_000_000))]);
    // Privileged, so that only the memory can fail.
    state.privileges.assign = vec![ME, ME];
    state.privileges.designate = ME;
    let env = Env::new(state, ME);
    let u = u64::from(UNMAPPED);
    let cases: Vec<(u64, Vec<(usize, u64)>)> = vec![
        (index::FETCH, vec![(7, u), (9, 1), (10, 0)]),
        (index::LOOKUP, vec![(7, u64::MAX), (8, u), (9, u64::from(RW))]),
        (index::READ, vec![(7, u64::MAX), (8, u), (9, 1), (10, u64::from(RW))]),
        (index::WRITE, vec![(7, u), (8, 1), (9, u64::from(RW)), (10, 1)]),
        (index::INFO, vec![(7, u64::MAX), (8, u), (10, 1)]),
        (index::BLESS, vec![(7, 1), (8, u), (11, u64::from(RW)), (12, 0)]),
        (index::ASSIGN, vec![(7, 0), (8, u), (9, 1)]),
        (index::DESIGNATE, vec![(7, u)]),
        (index::NEW, vec![(7, u), (8, 1)]),
        (index::UPGRADE, vec![(7, u)]),
        (index::TRANSFER, vec![(7, u64::from(OTHER)), (10, u)]),
        (index::EJECT, vec![(7, u64::from(OTHER)), (8, u)]),
        (index::QUERY, vec![(7, u), (8, 1)]),
        (index::SOLICIT, vec![(7, u), (8, 1)]),
        (index::FORGET, vec![(7, u), (8, 1)]),
        (index::YIELD, vec![(7, u)]),
        (index::PROVIDE, vec![(7, u64::MAX), (8, u), (9, 1)]),
    ];
    for (call_index, regs) in cases {
        let run = call(&env, idx(call_index), &regs, &[], GAS);
        assert_eq!(run.exit, Exit::Panic, "call {call_index}");
        // The call's gas was charged; the context did not change.
        assert_eq!(run.machine.gas(), AFTER, "call {call_index}");
        let x = &run.host.regular;
        assert!(x.transfers.is_empty() && x.yield_hash.is_none() && x.provisions.is_empty());
        assert_eq!(x.state.changes().apply_to(&env.state), env.state, "call {call_index}");
    }
}

#[test]
fn every_call_runs_out_of_gas_below_its_cost() {
    let env = simple_env();
    for call_index in (0..=27).chain([100, 1000]) {
        // Enough for the block, 9 short of the call.
        let run = call(&env, call_index, &[(7, 12345)], &[], BLOCK_GAS + 9);
        assert_eq!(run.exit, Exit::OutOfGas, "call {call_index}");
        assert_eq!(run.reg(7), 12345, "call {call_index}: registers untouched");
        assert!(run.host.regular.state.changes().accounts.is_empty());
        // With exactly 10 the call goes through (the run may then stop for other reasons).
        let run = call(&env, call_index, &[(7, 12345)], &[], BLOCK_GAS + 10);
        assert_ne!(run.exit, Exit::OutOfGas, "call {call_index}");
    }
}
