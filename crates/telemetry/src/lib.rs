//! JIP-3 telemetry (polkadot-fellows/JIPs `JIP-3.md`): what a node tells a JAM Tart server, and the
//! connection that carries it.
//!
//! - [`NodeInfo`]: the first message of every connection (protocol version 0, the JAM parameters as
//!   the `fetch` host call returns them, the genesis header hash, the node's peer id and address,
//!   flags, implementation name and version, GP version, a note).
//! - [`Event`]: the events a node has today (status, best and finalized block, sync status, the
//!   JAMNP-S connection events, authoring and importing, block announcements), each encoded as
//!   `Timestamp ++ discriminator ++ fields` with fixed-width integers, as the JIP asks.
//! - [`Telemetry`]: a client. [`Telemetry::emit`] never blocks and never allocates beyond a fixed
//!   queue: the node's protocol thread calls it. A writer thread connects (and reconnects, with
//!   back-off), sends the node information, then the events; events that find the queue full are
//!   dropped and reported as one "dropped" event (discriminator 0) with their count, so the event
//!   IDs the server counts stay those the node gave ([`Telemetry::emit`] returns it).
//!
//! Messages are framed as JAMNP-S frames: a little-endian `u32` length, then the content.
//!
//! Choices the JIP leaves open: "JAM Parameters" is written as the raw `fetch` blob with no length
//! prefix, as the JIP's type definition reads (jamduna's viewer expects a length prefix; that is its
//! reading, not the text's); strings longer than their bound are cut at a character boundary, not
//! refused; after a reconnection the first event is a "dropped" event covering the IDs the server
//! did not see, as the JIP suggests.
//!
//! Not here: the guaranteeing, availability, auditing and preimage events (discriminators 80 and
//! on), which come with the work-package pipeline; per-service accumulate costs in "block executed"
//! (the list is sent empty until the import reports them).

mod client;
mod event;

pub use client::{now, Telemetry, TelemetryConfig};
pub use event::{encode_frame, BlockOutline, ConnectionSide, Event, EventId, NodeInfo, Timestamp};
