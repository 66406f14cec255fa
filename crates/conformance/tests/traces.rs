//! Block import against the vectors' traces: every step of `traces/{fallback,safrole,storage,
//! preimages}` and each whole sequence from genesis must pass. The vectors folder must exist.
//!
//! [`fuzz_report_traces`] runs the fuzzer's 0.7.2 report traces (hundreds of steps with invalid
//! blocks, forks and the fuzzy service) from a checkout of davxy/jam-conformance named by
//! `JAM_CONFORMANCE_DIR` that holds `fuzz-reports/0.7.2/traces` (1.4 GB: neither this repository
//! nor `../shared` has them). It is ignored unless asked for (`cargo test -- --ignored`), and then
//! fails naming the folder it wanted when they are not there.

mod common;

use std::path::Path;

use orrery_conformance::workspace_vectors;

fn assert_family_passes(root: &Path, requested: &str) -> usize {
    common::assert_families_pass(root, requested).1
}

#[test]
fn traces_fallback() {
    // 100 steps and the sequence from genesis.
    assert_eq!(assert_family_passes(&workspace_vectors(), "traces/fallback"), 101);
}

#[test]
fn traces_safrole() {
    assert_eq!(assert_family_passes(&workspace_vectors(), "traces/safrole"), 101);
}

#[test]
fn traces_storage() {
    assert_eq!(assert_family_passes(&workspace_vectors(), "traces/storage"), 101);
}

#[test]
fn traces_preimages() {
    assert_eq!(assert_family_passes(&workspace_vectors(), "traces/preimages"), 101);
}

/// A vectors folder for the traces family over `traces` (linked, not copied), with the SRS
/// where the family looks for it.
fn vectors_over(traces: &Path, out: &Path) {
    std::fs::create_dir_all(out.join("stf/safrole")).unwrap();
    std::os::unix::fs::symlink(traces, out.join("traces")).unwrap();
    let srs = "stf/safrole/zcash-srs-2-11-uncompressed.bin";
    std::fs::copy(workspace_vectors().join(srs), out.join(srs)).unwrap();
}

#[test]
#[ignore = "needs the fuzzer's report traces (fuzz-reports/0.7.2/traces, 1.4 GB): JAM_CONFORMANCE_DIR=<a davxy/jam-conformance checkout> cargo test -- --ignored"]
fn fuzz_report_traces() {
    let traces = orrery_testkit::fuzz_report_traces_dir();
    let out = std::env::temp_dir().join(format!("orrery-fuzz-traces-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    vectors_over(&traces, &out);
    let passed = assert_family_passes(&out, "traces");
    assert!(passed > 100, "only {passed} cases in {}", traces.display());
    eprintln!("{passed} cases of the fuzzer's report traces passed");
    let _ = std::fs::remove_dir_all(&out);
}
