//! A JIP-2 client: the node RPC methods `orrery service deploy/call/storage/info` use, over
//! JSON-RPC 2.0 on a WebSocket (positional parameters; hashes and blobs as padded base64, RFC 4648),
//! with the JSON types of `orrery_rpc::types`, the ones the server writes.
//!
//! Every reply is checked before use: a hash that is not 32 octets, a blob that is not base64 or a
//! status of no known shape is [`RpcError::Malformed`], naming the method. Every call is bounded in
//! time ([`REQUEST_TIMEOUT`]) and in size (a 16 MiB response cap).

use std::time::Duration;

use jsonrpsee::core::client::{ClientT, Error as ClientError};
use jsonrpsee::core::params::ArrayParams;
use jsonrpsee::ws_client::{WsClient, WsClientBuilder};
use orrery_rpc::types::{
    error, method, Blob, BlockDescriptor, Hash, Parameters, ParametersResult, WorkPackageStatus,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// How long a connection may take to open.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one call may wait for its reply.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// The largest reply taken (a work report or a service's code is far smaller).
const MAX_RESPONSE: u32 = 16 << 20;

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
    #[error("{method}: no reply within {} s", REQUEST_TIMEOUT.as_secs())]
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

/// `reply` as a `T`, or [`RpcError::Malformed`] naming `method`.
pub fn typed<T: DeserializeOwned>(method: &'static str, reply: Value) -> Result<T, RpcError> {
    serde_json::from_value(reply).map_err(|e| RpcError::Malformed { method, why: e.to_string() })
}

pub struct Rpc {
    client: WsClient,
}

impl std::fmt::Debug for Rpc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Rpc")
    }
}

fn params(values: Vec<Value>) -> ArrayParams {
    let mut params = ArrayParams::new();
    for value in values {
        // A `Value` always serializes.
        let _ = params.insert(value);
    }
    params
}

fn hash(h: &[u8; 32]) -> Value {
    serde_json::to_value(Hash(*h)).unwrap_or(Value::Null)
}

fn blob(b: &[u8]) -> Value {
    serde_json::to_value(Blob(b.to_vec())).unwrap_or(Value::Null)
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
        let client = WsClientBuilder::new()
            .connection_timeout(CONNECT_TIMEOUT)
            .request_timeout(REQUEST_TIMEOUT)
            .max_response_size(MAX_RESPONSE)
            .build(url)
            .await
            .map_err(|e| RpcError::Unreachable { url: url.into(), why: e.to_string() })?;
        Ok(Self { client })
    }

    async fn call<T: DeserializeOwned>(&self, method: &'static str, args: Vec<Value>) -> Result<T, RpcError> {
        let reply = self.client.request::<Value, _>(method, params(args)).await.map_err(|e| match e {
            ClientError::Call(object) => {
                RpcError::Node { method, code: object.code(), message: object.message().to_string() }
            }
            ClientError::RequestTimeout => RpcError::Timeout { method },
            ClientError::ParseError(e) => RpcError::Malformed { method, why: e.to_string() },
            other => RpcError::Connection { method, why: other.to_string() },
        })?;
        typed(method, reply)
    }

    pub async fn parameters(&self) -> Result<Parameters, RpcError> {
        let ParametersResult::V1(parameters) = self.call(method::PARAMETERS, vec![]).await?;
        Ok(parameters)
    }

    pub async fn best_block(&self) -> Result<BlockDescriptor, RpcError> {
        self.call(method::BEST_BLOCK, vec![]).await
    }

    /// The posterior state root of block `at`, `None` when the node does not know it.
    pub async fn state_root(&self, at: &[u8; 32]) -> Result<Option<[u8; 32]>, RpcError> {
        Ok(self.call::<Option<Hash>>(method::STATE_ROOT, vec![hash(at)]).await?.map(|h| h.0))
    }

    /// The BEEFY root (the accumulation outputs' super-peak) of block `at`.
    pub async fn beefy_root(&self, at: &[u8; 32]) -> Result<Option<[u8; 32]>, RpcError> {
        Ok(self.call::<Option<Hash>>(method::BEEFY_ROOT, vec![hash(at)]).await?.map(|h| h.0))
    }

    pub async fn submit_work_package(
        &self,
        core: u16,
        package: &[u8],
        extrinsics: &[Vec<u8>],
    ) -> Result<(), RpcError> {
        let extrinsics: Vec<Value> = extrinsics.iter().map(|e| blob(e)).collect();
        // The result is nothing (`null`); whatever else comes is not looked at.
        self.call::<Value>(method::SUBMIT_WORK_PACKAGE, vec![core.into(), blob(package), extrinsics.into()])
            .await?;
        Ok(())
    }

    /// The status of package `package` anchored at `anchor`, as of block `at`.
    pub async fn work_package_status(
        &self,
        at: &[u8; 32],
        package: &[u8; 32],
        anchor: &[u8; 32],
    ) -> Result<WorkPackageStatus, RpcError> {
        self.call(method::WORK_PACKAGE_STATUS, vec![hash(at), hash(package), hash(anchor)]).await
    }

    /// The GP-encoded work report of this hash, `None` when the node has none.
    pub async fn work_report(&self, report: &[u8; 32]) -> Result<Option<Vec<u8>>, RpcError> {
        Ok(self.call::<Option<Blob>>(method::WORK_REPORT, vec![hash(report)]).await?.map(|b| b.0))
    }

    /// The GP-encoded service account info of `id` in block `at`'s posterior state.
    pub async fn service_data(&self, at: &[u8; 32], id: u32) -> Result<Option<Vec<u8>>, RpcError> {
        Ok(self.call::<Option<Blob>>(method::SERVICE_DATA, vec![hash(at), id.into()]).await?.map(|b| b.0))
    }

    /// The value under `key` in service `id`'s storage, block `at`'s posterior state.
    pub async fn service_value(
        &self,
        at: &[u8; 32],
        id: u32,
        key: &[u8],
    ) -> Result<Option<Vec<u8>>, RpcError> {
        let args = vec![hash(at), id.into(), blob(key)];
        Ok(self.call::<Option<Blob>>(method::SERVICE_VALUE, args).await?.map(|b| b.0))
    }

    pub async fn list_services(&self, at: &[u8; 32]) -> Result<Vec<u32>, RpcError> {
        self.call(method::LIST_SERVICES, vec![hash(at)]).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn malformed_replies_are_named_errors() {
        let cases = [
            (json!("AQID"), "44 characters"),
            (json!("not base64!"), "44 characters"),
            (json!(7), "expected"),
        ];
        for (value, expected) in cases {
            let e = typed::<Option<Hash>>("stateRoot", value).unwrap_err().to_string();
            assert!(e.starts_with("stateRoot: a malformed reply") && e.contains(expected), "{e}");
        }
        for value in [json!({"Pending": {}}), json!({"Reported": {"core": 0}}), json!(null), json!([1, 2])] {
            let e = typed::<WorkPackageStatus>("workPackageStatus", value).unwrap_err().to_string();
            assert!(e.starts_with("workPackageStatus: a malformed reply"), "{e}");
        }
        let ones = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
        let e = typed::<BlockDescriptor>("bestBlock", json!({"header_hash": ones, "slot": -1})).unwrap_err();
        assert!(e.to_string().starts_with("bestBlock: a malformed reply"), "{e}");
        // And the good shapes read: base64 of 32 octets 0x01 (RFC 4648, padded).
        let block: BlockDescriptor = typed("bestBlock", json!({"header_hash": ones, "slot": 12})).unwrap();
        assert_eq!((block.header_hash.0, block.slot), ([1; 32], 12));
    }
}
