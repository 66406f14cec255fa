//! The node process's driver: the sans-IO protocol core ([`orrery_node::Node`]) run over real QUIC
//! sockets ([`orrery_network`], JAMNP-S @3a81108) and the wall clock.
//!
//! The shape:
//! - One OS thread owns the [`Node`] ([`core`]). It takes [`Input`]s from one bounded channel, stamps
//!   each with the time in milliseconds since the JAM common era (GP 0.7.2 §4.4: 1200 UTC 1 January
//!   2025, UNIX 1 735 732 800), feeds [`Input::Tick`] at [`Node::next_wake`], logs the node's events
//!   and hands every other [`Output`] to the network side. Block import runs on that thread, so a slow
//!   import never stalls a socket; a validator's ticket proofs (`Output::MakeTickets`, once per epoch)
//!   run on a thread of their own and come back through the same channel.
//! - Tokio tasks own the [`orrery_network::Endpoint`] ([`net`]): they accept and dial connections,
//!   read and write streams, and turn each output into stream traffic: UP 0 (one persistent stream
//!   per peer, opened by the connection's initiator as soon as the connection is up) for the
//!   handshake and announcements; CE 128/129 for requests (a deadline and a size cap on the answer);
//!   CE 131/132 for tickets; CE 149/150 for GRANDPA votes and commits.
//! - The JIP-2 RPC (`orrery_rpc`: JSON-RPC 2.0 over WebSocket and HTTP POST) on
//!   [`DriverConfig::health`]'s port, with `GET /health` answered on the same port ([`health`]'s JSON,
//!   `{"best":{..},"finalized":{..},"peers":N,"syncing":B}`). The RPC reads state by queries the node
//!   thread runs between inputs (`orrery_rpc::backend`) and submits work packages and preimages as
//!   node inputs.
//! - [`state_sync`]: a fresh node's start from a peer's finalized state (CE 129), checked against the
//!   state root its child's header commits to.
//!
//! GRANDPA's messages use `orrery_grandpa::wire` (CE 149 vote, 150 commit, 151 neighbour state, 152
//! catch-up; the numbers jam-np PR #6 proposes, no GRANDPA stream is standard yet): one message per
//! stream, answered with a FIN.
//!
//! Bounds: the channel into the node thread holds [`INBOX_CAPACITY`] inputs; when it is full,
//! announcements, votes and tickets from peers are dropped and incoming requests refused (a peer's
//! flood never blocks a socket task); connection events, responses to our own requests and our own
//! tickets wait for room (there are at most peers × [`MAX_REQUESTS_OUT`] of them). Per peer: [`MAX_REQUESTS_OUT`]
//! requests of ours in flight, [`MAX_REQUESTS_IN`] of theirs being answered, [`UP_QUEUE`] UP 0
//! messages queued, [`MAX_ONE_WAY`] one-way streams being sent. Messages that do not decode,
//! frames above a kind's cap, unknown stream kinds and stalled streams are reported to the node as
//! [`Input::Misbehaved`] (and counted by the transport, which closes the connection past its limit).
//!
//! Connections: one per peer. When two exist (both sides dialled), both ends keep the one dialled by
//! the preferred initiator (`orrery_network::policy::preferred_initiator`), so they agree. A peer
//! that dials us against the preference (its fallback dial) has evidently lost our connection: we
//! refuse its connection and dial it ourselves at once, replacing a connection that may be stale.
//! We dial the peers the node wants (and the bootnodes) we are the preferred initiator for, and the
//! others once [`orrery_network::policy::FALLBACK_DIAL_DELAY`] has passed without a connection.
//! Connections the node no longer wants are kept (the node may disconnect them).
//!
//! Connection slots ([`net::PeerSlots`]): the validators the node wants (previous, current and next
//! epoch's, and the bootnodes) are always admitted; builders (the `/builder` ALPN) have 20 slots of
//! their own and lose theirs after 60 s without a well-formed CE 133 submission; every other node
//! shares 64. A connection past its class's slots is closed as soon as it is made.
//!
//! JIP-3 telemetry ([`DriverConfig::telemetry`], `orrery_telemetry`) reports the node thread's
//! events, the network tasks' connections and streams, and a status every two seconds (the
//! `telemetry` module lists which events).
//!
//! CE 153 (warp sync, `orrery_node::warp`) is answered by the node from its store; a fresh node's
//! side is [`state_sync`].

