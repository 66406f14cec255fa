//! The PVM's speed, against polkavm 0.37 in the same process.
//!
//! `pvm::compute/…`: the `compute` guest (BLAKE2b-256 over 1 MiB, guests/compute) run to its halt
//! - on this interpreter (the JAM blob, through Y and Ψ_M's halting rule),
//! - on polkavm's interpreter (the same code in polkavm's container, `JamV1`, synchronous gas
//!   metering, one gas per instruction),
//! - on polkavm's recompiler, when this machine can run it,
//! - natively (the guest's own `work.rs` compiled for the host).
//!
//! `pvm::load/…`: decoding the 137 KB bootstrap service blob from the vectors (metadata, Y,
//! `deblob` and pre-decoding) and laying out its memory for an invocation.
//!
//! After criterion's runs, a summary measures each variant again (best of several runs) and prints
//! instructions per second and the ratios.

use std::time::{Duration, Instant};

use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};
use orrery_pvm::{invoke_program, InvocationResult, NoHost, StandardProgram};
use polkavm::{BackendKind, Config, Engine, GasMeteringKind, InterruptKind, Module, ModuleConfig, Reg};

#[path = "../../../guests/compute/src/work.rs"]
#[allow(dead_code)]
mod work;

const GUEST_JAM: &[u8] = include_bytes!("../../../guests/compute.jam");
const GUEST_POLKAVM: &[u8] = include_bytes!("../../../guests/compute.polkavm");
const BLOCKS: u32 = 8192;

fn orrery_program() -> StandardProgram {
    StandardProgram::from_service_code(GUEST_JAM).expect("the committed guest decodes").1
}

/// One invocation on this interpreter: the digest and the instructions executed.
fn run_orrery(program: &StandardProgram, blocks: u32) -> (Vec<u8>, u64) {
    match invoke_program(program, 0, 1 << 40, &blocks.to_le_bytes(), &mut NoHost) {
        (used, InvocationResult::Output(digest)) => (digest, used),
        (_, other) => panic!("the guest did not halt: {other:?}"),
    }
}

struct Polkavm {
    module: Module,
    entry: polkavm::ProgramCounter,
}

impl Polkavm {
    fn new(backend: BackendKind) -> Result<Polkavm, String> {
        let mut config = Config::new();
        config.set_backend(Some(backend));
        let engine = Engine::new(&config).map_err(|e| e.to_string())?;
        let mut module_config = ModuleConfig::new();
        module_config.set_gas_metering(Some(GasMeteringKind::Sync));
        module_config.set_aux_data_size(4096);
        let module =
            Module::new(&engine, &module_config, GUEST_POLKAVM.to_vec().into()).map_err(|e| e.to_string())?;
        let entry = module
            .exports()
            .find(|e| e.symbol().as_bytes() == b"compute")
            .ok_or("no compute export")?
            .program_counter();
        Ok(Polkavm { module, entry })
    }

    /// One invocation: the digest and the instructions executed (gas used).
    fn run(&self, blocks: u32) -> (Vec<u8>, u64) {
        let mut instance = self.module.instantiate().expect("instantiate");
        let gas = 1 << 40;
        instance.set_gas(gas);
        let aux = self.module.memory_map().aux_data_address();
        instance.write_memory(aux, &blocks.to_le_bytes()).expect("arguments");
        instance.prepare_call_untyped(self.entry, &[u64::from(aux), 4]);
        match instance.run().expect("run") {
            InterruptKind::Finished => {}
            other => panic!("polkavm stopped with {other:?}"),
        }
        let (address, length) = (instance.reg(Reg::A0) as u32, instance.reg(Reg::A1) as u32);
        let digest = instance.read_memory(address, length).expect("output");
        (digest, (gas - instance.gas()) as u64)
    }
}

fn bootstrap_blob() -> Vec<u8> {
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
    hex::decode(blob["blob"].as_str().expect("blob").trim_start_matches("0x")).expect("hex")
}

