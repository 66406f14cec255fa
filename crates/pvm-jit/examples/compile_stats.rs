//! Compiles a service blob (a file given as the argument, `E(↕m) ‖ p` as on chain) and prints the
//! sizes and the times (the first compilation, and the best of 20 more): for looking at what the
//! recompiler emits. With a second argument, writes the machine code there
//! (`objdump -D -b binary -mi386:x86-64 <file>` reads it).

// The recompiler exists on x86-64 Linux only; elsewhere this target only says so.
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod real {

    use std::sync::Arc;
    use std::time::Instant;

    const REPEAT: usize = 20;

    pub(crate) fn main() {
        let Some(path) = std::env::args().nth(1) else {
            eprintln!("usage: compile_stats <service blob>");
            std::process::exit(2);
        };
        let blob = match std::fs::read(&path) {
            Ok(blob) => blob,
            Err(e) => {
                eprintln!("{path}: {e}");
                std::process::exit(1);
            }
        };
        let program = match orrery_pvm::StandardProgram::from_service_code(&blob) {
            Ok((_, program)) => program,
            Err(e) => {
                eprintln!("{path}: {e}");
                std::process::exit(1);
            }
        };
        let start = Instant::now();
        let first = orrery_pvm_jit::compile(Arc::clone(program.program()));
        let first_time = start.elapsed();
        // The first compilation pays for fresh memory; the best of the next ones is the steady state.
        let best = (0..REPEAT)
            .map(|_| {
                let start = Instant::now();
                drop(orrery_pvm_jit::compile(Arc::clone(program.program())));
                start.elapsed()
            })
            .min()
            .unwrap_or_default();
        match first {
            Ok(compiled) => {
                println!(
                    "{} bytes of PVM code, {} slots -> {} bytes of x86-64 in {:.3} ms (first), {:.3} ms (best of {REPEAT} more)",
                    program.program().code().len(),
                    program.program().slot_count(),
                    compiled.code_len(),
                    first_time.as_secs_f64() * 1e3,
                    best.as_secs_f64() * 1e3
                );
                if let Some(out) = std::env::args().nth(2) {
                    if let Err(e) = std::fs::write(&out, compiled.machine_code()) {
                        eprintln!("{out}: {e}");
                        std::process::exit(1);
                    }
                }
            }
            Err(e) => {
                eprintln!("{path}: {e}");
                std::process::exit(1);
            }
        }
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
