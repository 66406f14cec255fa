//! What the socket tests share: an import context for the tiny network and a target serving on a
//! fresh Unix socket in a thread of the test process.

#![allow(dead_code)]

use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use orrery_fuzz::target::{Limits, Server};

/// A target listening on a socket in a temporary folder, served from a thread; its log lines are
/// collected.
pub struct Target {
    _dir: tempfile::TempDir,
    pub socket: PathBuf,
    pub log: Arc<Mutex<Vec<String>>>,
    pub server: Arc<Server>,
}

impl Target {
    pub fn start() -> Self {
        Self::start_with(Limits::default())
    }

    pub fn start_with(limits: Limits) -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let socket = dir.path().join("target.sock");
        let listener = UnixListener::bind(&socket).expect("binding the socket");
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = log.clone();
        let server = Arc::new(Server::new(Arc::new(orrery_testkit::tiny_import_context()), limits));
        let serving = server.clone();
        std::thread::spawn(move || {
            serving.serve(listener, move |line| {
                sink.lock().expect("the log").push(line.to_owned());
            })
        });
        Self { _dir: dir, socket, log, server }
    }

    pub fn connect(&self) -> UnixStream {
        let stream = UnixStream::connect(&self.socket).expect("connecting to the target");
        // A target that hangs fails the test rather than stalling it.
        stream.set_read_timeout(Some(std::time::Duration::from_secs(120))).expect("a read timeout");
        stream
    }

    pub fn log_lines(&self) -> Vec<String> {
        self.log.lock().expect("the log").clone()
    }

    /// The log lines containing `text`.
    pub fn logged(&self, text: &str) -> usize {
        self.log.lock().expect("the log").iter().filter(|l| l.contains(text)).count()
    }
}
