//! A JIP-3 telemetry server: accepts nodes' connections, decodes the node information and every
//! event, and prints one line per message (or one JSON object per line), optionally keeping each
//! connection's raw bytes.
//!
//! Bounds: at most [`SinkConfig::max_connections`] connections at once (more are closed at once,
//! with a line saying so); no frame above [`SinkConfig::max_frame`] bytes is read (the connection
//! is closed, with the reason); a connection silent for [`SinkConfig::idle`] is closed. A frame
//! that does not decode ends its connection with a line naming the frame and the rule; the
//! server goes on with the others.
//!
//! Raw output: connection 1's bytes go to `out`, connection `n`'s to `out.n`, each exactly as
//! received (frames included), so a file replays through [`read_stream`].

use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use orrery_types::constants::JAM_COMMON_ERA_UNIX_SECONDS;

use crate::event::{decode_event, DecodeError, EventId, NodeInfo, Timestamp};

/// How the sink runs.
#[derive(Debug, Clone)]
pub struct SinkConfig {
    pub max_connections: usize,
    /// The largest message content accepted, in bytes.
    pub max_frame: usize,
    /// A connection that sends nothing for this long is closed.
    pub idle: Duration,
    /// JSON objects instead of text lines.
    pub json: bool,
    /// Where connection 1's raw bytes go (connection `n`'s: this path with `.n` appended).
    pub out: Option<PathBuf>,
}

impl Default for SinkConfig {
    fn default() -> Self {
        Self {
            max_connections: 64,
            // The largest JIP-3 message is a "block executed" with 500 services' costs (about
            // 70 KiB) or a work-package outline; 1 MiB leaves room without trusting the peer.
            max_frame: 1 << 20,
            idle: Duration::from_secs(60),
            json: false,
            out: None,
        }
    }
}

/// Why a connection ended other than by the node closing it.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("frame {frame}: {len} bytes, above the {max}-byte cap")]
    TooLarge { frame: u64, len: usize, max: usize },
    #[error("frame {frame}: {source}")]
    Malformed { frame: u64, source: DecodeError },
    #[error("the stream ends inside frame {frame}")]
    Truncated { frame: u64 },
    #[error("nothing received for {0:?}")]
    Idle(Duration),
    #[error("I/O: {0}")]
    Io(#[from] io::Error),
}

/// One decoded message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Info(NodeInfo),
    Event { id: EventId, at: Timestamp, event: crate::event::Event },
}

/// Where lines go: shared by the connections, one whole line per write.
pub type Lines = Arc<Mutex<dyn Write + Send>>;

/// Time of day (UTC) of a JIP-3 timestamp, to the microsecond.
pub fn time_of_day(at: Timestamp) -> String {
    let unix_us = at + JAM_COMMON_ERA_UNIX_SECONDS * 1_000_000;
    let day_us = unix_us % (86_400 * 1_000_000);
    let s = day_us / 1_000_000;
    format!("{:02}:{:02}:{:02}.{:06}", s / 3600, s / 60 % 60, s % 60, day_us % 1_000_000)
}

/// The text (or JSON) line for a message of connection `conn`.
pub fn line(conn: u64, message: &Message, json: bool) -> String {
    match (message, json) {
        (Message::Info(info), false) => format!("[{conn}] {}", info.show()),
        (Message::Info(info), true) => {
            let mut j = info.json();
            j.insert_str(1, &format!("\"conn\":{conn},"));
            j
        }
        (Message::Event { id, at, event }, false) => {
            format!("[{conn}] #{id} {} {}", time_of_day(*at), event.show())
        }
        (Message::Event { id, at, event }, true) => {
            let mut j = event.json(*id, *at);
            j.insert_str(1, &format!("\"conn\":{conn},"));
            j
        }
    }
}

/// Reads frames from `input` and decodes them, calling `each` per message, until the stream ends
/// cleanly (between frames), a frame breaks a rule, or `stop` is set. A read that times out
/// is retried until `idle` has passed with no byte.
pub fn read_stream(
    input: &mut impl Read,
    max_frame: usize,
    idle: Duration,
    stop: &AtomicBool,
    mut each: impl FnMut(&Message, &[u8]),
) -> Result<(), StreamError> {
    let mut lengths = None;
    let mut next_id: EventId = 0;
    let mut frame: u64 = 0;
    loop {
        let mut len = [0u8; 4];
        match fill(input, &mut len, idle, stop)? {
            Fill::Done => {}
            Fill::Ended(0) | Fill::Stopped => return Ok(()),
            Fill::Ended(_) => return Err(StreamError::Truncated { frame }),
        }
        let len = u32::from_le_bytes(len) as usize;
        if len > max_frame {
            return Err(StreamError::TooLarge { frame, len, max: max_frame });
        }
        let mut content = vec![0u8; len];
        match fill(input, &mut content, idle, stop)? {
            Fill::Done => {}
            Fill::Stopped => return Ok(()),
            Fill::Ended(_) => return Err(StreamError::Truncated { frame }),
        }
        let malformed = |source| StreamError::Malformed { frame, source };
        let message = match lengths {
            None => {
                let info = NodeInfo::decode(&content).map_err(malformed)?;
                lengths = Some(info.lengths());
                Message::Info(info)
            }
            Some(l) => {
                let (at, event) = decode_event(&content, l).map_err(malformed)?;
                let id = next_id;
                next_id = next_id.saturating_add(event.ids_taken());
                Message::Event { id, at, event }
            }
        };
        let mut raw = Vec::with_capacity(4 + len);
        raw.extend_from_slice(&(len as u32).to_le_bytes());
        raw.extend_from_slice(&content);
        each(&message, &raw);
        frame += 1;
    }
}

