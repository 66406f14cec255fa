//! Ψ_R end to end on real programs: the vectors' test service (refine, then accumulate its
//! output), the `probe` guest (every refine host call, and its bad-input modes), the
//! `compute-service` guest against an independent BLAKE2b, and hand-assembled programs for the
//! cases no compiler emits. Expected values are worked out by hand from GP 0.7.2 §B.3 and §B.8.

mod common;
mod refine_common;

use common::partial_state;
use orrery_codec::Encode;
use orrery_invocation::accumulate::accumulate;
use orrery_invocation::codes::{index, HUH, NONE, OOB, WHO};
use orrery_invocation::refine::{refine, refine_arguments, RefineInputs, RefineOutput};
use orrery_invocation::testing::{Asm, RW, UNMAPPED};
use orrery_invocation::{AccumulationInput, OperandTuple};
use orrery_state::ServiceAccount;
use orrery_types::constants::{MAX_PACKAGE_EXPORTS, MAX_SERVICE_CODE_SIZE, SEGMENT_SIZE};
use orrery_types::{WorkExecResult, WorkPackage};
use refine_common::*;

const ME: u32 = 1729;

/// Runs item 0 of `package` with no imports, extrinsics or trace.
fn run(package: &WorkPackage, accounts: &std::collections::BTreeMap<u32, ServiceAccount>) -> RefineOutput {
    run_with(package, accounts, &[], &[], 0)
}

fn run_with(
    package: &WorkPackage,
    accounts: &std::collections::BTreeMap<u32, ServiceAccount>,
    imports: &[Vec<Vec<u8>>],
    extrinsics: &[Vec<Vec<u8>>],
    export_offset: usize,
) -> RefineOutput {
    let spec = spec();
    let empty = vec![Vec::new(); package.items.len()];
    let inputs = RefineInputs {
        spec: &spec,
        package,
        auth_trace: b"trace",
        item_index: 0,
        imports: if imports.is_empty() { &empty } else { imports },
        extrinsics: if extrinsics.is_empty() { &empty } else { extrinsics },
        export_offset,
    };
    refine(inputs, 0, &blake(&package.encode()), accounts, None)
}

fn ok(output: &RefineOutput) -> &[u8] {
    match &output.result {
        WorkExecResult::Ok(bytes) => bytes,
        other => panic!("refine did not halt: {other:?}"),
    }
}