pub mod core;
pub mod health;
pub mod metrics;
pub mod net;
pub mod state_sync;
mod telemetry;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use orrery_network::{Alpn, Identity};
use orrery_node::{Input, Millis, Node, PeerId};
use orrery_types::ChainSpec;

pub use health::Health;

/// Inputs waiting for the node thread.
pub const INBOX_CAPACITY: usize = 4096;
/// Requests of ours in flight to one peer.
pub const MAX_REQUESTS_OUT: usize = 8;
/// Requests of a peer being answered at once.
pub const MAX_REQUESTS_IN: usize = 16;
/// UP 0 messages queued for one peer.
pub const UP_QUEUE: usize = 256;
/// One-way streams (tickets, votes, commits) being sent to one peer at once.
pub const MAX_ONE_WAY: usize = 64;
/// Time a peer has to answer one of our requests in full.
pub const RESPONSE_DEADLINE: Duration = Duration::from_secs(20);
/// Time the node has to answer a peer's request.
pub const ANSWER_DEADLINE: Duration = Duration::from_secs(10);
/// How long a peer the node disconnected is refused.
pub const REFUSE_FOR: Duration = Duration::from_secs(60);

/// Now, in milliseconds since the JAM common era.
pub fn now_ms() -> Millis {
    let unix = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    (unix.as_millis() as u64).saturating_sub(orrery_types::constants::JAM_COMMON_ERA_UNIX_SECONDS * 1000)
}

/// How to run the driver.
#[derive(Debug)]
pub struct DriverConfig {
    pub spec: ChainSpec,
    /// Our certificate (a validator's key, or a fresh one for a node that follows).
    pub identity: Identity,
    /// The chain's ALPN (from its genesis header hash).
    pub alpn: Alpn,
    pub listen: SocketAddr,
    /// Where the JIP-2 RPC and `GET /health` are served (`--rpc-port`); `None` for neither.
    pub health: Option<SocketAddr>,
    /// The RPC's limits.
    pub rpc: orrery_rpc::RpcConfig,
    /// Peers dialled from the start and kept dialled.
    pub bootnodes: Vec<(PeerId, SocketAddr)>,
    /// The length of a slot on the wall clock (for the latency figures in the logs).
    pub slot_ms: Millis,
    /// Time between status lines.
    pub status_every: Duration,
    /// A JIP-3 telemetry client, already started (it connects in the background).
    pub telemetry: Option<orrery_telemetry::Telemetry>,
    /// Where Prometheus metrics are served (`GET /metrics`, [`metrics`]); `None` for nowhere.
    pub metrics: Option<SocketAddr>,
}

/// Why the driver could not run.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    #[error("QUIC endpoint on {addr}: {source}")]
    Endpoint { addr: SocketAddr, source: orrery_network::NetworkError },
    #[error("RPC and health endpoint: {0}")]
    Rpc(#[from] orrery_rpc::RpcError),
    #[error("metrics endpoint on {addr}: {source}")]
    Metrics { addr: SocketAddr, source: std::io::Error },
    #[error("the node thread: {0}")]
    Thread(std::io::Error),
    #[error("the node thread panicked")]
    Panicked,
}

