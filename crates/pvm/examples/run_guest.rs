//! `cargo run --release -p orrery-pvm --example run_guest -- [BLOCKS] [RUNS] [polkavm]`: runs the
//! committed `compute` guest RUNS times over BLOCKS × 128 bytes, on this interpreter or (with
//! `polkavm`) on polkavm's interpreter, and prints the best time and instructions per second: for
//! profiling without criterion around it.

use orrery_pvm::{invoke_program, InvocationResult, NoHost, StandardProgram};
use polkavm::{BackendKind, Config, Engine, GasMeteringKind, InterruptKind, Module, ModuleConfig};

const GUEST: &[u8] = include_bytes!("../../../guests/compute.jam");
const GUEST_POLKAVM: &[u8] = include_bytes!("../../../guests/compute.polkavm");

fn main() {
    let arg =
        |n: usize, default: u32| std::env::args().nth(n).map_or(default, |s| s.parse().expect("a number"));
    let (blocks, runs) = (arg(1, 8192), arg(2, 10));
    let on_polkavm = std::env::args().nth(3).is_some_and(|a| a == "polkavm");
    let mut run: Box<dyn FnMut() -> u64> = if on_polkavm {
        let mut config = Config::new();
        config.set_backend(Some(BackendKind::Interpreter));
        let engine = Engine::new(&config).expect("engine");
        let mut module_config = ModuleConfig::new();
        module_config.set_gas_metering(Some(GasMeteringKind::Sync));
        module_config.set_aux_data_size(4096);
        let module = Module::new(&engine, &module_config, GUEST_POLKAVM.to_vec().into()).expect("module");
        let entry =
            module.exports().find(|e| e.symbol().as_bytes() == b"compute").expect("export").program_counter();
        Box::new(move || {
            let mut instance = module.instantiate().expect("instance");
            instance.set_gas(1 << 40);
            let aux = module.memory_map().aux_data_address();
            instance.write_memory(aux, &blocks.to_le_bytes()).expect("arguments");
            instance.prepare_call_untyped(entry, &[u64::from(aux), 4]);
            assert!(matches!(instance.run().expect("run"), InterruptKind::Finished));
            ((1 << 40) - instance.gas()) as u64
        })
    } else {
        let (_, program) = StandardProgram::from_service_code(GUEST).expect("the guest decodes");
        Box::new(move || {
            let (used, result) = invoke_program(&program, 0, 1 << 40, &blocks.to_le_bytes(), &mut NoHost);
            assert!(matches!(result, InvocationResult::Output(_)), "{result:?}");
            used
        })
    };
    let mut best = std::time::Duration::MAX;
    let mut instructions = 0;
    for _ in 0..runs {
        let start = std::time::Instant::now();
        instructions = run();
        best = best.min(start.elapsed());
    }
    println!(
        "{instructions} instructions, best {best:?}: {:.1} M instructions/s",
        instructions as f64 / best.as_secs_f64() / 1e6
    );
}