/// The test service's code from the accumulate vectors' pre-state.
fn test_service_blob() -> Vec<u8> {
    let path = orrery_testkit::vectors().join("stf/accumulate/tiny/process_one_immediate_report-1.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let account = &json["pre_state"]["accounts"][0]["data"];
    let blob = account["preimage_blobs"][0]["blob"].as_str().unwrap();
    hex::decode(blob.trim_start_matches("0x")).unwrap()
}

#[test]
fn test_service_refines_hello_then_accumulates_its_output() {
    let code = test_service_blob();
    let accounts = accounts(vec![(ME, service(&code, &[]))]);
    let package = package(vec![item(ME, &code, b"world".to_vec(), 1_000_000, 0)]);
    let output = run(&package, &accounts);
    // The test service's published refine: "Hello " followed by the payload.
    assert_eq!(ok(&output), b"Hello world");
    assert!(output.exports.is_empty());
    assert!(output.gas_used > 0 && output.gas_used < 1_000_000);
    assert!(
        output.logs.iter().any(|l| String::from_utf8_lossy(&l.message).contains("payload len 5")),
        "its log names the payload length: {:?}",
        output.logs
    );

    // Accumulate the digest: the vectors' post-states show the service keeping the latest output
    // under the storage key "last".
    let package_hash = blake(&package.encode());
    let operand = AccumulationInput::Operand(OperandTuple {
        package_hash,
        segment_root: [0; 32],
        authorizer_hash: [0; 32],
        payload_hash: blake(b"world"),
        gas_limit: 100_000,
        result: output.result.clone(),
        auth_trace: b"trace".to_vec(),
    });
    let state = partial_state(vec![(ME, service(&code, &[]))]);
    let acc = accumulate(&spec(), &state, 50, ME, 100_000, &[operand], &[0; 32], None);
    let post = acc.changes.apply_to(&state);
    assert_eq!(post.accounts[&ME].storage(b"last"), Some(&b"Hello world"[..]));
    assert!(acc.gas_used > 0);
}

/// The probe's inner program ends its one basic block of five instructions with `jump_ind` at 17.
const INNER_JUMP_PC: u64 = 17;

#[test]
fn probe_exercises_every_refine_host_call() {
    let old = b"a preimage of old";
    let accounts = accounts(vec![(ME, service(PROBE, &[(old, 5)]))]);
    let mut payload = vec![0];
    payload.extend_from_slice(&blake(old));
    let package = package(vec![item(ME, PROBE, payload.clone(), 10_000_000, 2)]);
    let segment: Vec<u8> = (0..SEGMENT_SIZE as u32).map(|i| i as u8).collect();
    let imports = vec![vec![segment.clone()]];
    let extrinsics = vec![vec![b"extrinsic!".to_vec()]];
    let output = run_with(&package, &accounts, &imports, &extrinsics, 5);

    let words: Vec<u64> = ok(&output).chunks(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())).collect();
    let le = |bytes: &[u8]| {
        let mut head = [0u8; 8];
        head[..bytes.len().min(8)].copy_from_slice(&bytes[..bytes.len().min(8)]);
        u64::from_le_bytes(head)
    };
    let summary_head = {
        let mut head = ME.to_le_bytes().to_vec();
        head.extend_from_slice(&blake(PROBE)[..4]);
        le(&head)
    };
    let expected: Vec<(&str, u64)> = vec![
        // fetch 0: 134 octets of constants, B_I = 10 first.
        ("constants length", 134),
        ("B_I", 10),
        // fetch 1: the zero hash.
        ("entropy length", 32),
        ("entropy head", 0),
        // fetch 2: the trace given.
        ("trace length", 5),
        ("trace head", le(b"trace")),
        // fetch 6: own import 0, then no import 1.
        ("import length", SEGMENT_SIZE as u64),
        ("import head", le(&segment)),
        ("import 1", NONE),
        ("import 1 head", 0),
        // fetch 4: own extrinsic 0.
        ("extrinsic length", 10),
        ("extrinsic head", le(b"extrinsic!")),
        // fetch 13: the payload.
        ("payload length", payload.len() as u64),
        ("payload head", le(&payload)),
        // fetch 12: S(w) is 4 + 32 + 8 + 8 + 2 + 2 + 2 + 4 = 62 octets, E4(w_s) and w_c first.
        ("summary length", 62),
        ("summary head", summary_head),
        // fetch 7: E(p).
        ("package length", package.encode().len() as u64),
        // fetch 14: no accumulation inputs in refine.
        ("inputs", NONE),
        ("inputs head", 0),
        // historical_lookup: available since slot 5, the anchor is 10.
        ("own preimage length", old.len() as u64),
        ("own preimage head", le(old)),
        ("missing hash", NONE),
        ("missing hash head", 0),
        ("missing service", NONE),
        ("missing service head", 0),
        // export: ς = 5, then 6.
        ("first export", 5),
        ("second export", 6),
        // machine: index 0.
        ("machine", 0),
        // invoke: the block's 5 gas paid on entry, then a fault on 0x20000.
        ("FAULT", 2),
        ("fault address", 0x20000),
        ("gas after fault", 995),
        ("r7 after fault", 0),
        ("pages RW", 0),
        ("poke 41", 0),
        // invoke: 41 + 1 stored, then ecalli 42 (the block was paid for already).
        ("HOST", 3),
        ("host call", 42),
        ("gas after host call", 995),
        ("r7 after host call", 42),
        ("peek", 0),
        ("peeked", 42),
        // invoke: jump_ind to ω0 = 0xffff0000 halts.
        ("HALT", 0),
        ("halt detail", 0),
        ("gas after halt", 995),
        ("r7 after halt", 42),
        // Failures.
        ("peek unmapped", OOB),
        ("pages below 16", HUH),
        ("pages keep on inaccessible", HUH),
        ("pages to 2^20", HUH),
        ("pages read-only", 0),
        ("poke read-only", OOB),
        ("peek read-only", 0),
        ("read-only is zeroed", 0),
        ("pages mode 5", HUH),
        ("peek no machine", WHO),
        // trap: index 1, panics paying 1.
        ("trap machine", 1),
        ("PANIC", 1),
        ("panic detail", 0),
        ("gas after trap", 99),
        ("r7 after trap", 0),
        // jump 0 for ever: index 2, out of gas, 0 reported.
        ("spin machine", 2),
        ("OOG", 4),
        ("oog detail", 0),
        ("gas after oog", 0),
        ("r7 after oog", 0),
        ("bad program", HUH),
        // expunge: the counters (the halting jump_ind, the trap, the loop), then no machine 0.
        ("expunge main", INNER_JUMP_PC),
        ("expunge trap", 0),
        ("expunge spin", 0),
        ("expunge again", WHO),
    ];
    assert_eq!(words.len(), expected.len() + 2, "gas before and after, and the answers");
    let (first_gas, last_gas) = (words[0], words[words.len() - 1]);
    assert!(first_gas < 10_000_000 && last_gas < first_gas);
    for ((name, want), got) in expected.iter().zip(&words[1..]) {
        assert_eq!(got, want, "{name}");
    }

    // Exports: the import unchanged, then "probe export" padded with zeroes.
    assert_eq!(output.exports.len(), 2);
    assert_eq!(output.exports[0], segment);
    let mut padded = b"probe export".to_vec();
    padded.resize(SEGMENT_SIZE, 0);
    assert_eq!(output.exports[1], padded);
    assert!(output.logs.iter().any(|l| l.message == b"exercised every refine host call"));
}

