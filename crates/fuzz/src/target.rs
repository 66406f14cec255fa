//! The target side: answers a fuzzer's requests by importing blocks.
//!
//! A [`Session`] keeps the posterior state of every block it imported, by header hash, so a block
//! is imported on whichever state its parent names: the last block, or an earlier one for the
//! fuzzer's forks (sibling mutants of one block, each imported on the same parent). It keeps the
//! [`Session::RETAIN`] states used most recently (imported, or imported on); the headers (hash,
//! slot, parent) it keeps for longer, as many as the lookup-anchor rule can need. Pruning goes by
//! use, not by slot: a valid mutant may jump far ahead in slots, and the original block after it
//! still needs its parent.
//!
//! A block that fails any rule gets an `Error` naming the rule, and the session goes on with the
//! states as they were. Anything the protocol does not allow (a malformed message, a request out
//! of turn, a response where a request belongs) ends the session: the target closes the
//! connection without an answer, as the protocol's general rules ask, and says why on its log.

use std::collections::{HashMap, VecDeque};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use orrery_import::formats::KeyValue;
use orrery_import::{header_hash, import_block, pairs_root, ChainState, ImportContext, ImportOptions};
use orrery_stf::reports::Ancestry;
use orrery_types::{Block, HeaderHash, TimeSlot};

use crate::protocol::{
    read_frame_within, write_frame, Budget, Initialize, Message, PeerInfo, ProtocolError, Version,
    FEATURE_ANCESTRY, FEATURE_FORKS, FUZZ_VERSION, MAX_MESSAGE,
};

/// What this target says of itself in the handshake: protocol v1, JAM 0.7.2, both features.
pub fn our_peer_info() -> PeerInfo {
    PeerInfo {
        fuzz_version: FUZZ_VERSION,
        fuzz_features: FEATURE_ANCESTRY | FEATURE_FORKS,
        jam_version: Version { major: 0, minor: 7, patch: 2 },
        app_version: app_version(),
        app_name: "orrery".into(),
    }
}

/// This crate's version, which is the workspace's.
fn app_version() -> Version {
    let part = |s: &str| s.parse().unwrap_or(0);
    Version {
        major: part(env!("CARGO_PKG_VERSION_MAJOR")),
        minor: part(env!("CARGO_PKG_VERSION_MINOR")),
        patch: part(env!("CARGO_PKG_VERSION_PATCH")),
    }
}

/// Why a session ended other than by the fuzzer closing it between messages.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("{0}")]
    Protocol(#[from] ProtocolError),
    #[error("expected {expected}, got {got}")]
    Unexpected { expected: &'static str, got: &'static str },
    #[error("the fuzzer speaks protocol version {0}, this target version 1")]
    Version(u8),
    #[error("the initial state is not a state: {0}")]
    BadState(String),
    #[error("get_state: no state is kept for header {0}")]
    UnknownState(String),
}

/// A header the session knows: enough to walk back along a chain.
#[derive(Debug, Clone, Copy)]
struct Known {
    slot: TimeSlot,
    parent: HeaderHash,
}

/// The ancestor set `A` of one block (GP 0.7.2 eq. 11.35): header hash to slot.
struct Ancestors(HashMap<HeaderHash, TimeSlot>);

impl Ancestry for Ancestors {
    fn contains(&self, header: &HeaderHash, slot: TimeSlot) -> bool {
        self.0.get(header) == Some(&slot)
    }
}

