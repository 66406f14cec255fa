//! The JIP-3 messages and their encodings.

use std::net::SocketAddr;

use orrery_codec::{Compact, Encode};

/// Microseconds since the JAM Common Era.
pub type Timestamp = u64;
/// An event's position in the connection's sequence (JIP-3 "Event IDs").
pub type EventId = u64;

/// The first message of a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    /// The `fetch` host call's constants blob (selector 0) for the chain's spec.
    pub parameters: Vec<u8>,
    pub genesis: [u8; 32],
    /// The node's Ed25519 key.
    pub peer_id: [u8; 32],
    /// Where the node listens for JAMNP-S.
    pub address: SocketAddr,
    /// Bit 0: the node runs the PVM recompiler.
    pub recompiler: bool,
    pub name: String,
    pub version: String,
    pub gp_version: String,
    pub note: String,
}

/// Which end of a connection or stream acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionSide {
    Local = 0,
    Remote = 1,
}

/// A block's shape (JIP-3 "Block Outline").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BlockOutline {
    pub size: u32,
    pub hash: [u8; 32],
    pub tickets: u32,
    pub preimages: u32,
    pub preimages_size: u32,
    pub guarantees: u32,
    pub assurances: u32,
    pub dispute_verdicts: u32,
}

/// The events Orrery emits, with their JIP-3 discriminators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// 0: `count` events that could not be sent; `last` is the time of the last of them.
    Dropped { last: Timestamp, count: u64 },
    /// 10: a summary, about every two seconds. `guarantees_by_core` has one entry per core.
    Status {
        peers: u32,
        validator_peers: u32,
        announcement_streams: u32,
        guarantees_by_core: Vec<u8>,
        shards: u32,
        shards_size: u64,
        preimages: u32,
        preimages_size: u32,
    },
    /// 11.
    BestBlockChanged { slot: u32, hash: [u8; 32] },
    /// 12.
    FinalizedBlockChanged { slot: u32, hash: [u8; 32] },
    /// 13.
    SyncStatusChanged { synced: bool },
    /// 20.
    ConnectionRefused { address: SocketAddr },
    /// 21.
    ConnectingIn { address: SocketAddr },
    /// 22.
    ConnectInFailed { connecting: EventId, reason: String },
    /// 23.
    ConnectedIn { connecting: EventId, peer: [u8; 32] },
    /// 24.
    ConnectingOut { peer: [u8; 32], address: SocketAddr },
    /// 25.
    ConnectOutFailed { connecting: EventId, reason: String },
    /// 26.
    ConnectedOut { connecting: EventId },
    /// 27.
    Disconnected { peer: [u8; 32], terminator: Option<ConnectionSide>, reason: String },
    /// 28.
    PeerMisbehaved { peer: [u8; 32], reason: String },
    /// 40.
    Authoring { slot: u32, parent: [u8; 32] },
    /// 41.
    AuthoringFailed { authoring: EventId, reason: String },
    /// 42.
    Authored { authoring: EventId, outline: BlockOutline },
    /// 43.
    Importing { slot: u32, outline: BlockOutline },
    /// 44.
    BlockVerificationFailed { importing: EventId, reason: String },
    /// 45.
    BlockVerified { importing: EventId },
    /// 46.
    BlockExecutionFailed { started: EventId, reason: String },
    /// 47: the accumulated services' costs are not reported yet (an empty list).
    BlockExecuted { started: EventId },
    /// 62.
    BlockAnnounced { peer: [u8; 32], announcer: ConnectionSide, slot: u32, hash: [u8; 32] },
}

/// `String<N>`: the length (general natural encoding) and the UTF-8, cut to at most `max` octets
/// at a character boundary.
fn string(out: &mut Vec<u8>, text: &str, max: usize) {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Compact(end as u64).encode_to(out);
    out.extend_from_slice(&text.as_bytes()[..end]);
}

/// `Reason = String<128>`.
fn reason(out: &mut Vec<u8>, text: &str) {
    string(out, text, 128);
}

/// `Peer Address = [u8; 16] ++ u16`: IPv4 as IPv4-mapped IPv6, the port little-endian.
fn address(out: &mut Vec<u8>, addr: &SocketAddr) {
    let ip = match addr {
        SocketAddr::V4(v4) => v4.ip().to_ipv6_mapped(),
        SocketAddr::V6(v6) => *v6.ip(),
    };
    out.extend_from_slice(&ip.octets());
    addr.port().encode_to(out);
}

fn outline(out: &mut Vec<u8>, o: &BlockOutline) {
    o.size.encode_to(out);
    out.extend_from_slice(&o.hash);
    for n in [o.tickets, o.preimages, o.preimages_size, o.guarantees, o.assurances, o.dispute_verdicts] {
        n.encode_to(out);
    }
}

