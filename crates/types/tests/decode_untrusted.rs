//! Arbitrary bytes never panic a protocol decoder, and whatever decodes re-encodes to the same
//! bytes (every value has exactly one encoding).

use orrery_codec::{decode_exact, Decode, Encode};
use orrery_testkit::vectors;
use orrery_types::*;
use proptest::prelude::*;

fn check<T: Decode + Encode>(bytes: &[u8]) -> Result<(), TestCaseError> {
    for spec in [ChainSpec::tiny(), ChainSpec::full()] {
        if let Ok(value) = decode_exact::<T>(bytes, spec.lengths()) {
            prop_assert_eq!(value.encode(), bytes);
        }
    }
    Ok(())
}

fn check_all(bytes: &[u8]) -> Result<(), TestCaseError> {
    check::<Block>(bytes)?;
    check::<Header>(bytes)?;
    check::<Extrinsic>(bytes)?;
    check::<WorkReport>(bytes)?;
    check::<WorkPackage>(bytes)?;
    check::<WorkItem>(bytes)?;
    check::<WorkResult>(bytes)?;
    check::<DisputesExtrinsic>(bytes)?;
    check::<Vec<AvailAssurance>>(bytes)?;
    check::<Vec<ReportGuarantee>>(bytes)?;
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        check_all(&bytes)?;
    }

    /// Random bytes rarely get past the first fields; mutating a real block exercises the deep paths.
    #[test]
    fn mutated_vectors(flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
                       cut in any::<prop::sample::Index>()) {
        for name in ["block", "work_report", "extrinsic", "header_0"] {
            let mut bytes = std::fs::read(vectors().join(format!("codec/tiny/{name}.bin"))).expect("codec vectors");
            for (at, value) in &flips {
                let i = at.index(bytes.len());
                bytes[i] ^= value;
            }
            check_all(&bytes)?;
            check_all(&bytes[..cut.index(bytes.len() + 1)])?;
        }
    }
}