/// One fuzzer session's chain. Before `Initialize` it knows no state.
pub struct Session {
    ctx: Arc<ImportContext>,
    /// The features both sides support: the intersection of the two `PeerInfo`s.
    features: u32,
    /// Posterior states by header hash, `Initialize`'s header included, with when each was last
    /// used (a count of imports).
    states: HashMap<HeaderHash, (u64, ChainState)>,
    /// Imports so far, the clock of `states`.
    clock: u64,
    /// The headers imported (and `Initialize`'s), for the ancestry, and their order of arrival.
    headers: HashMap<HeaderHash, Known>,
    header_order: VecDeque<HeaderHash>,
    /// The fuzzer's ancestry from `Initialize` (with `feature-ancestry` only): headers before the
    /// first state, which the session never saw as blocks.
    initial_ancestry: HashMap<HeaderHash, TimeSlot>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("features", &self.features)
            .field("states", &self.states.len())
            .field("headers", &self.headers.len())
            .finish()
    }
}

impl Session {
    /// How many states are kept. The fuzzer's forks are one block deep (a block's mutants, then
    /// the block, all on one parent), so a handful would do; this leaves room for a fuzzer that
    /// goes back further. States share their tries' nodes, so each costs what its block changed
    /// plus the decoded σ.
    pub const RETAIN: usize = 64;

    /// How many headers are kept for the ancestry: `L` slots' worth with several blocks a slot.
    fn header_capacity(&self) -> usize {
        (self.ctx.spec.max_lookup_anchor_age as usize).saturating_mul(8).max(Self::RETAIN)
    }

    pub fn new(ctx: Arc<ImportContext>) -> Self {
        Self {
            ctx,
            features: 0,
            states: HashMap::new(),
            clock: 0,
            headers: HashMap::new(),
            header_order: VecDeque::new(),
            initial_ancestry: HashMap::new(),
        }
    }

    /// The features agreed in the handshake.
    pub fn features(&self) -> u32 {
        self.features
    }

    /// The handshake: the fuzzer's `PeerInfo` in, ours out. The session's features are the
    /// intersection of both sides'.
    pub fn handshake(&mut self, peer: &PeerInfo) -> Result<PeerInfo, SessionError> {
        if peer.fuzz_version != FUZZ_VERSION {
            return Err(SessionError::Version(peer.fuzz_version));
        }
        let ours = our_peer_info();
        self.features = peer.fuzz_features & ours.fuzz_features;
        Ok(ours)
    }

    /// The answer to one request after the handshake, or the reason the session must end.
    pub fn handle(&mut self, request: Message) -> Result<Message, SessionError> {
        match request {
            Message::Initialize(init) => self.initialize(*init),
            Message::ImportBlock(block) => Ok(self.import(&block)),
            Message::GetState(hash) => {
                let (_, state) =
                    self.states.get(&hash).ok_or_else(|| SessionError::UnknownState(hex(&hash)))?;
                let keyvals =
                    state.pairs().map(|(key, value)| KeyValue { key: *key, value: value.to_vec() }).collect();
                Ok(Message::State(keyvals))
            }
            other => Err(SessionError::Unexpected {
                expected: "initialize, import_block or get_state",
                got: other.kind(),
            }),
        }
    }

    /// `Initialize`: forget everything, take the state as given and answer its root.
    fn initialize(&mut self, init: Initialize) -> Result<Message, SessionError> {
        let pairs = init.keyvals.iter().map(|kv| (&kv.key, kv.value.as_slice()));
        let state = ChainState::from_pairs(&self.ctx.spec, pairs.clone())
            .map_err(|e| SessionError::BadState(e.to_string()))?;
        // The state is to be kept exactly as given (fuzz-proto README). Orrery keeps σ and
        // re-serializes it; pairs that do not come back the same (rows it does not model,
        // duplicates) cannot be kept as given, and answering another root would only hide that.
        let root = state.root();
        if pairs_root(pairs) != root {
            return Err(SessionError::BadState(
                "the pairs do not round-trip through the state (T(σ) of the decoded state differs)".into(),
            ));
        }
        let hash = header_hash(&init.header);
        let slot = init.header.slot;
        self.states.clear();
        self.headers.clear();
        self.header_order.clear();
        self.initial_ancestry = if self.features & FEATURE_ANCESTRY != 0 {
            init.ancestry.iter().map(|a| (a.header_hash, a.slot)).collect()
        } else {
            HashMap::new()
        };
        // The next epoch's ring root, the ring verifier, the validators' keys and the services'
        // code (see `ImportContext::prepare`): tens of milliseconds that would otherwise fall on
        // the first blocks.
        self.ctx.prepare(&state);
        self.remember(hash, Known { slot, parent: init.header.parent }, state);
        Ok(Message::StateRoot(root))
    }