impl NodeInfo {
    /// The message content (without its frame length).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![0u8];
        out.extend_from_slice(&self.parameters);
        out.extend_from_slice(&self.genesis);
        out.extend_from_slice(&self.peer_id);
        address(&mut out, &self.address);
        u32::from(self.recompiler).encode_to(&mut out);
        string(&mut out, &self.name, 32);
        string(&mut out, &self.version, 32);
        string(&mut out, &self.gp_version, 16);
        string(&mut out, &self.note, 512);
        out
    }
}

impl Event {
    /// The JIP-3 discriminator.
    pub fn discriminator(&self) -> u8 {
        match self {
            Event::Dropped { .. } => 0,
            Event::Status { .. } => 10,
            Event::BestBlockChanged { .. } => 11,
            Event::FinalizedBlockChanged { .. } => 12,
            Event::SyncStatusChanged { .. } => 13,
            Event::ConnectionRefused { .. } => 20,
            Event::ConnectingIn { .. } => 21,
            Event::ConnectInFailed { .. } => 22,
            Event::ConnectedIn { .. } => 23,
            Event::ConnectingOut { .. } => 24,
            Event::ConnectOutFailed { .. } => 25,
            Event::ConnectedOut { .. } => 26,
            Event::Disconnected { .. } => 27,
            Event::PeerMisbehaved { .. } => 28,
            Event::Authoring { .. } => 40,
            Event::AuthoringFailed { .. } => 41,
            Event::Authored { .. } => 42,
            Event::Importing { .. } => 43,
            Event::BlockVerificationFailed { .. } => 44,
            Event::BlockVerified { .. } => 45,
            Event::BlockExecutionFailed { .. } => 46,
            Event::BlockExecuted { .. } => 47,
            Event::BlockAnnounced { .. } => 62,
        }
    }

    /// The message content at time `at`: `Timestamp ++ discriminator ++ fields`.
    pub fn encode(&self, at: Timestamp) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        at.encode_to(&mut out);
        out.push(self.discriminator());
        let o = &mut out;
        match self {
            Event::Dropped { last, count } => {
                last.encode_to(o);
                count.encode_to(o);
            }
            Event::Status {
                peers,
                validator_peers,
                announcement_streams,
                guarantees_by_core,
                shards,
                shards_size,
                preimages,
                preimages_size,
            } => {
                peers.encode_to(o);
                validator_peers.encode_to(o);
                announcement_streams.encode_to(o);
                o.extend_from_slice(guarantees_by_core);
                shards.encode_to(o);
                shards_size.encode_to(o);
                preimages.encode_to(o);
                preimages_size.encode_to(o);
            }
            Event::BestBlockChanged { slot, hash } | Event::FinalizedBlockChanged { slot, hash } => {
                slot.encode_to(o);
                o.extend_from_slice(hash);
            }
            Event::SyncStatusChanged { synced } => o.push(u8::from(*synced)),
            Event::ConnectionRefused { address: a } | Event::ConnectingIn { address: a } => address(o, a),
            Event::ConnectInFailed { connecting: id, reason: r }
            | Event::ConnectOutFailed { connecting: id, reason: r }
            | Event::AuthoringFailed { authoring: id, reason: r }
            | Event::BlockVerificationFailed { importing: id, reason: r }
            | Event::BlockExecutionFailed { started: id, reason: r } => {
                id.encode_to(o);
                reason(o, r);
            }
            Event::ConnectedIn { connecting, peer } => {
                connecting.encode_to(o);
                o.extend_from_slice(peer);
            }
            Event::ConnectingOut { peer, address: a } => {
                o.extend_from_slice(peer);
                address(o, a);
            }
            Event::ConnectedOut { connecting: id } | Event::BlockVerified { importing: id } => {
                id.encode_to(o)
            }
            Event::Disconnected { peer, terminator, reason: r } => {
                o.extend_from_slice(peer);
                match terminator {
                    None => o.push(0),
                    Some(side) => o.extend_from_slice(&[1, *side as u8]),
                }
                reason(o, r);
            }
            Event::PeerMisbehaved { peer, reason: r } => {
                o.extend_from_slice(peer);
                reason(o, r);
            }
            Event::Authoring { slot, parent } => {
                slot.encode_to(o);
                o.extend_from_slice(parent);
            }
            Event::Authored { authoring, outline: b } => {
                authoring.encode_to(o);
                outline(o, b);
            }
            Event::Importing { slot, outline: b } => {
                slot.encode_to(o);
                outline(o, b);
            }
            Event::BlockExecuted { started } => {
                started.encode_to(o);
                Compact(0u64).encode_to(o);
            }
            Event::BlockAnnounced { peer, announcer, slot, hash } => {
                o.extend_from_slice(peer);
                o.push(*announcer as u8);
                slot.encode_to(o);
                o.extend_from_slice(hash);
            }
        }
        out
    }
}

/// A JAMNP-S frame: `u32` little-endian length, then `content`.
pub fn encode_frame(content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + content.len());
    out.extend_from_slice(&(content.len() as u32).to_le_bytes());
    out.extend_from_slice(content);
    out
}
