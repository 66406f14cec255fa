//! QUIC endpoints and connections (JAMNP-S "Encryption and handshake", "Protocols and streams").
//!
//! One [`Endpoint`] both dials and accepts. A [`Connection`] exists only after the TLS handshake has
//! authenticated the peer's Ed25519 key and agreed on one of our ALPN identifiers. Streams the peer opens
//! are screened in the background, each in its own task so one silent stream delays no other: the kind
//! byte must arrive within a timeout, the kind must be one we serve, and UP kinds must come from the
//! connection's initiator. A stream that fails is reset and stopped with an error code from [`code`] and
//! counted against the peer; past [`Limits::misbehaviour_limit`] offences the connection is closed.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use quinn::crypto::rustls::{HandshakeData, QuicClientConfig, QuicServerConfig};
use quinn::VarInt;
use rustls::pki_types::CertificateDer;
use tokio::sync::{mpsc, Mutex};
use tokio::task::JoinHandle;

use crate::alpn::Alpn;
use crate::frame::{self, FrameError};
use crate::identity::{certificate_peer_key, CertificateError, Identity, PeerKey};
use crate::kind::{KindSet, StreamKind};
use crate::message;
use crate::verify::{AcceptorVerifier, InitiatorVerifier};

/// QUIC application error codes used to reset streams and close connections. JAMNP-S defines none, so
/// these are Orrery's; peers of other implementations see only "reset" or "closed".
pub mod code {
    /// The stream kind is unknown or not served.
    pub const UNKNOWN_STREAM_KIND: u32 = 1;
    /// A message exceeded the stream kind's size cap.
    pub const MESSAGE_TOO_LARGE: u32 = 2;
    /// The kind byte or a message did not arrive in time.
    pub const TIMEOUT: u32 = 3;
    /// A message or the stream's shape is malformed.
    pub const MALFORMED: u32 = 4;
    /// Another stream of the same UP kind with a greater ID replaced this one.
    pub const DUPLICATE_UP_STREAM: u32 = 5;
    /// A UP stream opened by the connection's acceptor (UP streams belong to the initiator).
    pub const UP_FROM_ACCEPTOR: u32 = 6;
    /// The request was cancelled (by its initiator) or cannot be met (by its acceptor).
    pub const REFUSED: u32 = 7;
    /// Connection closed: the negotiated ALPN is not ours.
    pub const BAD_ALPN: u32 = 16;
    /// Connection closed: too many offences.
    pub const MISBEHAVIOUR: u32 = 17;
    /// Connection closed normally.
    pub const CLOSING: u32 = 18;
}

/// Bounds on what a peer can make us hold or wait for.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Bidirectional streams a peer may have open at once (QUIC stream credit).
    pub max_streams_per_peer: u32,
    /// Time an opened stream has to send its kind byte.
    pub kind_timeout: Duration,
    /// Time a message has to arrive in full once it has begun (CE: from the read call).
    pub message_timeout: Duration,
    /// Offences (refused streams, oversized, stalled or malformed messages) before we close.
    pub misbehaviour_limit: u32,
    /// Time for the QUIC/TLS handshake.
    pub handshake_timeout: Duration,
    /// A silent connection is dropped after this; keep-alives are sent at a third of it.
    pub idle_timeout: Duration,
    /// Bytes a peer may send on one stream ahead of our reading (QUIC stream flow control).
    pub stream_receive_window: u32,
    /// Bytes a peer may send on all streams together ahead of our reading. quinn's default is
    /// unlimited, which would let a peer park `streams × stream window` bytes in our buffers.
    pub connection_receive_window: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_streams_per_peer: 64,
            kind_timeout: Duration::from_secs(5),
            message_timeout: Duration::from_secs(10),
            misbehaviour_limit: 16,
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            stream_receive_window: 2 * 1024 * 1024,
            connection_receive_window: 16 * 1024 * 1024,
        }
    }
}

/// What an endpoint is: which chain (ALPN), which stream kinds it serves, and its limits.
#[derive(Debug, Clone)]
pub struct Config {
    pub alpn: Alpn,
    pub serves: KindSet,
    pub limits: Limits,
}

impl Config {
    /// The chain's ALPN, the kinds this crate has messages for, default limits.
    pub fn new(alpn: Alpn) -> Self {
        Self { alpn, serves: KindSet::block_and_ticket(), limits: Limits::default() }
    }
}

