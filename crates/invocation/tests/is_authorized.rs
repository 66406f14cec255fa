//! Ψ_I on the `authorizer` guest and on hand-assembled programs: authorizing, refusing, missing
//! and oversized code, and what its dispatcher offers (GP 0.7.2 §B.2).

mod refine_common;

use orrery_codec::Encode;
use orrery_invocation::codes::{index, NONE, WHAT};
use orrery_invocation::is_authorized::{is_authorized, IsAuthorizedHost};
use orrery_invocation::testing::{Asm, RW};
use orrery_invocation::ProgramCache;
use orrery_pvm::{Exit, StandardProgram};
use orrery_types::constants::MAX_AUTH_CODE_SIZE;
use orrery_types::{WorkExecResult, WorkPackage};
use refine_common::*;

const HOST: u32 = 3;

fn authorized_package(code: &[u8], token: &[u8], config: &[u8]) -> WorkPackage {
    let mut p = package(vec![item(9, b"whatever", vec![], 1_000, 0)]);
    p.auth_code_host = HOST;
    p.auth_code_hash = blake(code);
    p.authorization = token.to_vec();
    p.authorizer_config = config.to_vec();
    p
}

#[test]
fn the_authorizer_accepts_a_matching_token_and_refuses_others() {
    let accounts = accounts(vec![(HOST, account(&[(AUTHORIZER, 0)]))]);
    let cache = ProgramCache::new();
    let p = authorized_package(AUTHORIZER, b"open sesame", b"open sesame");
    for cache in [None, Some(&cache)] {
        let out = is_authorized(&spec(), &p, 1, &accounts, cache);
        // The trace is "authorized" ⌢ E2(c).
        assert_eq!(out.result, WorkExecResult::Ok(b"authorized\x01\x00".to_vec()));
        assert!(out.gas_used > 0 && out.gas_used < spec().max_is_authorized_gas);
    }
    let refused = authorized_package(AUTHORIZER, b"open sesame", b"close sesame");
    let out = is_authorized(&spec(), &refused, 1, &accounts, None);
    assert_eq!(out.result, WorkExecResult::Panic);
    assert!(out.logs.iter().any(|l| String::from_utf8_lossy(&l.message).contains("does not match")));
}

#[test]
fn missing_code_is_bad_and_code_past_w_a_is_big() {
    let p = authorized_package(AUTHORIZER, b"t", b"t");
    // No host service; a host without the preimage; a preimage not yet available at the anchor.
    for accounts in [
        accounts(vec![]),
        accounts(vec![(HOST, account(&[]))]),
        accounts(vec![(HOST, account(&[(AUTHORIZER, ANCHOR + 1)]))]),
    ] {
        let out = is_authorized(&spec(), &p, 0, &accounts, None);
        assert_eq!((out.result, out.gas_used), (WorkExecResult::BadCode, 0));
    }
    // W_A counts the code after the metadata: a blob of W_A + 1 code octets is BIG…
    let mut big = vec![0u8];
    big.resize(1 + MAX_AUTH_CODE_SIZE + 1, 0);
    let p = authorized_package(&big, b"t", b"t");
    let out = is_authorized(&spec(), &p, 0, &accounts(vec![(HOST, account(&[(&big, 0)]))]), None);
    assert_eq!((out.result, out.gas_used), (WorkExecResult::CodeOversize, 0));
    // …while W_A code octets behind a long metadata are not (they do not decode: a panic).
    let mut long_metadata = vec![0x81, 0x00];
    long_metadata.resize(2 + 0x100 + MAX_AUTH_CODE_SIZE, 0);
    let p = authorized_package(&long_metadata, b"t", b"t");
    let out = is_authorized(&spec(), &p, 0, &accounts(vec![(HOST, account(&[(&long_metadata, 0)]))]), None);
    assert_eq!((out.result, out.gas_used), (WorkExecResult::Panic, 0));
}

#[test]
fn is_authorized_runs_with_g_i_and_the_core_as_e2() {
    // Halts with its arguments as output: E2(c).
    let mut asm = Asm::new();
    asm.halt();
    let blob = asm.service_blob();
    let p = authorized_package(&blob, b"", b"");
    let held = accounts(vec![(HOST, account(&[(&blob, 0)]))]);
    let out = is_authorized(&spec(), &p, 0x0102, &held, None);
    assert_eq!((out.result, out.gas_used), (WorkExecResult::Ok(vec![0x02, 0x01]), 1));
    // Loops: stops at G_I.
    let mut asm = Asm::new();
    asm.jump_self();
    let blob = asm.service_blob();
    let p = authorized_package(&blob, b"", b"");
    let held = accounts(vec![(HOST, account(&[(&blob, 0)]))]);
    let out = is_authorized(&spec(), &p, 0, &held, None);
    assert_eq!((out.result, out.gas_used), (WorkExecResult::OutOfGas, spec().max_is_authorized_gas));
}

#[test]
fn its_dispatcher_offers_gas_and_fetch_of_the_package_only() {
    let spec = spec();
    let p = authorized_package(b"code", b"token", b"config");
    let mut host = IsAuthorizedHost::new(&spec, &p);
    let run = |host: &mut IsAuthorizedHost<'_>, call: u64, regs: &[(usize, u64)]| {
        let mut asm = Asm::new();
        asm.ecalli(call as u32).halt();
        let (_, program) = StandardProgram::from_service_code(&asm.service_blob()).unwrap();
        let mut machine = program.instantiate(&[], 0, 1_000).unwrap();
        for &(r, v) in regs {
            machine.set_reg(r, v);
        }
        let exit = machine.run_with_host(host);
        (exit, machine)
    };
    let (exit, m) = run(&mut host, index::GAS, &[]);
    assert_eq!((exit, m.reg(7)), (Exit::Halt, 1_000 - 12));
    // fetch: the token (9), the package (7); no entropy (1), trace (2) or imports (5).
    let fetch = |host: &mut IsAuthorizedHost<'_>, selector: u64| {
        let (exit, m) = run(host, index::FETCH, &[(7, RW.into()), (8, 0), (9, 1_000), (10, selector)]);
        assert_eq!(exit, Exit::Halt);
        (m.reg(7), m)
    };
    let (len, m) = fetch(&mut host, 9);
    assert_eq!((len, m.memory.read_vec(RW, 5).unwrap()), (5, b"token".to_vec()));
    let (len, _) = fetch(&mut host, 7);
    assert_eq!(len, p.encode().len() as u64);
    for selector in [1, 2, 5, 14] {
        assert_eq!(fetch(&mut host, selector).0, NONE, "selector {selector}");
    }
    // Refine's and accumulate's calls, log, unknown calls: WHAT for 10.
    for call in
        [index::HISTORICAL_LOOKUP, index::EXPORT, index::MACHINE, index::LOOKUP, index::WRITE, index::LOG, 77]
    {
        let (exit, m) = run(&mut host, call, &[(7, 5)]);
        assert_eq!((exit, m.reg(7), m.gas()), (Exit::Halt, WHAT, 1_000 - 12), "call {call}");
    }
    // Out of gas below 10.
    let mut asm = Asm::new();
    asm.ecalli(index::GAS as u32).halt();
    let (_, program) = StandardProgram::from_service_code(&asm.service_blob()).unwrap();
    let mut machine = program.instantiate(&[], 0, 11).unwrap();
    assert_eq!(machine.run_with_host(&mut host), Exit::OutOfGas);
}
