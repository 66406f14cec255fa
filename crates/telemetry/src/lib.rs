//! JIP-3 telemetry (polkadot-fellows/JIPs `JIP-3.md`): what a node tells a JAM Tart server, the
//! connection that carries it, and a server that reads it back.
//!
//! - [`NodeInfo`]: the first message of every connection (protocol version 0, the JAM parameters as
//!   the `fetch` host call returns them, the genesis header hash, the node's peer id and address,
//!   flags, implementation name and version, GP version, a note), and its decoding.
//! - [`Event`]: every event kind JIP-3 defines (discriminators 0 to 199: status, networking, block
//!   authoring and importing, block distribution, tickets, guaranteeing, availability, bundle
//!   recovery, segment recovery, preimages), each encoded as `Timestamp ++ discriminator ++ fields`
//!   with fixed-width integers as the JIP asks ([`wire`] has the field types), and read back by
//!   [`decode_event`]. The JIP's auditing and finality events are still "TODO" in the JIP itself.
//! - [`Telemetry`]: a client. [`Telemetry::emit`] never blocks and never allocates beyond a fixed
//!   queue: the node's protocol thread calls it. A writer thread connects (and reconnects, with
//!   back-off), sends the node information, then the events; events that find the queue full are
//!   dropped and reported as one "dropped" event (discriminator 0) with their count, so the event
//!   IDs the server counts stay those the node gave ([`Telemetry::emit`] returns it).
//! - [`sink`]: a telemetry server for tests and operators (`orrery telemetry-sink`): several nodes
//!   at once, frames capped, one line (or JSON object) per message, the raw stream kept on request.
//!
//! Messages are framed as JAMNP-S frames: a little-endian `u32` length, then the content.
//!
//! Choices the JIP leaves open: "JAM Parameters" is written as the raw `fetch` blob with no length
//! prefix, as the JIP's type definition reads (jamduna's viewer expects a length prefix; that is its
//! reading, not the text's), so a reader takes GP 0.7.2's 134 bytes; strings longer than their bound
//! are cut at a character boundary when sent and refused when read; after a reconnection the first
//! event is a "dropped" event covering the IDs the server did not see, as the JIP suggests. The bundle
//! recovery events' first field ("TODO, should reference auditing event" in the JIP) carries the ID
//! of the event that started the audit's work on the report, as far as the node has one.
//!
//! What an Orrery node emits today is listed in `orrery-node-quic`'s `telemetry` module; of the
//! segment recovery events (160–178), encoded and decoded here, it emits only an assurer's side of
//! CE 139.

mod client;
mod event;
pub mod sink;
pub mod wire;

pub use client::{now, Telemetry, TelemetryConfig};
pub use event::{
    decode_event, encode_frame, AccumulateCost, BlockOutline, ConnectionSide, CoreBits, DecodeError,
    Direction, Event, EventId, ExecCost, GuaranteeDiscardReason, GuaranteeOutline, Hash, ImportSpec,
    IsAuthorizedCost, NodeInfo, PeerId, PerCore, PreimageDiscardReason, PreimageForgetReason, RefineCost,
    Timestamp, WorkItemOutline, WorkPackageOutline, WorkReportOutline, DISCRIMINATORS, PARAMETERS_LEN,
};

#[cfg(test)]
mod tests;
