//! What goes into the node and what comes out: the contract between the protocol core, the
//! simulator and the QUIC driver. Messages are the JAMNP-S ones (`orrery_network::message`) and
//! GRANDPA's (`orrery_grandpa::Message`), already decoded: the driver decodes with the caps of
//! `orrery_network` and reports a peer whose bytes do not decode as [`Input::Misbehaved`].

use orrery_network::message::{
    Announcement, BlockRequest, BoundaryNode, Handshake, KeyValue, StateRequest, TicketMessage,
};
use orrery_types::Block;

/// A peer, by the Ed25519 key its certificate proved.
pub type PeerId = [u8; 32];

/// Milliseconds since the JAM common era (1200 UTC, 1 January 2025; GP 0.7.2 §4.4). Slot `s` starts
/// at `s × slot_ms`.
pub type Millis = u64;

/// A request the node made, named by the node so it can match the response.
pub type RequestId = u64;

/// One-way messages: UP 0's handshake and announcements, CE 131/132 tickets, GRANDPA's votes and
/// commits (CE 149/150). The driver carries each on its stream kind.
// The variants are moved once per delivery; boxing the large ones would change the contract the
// simulator and the driver code against for no measurable gain.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Handshake(Handshake),
    Announcement(Announcement),
    /// CE 131 (to the proxy validator) when `to_proxy`, CE 132 (proxy to all) otherwise.
    Ticket {
        to_proxy: bool,
        ticket: TicketMessage,
    },
    Grandpa(orrery_grandpa::Message),
}

/// Requests that expect a response (CE 128, CE 129).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Blocks(BlockRequest),
    State(StateRequest),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    Blocks(Vec<Block>),
    State { boundary: Vec<BoundaryNode>, pairs: Vec<KeyValue> },
}

/// Why a request got no response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestFailure {
    /// The peer closed the stream, sent something that does not decode, or is gone.
    Failed,
    /// No response within the driver's deadline.
    TimedOut,
}

// The variants are moved once per delivery; boxing the large ones would change the contract the
// simulator and the driver code against for no measurable gain.
#[allow(clippy::large_enum_variant)]
/// Everything that happens to the node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Time passed.
    Tick,
    /// A connection is up and authenticated (`builder`: it used the `/builder` ALPN).
    PeerConnected {
        peer: PeerId,
        builder: bool,
    },
    PeerDisconnected {
        peer: PeerId,
    },
    Message {
        peer: PeerId,
        message: Message,
    },
    Request {
        peer: PeerId,
        id: RequestId,
        request: Request,
    },
    Response {
        peer: PeerId,
        id: RequestId,
        response: Result<Response, RequestFailure>,
    },
    /// The driver caught the peer breaking the wire rules (undecodable bytes, oversized frame,
    /// unknown stream kind, a stalled stream); the node counts it against the peer.
    Misbehaved {
        peer: PeerId,
        what: String,
    },
}

// The variants are moved once per delivery; boxing the large ones would change the contract the
// simulator and the driver code against for no measurable gain.
#[allow(clippy::large_enum_variant)]
/// Everything the node asks its driver to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    Send {
        peer: PeerId,
        message: Message,
    },
    Request {
        peer: PeerId,
        id: RequestId,
        request: Request,
    },
    /// Answer request `id` of `peer`.
    Respond {
        peer: PeerId,
        id: RequestId,
        response: Response,
    },
    /// Close the connection and refuse the peer for a while.
    Disconnect {
        peer: PeerId,
        reason: String,
    },
    /// The validators the node should be connected to now (previous, current and next epochs),
    /// with the endpoints from their metadata; the driver dials those it is the preferred
    /// initiator for (`orrery_network::policy`) and drops connections no longer wanted.
    WantPeers(Vec<(PeerId, std::net::SocketAddr)>),
    /// Something worth a log line, a status figure or a telemetry event.
    Event(Event),
}

/// What the node did, for logs, status lines, telemetry and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Authored {
        hash: [u8; 32],
        slot: u32,
    },
    Imported {
        hash: [u8; 32],
        slot: u32,
        best: bool,
    },
    Finalized {
        hash: [u8; 32],
        slot: u32,
    },
    /// A block failed import; `reason` names the rule.
    Rejected {
        hash: [u8; 32],
        reason: String,
    },
    /// Two blocks sealed by the same author for the same slot.
    Equivocation {
        slot: u32,
        author: u16,
    },
}
