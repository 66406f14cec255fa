//! The network tasks: connections, streams, and the node's outputs turned into stream traffic
//! (see the crate doc for the rules and bounds).

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use orrery_codec::{Encode, Lengths};
use orrery_network::endpoint::code;
use orrery_network::message::audit::{AuditAnnouncement, JudgmentPublication};
use orrery_network::message::work::{
    MAX_JUSTIFICATION_SIZE, MAX_PREIMAGE_SIZE, REPORT_SIGNATURE_SIZE, SEGMENT_SHARD_REQUEST_SIZE,
    SHARE_HEAD_SIZE, SUBMISSION_HEAD_SIZE,
};
use orrery_network::message::{
    decode_blocks, decode_boundary_nodes, decode_guarantee, decode_key_values, decode_preimage,
    decode_preimage_request, decode_segment_shard_answer, encode_blocks, encode_boundary_nodes,
    encode_guarantee, encode_key_values, Announcement, AssuranceMessage, AuditShardResponse, BlockRequest,
    BundleShare, Handshake, PreimageAnnouncement, ReportSignature, SegmentShardRequest, ShardRequest,
    ShardResponse, ShardSizes, StateRequest, TicketMessage, WorkPackageSubmission,
};
use orrery_network::policy::{preferred_initiator, FALLBACK_DIAL_DELAY};
use orrery_network::{
    Alpn, Config, Connection, Endpoint, FrameError, Identity, KindSet, RecvHalf, SendHalf, Stream, StreamKind,
};
use orrery_node::{Input, Message, Output, PeerId, Request, RequestFailure, RequestId, Response};
use orrery_telemetry::{ConnectionSide, Event as T, EventId};
use orrery_types::constants::MAX_BUNDLE_SIZE;
use orrery_types::ChainSpec;
use tokio::sync::{mpsc, oneshot};

use crate::telemetry::{bundle_package, outline, package_outline, Tel};
use crate::{
    ANSWER_DEADLINE, MAX_ONE_WAY, MAX_REQUESTS_IN, MAX_REQUESTS_OUT, REFUSE_FOR, RESPONSE_DEADLINE, UP_QUEUE,
};

/// A signed vote or a neighbour state is under 150 bytes.
const SMALL_CAP: u32 = 1024;
/// CE 144's first message: header hash, tranche, up to 341 (core, report hash) pairs, signature.
const AUDIT_HEAD_CAP: u32 = (32 + 1 + 3 + 341 * 34 + 64) as u32;
/// CE 144's evidence: a VRF signature and a list of no-shows (each an announcement) per report.
const AUDIT_EVIDENCE_CAP: u32 = 1024 * 1024;
/// CE 145's first message: epoch, validator, validity, report hash, signature.
const JUDGMENT_SIZE: usize = 4 + 2 + 1 + 32 + 64;
/// CE 145's guarantee: slot and two or three signatures.
const JUDGED_GUARANTEE_CAP: u32 = 4 + 1 + 3 * (2 + 64);
/// A commit or catch-up carries at most 2 × 1023 votes of 102 bytes each (twice for a catch-up).
const VOTES_CAP: u32 = 512 * 1024;
/// The largest block response accepted (the transport's CE 128 cap).
const BLOCKS_CAP: u32 = 16 * 1024 * 1024;
/// Time to open a stream and write a one-way message or a request.
const SEND_DEADLINE: Duration = Duration::from_secs(10);
/// How often the dialler looks at the peers it wants.
const MAINTAIN_EVERY: Duration = Duration::from_secs(1);
/// The least time between two dials of one peer.
const REDIAL_AFTER: Duration = Duration::from_secs(2);

/// The endpoint's configuration: the chain's ALPN, every stream kind accepted by the transport (the
/// driver refuses the unknown ones itself, so it can tell the node), default limits.
pub fn endpoint_config(alpn: Alpn) -> Config {
    let mut config = Config::new(alpn);
    let mut all = KindSet::empty();
    for kind in 0..=255u8 {
        all.insert(StreamKind(kind));
    }
    config.serves = all;
    config
}

/// The stream kinds the driver handles: those of `orrery_network` a node serves (UP 0, CE 128, 129,
/// 131–135, 137, 139, 141–143; [`KindSet::node`]), GRANDPA's CE 149-152 (`orrery_grandpa::wire`)
/// and warp sync's CE 153 (`orrery_node::warp`).
fn handled(kind: StreamKind) -> bool {
    KindSet::node().contains(kind) || matches!(kind.0, 149..=152) || kind == WARP
}

/// CE 153: warp sync.
const WARP: StreamKind = StreamKind(orrery_node::warp::CE_WARP);

/// The requests a peer may open a stream for; every other handled CE kind carries one-way messages.
fn is_request(kind: StreamKind) -> bool {
    matches!(
        kind,
        StreamKind::BLOCK_REQUEST
            | StreamKind::STATE_REQUEST
            | StreamKind::WORK_PACKAGE_SHARING
            | StreamKind::SHARD_DISTRIBUTION
            | StreamKind::AUDIT_SHARD_REQUEST
            | StreamKind::SEGMENT_SHARD_REQUEST
            | StreamKind::PREIMAGE_REQUEST
            | StreamKind::BUNDLE_REQUEST
            | WARP
    )
}

/// The sending end of the node thread's input channel, with the count of inputs it has put in
/// that the node thread has not taken yet (the node thread takes one off per network input).
#[derive(Debug, Clone)]
pub struct Inbox(SyncSender<Input>, Arc<AtomicU64>);

impl Inbox {
    pub fn new(tx: SyncSender<Input>) -> Self {
        Self(tx, Arc::default())
    }

    /// An inbox counting its waiting inputs in `waiting`.
    pub fn with_counter(tx: SyncSender<Input>, waiting: Arc<AtomicU64>) -> Self {
        Self(tx, waiting)
    }

    /// An input that must arrive (connection events, responses to the node's own requests); they
    /// are bounded by peers × requests in flight, so waiting for room is bounded too.
    fn control(&self, input: Input) {
        // Counted before it goes in, so the node thread never takes off more than was put in.
        self.1.fetch_add(1, Ordering::Relaxed);
        match self.0.try_send(input) {
            Ok(()) => {}
            Err(TrySendError::Disconnected(_)) => {
                self.1.fetch_sub(1, Ordering::Relaxed);
            }
            Err(TrySendError::Full(input)) => {
                let (tx, waiting) = (self.0.clone(), self.1.clone());
                tokio::task::spawn_blocking(move || {
                    if tx.send(input).is_err() {
                        waiting.fetch_sub(1, Ordering::Relaxed);
                    }
                });
            }
        }
    }

    /// Peer traffic: dropped when the node is behind. Says whether it was taken.
    fn data(&self, input: Input) -> bool {
        self.1.fetch_add(1, Ordering::Relaxed);
        let taken = self.0.try_send(input).is_ok();
        if !taken {
            self.1.fetch_sub(1, Ordering::Relaxed);
        }
        taken
    }
}

/// Who a connected peer is to us, for its connection slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerClass {
    /// A validator of the previous, current or next epoch (or a bootnode): always admitted.
    Validator,
    /// A work-package builder (it dialled with the `/builder` ALPN): one of the reserved slots.
    Builder,
    /// Any other node (a follower, an RPC node): the slots left for them.
    Other,
}

/// Connection slots by peer class (JAMNP-S: "accept non-validators too; reserve about 20 builder
/// slots (builders may have to submit a valid work-package to stay connected)").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerSlots {
    /// Builders connected at once; a builder never takes another class's slot, nor they its.
    pub builders: usize,
    /// Other non-validators connected at once.
    pub others: usize,
    /// A builder that sends no well-formed work package (CE 133) for this long loses its slot.
    pub builder_idle: Duration,
}

impl Default for PeerSlots {
    fn default() -> Self {
        Self { builders: 20, others: 64, builder_idle: Duration::from_secs(60) }
    }
}

impl PeerSlots {
    fn cap(&self, class: PeerClass) -> usize {
        match class {
            PeerClass::Validator => usize::MAX,
            PeerClass::Builder => self.builders,
            PeerClass::Other => self.others,
        }
    }
}

#[derive(Debug)]
struct Peer {
    conn: Arc<Connection>,
    class: PeerClass,
    /// Milliseconds after [`Net::started`] of the connection or its latest well-formed CE 133.
    last_submission: Arc<AtomicU64>,
    generation: u64,
    up: mpsc::Sender<Vec<u8>>,
    up_streams: mpsc::Sender<Stream>,
    requests_out: Arc<AtomicUsize>,
    requests_in: Arc<AtomicUsize>,
    one_way: Arc<AtomicUsize>,
}

