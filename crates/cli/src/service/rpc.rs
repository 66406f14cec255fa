//! A JIP-2 client: the node RPC methods `orrery service deploy/call/storage/info` use, over
//! JSON-RPC 2.0 on a WebSocket (positional parameters; hashes and blobs as padded base64, RFC 4648).
//!
//! Every reply is checked before use: a hash that is not 32 octets, a blob that is not base64 or a
//! status of no known shape is [`RpcError::Malformed`], naming the method. Every call is bounded in
//! time ([`REQUEST_TIMEOUT`]) and in size (the client's 16 MiB response cap).

use std::time::Duration;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use jsonrpsee::core::client::{ClientT, Error as ClientError};
use jsonrpsee::core::params::ArrayParams;
use jsonrpsee_ws_client::{WsClient, WsClientBuilder};
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
    #[error("{method}: the node answered error {code} ({}): {message}", jip2_meaning(*.code))]
    Node { method: &'static str, code: i32, message: String },
    #[error("{method}: a malformed reply: {why}")]
    Malformed { method: &'static str, why: String },
    #[error("{method}: no reply within {} s", REQUEST_TIMEOUT.as_secs())]
    Timeout { method: &'static str },
    #[error("{method}: the connection to the node failed: {why}")]
    Connection { method: &'static str, why: String },
}

/// What JIP-2 says an error code means.
pub fn jip2_meaning(code: i32) -> &'static str {
    match code {
        0 => "other",
        1 => "block unavailable",
        2 => "work report unavailable",
        3 => "DA segment unavailable",
        -32601 => "no such method: the node does not serve it",
        -32602 => "invalid parameters",
        -32700 | -32600 => "the node could not read the request",
        _ => "not a JIP-2 code",
    }
}

/// A block: its header hash and slot (JIP-2's Block Descriptor).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockDesc {
    pub hash: [u8; 32],
    pub slot: u32,
}

/// A work package's status after some block (JIP-2 `workPackageStatus`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackageStatus {
    /// Not reported yet; it may be for `remaining_blocks` more blocks.
    Reportable { remaining_blocks: u64 },
    /// Reported in `reported_in` on `core`, not yet available.
    Reported { reported_in: BlockDesc, core: u32, report_hash: [u8; 32] },
    /// Available (or audited) as of `ready_in`: its accumulation is in that block or waits on
    /// its prerequisites.
    Ready { reported_in: BlockDesc, core: u32, report_hash: [u8; 32], ready_in: BlockDesc },
    /// It can no longer be reported, for this reason.
    Failed(String),
}

pub struct Rpc {
    client: WsClient,
}

impl std::fmt::Debug for Rpc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Rpc")
    }
}

fn malformed(method: &'static str, why: impl Into<String>) -> RpcError {
    RpcError::Malformed { method, why: why.into() }
}

/// A hash: padded base64 of 32 octets.
pub fn hash_from(method: &'static str, value: &Value) -> Result<[u8; 32], RpcError> {
    let bytes = blob_from(method, value)?;
    bytes.try_into().map_err(|b: Vec<u8>| malformed(method, format!("a hash of {} octets, not 32", b.len())))
}

/// A blob: padded base64.
pub fn blob_from(method: &'static str, value: &Value) -> Result<Vec<u8>, RpcError> {
    let text = value.as_str().ok_or_else(|| malformed(method, format!("{value} is not a base64 string")))?;
    BASE64.decode(text).map_err(|e| malformed(method, format!("{text:?} is not padded base64: {e}")))
}

fn u32_from(method: &'static str, what: &str, value: &Value) -> Result<u32, RpcError> {
    value
        .as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| malformed(method, format!("`{what}` {value} is not a 32-bit number")))
}

/// `{header_hash, slot}` (or the older text's `[hash, slot]`).
pub fn block_from(method: &'static str, value: &Value) -> Result<BlockDesc, RpcError> {
    let (hash, slot) = match value {
        Value::Object(map) => (
            map.get("header_hash").ok_or_else(|| malformed(method, "a block without `header_hash`"))?,
            map.get("slot").ok_or_else(|| malformed(method, "a block without `slot`"))?,
        ),
        Value::Array(items) if items.len() == 2 => (&items[0], &items[1]),
        other => return Err(malformed(method, format!("{other} is not a block descriptor"))),
    };
    Ok(BlockDesc { hash: hash_from(method, hash)?, slot: u32_from(method, "slot", slot)? })
}