/// Runs `node` over QUIC until `shutdown` completes, then closes the connections and stops the node
/// thread (dropping the node closes its store). Must run inside a multi-threaded tokio runtime.
pub async fn run(
    node: Node,
    config: DriverConfig,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), DriverError> {
    let health = Arc::new(Mutex::new(Health::of(&node.status())));
    let endpoint =
        orrery_network::Endpoint::bind(config.identity, net::endpoint_config(config.alpn), config.listen)
            .map_err(|source| DriverError::Endpoint { addr: config.listen, source })?;
    // Bound before the RPC starts, so a taken port stops the node before anything runs.
    let mut metrics = metrics::Metrics::default();
    let metrics_listener = match config.metrics {
        Some(addr) => {
            Some(metrics::bind(addr).await.map_err(|source| DriverError::Metrics { addr, source })?)
        }
        None => None,
    };
    let metrics_at = metrics_listener.as_ref().and_then(|l| l.local_addr().ok());
    let (inbox, inputs) = std::sync::mpsc::sync_channel::<Input>(INBOX_CAPACITY);
    // A client reads the slot period from `parameters()` to place blocks in time: it is told the
    // period this node's clock runs at (a dev testnet's `--slot-seconds`), not the spec's 6 s.
    let mut rpc_spec = config.spec.clone();
    rpc_spec.slot_duration = u32::try_from(config.slot_ms.div_ceil(1000)).unwrap_or(u32::MAX).max(1);
    let (rpc_link, rpc_side) = orrery_rpc::link(rpc_spec, inbox.clone(), &node.status());
    let rpc = match config.health {
        Some(addr) => {
            let h = health.clone();
            let json: orrery_rpc::health::HealthFn =
                Arc::new(move || h.lock().map(|h| h.to_json()).unwrap_or_else(|_| "{}".into()));
            Some(orrery_rpc::start(addr, Arc::new(rpc_link), config.rpc, Some(json)).await?)
        }
        None => None,
    };
    if let Some(rpc) = &rpc {
        metrics.rpc_connections = rpc.ws_connections.clone();
    }
    let metrics = Arc::new(metrics);
    let (outputs_tx, outputs) = tokio::sync::mpsc::channel(INBOX_CAPACITY);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let tel =
        config.telemetry.map(|client| Arc::new(telemetry::Tel::new(client, *endpoint.identity().key())));
    let thread = core::spawn(
        node,
        (inbox.clone(), inputs),
        outputs_tx,
        health.clone(),
        rpc_side,
        stop.clone(),
        config.slot_ms,
        tel.clone(),
        metrics.clone(),
    )?;

    let net = net::Net::new(endpoint, &config.spec, net::Inbox::with_counter(inbox, metrics.inbox.clone()));
    if let Some(tel) = tel {
        net.set_telemetry(tel);
    }
    for (peer, addr) in &config.bootnodes {
        net.want(*peer, *addr, true);
    }
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(net::accept_loop(net.clone()));
    tasks.spawn(net::maintain(net.clone()));
    // The dispatcher ends when the node thread does: only at shutdown, or if it panicked.
    let node_gone = Arc::new(tokio::sync::Notify::new());
    let notify = node_gone.clone();
    let dispatch = net::dispatch(net.clone(), outputs);
    tasks.spawn(async move {
        dispatch.await;
        notify.notify_one();
    });
    tasks.spawn(status_lines(health.clone(), config.status_every));
    if let Some(listener) = metrics_listener {
        tasks.spawn(metrics::serve(listener, metrics.clone()));
    }
    tracing::info!(
        listen = %net.local_addr(),
        name = %net.identity().peer_name(),
        rpc = ?rpc.as_ref().map(|r| r.local_addr),
        metrics = ?metrics_at,
        "node started"
    );

    let node_died = tokio::select! {
        _ = shutdown => false,
        _ = node_gone.notified() => true,
    };
    if node_died {
        tracing::error!("the node thread stopped; shutting down");
    } else {
        tracing::info!("shutting down");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    if let Some(rpc) = &rpc {
        let _ = rpc.handle.stop();
    }
    net.close();
    tasks.abort_all();
    let joined = tokio::task::spawn_blocking(move || thread.join()).await;
    let _ = tokio::time::timeout(Duration::from_secs(2), net.wait_idle()).await;
    match joined {
        Ok(Ok(())) if !node_died => Ok(()),
        _ => Err(DriverError::Panicked),
    }
}

async fn status_lines(health: Arc<Mutex<Health>>, every: Duration) {
    let mut interval = tokio::time::interval(every);
    interval.tick().await;
    loop {
        interval.tick().await;
        let h = health.lock().map(|h| h.clone()).unwrap_or_default();
        tracing::info!(
            peers = h.peers,
            best = %format_args!("#{} {}", h.best.1, short(&h.best.0)),
            finalized = %format_args!("#{} {}", h.finalized.1, short(&h.finalized.0)),
            syncing = h.syncing,
            "status"
        );
    }
}

/// The first 4 bytes of a hash in hex, for log lines.
pub fn short(hash: &[u8; 32]) -> String {
    hash[..4].iter().map(|b| format!("{b:02x}")).collect()
}
