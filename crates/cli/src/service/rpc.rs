//! The JIP-2 calls `orrery service deploy/call/storage/info` make, through `orrery_rpc`'s typed
//! client (JSON-RPC 2.0 on a WebSocket, positional parameters, hashes and blobs as padded base64,
//! the JSON types the server writes), with each failure turned into one [`RpcError`] naming the
//! method: a node out of reach, a JIP-2 error code, a reply that does not decode, a timeout.
//!
//! Every reply is checked before use: a hash that is not 32 octets, a blob that is not base64 or a
//! status of no known shape is [`RpcError::Malformed`], naming the method. Every call is bounded in
//! time (the connection by [`CONNECT_TIMEOUT`], each call by the client's own limit).

use std::time::Duration;

use jsonrpsee::core::client::ClientT;
use jsonrpsee::rpc_params;
use orrery_rpc::client::{Client, ClientError};
use orrery_rpc::types::{error, method, BlockDescriptor, Hash, Parameters, WorkPackageStatus};

/// How long a connection may take to open.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    #[error("cannot reach the node's RPC at {url}: {why}")]
    Unreachable { url: String, why: String },
    /// A JSON-RPC error object; JIP-2 gives codes 1 (block unavailable), 2 (work report
    /// unavailable), 3 (DA segment unavailable) and 0 (other) a meaning.
    #[error("{method}: the node answered error {code} ({}): {message}", meaning(*.code))]
    Node { method: &'static str, code: i32, message: String },
    #[error("{method}: a malformed reply: {why}")]
    Malformed { method: &'static str, why: String },
    #[error("{method}: no reply within {} s", orrery_rpc::client::CALL_TIMEOUT.as_secs())]
    Timeout { method: &'static str },
    #[error("{method}: the connection to the node failed: {why}")]
    Connection { method: &'static str, why: String },
}

/// What an error code means: JIP-2's, then JSON-RPC's own.
pub fn meaning(code: i32) -> &'static str {
    match code {
        error::OTHER => "other",
        error::BLOCK_UNAVAILABLE => "block unavailable",
        error::WORK_REPORT_UNAVAILABLE => "work report unavailable",
        error::SEGMENT_UNAVAILABLE => "DA segment unavailable",
        -32601 => "no such method: the node does not serve it",
        -32602 => "invalid parameters",
        -32700 | -32600 => "the node could not read the request",
        _ => "not a JIP-2 code",
    }
}

pub struct Rpc {
    client: Client,
}

impl std::fmt::Debug for Rpc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Rpc")
    }
}

/// jsonrpsee's error as one of ours, naming the method.
fn error(method: &'static str) -> impl Fn(ClientError) -> RpcError {
    move |e| match e {
        ClientError::Call(object) => {
            RpcError::Node { method, code: object.code(), message: object.message().to_string() }
        }
        ClientError::RequestTimeout => RpcError::Timeout { method },
        ClientError::ParseError(e) => RpcError::Malformed { method, why: e.to_string() },
        other => RpcError::Connection { method, why: other.to_string() },
    }
}

impl Rpc {
    /// Opens a WebSocket to `url` (`ws://HOST:PORT`).
    pub async fn connect(url: &str) -> Result<Self, RpcError> {
        if !url.starts_with("ws://") {
            return Err(RpcError::Unreachable {
                url: url.into(),
                why: "give a ws:// address (the node serves JIP-2 on plain WebSocket)".into(),
            });
        }
        let client = tokio::time::timeout(CONNECT_TIMEOUT, Client::connect(url))
            .await
            .map_err(|_| RpcError::Unreachable {
                url: url.into(),
                why: format!("no WebSocket within {} s", CONNECT_TIMEOUT.as_secs()),
            })?
            .map_err(|e| RpcError::Unreachable { url: url.into(), why: e.to_string() })?;
        Ok(Self { client })
    }

    pub async fn parameters(&self) -> Result<Parameters, RpcError> {
        self.client.parameters().await.map_err(error(method::PARAMETERS))
    }

    pub async fn best_block(&self) -> Result<BlockDescriptor, RpcError> {
        self.client.best_block().await.map_err(error(method::BEST_BLOCK))
    }