#[derive(Debug)]
struct Want {
    addr: SocketAddr,
    bootnode: bool,
    unconnected_since: Option<Instant>,
    last_dial: Option<Instant>,
}

/// Everything the network tasks share. Locks are held for map updates only, never across an await.
#[derive(Debug)]
pub struct Net {
    me: PeerId,
    endpoint: Endpoint,
    lengths: Lengths,
    /// The shard sizes CE 137 answers are split and capped by.
    shard_sizes: ShardSizes,
    inbox: Inbox,
    peers: Mutex<HashMap<PeerId, Peer>>,
    refused: Mutex<HashMap<PeerId, Instant>>,
    wanted: Mutex<HashMap<PeerId, Want>>,
    dialling: Mutex<HashSet<PeerId>>,
    responders: Mutex<HashMap<RequestId, oneshot::Sender<Option<Response>>>>,
    next_id: AtomicU64,
    generation: AtomicU64,
    /// JIP-3 telemetry, when the node sends it.
    tel: std::sync::OnceLock<Arc<Tel>>,
    slots: PeerSlots,
    started: Instant,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding one of these locks leaves a map in a usable state.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Net {
    /// The network side for a chain of `spec` (its lengths decode headers, its sizes cap shards).
    pub fn new(endpoint: Endpoint, spec: &ChainSpec, inbox: Inbox) -> Arc<Self> {
        Self::with_slots(endpoint, spec, inbox, PeerSlots::default())
    }

    /// [`Net::new`] with other connection slots than the default.
    pub fn with_slots(endpoint: Endpoint, spec: &ChainSpec, inbox: Inbox, slots: PeerSlots) -> Arc<Self> {
        let (lengths, shard_sizes) = (spec.lengths(), ShardSizes::of(spec));
        Arc::new(Self {
            me: *endpoint.identity().key(),
            endpoint,
            lengths,
            shard_sizes,
            inbox,
            peers: Mutex::default(),
            refused: Mutex::default(),
            wanted: Mutex::default(),
            dialling: Mutex::default(),
            responders: Mutex::default(),
            next_id: AtomicU64::new(1),
            generation: AtomicU64::new(1),
            tel: std::sync::OnceLock::new(),
            slots,
            started: Instant::now(),
        })
    }

    /// Reports the network's events to `tel` from now on.
    pub(crate) fn set_telemetry(&self, tel: Arc<Tel>) {
        let _ = self.tel.set(tel);
    }

    /// The telemetry client, when there is one: events are built only then.
    fn tel(&self) -> Option<&Tel> {
        self.tel.get().map(|t| &**t)
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.endpoint.local_addr().unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    pub fn identity(&self) -> &Identity {
        self.endpoint.identity()
    }

    /// Peers connected now.
    pub fn peer_count(&self) -> usize {
        lock(&self.peers).len()
    }

    /// Keeps `peer` dialled at `addr`.
    pub fn want(&self, peer: PeerId, addr: SocketAddr, bootnode: bool) {
        if peer == self.me {
            return;
        }
        let mut wanted = lock(&self.wanted);
        let want =
            wanted.entry(peer).or_insert(Want { addr, bootnode, unconnected_since: None, last_dial: None });
        want.addr = addr;
        want.bootnode |= bootnode;
    }

    pub fn close(&self) {
        self.endpoint.close();
    }

    pub async fn wait_idle(&self) {
        self.endpoint.wait_idle().await
    }

    fn refused_now(&self, peer: &PeerId) -> bool {
        let mut refused = lock(&self.refused);
        match refused.get(peer) {
            Some(until) if *until > Instant::now() => true,
            Some(_) => {
                refused.remove(peer);
                false
            }
            None => false,
        }
    }

    fn misbehaved(&self, peer: PeerId, what: String) {
        tracing::debug!(peer = %crate::short(&peer), %what, "peer misbehaved");
        if let Some(t) = self.tel() {
            t.emit(T::PeerMisbehaved { peer, reason: what.clone() });
        }
        self.inbox.control(Input::Misbehaved { peer, what });
    }

    fn since_start(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// The connected peers of each class: validators, builders, others.
    pub fn peer_classes(&self) -> (usize, usize, usize) {
        let peers = lock(&self.peers);
        let count = |class| peers.values().filter(|p| p.class == class).count();
        (count(PeerClass::Validator), count(PeerClass::Builder), count(PeerClass::Other))
    }

    fn with_peer<T>(&self, peer: &PeerId, f: impl FnOnce(&Peer) -> T) -> Option<T> {
        lock(&self.peers).get(peer).map(f)
    }
}

/// Accepts connections until the endpoint closes.
pub async fn accept_loop(net: Arc<Net>) {
    loop {
        match net.endpoint.accept().await {
            Ok(conn) => {
                tokio::spawn(run_connection(net.clone(), conn, None));
            }
            Err(orrery_network::NetworkError::EndpointClosed) => return,
            Err(e) => tracing::debug!(error = %e, "incoming connection failed"),
        }
    }
}

/// Dials the wanted peers that are not connected: at once those we are the preferred initiator for,
/// the others after the fallback delay.
pub async fn maintain(net: Arc<Net>) {
    let mut interval = tokio::time::interval(MAINTAIN_EVERY);
    loop {
        interval.tick().await;
        close_idle_builders(&net);
        let connected: HashSet<PeerId> = lock(&net.peers).keys().copied().collect();
        let mut dials = Vec::new();
        {
            let now = Instant::now();
            let dialling = lock(&net.dialling);
            let mut wanted = lock(&net.wanted);
            for (peer, want) in wanted.iter_mut() {
                if connected.contains(peer) {
                    want.unconnected_since = None;
                    continue;
                }
                let since = *want.unconnected_since.get_or_insert(now);
                let preferred = preferred_initiator(&net.me, peer) == &net.me;
                let due = preferred || now.duration_since(since) >= FALLBACK_DIAL_DELAY;
                let rested = want.last_dial.is_none_or(|t| now.duration_since(t) >= REDIAL_AFTER);
                if due && rested && !dialling.contains(peer) && !net.refused_now(peer) {
                    want.last_dial = Some(now);
                    dials.push((*peer, want.addr));
                }
            }
        }
        for (peer, addr) in dials {
            dial(net.clone(), peer, addr);
        }
    }
}

/// Frees the slots of builders that have not submitted a well-formed package for a while.
fn close_idle_builders(net: &Net) {
    let now = net.since_start();
    let idle = net.slots.builder_idle.as_millis() as u64;
    let peers = lock(&net.peers);
    for (key, p) in peers.iter() {
        if p.class == PeerClass::Builder
            && now.saturating_sub(p.last_submission.load(Ordering::Relaxed)) > idle
        {
            tracing::debug!(peer = %crate::short(key), "closing an idle builder's connection");
            if let Some(t) = net.tel() {
                t.closing(*key, "a builder that submitted no work package in time".into());
            }
            p.conn.close();
        }
    }
}

fn dial(net: Arc<Net>, peer: PeerId, addr: SocketAddr) {
    if !lock(&net.dialling).insert(peer) {
        return;
    }
    let connecting = net.tel().map(|t| t.emit(T::ConnectingOut { peer, address: addr }));
    tokio::spawn(async move {
        let result = net.endpoint.connect(addr, Some(peer)).await;
        lock(&net.dialling).remove(&peer);
        match result {
            Ok(conn) => run_connection(net, conn, connecting).await,
            Err(e) => {
                if let (Some(t), Some(connecting)) = (net.tel(), connecting) {
                    t.emit(T::ConnectOutFailed { connecting, reason: e.to_string() });
                }
                tracing::debug!(peer = %crate::short(&peer), %addr, error = %e, "dial failed")
            }
        }
    });
}

/// Closes a connection we do not take, concluding its telemetry: our "connecting out" event if we
/// dialled it, else its "connecting in" event if one was emitted, else "connection refused".
fn refuse(net: &Net, conn: &Connection, out: Option<EventId>, inbound: Option<EventId>, reason: &str) {
    if let Some(t) = net.tel() {
        let reason = reason.to_string();
        match (out, inbound) {
            (Some(connecting), _) => t.emit(T::ConnectOutFailed { connecting, reason }),
            (None, Some(connecting)) => t.emit(T::ConnectInFailed { connecting, reason }),
            (None, None) => t.emit(T::ConnectionRefused { address: conn.remote_address() }),
        };
    }
    conn.close();
}

/// Registers a connection, runs its UP 0 stream and accepts its streams until it closes.
/// `connecting`: our "connecting out" event, for a connection we dialled.
async fn run_connection(net: Arc<Net>, conn: Connection, connecting: Option<EventId>) {
    let conn = Arc::new(conn);
    let peer = *conn.peer_key();
    let address = conn.remote_address();
    if peer == net.me || net.refused_now(&peer) {
        return refuse(&net, &conn, connecting, None, "refused by us");
    }
    // The transport hands over a connection once its handshake is done: "connecting in" and
    // "connected in" come together.
    let connecting_in = match (net.tel(), connecting) {
        (Some(t), None) => Some(t.emit(T::ConnectingIn { address })),
        _ => None,
    };
    let generation = net.generation.fetch_add(1, Ordering::Relaxed);
    let (up_tx, up_rx) = mpsc::channel(UP_QUEUE);
    let (streams_tx, streams_rx) = mpsc::channel(4);
    let me_preferred = preferred_initiator(&net.me, &peer) == &net.me;
    let class = if lock(&net.wanted).contains_key(&peer) {
        PeerClass::Validator
    } else if conn.is_builder() {
        PeerClass::Builder
    } else {
        PeerClass::Other
    };
    let replaced = {
        let mut peers = lock(&net.peers);
        let full = || peers.values().filter(|p| p.class == class).count() >= net.slots.cap(class);
        if !peers.contains_key(&peer) && full() {
            drop(peers);
            tracing::debug!(peer = %crate::short(&peer), ?class, "no connection slot left for the peer's class");
            return refuse(&net, &conn, connecting, connecting_in, "no slot for its class");
        }
        let mut replaced = false;
        if let Some(existing) = peers.get(&peer) {
            let new_preferred = conn.is_initiator() == me_preferred;
            let old_preferred = existing.conn.is_initiator() == me_preferred;
            if !new_preferred && old_preferred {
                drop(peers);
                if let Some(t) = net.tel() {
                    let reason = "a connection against the initiator preference; ours is kept".to_string();
                    match (connecting_in, connecting) {
                        (Some(connecting), _) | (None, Some(connecting)) if conn.is_initiator() => {
                            t.emit(T::ConnectOutFailed { connecting, reason })
                        }
                        (Some(connecting), _) | (None, Some(connecting)) => {
                            t.emit(T::ConnectInFailed { connecting, reason })
                        }
                        (None, None) => 0,
                    };
                }
                conn.close();
                // The peer dialled against the preference, so it has lost our connection: ours may
                // be stale. Dial again; the new connection replaces it on both ends.
                if me_preferred {
                    let addr = lock(&net.wanted).get(&peer).map(|want| want.addr);
                    if let Some(addr) = addr {
                        dial(net.clone(), peer, addr);
                    }
                }
                return;
            }
            if let Some(old) = peers.remove(&peer) {
                old.conn.close();
                replaced = true;
            }
        }
        peers.insert(
            peer,
            Peer {
                conn: conn.clone(),
                class,
                last_submission: Arc::new(AtomicU64::new(net.since_start())),
                generation,
                up: up_tx,
                up_streams: streams_tx,
                requests_out: Arc::default(),
                requests_in: Arc::default(),
                one_way: Arc::default(),
            },
        );
        replaced
    };
    tracing::info!(
        peer = %crate::short(&peer),
        addr = %conn.remote_address(),
        initiator = conn.is_initiator(),
        "connected"
    );
    if replaced {
        net.inbox.control(Input::PeerDisconnected { peer });
    }
    if let Some(t) = net.tel() {
        match (connecting_in, connecting) {
            (Some(connecting), _) => t.emit(T::ConnectedIn { connecting, peer }),
            (None, Some(connecting)) => t.emit(T::ConnectedOut { connecting }),
            (None, None) => 0,
        };
    }
    net.inbox.control(Input::PeerConnected { peer, builder: conn.is_builder() });

    let up = tokio::spawn(up_stream(net.clone(), conn.clone(), up_rx, streams_rx));
    accept_streams(&net, &conn).await;
    up.abort();
    let gone = {
        let mut peers = lock(&net.peers);
        match peers.get(&peer) {
            Some(p) if p.generation == generation => {
                peers.remove(&peer);
                true
            }
            _ => false,
        }
    };
    if gone {
        if let Some(t) = net.tel() {
            let (terminator, reason) = match t.take_closing(&peer) {
                Some(reason) => (Some(ConnectionSide::Local), reason),
                None => (None, "the connection closed".to_string()),
            };
            t.emit(T::Disconnected { peer, terminator, reason });
        }
        tracing::info!(peer = %crate::short(&peer), "disconnected");
        net.inbox.control(Input::PeerDisconnected { peer });
    }
}

async fn accept_streams(net: &Arc<Net>, conn: &Arc<Connection>) {
    let peer = *conn.peer_key();
    while let Ok(mut stream) = conn.accept_stream().await {
        let kind = stream.kind();
        if !handled(kind) {
            stream.refuse(code::UNKNOWN_STREAM_KIND);
            conn.report_offence();
            net.misbehaved(peer, format!("opened unknown stream kind {kind}"));
            continue;
        }
        match kind.0 {
            0 => {
                let sender = net.with_peer(&peer, |p| p.up_streams.clone());
                if let Some(sender) = sender {
                    // A flood of UP 0 streams beyond the few queued is dropped (reset).
                    let _ = sender.try_send(stream);
                }
            }
            _ if is_request(kind) => {
                tokio::spawn(answer_request(net.clone(), conn.clone(), stream));
            }
            _ => {
                tokio::spawn(receive_one_way(net.clone(), conn.clone(), stream));
            }
        }
    }
}

/// Reports the end of one UP 0 stream, once, whichever half sees it first ("block announcement
/// stream closed").
#[derive(Clone)]
struct UpEnd {
    net: Arc<Net>,
    peer: PeerId,
    done: Arc<AtomicBool>,
}

impl UpEnd {
    fn new(net: &Arc<Net>, peer: PeerId) -> Self {
        Self { net: net.clone(), peer, done: Arc::default() }
    }

    fn closed(&self, closer: ConnectionSide, reason: &str) {
        if self.done.swap(true, Ordering::Relaxed) {
            return;
        }
        if let Some(t) = self.net.tel() {
            t.emit(T::AnnouncementStreamClosed { peer: self.peer, closer, reason: reason.into() });
        }
    }
}

/// Our UP 0 stream with the peer: opened by us if we dialled, otherwise the one the peer opens (the
/// greatest stream ID wins, as JAMNP-S says). Writes the node's handshake and announcements; a task
/// reads the peer's half.
async fn up_stream(
    net: Arc<Net>,
    conn: Arc<Connection>,
    mut outgoing: mpsc::Receiver<Vec<u8>>,
    mut incoming: mpsc::Receiver<Stream>,
) {
    let peer = *conn.peer_key();
    let mut writer: Option<(u64, SendHalf)> = None;
    let mut reader: Option<tokio::task::JoinHandle<()>> = None;
    let mut end: Option<UpEnd> = None;
    let install = |stream: Stream,
                   writer: &mut Option<(u64, SendHalf)>,
                   reader: &mut Option<tokio::task::JoinHandle<()>>,
                   end: &mut Option<UpEnd>| {
        let id = stream.id();
        let (send, recv) = stream.split();
        if let Some((_, mut old)) = writer.replace((id, send)) {
            old.reset(code::DUPLICATE_UP_STREAM);
        }
        let this = UpEnd::new(&net, peer);
        if let Some(old) = end.replace(this.clone()) {
            old.closed(ConnectionSide::Local, "replaced by a newer UP 0 stream");
        }
        if let Some(old) = reader.replace(tokio::spawn(read_up(net.clone(), conn.clone(), recv, this))) {
            old.abort();
        }
    };
    let opened = |side| {
        if let Some(t) = net.tel() {
            t.emit(T::AnnouncementStreamOpened { peer, opener: side });
        }
    };
    if conn.is_initiator() {
        match tokio::time::timeout(SEND_DEADLINE, conn.open_stream(StreamKind::BLOCK_ANNOUNCEMENT)).await {
            Ok(Ok(stream)) => {
                opened(ConnectionSide::Local);
                install(stream, &mut writer, &mut reader, &mut end)
            }
            _ => return,
        }
    }
    loop {
        tokio::select! {
            stream = incoming.recv() => {
                let Some(mut stream) = stream else { break };
                if writer.as_ref().is_some_and(|(id, _)| *id > stream.id()) {
                    stream.refuse(code::DUPLICATE_UP_STREAM);
                } else {
                    opened(ConnectionSide::Remote);
                    install(stream, &mut writer, &mut reader, &mut end);
                }
            }
            message = outgoing.recv(), if writer.is_some() => {
                let Some(message) = message else { break };
                let Some((_, send)) = writer.as_mut() else { continue };
                match tokio::time::timeout(SEND_DEADLINE, send.send(&message)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => {
                        if let Some(end) = &end {
                            end.closed(ConnectionSide::Remote, &format!("our announcement could not be sent: {e}"));
                        }
                        break;
                    }
                    Err(_) => {
                        if let Some(end) = &end {
                            end.closed(ConnectionSide::Local, "the peer does not read our announcements");
                        }
                        net.misbehaved(peer, "UP 0: not reading our announcements".into());
                        break;
                    }
                }
            }
        }
    }
    // The connection is ending (or the node is): the stream goes with it.
    if let Some(end) = &end {
        end.closed(ConnectionSide::Local, "the connection is closing");
    }
    if let Some(reader) = reader {
        reader.abort();
    }
}

/// Reads the peer's half of UP 0: a handshake, then announcements.
async fn read_up(net: Arc<Net>, conn: Arc<Connection>, mut recv: RecvHalf, end: UpEnd) {
    let peer = *conn.peer_key();
    let mut first = true;
    loop {
        let bytes = match recv.recv_next().await {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return end.closed(ConnectionSide::Remote, "the peer finished the stream"),
            Err(e) => {
                if !matches!(e, FrameError::Io(_)) {
                    end.closed(ConnectionSide::Local, &format!("{e}"));
                    net.misbehaved(peer, format!("UP 0: {e}"));
                } else {
                    end.closed(ConnectionSide::Remote, &format!("{e}"));
                }
                return;
            }
        };
        let message = if first {
            Handshake::decode(&bytes).map(Message::Handshake)
        } else {
            Announcement::decode(&bytes, net.lengths).map(Message::Announcement)
        };
        first = false;
        match message {
            Ok(message @ Message::Handshake(_)) => net.inbox.control(Input::Message { peer, message }),
            Ok(message) => {
                if let (Some(t), Message::Announcement(a)) = (net.tel(), &message) {
                    let hash = orrery_import::header_hash(&a.header);
                    t.emit(T::BlockAnnounced {
                        peer,
                        announcer: ConnectionSide::Remote,
                        slot: a.header.slot,
                        hash,
                    });
                }
                // Announcements are dropped when the node is behind; the next one or a handshake
                // brings it up to date.
                net.inbox.data(Input::Message { peer, message });
            }
            Err(e) => {
                recv.stop(code::MALFORMED);
                end.closed(ConnectionSide::Local, &format!("malformed: {e}"));
                conn.report_offence();
                net.misbehaved(peer, format!("UP 0: {e}"));
                return;
            }
        }
    }
}

/// Receives the next message the peer owes on `stream`. A stream that ends first, a message over the
/// stream's cap or past its deadline is reported (the transport has already reset the stream for
/// the last two); `what` names the message in the report.
async fn expect_message(net: &Net, peer: PeerId, stream: &mut Stream, what: &str) -> Option<Vec<u8>> {
    let kind = stream.kind();
    match stream.recv().await {
        Ok(Some(bytes)) => Some(bytes),
        Ok(None) => {
            net.misbehaved(peer, format!("{kind}: stream ended without {what}"));
            None
        }
        Err(e) => {
            net.misbehaved(peer, format!("{kind}: {what}: {e}"));
            None
        }
    }
}

/// A message that does not decode: the stream is reset, the peer reported.
fn malformed(net: &Net, conn: &Connection, stream: &mut Stream, error: impl std::fmt::Display) {
    stream.refuse(code::MALFORMED);
    conn.report_offence();
    net.misbehaved(*conn.peer_key(), format!("{}: {error}", stream.kind()));
}

/// Reads one CE 131/132/133/135/141/142/149-152 message (two for CE 133) and passes it on.
async fn receive_one_way(net: Arc<Net>, conn: Arc<Connection>, mut stream: Stream) {
    let peer = *conn.peer_key();
    let kind = stream.kind();
    // Telemetry: the events of a stream that opens, and of its failure.
    let opened = net.tel().and_then(|t| match kind {
        StreamKind::WORK_PACKAGE_SUBMISSION => {
            Some(t.emit(T::WorkPackageSubmission { builder: peer, ce146: false }))
        }
        StreamKind::WORK_REPORT_DISTRIBUTION => Some(t.emit(T::ReceivingGuarantee { sender: peer })),
        _ => None,
    });
    let failed = |reason: String| {
        let Some(t) = net.tel() else { return };
        match (kind, opened) {
            (StreamKind::WORK_PACKAGE_SUBMISSION, Some(submission)) => {
                t.emit(T::WorkPackageFailed { submission, reason })
            }
            (StreamKind::WORK_REPORT_DISTRIBUTION, Some(receiving)) => {
                t.emit(T::GuaranteeReceiveFailed { receiving, reason })
            }
            (StreamKind::TICKET_TO_PROXY | StreamKind::TICKET_TO_ALL, _) => t.emit(T::TicketTransferFailed {
                peer,
                sender: ConnectionSide::Remote,
                ce132: kind == StreamKind::TICKET_TO_ALL,
                reason,
            }),
            (StreamKind::ASSURANCE_DISTRIBUTION, _) => {
                t.emit(T::AssuranceReceiveFailed { sender: peer, reason })
            }
            (StreamKind::PREIMAGE_ANNOUNCEMENT, _) => {
                t.emit(T::PreimageAnnouncementFailed { peer, announcer: ConnectionSide::Remote, reason })
            }
            _ => 0,
        };
    };
    let message = if kind == StreamKind::WORK_PACKAGE_SUBMISSION {
        // The package is judged before the extrinsics are read, and they are capped at the size
        // its items declare.
        stream.set_cap(SUBMISSION_HEAD_SIZE as u32);
        let Some(head) = expect_message(&net, peer, &mut stream, "the work package").await else {
            return failed("no work package".into());
        };
        let (core, package) = match WorkPackageSubmission::decode_head(&head) {
            Ok(head) => head,
            Err(e) => {
                failed(e.to_string());
                return malformed(&net, &conn, &mut stream, e);
            }
        };
        if let (Some(t), Some(submission)) = (net.tel(), opened) {
            let outline = package_outline(&package);
            t.set_submission(outline.hash, submission);
            t.emit(T::WorkPackageReceived { submission, core, outline });
        }
        let declared = WorkPackageSubmission::extrinsics_size(&package).min(MAX_BUNDLE_SIZE as u64);
        stream.set_cap(declared as u32);
        let Some(bytes) = expect_message(&net, peer, &mut stream, "the extrinsics").await else {
            return failed("no extrinsic data".into());
        };
        WorkPackageSubmission::decode_extrinsics(&package, &bytes)
            .map(|extrinsics| Message::WorkPackage(WorkPackageSubmission { core, package, extrinsics }))
            .map_err(|e| e.to_string())
    } else if kind == StreamKind::AUDIT_ANNOUNCEMENT {
        stream.set_cap(AUDIT_HEAD_CAP);
        let Some(head) = expect_message(&net, peer, &mut stream, "the announcement").await else { return };
        stream.set_cap(AUDIT_EVIDENCE_CAP);
        let Some(evidence) = expect_message(&net, peer, &mut stream, "the evidence").await else { return };
        AuditAnnouncement::decode(&head, &evidence).map(Message::AuditAnnouncement).map_err(|e| e.to_string())
    } else if kind == StreamKind::JUDGMENT_PUBLICATION {
        // A negative judgment (validity byte 0, after the epoch and the validator index) brings
        // its guarantee in a second message.
        stream.set_cap(JUDGMENT_SIZE as u32);
        let Some(first) = expect_message(&net, peer, &mut stream, "the judgment").await else { return };
        let guarantee = if first.get(6) == Some(&0) {
            stream.set_cap(JUDGED_GUARANTEE_CAP);
            let Some(g) = expect_message(&net, peer, &mut stream, "the guarantee").await else { return };
            Some(g)
        } else {
            None
        };
        JudgmentPublication::decode(&first, guarantee.as_deref())
            .map(Message::Judgment)
            .map_err(|e| e.to_string())
    } else {
        match kind.0 {
            149 | 151 => stream.set_cap(SMALL_CAP),
            150 | 152 => stream.set_cap(VOTES_CAP),
            141 => stream.set_cap(AssuranceMessage::size(net.lengths.cores_count()) as u32),
            _ => {}
        }
        let Some(bytes) = expect_message(&net, peer, &mut stream, "a message").await else {
            return failed("no message".into());
        };
        decode_one_way(&net, kind, &bytes)
    };
    match message {
        Ok(message) => {
            if let Some(t) = net.tel() {
                received_one_way(t, peer, opened, &message);
            }
            if matches!(message, Message::WorkPackage(_)) {
                let now = net.since_start();
                net.with_peer(&peer, |p| p.last_submission.store(now, Ordering::Relaxed));
            }
            net.inbox.data(Input::Message { peer, message });
            stream.finish();
        }
        Err(e) => {
            failed(e.clone());
            malformed(&net, &conn, &mut stream, e)
        }
    }
}

/// "Ticket transferred" (JIP-3 84), either way. The ticket's ID is its VRF output, read from the
/// proof (a received one is checked later, by the node); a proof that yields none is not reported.
fn ticket_transferred(t: &Tel, peer: PeerId, sender: ConnectionSide, to_proxy: bool, ticket: &TicketMessage) {
    if let Ok(output) = orrery_crypto::bandersnatch::vrf_output(&ticket.proof) {
        t.emit(T::TicketTransferred {
            peer,
            sender,
            ce132: !to_proxy,
            epoch: ticket.epoch,
            attempt: ticket.attempt,
            output,
        });
    }
}

/// The telemetry event of a one-way message received (before the node checks it, as the JIP asks).
fn received_one_way(t: &Tel, peer: PeerId, opened: Option<EventId>, message: &Message) {
    match message {
        Message::Ticket { to_proxy, ticket } => {
            ticket_transferred(t, peer, ConnectionSide::Remote, *to_proxy, ticket)
        }
        Message::WorkPackage(_) => {
            if let Some(submission) = opened {
                t.emit(T::ExtrinsicDataReceived { submission });
            }
        }
        Message::Guarantee(g) => {
            if let Some(receiving) = opened {
                let outline = guarantee_outline(g);
                t.set_receiving(outline.report, receiving);
                t.emit(T::GuaranteeReceived { receiving, outline });
            }
        }
        Message::Assurance(a) => {
            t.emit(T::AssuranceReceived { sender: peer, anchor: a.anchor });
        }
        Message::PreimageAnnouncement(a) => {
            t.emit(T::PreimageAnnounced {
                peer,
                announcer: ConnectionSide::Remote,
                service: a.service,
                hash: a.hash,
                length: a.length,
            });
        }
        _ => {}
    }
}

fn guarantee_outline(g: &orrery_types::ReportGuarantee) -> orrery_telemetry::GuaranteeOutline {
    orrery_telemetry::GuaranteeOutline {
        report: orrery_crypto::blake2b_256(&g.report.encode()),
        slot: g.slot,
        guarantors: g.signatures.iter().map(|s| s.validator_index).collect(),
    }
}

/// Decodes the one message of a one-way kind other than CE 133.
fn decode_one_way(net: &Net, kind: StreamKind, bytes: &[u8]) -> Result<Message, String> {
    let message = match kind {
        StreamKind::TICKET_TO_PROXY | StreamKind::TICKET_TO_ALL => TicketMessage::decode(bytes)
            .map(|ticket| Message::Ticket { to_proxy: kind == StreamKind::TICKET_TO_PROXY, ticket }),
        StreamKind::WORK_REPORT_DISTRIBUTION => decode_guarantee(bytes).map(Message::Guarantee),
        StreamKind::ASSURANCE_DISTRIBUTION => {
            AssuranceMessage::decode(bytes, net.lengths).map(Message::Assurance)
        }
        StreamKind::PREIMAGE_ANNOUNCEMENT => {
            PreimageAnnouncement::decode(bytes).map(Message::PreimageAnnouncement)
        }
        _ => {
            return orrery_grandpa::Message::from_bytes(kind.0, bytes)
                .map(Message::Grandpa)
                .map_err(|e| e.to_string())
        }
    };
    message.map_err(|e| e.to_string())
}

/// Serves one CE 128/129/134/137/138/139/143/147 request of the peer: decodes it, asks the node, writes its
/// answer (or resets the stream when the node refuses).
async fn answer_request(net: Arc<Net>, conn: Arc<Connection>, mut stream: Stream) {
    let peer = *conn.peer_key();
    let Some(count) = net.with_peer(&peer, |p| p.requests_in.clone()) else { return };
    if count.fetch_add(1, Ordering::Relaxed) >= MAX_REQUESTS_IN {
        count.fetch_sub(1, Ordering::Relaxed);
        stream.refuse(code::REFUSED);
        return;
    }
    let _release = Release(count);
    let kind = stream.kind();
    let receiving = net.tel().and_then(|t| receiving_request(t, peer, kind));
    let answer_failed = |reason: &str| {
        if let (Some(t), Some(request)) = (net.tel(), receiving) {
            let reason = reason.to_string();
            match kind {
                StreamKind::BLOCK_REQUEST => t.emit(T::BlockRequestFailed { request, reason }),
                StreamKind::WORK_PACKAGE_SHARING => {
                    t.emit(T::WorkPackageFailed { submission: request, reason })
                }
                StreamKind::SHARD_DISTRIBUTION => t.emit(T::ShardRequestFailed { request, reason }),
                StreamKind::AUDIT_SHARD_REQUEST => t.emit(T::BundleShardRequestFailed { request, reason }),
                StreamKind::PREIMAGE_REQUEST => t.emit(T::PreimageRequestFailed { request, reason }),
                StreamKind::BUNDLE_REQUEST => t.emit(T::BundleRequestFailed { request, reason }),
                _ => 0,
            };
        }
    };
    let Some(request) = read_request(&net, &conn, &mut stream).await else {
        return answer_failed("no request, or one that does not decode");
    };
    if let (Some(t), Some(receiving)) = (net.tel(), receiving) {
        request_received(t, receiving, &request);
    }
    let id = net.next_id.fetch_add(1, Ordering::Relaxed);
    let (tx, rx) = oneshot::channel();
    lock(&net.responders).insert(id, tx);
    if !net.inbox.data(Input::Request { peer, id, request }) {
        lock(&net.responders).remove(&id);
        stream.refuse(code::REFUSED);
        return answer_failed("the node is busy");
    }
    let response = match tokio::time::timeout(ANSWER_DEADLINE, rx).await {
        Ok(Ok(Some(response))) => response,
        Ok(_) => {
            lock(&net.responders).remove(&id);
            stream.refuse(code::REFUSED);
            return answer_failed("the node refused it");
        }
        Err(_) => {
            lock(&net.responders).remove(&id);
            stream.refuse(code::REFUSED);
            return answer_failed("the node did not answer in time");
        }
    };
    let written = tokio::time::timeout(SEND_DEADLINE, async {
        match &response {
            Response::Blocks(blocks) => stream.send(&encode_blocks(blocks)).await,
            Response::State { boundary, pairs } => {
                stream.send(&encode_boundary_nodes(boundary)).await?;
                stream.send(&encode_key_values(pairs)).await
            }
            Response::ReportSignature(signature) => stream.send(&signature.encode()).await,
            Response::Shard(shards) => {
                for message in shards.encode() {
                    stream.send(&message).await?;
                }
                Ok(())
            }
            Response::AuditShard(shard) => {
                for message in shard.encode() {
                    stream.send(&message).await?;
                }
                Ok(())
            }
            Response::Preimage(preimage) => stream.send(preimage).await,
            Response::Bundle(bundle) => stream.send(bundle).await,
            Response::SegmentShards(shards) => stream.send(&shards.concat()).await,
            Response::Warp(proof) => stream.send(&proof.to_bytes()).await,
        }
    })
    .await;
    match written {
        Ok(Ok(())) => {
            stream.finish();
            if let (Some(t), Some(receiving)) = (net.tel(), receiving) {
                answered(t, receiving, &response);
            }
        }
        _ => {
            stream.refuse(code::REFUSED);
            answer_failed("the answer could not be written in time");
        }
    }
}

/// The "receiving … request" event of a request stream the peer opened.
fn receiving_request(t: &Tel, peer: PeerId, kind: StreamKind) -> Option<EventId> {
    Some(match kind {
        StreamKind::BLOCK_REQUEST => t.emit(T::ReceivingBlockRequest { peer }),
        StreamKind::WORK_PACKAGE_SHARING => t.emit(T::WorkPackageBeingShared { primary: peer }),
        StreamKind::SHARD_DISTRIBUTION => t.emit(T::ReceivingShardRequest { assurer: peer }),
        StreamKind::AUDIT_SHARD_REQUEST => t.emit(T::ReceivingBundleShardRequest { auditor: peer }),
        StreamKind::PREIMAGE_REQUEST => t.emit(T::ReceivingPreimageRequest { sender: peer }),
        StreamKind::BUNDLE_REQUEST => t.emit(T::ReceivingBundleRequest { auditor: peer }),
        StreamKind::SEGMENT_SHARD_REQUEST => {
            t.emit(T::ReceivingSegmentShardRequest { sender: peer, ce140: false })
        }
        _ => return None,
    })
}

fn direction(d: orrery_network::message::Direction) -> orrery_telemetry::Direction {
    match d {
        orrery_network::message::Direction::AscendingExclusive => {
            orrery_telemetry::Direction::AscendingExclusive
        }
        orrery_network::message::Direction::DescendingInclusive => {
            orrery_telemetry::Direction::DescendingInclusive
        }
    }
}

/// The "… request received" events of a peer's request, once read.
fn request_received(t: &Tel, request: EventId, what: &Request) {
    match what {
        Request::Blocks(r) => {
            t.emit(T::BlockRequestReceived {
                request,
                hash: r.hash,
                direction: direction(r.direction),
                max_blocks: r.max_blocks,
            });
        }
        Request::ShareBundle(share) => {
            if let Some(package) = bundle_package(&share.bundle) {
                let outline = package_outline(&package);
                t.set_submission(outline.hash, request);
                t.emit(T::WorkPackageReceived { submission: request, core: share.core, outline });
                t.emit(T::ExtrinsicDataReceived { submission: request });
            }
        }
        Request::Shard(r) => {
            t.emit(T::ShardRequestReceived { request, erasure_root: r.erasure_root, shard: r.shard_index });
        }
        Request::AuditShard(r) => {
            t.emit(T::BundleShardRequestReceived {
                request,
                erasure_root: r.erasure_root,
                shard: r.shard_index,
            });
        }
        Request::Preimage(hash) => {
            t.emit(T::PreimageRequestReceived { request, hash: *hash });
        }
        Request::Bundle(root) => {
            t.emit(T::BundleRequestReceived { request, erasure_root: *root });
        }
        Request::SegmentShards(r) => {
            let count = u16::try_from(r.shard_count()).unwrap_or(u16::MAX);
            t.emit(T::SegmentShardRequestReceived { request, count });
        }
        Request::State(_) | Request::Warp(_) => {}
    }
}

/// The events of an answer written in full.
fn answered(t: &Tel, request: EventId, response: &Response) {
    match response {
        Response::Blocks(blocks) => {
            for (i, block) in blocks.iter().enumerate() {
                t.emit(T::BlockTransferred {
                    request,
                    slot: block.header.slot,
                    outline: outline(block),
                    last: i + 1 == blocks.len(),
                });
            }
        }
        Response::ReportSignature(_) => {
            t.emit(T::WorkReportSignatureSent { shared: request });
        }
        Response::Shard(_) => {
            t.emit(T::ShardsTransferred { request });
        }
        Response::AuditShard(_) => {
            t.emit(T::BundleShardTransferred { request });
        }
        Response::Preimage(p) => {
            t.emit(T::PreimageTransferred { request, length: u32::try_from(p.len()).unwrap_or(u32::MAX) });
        }
        Response::Bundle(_) => {
            t.emit(T::BundleTransferred { request });
        }
        Response::SegmentShards(_) => {
            t.emit(T::SegmentShardsTransferred { request });
        }
        Response::State { .. } | Response::Warp(_) => {}
    }
}

/// Reads and decodes the request on a stream the peer opened; `None` when it did not come or did not
/// decode (already reported). Each request's cap is its own size (CE 134's bundle: `W_B`).
async fn read_request(net: &Net, conn: &Connection, stream: &mut Stream) -> Option<Request> {
    let peer = *conn.peer_key();
    let kind = stream.kind();
    let request = match kind {
        StreamKind::WORK_PACKAGE_SHARING => {
            stream.set_cap(SHARE_HEAD_SIZE as u32);
            let head = expect_message(net, peer, stream, "the core and mappings").await?;
            let (core, segment_roots) = match BundleShare::decode_head(&head) {
                Ok(head) => head,
                Err(e) => {
                    malformed(net, conn, stream, e);
                    return None;
                }
            };
            stream.set_cap(MAX_BUNDLE_SIZE as u32);
            let bundle = expect_message(net, peer, stream, "the bundle").await?;
            BundleShare::decode_bundle(&bundle)
                .map(|bundle| Request::ShareBundle(BundleShare { core, segment_roots, bundle }))
        }
        _ => {
            let cap = match kind {
                StreamKind::BLOCK_REQUEST => 32 + 1 + 4,
                StreamKind::STATE_REQUEST => 32 + 31 + 31 + 4,
                StreamKind::SHARD_DISTRIBUTION | StreamKind::AUDIT_SHARD_REQUEST => 32 + 2,
                StreamKind::SEGMENT_SHARD_REQUEST => SEGMENT_SHARD_REQUEST_SIZE as u32,
                WARP => 4,
                _ => 32,
            };
            stream.set_cap(cap);
            let bytes = expect_message(net, peer, stream, "a request").await?;
            match kind {
                StreamKind::BLOCK_REQUEST => BlockRequest::decode(&bytes).map(Request::Blocks),
                StreamKind::STATE_REQUEST => StateRequest::decode(&bytes).map(Request::State),
                StreamKind::SHARD_DISTRIBUTION => ShardRequest::decode(&bytes).map(Request::Shard),
                StreamKind::AUDIT_SHARD_REQUEST => ShardRequest::decode(&bytes).map(Request::AuditShard),
                StreamKind::BUNDLE_REQUEST => decode_preimage_request(&bytes).map(Request::Bundle),
                StreamKind::SEGMENT_SHARD_REQUEST => {
                    SegmentShardRequest::decode(&bytes).map(Request::SegmentShards)
                }
                WARP => match <[u8; 4]>::try_from(bytes.as_slice()) {
                    Ok(set_id) => Ok(Request::Warp(u32::from_le_bytes(set_id))),
                    Err(_) => {
                        malformed(
                            net,
                            conn,
                            stream,
                            format!("CE 153 request of {} octets, not 4", bytes.len()),
                        );
                        return None;
                    }
                },
                _ => decode_preimage_request(&bytes).map(Request::Preimage),
            }
        }
    };
    match request {
        Ok(request) => Some(request),
        Err(e) => {
            malformed(net, conn, stream, e);
            None
        }
    }
}

/// Decrements a counter when dropped.
struct Release(Arc<AtomicUsize>);

impl Drop for Release {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Carries out the node's outputs until the node thread ends.
pub async fn dispatch(net: Arc<Net>, mut outputs: mpsc::Receiver<Output>) {
    while let Some(output) = outputs.recv().await {
        match output {
            Output::Send { peer, message } => send(&net, peer, message),
            Output::Request { peer, id, request } => {
                tokio::spawn(make_request(net.clone(), peer, id, request));
            }
            Output::Respond { peer: _, id, response } => {
                if let Some(tx) = lock(&net.responders).remove(&id) {
                    let _ = tx.send(Some(response));
                }
            }
            Output::Refuse { peer: _, id } => {
                if let Some(tx) = lock(&net.responders).remove(&id) {
                    let _ = tx.send(None);
                }
            }
            Output::Disconnect { peer, reason } => {
                tracing::info!(peer = %crate::short(&peer), %reason, "disconnecting");
                if let Some(t) = net.tel() {
                    t.closing(peer, reason.clone());
                }
                lock(&net.refused).insert(peer, Instant::now() + REFUSE_FOR);
                if let Some(p) = lock(&net.peers).get(&peer) {
                    p.conn.close();
                }
            }
            Output::WantPeers(list) => {
                let mut wanted = lock(&net.wanted);
                wanted.retain(|_, w| w.bootnode);
                drop(wanted);
                for (peer, addr) in list {
                    net.want(peer, addr, false);
                }
            }
            // The node thread keeps these (it logs events and starts the ticket thread).
            Output::Event(_) | Output::MakeTickets(_) => {}
        }
    }
}

fn send(net: &Arc<Net>, peer: PeerId, message: Message) {
    let kind = match &message {
        Message::Handshake(_) | Message::Announcement(_) => {
            let bytes = match &message {
                Message::Handshake(h) => h.encode(),
                Message::Announcement(a) => {
                    if let Some(t) = net.tel() {
                        let hash = orrery_import::header_hash(&a.header);
                        let slot = a.header.slot;
                        t.emit(T::BlockAnnounced { peer, announcer: ConnectionSide::Local, slot, hash });
                    }
                    a.encode()
                }
                _ => return,
            };
            // A full queue means the peer does not read: the message is dropped.
            let _ = net.with_peer(&peer, |p| p.up.try_send(bytes));
            return;
        }
        Message::Ticket { to_proxy: true, .. } => StreamKind::TICKET_TO_PROXY,
        Message::Ticket { to_proxy: false, .. } => StreamKind::TICKET_TO_ALL,
        Message::Grandpa(m) => StreamKind(m.stream_kind()),
        Message::WorkPackage(_) => StreamKind::WORK_PACKAGE_SUBMISSION,
        Message::Guarantee(_) => StreamKind::WORK_REPORT_DISTRIBUTION,
        Message::Assurance(_) => StreamKind::ASSURANCE_DISTRIBUTION,
        Message::PreimageAnnouncement(_) => StreamKind::PREIMAGE_ANNOUNCEMENT,
        Message::AuditAnnouncement(_) => StreamKind::AUDIT_ANNOUNCEMENT,
        Message::Judgment(_) => StreamKind::JUDGMENT_PUBLICATION,
    };
    let messages = match &message {
        Message::Ticket { ticket, .. } => vec![ticket.encode()],
        Message::Grandpa(m) => vec![m.to_bytes()],
        Message::WorkPackage(s) => vec![s.encode_head(), s.encode_extrinsics()],
        Message::Guarantee(g) => vec![encode_guarantee(g)],
        Message::Assurance(a) => vec![a.encode()],
        Message::PreimageAnnouncement(a) => vec![a.encode()],
        Message::AuditAnnouncement(a) => {
            let (head, evidence) = a.encode();
            vec![head, evidence]
        }
        Message::Judgment(j) => j.encode(),
        Message::Handshake(_) | Message::Announcement(_) => return,
    };
    let sending = net.tel().and_then(|t| sending_one_way(t, peer, &message));
    let Some((conn, count)) = net.with_peer(&peer, |p| (p.conn.clone(), p.one_way.clone())) else {
        if let Some(t) = net.tel() {
            sent_one_way(t, peer, &message, sending, Err("not connected"));
        }
        return;
    };
    if count.fetch_add(1, Ordering::Relaxed) >= MAX_ONE_WAY {
        count.fetch_sub(1, Ordering::Relaxed);
        if let Some(t) = net.tel() {
            sent_one_way(t, peer, &message, sending, Err("too many streams to the peer"));
        }
        return;
    }
    let net = net.clone();
    tokio::spawn(async move {
        let _release = Release(count);
        let sent = tokio::time::timeout(SEND_DEADLINE, async {
            let mut stream = conn.open_stream(kind).await.map_err(|_| "the stream did not open")?;
            for message in &messages {
                stream.send(message).await.map_err(|_| "the stream broke")?;
            }
            stream.finish();
            // Wait for the peer's FIN (or its reset) so the stream is not cut short.
            let _ = stream.recv().await;
            Ok(())
        })
        .await
        .unwrap_or(Err("timed out"));
        if let Some(t) = net.tel() {
            sent_one_way(t, peer, &message, sending, sent);
        }
    });
}

/// The event a one-way message starts with, when the JIP has one ("sending guarantee").
fn sending_one_way(t: &Tel, peer: PeerId, message: &Message) -> Option<EventId> {
    match message {
        Message::Guarantee(g) => {
            let built = t.built(&orrery_crypto::blake2b_256(&g.report.encode()))?;
            Some(t.emit(T::SendingGuarantee { built, recipient: peer }))
        }
        _ => None,
    }
}

/// The events of a one-way message sent, or not.
fn sent_one_way(t: &Tel, peer: PeerId, message: &Message, sending: Option<EventId>, sent: Result<(), &str>) {
    let reason = |e: &str| e.to_string();
    match (message, sent) {
        (Message::Ticket { to_proxy, ticket }, Ok(())) => {
            ticket_transferred(t, peer, ConnectionSide::Local, *to_proxy, ticket)
        }
        (Message::Ticket { to_proxy, .. }, Err(e)) => {
            t.emit(T::TicketTransferFailed {
                peer,
                sender: ConnectionSide::Local,
                ce132: !to_proxy,
                reason: reason(e),
            });
        }
        (Message::Guarantee(_), result) => {
            if let Some(sending) = sending {
                match result {
                    Ok(()) => t.emit(T::GuaranteeSent { sending }),
                    Err(e) => t.emit(T::GuaranteeSendFailed { sending, reason: reason(e) }),
                };
            }
        }
        (Message::Assurance(a), result) => {
            if let Some(distributing) = t.distributing(&a.anchor) {
                match result {
                    Ok(()) => t.emit(T::AssuranceSent { distributing, recipient: peer }),
                    Err(e) => {
                        t.emit(T::AssuranceSendFailed { distributing, recipient: peer, reason: reason(e) })
                    }
                };
            }
        }
        (Message::PreimageAnnouncement(a), Ok(())) => {
            t.emit(T::PreimageAnnounced {
                peer,
                announcer: ConnectionSide::Local,
                service: a.service,
                hash: a.hash,
                length: a.length,
            });
        }
        (Message::PreimageAnnouncement(_), Err(e)) => {
            t.emit(T::PreimageAnnouncementFailed {
                peer,
                announcer: ConnectionSide::Local,
                reason: reason(e),
            });
        }
        _ => {}
    }
}

/// Makes one CE 128/129/134/137/138/139/143/147 request and delivers the answer (or the failure) to the node.
async fn make_request(net: Arc<Net>, peer: PeerId, id: RequestId, request: Request) {
    let sending = net.tel().and_then(|t| sending_request(t, peer, &request));
    let response = match net.with_peer(&peer, |p| (p.conn.clone(), p.requests_out.clone())) {
        None => Err(RequestFailure::Failed),
        Some((conn, count)) => {
            if count.fetch_add(1, Ordering::Relaxed) >= MAX_REQUESTS_OUT {
                count.fetch_sub(1, Ordering::Relaxed);
                Err(RequestFailure::Failed)
            } else {
                let _release = Release(count);
                let sent = || {
                    if let (Some(t), Some(sending)) = (net.tel(), sending) {
                        request_sent(t, peer, sending, &request);
                    }
                };
                match tokio::time::timeout(RESPONSE_DEADLINE, request_once(&net, &conn, &request, sent)).await
                {
                    Ok(result) => result,
                    Err(_) => Err(RequestFailure::TimedOut),
                }
            }
        }
    };
    if let (Some(t), Some(sending)) = (net.tel(), sending) {
        request_done(t, peer, sending, &request, &response);
    }
    net.inbox.control(Input::Response { peer, id, response });
}

/// The "sending … request" event of a request of ours.
fn sending_request(t: &Tel, peer: PeerId, request: &Request) -> Option<EventId> {
    Some(match request {
        Request::Blocks(r) => t.emit(T::SendingBlockRequest {
            peer,
            hash: r.hash,
            direction: direction(r.direction),
            max_blocks: r.max_blocks,
        }),
        Request::ShareBundle(share) => {
            let package = bundle_package(&share.bundle)?;
            let submission = t.submission(&orrery_crypto::blake2b_256(&package.encode()))?;
            t.emit(T::SharingWorkPackage { submission, secondary: peer });
            submission
        }
        Request::Shard(r) => t.emit(T::SendingShardRequest {
            guarantor: peer,
            erasure_root: r.erasure_root,
            shard: r.shard_index,
        }),
        Request::AuditShard(r) => t.emit_audit(r.erasure_root, |audit| T::SendingBundleShardRequest {
            audit,
            assurer: peer,
            shard: r.shard_index,
        }),
        Request::Preimage(hash) => t.emit(T::SendingPreimageRequest { recipient: peer, hash: *hash }),
        Request::Bundle(root) => {
            t.emit_audit(*root, |audit| T::SendingBundleRequest { audit, guarantor: peer })
        }
        // A guarantor fetching its package's imports: the node said which submission (through
        // the segments-root mapping) and which import each segment is.
        Request::SegmentShards(r) => {
            let first = r.items.first()?;
            let (submission, mut shards) =
                t.segment_fetch(&first.erasure_root, &first.segment_indices, first.shard_index)?;
            for item in &r.items[1..] {
                if let Some((_, more)) =
                    t.segment_fetch(&item.erasure_root, &item.segment_indices, item.shard_index)
                {
                    shards.extend(more);
                }
            }
            t.emit(T::SendingSegmentShardRequest { submission, assurer: peer, ce140: false, shards })
        }
        Request::State(_) | Request::Warp(_) => return None,
    })
}

/// The "… request sent" event (CE 134: "bundle sent"), once the request is written.
fn request_sent(t: &Tel, peer: PeerId, request: EventId, what: &Request) {
    match what {
        Request::Blocks(_) => t.emit(T::BlockRequestSent { request }),
        Request::ShareBundle(_) => t.emit(T::BundleSent { submission: request, secondary: peer }),
        Request::Shard(_) => t.emit(T::ShardRequestSent { request }),
        Request::AuditShard(_) => t.emit(T::BundleShardRequestSent { request }),
        Request::Preimage(_) => t.emit(T::PreimageRequestSent { request }),
        Request::Bundle(_) => t.emit(T::BundleRequestSent { request }),
        Request::SegmentShards(_) => t.emit(T::SegmentShardRequestSent { request }),
        Request::State(_) | Request::Warp(_) => 0,
    };
}

/// The events of a request's end: what came back, or why nothing did.
fn request_done(
    t: &Tel,
    peer: PeerId,
    request: EventId,
    what: &Request,
    response: &Result<Response, RequestFailure>,
) {
    let reason = match response {
        Err(RequestFailure::TimedOut) => "timed out".to_string(),
        Err(RequestFailure::Failed) => "failed, refused, or not connected".to_string(),
        Ok(_) => String::new(),
    };
    match (what, response) {
        (Request::Blocks(_), Ok(Response::Blocks(blocks))) => {
            for (i, block) in blocks.iter().enumerate() {
                t.emit(T::BlockTransferred {
                    request,
                    slot: block.header.slot,
                    outline: outline(block),
                    last: i + 1 == blocks.len(),
                });
            }
        }
        (Request::Blocks(_), _) => {
            t.emit(T::BlockRequestFailed { request, reason });
        }
        (Request::ShareBundle(_), Ok(_)) => {
            t.emit(T::WorkReportSignatureReceived { submission: request, secondary: peer });
        }
        (Request::ShareBundle(_), Err(_)) => {
            t.emit(T::WorkPackageSharingFailed { submission: request, secondary: peer, reason });
        }
        (Request::Shard(_), Ok(_)) => {
            t.emit(T::ShardsTransferred { request });
        }
        (Request::Shard(_), Err(_)) => {
            t.emit(T::ShardRequestFailed { request, reason });
        }
        (Request::AuditShard(_), Ok(_)) => {
            t.emit(T::BundleShardTransferred { request });
        }
        (Request::AuditShard(_), Err(_)) => {
            t.emit(T::BundleShardRequestFailed { request, reason });
        }
        (Request::Preimage(_), Ok(Response::Preimage(p))) => {
            t.emit(T::PreimageTransferred { request, length: u32::try_from(p.len()).unwrap_or(u32::MAX) });
        }
        (Request::Preimage(_), _) => {
            t.emit(T::PreimageRequestFailed { request, reason });
        }
        (Request::Bundle(_), Ok(_)) => {
            t.emit(T::BundleTransferred { request });
        }
        (Request::Bundle(_), Err(_)) => {
            t.emit(T::BundleRequestFailed { request, reason });
        }
        (Request::SegmentShards(_), Ok(_)) => {
            t.emit(T::SegmentShardsTransferred { request });
        }
        (Request::SegmentShards(_), Err(_)) => {
            t.emit(T::SegmentShardRequestFailed { request, reason });
        }
        (Request::State(_) | Request::Warp(_), _) => {}
    }
}

async fn request_once(
    net: &Net,
    conn: &Connection,
    request: &Request,
    sent: impl FnOnce(),
) -> Result<Response, RequestFailure> {
    let peer = *conn.peer_key();
    let (kind, messages) = match request {
        Request::Blocks(r) => (StreamKind::BLOCK_REQUEST, vec![r.encode()]),
        Request::State(r) => (StreamKind::STATE_REQUEST, vec![r.encode()]),
        Request::ShareBundle(share) => {
            (StreamKind::WORK_PACKAGE_SHARING, vec![share.encode_head(), share.encode_bundle()])
        }
        Request::Shard(r) => (StreamKind::SHARD_DISTRIBUTION, vec![r.encode()]),
        Request::AuditShard(r) => (StreamKind::AUDIT_SHARD_REQUEST, vec![r.encode()]),
        Request::Preimage(hash) => (StreamKind::PREIMAGE_REQUEST, vec![hash.to_vec()]),
        Request::Bundle(erasure_root) => (StreamKind::BUNDLE_REQUEST, vec![erasure_root.to_vec()]),
        Request::SegmentShards(r) => (StreamKind::SEGMENT_SHARD_REQUEST, vec![r.encode()]),
        Request::Warp(set_id) => (WARP, vec![set_id.to_le_bytes().to_vec()]),
    };
    let sizes = net.shard_sizes;
    let mut stream = conn.open_stream(kind).await.map_err(|_| RequestFailure::Failed)?;
    for message in &messages {
        stream.send(message).await.map_err(|_| RequestFailure::Failed)?;
    }
    stream.finish();
    sent();
    stream.set_timeout(RESPONSE_DEADLINE);
    let failed = |e: FrameError| match e {
        FrameError::TimedOut(_) => RequestFailure::TimedOut,
        _ => RequestFailure::Failed,
    };
    let judge = |what: &str, e: String| {
        conn.report_offence();
        net.misbehaved(peer, format!("{kind} response: {what}: {e}"));
        RequestFailure::Failed
    };
    match request {
        Request::Blocks(r) => {
            stream.set_cap(BLOCKS_CAP);
            let bytes = stream.recv().await.map_err(failed)?.ok_or(RequestFailure::Failed)?;
            decode_blocks(&bytes, net.lengths, r.max_blocks)
                .map(Response::Blocks)
                .map_err(|e| judge("blocks", e.to_string()))
        }
        Request::State(r) => {
            // Boundary nodes are at most 512 × 64 bytes; the pairs at most the requested size,
            // unless there is only one (which may be larger), so the transport's cap stands for that.
            stream.set_cap((orrery_network::message::MAX_BOUNDARY_NODES * 64) as u32);
            let nodes = stream.recv().await.map_err(failed)?.ok_or(RequestFailure::Failed)?;
            stream.set_cap(orrery_network::message::max_message_size(kind));
            let raw = stream.recv().await.map_err(failed)?.ok_or(RequestFailure::Failed)?;
            let boundary =
                decode_boundary_nodes(&nodes).map_err(|e| judge("boundary nodes", e.to_string()))?;
            let pairs = decode_key_values(&raw).map_err(|e| judge("key/values", e.to_string()))?;
            r.check_response(&pairs, nodes.len() + raw.len()).map_err(|e| judge("shape", e.to_string()))?;
            Ok(Response::State { boundary, pairs })
        }
        Request::ShareBundle(_) => {
            stream.set_cap(REPORT_SIGNATURE_SIZE as u32);
            let bytes = stream.recv().await.map_err(failed)?.ok_or(RequestFailure::Failed)?;
            ReportSignature::decode(&bytes)
                .map(Response::ReportSignature)
                .map_err(|e| judge("signature", e.to_string()))
        }
        Request::Shard(_) => {
            stream.set_cap(sizes.max_bundle_shard as u32);
            let bundle_shard = stream.recv().await.map_err(failed)?.ok_or(RequestFailure::Failed)?;
            stream.set_cap(sizes.max_segment_shards_size() as u32);
            let segment_shards = stream.recv().await.map_err(failed)?.ok_or(RequestFailure::Failed)?;
            stream.set_cap(MAX_JUSTIFICATION_SIZE as u32);
            let justification = stream.recv().await.map_err(failed)?.ok_or(RequestFailure::Failed)?;
            ShardResponse::decode(&bundle_shard, &segment_shards, &justification, sizes)
                .map(Response::Shard)
                .map_err(|e| judge("shards", e.to_string()))
        }
        Request::AuditShard(_) => {
            stream.set_cap(sizes.max_bundle_shard as u32);
            let bundle_shard = stream.recv().await.map_err(failed)?.ok_or(RequestFailure::Failed)?;
            stream.set_cap(MAX_JUSTIFICATION_SIZE as u32);
            let justification = stream.recv().await.map_err(failed)?.ok_or(RequestFailure::Failed)?;
            AuditShardResponse::decode(&bundle_shard, &justification, sizes)
                .map(Response::AuditShard)
                .map_err(|e| judge("audit shard", e.to_string()))
        }
        Request::Preimage(_) => {
            stream.set_cap(MAX_PREIMAGE_SIZE as u32);
            let bytes = stream.recv().await.map_err(failed)?.ok_or(RequestFailure::Failed)?;
            decode_preimage(&bytes).map(Response::Preimage).map_err(|e| judge("preimage", e.to_string()))
        }
        Request::Bundle(_) => {
            stream.set_cap(MAX_BUNDLE_SIZE as u32);
            let bytes = stream.recv().await.map_err(failed)?.ok_or(RequestFailure::Failed)?;
            Ok(Response::Bundle(bytes))
        }
        Request::SegmentShards(r) => {
            // Exactly the shards asked for: at most 2·W_M of them, each a segment shard.
            let count = r.shard_count();
            stream.set_cap(u32::try_from(count.saturating_mul(sizes.segment_shard)).unwrap_or(u32::MAX));
            let bytes = stream.recv().await.map_err(failed)?.ok_or(RequestFailure::Failed)?;
            decode_segment_shard_answer(&bytes, count, sizes)
                .map(Response::SegmentShards)
                .map_err(|e| judge("segment shards", e.to_string()))
        }
        Request::Warp(_) => {
            let bytes = stream.recv().await.map_err(failed)?.ok_or(RequestFailure::Failed)?;
            orrery_node::warp::WarpProof::from_bytes(&bytes, net.lengths)
                .map(|proof| Response::Warp(Box::new(proof)))
                .map_err(|e| judge("warp proof", e.to_string()))
        }
    }
}
