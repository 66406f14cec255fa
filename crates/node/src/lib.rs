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

pub use io::{Event, Input, Message, Millis, Output, PeerId, Request, RequestFailure, RequestId, Response};

use orrery_keys::ValidatorKeys;
use orrery_network::message::BlockRef;
use orrery_store::Chain;
use orrery_types::ChainSpec;

/// How a node runs.
#[derive(Debug)]
pub struct NodeConfig {
    pub spec: ChainSpec,
    /// A validator's keys; `None` for a node that only follows the chain.
    pub keys: Option<ValidatorKeys>,
    /// The length of a slot on the wall clock: `spec`'s slot period, or shorter on a dev testnet.
    pub slot_ms: Millis,
    /// GRANDPA's gossip bound `T` (see `orrery_grandpa::Config`).
    pub grandpa_gossip_ms: Millis,
}

/// What a status line shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub best: BlockRef,
    pub finalized: BlockRef,
    pub peers: usize,
    /// Whether the node knows of blocks it has not imported yet.
    pub syncing: bool,
}

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("store: {0}")]
    Store(#[from] orrery_store::StoreError),
}

/// The node's protocol state.
#[derive(Debug)]
pub struct Node {
    _private: (),
}

impl Node {
    /// A node on `chain` (opened with no automatic finality: the node finalizes by GRANDPA) at
    /// time `now`.
    pub fn new(_config: NodeConfig, _chain: Chain, _now: Millis) -> Result<Self, NodeError> {
        todo!("node-core helper")
    }

    /// Handles one input at time `now` and says what to do.
    pub fn handle(&mut self, _now: Millis, _input: Input) -> Vec<Output> {
        todo!("node-core helper")
    }

    /// When the node next wants an [`Input::Tick`].
    pub fn next_wake(&self) -> Millis {
        todo!("node-core helper")
    }

    pub fn status(&self) -> Status {
        todo!("node-core helper")
    }

    /// The blocks and states.
    pub fn chain(&self) -> &Chain {
        todo!("node-core helper")
    }
}