fn probe(
    mode: &[u8],
    gas: u64,
    exports: u16,
) -> (WorkPackage, std::collections::BTreeMap<u32, ServiceAccount>) {
    (package(vec![item(ME, PROBE, mode.to_vec(), gas, exports)]), accounts(vec![(ME, service(PROBE, &[]))]))
}

#[test]
fn a_looping_service_stops_at_its_gas_limit() {
    let (package, accounts) = probe(&[1], 2_000_000, 0);
    let output = run(&package, &accounts);
    assert_eq!(output.result, WorkExecResult::OutOfGas);
    assert_eq!(output.gas_used, 2_000_000);
    assert!(output.exports.is_empty());
}

#[test]
fn a_panicking_service_gives_panic_and_logs_why() {
    let (package, accounts) = probe(&[2], 1_000_000, 0);
    let output = run(&package, &accounts);
    assert_eq!(output.result, WorkExecResult::Panic);
    assert!(output.gas_used > 0 && output.gas_used < 1_000_000);
    let log = output.logs.iter().find(|l| l.target.as_deref() == Some(&b"panic"[..])).expect("a panic log");
    assert!(String::from_utf8_lossy(&log.message).contains("asked to panic"), "{log:?}");
}

#[test]
fn a_faulting_service_gives_panic() {
    let (package, accounts) = probe(&[5], 1_000_000, 0);
    let output = run(&package, &accounts);
    assert_eq!(output.result, WorkExecResult::Panic);
    assert!(output.exports.is_empty());
}

#[test]
fn large_outputs_come_back_whole() {
    // Ψ_R does not limit the output; the work report does (W_R, tested in orrery-work-report).
    let (package, accounts) = probe(&[3, 0x00, 0x00, 0x01, 0x00], 10_000_000, 0);
    let output = run(&package, &accounts);
    assert_eq!(ok(&output), vec![0x5a; 0x10000]);
}