    /// `ImportBlock`: the posterior root, or an `Error` naming the rule the block broke.
    fn import(&mut self, block: &Block) -> Message {
        let header = &block.header;
        self.clock += 1;
        let Some((used, _)) = self.states.get_mut(&header.parent) else {
            return Message::Error(format!("block import failure: unknown parent {}", hex(&header.parent)));
        };
        *used = self.clock;
        let parent = &self.states[&header.parent].1;
        let ancestry =
            (self.features & FEATURE_ANCESTRY != 0).then(|| self.ancestors(header.parent, header.slot));
        // Without `feature-ancestry` the fuzzer's reference skips the ancestor-set rule, and so
        // does this (`ancestry: None`).
        let options = ImportOptions { ancestry: ancestry.as_ref().map(|a| a as _), now: None };
        match import_block(&self.ctx, parent, block, &options) {
            Ok(imported) => {
                let root = imported.state.root();
                let known = Known { slot: header.slot, parent: header.parent };
                self.remember(imported.header_hash, known, imported.state);
                Message::StateRoot(root)
            }
            Err(e) => Message::Error(format!("block import failure: {e}")),
        }
    }

    /// Keeps a block's header and posterior state, forgetting the least recently used state and
    /// the oldest header beyond their bounds.
    fn remember(&mut self, hash: HeaderHash, known: Known, state: ChainState) {
        if self.headers.insert(hash, known).is_none() {
            self.header_order.push_back(hash);
        }
        while self.header_order.len() > self.header_capacity() {
            if let Some(old) = self.header_order.pop_front() {
                self.headers.remove(&old);
            }
        }
        self.states.insert(hash, (self.clock, state));
        while self.states.len() > Self::RETAIN {
            let Some(oldest) = self.states.iter().min_by_key(|(_, (used, _))| *used).map(|(h, _)| *h) else {
                break;
            };
            self.states.remove(&oldest);
        }
    }

    /// The ancestors `A` of a block on `parent` at `slot`: back along the imported chain, then the
    /// fuzzer's initial ancestry, none older than `L` slots before `slot`.
    fn ancestors(&self, parent: HeaderHash, slot: TimeSlot) -> Ancestors {
        let oldest = slot.saturating_sub(self.ctx.spec.max_lookup_anchor_age);
        let mut out = HashMap::new();
        let mut at = parent;
        // Slots strictly decrease along a valid chain; the bound keeps a cycle of forged parent
        // links from looping.
        while let Some(known) = self.headers.get(&at) {
            if known.slot < oldest || out.insert(at, known.slot).is_some() {
                break;
            }
            at = known.parent;
        }
        out.extend(self.initial_ancestry.iter().filter(|(_, s)| **s >= oldest).map(|(h, s)| (*h, *s)));
        Ancestors(out)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What a target allows its fuzzers, so that neither many connections nor slow or oversized
/// messages can exhaust the process.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Sessions served at once; a connection beyond is closed at once (and logged). Each session
    /// is one thread and up to [`Session::RETAIN`] states.
    pub max_sessions: usize,
    /// How long a read or a write may wait for an octet, in a message or between two, before the
    /// target closes the session: generous for a fuzzer that is slow but alive.
    pub idle: Duration,
    /// The largest message a fuzzer may send.
    pub max_message: u32,
    /// The octets of messages being read, across every session, the target holds at most; a
    /// session whose message would pass it is closed.
    pub buffered: usize,
}

impl Default for Limits {
    /// 16 sessions (the conformance fuzzer opens one at a time), a minute of silence, the
    /// protocol's largest message, and room for two of those in flight at once.
    fn default() -> Self {
        Self {
            max_sessions: 16,
            idle: Duration::from_secs(60),
            max_message: MAX_MESSAGE,
            buffered: 2 * MAX_MESSAGE as usize,
        }
    }
}

/// A target: the import context, its limits, and what its sessions hold now. Imports of every
/// session run on one pool of threads (one per core), so the threads of the process are the
/// listener, one per session and the pool's, however many fuzzers connect.
pub struct Server {
    ctx: Arc<ImportContext>,
    limits: Limits,
    open: AtomicUsize,
    budget: Arc<Budget>,
    pool: Option<rayon::ThreadPool>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("limits", &self.limits)
            .field("open_sessions", &self.open_sessions())
            .field("buffered", &self.buffered())
            .finish()
    }
}

