//! `cargo run --release -p orrery-pvm-diff --example explore -- [CASES] [SHOW] [SEED]`: a long
//! differential run outside the test suite. Generates CASES cases (default 1000) from an xorshift64
//! stream seeded with SEED, compares each, prints the first SHOW differences in full (with the
//! program's listing and polkavm's step trace), then counts of what was compared, skipped and how
//! the compared runs ended.

use std::collections::BTreeMap;

use orrery_pvm_diff::{compare, generate, polkavm_engine, polkavm_trace, run_orrery, Skip, Verdict};

fn main() {
    let arg =
        |n: usize, default: u64| std::env::args().nth(n).map_or(default, |s| s.parse().expect("a number"));
    let cases = arg(1, 1000);
    let show = arg(2, 3) as usize;
    let mut x = arg(3, 0x9e37_79b9_7f4a_7c15) | 1;

    let engine = polkavm_engine();
    let (mut same, mut different) = (0u64, 0usize);
    let mut skipped: BTreeMap<String, u64> = BTreeMap::new();
    let mut exits: BTreeMap<String, u64> = BTreeMap::new();
    let kind = |text: String| text.split('(').next().unwrap_or_default().to_owned();
    for i in 0..cases {
        let bytes: Vec<u8> = (0..4000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let case = generate(&bytes);
        match compare(&engine, &case) {
            Ok(Verdict::Same) => {
                same += 1;
                let outcome = run_orrery(&case);
                let last = kind(format!("{:?}", outcome.exits.last().expect("one exit at least")));
                *exits.entry(format!("{last} after {} host calls", outcome.exits.len() - 1)).or_default() +=
                    1;
            }
            Ok(Verdict::KnownDifference(skip)) => {
                *skipped.entry(format!("known: {}", kind(format!("{skip:?}")))).or_default() += 1
            }
            Ok(Verdict::Skipped(skip)) => {
                let label = match &skip {
                    Skip::Rejected(why) => {
                        format!("Rejected: {}", why.split(" at ").next().unwrap_or_default())
                    }
                    other => kind(format!("{other:?}")),
                };
                *skipped.entry(label).or_default() += 1;
            }
            Err(why) => {
                different += 1;
                if different <= show {
                    println!("case {i}: {why}\n  {case:?}");
                    let program = orrery_pvm::Program::from_blob(&case.program_blob()).expect("decodes");
                    print!("{}", program.disassemble(0..u32::MAX));
                    println!("polkavm trace (pc, gas): {:?}\n", polkavm_trace(&engine, &case, 60));
                }
            }
        }
    }
    println!("compared {same}, different {different}");
    for (what, count) in skipped {
        println!("  not compared {count}: {what}");
    }
    for (how, count) in exits {
        println!("  ended {count}: {how}");
    }
}