#[test]
fn exports_stop_at_the_package_limit() {
    // ς = W_X − 2: two exports fit (indices 3070, 3071), the third is FULL and the probe stops.
    let (package, accounts) = probe(&[4, 5], 1_000_000, 2);
    let output = run_with(&package, &accounts, &[], &[], MAX_PACKAGE_EXPORTS - 2);
    assert_eq!(ok(&output), b"exported");
    assert_eq!(output.exports.len(), 2);
    let mut first = vec![0u8; 8];
    first.resize(SEGMENT_SIZE, 0);
    assert_eq!(output.exports[0], first);
    let mut second = vec![1u8; 8];
    second.resize(SEGMENT_SIZE, 0);
    assert_eq!(output.exports[1], second);
}

/// The xorshift64 stream the compute guest hashes, written again here.
fn xorshift_stream(blocks: usize) -> Vec<u8> {
    let mut state: u64 = 0x0123_4567_89ab_cdef;
    let mut out = Vec::with_capacity(blocks * 128);
    for _ in 0..blocks * 16 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out
}

#[test]
fn compute_service_hashes_like_blake2b() {
    let accounts = accounts(vec![(ME, service(COMPUTE, &[]))]);
    let package = package(vec![item(ME, COMPUTE, 64u32.to_le_bytes().to_vec(), 100_000_000, 0)]);
    let output = run(&package, &accounts);
    // The blake2 crate over the same stream: an implementation independent of the guest's.
    assert_eq!(ok(&output), blake(&xorshift_stream(64)));
}

#[test]
fn missing_code_is_bad() {
    let (package, _) = probe(&[2], 1_000, 0);
    // No such service.
    assert_eq!(run(&package, &accounts(vec![])).result, WorkExecResult::BadCode);
    // The service exists, its code does not.
    assert_eq!(run(&package, &accounts(vec![(ME, account(&[]))])).result, WorkExecResult::BadCode);
    // The code became available after the lookup anchor (slot 11 > 10).
    let late = accounts(vec![(ME, account(&[(PROBE, ANCHOR + 1)]))]);
    let output = run(&package, &late);
    assert_eq!((output.result, output.gas_used), (WorkExecResult::BadCode, 0));
    // An item index past the package's items.
    let spec = spec();
    let inputs = RefineInputs {
        spec: &spec,
        package: &package,
        auth_trace: &[],
        item_index: 1,
        imports: &[],
        extrinsics: &[],
        export_offset: 0,
    };
    let with_code = accounts(vec![(ME, service(PROBE, &[]))]);
    assert_eq!(refine(inputs, 0, &[0; 32], &with_code, None).result, WorkExecResult::BadCode);
}

#[test]
fn code_longer_than_w_c_is_big() {
    // An empty metadata prefix (0) and zeroes: what follows does not matter, only the length.
    let code = vec![0u8; MAX_SERVICE_CODE_SIZE + 1];
    let accounts = accounts(vec![(ME, service(&code, &[]))]);
    let package = package(vec![item(ME, &code, vec![], 1_000, 0)]);
    let output = run(&package, &accounts);
    assert_eq!((output.result, output.gas_used), (WorkExecResult::CodeOversize, 0));
}

#[test]
fn undecodable_code_panics_using_no_gas() {
    let code = b"\x05short".to_vec();
    let accounts = accounts(vec![(ME, service(&code, &[]))]);
    let package = package(vec![item(ME, &code, vec![], 1_000, 0)]);
    let output = run(&package, &accounts);
    assert_eq!((output.result, output.gas_used), (WorkExecResult::Panic, 0));
}

fn asm_service(asm: &Asm) -> (WorkPackage, std::collections::BTreeMap<u32, ServiceAccount>) {
    let blob = asm.service_blob();
    (package(vec![item(ME, &blob, vec![], 1_000, 1)]), accounts(vec![(ME, service(&blob, &[]))]))
}

