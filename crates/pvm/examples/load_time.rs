//! `cargo run --release -p orrery-pvm --example load_time -- BLOB`: the best of 50 decodes and
//! instantiations of a service blob, for quick measurement while changing the decoder.

fn main() {
    let path = std::env::args().nth(1).expect("usage: load_time BLOB");
    let blob = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let best = |f: &mut dyn FnMut()| {
        (0..50)
            .map(|_| {
                let start = std::time::Instant::now();
                f();
                start.elapsed()
            })
            .min()
            .unwrap_or_default()
    };
    let decode = best(&mut || {
        std::hint::black_box(orrery_pvm::StandardProgram::from_service_code(&blob).expect("decodes"));
    });
    let (_, program) = orrery_pvm::StandardProgram::from_service_code(&blob).expect("decodes");
    let instantiate = best(&mut || {
        std::hint::black_box(program.instantiate(&[1, 2, 3], 5, 1000).expect("instantiates"));
    });
    println!(
        "{} bytes: decode {decode:?}, instantiate {instantiate:?}, {} slots",
        blob.len(),
        program.program().slot_count()
    );
}
