//! The JIP-2 node RPC (polkadot-fellows/JIPs `JIP-2.md`, the newer text; NETWORK.md §2): JSON-RPC
//! 2.0 with positional parameters, over WebSocket (and plain HTTP POST) on port 19800.
//!
//! - [`types`]: the JSON of the methods (padded-base64 hashes and blobs, block descriptors,
//!   chain-subscription updates, `parameters`, work-package and sync statuses), the method names
//!   and error codes; a client (`orrery service …`) uses the same definitions.
//! - [`backend`]: how the server reaches a node that lives on its own thread: queries run there
//!   against `&Node`, submissions go in as node inputs, and a watch of the node's heads drives the
//!   subscriptions.
//! - [`server`]: every JIP-2 method and subscription over a [`backend::Backend`], with the caps
//!   (connections, subscriptions, request size, submissions per connection).
//! - [`health`]: `GET /health` answered on the same port.
//! - [`connections`]: the count of open WebSocket connections (for the node's metrics).
//! - [`client`]: a typed client over one WebSocket connection.
//!
//! What is not here: the DA segment methods answer only from the node's own shards; `workReport`
//! finds only reports the node still has in memory (see [`server`]).

pub mod backend;
pub mod client;
pub mod connections;
pub mod health;
pub mod server;
pub mod types;

pub use backend::{link, Backend, Heads, NodeLink, NodeSide};
pub use server::{module, start, RpcConfig, RpcError, RpcServer, DEFAULT_PORT};