fn compute(c: &mut Criterion) {
    let expected = work::blake2b_256_of_stream(u64::from(BLOCKS)).to_vec();
    let program = orrery_program();
    let (digest, instructions) = run_orrery(&program, BLOCKS);
    assert_eq!(digest, expected);

    let mut group = c.benchmark_group("pvm::compute");
    group.sample_size(10);
    group.throughput(Throughput::Elements(instructions));
    let param = format!("blocks={BLOCKS}");
    group.bench_function(BenchmarkId::new("orrery_interpreter", &param), |b| {
        b.iter(|| run_orrery(&program, BLOCKS))
    });
    let interpreter = Polkavm::new(BackendKind::Interpreter).expect("polkavm's interpreter");
    assert_eq!(interpreter.run(BLOCKS).0, expected);
    group.bench_function(BenchmarkId::new("polkavm_interpreter", &param), |b| {
        b.iter(|| interpreter.run(BLOCKS))
    });
    match Polkavm::new(BackendKind::Compiler) {
        Ok(recompiler) => {
            assert_eq!(recompiler.run(BLOCKS).0, expected);
            group.bench_function(BenchmarkId::new("polkavm_recompiler", &param), |b| {
                b.iter(|| recompiler.run(BLOCKS))
            });
        }
        Err(why) => eprintln!("polkavm's recompiler is not available here: {why}"),
    }
    group.bench_function(BenchmarkId::new("native", &param), |b| {
        b.iter(|| work::blake2b_256_of_stream(u64::from(std::hint::black_box(BLOCKS))))
    });
    group.finish();
}

fn load(c: &mut Criterion) {
    let blob = bootstrap_blob();
    let mut group = c.benchmark_group("pvm::load");
    group.throughput(Throughput::Bytes(blob.len() as u64));
    group.bench_function(BenchmarkId::new("decode", format!("blob=bootstrap,bytes={}", blob.len())), |b| {
        b.iter(|| StandardProgram::from_service_code(&blob).expect("decodes"))
    });
    let program = StandardProgram::from_service_code(&blob).expect("decodes").1;
    group.bench_function(BenchmarkId::new("instantiate", "blob=bootstrap"), |b| {
        b.iter(|| program.instantiate(&[0x2b, 0, 1], 5, 1_000_000).expect("instantiates"))
    });
    group.finish();
}

/// The best of `runs` timings of `f`.
fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(f());
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn summary() {
    let runs = 15;
    let program = orrery_program();
    let (_, instructions) = run_orrery(&program, BLOCKS);
    let interpreter = Polkavm::new(BackendKind::Interpreter).expect("polkavm's interpreter");
    let (_, polkavm_instructions) = interpreter.run(BLOCKS);
    // Alternate the two interpreters so that both see the same machine load.
    let (mut ours, mut theirs) = (Duration::MAX, Duration::MAX);
    for _ in 0..runs {
        ours = ours.min(best_of(1, || run_orrery(&program, BLOCKS)));
        theirs = theirs.min(best_of(1, || interpreter.run(BLOCKS)));
    }
    let recompiled = Polkavm::new(BackendKind::Compiler).ok().map(|r| best_of(runs, || r.run(BLOCKS)));
    let native = best_of(runs, || work::blake2b_256_of_stream(u64::from(std::hint::black_box(BLOCKS))));

    let mips = |t: Duration, n: u64| n as f64 / t.as_secs_f64() / 1e6;
    println!("\nsummary: BLAKE2b-256 over 1 MiB ({BLOCKS} blocks), best of {runs} alternating runs");
    println!(
        "  orrery-pvm interpreter {:>9.2} ms  {:>7.1} M instructions/s ({instructions} instructions)",
        ours.as_secs_f64() * 1e3,
        mips(ours, instructions)
    );
    println!(
        "  polkavm interpreter    {:>9.2} ms  {:>7.1} M instructions/s ({polkavm_instructions} instructions)",
        theirs.as_secs_f64() * 1e3,
        mips(theirs, polkavm_instructions)
    );
    if let Some(recompiled) = recompiled {
        println!(
            "  polkavm recompiler     {:>9.2} ms  {:>7.1} M instructions/s",
            recompiled.as_secs_f64() * 1e3,
            mips(recompiled, polkavm_instructions)
        );
        println!(
            "  ratio orrery / polkavm recompiler time: {:.2}",
            ours.as_secs_f64() / recompiled.as_secs_f64()
        );
    } else {
        println!("  polkavm recompiler     not available on this machine");
    }
    println!("  native Rust            {:>9.3} ms", native.as_secs_f64() * 1e3);
    println!(
        "  ratio orrery / polkavm interpreter time: {:.2} (below 1: orrery is faster)",
        ours.as_secs_f64() / theirs.as_secs_f64()
    );
    println!("  ratio orrery / native time: {:.1}", ours.as_secs_f64() / native.as_secs_f64());

    let blob = bootstrap_blob();
    let load = best_of(20, || StandardProgram::from_service_code(&blob).expect("decodes"));
    println!("  load of the {}-byte bootstrap blob: {:.3} ms", blob.len(), load.as_secs_f64() * 1e3);
}

criterion_group!(benches, compute, load);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    summary();
}