enum Fill {
    Done,
    /// The peer closed after this many bytes of the buffer.
    Ended(usize),
    Stopped,
}

fn fill(input: &mut impl Read, buf: &mut [u8], idle: Duration, stop: &AtomicBool) -> io::Result<Fill> {
    let mut got = 0;
    let mut last = Instant::now();
    while got < buf.len() {
        if stop.load(Ordering::Relaxed) {
            return Ok(Fill::Stopped);
        }
        match input.read(&mut buf[got..]) {
            Ok(0) => return Ok(Fill::Ended(got)),
            Ok(n) => {
                got += n;
                last = Instant::now();
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                if last.elapsed() >= idle {
                    return Err(io::Error::new(ErrorKind::TimedOut, "idle"));
                }
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Fill::Done)
}

fn say(lines: &Lines, text: &str) {
    if let Ok(mut w) = lines.lock() {
        let _ = writeln!(w, "{text}");
        let _ = w.flush();
    }
}

fn raw_path(out: &Path, conn: u64) -> PathBuf {
    if conn == 1 {
        out.to_path_buf()
    } else {
        let mut name = out.as_os_str().to_owned();
        name.push(format!(".{conn}"));
        PathBuf::from(name)
    }
}

/// Serves `listener` until `stop` is set; each connection on its own thread. Returns once every
/// connection thread has ended.
pub fn serve(
    listener: TcpListener,
    config: SinkConfig,
    lines: Lines,
    stop: Arc<AtomicBool>,
) -> io::Result<()> {
    listener.set_nonblocking(true)?;
    let open = Arc::new(AtomicUsize::new(0));
    let counter = AtomicU64::new(0);
    let mut threads = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let (stream, from) = match listener.accept() {
            Ok(pair) => pair,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(50));
                threads.retain(|t: &std::thread::JoinHandle<()>| !t.is_finished());
                continue;
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => {
                say(&lines, &format!("accept failed: {e}"));
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        let conn = counter.fetch_add(1, Ordering::Relaxed) + 1;
        if open.load(Ordering::Relaxed) >= config.max_connections {
            say(
                &lines,
                &format!("[{conn}] refused {from}: {} connections already open", config.max_connections),
            );
            drop(stream);
            continue;
        }
        open.fetch_add(1, Ordering::Relaxed);
        let (config, out, stop, still_open) = (config.clone(), lines.clone(), stop.clone(), open.clone());
        let spawned = std::thread::Builder::new().name(format!("sink-{conn}")).spawn(move || {
            connection(conn, from, stream, &config, &out, &stop);
            still_open.fetch_sub(1, Ordering::Relaxed);
        });
        match spawned {
            Ok(t) => threads.push(t),
            Err(e) => {
                open.fetch_sub(1, Ordering::Relaxed);
                say(&lines, &format!("[{conn}] no thread for {from}: {e}"));
            }
        }
    }
    for t in threads {
        let _ = t.join();
    }
    Ok(())
}

fn connection(
    conn: u64,
    from: SocketAddr,
    mut stream: TcpStream,
    config: &SinkConfig,
    lines: &Lines,
    stop: &AtomicBool,
) {
    say(lines, &format!("[{conn}] connected from {from}"));
    let setup = stream
        .set_nonblocking(false)
        .and_then(|()| stream.set_read_timeout(Some(Duration::from_millis(200))));
    if let Err(e) = setup {
        say(lines, &format!("[{conn}] closed: {e}"));
        return;
    }
    let mut raw = match &config.out {
        Some(out) => {
            let path = raw_path(out, conn);
            match File::create(&path) {
                // Unbuffered: each frame is on disk as it comes, even if the sink is killed.
                Ok(f) => Some(f),
                Err(e) => {
                    say(lines, &format!("[{conn}] closed: cannot write {}: {e}", path.display()));
                    return;
                }
            }
        }
        None => None,
    };
    let mut write_failed = None;
    let result = read_stream(&mut stream, config.max_frame, config.idle, stop, |message, bytes| {
        say(lines, &line(conn, message, config.json));
        if let Some(w) = &mut raw {
            if let Err(e) = w.write_all(bytes) {
                write_failed.get_or_insert(e);
            }
        }
    });
    let mut end = format!("[{conn}] closed");
    match result {
        Ok(()) => {}
        Err(StreamError::Io(e)) if e.kind() == ErrorKind::TimedOut => {
            let _ = write!(end, ": {}", StreamError::Idle(config.idle));
        }
        Err(e) => {
            let _ = write!(end, ": {e}");
        }
    }
    if let Some(e) = write_failed {
        let _ = write!(end, " (raw output failed: {e})");
    }
    say(lines, &end);
}
