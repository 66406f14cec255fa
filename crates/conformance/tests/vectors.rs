//! The conformance families that are done, run as tests: every case must pass. The vectors folder
//! must exist; a missing folder fails these tests rather than skipping them.

use orrery_conformance::{resolve, run, workspace_vectors};

fn assert_family_passes(requested: &str) {
    let root = workspace_vectors();
    let families = resolve(&root, requested).unwrap_or_else(|e| panic!("{e}"));
    assert!(!families.is_empty());
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

#[test]
fn codec() {
    assert_family_passes("codec");
}

#[test]
fn erasure() {
    assert_family_passes("erasure");
}

#[test]
fn shuffle() {
    assert_family_passes("shuffle");
}

#[test]
fn trie() {
    assert_family_passes("trie");
}

#[test]
fn stf_authorizations() {
    assert_family_passes("stf/authorizations");
}

#[test]
fn stf_statistics() {
    assert_family_passes("stf/statistics");
}

#[test]
fn stf_preimages() {
    assert_family_passes("stf/preimages");
}

#[test]
fn stf_disputes() {
    assert_family_passes("stf/disputes");
}

#[test]
fn stf_assurances() {
    assert_family_passes("stf/assurances");
}

#[test]
fn stf_history() {
    assert_family_passes("stf/history");
}

#[test]
fn stf_reports() {
    assert_family_passes("stf/reports");
}

#[test]
fn pvm() {
    assert_family_passes("pvm");
}

#[test]
fn stf_safrole() {
    assert_family_passes("stf/safrole");
}
