//! Real service code on the recompiler and the interpreter: the committed guests (`guests/*.jam`) and
//! the vectors' bootstrap service, laid out by Y, run per instruction (as Ψ_M does) across their host
//! calls with the same answers, and compared at every exit: the exit, program counter, gas and
//! registers, and the output of the compute guest against its digest computed natively.
#![cfg(all(target_arch = "x86_64", target_os = "linux"))]

use std::sync::Arc;

use orrery_pvm::{Exit, InvocationResult, Metering, StandardProgram};
use orrery_pvm_jit::{compile, instantiate};

#[path = "../../../guests/compute/src/work.rs"]
#[allow(dead_code)]
mod work;

/// The state after one exit.
type Step = (Exit, u32, i64, [u64; 13]);

/// Runs `blob` from `pc` on both backends, answering each host call the same way (ω7 = the call's
/// index times 3, a little gas charged), until an exit that is not a host call or `calls` of them.
fn lockstep(blob: &[u8], pc: u32, args: &[u8], calls: usize) -> Vec<Step> {
    let (_, program) = StandardProgram::from_service_code(blob).expect("decodes");
    let mut m = program.instantiate(args, pc, 50_000_000).expect("Y");
    m.set_metering(Metering::Instruction);
    let compiled = Arc::new(compile(Arc::clone(program.program())).expect("compiles"));
    let mut j = instantiate(&program, compiled, args, pc, 50_000_000).expect("Y");
    j.set_metering(Metering::Instruction);
    let mut steps = Vec::new();
    for _ in 0..=calls {
        let want: Step = (m.run(), m.pc(), m.gas(), *m.regs());
        let got: Step = (j.run(), j.pc(), j.gas(), *j.regs());
        assert_eq!(got, want, "step {} of pc {pc}", steps.len());
        steps.push(want);
        let Exit::HostCall(index) = want.0 else { break };
        m.regs_mut()[7] = index.wrapping_mul(3);
        j.regs_mut()[7] = index.wrapping_mul(3);
        m.set_gas(m.gas() - 10);
        j.set_gas(j.gas() - 10);
    }
    steps
}

fn guest(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../guests").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_compute_guest_gives_the_native_digest_and_the_interpreters_gas() {
    let blob = guest("compute.jam");
    let (_, program) = StandardProgram::from_service_code(&blob).expect("decodes");
    let compiled = Arc::new(compile(Arc::clone(program.program())).expect("compiles"));
    let blocks = 64u32;
    let args = blocks.to_le_bytes();
    let want = orrery_pvm::invoke_program(&program, 0, 1 << 40, &args, &mut orrery_pvm::NoHost);
    let got = orrery_pvm_jit::invoke(&program, &compiled, 0, 1 << 40, &args, &mut orrery_pvm::NoHost)
        .expect("sandbox");
    assert_eq!(got, want);
    assert_eq!(got.1, InvocationResult::Output(work::blake2b_256_of_stream(u64::from(blocks)).to_vec()));
    // Out of gas part-way, per instruction: the same gas used (all of it) and result.
    let short = want.0 / 2;
    let want = orrery_pvm::invoke_program(&program, 0, short, &args, &mut orrery_pvm::NoHost);
    let got = orrery_pvm_jit::invoke(&program, &compiled, 0, short, &args, &mut orrery_pvm::NoHost)
        .expect("sandbox");
    assert_eq!((got.clone(), want.1.clone()), (want, InvocationResult::OutOfGas));
}

#[test]
fn the_committed_guests_run_in_lockstep_across_host_calls() {
    for name in ["compute-service.jam", "authorizer.jam", "probe.jam"] {
        let blob = guest(name);
        // Entry points 0 and 5 (refine and accumulate in the standard service layout), with a short
        // argument.
        for pc in [0, 5] {
            let steps = lockstep(&blob, pc, &[1, 2, 3, 4], 40);
            assert!(!steps.is_empty(), "{name}");
        }
    }
}

#[test]
fn the_bootstrap_service_of_the_vectors_runs_in_lockstep() {
    let path = orrery_testkit::vectors().join("stf/accumulate/tiny/transfer_for_ejected_service-1.json");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
            .expect("JSON");
    let account = &json["pre_state"]["accounts"][0]["data"];
    let code_hash = account["service"]["code_hash"].as_str().expect("code hash");
    let blob = account["preimage_blobs"]
        .as_array()
        .expect("preimages")
        .iter()
        .find(|p| p["hash"].as_str() == Some(code_hash))
        .expect("code preimage");
    let blob = hex::decode(blob["blob"].as_str().expect("blob").trim_start_matches("0x")).expect("hex");
    for pc in [0, 5] {
        let steps = lockstep(&blob, pc, &[0x2b, 0, 1], 60);
        assert!(steps.len() > 1, "the bootstrap service makes host calls: {steps:?}");
    }
}