/// Why an endpoint or connection failed.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    #[error("cannot bind the QUIC endpoint: {0}")]
    Bind(std::io::Error),
    #[error("TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    #[error("the TLS provider lacks the QUIC initial cipher suite")]
    NoInitialCipherSuite,
    #[error("cannot start the connection: {0}")]
    Connect(#[from] quinn::ConnectError),
    #[error("connection failed: {0}")]
    Connection(#[from] quinn::ConnectionError),
    #[error("handshake did not complete within {0:?}")]
    HandshakeTimeout(Duration),
    #[error("peer presented no certificate")]
    NoPeerCertificate,
    #[error("peer certificate: {0}")]
    Certificate(#[from] CertificateError),
    #[error("peer negotiated no ALPN identifier of this chain")]
    Alpn,
    #[error("the endpoint is closed")]
    EndpointClosed,
    #[error("stream: {0}")]
    Frame(#[from] FrameError),
}

// rustls deprecates the ring provider for lacking post-quantum key exchange; the alternative, aws-lc-rs,
// needs cmake and clang to build, which the project does not require. Revisit when ring gains ML-KEM.
#[allow(deprecated)]
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn varint(code: u32) -> VarInt {
    VarInt::from_u32(code)
}

/// A QUIC endpoint bound to one UDP socket: it accepts connections and dials them.
#[derive(Debug)]
pub struct Endpoint {
    inner: quinn::Endpoint,
    identity: Identity,
    config: Arc<Config>,
    transport: Arc<quinn::TransportConfig>,
}

impl Endpoint {
    /// Binds to `addr` and starts accepting. Must run inside a tokio runtime.
    pub fn bind(identity: Identity, config: Config, addr: SocketAddr) -> Result<Self, NetworkError> {
        let limits = &config.limits;
        let mut transport = quinn::TransportConfig::default();
        transport
            .max_concurrent_bidi_streams(varint(limits.max_streams_per_peer))
            // JAMNP-S uses bidirectional streams only.
            .max_concurrent_uni_streams(VarInt::from_u32(0))
            .stream_receive_window(varint(limits.stream_receive_window))
            .receive_window(varint(limits.connection_receive_window))
            .keep_alive_interval(Some(limits.idle_timeout / 3))
            .max_idle_timeout(Some(
                VarInt::from_u64(limits.idle_timeout.as_millis() as u64).unwrap_or(VarInt::MAX).into(),
            ));
        let transport = Arc::new(transport);

        let mut tls = rustls::ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])?
            .with_client_cert_verifier(Arc::new(InitiatorVerifier))
            .with_single_cert(vec![identity.certificate().clone()], identity.private_key())?;
        // The acceptor always allows the builder identifier.
        tls.alpn_protocols = vec![config.alpn.plain().to_vec(), config.alpn.builder().to_vec()];
        let quic = QuicServerConfig::try_from(tls).map_err(|_| NetworkError::NoInitialCipherSuite)?;
        let mut server = quinn::ServerConfig::with_crypto(Arc::new(quic));
        server.transport_config(transport.clone());
        let inner = quinn::Endpoint::server(server, addr).map_err(NetworkError::Bind)?;
        Ok(Self { inner, identity, config: Arc::new(config), transport })
    }

    /// The bound address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// Our identity.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// Dials `addr` as a node. With `expected`, the peer must hold that key (a validator's on-chain
    /// key, a bootnode's name); without it any conforming certificate is accepted.
    pub async fn connect(
        &self,
        addr: SocketAddr,
        expected: Option<PeerKey>,
    ) -> Result<Connection, NetworkError> {
        self.dial(addr, expected, false).await
    }

    /// Dials `addr` as a work-package builder (`/builder` ALPN).
    pub async fn connect_as_builder(
        &self,
        addr: SocketAddr,
        expected: Option<PeerKey>,
    ) -> Result<Connection, NetworkError> {
        self.dial(addr, expected, true).await
    }

    async fn dial(
        &self,
        addr: SocketAddr,
        expected: Option<PeerKey>,
        builder: bool,
    ) -> Result<Connection, NetworkError> {
        let mut tls = rustls::ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptorVerifier { expected }))
            .with_client_auth_cert(vec![self.identity.certificate().clone()], self.identity.private_key())?;
        let alpn = if builder { self.config.alpn.builder() } else { self.config.alpn.plain() };
        tls.alpn_protocols = vec![alpn.to_vec()];
        let quic = QuicClientConfig::try_from(tls).map_err(|_| NetworkError::NoInitialCipherSuite)?;
        let mut client = quinn::ClientConfig::new(Arc::new(quic));
        client.transport_config(self.transport.clone());
        // JAMNP-S says nothing of SNI; the peer name of the key we expect is the natural choice.
        let server_name = match &expected {
            Some(key) => orrery_keys::peer_name(key),
            None => addr.ip().to_string(),
        };
        let connecting = self.inner.connect_with(client, addr, &server_name)?;
        let timeout = self.config.limits.handshake_timeout;
        let conn = tokio::time::timeout(timeout, connecting)
            .await
            .map_err(|_| NetworkError::HandshakeTimeout(timeout))??;
        Connection::establish(conn, self.config.clone(), true)
    }

    /// Waits for the next incoming connection and completes its handshake. An error concerns that one
    /// connection only; call again for the next.
    pub async fn accept(&self) -> Result<Connection, NetworkError> {
        let incoming = self.inner.accept().await.ok_or(NetworkError::EndpointClosed)?;
        let timeout = self.config.limits.handshake_timeout;
        let conn = tokio::time::timeout(timeout, incoming)
            .await
            .map_err(|_| NetworkError::HandshakeTimeout(timeout))??;
        Connection::establish(conn, self.config.clone(), false)
    }

    /// Closes every connection and stops accepting.
    pub fn close(&self) {
        self.inner.close(varint(code::CLOSING), b"endpoint closing");
    }

    /// Waits until closed connections have told their peers.
    pub async fn wait_idle(&self) {
        self.inner.wait_idle().await
    }
}

