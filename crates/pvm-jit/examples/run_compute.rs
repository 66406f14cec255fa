//! Runs the compute guest (BLAKE2b-256 over 1 MiB, guests/compute) on the recompiler a given number
//! of times (default 20) and prints the best time: a loop to profile without the bench's other parts.

// The recompiler exists on x86-64 Linux only; elsewhere this target only says so.
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod real {

    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use orrery_pvm::{InvocationResult, StandardProgram};

    const GUEST_JAM: &[u8] = include_bytes!("../../../guests/compute.jam");

    pub(crate) fn main() {
        let runs: usize = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(20);
        let program = match StandardProgram::from_service_code(GUEST_JAM) {
            Ok((_, program)) => program,
            Err(e) => {
                eprintln!("the committed guest does not decode: {e}");
                std::process::exit(1);
            }
        };
        let compiled = match orrery_pvm_jit::compile(Arc::clone(program.program())) {
            Ok(compiled) => Arc::new(compiled),
            Err(e) => {
                eprintln!("compile: {e}");
                std::process::exit(1);
            }
        };
        let mut best = Duration::MAX;
        for _ in 0..runs {
            let start = Instant::now();
            let result = orrery_pvm_jit::invoke(
                &program,
                &compiled,
                0,
                1 << 40,
                &8192u32.to_le_bytes(),
                &mut orrery_pvm::NoHost,
            );
            best = best.min(start.elapsed());
            if !matches!(result, Ok((_, InvocationResult::Output(_)))) {
                eprintln!("the guest did not halt: {result:?}");
                std::process::exit(1);
            }
        }
        println!("best of {runs}: {:.2} ms", best.as_secs_f64() * 1e3);
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
