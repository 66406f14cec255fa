//! The JIP-3 messages: the node information, and every event kind the JIP defines (discriminators
//! 0 to 199), each written as `Timestamp ++ discriminator ++ fields` and read back by [`decode_event`].
//!
//! Every event is declared once, in the JIP's field order; the macro writes its encoding, its
//! decoding, and its display from that one list, so the three cannot disagree.

use std::fmt::Write as _;
use std::net::SocketAddr;

use orrery_codec::{Decoder, Error, Lengths};

use crate::wire::{get_string, put_string, Field};
pub use crate::wire::{
    AccumulateCost, BlockOutline, ConnectionSide, CoreBits, Direction, ExecCost, GuaranteeDiscardReason,
    GuaranteeOutline, ImportSpec, IsAuthorizedCost, PerCore, PreimageDiscardReason, PreimageForgetReason,
    RefineCost, WorkItemOutline, WorkPackageOutline, WorkReportOutline,
};

/// Microseconds since the JAM Common Era.
pub type Timestamp = u64;
/// An event's position in the connection's sequence (JIP-3 "Event IDs").
pub type EventId = u64;
/// An Ed25519 public key.
pub type PeerId = [u8; 32];
pub type Hash = [u8; 32];

/// The length of `JAM Parameters` in GP 0.7.2 (`fetch` selector 0: 33 constants).
pub const PARAMETERS_LEN: usize = 134;

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

/// Why a message is not JIP-3 as Orrery reads it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("node information: telemetry protocol version {0}, only 0 is defined")]
    Version(u8),
    #[error("node information: node flags {0:#x} set bits other than bit 0 (JIP-3 says they are 0)")]
    Flags(u32),
    #[error("event discriminator {0} is not one JIP-3 defines")]
    UnknownEvent(u8),
    #[error("{what}: {source}")]
    Codec { what: &'static str, source: Error },
}

impl NodeInfo {
    /// The message content (without its frame length).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![0u8];
        out.extend_from_slice(&self.parameters);
        self.genesis.put(&mut out);
        self.peer_id.put(&mut out);
        self.address.put(&mut out);
        u32::from(self.recompiler).put(&mut out);
        put_string(&mut out, &self.name, 32);
        put_string(&mut out, &self.version, 32);
        put_string(&mut out, &self.gp_version, 16);
        put_string(&mut out, &self.note, 512);
        out
    }

    /// Reads a node-information message. The JAM parameters carry no length: they are read as GP
    /// 0.7.2's [`PARAMETERS_LEN`] bytes (a node of another GP version fails here, by name).
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let codec = |source| DecodeError::Codec { what: "node information", source };
        let mut d = Decoder::without_lengths(bytes);
        let version = d.u8().map_err(codec)?;
        if version != 0 {
            return Err(DecodeError::Version(version));
        }
        let parameters = d.take(PARAMETERS_LEN).map_err(codec)?.to_vec();
        let genesis = Field::get(&mut d).map_err(codec)?;
        let peer_id = Field::get(&mut d).map_err(codec)?;
        let address = Field::get(&mut d).map_err(codec)?;
        let flags = d.u32().map_err(codec)?;
        if flags > 1 {
            return Err(DecodeError::Flags(flags));
        }
        let info = Self {
            parameters,
            genesis,
            peer_id,
            address,
            recompiler: flags == 1,
            name: get_string(&mut d, 32, "implementation name (String<32>)").map_err(codec)?,
            version: get_string(&mut d, 32, "implementation version (String<32>)").map_err(codec)?,
            gp_version: get_string(&mut d, 16, "GP version (String<16>)").map_err(codec)?,
            note: get_string(&mut d, 512, "note (String<512>)").map_err(codec)?,
        };
        d.finish().map_err(codec)?;
        Ok(info)
    }

    /// `V`, `C` and `E` read from the parameters (GP 0.7.2 §B.5's order: `C` at byte 24, `E` at 30,
    /// `V` at 92), which the status and assurance events' fixed-length fields need.
    pub fn lengths(&self) -> Lengths {
        let p = &self.parameters;
        let u16_at = |at: usize| u16::from_le_bytes([p[at], p[at + 1]]) as usize;
        let e = u32::from_le_bytes([p[30], p[31], p[32], p[33]]) as usize;
        Lengths::new(u16_at(92), u16_at(24), e)
    }

    /// One line for a person.
    pub fn show(&self) -> String {
        let l = self.lengths();
        let mut out = String::new();
        let _ = write!(out, "node {} {} (GP {}) peer=", self.name, self.version, self.gp_version);
        self.peer_id.show(&mut out);
        let _ = write!(out, " address={} genesis=", self.address);
        self.genesis.show(&mut out);
        let _ = write!(
            out,
            " V={} C={} E={} pvm={} note=",
            l.validators_count(),
            l.cores_count(),
            l.epoch_length(),
            if self.recompiler { "recompiler" } else { "interpreter" }
        );
        self.note.show(&mut out);
        out
    }

    /// A JSON object.
    pub fn json(&self) -> String {
        let l = self.lengths();
        let mut out = String::from("{\"type\":\"node_info\",\"name\":");
        self.name.json(&mut out);
        out.push_str(",\"version\":");
        self.version.json(&mut out);
        out.push_str(",\"gp_version\":");
        self.gp_version.json(&mut out);
        out.push_str(",\"peer_id\":");
        self.peer_id.json(&mut out);
        out.push_str(",\"address\":");
        self.address.json(&mut out);
        out.push_str(",\"genesis\":");
        self.genesis.json(&mut out);
        let _ = write!(
            out,
            ",\"validators\":{},\"cores\":{},\"epoch_length\":{},\"recompiler\":{},\"note\":",
            l.validators_count(),
            l.cores_count(),
            l.epoch_length(),
            self.recompiler
        );
        self.note.json(&mut out);
        out.push('}');
        out
    }
}

