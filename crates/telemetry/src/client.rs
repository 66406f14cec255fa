//! The connection to the telemetry server: a writer thread fed by a bounded queue.

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use orrery_types::constants::JAM_COMMON_ERA_UNIX_SECONDS;

use crate::event::{encode_frame, Event, EventId, NodeInfo, Timestamp};

/// Where and how to send.
#[derive(Debug, Clone)]
pub struct TelemetryConfig {
    pub server: SocketAddr,
    /// Events waiting to be written; more are dropped (and counted).
    pub queue: usize,
    /// The first wait before reconnecting; it doubles up to `max_backoff`.
    pub backoff: Duration,
    pub max_backoff: Duration,
    /// A connection attempt or a write that takes longer fails.
    pub io_timeout: Duration,
}

impl TelemetryConfig {
    pub fn new(server: SocketAddr) -> Self {
        Self {
            server,
            queue: 4096,
            backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            io_timeout: Duration::from_secs(5),
        }
    }
}

/// Now, in microseconds since the JAM Common Era (0 before it).
pub fn now() -> Timestamp {
    let since_unix = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    u64::try_from(since_unix.as_micros())
        .unwrap_or(u64::MAX)
        .saturating_sub(JAM_COMMON_ERA_UNIX_SECONDS * 1_000_000)
}

/// A telemetry client. Dropping it stops the writer thread (within the I/O timeout).
#[derive(Debug)]
pub struct Telemetry {
    queue: Option<SyncSender<(EventId, Timestamp, Event)>>,
    /// The next event's ID; held while an event is queued, so IDs reach the writer in order.
    next_id: Mutex<EventId>,
    stop: Arc<AtomicBool>,
    writer: Option<JoinHandle<()>>,
}

impl Telemetry {
    /// Starts the writer thread; it connects in the background, so this returns at once.
    pub fn start(config: TelemetryConfig, info: NodeInfo) -> Self {
        let (queue, events) = mpsc::sync_channel(config.queue.max(1));
        let stop = Arc::new(AtomicBool::new(false));
        let writer = {
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("telemetry".into())
                .spawn(move || write_loop(&config, &info, &events, &stop))
                .ok()
        };
        Self { queue: Some(queue), next_id: Mutex::new(0), stop, writer }
    }

    /// Queues `event` stamped now and returns its ID. Never blocks: when the queue is full the
    /// event is dropped, and the server is told how many were.
    pub fn emit(&self, event: Event) -> EventId {
        self.emit_at(now(), event)
    }

    /// Emits the event `make` builds from its own ID (for an event that names itself, such as the
    /// first of a series the others refer to).
    pub fn emit_with(&self, make: impl FnOnce(EventId) -> Event) -> EventId {
        let at = now();
        // The ID is taken and the event queued under one lock: the node thread and the network
        // tasks emit at once, and the writer must see IDs in order (a gap means dropped events).
        let mut next = self.next_id.lock().unwrap_or_else(|e| e.into_inner());
        let id = *next;
        *next += 1;
        if let Some(queue) = &self.queue {
            match queue.try_send((id, at, make(id))) {
                Ok(()) | Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {}
            }
        }
        id
    }

    /// [`Telemetry::emit`] with a given timestamp.
    pub fn emit_at(&self, at: Timestamp, event: Event) -> EventId {
        let mut next = self.next_id.lock().unwrap_or_else(|e| e.into_inner());
        let id = *next;
        *next += 1;
        if let Some(queue) = &self.queue {
            match queue.try_send((id, at, event)) {
                Ok(()) | Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {}
            }
        }
        id
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.queue.take();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

/// Waits `total`, waking to check `stop`; whether to go on.
fn pause(total: Duration, stop: &AtomicBool) -> bool {
    let step = Duration::from_millis(50);
    let mut waited = Duration::ZERO;
    while waited < total {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        std::thread::sleep(step);
        waited += step;
    }
    !stop.load(Ordering::Relaxed)
}

fn write_loop(
    config: &TelemetryConfig,
    info: &NodeInfo,
    events: &Receiver<(EventId, Timestamp, Event)>,
    stop: &AtomicBool,
) {
    let info = encode_frame(&info.encode());
    let mut backoff = config.backoff;
    // An event taken from the queue whose write failed: sent first on the next connection.
    let mut pending: Option<(EventId, Timestamp, Event)> = None;
    while !stop.load(Ordering::Relaxed) {
        let stream = TcpStream::connect_timeout(&config.server, config.io_timeout).and_then(|mut s| {
            s.set_write_timeout(Some(config.io_timeout))?;
            s.set_nodelay(true)?;
            s.write_all(&info)?;
            Ok(s)
        });
        let Ok(mut stream) = stream else {
            if !pause(backoff, stop) {
                return;
            }
            backoff = (backoff * 2).min(config.max_backoff);
            continue;
        };
        backoff = config.backoff;
        // The server numbers this connection's events from 0.
        let mut expected: EventId = 0;
        loop {
            let next = match pending.take() {
                Some(event) => event,
                None => match events.recv_timeout(Duration::from_millis(100)) {
                    Ok(event) => event,
                    Err(RecvTimeoutError::Timeout) if !stop.load(Ordering::Relaxed) => continue,
                    Err(_) => return,
                },
            };
            let (id, at, event) = &next;
            let mut bytes = Vec::new();
            if *id > expected {
                let gap = Event::Dropped { last: *at, count: id - expected };
                bytes.extend_from_slice(&encode_frame(&gap.encode(*at)));
            }
            bytes.extend_from_slice(&encode_frame(&event.encode(*at)));
            if stream.write_all(&bytes).is_err() {
                pending = Some(next);
                break;
            }
            expected = id + 1;
        }
        if !pause(backoff, stop) {
            return;
        }
    }
}