/// JIP-2's status enumeration, externally tagged: `{"Reportable":{…}}`, `{"Failed":"why"}`.
pub fn status_from(method: &'static str, value: &Value) -> Result<PackageStatus, RpcError> {
    let bad = || malformed(method, format!("{value} is no work-package status"));
    let Value::Object(map) = value else { return Err(bad()) };
    let (tag, body) = map.iter().next().filter(|_| map.len() == 1).ok_or_else(bad)?;
    let field =
        |name: &str| body.get(name).ok_or_else(|| malformed(method, format!("{tag} without `{name}`")));
    let reported = || -> Result<(BlockDesc, u32, [u8; 32]), RpcError> {
        Ok((
            block_from(method, field("reported_in")?)?,
            u32_from(method, "core", field("core")?)?,
            hash_from(method, field("report_hash")?)?,
        ))
    };
    Ok(match tag.as_str() {
        "Reportable" => PackageStatus::Reportable {
            remaining_blocks: field("remaining_blocks")?
                .as_u64()
                .ok_or_else(|| malformed(method, "`remaining_blocks` is not a number"))?,
        },
        "Reported" => {
            let (reported_in, core, report_hash) = reported()?;
            PackageStatus::Reported { reported_in, core, report_hash }
        }
        "Ready" => {
            let (reported_in, core, report_hash) = reported()?;
            PackageStatus::Ready {
                reported_in,
                core,
                report_hash,
                ready_in: block_from(method, field("ready_in")?)?,
            }
        }
        "Failed" => PackageStatus::Failed(body.as_str().map_or_else(|| body.to_string(), str::to_string)),
        _ => return Err(bad()),
    })
}

fn b64(bytes: &[u8]) -> String {
    BASE64.encode(bytes)
}

