//! `stf/accumulate`, tiny and full, run as a test: every case must pass. The vectors folder must
//! exist; a missing folder fails this test rather than skipping it.

mod common;

use orrery_conformance::workspace_vectors;

#[test]
fn stf_accumulate() {
    let (families, _) = common::assert_families_pass(&workspace_vectors(), "stf/accumulate");
    assert_eq!(families, 2, "tiny and full");
}
