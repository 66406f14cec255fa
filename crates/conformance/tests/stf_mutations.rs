//! Adversarial STF inputs: every case of the finished STF families, with bytes flipped, changed to
//! extreme values or cut short, must decode to an error or run to an outcome (a matching case, a
//! mismatch, or the sub-transition's own error), and never panic.

use std::panic::{catch_unwind, AssertUnwindSafe};

use orrery_conformance::{resolve, stf_checker, workspace_vectors};

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
    match rng.below(4) {
        0 => {
            let at = rng.below(out.len());
            out[at] ^= 1 << rng.below(8);
        }
        1 => {
            let at = rng.below(out.len());
            out[at] = [0x00, 0xff, 0x80, 0x7f][rng.below(4)];
        }
        2 => {
            // Two-byte little-endian maxima where indices and counts live.
            let at = rng.below(out.len().saturating_sub(1).max(1));
            out[at] = 0xff;
            if at + 1 < out.len() {
                out[at + 1] = 0xff;
            }
        }
        _ => out.truncate(rng.below(out.len())),
    }
    out
}

#[test]
fn mutated_stf_cases_never_panic() {
    let root = workspace_vectors();
    let mut rng = Rng(0x0dd5_eed5_0123_4567);
    let (mut runs, mut decoded) = (0, 0);
    for name in ["authorizations", "statistics", "preimages", "disputes", "assurances", "history", "reports"]
    {
        let check = stf_checker(name).expect("a finished family");
        for family in resolve(&root, &format!("stf/{name}")).unwrap_or_else(|e| panic!("{e}")) {
            let mut files: Vec<_> = std::fs::read_dir(&family.dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "bin"))
                .collect();
            files.sort();
            for file in files {
                let bytes = std::fs::read(&file).unwrap();
                // The unmutated case passes; that is the vectors test's job, so only sanity here.
                assert!(check(&family.spec, &bytes).is_ok(), "{}", file.display());
                // Full-spec cases verify up to a thousand signatures each; fewer rounds keep it quick.
                let rounds = if family.spec.name == "full" { 6 } else { 40 };
                for round in 0..rounds {
                    let mutated = mutate(&mut rng, &bytes);
                    let outcome = catch_unwind(AssertUnwindSafe(|| check(&family.spec, &mutated)));
                    let Ok(result) = outcome else {
                        panic!("{} mutation {round} panicked", file.display());
                    };
                    runs += 1;
                    if !result.as_ref().is_err_and(|e| e.starts_with("decoding") || e.starts_with("after")) {
                        decoded += 1;
                    }
                }
            }
        }
    }
    // Most single-byte mutations still decode, so the sub-transitions see them.
    assert!(runs > 1000 && decoded * 2 > runs, "{runs} mutated cases, {decoded} reached the STF");
}