macro_rules! events {
    ($(
        $(#[$m:meta])* $disc:literal $name:ident $text:literal { $($f:ident : $t:ty),* $(,)? }
    )*) => {
        /// Every JIP-3 event, with its discriminator; fields in the JIP's order.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Event {
            $($(#[$m])* $name { $($f: $t),* },)*
        }

        impl Event {
            /// The JIP-3 discriminator.
            pub fn discriminator(&self) -> u8 {
                match self { $(Event::$name { .. } => $disc,)* }
            }

            /// The event's name in the JIP.
            pub fn name(&self) -> &'static str {
                match self { $(Event::$name { .. } => $text,)* }
            }

            fn put_fields(&self, out: &mut Vec<u8>) {
                match self { $(Event::$name { $($f),* } => { $($f.put(out);)* })* }
            }

            fn get_fields(discriminator: u8, d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
                match discriminator {
                    $($disc => Ok(Event::$name {
                        $($f: Field::get(d).map_err(|source| DecodeError::Codec {
                            what: concat!($text, ": ", stringify!($f)),
                            source,
                        })?),*
                    }),)*
                    other => Err(DecodeError::UnknownEvent(other)),
                }
            }

            fn show_fields(&self, out: &mut String) {
                match self { $(Event::$name { $($f),* } => {
                    $(
                        out.push_str(concat!(" ", stringify!($f), "="));
                        $f.show(out);
                    )*
                })* }
            }

            fn json_fields(&self, out: &mut String) {
                match self { $(Event::$name { $($f),* } => {
                    $(
                        out.push_str(concat!(",\"", stringify!($f), "\":"));
                        $f.json(out);
                    )*
                })* }
            }
        }

        #[cfg(test)]
        impl Event {
            /// An arbitrary event of kind `discriminator`.
            pub(crate) fn sample(discriminator: u8, r: &mut crate::wire::Rng) -> Option<Self> {
                match discriminator {
                    $($disc => Some(Event::$name { $($f: Field::sample(r)),* }),)*
                    _ => None,
                }
            }
        }

        /// Every discriminator JIP-3 defines, in order.
        pub const DISCRIMINATORS: &[u8] = &[$($disc),*];
    };
}

events! {
    /// `count` events that could not be sent; `last` is the time of the last of them.
    0 Dropped "dropped" { last: Timestamp, count: u64 }
    /// A summary, about every two seconds.
    10 Status "status" {
        peers: u32,
        validator_peers: u32,
        announcement_streams: u32,
        guarantees_by_core: PerCore,
        shards: u32,
        shards_size: u64,
        preimages: u32,
        preimages_size: u32,
    }
    11 BestBlockChanged "best block changed" { slot: u32, hash: Hash }
    12 FinalizedBlockChanged "finalized block changed" { slot: u32, hash: Hash }
    13 SyncStatusChanged "sync status changed" { synced: bool }

    20 ConnectionRefused "connection refused" { address: SocketAddr }
    21 ConnectingIn "connecting in" { address: SocketAddr }
    22 ConnectInFailed "connect in failed" { connecting: EventId, reason: String }
    23 ConnectedIn "connected in" { connecting: EventId, peer: PeerId }
    24 ConnectingOut "connecting out" { peer: PeerId, address: SocketAddr }
    25 ConnectOutFailed "connect out failed" { connecting: EventId, reason: String }
    26 ConnectedOut "connected out" { connecting: EventId }
    27 Disconnected "disconnected" { peer: PeerId, terminator: Option<ConnectionSide>, reason: String }
    28 PeerMisbehaved "peer misbehaved" { peer: PeerId, reason: String }

    40 Authoring "authoring" { slot: u32, parent: Hash }
    41 AuthoringFailed "authoring failed" { authoring: EventId, reason: String }
    42 Authored "authored" { authoring: EventId, outline: BlockOutline }
    43 Importing "importing" { slot: u32, outline: BlockOutline }
    44 BlockVerificationFailed "block verification failed" { importing: EventId, reason: String }
    45 BlockVerified "block verified" { importing: EventId }
    46 BlockExecutionFailed "block execution failed" { started: EventId, reason: String }
    /// `accumulated`: each accumulated service's ID and costs.
    47 BlockExecuted "block executed" { started: EventId, accumulated: Vec<(u32, AccumulateCost)> }

    60 AnnouncementStreamOpened "block announcement stream opened" { peer: PeerId, opener: ConnectionSide }
    61 AnnouncementStreamClosed "block announcement stream closed" {
        peer: PeerId,
        closer: ConnectionSide,
        reason: String,
    }
    62 BlockAnnounced "block announced" { peer: PeerId, announcer: ConnectionSide, slot: u32, hash: Hash }
    63 SendingBlockRequest "sending block request" {
        peer: PeerId,
        hash: Hash,
        direction: Direction,
        max_blocks: u32,
    }
    64 ReceivingBlockRequest "receiving block request" { peer: PeerId }
    65 BlockRequestFailed "block request failed" { request: EventId, reason: String }
    66 BlockRequestSent "block request sent" { request: EventId }
    67 BlockRequestReceived "block request received" {
        request: EventId,
        hash: Hash,
        direction: Direction,
        max_blocks: u32,
    }
    68 BlockTransferred "block transferred" { request: EventId, slot: u32, outline: BlockOutline, last: bool }

    /// `epoch`: the epoch the tickets are for.
    80 GeneratingTickets "generating tickets" { epoch: u32 }
    81 TicketGenerationFailed "ticket generation failed" { generating: EventId, reason: String }
    /// `outputs`: the tickets' VRF outputs, by attempt.
    82 TicketsGenerated "tickets generated" { generating: EventId, outputs: Vec<Hash> }
    83 TicketTransferFailed "ticket transfer failed" {
        peer: PeerId,
        sender: ConnectionSide,
        ce132: bool,
        reason: String,
    }
    84 TicketTransferred "ticket transferred" {
        peer: PeerId,
        sender: ConnectionSide,
        ce132: bool,
        epoch: u32,
        attempt: u8,
        output: Hash,
    }

    90 WorkPackageSubmission "work-package submission" { builder: PeerId, ce146: bool }
    91 WorkPackageBeingShared "work-package being shared" { primary: PeerId }
    92 WorkPackageFailed "work-package failed" { submission: EventId, reason: String }
    93 DuplicateWorkPackage "duplicate work-package" { submission: EventId, core: u16, package: Hash }
    94 WorkPackageReceived "work-package received" {
        submission: EventId,
        core: u16,
        outline: WorkPackageOutline,
    }
    95 Authorized "authorized" { submission: EventId, cost: IsAuthorizedCost }
    96 ExtrinsicDataReceived "extrinsic data received" { submission: EventId }
    97 ImportsReceived "imports received" { submission: EventId }
    98 SharingWorkPackage "sharing work-package" { submission: EventId, secondary: PeerId }
    99 WorkPackageSharingFailed "work-package sharing failed" {
        submission: EventId,
        secondary: PeerId,
        reason: String,
    }
    100 BundleSent "bundle sent" { submission: EventId, secondary: PeerId }
    101 Refined "refined" { submission: EventId, costs: Vec<RefineCost> }
    102 WorkReportBuilt "work-report built" { submission: EventId, outline: WorkReportOutline }
    103 WorkReportSignatureSent "work-report signature sent" { shared: EventId }
    104 WorkReportSignatureReceived "work-report signature received" { submission: EventId, secondary: PeerId }
    105 GuaranteeBuilt "guarantee built" { submission: EventId, outline: GuaranteeOutline }
    106 SendingGuarantee "sending guarantee" { built: EventId, recipient: PeerId }
    107 GuaranteeSendFailed "guarantee send failed" { sending: EventId, reason: String }
    108 GuaranteeSent "guarantee sent" { sending: EventId }
    109 GuaranteesDistributed "guarantees distributed" { submission: EventId }
    110 ReceivingGuarantee "receiving guarantee" { sender: PeerId }
    111 GuaranteeReceiveFailed "guarantee receive failed" { receiving: EventId, reason: String }
    112 GuaranteeReceived "guarantee received" { receiving: EventId, outline: GuaranteeOutline }
    113 GuaranteeDiscarded "guarantee discarded" { outline: GuaranteeOutline, reason: GuaranteeDiscardReason }

    120 SendingShardRequest "sending shard request" { guarantor: PeerId, erasure_root: Hash, shard: u16 }
    121 ReceivingShardRequest "receiving shard request" { assurer: PeerId }
    122 ShardRequestFailed "shard request failed" { request: EventId, reason: String }
    123 ShardRequestSent "shard request sent" { request: EventId }
    124 ShardRequestReceived "shard request received" { request: EventId, erasure_root: Hash, shard: u16 }
    125 ShardsTransferred "shards transferred" { request: EventId }
    126 DistributingAssurance "distributing assurance" { anchor: Hash, bitfield: CoreBits }
    127 AssuranceSendFailed "assurance send failed" { distributing: EventId, recipient: PeerId, reason: String }
    128 AssuranceSent "assurance sent" { distributing: EventId, recipient: PeerId }
    129 AssuranceDistributed "assurance distributed" { distributing: EventId }
    130 AssuranceReceiveFailed "assurance receive failed" { sender: PeerId, reason: String }
    131 AssuranceReceived "assurance received" { sender: PeerId, anchor: Hash }

    /// `audit`: the JIP has no auditing event yet to refer to ("TODO" in the JIP).
    140 SendingBundleShardRequest "sending bundle shard request" { audit: EventId, assurer: PeerId, shard: u16 }
    141 ReceivingBundleShardRequest "receiving bundle shard request" { auditor: PeerId }
    142 BundleShardRequestFailed "bundle shard request failed" { request: EventId, reason: String }
    143 BundleShardRequestSent "bundle shard request sent" { request: EventId }
    144 BundleShardRequestReceived "bundle shard request received" {
        request: EventId,
        erasure_root: Hash,
        shard: u16,
    }
    145 BundleShardTransferred "bundle shard transferred" { request: EventId }
    146 ReconstructingBundle "reconstructing bundle" { audit: EventId, trivial: bool }
    147 BundleReconstructed "bundle reconstructed" { audit: EventId }
    148 SendingBundleRequest "sending bundle request" { audit: EventId, guarantor: PeerId }
    149 ReceivingBundleRequest "receiving bundle request" { auditor: PeerId }
    150 BundleRequestFailed "bundle request failed" { request: EventId, reason: String }
    151 BundleRequestSent "bundle request sent" { request: EventId }
    152 BundleRequestReceived "bundle request received" { request: EventId, erasure_root: Hash }
    153 BundleTransferred "bundle transferred" { request: EventId }

    160 WorkPackageHashMapped "work-package hash mapped" {
        submission: EventId,
        package: Hash,
        segments_root: Hash,
    }
    161 SegmentsRootMapped "segments-root mapped" {
        submission: EventId,
        segments_root: Hash,
        erasure_root: Hash,
    }
    /// `shards`: (import segment ID, shard index) pairs.
    162 SendingSegmentShardRequest "sending segment shard request" {
        submission: EventId,
        assurer: PeerId,
        ce140: bool,
        shards: Vec<(u16, u16)>,
    }
    163 ReceivingSegmentShardRequest "receiving segment shard request" { sender: PeerId, ce140: bool }
    164 SegmentShardRequestFailed "segment shard request failed" { request: EventId, reason: String }
    165 SegmentShardRequestSent "segment shard request sent" { request: EventId }
    166 SegmentShardRequestReceived "segment shard request received" { request: EventId, count: u16 }
    167 SegmentShardsTransferred "segment shards transferred" { request: EventId }
    168 ReconstructingSegments "reconstructing segments" {
        submission: EventId,
        segments: Vec<u16>,
        trivial: bool,
    }
    169 SegmentReconstructionFailed "segment reconstruction failed" { reconstructing: EventId, reason: String }
    170 SegmentsReconstructed "segments reconstructed" { reconstructing: EventId }
    171 SegmentVerificationFailed "segment verification failed" {
        submission: EventId,
        segments: Vec<u16>,
        reason: String,
    }
    172 SegmentsVerified "segments verified" { submission: EventId, segments: Vec<u16> }
    173 SendingSegmentRequest "sending segment request" {
        submission: EventId,
        guarantor: PeerId,
        segments: Vec<u16>,
    }
    174 ReceivingSegmentRequest "receiving segment request" { guarantor: PeerId }
    175 SegmentRequestFailed "segment request failed" { request: EventId, reason: String }
    176 SegmentRequestSent "segment request sent" { request: EventId }
    177 SegmentRequestReceived "segment request received" { request: EventId, count: u16 }
    178 SegmentsTransferred "segments transferred" { request: EventId }

    190 PreimageAnnouncementFailed "preimage announcement failed" {
        peer: PeerId,
        announcer: ConnectionSide,
        reason: String,
    }
    191 PreimageAnnounced "preimage announced" {
        peer: PeerId,
        announcer: ConnectionSide,
        service: u32,
        hash: Hash,
        length: u32,
    }
    192 AnnouncedPreimageForgotten "announced preimage forgotten" {
        service: u32,
        hash: Hash,
        length: u32,
        reason: PreimageForgetReason,
    }
    193 SendingPreimageRequest "sending preimage request" { recipient: PeerId, hash: Hash }
    194 ReceivingPreimageRequest "receiving preimage request" { sender: PeerId }
    195 PreimageRequestFailed "preimage request failed" { request: EventId, reason: String }
    196 PreimageRequestSent "preimage request sent" { request: EventId }
    197 PreimageRequestReceived "preimage request received" { request: EventId, hash: Hash }
    198 PreimageTransferred "preimage transferred" { request: EventId, length: u32 }
    199 PreimageDiscarded "preimage discarded" { hash: Hash, length: u32, reason: PreimageDiscardReason }
}

impl Event {
    /// The message content at time `at`: `Timestamp ++ discriminator ++ fields`.
    pub fn encode(&self, at: Timestamp) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        at.put(&mut out);
        out.push(self.discriminator());
        self.put_fields(&mut out);
        out
    }

    /// How many event IDs this event takes: a "dropped" event stands for the events it replaces.
    pub fn ids_taken(&self) -> u64 {
        match self {
            Event::Dropped { count, .. } => *count,
            _ => 1,
        }
    }

    /// One line for a person: the name, then `field=value` pairs.
    pub fn show(&self) -> String {
        let mut out = String::from(self.name());
        self.show_fields(&mut out);
        out
    }

    /// A JSON object: `{"id":…,"at":…,"kind":…,"name":…, fields…}`.
    pub fn json(&self, id: EventId, at: Timestamp) -> String {
        let mut out = String::new();
        let _ = write!(
            out,
            "{{\"id\":{id},\"at\":{at},\"kind\":{},\"name\":\"{}\"",
            self.discriminator(),
            self.name()
        );
        self.json_fields(&mut out);
        out.push('}');
        out
    }
}

/// Reads an event message; `lengths` (from the connection's [`NodeInfo::lengths`]) give the core
/// count the status and assurance events need. Bytes left over are an error.
pub fn decode_event(bytes: &[u8], lengths: Lengths) -> Result<(Timestamp, Event), DecodeError> {
    let mut d = Decoder::new(bytes, lengths);
    let header = |source| DecodeError::Codec { what: "event timestamp and discriminator", source };
    let at = d.u64().map_err(header)?;
    let discriminator = d.u8().map_err(header)?;
    let event = Event::get_fields(discriminator, &mut d)?;
    d.finish().map_err(|source| DecodeError::Codec { what: event.name(), source })?;
    Ok((at, event))
}

/// A JAMNP-S frame: `u32` little-endian length, then `content`.
pub fn encode_frame(content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + content.len());
    out.extend_from_slice(&(content.len() as u32).to_le_bytes());
    out.extend_from_slice(content);
    out
}
