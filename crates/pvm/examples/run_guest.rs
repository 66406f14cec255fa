//! `cargo run --release -p orrery-pvm --example run_guest -- [BLOCKS] [RUNS]`: runs the committed
//! `compute` guest (guests/compute.jam) RUNS times over BLOCKS × 128 bytes and prints the best
//! time and instructions per second, for profiling the interpreter without criterion around it.

use orrery_pvm::{invoke_program, InvocationResult, NoHost, StandardProgram};

const GUEST: &[u8] = include_bytes!("../../../guests/compute.jam");

fn main() {
    let arg =
        |n: usize, default: u32| std::env::args().nth(n).map_or(default, |s| s.parse().expect("a number"));
    let (blocks, runs) = (arg(1, 8192), arg(2, 10));
    let (_, program) = StandardProgram::from_service_code(GUEST).expect("the guest decodes");
    let mut best = std::time::Duration::MAX;
    let mut instructions = 0;
    for _ in 0..runs {
        let start = std::time::Instant::now();
        let (used, result) = invoke_program(&program, 0, 1 << 40, &blocks.to_le_bytes(), &mut NoHost);
        best = best.min(start.elapsed());
        assert!(matches!(result, InvocationResult::Output(_)), "{result:?}");
        instructions = used;
    }
    println!(
        "{instructions} instructions, best {best:?}: {:.1} M instructions/s",
        instructions as f64 / best.as_secs_f64() / 1e6
    );
}
