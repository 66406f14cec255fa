//! `orrery fuzz` against `orrery fuzz-target`, both as child processes on a temporary Unix
//! socket: a short seeded happy lane with no divergence, the same run digest twice; a lane name
//! that does not exist and a socket with no target are refused at once.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use orrery_testkit::srs_path;

/// The child, killed when the test ends however it ends.
struct Target(Child);

impl Drop for Target {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_target(socket: &Path) -> Target {
    let child = Command::new(env!("CARGO_BIN_EXE_orrery"))
        .args(["fuzz-target", "--socket"])
        .arg(socket)
        .arg("--srs")
        .arg(srs_path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("orrery fuzz-target starts");
    let mut target = Target(child);
    let start = Instant::now();
    while std::os::unix::net::UnixStream::connect(socket).is_err() {
        assert!(target.0.try_wait().unwrap().is_none(), "orrery fuzz-target exited");
        assert!(start.elapsed() < Duration::from_secs(60), "orrery fuzz-target is not listening");
        std::thread::sleep(Duration::from_millis(50));
    }
    target
}

fn fuzz(socket: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_orrery"))
        .arg("fuzz")
        .args(args)
        .arg("--target")
        .arg(socket)
        .arg("--srs")
        .arg(srs_path())
        .output()
        .expect("orrery fuzz runs")
}

/// The run digest of the summary line (`run <16 hex digits>`).
fn digest(stdout: &str) -> String {
    let at = stdout.find("; run ").expect("a summary line");
    stdout[at + 6..at + 22].to_owned()
}

#[test]
fn a_happy_lane_against_orrerys_target_does_not_diverge_and_is_repeatable() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("target.sock");
    let _target = start_target(&socket);
    let args = ["--lane", "happy", "--steps", "40", "--seed", "9", "--timeout", "30"];
    let first = fuzz(&socket, &args);
    let stdout = String::from_utf8_lossy(&first.stdout);
    println!("{stdout}");
    assert!(first.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&first.stderr));
    assert!(stdout.contains("fuzz: 40 steps against orrery"), "{stdout}");
    assert!(stdout.contains("fuzz: 0 divergences, 0 findings"), "{stdout}");
    let second = fuzz(&socket, &args);
    assert_eq!(digest(&String::from_utf8_lossy(&second.stdout)), digest(&stdout));
}

#[test]
fn a_wrong_lane_or_no_target_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("nothing.sock");
    let output = fuzz(&socket, &["--lane", "sad"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown lane \"sad\""));
    let output = fuzz(&socket, &["--lane", "happy"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("no socket at"));
}