#[test]
fn garbage_output_registers_give_an_empty_output() {
    // Halts with ω7 pointing at unmapped memory: R gives the empty blob.
    let mut asm = Asm::new();
    asm.load_imm64(7, UNMAPPED.into()).load_imm64(8, 10).halt();
    let (package, accounts) = asm_service(&asm);
    let output = run(&package, &accounts);
    assert_eq!(output.result, WorkExecResult::Ok(Vec::new()));
    // Three instructions in one block.
    assert_eq!(output.gas_used, 3);
}

#[test]
fn exports_are_dropped_when_the_code_panics() {
    let mut asm = Asm::new();
    asm.load_imm64(7, RW.into()).load_imm64(8, 4).ecalli(index::EXPORT as u32).trap();
    let (package, accounts) = asm_service(&asm);
    let output = run(&package, &accounts);
    assert_eq!(output.result, WorkExecResult::Panic);
    assert!(output.exports.is_empty());
    // Four instructions in one block and the export's 10.
    assert_eq!(output.gas_used, 14);
}

#[test]
fn refine_arguments_are_the_papers_encoding() {
    // E(c = 3, i = 1, w_s = 1729, ↕"ab", H): naturals as E, 1729 = [0x86, 0xc1] by hand.
    let mut expected = vec![3, 1, 0x86, 0xc1, 2, b'a', b'b'];
    expected.extend_from_slice(&[9; 32]);
    assert_eq!(refine_arguments(3, 1, 1729, b"ab", &[9; 32]), expected);
    // The argument region the code sees is exactly these octets: a program that returns its
    // arguments (ω7, ω8 as Y set them) outputs them.
    let mut asm = Asm::new();
    asm.halt();
    let (package, accounts) = asm_service(&asm);
    let output = run(&package, &accounts);
    assert_eq!(ok(&output), refine_arguments(0, 0, ME, &[], &blake(&package.encode())));
}

#[test]
fn probe_accumulates_its_outputs_under_their_package_hashes() {
    // Refine mode 4 exports nothing (k = 0) and outputs "exported"; accumulate reads the inputs
    // through the SDK (fetch 15, decoded) and writes each output under its package's hash,
    // skipping transfers and failed items.
    let (package, accounts) = probe(&[4, 0], 1_000_000, 0);
    let output = run(&package, &accounts);
    assert_eq!(ok(&output), b"exported");
    let operand = |hash: [u8; 32], result: WorkExecResult| {
        AccumulationInput::Operand(OperandTuple {
            package_hash: hash,
            segment_root: [0; 32],
            authorizer_hash: [0; 32],
            payload_hash: [0; 32],
            gas_limit: 100_000,
            result,
            auth_trace: b"trace".to_vec(),
        })
    };
    let package_hash = blake(&package.encode());
    let inputs = [
        operand(package_hash, output.result.clone()),
        AccumulationInput::Transfer(orrery_invocation::DeferredTransfer {
            source: 1,
            dest: ME,
            amount: 5,
            memo: [7; 128],
            gas: 10,
        }),
        operand([0x66; 32], WorkExecResult::Panic),
        operand([0x67; 32], WorkExecResult::Ok(vec![1, 2, 3])),
    ];
    let state = partial_state(vec![(ME, service(PROBE, &[]))]);
    let acc = accumulate(&spec(), &state, 50, ME, 1_000_000, &inputs, &[0; 32], None);
    let post = acc.changes.apply_to(&state);
    let me = &post.accounts[&ME];
    assert_eq!(me.storage(&package_hash), Some(&b"exported"[..]));
    assert_eq!(me.storage(&[0x67; 32]), Some(&[1u8, 2, 3][..]));
    assert_eq!(me.storage(&[0x66; 32]), None);
    assert_eq!(acc.yield_hash, None);
    // The transfer's 5 was credited.
    assert_eq!(me.info.balance, state.accounts[&ME].info.balance + 5);
}
