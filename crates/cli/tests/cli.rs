//! The `orrery` binary as a newcomer meets it: output into a closed pipe, `orrery conformance` on
//! vectors folders that are empty, odd or asked for twice, and arguments that are wrong in the
//! ways people get them wrong. Each case names what it expects from the user's side, never from
//! the code under test.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use orrery_testkit::vectors;

fn orrery() -> Command {
    Command::new(env!("CARGO_BIN_EXE_orrery"))
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let Output { status, stdout, stderr } = orrery().args(args).output().expect("running orrery");
    (
        status.code(),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

/// Runs `orrery ARGS` with its standard output a pipe whose reading end is closed before it writes
/// (as `orrery … | head -0` does), and returns its exit code and standard error.
fn into_closed_pipe(args: &[&str]) -> (Option<i32>, String) {
    let mut child =
        orrery().args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("running orrery");
    drop(child.stdout.take());
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    (child.wait().unwrap().code(), err)
}

#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    let kv = repo().join("services/kv/kv.jam");
    let vectors = vectors();
    for args in [
        vec!["service", "inspect", kv.to_str().unwrap()],
        vec!["conformance", "--vectors", vectors.to_str().unwrap(), "shuffle"],
        vec!["--help"],
        vec!["service", "--help"],
    ] {
        let (code, err) = into_closed_pipe(&args);
        assert_eq!(code, Some(0), "orrery {args:?} into a closed pipe: {err}");
        assert!(!err.contains("panicked") && !err.contains("Broken pipe"), "orrery {args:?}: {err}");
    }
}

/// A vectors folder in `dir` whose named families are links to the real vectors' folders.
fn vectors_with(dir: &Path, linked: &[&str]) -> PathBuf {
    let root = dir.join("vectors");
    std::fs::create_dir_all(&root).unwrap();
    for name in linked {
        std::os::unix::fs::symlink(vectors().join(name), root.join(name)).unwrap();
    }
    root
}

#[test]
fn conformance_with_no_case_fails() {
    let dir = tempfile::tempdir().unwrap();
    let root = vectors_with(dir.path(), &[]);
    std::fs::create_dir_all(root.join("codec/tiny")).unwrap();
    let root = root.to_str().unwrap();
    for args in [vec!["conformance", "--vectors", root], vec!["conformance", "--vectors", root, "codec"]] {
        let (code, out, err) = run(&args);
        assert_eq!(code, Some(1), "{args:?}: {out}{err}");
        assert!(out.contains("codec/tiny: 0 passed, 1 failed"), "{out}");
        assert!(out.contains("no cases in"), "{out}");
    }
    // A vectors folder with nothing in it at all.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let (code, out, err) = run(&["conformance", "--vectors", empty.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(out.contains("total: 0 passed, 0 failed"), "{out}");
    assert!(err.contains("no case ran"), "{err}");
}

#[test]
fn conformance_names_every_folder_it_does_not_run() {
    let dir = tempfile::tempdir().unwrap();
    let root = vectors_with(dir.path(), &["shuffle", "lib"]);
    let (code, out, err) = run(&["conformance", "--vectors", root.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("lib: not run: no vector files in it"), "{out}");
    assert!(out.contains("shuffle: "), "{out}");

    // Vector files of a kind no runner knows are a failure, not a silent skip.
    std::fs::create_dir_all(root.join("mystery/tiny")).unwrap();
    std::fs::write(root.join("mystery/tiny/case.json"), "{}").unwrap();
    let (code, out, err) = run(&["conformance", "--vectors", root.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(out.contains("mystery: FAILED: holds vector files"), "{out}");
}

/// The `N` of a `name: N passed, M failed` line.
fn passed(out: &str, family: &str) -> usize {
    let line = out.lines().find(|l| l.starts_with(&format!("{family}: "))).unwrap_or_else(|| panic!("{out}"));
    line[family.len() + 2..].split(' ').next().unwrap().parse().unwrap()
}

#[test]
fn conformance_runs_a_family_asked_for_twice_once() {
    let vectors = vectors();
    let vectors = vectors.to_str().unwrap();
    let (code, once, err) = run(&["conformance", "--vectors", vectors, "codec"]);
    assert_eq!(code, Some(0), "{once}{err}");
    let (code, thrice, err) = run(&["conformance", "--vectors", vectors, "codec", "codec", "codec/tiny"]);
    assert_eq!(code, Some(0), "{thrice}{err}");
    assert_eq!(thrice.matches("codec/tiny: ").count(), 1, "{thrice}");
    assert_eq!(thrice.matches("codec/full: ").count(), 1, "{thrice}");
    let total = passed(&once, "codec/tiny") + passed(&once, "codec/full");
    assert!(total > 0);
    assert!(thrice.contains(&format!("total: {total} passed, 0 failed")), "{thrice}");
}

#[test]
fn wrong_arguments_name_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let file = file.to_str().unwrap();
    let kv = repo().join("services/kv/kv.jam");
    let kv = kv.to_str().unwrap();
    let genesis = orrery_testkit::trace_dir("preimages").join("genesis.bin");
    let srs = orrery_testkit::srs_path();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["service", "run", kv, "--payload", "not-hex"], "'n' is not a hexadecimal digit"),
        (vec!["service", "run", kv, "--payload", "aé0"], "'é' is not a hexadecimal digit"),
        (vec!["service", "run", kv, "--payload", "abc"], "an odd number of hex digits"),
        (vec!["service", "run", kv, "--state", file], "a file; the state is a folder"),
        (vec!["service", "inspect", kv, "--range", "100", "5"], "FROM must be below TO"),
        (
            vec!["service", "inspect", kv, "--range", "4000000000", "4000000001"],
            "no instruction starts there",
        ),
        (
            vec![
                "import",
                "--srs",
                srs.to_str().unwrap(),
                "--db",
                file,
                "--genesis",
                genesis.to_str().unwrap(),
            ],
            "is a file; the database is a folder",
        ),
    ];
    for (args, expected) in cases {
        let (code, out, err) = run(&args);
        assert_eq!(code, Some(1), "orrery {args:?}: {out}{err}");
        assert!(err.contains(expected), "orrery {args:?}: expected {expected:?} in {err}");
        assert!(!err.contains("panicked") && !err.contains("os error"), "orrery {args:?}: {err}");
    }
}

#[test]
fn conformance_help_names_only_families_the_vectors_have() {
    let (code, out, _) = run(&["conformance", "--help"]);
    assert_eq!(code, Some(0));
    // Every `kind/name[/half]` family the help text shows as an example is a folder of the vectors.
    let examples: Vec<&str> = out
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|w| w.starts_with("stf/") || w.starts_with("traces/") || *w == "codec")
        .collect();
    assert!(examples.len() >= 3, "{out}");
    for family in examples {
        assert!(vectors().join(family).is_dir(), "the help names {family}, which the vectors lack:\n{out}");
    }
}
