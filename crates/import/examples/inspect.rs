use orrery_codec::decode_exact;
use orrery_import::formats::{Genesis, TraceStep};
use orrery_types::ChainSpec;
fn main() {
    let spec = ChainSpec::tiny();
    for dir in std::env::args().skip(1) {
        let mut rej = vec![];
        let mut n = 0;
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            let bytes = std::fs::read(&p).unwrap();
            if p.file_stem().unwrap() == "genesis" {
                let g: Genesis = decode_exact(&bytes, spec.lengths()).unwrap();
                println!("genesis slot {} keys {}", g.header.slot, g.state.keyvals.len());
                continue;
            }
            let s: TraceStep = decode_exact(&bytes, spec.lengths()).unwrap();
            n += 1;
            if s.pre_state == s.post_state {
                rej.push(p.file_name().unwrap().to_string_lossy().to_string());
            }
            if n == 1 || p.ends_with("00000050.bin") {
                let e = &s.block.extrinsic;
                println!(
                    "{} slot {} keys {} tickets {} preimages {} guarantees {} assurances {} verdicts {}",
                    p.display(),
                    s.block.header.slot,
                    s.pre_state.keyvals.len(),
                    e.tickets.len(),
                    e.preimages.len(),
                    e.guarantees.len(),
                    e.assurances.len(),
                    e.disputes.verdicts.len()
                );
            }
        }
        println!("{dir}: {n} steps, rejected: {rej:?}");
    }
}
