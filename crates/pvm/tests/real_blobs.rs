//! Real JAM service blobs from the vectors, decoded with Y and run from the accumulate entry point
//! (pc 5, GP 0.7.2 §B.4 Ψ_A) with the arguments of a real vector case until their first host call.
//!
//! Every expected value below was worked out by hand, not taken from this crate's output:
//! - the layout and registers from Y (eq. A.42–A.43) and the blob header;
//! - the arguments E(t, s, |i|) from the vector case (the block's slot, the service, the number of
//!   its accumulation inputs), encoded with the general natural encoding of Appendix C;
//! - the path to the first `ecalli` by reading the code from pc 5 instruction by instruction (the
//!   listings are in the comments), applying §A.5's semantics, and charging gas per basic block
//!   as the `pvm/` vectors do.
//!
//! The vectors folder must exist; a missing folder fails these tests.

use orrery_codec::{Decode, Decoder};
use orrery_pvm::{Exit, StandardProgram};
use orrery_testkit::vectors;

fn read(path: &str) -> Vec<u8> {
    let path = vectors().join(path);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn hex(text: &str) -> Vec<u8> {
    hex::decode(text.trim_start_matches("0x")).unwrap()
}

/// E(t) ‖ E(s) ‖ E(|i|) with the general natural encoding.
fn accumulate_args(t: u64, s: u64, inputs: u64) -> Vec<u8> {
    let mut out = Vec::new();
    for x in [t, s, inputs] {
        orrery_codec::natural::encode_to(x, &mut out);
    }
    out
}

/// The code blob of `service` in an `stf/accumulate` case: the preimage whose blake2b-256 is the
/// account's code hash. Also returns the case's slot and the service's number of work results.
fn accumulate_case(case: &str, service: u64) -> (Vec<u8>, u64, u64) {
    let json: serde_json::Value =
        serde_json::from_slice(&read(&format!("stf/accumulate/tiny/{case}.json"))).unwrap();
    let account = json["pre_state"]["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"].as_u64() == Some(service))
        .expect("service in pre-state");
    let code_hash = hex(account["data"]["service"]["code_hash"].as_str().unwrap());
    let blob = account["data"]["preimage_blobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| hex(p["blob"].as_str().unwrap()))
        .find(|blob| orrery_crypto::blake2b_256(blob)[..] == code_hash[..])
        .expect("code preimage");
    let slot = json["input"]["slot"].as_u64().unwrap();
    let results = json["input"]["reports"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["results"].as_array().unwrap())
        .filter(|r| r["service_id"].as_u64() == Some(service))
        .count() as u64;
    (blob, slot, results)
}

/// The state key C(s, h) of GP 0.7.2 §D.1 for a service and a blob h.
fn service_key(service: u32, h: &[u8]) -> [u8; 31] {
    let n = service.to_le_bytes();
    let a = orrery_crypto::blake2b_256(h);
    let mut key = [0u8; 31];
    for i in 0..4 {
        key[2 * i] = n[i];
        key[2 * i + 1] = a[i];
    }
    key[8..].copy_from_slice(&a[4..27]);
    key
}

/// The key/value pairs of a trace's `genesis.bin` (traces/schema.asn: Genesis = header, state).
fn genesis_state(trace: &str) -> Vec<([u8; 31], Vec<u8>)> {
    let bytes = read(&format!("traces/{trace}/genesis.bin"));
    let mut d = Decoder::new(&bytes, orrery_types::ChainSpec::tiny().lengths());
    orrery_types::Header::decode(&mut d).unwrap();
    let _state_root: [u8; 32] = d.array().unwrap();
    let count = d.length().unwrap();
    let mut pairs = Vec::new();
    for _ in 0..count {
        let key: [u8; 31] = d.array().unwrap();
        let len = d.length().unwrap();
        pairs.push((key, d.take(len).unwrap().to_vec()));
    }
    d.finish().unwrap();
    pairs
}

/// Runs a service blob's accumulate entry with `args` until its first exit.
fn run_accumulate(
    blob: &[u8],
    args: &[u8],
    gas: i64,
) -> (Vec<u8>, StandardProgram, orrery_pvm::Machine, Exit) {
    let (metadata, program) = StandardProgram::from_service_code(blob).unwrap();
    let mut machine = program.instantiate(args, 5, gas).unwrap();
    // Y's registers (eq. A.43): ω0 = 2^32 − 2^16, ω1 = 2^32 − 2·Z_Z − Z_I, ω7 = 2^32 − Z_Z − Z_I,
    // ω8 = |a|, all others 0.
    let mut expected = [0u64; 13];
    expected[0] = 0xffff_0000;
    expected[1] = (1u64 << 32) - 2 * 65536 - (1 << 24);
    expected[7] = (1u64 << 32) - 65536 - (1 << 24);
    expected[8] = args.len() as u64;
    assert_eq!(machine.regs(), &expected);
    let exit = machine.run();
    (metadata, program, machine, exit)
}

#[test]
fn test_service_runs_from_accumulate_to_its_first_host_call() {
    let (blob, slot, inputs) = accumulate_case("process_one_immediate_report-1", 1729);
    assert_eq!(blob.len(), 35728);
    assert_eq!((slot, inputs), (43, 1));
    // 43 < 2^7 is one octet; 1729 = 0x6c1 needs the two-octet form 0b10xxxxxx: 0x80 | 0x06, 0xc1.
    let args = accumulate_args(slot, 1729, inputs);
    assert_eq!(args, [0x2b, 0x86, 0xc1, 0x01]);

    let gas = 1_000_000;
    let (metadata, program, machine, exit) = run_accumulate(&blob, &args, gas);
    assert!(metadata.starts_with(b"\x00\x0ctest-service"));
    // Header E3(|o|) E3(|w|) E2(z) E3(s) = c01c00 140000 0200 002000: |o| = 7360, |w| = 20, z = 2,
    // s = 8192. So h = 2·Z_Z + Z(7360) = 0x30000 and the heap ends at h + P(20) + 2·4096 = 0x33000.
    assert_eq!(
        (program.ro_data().len(), program.rw_data().len(), program.heap_pages(), program.stack_size()),
        (7360, 20, 2, 8192)
    );
    let layout = program.layout();
    assert_eq!((layout.heap_base, layout.heap_end), (0x30000, 0x33000));
    assert_eq!((layout.stack_start, layout.stack_end), (0xfefd_e000, 0xfefe_0000));

    // The path, one basic block per line (block cost in brackets):
    //      5: jump @2055                                                            [1]
    //   2055: add_imm_64 r1,r1,-1272; 3 × store_ind_u64; move_reg r5,r8 (= |a| = 4);
    //         move_reg r6,r7; load_imm_jump r0,44,@18927                                 [7]
    //  18927: add_imm_64 r1,r1,-240; 3 × store_ind_u64; store_imm_ind_u64 [r1+160],0;
    //         add_imm_64 r7,r1,184; add_imm_64 r8,r1,160; load_imm_jump r0,318,@17372   [8]
    //  17372: add_imm_64 r1,r1,-112; 4 × store_ind_u64; load_ind_u64 r10,[r8] (= 0, just
    //         stored); r9,[r8+8] and r8,[r8+16] (never-written stack: 0); load_imm r11,0;
    //         shlo_r_imm_alt_64 r7 = 20359 >> r10 = 20359; and_imm r7,1 (= 1); load_imm r12,0;
    //         branch_ne_imm r7,0,@17429 (taken)                                          [13]
    //  17429: 2 × store_ind_u64; load_imm r6,-9; load_imm r7/r8/r9,0; store_ind_u64;
    //         load_imm r0,280; ecalli 1 (at 17451); fallthrough                          [10]
    // Gas: 1 + 7 + 8 + 13 + 10 = 39. r1 = 0xfefe0000 − 1272 − 240 − 112 = 0xfefdf9a8.
    assert_eq!(exit, Exit::HostCall(1), "fetch");
    assert_eq!(machine.pc(), 17451);
    assert_eq!(gas - machine.gas(), 39);
    assert_eq!(machine.regs(), &[280, 0xfefd_f9a8, 0, 0, 0, 4, (-9i64) as u64, 0, 0, 0, 0, 0, 0]);
}

#[test]
fn bootstrap_service_from_genesis_runs_to_its_first_host_call() {
    let state = genesis_state("fallback");
    // Every trace starts from the same genesis.
    for trace in ["preimages", "safrole", "storage"] {
        assert_eq!(genesis_state(trace), state);
    }
    // Service 0's account: key C(255, 0) = [255, 0, …]; value E(0, code hash, …).
    let mut account_key = [0u8; 31];
    account_key[0] = 255;
    let account = &state.iter().find(|(k, _)| *k == account_key).expect("service 0").1;
    assert_eq!(account[0], 0);
    let code_hash = &account[1..33];
    // Its code: the preimage under C(0, E4(2^32 − 2) ‖ code hash).
    let mut preimage_key_input = (u32::MAX - 1).to_le_bytes().to_vec();
    preimage_key_input.extend_from_slice(code_hash);
    let key = service_key(0, &preimage_key_input);
    let blob = &state.iter().find(|(k, _)| *k == key).expect("code preimage").1;
    assert_eq!(orrery_crypto::blake2b_256(blob)[..], code_hash[..]);
    assert_eq!(blob.len(), 137056);

    // The same code accumulates for service 0 in `transfer_for_ejected_service-1` (slot 43, one
    // work result): those are the arguments.
    let (same_blob, slot, inputs) = accumulate_case("transfer_for_ejected_service-1", 0);
    assert_eq!(&same_blob, blob);
    assert_eq!((slot, inputs), (43, 1));
    let args = accumulate_args(slot, 0, inputs);
    assert_eq!(args, [0x2b, 0x00, 0x01]);

    let gas = 1_000_000;
    let (metadata, program, machine, exit) = run_accumulate(blob, &args, gas);
    assert!(metadata.starts_with(b"\x00\x15jam-bootstrap-service"));
    assert_eq!(
        (program.ro_data().len(), program.rw_data().len(), program.heap_pages(), program.stack_size()),
        (13600, 40, 2, 8192)
    );

    // The path:
    //      5: jump @74653                                                           [1]
    //  74653: add_imm_64 r1,r1,-1464; 3 × store_ind_u64; move_reg r5,r8 (= |a| = 3);
    //         move_reg r6,r7; load_imm_jump r0,2490,@97585                               [7]
    //  97585: add_imm_64 r1,r1,-288; 3 × store_ind_u64; store_imm_ind_u64 [r1+208],0;
    //         add_imm_64 r7,r1,232; add_imm_64 r8,r1,208; load_imm_jump r0,2926,@93458  [8]
    //  93458: the same 13-instruction block as the test service's 17372 (r10 = 0, r9 = r8 = 0
    //         from unwritten stack, r11 = r12 = 0, branch taken to 93515)                [13]
    //  93515: …; load_imm r6,-9; load_imm r7/r8/r9,0; …; load_imm r0,2820; ecalli 1 (at 93537);
    //         fallthrough                                                                [10]
    // Gas 39; r1 = 0xfefe0000 − 1464 − 288 − 112 = 0xfefdf8b8.
    assert_eq!(exit, Exit::HostCall(1), "fetch");
    assert_eq!(machine.pc(), 93537);
    assert_eq!(gas - machine.gas(), 39);
    assert_eq!(machine.regs(), &[2820, 0xfefd_f8b8, 0, 0, 0, 3, (-9i64) as u64, 0, 0, 0, 0, 0, 0]);
}
