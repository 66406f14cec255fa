//! `orrery fuzz-target` as a child process: it listens on the socket it is given, survives a
//! connection that sends garbage, and answers a handshake after it; `orrery fuzz-client
//! --examples` then replays the recorded 0.7.2 sessions against it, read from
//! `$JAM_CONFORMANCE_DIR/fuzz-proto/examples/0.7.2` (by default `../shared/jam-conformance` beside
//! the repository; a missing folder fails the test, naming it). A second target on the socket of
//! a live one is refused; many half-sent messages leave the target's threads bounded; a session
//! silent for longer than `--idle` is closed; and
//! `orrery fuzz-client` says at once when it has nothing to do or no target to talk to.

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
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

/// `orrery fuzz-target` on `socket`, its log to `stderr`.
fn start_target(socket: &Path, stderr: Stdio) -> Target {
    start_target_with(socket, stderr, &[])
}

/// [`start_target`] with more of `orrery fuzz-target`'s arguments.
fn start_target_with(socket: &Path, stderr: Stdio, args: &[&str]) -> Target {
    let child = Command::new(env!("CARGO_BIN_EXE_orrery"))
        .arg("fuzz-target")
        .args(args)
        .arg("--socket")
        .arg(socket)
        .arg("--srs")
        .arg(srs_path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("orrery fuzz-target starts");
    Target(child)
}

/// The handshake answered on a new connection.
fn handshake(socket: &Path, target: &mut Target) {
    let mut good = connect(socket, target);
    good.write_all(&frame(&HANDSHAKE)).unwrap();
    let mut len = [0u8; 4];
    good.read_exact(&mut len).unwrap();
    let mut answer = vec![0; u32::from_le_bytes(len) as usize];
    good.read_exact(&mut answer).unwrap();
    assert_eq!(answer[..9], [0, 1, 3, 0, 0, 0, 0, 7, 2]);
}

#[test]
fn fuzz_target_survives_garbage_and_serves_the_examples() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("target.sock");
    let mut target = start_target(&socket, Stdio::inherit());

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
    handshake(&socket, &mut target);

    let examples = orrery_testkit::recorded_sessions_dir();
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

/// A second `orrery fuzz-target` on the socket of a live one exits with an error naming the
/// socket, and the first is still reachable through it.
#[test]
fn a_second_target_on_a_live_socket_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("target.sock");
    let mut first = start_target(&socket, Stdio::inherit());
    handshake(&socket, &mut first);

    let mut second = start_target(&socket, Stdio::piped());
    let start = Instant::now();
    let status = loop {
        if let Some(status) = second.0.try_wait().unwrap() {
            break status;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "the second target is still running");
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    second.0.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(!status.success(), "{stderr}");
    assert!(stderr.contains(&socket.display().to_string()) && stderr.contains("listening"), "{stderr}");
    handshake(&socket, &mut first);
    assert!(first.0.try_wait().unwrap().is_none(), "the first target is still serving");
}

/// The threads of a process (`Threads:` in `/proc/<pid>/status`).
fn threads(pid: u32) -> usize {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the target's status");
    let line = status.lines().find(|l| l.starts_with("Threads:")).expect("a Threads line");
    line["Threads:".len()..].trim().parse().expect("a count")
}

/// A hundred connections holding half a length prefix: the target serves at most its cap of
/// sessions (16) and closes the rest, so its threads stay bounded (it made three a connection
/// before, 301 here), and it still answers a fuzzer.
#[test]
fn half_sent_messages_leave_the_threads_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("target.sock");
    let log_path = dir.path().join("target.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut target = start_target(&socket, Stdio::from(log));
    handshake(&socket, &mut target);
    // The handshake's session must have ended before the hundred arrive, or it holds one of the
    // 16 places and 85 are refused (a race CI met on a loaded machine).
    let log_text = || std::fs::read_to_string(&log_path).unwrap();
    let start = Instant::now();
    while !log_text().contains("session 0: closed") && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(log_text().contains("session 0: closed"), "{}", log_text());
    let idle = threads(target.0.id());

    let mut held = Vec::new();
    for _ in 0..100 {
        let mut stream = connect(&socket, &mut target);
        // A refused connection may be closed before this arrives.
        let _ = stream.write_all(&[100, 0]);
        held.push(stream);
    }
    let refused = || std::fs::read_to_string(&log_path).unwrap().matches("refused").count();
    let start = Instant::now();
    while refused() < 84 && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(refused(), 84, "{}", std::fs::read_to_string(&log_path).unwrap());
    let busy = threads(target.0.id());
    println!("fuzz-target threads: {idle} idle, {busy} with 16 sessions open and 84 refused");
    // The listener, 16 sessions, the import pool and rayon's global pool (one a core each).
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    assert!(busy <= 1 + 16 + 2 * cores + 2, "{busy} threads");
    drop(held);
    // The first handshake's session and the 16 held ones end before a new one is served.
    let closed = || std::fs::read_to_string(&log_path).unwrap().matches("closed by").count();
    let start = Instant::now();
    while closed() < 17 && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(50));
    }
    handshake(&socket, &mut target);
}