/// What every stream of one connection shares: the limits and the peer's offence count.
#[derive(Debug)]
struct Shared {
    conn: quinn::Connection,
    config: Arc<Config>,
    offences: AtomicU32,
}

impl Shared {
    /// Counts an offence; at the limit the connection is closed.
    fn offence(&self) {
        let count = self.offences.fetch_add(1, Ordering::Relaxed) + 1;
        if count >= self.config.limits.misbehaviour_limit {
            self.conn.close(varint(code::MISBEHAVIOUR), b"misbehaviour");
        }
    }
}

/// An authenticated connection to one peer.
#[derive(Debug)]
pub struct Connection {
    shared: Arc<Shared>,
    peer: PeerKey,
    builder: bool,
    initiator: bool,
    incoming: Mutex<mpsc::Receiver<Stream>>,
    screener: JoinHandle<()>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        // The screening task holds a handle on the QUIC connection; without it the connection closes
        // once the last stream is dropped.
        self.screener.abort();
    }
}

impl Connection {
    fn establish(
        conn: quinn::Connection,
        config: Arc<Config>,
        initiator: bool,
    ) -> Result<Self, NetworkError> {
        let certs = conn
            .peer_identity()
            .and_then(|any| any.downcast::<Vec<CertificateDer<'static>>>().ok())
            .ok_or(NetworkError::NoPeerCertificate)?;
        // The verifier already checked this certificate; reading the key again keeps one source of truth.
        let peer = certificate_peer_key(certs.first().ok_or(NetworkError::NoPeerCertificate)?)?;
        let protocol = conn
            .handshake_data()
            .and_then(|any| any.downcast::<HandshakeData>().ok())
            .and_then(|data| data.protocol);
        let Some(builder) = protocol.and_then(|p| config.alpn.classify(&p)) else {
            conn.close(varint(code::BAD_ALPN), b"alpn");
            return Err(NetworkError::Alpn);
        };
        let limits = &config.limits;
        let (tx, rx) = mpsc::channel(limits.max_streams_per_peer as usize);
        let shared = Arc::new(Shared { conn, config, offences: AtomicU32::new(0) });
        let screener = tokio::spawn(screen_streams(shared.clone(), tx, initiator));
        Ok(Self { shared, peer, builder, initiator, incoming: Mutex::new(rx), screener })
    }

    /// The peer's authenticated Ed25519 key.
    pub fn peer_key(&self) -> &PeerKey {
        &self.peer
    }

    /// The peer's name `N(k)`.
    pub fn peer_name(&self) -> String {
        orrery_keys::peer_name(&self.peer)
    }

    /// The peer's address.
    pub fn remote_address(&self) -> SocketAddr {
        self.shared.conn.remote_address()
    }

    /// Whether the connection was made with the `/builder` ALPN identifier.
    pub fn is_builder(&self) -> bool {
        self.builder
    }

    /// Whether we dialled (and so own the UP streams).
    pub fn is_initiator(&self) -> bool {
        self.initiator
    }

    /// Offences counted against the peer so far.
    pub fn offences(&self) -> u32 {
        self.shared.offences.load(Ordering::Relaxed)
    }

    /// Counts an offence found above this layer (say, a message that does not decode).
    pub fn report_offence(&self) {
        self.shared.offence()
    }

    /// Opens a stream of `kind` and sends the kind byte.
    pub async fn open_stream(&self, kind: StreamKind) -> Result<Stream, NetworkError> {
        let (mut send, recv) = self.shared.conn.open_bi().await?;
        send.write_all(&[kind.0]).await.map_err(|e| FrameError::Io(e.into()))?;
        Ok(Stream::new(kind, send, recv, self.shared.clone()))
    }

    /// The next stream the peer opened that passed screening. Fails once the connection is closed.
    pub async fn accept_stream(&self) -> Result<Stream, NetworkError> {
        let mut incoming = self.incoming.lock().await;
        match incoming.recv().await {
            Some(stream) => Ok(stream),
            None => Err(self.closed_reason()),
        }
    }

    fn closed_reason(&self) -> NetworkError {
        match self.shared.conn.close_reason() {
            Some(reason) => NetworkError::Connection(reason),
            None => NetworkError::Connection(quinn::ConnectionError::LocallyClosed),
        }
    }

    /// Closes the connection.
    pub fn close(&self) {
        self.shared.conn.close(varint(code::CLOSING), b"closing");
    }

    /// Whether the connection is closed (by either side).
    pub fn is_closed(&self) -> bool {
        self.shared.conn.close_reason().is_some()
    }

    /// Waits until the connection is closed, by either side, and says why.
    pub async fn closed(&self) -> quinn::ConnectionError {
        self.shared.conn.closed().await
    }
}

/// Accepts the peer's streams and screens each in its own task. The tasks are bounded by the QUIC
/// stream credit we grant ([`Limits::max_streams_per_peer`]).
async fn screen_streams(shared: Arc<Shared>, tx: mpsc::Sender<Stream>, initiator: bool) {
    while let Ok((send, recv)) = shared.conn.accept_bi().await {
        let shared = shared.clone();
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut recv = recv;
            let mut kind = [0u8; 1];
            let limits = &shared.config.limits;
            let refusal = match tokio::time::timeout(limits.kind_timeout, recv.read_exact(&mut kind)).await {
                Err(_) => Some(code::TIMEOUT),
                Ok(Err(_)) => Some(code::MALFORMED),
                Ok(Ok(())) => {
                    let kind = StreamKind(kind[0]);
                    if !shared.config.serves.contains(kind) {
                        Some(code::UNKNOWN_STREAM_KIND)
                    } else if kind.is_unique_persistent() && initiator {
                        Some(code::UP_FROM_ACCEPTOR)
                    } else {
                        None
                    }
                }
            };
            let mut stream = Stream::new(StreamKind(kind[0]), send, recv, shared.clone());
            match refusal {
                Some(reason) => {
                    stream.refuse(reason);
                    shared.offence();
                }
                None => {
                    // If nobody is accepting streams any more the stream is dropped, which resets it.
                    let _ = tx.send(stream).await;
                }
            }
        });
    }
}