    /// The posterior state root of block `at`.
    pub async fn state_root(&self, at: &[u8; 32]) -> Result<[u8; 32], RpcError> {
        Ok(self.client.state_root(Hash(*at)).await.map_err(error(method::STATE_ROOT))?.0)
    }

    /// The BEEFY root (the accumulation outputs' super-peak) of block `at`, `None` when the node
    /// does not know it. (The typed client has no method for it: a raw call.)
    pub async fn beefy_root(&self, at: &[u8; 32]) -> Result<Option<[u8; 32]>, RpcError> {
        let reply: Option<Hash> = self
            .client
            .raw()
            .request(method::BEEFY_ROOT, rpc_params![Hash(*at)])
            .await
            .map_err(error(method::BEEFY_ROOT))?;
        Ok(reply.map(|h| h.0))
    }

    pub async fn submit_work_package(&self, core: u16, package: Vec<u8>) -> Result<(), RpcError> {
        self.client
            .submit_work_package(core, package, Vec::new())
            .await
            .map_err(error(method::SUBMIT_WORK_PACKAGE))
    }

    /// The status of package `package` anchored at `anchor`, as of block `at`.
    pub async fn work_package_status(
        &self,
        at: &[u8; 32],
        package: &[u8; 32],
        anchor: &[u8; 32],
    ) -> Result<WorkPackageStatus, RpcError> {
        self.client
            .work_package_status(Hash(*at), Hash(*package), Hash(*anchor))
            .await
            .map_err(error(method::WORK_PACKAGE_STATUS))
    }

    /// The GP-encoded work report of this hash (JIP-2 error 2 when the node has none).
    pub async fn work_report(&self, report: &[u8; 32]) -> Result<Vec<u8>, RpcError> {
        Ok(self.client.work_report(Hash(*report)).await.map_err(error(method::WORK_REPORT))?.0)
    }

    /// The GP-encoded service account info of `id` in block `at`'s posterior state.
    pub async fn service_data(&self, at: &[u8; 32], id: u32) -> Result<Option<Vec<u8>>, RpcError> {
        let reply = self.client.service_data(Hash(*at), id).await.map_err(error(method::SERVICE_DATA))?;
        Ok(reply.map(|b| b.0))
    }

    /// The value under `key` in service `id`'s storage, block `at`'s posterior state.
    pub async fn service_value(
        &self,
        at: &[u8; 32],
        id: u32,
        key: &[u8],
    ) -> Result<Option<Vec<u8>>, RpcError> {
        let reply =
            self.client.service_value(Hash(*at), id, key).await.map_err(error(method::SERVICE_VALUE))?;
        Ok(reply.map(|b| b.0))
    }

    /// Hands `blob` to the node as a preimage `requester` has asked for (JIP-2 `submitPreimage`):
    /// the node announces it (CE 142) and its authors put it in a block's preimage extrinsic.
    pub async fn submit_preimage(&self, requester: u32, blob: Vec<u8>) -> Result<(), RpcError> {
        self.client.submit_preimage(requester, blob).await.map_err(error(method::SUBMIT_PREIMAGE))
    }

    /// Service `id`'s request for the preimage of `hash` (`len` octets) in block `at`'s posterior
    /// state (JIP-2 `serviceRequest`): `None` if never requested, else the request's slots (GP
    /// 0.7.2 §9.2.2: `[]` wanted, one or three slots provided, two forgotten). A few octets where
    /// `servicePreimage` would send the whole blob back on every poll.
    pub async fn service_request(
        &self,
        at: &[u8; 32],
        id: u32,
        hash: &[u8; 32],
        len: u32,
    ) -> Result<Option<Vec<u32>>, RpcError> {
        self.client
            .service_request(Hash(*at), id, Hash(*hash), len)
            .await
            .map_err(error(method::SERVICE_REQUEST))
    }

    pub async fn list_services(&self, at: &[u8; 32]) -> Result<Vec<u32>, RpcError> {
        self.client.list_services(Hash(*at)).await.map_err(error(method::LIST_SERVICES))
    }
}
