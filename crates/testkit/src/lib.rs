//! Where this workspace's tests and benches find the JAM 0.7.2 vectors, and the set-up several of
//! them share. For this workspace's tests and benches only: a `[dev-dependencies]` entry, never a
//! dependency of a library (it panics on a missing file, as a test should, and no more).
//!
//! The vectors are read in place, never copied: `../shared/vectors/jam-0.7.2` from the repository
//! root, found from this crate's own location, unless the environment says otherwise:
//!
//! - `ORRERY_VECTORS`: the vectors folder (the same variable `orrery conformance --vectors` reads);
//! - `ORRERY_SRS`: the Bandersnatch SRS file (the same variable `orrery import --srs` reads), else
//!   the vectors' `stf/safrole/zcash-srs-2-11-uncompressed.bin`;
//! - `JAM_CONFORMANCE_DIR`: the davxy/jam-conformance files, else `../shared/jam-conformance` (the
//!   fuzzer protocol's recorded sessions; the fuzzer's 1.4 GB report traces only where a full
//!   checkout is named).
//!
//! Without features the crate is std only (the paths), for the crates below block import. The
//! `traces` feature adds the trace steps, genesis files, tiny-spec states, ring and import context
//! of the block-import traces (`traces/<name>/`, schema in the vectors' `traces/schema.asn`).

use std::path::{Path, PathBuf};

#[cfg(feature = "traces")]
mod traces;
#[cfg(feature = "traces")]
pub use traces::*;

/// The vectors folder: `ORRERY_VECTORS` if set, else `../shared/vectors/jam-0.7.2` from the
/// repository root.
pub fn vectors() -> PathBuf {
    match std::env::var_os("ORRERY_VECTORS") {
        Some(path) => PathBuf::from(path),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors/jam-0.7.2"),
    }
}

/// The Bandersnatch SRS (`zcash-srs-2-11-uncompressed.bin`): `ORRERY_SRS` if set, else where the
/// vectors keep it.
pub fn srs_path() -> PathBuf {
    match std::env::var_os("ORRERY_SRS") {
        Some(path) => PathBuf::from(path),
        None => vectors().join("stf/safrole/zcash-srs-2-11-uncompressed.bin"),
    }
}

/// davxy/jam-conformance's files: `JAM_CONFORMANCE_DIR` if set, else `../shared/jam-conformance`
/// from the repository root (which holds `fuzz-proto/examples/0.7.2`).
pub fn jam_conformance_dir() -> PathBuf {
    match std::env::var_os("JAM_CONFORMANCE_DIR") {
        Some(path) => PathBuf::from(path),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/jam-conformance"),
    }
}

/// The fuzzer protocol's recorded 0.7.2 sessions (`fuzz-proto/examples/0.7.2`, with `no_forks/` and
/// `forks/`) in the jam-conformance files; panics naming the folder it wanted when they are not there.
pub fn recorded_sessions_dir() -> PathBuf {
    let dir = jam_conformance_dir().join("fuzz-proto/examples/0.7.2");
    assert!(
        dir.is_dir(),
        "{} is missing: set JAM_CONFORMANCE_DIR to a folder holding davxy/jam-conformance's \
         fuzz-proto/examples/0.7.2 (the default is ../shared/jam-conformance beside the repository)",
        dir.display()
    );
    dir
}

/// The fuzzer's 0.7.2 report traces in the jam-conformance files; panics naming the folder it
/// wanted when they are not there (the tests that read them are ignored unless asked for).
pub fn fuzz_report_traces_dir() -> PathBuf {
    let dir = jam_conformance_dir().join("fuzz-reports/0.7.2/traces");
    assert!(
        dir.is_dir(),
        "{} is missing: set JAM_CONFORMANCE_DIR to a checkout of davxy/jam-conformance that holds fuzz-reports/0.7.2/traces",
        dir.display()
    );
    dir
}

/// The folder of a block-import trace of the vectors (`fallback`, `safrole`, `storage`,
/// `preimages`, …): its `genesis.bin` and steps `00000001.bin` on.
pub fn trace_dir(name: &str) -> PathBuf {
    vectors().join("traces").join(name)
}

/// The file of step `n` (from 1) of a trace.
pub fn trace_step_path(name: &str, n: usize) -> PathBuf {
    trace_dir(name).join(format!("{n:08}.bin"))
}