/// `--idle` sets how long a silent session lives: a second here, and the session that went quiet
/// after its handshake is closed for it while the target serves the next one; `--idle 0` is
/// refused before anything starts.
#[test]
fn a_silent_session_is_closed_after_the_idle_limit_it_was_given() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("target.sock");
    let refused = Command::new(env!("CARGO_BIN_EXE_orrery"))
        .args(["fuzz-target", "--idle", "0", "--socket"])
        .arg(&socket)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--idle"), "{refused:?}");

    let log_path = dir.path().join("target.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut target = start_target_with(&socket, Stdio::from(log), &["--idle", "1"]);
    let mut quiet = connect(&socket, &mut target);
    quiet.write_all(&frame(&HANDSHAKE)).unwrap();
    let mut len = [0u8; 4];
    quiet.read_exact(&mut len).unwrap();
    let silent_since = Instant::now();
    // Closed by the target: the read ends (an answer's rest, then end of stream).
    let mut rest = Vec::new();
    let _ = quiet.read_to_end(&mut rest);
    let closed_after = silent_since.elapsed();
    assert!(closed_after < Duration::from_secs(30), "closed after {closed_after:?}");
    // The target logs the closing after it closes: wait for the line.
    let log_text = || std::fs::read_to_string(&log_path).unwrap();
    let start = Instant::now();
    while !log_text().contains("within the idle limit") && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(log_text().contains("within the idle limit"), "{}", log_text());
    handshake(&socket, &mut target);
}

fn fuzz_client(args: &[&std::ffi::OsStr]) -> (Output, Duration) {
    let start = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_orrery"))
        .arg("fuzz-client")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("orrery fuzz-client runs");
    (output, start.elapsed())
}

fn failed_saying(output: &Output, words: &[&str]) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "exit 0: {stderr}");
    for word in words {
        assert!(stderr.contains(word), "{word:?} not in {stderr:?}");
    }
}

/// `orrery fuzz-client` with nothing to do, or no target to talk to, fails at once and says why.
#[test]
fn fuzz_client_says_at_once_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("none.sock");
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();

    // No folders.
    let (output, _) = fuzz_client(&["--socket".as_ref(), socket.as_os_str()]);
    failed_saying(&output, &["no folders given"]);
    // A folder with no recordings.
    let (output, _) =
        fuzz_client(&["--examples".as_ref(), "--socket".as_ref(), socket.as_os_str(), empty.as_os_str()]);
    failed_saying(&output, &["no recorded session", &empty.display().to_string()]);
    // No socket at the path: named at once, not after ten seconds.
    let (output, took) = fuzz_client(&["--socket".as_ref(), socket.as_os_str(), empty.as_os_str()]);
    failed_saying(&output, &["no socket at", &socket.display().to_string()]);
    assert!(took < Duration::from_secs(2), "{took:?}");
    // A socket nothing listens on (left by a target that exited): after a short grace.
    drop(UnixListener::bind(&socket).unwrap());
    let (output, took) = fuzz_client(&["--socket".as_ref(), socket.as_os_str(), empty.as_os_str()]);
    failed_saying(&output, &["nothing listens there", &socket.display().to_string()]);
    assert!(took < Duration::from_secs(5), "{took:?}");
}
