//! `cargo run -p orrery-pvm --example disassemble -- FILE [FROM TO]`: lists the instructions of a
//! service blob (metadata prefix and GP 0.7.2 §A.7 format) or, failing that, a bare program blob
//! (§A.1), between program counters FROM and TO (all of them by default). `>` marks basic-block
//! starts.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(path) = args.get(1) else {
        eprintln!("usage: disassemble FILE [FROM TO]");
        std::process::exit(2);
    };
    let blob = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let program = match orrery_pvm::StandardProgram::from_service_code(&blob) {
        Ok((metadata, program)) => {
            println!("; metadata {:?}", String::from_utf8_lossy(&metadata));
            println!(
                "; read-only {} bytes, read-write {} bytes, {} heap pages, stack {} bytes",
                program.ro_data().len(),
                program.rw_data().len(),
                program.heap_pages(),
                program.stack_size()
            );
            program.program().clone()
        }
        Err(_) => {
            std::sync::Arc::new(orrery_pvm::Program::from_blob(&blob).unwrap_or_else(|e| panic!("{e}")))
        }
    };
    let from = args.get(2).map_or(0, |a| a.parse().expect("FROM"));
    let to = args.get(3).map_or(u32::MAX, |a| a.parse().expect("TO"));
    print!("{}", program.disassemble(from..to));
}
