//! The JAMNP-S transport (JAM Simple Networking Protocol, zdave-parity/jam-np `simple.md` @3a81108): the
//! layer the node's sync, announcement and finality logic will stand on.
//!
//! What is here:
//! - [`identity`]: our self-signed X.509 certificate over the validator's Ed25519 key (rcgen), whose one
//!   DNS alternative name is the peer name `N(k)` from `orrery-keys`, valid until 9999; and the check every
//!   received certificate must pass (Ed25519 key and signature algorithm, exactly one SAN, equal to the
//!   key's own peer name).
//! - [`verify`]: rustls verifiers for both sides. Client certificates are mandatory. There are no CAs:
//!   the TLS 1.3 CertificateVerify signature, checked with the certificate's own key (ring, Ed25519
//!   only), proves the peer holds the key. A dialler may pin the key it expects.
//! - [`Endpoint`] / [`Connection`] (quinn 0.11, TLS 1.3 only, ring): ALPN `jamnp-s/0/H`; the acceptor also
//!   allows `/builder` and reports it ([`Connection::is_builder`]); any other identifier fails the
//!   handshake. The authenticated key is [`Connection::peer_key`].
//! - Streams ([`Stream`]): the opener's kind byte; kinds the endpoint does not serve, a kind byte that
//!   does not come, and UP streams from the connection's acceptor are reset/stopped with an error code
//!   ([`endpoint::code`]) and counted against the peer; past a limit the connection is closed.
//! - [`frame`]: u32 LE length + content, the length checked against the stream kind's cap before anything
//!   is buffered, content read in 16 KiB chunks, every message under a deadline (slowloris).
//! - [`up`]: UP de-duplication (keep the greatest stream ID, reset the rest).
//! - [`policy`]: pure functions: preferred initiator `P(a, b)`, the grid, the epoch-change rule, ticket
//!   proxy and timing, the endpoint in validator metadata.
//! - [`message`]: UP 0, CE 128, CE 129, CE 131/132 messages in the GP codec with bounded decoders (fuzz
//!   targets `decode_network_message` in `fuzz/`); [`message::work`]: the work-package streams CE 133
//!   (submission), 134 (sharing), 135 (guaranteed reports), 137 (shards), 141 (assurances), 142/143
//!   (preimages), message by message, with caps on every size and count (fuzz targets
//!   `decode_work_submission`, `decode_guarantee`, `decode_work_message`).
//!
//! What is not here: deciding whom to connect to and when (the node applies [`policy`]), serving or
//! checking blocks and state (CE 129 boundary nodes are not checked against a state root here), hashes
//! and signatures in the work-package messages, the kinds CE 136, 138, 140, 146 and 148 (CE 139's
//! segment-shard request is in [`message::work`]), GRANDPA streams, reserved builder slots and
//! connection caps per peer class (the node's driver, `orrery-node-quic`, keeps those), and telemetry.
//!
//! Design notes:
//! - Choices the spec leaves open: the SNI is the expected peer's `N(k)` when dialling a known key (the
//!   IP otherwise); the order `a < b` in `P(a, b)` is bytewise lexicographic (see
//!   [`policy::preferred_initiator`]); IPv4 endpoints are IPv4-mapped IPv6 in metadata; certificate
//!   expiry and the self-signature are not checked (the spec: "need not be verified"); QUIC error codes
//!   are Orrery's own ([`endpoint::code`]).
//! - Streams the peer opens are screened each in its own task, so a stream that never sends its kind
//!   byte holds up no other; the number of such tasks is bounded by the QUIC stream credit
//!   ([`Limits::max_streams_per_peer`]), and unidirectional streams get no credit at all.
//! - Memory per peer is bounded by QUIC flow control (a 2 MiB stream and 16 MiB connection receive
//!   window by default, [`Limits`]) plus, per stream being read,
//!   the kind's message cap ([`message::max_message_size`]), which a caller lowers for a request whose
//!   answer it can bound ([`Stream::set_cap`]).
//! - A [`Connection`] owns a background task; dropping it aborts the task, so the QUIC connection closes
//!   when the last [`Stream`] is gone.
//! - Crypto is ring throughout (rustls `ring`, quinn `rustls-ring`, rcgen `ring`); aws-lc-rs is not built.

pub mod alpn;
pub mod endpoint;
pub mod frame;
pub mod identity;
pub mod kind;
pub mod message;
pub mod policy;
pub mod up;
mod verify;

pub use alpn::Alpn;
pub use endpoint::{Config, Connection, Endpoint, Limits, NetworkError, RecvHalf, SendHalf, Stream};
pub use frame::FrameError;
pub use identity::{certificate_peer_key, CertificateError, Identity, PeerKey};
pub use kind::{KindSet, StreamKind};