/// Counts a session as open until dropped, however it ends.
struct OpenSession<'a>(&'a AtomicUsize);

impl Drop for OpenSession<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Server {
    pub fn new(ctx: Arc<ImportContext>, limits: Limits) -> Self {
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        // Without a pool of its own (the system refused the threads) imports use rayon's global
        // one, which is as bounded.
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("fuzz-import-{i}"))
            .build()
            .ok();
        Self { ctx, limits, open: AtomicUsize::new(0), budget: Arc::new(Budget::new(limits.buffered)), pool }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Sessions being served now.
    pub fn open_sessions(&self) -> usize {
        self.open.load(Ordering::Acquire)
    }

    /// Octets of messages being read now, across sessions.
    pub fn buffered(&self) -> usize {
        self.budget.in_use()
    }

    /// Serves each fuzzer that connects to `listener` on its own thread, up to
    /// [`Limits::max_sessions`] at once, forever. A session's end is logged with its reason; a
    /// panic in one (a bug) is logged and ends only that session.
    pub fn serve(
        self: Arc<Self>,
        listener: UnixListener,
        log: impl Fn(&str) + Send + Sync + 'static,
    ) -> std::io::Result<()> {
        let log = Arc::new(log);
        for (id, stream) in listener.incoming().enumerate() {
            let stream = match stream {
                Ok(stream) => stream,
                Err(e) => {
                    log(&format!("accept: {e}"));
                    continue;
                }
            };
            // Only this thread adds to the count, so the check cannot be raced past the cap.
            let open = self.open.load(Ordering::Acquire);
            if open >= self.limits.max_sessions {
                log(&format!(
                    "session {id}: refused, {open} sessions are open (the most this target serves at once)"
                ));
                drop(stream);
                continue;
            }
            self.open.fetch_add(1, Ordering::AcqRel);
            log(&format!("session {id}: fuzzer connected"));
            let server = self.clone();
            let session_log = log.clone();
            let spawned = std::thread::Builder::new().name(format!("fuzz-session-{id}")).spawn(move || {
                let _open = OpenSession(&server.open);
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    let mut stream = stream;
                    stream.set_read_timeout(Some(server.limits.idle)).map_err(ProtocolError::Io)?;
                    stream.set_write_timeout(Some(server.limits.idle)).map_err(ProtocolError::Io)?;
                    server.serve_stream(&mut stream)
                }));
                let log = session_log;
                match outcome {
                    Ok(Ok(())) => log(&format!("session {id}: closed by the fuzzer")),
                    Ok(Err(e)) => log(&format!("session {id}: closed by the target: {e}")),
                    Err(_) => log(&format!("session {id}: closed by the target after a panic (a bug)")),
                }
            });
            if let Err(e) = spawned {
                // The closure, and with it the stream, was dropped without running.
                self.open.fetch_sub(1, Ordering::AcqRel);
                log(&format!("session {id}: no thread for it: {e}"));
            }
        }
        Ok(())
    }

    /// Serves one connection until the fuzzer closes it: the handshake first, then requests, one
    /// answer each. An `Err` is why the target closed the session.
    pub fn serve_stream(&self, stream: &mut (impl Read + Write)) -> Result<(), SessionError> {
        let spec = &self.ctx.spec;
        let mut session = Session::new(self.ctx.clone());
        let mut handshaken = false;
        while let Some(frame) = read_frame_within(stream, self.limits.max_message, Some(&self.budget))? {
            let response = match Message::decode(spec, &frame) {
                Ok(Message::PeerInfo(peer)) if !handshaken => {
                    handshaken = true;
                    Message::PeerInfo(session.handshake(&peer)?)
                }
                Ok(request) if !handshaken => {
                    return Err(SessionError::Unexpected { expected: "peer_info", got: request.kind() })
                }
                Ok(request) => {
                    // The request's octets are decoded; only the decoded request is kept.
                    drop(frame);
                    match &self.pool {
                        Some(pool) => pool.install(|| session.handle(request))?,
                        None => session.handle(request)?,
                    }
                }
                // An import_block whose block does not decode is a well-framed request for an
                // invalid block: it gets an `Error` like any other invalid block.
                Err(ProtocolError::BadBlock(e)) if handshaken => {
                    Message::Error(format!("block import failure: the block does not decode: {e}"))
                }
                Err(e) => return Err(e.into()),
            };
            write_frame(stream, &response.encode())?;
        }
        Ok(())
    }
}

