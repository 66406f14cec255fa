//! The node's protocol logic (GP 0.7.2 §19, JAMNP-S) as a pure state machine.
//!
//! SKELETON: [`io`] is the contract between this core, the simulator (`orrery-sim`) and the QUIC
//! driver (`orrery-node-quic`); the core itself is being written on the `node-core` branch.
//!
//! The shape (sans-IO, like quinn-proto): the caller owns the clock and the sockets. It feeds
//! [`io::Input`]s with the current time into [`Node::handle`] and carries out the [`io::Output`]s it
//! returns (send a message, make or answer a request, drop a peer); it calls again with
//! [`io::Input::Tick`] no later than [`Node::next_wake`]. The node owns its block store
//! (`orrery_store::Chain`, on disk or in memory) and imports synchronously.

pub mod io;
