//! Where the paths lead, by default and under `ORRERY_VECTORS` / `ORRERY_SRS`. One test, so that
//! changing the environment races with nothing else in this process.

use std::path::PathBuf;

use orrery_testkit::{srs_path, trace_dir, trace_step_path, vectors};

#[test]
fn paths_default_to_the_vectors_beside_the_repository_and_follow_the_environment() {
    let saved = (std::env::var_os("ORRERY_VECTORS"), std::env::var_os("ORRERY_SRS"));
    std::env::remove_var("ORRERY_VECTORS");
    std::env::remove_var("ORRERY_SRS");

    let root = vectors();
    assert!(root.ends_with("shared/vectors/jam-0.7.2"), "{}", root.display());
    assert!(root.join("traces").is_dir(), "the vectors folder {} holds traces/", root.display());
    assert_eq!(srs_path(), root.join("stf/safrole/zcash-srs-2-11-uncompressed.bin"));
    assert!(srs_path().is_file());
    assert_eq!(trace_dir("storage"), root.join("traces/storage"));
    assert_eq!(trace_step_path("storage", 7), root.join("traces/storage/00000007.bin"));
    assert!(trace_step_path("storage", 1).is_file());

    std::env::set_var("ORRERY_VECTORS", "/elsewhere/vectors");
    assert_eq!(vectors(), PathBuf::from("/elsewhere/vectors"));
    assert_eq!(srs_path(), PathBuf::from("/elsewhere/vectors/stf/safrole/zcash-srs-2-11-uncompressed.bin"));
    assert_eq!(
        trace_step_path("fallback", 12),
        PathBuf::from("/elsewhere/vectors/traces/fallback/00000012.bin")
    );
    std::env::set_var("ORRERY_SRS", "/elsewhere/srs.bin");
    assert_eq!(srs_path(), PathBuf::from("/elsewhere/srs.bin"));

    for (name, value) in [("ORRERY_VECTORS", saved.0), ("ORRERY_SRS", saved.1)] {
        match value {
            Some(value) => std::env::set_var(name, value),
            None => std::env::remove_var(name),
        }
    }
}