/// Serves one connection with the default [`Limits`] (but no idle limit, which is the socket's):
/// see [`Server::serve_stream`].
pub fn serve(ctx: Arc<ImportContext>, stream: &mut (impl Read + Write)) -> Result<(), SessionError> {
    Server::new(ctx, Limits::default()).serve_stream(stream)
}

/// Binds a Unix socket at `path` for a target. A socket file there that nothing listens on (a
/// target that exited without removing it) is replaced; one that a live process is listening on
/// is refused, naming it, so a second target cannot cut the first one off; any other file is
/// not ours to delete.
pub fn bind(path: &Path) -> std::io::Result<UnixListener> {
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if !meta.file_type().is_socket() {
            return Err(std::io::Error::new(
                ErrorKind::AlreadyExists,
                format!("{} exists and is not a socket; not replacing it", path.display()),
            ));
        }
        match UnixStream::connect(path) {
            // The live target sees a connection that closes at once, and logs it.
            Ok(_) => {
                return Err(std::io::Error::new(
                    ErrorKind::AddrInUse,
                    format!(
                        "a process is listening on {} (another fuzz-target?); not replacing a live socket",
                        path.display()
                    ),
                ))
            }
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => std::fs::remove_file(path)?,
            Err(e) => {
                return Err(std::io::Error::new(
                    e.kind(),
                    format!("{}: cannot tell whether a process listens on it: {e}", path.display()),
                ))
            }
        }
    }
    // A target that started between the check and here makes this fail with `AddrInUse`,
    // rather than have its socket removed.
    UnixListener::bind(path)
}

/// Listens on a Unix socket at `path` ([`bind`]) and serves fuzzers with the default
/// [`Limits`], forever.
pub fn listen(
    ctx: Arc<ImportContext>,
    path: &Path,
    log: impl Fn(&str) + Send + Sync + 'static,
) -> std::io::Result<()> {
    let listener = bind(path)?;
    log(&format!("listening on {}", path.display()));
    serve_listener(ctx, listener, log)
}

/// Serves fuzzers on a bound listener with the default [`Limits`], forever.
pub fn serve_listener(
    ctx: Arc<ImportContext>,
    listener: UnixListener,
    log: impl Fn(&str) + Send + Sync + 'static,
) -> std::io::Result<()> {
    Arc::new(Server::new(ctx, Limits::default())).serve(listener, log)
}
