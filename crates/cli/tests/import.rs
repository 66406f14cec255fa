//! `orrery import` as a user runs it: raw encoded blocks and trace steps, a trace step as the
//! start, resuming from `--db`, and clear errors (never a panic) for files that are not what they
//! should be.

use std::path::PathBuf;
use std::process::{Command, Output};

use orrery_codec::Encode;
use orrery_import::formats::TraceStep;
use orrery_store::hex;
use orrery_testkit::{srs_path, trace_dir, trace_step};

fn trace() -> PathBuf {
    trace_dir("preimages")
}

fn step(n: usize) -> TraceStep {
    trace_step("preimages", n)
}

fn orrery(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_orrery"));
    cmd.arg("import").arg("--srs").arg(srs_path());
    for a in args {
        cmd.arg(a);
    }
    cmd.output().expect("running orrery import")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn raw_blocks_and_trace_steps_resume_from_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let genesis = trace().join("genesis.bin");
    // Blocks 1–3 as bare encoded blocks.
    let mut raw = Vec::new();
    for n in 1..=3 {
        let path = dir.path().join(format!("block{n}.bin"));
        std::fs::write(&path, step(n).block.encode()).unwrap();
        raw.push(path);
    }
    let out = orrery(&[&"--db", &db, &"--genesis", &genesis, &raw[0], &raw[1], &raw[2]]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for n in 1..=3 {
        let s = step(n);
        let line = format!(
            "imported {} slot {} state_root {}",
            hex(&orrery_import::header_hash(&s.block.header)),
            s.block.header.slot,
            hex(&s.post_state.state_root)
        );
        assert!(text.contains(&line), "{line} not in\n{text}");
    }
    assert!(text.contains("summary: 3 imported, 0 rejected, 0 already there; import mean"), "{text}");
    assert!(text.contains("p99"), "{text}");

    // The same database, the trace's steps 1–6: 1–3 are there already, 4–6 are imported, each
    // checked against its post-state (the exit status says so).
    let steps: Vec<PathBuf> = (1..=6).map(|n| trace().join(format!("{n:08}.bin"))).collect();
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"--db", &db];
    args.extend(steps.iter().map(|p| p as &dyn AsRef<std::ffi::OsStr>));
    let out = orrery(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("summary: 3 imported, 0 rejected, 3 already there"), "{text}");
    let last = step(6);
    assert!(text.contains(&format!(
        "\nbest {} slot {}",
        hex(&orrery_import::header_hash(&last.block.header)),
        last.block.header.slot
    )));

    // A trace step as the start: its pre-state, as the state of its block's parent.
    let out = orrery(&[&"--genesis", &steps[4], &steps[4], &steps[5]]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains(&format!("state_root {}", hex(&last.post_state.state_root))));
}

#[test]
fn bad_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let genesis = trace().join("genesis.bin");
    let garbage = dir.path().join("garbage.bin");
    std::fs::write(&garbage, b"not a block at all").unwrap();
    let truncated = dir.path().join("truncated.bin");
    let bytes = std::fs::read(trace().join("00000001.bin")).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let huge_count = dir.path().join("huge.bin");
    std::fs::write(&huge_count, [0xffu8; 64]).unwrap();
    let missing = dir.path().join("missing.bin");
    let folder = trace();
    let empty_dir = dir.path().join("empty");
    std::fs::create_dir(&empty_dir).unwrap();

    let cases: Vec<(Vec<&dyn AsRef<std::ffi::OsStr>>, &str)> = vec![
        (vec![&"--genesis", &garbage], "neither a genesis"),
        (vec![&"--genesis", &truncated], "neither a genesis"),
        (vec![&"--genesis", &genesis, &garbage], "neither a trace step nor a block"),
        (vec![&"--genesis", &genesis, &truncated], "neither a trace step nor a block"),
        (vec![&"--genesis", &genesis, &huge_count], "neither a trace step nor a block"),
        (vec![&"--genesis", &genesis, &missing], "missing.bin"),
        (vec![&"--genesis", &genesis, &empty_dir], "no .bin files"),
        (vec![&"--genesis", &missing], "missing.bin"),
        (vec![&folder], "nothing to start from"),
        (vec![&"--spec", &"huge", &"--genesis", &genesis], "unknown chain spec"),
    ];
    for (args, expected) in cases {
        let out = orrery(&args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{expected}: {err}");
        assert!(err.contains(expected), "expected {expected:?} in {err}");
        assert!(!err.contains("panicked"), "{err}");
    }

    // A database that holds no chain, without a start.
    let out = orrery(&[&"--db", &dir.path().join("db")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("holds no chain yet"), "{}", stderr(&out));
}

#[test]
fn an_orphan_trace_step_is_an_outcome_that_differs() {
    // Step 3 on the genesis alone: its parent (step 2's block) is not in the chain, so the step
    // could not be checked, and the exit status says so (2), as for any step that differs.
    let genesis = trace().join("genesis.bin");
    let out = orrery(&[&"--genesis", &genesis, &trace().join("00000003.bin")]);
    assert_eq!(out.status.code(), Some(2), "{}{}", stdout(&out), stderr(&out));
    let text = stdout(&out);
    let parent = hex(&step(3).block.header.parent);
    assert!(text.contains(&format!("the parent {parent} is not a block of this chain")), "{text}");
    assert!(text.contains("the trace step could not be checked"), "{text}");

    // A bare block on an unknown parent is reported and the run goes on (status 0).
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("block3.bin");
    std::fs::write(&raw, step(3).block.encode()).unwrap();
    let out = orrery(&[&"--genesis", &genesis, &raw]);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("orphan "), "{}", stdout(&out));
}
