//! Block import against the vectors' traces: every step of `traces/{fallback,safrole,storage,
//! preimages}` and each whole sequence from genesis must pass. The vectors folder must exist.
//!
//! When the jam-conformance repository is fetched beside the workspace (`/work/.mirror/davxy+
//! jam-conformance/repo`, or `$ORRERY_JAM_CONFORMANCE`), [`fuzz_report_traces`] also runs the
//! fuzzer's 0.7.2 report traces, read from that git copy (nothing of it is in this repository):
//! hundreds of steps with invalid blocks, forks and the fuzzy service. Without the copy it says so
//! and checks nothing more; the four families above still run.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

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

/// The git directory of a fetched jam-conformance, if there is one.
pub fn jam_conformance() -> Option<PathBuf> {
    let path = std::env::var_os("ORRERY_JAM_CONFORMANCE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/.mirror/davxy+jam-conformance/repo"));
    path.is_dir().then_some(path)
}

/// Writes the fuzzer's 0.7.2 report traces from the git copy into `out/traces/<name>/`, with the
/// SRS linked in where the traces family looks for it. Blobs the copy lacks are left out.
fn extract_fuzz_traces(git: &Path, out: &Path) -> usize {
    let listing = Command::new("git")
        .arg("-C")
        .arg(git)
        .args(["ls-tree", "-r", "HEAD", "fuzz-reports/0.7.2/traces"])
        .output()
        .expect("running git");
    assert!(listing.status.success(), "git ls-tree failed");
    let mut written = 0;
    for line in String::from_utf8_lossy(&listing.stdout).lines() {
        let Some((meta, path)) = line.split_once('\t') else { continue };
        let Some(object) = meta.split_whitespace().nth(2) else { continue };
        if !path.ends_with(".bin") {
            continue;
        }
        let mut parts = path.rsplit('/');
        let (Some(file), Some(trace)) = (parts.next(), parts.next()) else { continue };
        let blob = Command::new("git").arg("-C").arg(git).args(["cat-file", "blob", object]).output();
        let Ok(blob) = blob else { continue };
        if !blob.status.success() || blob.stdout.is_empty() {
            continue;
        }
        let dir = out.join("traces").join(trace);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(file), &blob.stdout).unwrap();
        written += 1;
    }
    let srs = workspace_vectors().join("stf/safrole/zcash-srs-2-11-uncompressed.bin");
    let srs_dir = out.join("stf/safrole");
    std::fs::create_dir_all(&srs_dir).unwrap();
    std::fs::copy(srs, srs_dir.join("zcash-srs-2-11-uncompressed.bin")).unwrap();
    written
}

#[test]
fn fuzz_report_traces() {
    let Some(git) = jam_conformance() else {
        eprintln!("jam-conformance is not fetched: the fuzzer's report traces are not run");
        return;
    };
    let out = std::env::temp_dir().join(format!("orrery-fuzz-traces-{}", std::process::id()));
    let files = extract_fuzz_traces(&git, &out);
    assert!(files > 100, "only {files} trace files in the copy");
    let passed = assert_family_passes(&out, "traces");
    eprintln!("{passed} cases of the fuzzer's report traces passed ({files} files)");
    let _ = std::fs::remove_dir_all(&out);
}