/// One bidirectional stream of a known kind, with framing, the kind's size cap and deadlines. Read
/// failures that are the peer's fault (oversized, stalled, truncated) reset the stream and count an
/// offence.
#[derive(Debug)]
pub struct Stream {
    kind: StreamKind,
    send: quinn::SendStream,
    recv: quinn::RecvStream,
    cap: u32,
    timeout: Duration,
    shared: Arc<Shared>,
}

impl Stream {
    fn new(kind: StreamKind, send: quinn::SendStream, recv: quinn::RecvStream, shared: Arc<Shared>) -> Self {
        let timeout = shared.config.limits.message_timeout;
        Self { kind, send, recv, cap: message::max_message_size(kind), timeout, shared }
    }

    /// The stream kind.
    pub fn kind(&self) -> StreamKind {
        self.kind
    }

    /// The QUIC stream ID (what UP de-duplication compares).
    pub fn id(&self) -> u64 {
        self.send.id().into()
    }

    /// Lowers (or raises) the size cap for the messages still to come, e.g. to a request's own bound.
    pub fn set_cap(&mut self, cap: u32) {
        self.cap = cap;
    }

    /// Changes the message deadline for this stream, e.g. for a response the peer needs time to build.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// Sends one message.
    pub async fn send(&mut self, content: &[u8]) -> Result<(), FrameError> {
        frame::write_message(&mut self.send, content).await
    }

