//! The conformance families that are done, run as tests: every case must pass. The vectors folder
//! must exist; a missing folder fails these tests rather than skipping them.

mod common;

use orrery_conformance::workspace_vectors;

fn assert_family_passes(requested: &str) {
    common::assert_families_pass(&workspace_vectors(), requested);
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
