//! `stf/accumulate`, tiny and full, run as a test: every case must pass. The vectors folder must
//! exist; a missing folder fails this test rather than skipping it.

use orrery_conformance::{resolve, run, workspace_vectors};

#[test]
fn stf_accumulate() {
    let root = workspace_vectors();
    let families = resolve(&root, "stf/accumulate").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(families.len(), 2, "tiny and full");
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
    }
}
