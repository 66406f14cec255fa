//! What the conformance tests share: run the families a request names and require every case to pass.

use std::path::Path;

use orrery_conformance::{resolve, run};

/// Runs every family `requested` names under `root` and fails, listing each failing case, unless
/// all of them pass and each ran at least one case. Returns (families run, cases passed).
pub fn assert_families_pass(root: &Path, requested: &str) -> (usize, usize) {
    let families = resolve(root, requested).unwrap_or_else(|e| panic!("{e}"));
    assert!(!families.is_empty(), "{requested}: no families");
    let count = families.len();
    let mut passed = 0;
    for family in families {
        let report = run(&family);
        let failures: Vec<_> = report
            .cases
            .iter()
            .filter_map(|c| c.failure.as_ref().map(|why| format!("{}: {why}", c.name)))
            .collect();
        assert!(report.passed() > 0, "{}: no cases ran", report.family);
        assert!(
            failures.is_empty(),
            "{}: {} failed:\n{}",
            report.family,
            failures.len(),
            failures.join("\n")
        );
        passed += report.passed();
    }
    (count, passed)
}
