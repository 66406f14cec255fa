//! orrery-pvm against polkavm 0.37 on random programs, registers, page maps and memory: the same
//! exits, program counter, gas, registers and memory, or a documented reason not to compare.

use orrery_pvm_diff::{compare, generate, polkavm_engine, Verdict};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn orrery_and_polkavm_agree(bytes in prop::collection::vec(any::<u8>(), 512..4096)) {
        let engine = polkavm_engine();
        let case = generate(&bytes);
        if let Err(why) = compare(&engine, &case) {
            prop_assert!(false, "{why}\n{case:?}");
        }
    }
}

/// A fixed stream of cases, so that a run compares a known amount: most cases must be comparable,
/// and they must exercise every kind of exit.
#[test]
fn a_fixed_stream_of_cases_agrees_and_covers_every_exit() {
    let engine = polkavm_engine();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let (mut same, mut other) = (0, 0);
    let mut exits = std::collections::BTreeSet::new();
    for _ in 0..3000 {
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
                let outcome = orrery_pvm_diff::run_orrery(&case);
                let exit = format!("{:?}", outcome.exits.last().unwrap());
                exits.insert(exit.split('(').next().unwrap().to_owned());
            }
            Ok(_) => other += 1,
            Err(why) => panic!("{why}\n{case:?}"),
        }
    }
    assert!(same * 4 > (same + other) * 3, "only {same} of {} cases compared", same + other);
    for exit in ["Halt", "Panic", "OutOfGas", "PageFault", "HostCall"] {
        assert!(exits.contains(exit), "no compared case ended with {exit}: {exits:?}");
    }
}
