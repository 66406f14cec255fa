//! The same vectors on both PVM backends: the pvm programs, the accumulate vectors and the two
//! traces whose blocks run service code (`storage`, `preimages`; every step's post-state root and
//! the sequence from genesis must be the vectors'), first on the interpreter, then on the
//! recompiler, which must run every program itself (nothing left to the interpreter).
//!
//! The backend is process-wide, so both runs are one test, one after the other; the other test
//! files run on the platform's default (the recompiler on x86-64 Linux).

mod common;

use orrery_conformance::workspace_vectors;
use orrery_invocation::Backend;

/// The families that run guest code, with their case counts in the 0.7.2 vectors.
const FAMILIES: [(&str, usize); 4] =
    [("pvm", 307), ("stf/accumulate", 60), ("traces/storage", 101), ("traces/preimages", 101)];

fn run_all() {
    for (family, cases) in FAMILIES {
        let (_, passed) = common::assert_families_pass(&workspace_vectors(), family);
        assert_eq!(passed, cases, "{family} on the {}", Backend::current());
    }
}

#[test]
fn the_vectors_that_run_code_pass_on_both_backends() {
    Backend::set_current(Backend::Interpreter).expect("the interpreter is everywhere");
    run_all();
    if !Backend::Recompiler.is_supported() {
        return;
    }
    Backend::set_current(Backend::Recompiler).expect("supported");
    run_all();
    assert_eq!(orrery_invocation::backend::fallbacks(), 0, "a run was left to the interpreter");
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    {
        let stats = orrery_pvm_jit::CodeCache::global().stats();
        // The accumulate vectors' and the traces' services, each compiled once and then found.
        assert!(stats.compiles >= 2 && stats.hits > stats.compiles, "{stats:?}");
    }
}
