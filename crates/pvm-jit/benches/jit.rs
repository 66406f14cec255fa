//! The recompiler's speed against orrery-pvm's interpreter and polkavm 0.37's recompiler, in the
//! same process and run.
//!
//! `pvm_jit::compute/…`: the `compute` guest (BLAKE2b-256 over 1 MiB, guests/compute) run to its
//! halt through Y and Ψ_M (per-instruction metering) on this recompiler (compiled once, outside the
//! timing) and on orrery-pvm's interpreter; polkavm's recompiler runs the same code from its own
//! container (`compute.polkavm`, synchronous gas metering); native is the guest's `work.rs` built
//! for the host.
//!
//! `pvm_jit::compile/…`: compiling the compute guest and the 137 KB bootstrap service blob of the
//! vectors (pre-decoded program to machine code), and polkavm's compilation of its compute module.
//!
//! After criterion's runs, a summary prints the best of several runs of each and the ratios.

// The recompiler exists on x86-64 Linux only; elsewhere this target only says so.
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
#[path = "../../../guests/compute/src/work.rs"]
#[allow(dead_code)]
mod work;

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod real {

    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};
    use orrery_pvm::{invoke_program, InvocationResult, NoHost, StandardProgram};
    use orrery_pvm_jit::{compile, Compiled};
    use polkavm::{BackendKind, Config, Engine, GasMeteringKind, InterruptKind, Module, ModuleConfig, Reg};

    use super::work;

    const GUEST_JAM: &[u8] = include_bytes!("../../../guests/compute.jam");
    const GUEST_POLKAVM: &[u8] = include_bytes!("../../../guests/compute.polkavm");
    /// Every guest built for both (the same Rust source), for comparing compile times:
    /// (name, orrery's blob, polkavm's blob).
    const GUEST_PAIRS: [(&str, &[u8], &[u8]); 4] = [
        ("compute", GUEST_JAM, GUEST_POLKAVM),
        (
            "authorizer",
            include_bytes!("../../../guests/authorizer.jam"),
            include_bytes!("../../../guests/authorizer.polkavm"),
        ),
        (
            "compute-service",
            include_bytes!("../../../guests/compute-service.jam"),
            include_bytes!("../../../guests/compute-service.polkavm"),
        ),
        (
            "probe",
            include_bytes!("../../../guests/probe.jam"),
            include_bytes!("../../../guests/probe.polkavm"),
        ),
    ];
    const BLOCKS: u32 = 8192;

    fn orrery_program() -> StandardProgram {
        StandardProgram::from_service_code(GUEST_JAM).expect("the committed guest decodes").1
    }

    fn run_interpreter(program: &StandardProgram) -> (Vec<u8>, u64) {
        match invoke_program(program, 0, 1 << 40, &BLOCKS.to_le_bytes(), &mut NoHost) {
            (used, InvocationResult::Output(digest)) => (digest, used),
            (_, other) => panic!("the guest did not halt: {other:?}"),
        }
    }

    fn run_recompiler(program: &StandardProgram, compiled: &Arc<Compiled>) -> (Vec<u8>, u64) {
        match orrery_pvm_jit::invoke(
            program,
            compiled,
            0,
            1 << 40,
            &BLOCKS.to_le_bytes(),
            &mut orrery_pvm::NoHost,
        ) {
            Ok((used, InvocationResult::Output(digest))) => (digest, used),
            other => panic!("the guest did not halt: {other:?}"),
        }
    }

    fn polkavm_engine() -> Result<Engine, String> {
        let mut config = Config::new();
        config.set_backend(Some(BackendKind::Compiler));
        Engine::new(&config).map_err(|e| e.to_string())
    }

    fn polkavm_module(engine: &Engine) -> Module {
        polkavm_module_of(engine, GUEST_POLKAVM)
    }

    fn polkavm_module_of(engine: &Engine, blob: &[u8]) -> Module {
        let mut module_config = ModuleConfig::new();
        module_config.set_gas_metering(Some(GasMeteringKind::Sync));
        module_config.set_aux_data_size(4096);
        Module::new(engine, &module_config, blob.to_vec().into()).expect("polkavm compiles the guest")
    }

    fn run_polkavm(module: &Module) -> Vec<u8> {
        let entry = module
            .exports()
            .find(|e| e.symbol().as_bytes() == b"compute")
            .expect("compute export")
            .program_counter();
        let mut instance = module.instantiate().expect("instantiate");
        instance.set_gas(1 << 40);
        let aux = module.memory_map().aux_data_address();
        instance.write_memory(aux, &BLOCKS.to_le_bytes()).expect("arguments");
        instance.prepare_call_untyped(entry, &[u64::from(aux), 4]);
        match instance.run().expect("run") {
            InterruptKind::Finished => {}
            other => panic!("polkavm stopped with {other:?}"),
        }
        let (address, length) = (instance.reg(Reg::A0) as u32, instance.reg(Reg::A1) as u32);
        instance.read_memory(address, length).expect("output")
    }

    fn bootstrap_blob() -> Vec<u8> {
        let path = orrery_testkit::vectors().join("stf/accumulate/tiny/transfer_for_ejected_service-1.json");
        let json: serde_json::Value = serde_json::from_slice(
            &std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
        )
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
        let compiled = Arc::new(compile(Arc::clone(program.program())).expect("compiles"));
        let (digest, instructions) = run_interpreter(&program);
        assert_eq!(digest, expected);
        assert_eq!(
            run_recompiler(&program, &compiled),
            (expected.clone(), instructions),
            "same digest and gas"
        );

        let mut group = c.benchmark_group("pvm_jit::compute");
        group.sample_size(10);
        group.throughput(Throughput::Elements(instructions));
        let param = format!("blocks={BLOCKS}");
        group.bench_function(BenchmarkId::new("orrery_recompiler", &param), |b| {
            b.iter(|| run_recompiler(&program, &compiled))
        });
        group.bench_function(BenchmarkId::new("orrery_interpreter", &param), |b| {
            b.iter(|| run_interpreter(&program))
        });
        match polkavm_engine() {
            Ok(engine) => {
                let module = polkavm_module(&engine);
                assert_eq!(run_polkavm(&module), expected);
                group.bench_function(BenchmarkId::new("polkavm_recompiler", &param), |b| {
                    b.iter(|| run_polkavm(&module))
                });
            }
            Err(why) => eprintln!("polkavm's recompiler is not available here: {why}"),
        }
        group.bench_function(BenchmarkId::new("native", &param), |b| {
            b.iter(|| work::blake2b_256_of_stream(u64::from(std::hint::black_box(BLOCKS))))
        });
        group.finish();
    }

    fn compile_time(c: &mut Criterion) {
        let mut group = c.benchmark_group("pvm_jit::compile");
        let guest = orrery_program();
        let bootstrap = StandardProgram::from_service_code(&bootstrap_blob()).expect("decodes").1;
        for (name, program) in [("compute", &guest), ("bootstrap", &bootstrap)] {
            let bytes = program.program().code().len();
            group.throughput(Throughput::Bytes(bytes as u64));
            group.bench_function(
                BenchmarkId::new("orrery_recompiler", format!("blob={name},code_bytes={bytes}")),
                |b| b.iter(|| compile(Arc::clone(program.program())).expect("compiles")),
            );
        }
        if let Ok(engine) = polkavm_engine() {
            group.throughput(Throughput::Bytes(GUEST_POLKAVM.len() as u64));
            group.bench_function(BenchmarkId::new("polkavm_recompiler", "blob=compute"), |b| {
                b.iter(|| polkavm_module(&engine))
            });
        }
        group.finish();
    }

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
        let runs = 10;
        let program = orrery_program();
        let compiled = Arc::new(compile(Arc::clone(program.program())).expect("compiles"));
        let interpreter = best_of(runs, || run_interpreter(&program));
        let recompiler = best_of(runs, || run_recompiler(&program, &compiled));
        let polkavm = polkavm_engine().ok().map(|engine| {
            let module = polkavm_module(&engine);
            best_of(runs, || run_polkavm(&module))
        });
        let native = best_of(runs, || work::blake2b_256_of_stream(u64::from(std::hint::black_box(BLOCKS))));
        let ms = |t: Duration| t.as_secs_f64() * 1e3;
        println!("\nsummary: BLAKE2b-256 over 1 MiB ({BLOCKS} blocks), best of {runs}");
        println!("  orrery interpreter  {:>9.2} ms", ms(interpreter));
        println!("  orrery recompiler   {:>9.2} ms", ms(recompiler));
        if let Some(polkavm) = polkavm {
            println!("  polkavm recompiler  {:>9.2} ms", ms(polkavm));
            println!("  ratio orrery recompiler / polkavm recompiler: {:.2}", ms(recompiler) / ms(polkavm));
        }
        println!("  native Rust         {:>9.3} ms", ms(native));
        println!("  ratio orrery recompiler / interpreter: {:.3}", ms(recompiler) / ms(interpreter));
        println!("  ratio orrery recompiler / native: {:.2}", ms(recompiler) / ms(native));
        let bootstrap = StandardProgram::from_service_code(&bootstrap_blob()).expect("decodes").1;
        let t = best_of(runs, || compile(Arc::clone(bootstrap.program())).expect("compiles"));
        let kb = bootstrap.program().code().len() as f64 / 1024.0;
        println!(
            "  compile bootstrap: {:.3} ms for {kb:.1} KiB of code ({:.1} µs/KiB)",
            ms(t),
            ms(t) * 1e3 / kb
        );
        // The same guests (same Rust source) built for each: compile time side by side. polkavm's
        // time is `Module::new`, which copies the code into memory its sandbox already maps.
        let engine = polkavm_engine().ok();
        for (name, jam, polkavm) in GUEST_PAIRS {
            let p = StandardProgram::from_service_code(jam).expect("decodes").1;
            let ours = best_of(runs * 3, || compile(Arc::clone(p.program())).expect("compiles"));
            let kb = p.program().code().len() as f64 / 1024.0;
            print!(
                "  compile {name}: {:.3} ms for {kb:.1} KiB of code ({:.1} µs/KiB)",
                ms(ours),
                ms(ours) * 1e3 / kb
            );
            if let Some(engine) = &engine {
                let theirs = best_of(runs * 3, || polkavm_module_of(engine, polkavm));
                print!("; polkavm {:.3} ms, ours / polkavm {:.2}", ms(theirs), ms(ours) / ms(theirs));
            }
            println!();
        }
    }

    criterion_group!(benches, compute, compile_time);

    pub(crate) fn main() {
        benches();
        Criterion::default().configure_from_args().final_summary();
        summary();
    }
}

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
fn main() {
    real::main();
}

#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
fn main() {
    eprintln!("orrery-pvm-jit exists on x86-64 Linux only");
}
