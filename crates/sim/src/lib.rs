//! A deterministic network simulator: `N` Orrery validators in one process, on a simulated clock,
//! over a simulated network, where one seed always gives the same run.
//!
//! # The shape
//!
//! The node's protocol logic (`orrery_node::Node`) is sans-IO, in the manner of quinn-proto: it
//! owns no socket, thread or clock; it takes an [`orrery_node::Input`] and the time, and returns
//! the [`orrery_node::Output`]s its driver must carry out, plus the time it next wants to be
//! woken. That is what lets one process run many nodes, and what lets a simulation be replayed:
//! the simulator is just another driver (the QUIC one is the other), and everything a node can
//! observe (time, messages, connection changes, request failures) is decided here.
//!
//! The driver is a discrete-event simulation, as in commonware's deterministic runtime: a virtual
//! clock in milliseconds of JAM time, a queue of events ordered by `(time, sequence number)`
//! ([`queue`]), never by the order of a hash map, and one ChaCha20 generator seeded from the
//! scenario for every random choice ([`net`]). Processing takes no simulated time: a node's
//! import, authoring and voting happen in the instant its input arrives, and the ticket proofs it
//! asks for (`Output::MakeTickets`) are made at once and come back as its next input at that
//! instant. Each run is summed up ([`summary`]) with every node's finalized chain and a run hash
//! over every event the nodes output, in order, with their times: a test asserts that a seed's hash
//! repeats. With tickets on, a seed repeats everything but the ring proofs' bytes (their
//! zero-knowledge blinding draws randomness from the OS), and so not the hashes of the blocks
//! carrying tickets, nor the run hash.
//!
//! # What is modelled
//!
//! - Each node: a real `Node` on a real `orrery_store::Chain` over an in-memory `redb` ([`db`]),
//!   the dev genesis of `orrery chain-spec dev` ([`Genesis::dev`]), dev validator `i`'s keys.
//! - Connections between every pair of endpoints (the dev set is every epoch's validator set, so
//!   every validator wants every other): they come up `connect_ms` after they may, go down at once
//!   on a crash, a partition or a `Disconnect`, and each end still alive hears of it `detect_ms`
//!   later (as `PeerDisconnected`); what was in flight on a dead connection is dropped.
//! - Messages: a latency drawn per message, loss, duplication, holding back (reordering).
//!   Requests and responses (QUIC streams) have latency and loss, never duplicates; a request
//!   with no connection fails at once, one whose connection dies fails when that is noticed, one
//!   whose question or answer is lost times out.
//! - Partitions: groups that cannot reach each other between two times ([`net::Partition`]).
//! - Crashes and restarts: the `Node` is dropped with everything it had not committed; a restart
//!   reopens its database, as `kill -9` and a restart on the same directory would.
//! - Hostile peers ([`Hostile`]): garbage, oversized frames and unknown stream kinds reach the
//!   node as the driver would report them (`Input::Misbehaved`); floods of announcements of
//!   unknown blocks; announced blocks, and CE 128 answers, that do not import. A node's
//!   `Disconnect` is honoured: the connection drops and is refused for `redial_ms`.
//! - Equivocation ([`Equivocator`]): a second block for a validator's slot, really sealed with its
//!   keys, announced and served by a second machine holding the same key.
//!
//! # What is not
//!
//! Bandwidth and message sizes (a block costs what an announcement does), processing time and
//! CPU contention, the QUIC handshake, TLS and framing (the messages are the decoded ones; the
//! codec and the caps are `orrery_network`'s, tested there), ordered delivery within a UP 0
//! stream (each message has its own latency, so announcements may overtake each other), clock
//! drift between nodes, `WantPeers` (recorded, not acted on: everyone connects to everyone),
//! non-validator nodes and CE 129 state sync, and a node's disk failing.

pub mod db;
pub mod net;
pub mod queue;
mod sim;
pub mod summary;

pub use net::{Latency, NetConfig, Partition};
pub use sim::{all_but, Attack, Crash, Equivocator, Genesis, Hostile, Sim, SimConfig, SimError};
pub use summary::{Final, Summary};
