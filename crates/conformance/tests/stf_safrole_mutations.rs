//! Adversarial safrole inputs: every case, with bytes flipped, changed to extreme values or cut
//! short, must decode to an error or run to an outcome, and never panic. Safrole has its own test
//! because its checker needs the ring context (built once here) besides the spec.

use std::panic::{catch_unwind, AssertUnwindSafe};

use orrery_conformance::{
    resolve, safrole_ring_context, stf_safrole_check, workspace_vectors, SAFROLE_SRS_FILE,
};

/// xorshift64*: a fixed, dependency-free stream so that failures replay exactly.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn mutate(rng: &mut Rng, bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let at = rng.below(out.len());
    match rng.below(4) {
        0 => out[at] ^= 1 << rng.below(8),
        1 => out[at] = [0x00, 0xff, 0x80, 0x7f][rng.below(4)],
        2 => {
            // Four-byte maxima where slots and lengths live.
            for byte in out.iter_mut().skip(at).take(4) {
                *byte = 0xff;
            }
        }
        _ => out.truncate(at),
    }
    out
}

#[test]
fn mutated_safrole_cases_never_panic() {
    let root = workspace_vectors();
    let mut rng = Rng(0x5afe_5afe_0123_4567);
    let (mut runs, mut decoded, mut rejected) = (0, 0, 0);
    for family in resolve(&root, "stf/safrole").unwrap_or_else(|e| panic!("{e}")) {
        let ring = safrole_ring_context(&root.join(SAFROLE_SRS_FILE), &family.spec).unwrap();
        let mut files: Vec<_> = std::fs::read_dir(&family.dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "bin"))
            .collect();
        files.sort();
        for file in files {
            let bytes = std::fs::read(&file).unwrap();
            assert!(stf_safrole_check(&family.spec, &ring, &bytes).is_ok(), "{}", file.display());
            for round in 0..12 {
                let mutated = mutate(&mut rng, &bytes);
                let outcome =
                    catch_unwind(AssertUnwindSafe(|| stf_safrole_check(&family.spec, &ring, &mutated)));
                let Ok(result) = outcome else {
                    panic!("{} mutation {round} panicked", file.display());
                };
                runs += 1;
                match result {
                    Err(e) if e.starts_with("decoding") || e.starts_with("after") => {}
                    Err(_) => {
                        decoded += 1;
                        rejected += 1;
                    }
                    Ok(()) => decoded += 1,
                }
            }
        }
    }
    // Most mutations still decode, so the transition sees them, and most of those change the outcome.
    assert!(runs >= 250 && decoded * 2 > runs, "{runs} mutated cases, {decoded} reached the STF");
    assert!(rejected * 2 > decoded, "only {rejected} of {decoded} decoded mutations changed the outcome");
}