    /// Writes bytes as they are, unframed: for tests that play a misbehaving peer.
    #[doc(hidden)]
    pub async fn send_raw(&mut self, bytes: &[u8]) -> Result<(), FrameError> {
        self.send.write_all(bytes).await.map_err(|e| FrameError::Io(e.into()))
    }

    /// Receives one message, all of it within the message timeout (CE streams). `Ok(None)` is the
    /// peer's clean FIN.
    pub async fn recv(&mut self) -> Result<Option<Vec<u8>>, FrameError> {
        let result = frame::read_message(&mut self.recv, self.cap, self.timeout).await;
        self.judge(result)
    }

    /// Receives the next message of a persistent (UP) stream: no deadline until it begins.
    pub async fn recv_next(&mut self) -> Result<Option<Vec<u8>>, FrameError> {
        let result = frame::read_next_message(&mut self.recv, self.cap, self.timeout).await;
        self.judge(result)
    }

    fn judge(&mut self, result: Result<Option<Vec<u8>>, FrameError>) -> Result<Option<Vec<u8>>, FrameError> {
        let reason = match &result {
            Err(FrameError::TooLarge { .. }) => code::MESSAGE_TOO_LARGE,
            Err(FrameError::TimedOut(_)) => code::TIMEOUT,
            Err(FrameError::Truncated { .. }) => code::MALFORMED,
            _ => return result,
        };
        self.refuse(reason);
        self.shared.offence();
        result
    }

    /// Ends our half cleanly (FIN).
    pub fn finish(&mut self) {
        // Fails only if the half is already closed, which leaves nothing to do.
        let _ = self.send.finish();
    }

    /// Resets our half and stops the peer's: cancellation by the opener, rejection by the acceptor.
    pub fn refuse(&mut self, reason: u32) {
        let _ = self.send.reset(varint(reason));
        let _ = self.recv.stop(varint(reason));
    }

    /// Waits until the peer has received everything we sent, or reset/stopped the stream.
    pub async fn stopped(&mut self) -> Option<u32> {
        match self.send.stopped().await {
            Ok(Some(code)) => Some(code.into_inner() as u32),
            _ => None,
        }
    }

    /// Splits the stream into its halves, so that a persistent (UP) stream can be read in one task
    /// while another writes to it: a read cancelled midway would lose bytes.
    pub fn split(self) -> (SendHalf, RecvHalf) {
        let Self { kind, send, recv, cap, timeout, shared } = self;
        (SendHalf { kind, send }, RecvHalf { kind, recv, cap, timeout, shared })
    }
}

/// Our half of a split [`Stream`].
#[derive(Debug)]
pub struct SendHalf {
    kind: StreamKind,
    send: quinn::SendStream,
}

impl SendHalf {
    pub fn kind(&self) -> StreamKind {
        self.kind
    }

    /// Sends one message.
    pub async fn send(&mut self, content: &[u8]) -> Result<(), FrameError> {
        frame::write_message(&mut self.send, content).await
    }

    /// Ends our half cleanly (FIN).
    pub fn finish(&mut self) {
        let _ = self.send.finish();
    }

    /// Resets our half.
    pub fn reset(&mut self, reason: u32) {
        let _ = self.send.reset(varint(reason));
    }
}

/// The peer's half of a split [`Stream`], with the same caps, deadlines and offence counting.
#[derive(Debug)]
pub struct RecvHalf {
    kind: StreamKind,
    recv: quinn::RecvStream,
    cap: u32,
    timeout: Duration,
    shared: Arc<Shared>,
}

impl RecvHalf {
    pub fn kind(&self) -> StreamKind {
        self.kind
    }

    /// Receives the next message of a persistent stream (see [`Stream::recv_next`]).
    pub async fn recv_next(&mut self) -> Result<Option<Vec<u8>>, FrameError> {
        let result = frame::read_next_message(&mut self.recv, self.cap, self.timeout).await;
        let reason = match &result {
            Err(FrameError::TooLarge { .. }) => code::MESSAGE_TOO_LARGE,
            Err(FrameError::TimedOut(_)) => code::TIMEOUT,
            Err(FrameError::Truncated { .. }) => code::MALFORMED,
            _ => return result,
        };
        let _ = self.recv.stop(varint(reason));
        self.shared.offence();
        result
    }

    /// Stops the peer's half.
    pub fn stop(&mut self, reason: u32) {
        let _ = self.recv.stop(varint(reason));
    }
}
