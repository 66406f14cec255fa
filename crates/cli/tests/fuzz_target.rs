//! `orrery fuzz-target` as a child process: it listens on the socket it is given, survives a
//! connection that sends garbage, and answers a handshake after it. With `JAM_CONFORMANCE_DIR`
//! set, `orrery fuzz-client --examples` then replays the recorded 0.7.2 sessions against it.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
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

fn connect(socket: &Path, target: &mut Target) -> UnixStream {
    let start = Instant::now();
    loop {
        if let Ok(stream) = UnixStream::connect(socket) {
            stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
            return stream;
        }
        assert!(target.0.try_wait().unwrap().is_none(), "orrery fuzz-target exited");
        assert!(start.elapsed() < Duration::from_secs(60), "orrery fuzz-target is not listening");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = (payload.len() as u32).to_le_bytes().to_vec();
    out.extend_from_slice(payload);
    out
}

/// A fuzzer's `peer_info`: protocol 1, forks, JAM 0.7.2, app 0.1.25 "fuzzer".
const HANDSHAKE: [u8; 19] = [0, 1, 2, 0, 0, 0, 0, 7, 2, 0, 1, 25, 6, b'f', b'u', b'z', b'z', b'e', b'r'];

#[test]
fn fuzz_target_survives_garbage_and_serves_the_examples() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("target.sock");
    let child = Command::new(env!("CARGO_BIN_EXE_orrery"))
        .args(["fuzz-target", "--socket"])
        .arg(&socket)
        .arg("--srs")
        .arg(srs_path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("orrery fuzz-target starts");
    let mut target = Target(child);

    // Garbage: the connection is closed (end of stream, or a reset), nothing is answered.
    let mut bad = connect(&socket, &mut target);
    bad.write_all(&frame(&[0x42; 100])).unwrap();
    let mut buf = [0u8; 16];
    match bad.read(&mut buf) {
        Ok(0) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        other => panic!("garbage answered with {other:?}"),
    }
    assert!(target.0.try_wait().unwrap().is_none(), "garbage killed the target");

    // A handshake after it: protocol 1, ancestry and forks, JAM 0.7.2.
    let mut good = connect(&socket, &mut target);
    good.write_all(&frame(&HANDSHAKE)).unwrap();
    let mut len = [0u8; 4];
    good.read_exact(&mut len).unwrap();
    let mut answer = vec![0; u32::from_le_bytes(len) as usize];
    good.read_exact(&mut answer).unwrap();
    assert_eq!(answer[..9], [0, 1, 3, 0, 0, 0, 0, 7, 2]);
    drop(good);

    let Some(root) = std::env::var_os("JAM_CONFORMANCE_DIR") else {
        let required = std::env::var("ORRERY_REQUIRE_JAM_CONFORMANCE").is_ok_and(|v| v == "1");
        assert!(!required, "ORRERY_REQUIRE_JAM_CONFORMANCE=1 but JAM_CONFORMANCE_DIR is not set");
        println!(
            "SKIPPED the example sessions through `orrery fuzz-client`: set JAM_CONFORMANCE_DIR to run them"
        );
        return;
    };
    let examples = PathBuf::from(root).join("fuzz-proto/examples/0.7.2");
    let output = Command::new(env!("CARGO_BIN_EXE_orrery"))
        .args(["fuzz-client", "--examples", "--socket"])
        .arg(&socket)
        .arg(examples.join("no_forks"))
        .arg(examples.join("forks"))
        .output()
        .expect("orrery fuzz-client runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(stdout.matches(", 0 different").count(), 2, "{stdout}");
    assert!(target.0.try_wait().unwrap().is_none(), "the target is still serving");
}