fn params(values: Vec<Value>) -> ArrayParams {
    let mut params = ArrayParams::new();
    for value in values {
        // A `Value` always serializes.
        let _ = params.insert(value);
    }
    params
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

    async fn call(&self, method: &'static str, args: Vec<Value>) -> Result<Value, RpcError> {
        self.client.request::<Value, _>(method, params(args)).await.map_err(|e| match e {
            ClientError::Call(object) => {
                RpcError::Node { method, code: object.code(), message: object.message().to_string() }
            }
            ClientError::RequestTimeout => RpcError::Timeout { method },
            ClientError::ParseError(e) => malformed(method, e.to_string()),
            other => RpcError::Connection { method, why: other.to_string() },
        })
    }

    pub async fn best_block(&self) -> Result<BlockDesc, RpcError> {
        block_from("bestBlock", &self.call("bestBlock", vec![]).await?)
    }

    /// The posterior state root of block `hash`, `None` when the node does not know it.
    pub async fn state_root(&self, hash: &[u8; 32]) -> Result<Option<[u8; 32]>, RpcError> {
        let reply = self.call("stateRoot", vec![b64(hash).into()]).await?;
        if reply.is_null() {
            return Ok(None);
        }
        hash_from("stateRoot", &reply).map(Some)
    }

    /// The BEEFY root (the accumulation outputs' super-peak) of block `hash`.
    pub async fn beefy_root(&self, hash: &[u8; 32]) -> Result<Option<[u8; 32]>, RpcError> {
        let reply = self.call("beefyRoot", vec![b64(hash).into()]).await?;
        if reply.is_null() {
            return Ok(None);
        }
        hash_from("beefyRoot", &reply).map(Some)
    }

    pub async fn submit_work_package(
        &self,
        core: u32,
        package: &[u8],
        extrinsics: &[Vec<u8>],
    ) -> Result<(), RpcError> {
        let extrinsics: Vec<Value> = extrinsics.iter().map(|e| b64(e).into()).collect();
        self.call("submitWorkPackage", vec![core.into(), b64(package).into(), extrinsics.into()]).await?;
        Ok(())
    }

    /// The status of package `package` anchored at `anchor`, as of block `at`.
    pub async fn work_package_status(
        &self,
        at: &[u8; 32],
        package: &[u8; 32],
        anchor: &[u8; 32],
    ) -> Result<PackageStatus, RpcError> {
        let reply = self
            .call("workPackageStatus", vec![b64(at).into(), b64(package).into(), b64(anchor).into()])
            .await?;
        status_from("workPackageStatus", &reply)
    }

    /// The GP-encoded work report of this hash, `None` when the node has none.
    pub async fn work_report(&self, hash: &[u8; 32]) -> Result<Option<Vec<u8>>, RpcError> {
        let reply = self.call("workReport", vec![b64(hash).into()]).await?;
        if reply.is_null() {
            return Ok(None);
        }
        blob_from("workReport", &reply).map(Some)
    }

    /// The GP-encoded service account info of `id` in block `at`'s posterior state.
    pub async fn service_data(&self, at: &[u8; 32], id: u32) -> Result<Option<Vec<u8>>, RpcError> {
        let reply = self.call("serviceData", vec![b64(at).into(), id.into()]).await?;
        if reply.is_null() {
            return Ok(None);
        }
        blob_from("serviceData", &reply).map(Some)
    }

    /// The value under `key` in service `id`'s storage, block `at`'s posterior state.
    pub async fn service_value(
        &self,
        at: &[u8; 32],
        id: u32,
        key: &[u8],
    ) -> Result<Option<Vec<u8>>, RpcError> {
        let reply = self.call("serviceValue", vec![b64(at).into(), id.into(), b64(key).into()]).await?;
        if reply.is_null() {
            return Ok(None);
        }
        blob_from("serviceValue", &reply).map(Some)
    }

    pub async fn list_services(&self, at: &[u8; 32]) -> Result<Vec<u32>, RpcError> {
        let reply = self.call("listServices", vec![b64(at).into()]).await?;
        let items =
            reply.as_array().ok_or_else(|| malformed("listServices", format!("{reply} is not an array")))?;
        items.iter().map(|v| u32_from("listServices", "service id", v)).collect()
    }

    /// `parameters()`'s `core_count`.
    pub async fn core_count(&self) -> Result<u32, RpcError> {
        let reply = self.call("parameters", vec![]).await?;
        let count = reply
            .get("V1")
            .and_then(|v| v.get("core_count"))
            .ok_or_else(|| malformed("parameters", "no `V1.core_count`"))?;
        u32_from("parameters", "core_count", count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn replies_of_the_jip2_shapes_are_read() {
        // base64 of 32 octets 0x01: "AQEB…AQE=" (RFC 4648, padded).
        let ones = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
        let block = json!({"header_hash": ones, "slot": 12});
        assert_eq!(block_from("t", &block).unwrap(), BlockDesc { hash: [1; 32], slot: 12 });
        assert_eq!(
            status_from("t", &json!({"Reportable": {"remaining_blocks": 3}})).unwrap(),
            PackageStatus::Reportable { remaining_blocks: 3 }
        );
        let ready = json!({"Ready": {"reported_in": block, "core": 1, "report_hash": ones,
            "ready_in": {"header_hash": ones, "slot": 14}}});
        assert_eq!(
            status_from("t", &ready).unwrap(),
            PackageStatus::Ready {
                reported_in: BlockDesc { hash: [1; 32], slot: 12 },
                core: 1,
                report_hash: [1; 32],
                ready_in: BlockDesc { hash: [1; 32], slot: 14 }
            }
        );
        assert_eq!(
            status_from("t", &json!({"Failed": "expired"})).unwrap(),
            PackageStatus::Failed("expired".into())
        );
        assert_eq!(blob_from("t", &json!("aGk=")).unwrap(), b"hi");
    }

    #[test]
    fn malformed_replies_are_named_errors() {
        let cases = [
            (json!("AQID"), "a hash of 3 octets"),
            (json!("not base64!"), "not padded base64"),
            (json!(7), "not a base64 string"),
        ];
        for (value, expected) in cases {
            let e = hash_from("stateRoot", &value).unwrap_err().to_string();
            assert!(e.starts_with("stateRoot: a malformed reply") && e.contains(expected), "{e}");
        }
        for value in [json!({"Pending": {}}), json!({"Reported": {"core": 0}}), json!(null), json!([1, 2])] {
            let e = status_from("workPackageStatus", &value).unwrap_err().to_string();
            assert!(e.contains("workPackageStatus: a malformed reply"), "{e}");
        }
        let e = block_from("bestBlock", &json!({"header_hash": "AQID", "slot": 1})).unwrap_err();
        assert!(e.to_string().contains("a hash of 3 octets"), "{e}");
        let ones = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
        let e = block_from("bestBlock", &json!({"header_hash": ones, "slot": -1})).unwrap_err();
        assert!(e.to_string().contains("`slot` -1 is not a 32-bit number"), "{e}");
    }
}
