//! How the server reaches the node. The node ([`Node`]) lives on one thread and owns its chain;
//! the RPC never holds it. It sends queries (closures run on that thread against `&Node`, answered
//! by a oneshot) and inputs, and watches the node's best and finalized blocks (published after
//! each step) to drive its subscriptions.
//!
//! [`link`] makes both ends: [`NodeLink`] (the RPC's, a [`Backend`]) and [`NodeSide`] (the node
//! thread's, which calls [`NodeSide::serve`] after each input it handles). A query wakes a thread
//! blocked on its inputs by sending it one [`Input::Tick`] (at most one is ever queued for this).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::Arc;

use orrery_node::{Input, Node, Status};
use orrery_types::ChainSpec;
use tokio::sync::watch;

use crate::types::{BlockDescriptor, Hash};

/// A question for the node, run on its thread.
pub type Query = Box<dyn FnOnce(&Node) + Send>;

/// Queries waiting for the node thread; more are refused as "busy".
pub const QUERY_QUEUE: usize = 1024;

/// What subscriptions follow: the node's heads and sync state after its latest step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heads {
    pub best: BlockDescriptor,
    pub finalized: BlockDescriptor,
    pub peers: usize,
    pub syncing: bool,
}

impl Heads {
    pub fn of(status: &Status) -> Self {
        Self {
            best: BlockDescriptor { header_hash: Hash(status.best.hash), slot: status.best.slot },
            finalized: BlockDescriptor {
                header_hash: Hash(status.finalized.hash),
                slot: status.finalized.slot,
            },
            peers: status.peers,
            syncing: status.syncing,
        }
    }
}

/// Why the node did not take a query or an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Unavailable {
    #[error("the node is busy; try again")]
    Busy,
    #[error("the node has stopped")]
    Stopped,
}

/// The node, as the server sees it.
pub trait Backend: Send + Sync + 'static {
    /// The chain's parameters.
    fn spec(&self) -> &ChainSpec;
    /// Queues `query` for the node thread.
    fn query(&self, query: Query) -> Result<(), Unavailable>;
    /// Hands `input` to the node (a submission).
    fn submit(&self, input: Input) -> Result<(), Unavailable>;
    /// The node's heads, updated after each step.
    fn heads(&self) -> watch::Receiver<Heads>;
}

/// The RPC's end of the link.
#[derive(Debug, Clone)]
pub struct NodeLink {
    spec: ChainSpec,
    queries: SyncSender<Query>,
    inputs: SyncSender<Input>,
    heads: watch::Receiver<Heads>,
    /// Whether a wake-up tick is queued and not yet taken.
    woken: Arc<AtomicBool>,
}

/// The node thread's end of the link.
#[derive(Debug)]
pub struct NodeSide {
    queries: Receiver<Query>,
    heads: watch::Sender<Heads>,
    woken: Arc<AtomicBool>,
}

/// Both ends, for a node whose thread reads `inputs` and starts at `status`.
pub fn link(spec: ChainSpec, inputs: SyncSender<Input>, status: &Status) -> (NodeLink, NodeSide) {
    let (queries_tx, queries) = std::sync::mpsc::sync_channel(QUERY_QUEUE);
    let (heads_tx, heads) = watch::channel(Heads::of(status));
    let woken = Arc::new(AtomicBool::new(false));
    (
        NodeLink { spec, queries: queries_tx, inputs, heads, woken: woken.clone() },
        NodeSide { queries, heads: heads_tx, woken },
    )
}

fn unavailable<T>(e: TrySendError<T>) -> Unavailable {
    match e {
        TrySendError::Full(_) => Unavailable::Busy,
        TrySendError::Disconnected(_) => Unavailable::Stopped,
    }
}

impl Backend for NodeLink {
    fn spec(&self) -> &ChainSpec {
        &self.spec
    }

    fn query(&self, query: Query) -> Result<(), Unavailable> {
        self.queries.try_send(query).map_err(unavailable)?;
        if !self.woken.swap(true, Ordering::AcqRel) {
            // A full inbox means the thread is busy and will serve the query after its next input.
            if let Err(TrySendError::Disconnected(_)) = self.inputs.try_send(Input::Tick) {
                return Err(Unavailable::Stopped);
            }
        }
        Ok(())
    }

    fn submit(&self, input: Input) -> Result<(), Unavailable> {
        self.inputs.try_send(input).map_err(unavailable)
    }

    fn heads(&self) -> watch::Receiver<Heads> {
        self.heads.clone()
    }
}

impl NodeSide {
    /// Answers the queued queries and publishes the node's heads; the node thread calls this after
    /// every input it handles (and when it wakes with nothing to do).
    pub fn serve(&self, node: &Node) {
        self.woken.store(false, Ordering::Release);
        // Bounded by the queue's capacity: queries sent meanwhile wait for the next call.
        for _ in 0..QUERY_QUEUE {
            match self.queries.try_recv() {
                Ok(query) => query(node),
                Err(_) => break,
            }
        }
        let heads = Heads::of(&node.status());
        self.heads.send_if_modified(|h| {
            let changed = *h != heads;
            *h = heads;
            changed
        });
    }
}
