//! What the tests that start `orrery` processes share: the command with the test environment, the
//! repository root, hex, and bounded waits for a process (each test binary uses some of these).
//!
//! The fixed ports of these tests are 21000–21999: below Linux's ephemeral range (32768–60999), so the
//! local port of some outgoing connection can never hold one when a node wants to listen on it (seen
//! once with 41250).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use orrery_testkit::{srs_path, trace_dir};

/// `orrery` with the SRS and dev-chain base of the vectors, and no `ORRERY_RPC` from the caller.
pub fn orrery() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_orrery"));
    cmd.env("ORRERY_SRS", srs_path()).env("ORRERY_DEV_BASE", trace_dir("fallback").join("genesis.bin"));
    cmd.env_remove("ORRERY_RPC");
    cmd
}

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The base ports of a test's testnet: node i listens on `quic + i`, serves its RPC on `rpc + i`
/// and its metrics on `metrics + i`; node 0 serves the explorer on `explorer`.
pub struct TestnetPorts {
    pub quic: u16,
    pub rpc: u16,
    pub explorer: u16,
    pub metrics: u16,
}

/// `orrery testnet` as the testnet tests start it: six tiny validators, 2 s slots, tickets off
/// (their ring proofs would only slow the first slots), stopping by itself after `for_seconds`,
/// its summary in `dir/testnet.out` and its nodes' logs in `dir`. The caller adds what else it
/// needs and spawns it.
pub fn testnet(dir: &Path, ports: &TestnetPorts, for_seconds: u32) -> Command {
    let mut cmd = orrery();
    cmd.args(["testnet", "--validators", "6", "--slot-seconds", "2", "--no-tickets"])
        .args(["--for-seconds", &for_seconds.to_string()])
        .args(["--base-port", &ports.quic.to_string(), "--base-rpc-port", &ports.rpc.to_string()])
        .args(["--base-explorer-port", &ports.explorer.to_string()])
        .args(["--base-metrics-port", &ports.metrics.to_string()])
        .args(["--summary-seconds", "5", "--dir"])
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(dir.join("testnet.out")).unwrap())
        .stderr(Stdio::null());
    cmd
}

/// The child's exit status, if it exits within `limit`.
pub fn wait_exit(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

/// Runs `orrery ARGS` to its end, at most `limit` (killed then): (exit code, stdout + stderr).
pub fn run(args: &[&str], limit: Duration) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let (out, err) = (dir.path().join("out"), dir.path().join("err"));
    let mut child = orrery()
        .args(args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    let status = wait_exit(&mut child, limit);
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let text = format!(
        "{}{}",
        std::fs::read_to_string(&out).unwrap_or_default(),
        std::fs::read_to_string(&err).unwrap_or_default()
    );
    (status.and_then(|s| s.code()), text)
}
