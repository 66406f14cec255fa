//! The JIP-2 methods over a [`Backend`], served by jsonrpsee (WebSocket and plain HTTP POST on one
//! port), with `GET /health` answered on the same port by [`HealthLayer`].
//!
//! State is read at a block's posterior state, which the node keeps in memory from its final block
//! on (`orrery_store::Chain::state`); an older or unknown block is error 1 ("block unavailable",
//! data = the hash). Subscriptions watch the node's heads and re-evaluate their value at each new
//! best (or finalized) block, notifying only when the value changed (the first value is always
//! sent).
//!
//! Bounds: [`RpcConfig`] caps connections, subscriptions per connection, request and response
//! sizes, and submissions per connection per minute; a work package is at most
//! [`MAX_WORK_PACKAGE`] bytes and a preimage at most [`MAX_PREIMAGE`]. Every query runs on the node
//! thread and must answer within [`QUERY_DEADLINE`].
//!
//! The DA segment methods (`fetchWorkPackageSegments`, `fetchSegments`) answer from the shards the
//! node keeps, reconstructing each segment and proving it against its segment root; a node that
//! keeps fewer than `R` shards of the report (an assurer keeps one) answers error 3 (it does not
//! fetch from other assurers for an RPC call).
//!
//! What is not here: `submitWorkPackageBundle`
//! takes the bundle's work-package and extrinsics and hands them on like `submitWorkPackage` (the
//! guarantor fetches the imports itself); `workReport` finds reports that are pending (ρ) or queued
//! for accumulation (ω) at the best block, or guaranteed in a block the node holds in memory.
//! `workPackageStatus` reads β, ρ, ω and ξ along the ancestors whose states the node holds; a
//! package accumulated so long ago that its report is in none of them nor in a block in memory is
//! `Ready` with core 0 and an all-zero report hash (there is no report left to name).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jsonrpsee::server::{
    ConnectionId, Extensions, PendingSubscriptionSink, RpcModule, Server, ServerConfig, ServerHandle,
    SubscriptionMessage,
};
use jsonrpsee::types::{ErrorObjectOwned, Params};
use orrery_codec::{Decode, Encode};
use orrery_network::message::WorkPackageSubmission;
use orrery_node::{Input, Node};
use orrery_state::State;
use orrery_store::{PackageMark, PackageStage};
use orrery_types::{HeaderHash, ServiceId, WorkPackage};
use serde::Serialize;

use crate::backend::{Backend, Heads, Query, Unavailable};
use crate::health::HealthLayer;
use crate::types::{
    error, method, Blob, BlockDescriptor, ChainUpdate, Hash, Parameters, ParametersResult, SyncState,
    SyncStatus, WorkPackageStatus,
};

/// JIP-2's port.
pub const DEFAULT_PORT: u16 = 19800;
/// The largest work package `submitWorkPackage` takes (JAMNP-S CE 133's cap).
pub const MAX_WORK_PACKAGE: usize = 200 * 1024;
/// The largest preimage `submitPreimage` takes (`W_C`, the largest service code).
pub const MAX_PREIMAGE: usize = orrery_types::constants::MAX_SERVICE_CODE_SIZE;
/// Time the node thread has to answer a query.
pub const QUERY_DEADLINE: Duration = Duration::from_secs(10);
/// Segments one fetch may ask for (`W_M`).
pub const MAX_SEGMENT_INDICES: usize = orrery_types::constants::MAX_PACKAGE_IMPORTS;
/// Blocks searched for a guarantee by `workReport`, newest first.
const REPORT_SEARCH_BLOCKS: usize = 64;

/// The server's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RpcConfig {
    pub max_connections: u32,
    pub max_subscriptions_per_connection: u32,
    /// The largest request (a base64 bundle is 4/3 of its bytes).
    pub max_request_bytes: u32,
    pub max_response_bytes: u32,
    /// Submissions (work packages, bundles, preimages) one connection may make per minute.
    pub submissions_per_minute: u32,
    /// Submissions all connections together may make per minute (plain HTTP opens a connection per
    /// request, so the per-connection cap alone would not bound it).
    pub total_submissions_per_minute: u32,
}

impl Default for RpcConfig {
    fn default() -> Self {
        Self {
            max_connections: 64,
            max_subscriptions_per_connection: 64,
            // A bundle of `W_B` bytes in base64, and some room for the rest of the request.
            max_request_bytes: (orrery_types::constants::MAX_BUNDLE_SIZE as u32 / 3 + 1) * 4 + 4096,
            max_response_bytes: 16 * 1024 * 1024,
            submissions_per_minute: 60,
            total_submissions_per_minute: 600,
        }
    }
}

/// Why the server did not start.
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    #[error("RPC listener on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("registering {0}: {1}")]
    Register(&'static str, String),
}

/// What the handlers share.
struct Ctx {
    backend: Arc<dyn Backend>,
    config: RpcConfig,
    /// Per connection: the start of its current minute and the submissions made in it.
    submissions: Mutex<HashMap<ConnectionId, (Instant, u32)>>,
}

impl std::fmt::Debug for Ctx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx").field("config", &self.config).finish_non_exhaustive()
    }
}

/// A running server.
#[derive(Debug)]
pub struct RpcServer {
    pub handle: ServerHandle,
    pub local_addr: SocketAddr,
    /// WebSocket connections open now ([`crate::connections`]).
    pub ws_connections: crate::connections::Counter,
}

/// Serves the JIP-2 methods over `backend` on `addr` (WebSocket and HTTP POST), and `GET /health`
/// with `health`'s JSON when given.
pub async fn start(
    addr: SocketAddr,
    backend: Arc<dyn Backend>,
    config: RpcConfig,
    health: Option<crate::health::HealthFn>,
) -> Result<RpcServer, RpcError> {
    let module = module(backend, config)?;
    let server_config = ServerConfig::builder()
        .max_connections(config.max_connections)
        .max_subscriptions_per_connection(config.max_subscriptions_per_connection)
        .max_request_body_size(config.max_request_bytes)
        .max_response_body_size(config.max_response_bytes)
        .build();
    let ws_connections = crate::connections::Counter::default();
    let http = tower::ServiceBuilder::new()
        .layer(crate::connections::CountLayer::new(ws_connections.clone()))
        .layer(HealthLayer::new(health));
    let server = Server::builder()
        .set_config(server_config)
        .set_http_middleware(http)
        .build(addr)
        .await
        .map_err(|source| RpcError::Bind { addr, source })?;
    let local_addr = server.local_addr().map_err(|source| RpcError::Bind { addr, source })?;
    let handle = server.start(module);
    Ok(RpcServer { handle, local_addr, ws_connections })
}

/// Every method, over `backend`.
pub fn module(backend: Arc<dyn Backend>, config: RpcConfig) -> Result<RpcModule<()>, RpcError> {
    let ctx = Arc::new(Ctx { backend, config, submissions: Mutex::new(HashMap::new()) });
    let mut m = RpcModule::new(());
    let reg = |e: jsonrpsee::core::RegisterMethodError, name| RpcError::Register(name, e.to_string());

    macro_rules! method {
        ($name:expr, |$ctx:ident, $params:ident, $ext:ident| $body:expr) => {{
            let ctx = ctx.clone();
            m.register_async_method($name, move |$params: Params<'static>, _, $ext: Extensions| {
                let $ctx = ctx.clone();
                async move {
                    let _ = (&$ext, &$ctx, &$params);
                    $body
                }
            })
            .map_err(|e| reg(e, $name))?;
        }};
    }
    macro_rules! subscription {
        ($name:expr, $unsub:expr, |$ctx:ident, $params:ident, $sink:ident| $body:expr) => {{
            let ctx = ctx.clone();
            m.register_subscription($name, $name, $unsub, move |$params: Params<'static>, $sink, _, _| {
                let $ctx = ctx.clone();
                async move {
                    let _ = &$params;
                    $body
                }
            })
            .map_err(|e| reg(e, $name))?;
        }};
    }

    method!(method::PARAMETERS, |ctx, p, x| Ok::<_, ErrorObjectOwned>(ParametersResult::V1(Parameters::of(
        ctx.backend.spec()
    ))));
    method!(method::BEST_BLOCK, |ctx, p, x| Ok::<_, ErrorObjectOwned>(ctx.backend.heads().borrow().best));
    method!(method::FINALIZED_BLOCK, |ctx, p, x| Ok::<_, ErrorObjectOwned>(
        ctx.backend.heads().borrow().finalized
    ));
    method!(method::PARENT, |ctx, p, x| {
        let (hash,): (Hash,) = p.parse()?;
        ask(&ctx, move |node| parent(node, &hash.0)).await?
    });
    method!(method::STATE_ROOT, |ctx, p, x| {
        let (hash,): (Hash,) = p.parse()?;
        ask(&ctx, move |node| match node.chain().state_root(&hash.0) {
            Ok(Some(root)) => Ok(Hash(root)),
            Ok(None) => Err(block_unavailable(&hash.0)),
            Err(e) => Err(other(e.to_string())),
        })
        .await?
    });
    method!(method::BLOCK, |ctx, p, x| {
        let (hash,): (Hash,) = p.parse()?;
        ask(&ctx, move |node| match node.chain().block(&hash.0) {
            Ok(Some(block)) => Ok(Blob(block.encode())),
            Ok(None) => Err(block_unavailable(&hash.0)),
            Err(e) => Err(other(e.to_string())),
        })
        .await?
    });
    method!(method::VALIDATORS, |ctx, p, x| {
        let (hash,): (Hash,) = p.parse()?;
        at(&ctx, hash, |s| {
            let mut keys = s.active_validators.encode();
            keys.extend(s.safrole.pending_validators.encode());
            Blob(keys)
        })
        .await
    });
    method!(method::PENDING_REPORTS, |ctx, p, x| {
        let (hash,): (Hash,) = p.parse()?;
        at(&ctx, hash, |s| Blob(s.pending_reports.encode())).await
    });
    method!(method::BEEFY_ROOT, |ctx, p, x| {
        let (hash,): (Hash,) = p.parse()?;
        ask(&ctx, move |node| beefy_root(node, &hash.0)).await?
    });
    method!(method::STATISTICS, |ctx, p, x| {
        let (hash,): (Hash,) = p.parse()?;
        at(&ctx, hash, |s| Blob(s.statistics.encode())).await
    });
    method!(method::SERVICE_DATA, |ctx, p, x| {
        let (hash, id): (Hash, ServiceId) = p.parse()?;
        at(&ctx, hash, move |s| service_data(s, id)).await
    });
    method!(method::SERVICE_VALUE, |ctx, p, x| {
        let (hash, id, key): (Hash, ServiceId, Blob) = p.parse()?;
        at(&ctx, hash, move |s| service_value(s, id, &key.0)).await
    });
    method!(method::SERVICE_PREIMAGE, |ctx, p, x| {
        let (hash, id, preimage): (Hash, ServiceId, Hash) = p.parse()?;
        at(&ctx, hash, move |s| service_preimage(s, id, &preimage.0)).await
    });
    method!(method::SERVICE_REQUEST, |ctx, p, x| {
        let (hash, id, preimage, len): (Hash, ServiceId, Hash, u32) = p.parse()?;
        at(&ctx, hash, move |s| service_request(s, id, &preimage.0, len)).await
    });
    method!(method::LIST_SERVICES, |ctx, p, x| {
        let (hash,): (Hash,) = p.parse()?;
        at(&ctx, hash, |s| s.accounts.keys().copied().collect::<Vec<ServiceId>>()).await
    });
    method!(method::WORK_REPORT, |ctx, p, x| {
        let (hash,): (Hash,) = p.parse()?;
        ask(&ctx, move |node| work_report(node, &hash.0)).await?
    });
    method!(method::WORK_PACKAGE_STATUS, |ctx, p, x| {
        let (hash, package, anchor): (Hash, Hash, Hash) = p.parse()?;
        ask(&ctx, move |node| package_status(node, &hash.0, &package.0, &anchor.0)).await?
    });
    method!(method::SUBMIT_WORK_PACKAGE, |ctx, p, x| {
        let (core, package, extrinsics): (u16, Blob, Vec<Blob>) = p.parse()?;
        let submission = work_package(ctx.backend.spec(), core, &package.0, extrinsics)?;
        submit(&ctx, &x, Input::SubmitWorkPackage(submission))
    });
    method!(method::SUBMIT_WORK_PACKAGE_BUNDLE, |ctx, p, x| {
        let (core, bundle): (u16, Blob) = p.parse()?;
        let submission = bundle_package(ctx.backend.spec(), core, &bundle.0)?;
        submit(&ctx, &x, Input::SubmitWorkPackage(submission))
    });
    method!(method::SUBMIT_PREIMAGE, |ctx, p, x| {
        let (requester, preimage): (ServiceId, Blob) = p.parse()?;
        if preimage.0.len() > MAX_PREIMAGE {
            return Err(invalid(format!("the preimage is {} bytes, above {MAX_PREIMAGE}", preimage.0.len())));
        }
        submit(&ctx, &x, Input::SubmitPreimage { requester, blob: preimage.0 })
    });
    method!(method::FETCH_WORK_PACKAGE_SEGMENTS, |ctx, p, x| {
        let (package, indices): (Hash, Vec<u16>) = p.parse()?;
        fetch_segments(&ctx, package, true, indices).await
    });
    method!(method::FETCH_SEGMENTS, |ctx, p, x| {
        let (root, indices): (Hash, Vec<u16>) = p.parse()?;
        fetch_segments(&ctx, root, false, indices).await
    });
    method!(method::SYNC_STATE, |ctx, p, x| Ok::<_, ErrorObjectOwned>(sync_state(
        &ctx.backend.heads().borrow()
    )));

    subscription!(method::SUBSCRIBE_BEST_BLOCK, method::UNSUBSCRIBE_BEST_BLOCK, |ctx, p, sink| {
        follow_heads(&ctx, sink, |h| h.best).await
    });
    subscription!(method::SUBSCRIBE_FINALIZED_BLOCK, method::UNSUBSCRIBE_FINALIZED_BLOCK, |ctx, p, sink| {
        follow_heads(&ctx, sink, |h| h.finalized).await
    });
    subscription!(method::SUBSCRIBE_SYNC_STATUS, method::UNSUBSCRIBE_SYNC_STATUS, |ctx, p, sink| {
        follow_heads(&ctx, sink, |h| sync_state(h).status).await
    });
    subscription!(method::SUBSCRIBE_STATISTICS, method::UNSUBSCRIBE_STATISTICS, |ctx, p, sink| {
        match p.parse::<(bool,)>() {
            Ok((finalized,)) => follow_state(&ctx, sink, finalized, |s| Blob(s.statistics.encode())).await,
            Err(e) => sink.reject(e).await,
        }
    });
    subscription!(method::SUBSCRIBE_SERVICE_DATA, method::UNSUBSCRIBE_SERVICE_DATA, |ctx, p, sink| {
        match p.parse::<(ServiceId, bool)>() {
            Ok((id, finalized)) => follow_state(&ctx, sink, finalized, move |s| service_data(s, id)).await,
            Err(e) => sink.reject(e).await,
        }
    });
    subscription!(method::SUBSCRIBE_SERVICE_VALUE, method::UNSUBSCRIBE_SERVICE_VALUE, |ctx, p, sink| {
        match p.parse::<(ServiceId, Blob, bool)>() {
            Ok((id, key, finalized)) => {
                follow_state(&ctx, sink, finalized, move |s| service_value(s, id, &key.0)).await
            }
            Err(e) => sink.reject(e).await,
        }
    });
    subscription!(
        method::SUBSCRIBE_SERVICE_PREIMAGE,
        method::UNSUBSCRIBE_SERVICE_PREIMAGE,
        |ctx, p, sink| {
            match p.parse::<(ServiceId, Hash, bool)>() {
                Ok((id, hash, finalized)) => {
                    follow_state(&ctx, sink, finalized, move |s| service_preimage(s, id, &hash.0)).await
                }
                Err(e) => sink.reject(e).await,
            }
        }
    );
    subscription!(method::SUBSCRIBE_SERVICE_REQUEST, method::UNSUBSCRIBE_SERVICE_REQUEST, |ctx, p, sink| {
        match p.parse::<(ServiceId, Hash, u32, bool)>() {
            Ok((id, hash, len, finalized)) => {
                follow_state(&ctx, sink, finalized, move |s| service_request(s, id, &hash.0, len)).await
            }
            Err(e) => sink.reject(e).await,
        }
    });
    subscription!(
        method::SUBSCRIBE_WORK_PACKAGE_STATUS,
        method::UNSUBSCRIBE_WORK_PACKAGE_STATUS,
        |ctx, p, sink| {
            match p.parse::<(Hash, Hash, bool)>() {
                Ok((package, anchor, finalized)) => {
                    follow(&ctx, sink, finalized, move |node, at| {
                        package_status(node, at, &package.0, &anchor.0)
                    })
                    .await
                }
                Err(e) => sink.reject(e).await,
            }
        }
    );
    Ok(m)
}

fn other(message: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned::<()>(error::OTHER, message, None)
}

fn invalid(message: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned::<()>(jsonrpsee::types::error::INVALID_PARAMS_CODE, message, None)
}

fn block_unavailable(hash: &HeaderHash) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(error::BLOCK_UNAVAILABLE, "block unavailable", Some(Hash(*hash)))
}

fn unavailable(e: Unavailable) -> ErrorObjectOwned {
    other(e.to_string())
}

/// Runs `f` on the node thread.
async fn ask<T: Send + 'static>(
    ctx: &Ctx,
    f: impl FnOnce(&Node) -> T + Send + 'static,
) -> Result<T, ErrorObjectOwned> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let query: Query = Box::new(move |node| {
        let _ = tx.send(f(node));
    });
    ctx.backend.query(query).map_err(unavailable)?;
    match tokio::time::timeout(QUERY_DEADLINE, rx).await {
        Ok(Ok(answer)) => Ok(answer),
        Ok(Err(_)) => Err(unavailable(Unavailable::Stopped)),
        Err(_) => Err(other("the node did not answer in time")),
    }
}

/// `f` of the posterior state of block `hash`.
async fn at<T: Send + 'static>(
    ctx: &Ctx,
    hash: Hash,
    f: impl FnOnce(&State) -> T + Send + 'static,
) -> Result<T, ErrorObjectOwned> {
    ask(ctx, move |node| {
        node.chain().state(&hash.0).map(|s| f(s.state())).ok_or_else(|| block_unavailable(&hash.0))
    })
    .await?
}

fn descriptor(node: &Node, hash: &HeaderHash) -> Option<BlockDescriptor> {
    node.chain().header_of(hash).map(|(slot, _)| BlockDescriptor { header_hash: Hash(*hash), slot })
}

fn parent(node: &Node, hash: &HeaderHash) -> Result<BlockDescriptor, ErrorObjectOwned> {
    let (_, parent) = node.chain().header_of(hash).ok_or_else(|| block_unavailable(hash))?;
    descriptor(node, &parent).ok_or_else(|| block_unavailable(&parent))
}

/// The BEEFY root (the accumulation-output MMR's super-peak) recorded for `hash` in recent history
/// β: in its own posterior state, or in the best block's while it is among the last `H` blocks.
fn beefy_root(node: &Node, hash: &HeaderHash) -> Result<Hash, ErrorObjectOwned> {
    let chain = node.chain();
    let best = chain.best().0;
    let root = [*hash, best]
        .iter()
        .filter_map(|at| chain.state(at))
        .find_map(|s| s.state().recent_blocks.history.iter().find(|b| b.header_hash == *hash))
        .map(|b| Hash(b.beefy_root));
    root.ok_or_else(|| block_unavailable(hash))
}

/// The account's fixed fields as the state holds them under `C(255, s)`.
fn service_data(s: &State, id: ServiceId) -> Option<Blob> {
    s.accounts.get(&id).map(|a| Blob(a.info.encode()))
}

fn service_value(s: &State, id: ServiceId, key: &[u8]) -> Option<Blob> {
    s.accounts.get(&id)?.storage(key).map(Blob::from)
}

fn service_preimage(s: &State, id: ServiceId, hash: &[u8; 32]) -> Option<Blob> {
    s.accounts.get(&id)?.preimage(hash).map(Blob::from)
}

/// `null` (no request), `[]` (requested) or the 1–3 slots; a malformed entry reads as none.
fn service_request(s: &State, id: ServiceId, hash: &[u8; 32], len: u32) -> Option<Vec<u32>> {
    s.accounts.get(&id)?.request(hash, len)?.ok()
}

fn sync_state(h: &Heads) -> SyncState {
    SyncState {
        num_peers: h.peers as u32,
        status: if h.syncing { SyncStatus::InProgress } else { SyncStatus::Completed },
    }
}

/// The segments from the node's own shards (`Node::local_segments`, reconstructed and proven);
/// error 3 when it cannot give them, saying why.
async fn fetch_segments(
    ctx: &Ctx,
    root: Hash,
    by_package: bool,
    indices: Vec<u16>,
) -> Result<Vec<Blob>, ErrorObjectOwned> {
    if indices.len() > MAX_SEGMENT_INDICES {
        return Err(invalid(format!("at most {MAX_SEGMENT_INDICES} segments at once")));
    }
    let answer = ask(ctx, move |node| node.local_segments(&root.0, by_package, &indices)).await?;
    match answer {
        Ok(segments) => Ok(segments.into_iter().map(Blob).collect()),
        Err(why) => Err(ErrorObjectOwned::owned::<()>(
            error::SEGMENT_UNAVAILABLE,
            format!("DA segment unavailable: {why}"),
            None,
        )),
    }
}

fn report_hash(report: &orrery_types::WorkReport) -> [u8; 32] {
    orrery_crypto::blake2b_256(&report.encode())
}

/// The report with this hash: pending (ρ) or queued (ω) at the best block, or guaranteed in one of
/// the newest blocks held in memory.
fn work_report(node: &Node, hash: &[u8; 32]) -> Result<Blob, ErrorObjectOwned> {
    let chain = node.chain();
    let best = chain.best().0;
    if let Some(s) = chain.state(&best).map(|s| s.state()) {
        let pending = s.pending_reports.0.iter().flatten().map(|a| &a.report);
        let queued = s.ready_queue.0.iter().flatten().map(|r| &r.report);
        if let Some(report) = pending.chain(queued).find(|r| report_hash(r) == *hash) {
            return Ok(Blob(report.encode()));
        }
    }
    let mut blocks: Vec<(u32, HeaderHash)> = chain.unfinalized().map(|(h, s, _)| (s, h)).collect();
    blocks.sort_unstable_by(|a, b| b.cmp(a));
    for (_, h) in blocks.into_iter().take(REPORT_SEARCH_BLOCKS) {
        let Ok(Some(block)) = chain.block(&h) else { continue };
        if let Some(g) = block.extrinsic.guarantees.iter().find(|g| report_hash(&g.report) == *hash) {
            return Ok(Blob(g.report.encode()));
        }
    }
    Err(ErrorObjectOwned::owned(error::WORK_REPORT_UNAVAILABLE, "work-report unavailable", Some(Hash(*hash))))
}

/// The guarantee of `package` in one of the newest blocks held in memory: its core, report hash
/// and block.
fn guaranteed(node: &Node, package: &[u8; 32]) -> Option<(u16, [u8; 32], BlockDescriptor)> {
    let chain = node.chain();
    let mut blocks: Vec<(u32, HeaderHash)> = chain.unfinalized().map(|(h, s, _)| (s, h)).collect();
    blocks.sort_unstable_by(|a, b| b.cmp(a));
    blocks.into_iter().take(REPORT_SEARCH_BLOCKS).find_map(|(slot, h)| {
        let block = chain.block(&h).ok()??;
        let g = block.extrinsic.guarantees.iter().find(|g| g.report.package_spec.hash == *package)?;
        Some((g.report.core_index, report_hash(&g.report), BlockDescriptor { header_hash: Hash(h), slot }))
    })
}

/// Where package `package` (anchored at `anchor`) stands in the posterior state of `at`, found
/// by walking `at`'s ancestors whose states the node holds: ready once it is queued for or has
/// had accumulation (ω, ξ), reported while it is pending (ρ) or named in recent history β,
/// reportable while its anchor stays in β.
fn package_status(
    node: &Node,
    at: &HeaderHash,
    package: &[u8; 32],
    anchor: &HeaderHash,
) -> Result<WorkPackageStatus, ErrorObjectOwned> {
    let chain = node.chain();
    let state = chain.state(at).ok_or_else(|| block_unavailable(at))?.state();
    let ready = |s: &State| {
        s.ready_queue.0.iter().flatten().any(|r| r.report.package_spec.hash == *package)
            || s.accumulated.0.iter().flatten().any(|h| h == package)
    };
    let pending = |s: &State| {
        s.pending_reports.0.iter().enumerate().find_map(|(core, a)| {
            a.as_ref()
                .filter(|a| a.report.package_spec.hash == *package)
                .map(|a| (core as u16, report_hash(&a.report)))
        })
    };
    let queued = |s: &State| {
        s.ready_queue
            .0
            .iter()
            .flatten()
            .find(|r| r.report.package_spec.hash == *package)
            .map(|r| (r.report.core_index, report_hash(&r.report)))
    };
    // The chain's own marks, kept with each block: exact, and as old as the chain.
    let marks = chain.package_marks(package, at).map_err(|e| other(e.to_string()))?;
    let described = |m: &PackageMark| BlockDescriptor { header_hash: Hash(m.block), slot: m.slot };
    let reported = marks.iter().rev().find(|m| m.stage == PackageStage::Reported);
    if let Some(a) = marks.iter().rev().find(|m| m.stage == PackageStage::Available) {
        let reported_in = reported.filter(|r| r.slot <= a.slot).unwrap_or(a);
        return Ok(WorkPackageStatus::Ready {
            reported_in: described(reported_in),
            core: a.core,
            report_hash: Hash(a.report_hash),
            ready_in: described(a),
        });
    }
    if let Some(r) = reported {
        if pending(state).is_some() {
            return Ok(WorkPackageStatus::Reported {
                reported_in: described(r),
                core: r.core,
                report_hash: Hash(r.report_hash),
            });
        }
        return Ok(WorkPackageStatus::Failed(format!(
            "reported in the block at slot {}, then dropped from the pending reports without becoming \
             available (it timed out, or was judged invalid)",
            r.slot
        )));
    }
    // No marks: a chain that started from a state (not a genesis) holds none for the packages of
    // the blocks before it. The state itself still tells.
    // The block that named it in β (guaranteed in it), while β remembers.
    let named_in = state
        .recent_blocks
        .history
        .iter()
        .find(|b| b.reported.iter().any(|r| r.hash == *package))
        .and_then(|b| descriptor(node, &b.header_hash));
    let is_ready = ready(state);
    if is_ready || pending(state).is_some() || named_in.is_some() {
        // Walk back while the state still shows it, for the first block it appeared in and the
        // report that was pending before it became ready.
        let mut report = pending(state).or_else(|| queued(state));
        let mut ready_in = descriptor(node, at);
        let mut reported_in = named_in;
        let mut cursor = *at;
        for _ in 0..orrery_types::constants::RECENT_HISTORY_LEN * 4 {
            let Some((_, parent)) = chain.header_of(&cursor) else { break };
            let Some(s) = chain.state(&parent).map(|s| s.state()) else { break };
            if is_ready && ready(s) {
                ready_in = descriptor(node, &parent);
                if report.is_none() {
                    report = queued(s);
                }
            } else if let Some(p) = pending(s) {
                report.get_or_insert(p);
                if reported_in.is_none() || named_in.is_none() {
                    reported_in = descriptor(node, &parent);
                }
            } else if !is_ready || report.is_some() {
                break;
            }
            cursor = parent;
        }
        // Accumulated and out of every state the walk saw: the guarantee in a block still held.
        if report.is_none() {
            if let Some((core, hash, block)) = guaranteed(node, package) {
                report = Some((core, hash));
                reported_in = reported_in.or(Some(block));
            }
        }
        // Past all of that the report is gone from this node: core 0 and an all-zero hash say so.
        let (core, report_hash) = report.unwrap_or((0, [0; 32]));
        let reported_in =
            reported_in.or(ready_in).unwrap_or(BlockDescriptor { header_hash: Hash(*at), slot: 0 });
        if is_ready {
            return Ok(WorkPackageStatus::Ready {
                reported_in,
                core,
                report_hash: Hash(report_hash),
                ready_in: ready_in.unwrap_or(reported_in),
            });
        }
        if report.is_some() {
            return Ok(WorkPackageStatus::Reported { reported_in, core, report_hash: Hash(report_hash) });
        }
        return Ok(WorkPackageStatus::Failed(
            "reported, but it neither became available nor is pending: it timed out".into(),
        ));
    }
    let history = &state.recent_blocks.history;
    let Some(position) = history.iter().position(|b| b.header_hash == *anchor) else {
        return Ok(WorkPackageStatus::Failed(
            "its anchor is not among the recent blocks of this fork (another fork, or too old)".into(),
        ));
    };
    // The next block checks the anchor against β as it is now; each block after it drops the
    // oldest entry once β is full.
    let room = orrery_types::constants::RECENT_HISTORY_LEN.saturating_sub(history.len());
    Ok(WorkPackageStatus::Reportable { remaining_blocks: (position + 1 + room) as u32 })
}

/// The submission `submitWorkPackage` makes: the package decoded whole (at most
/// [`MAX_WORK_PACKAGE`] bytes, on `core` < `C`), the extrinsics assigned to its items in order and
/// checked against their declared hashes and lengths.
fn work_package(
    spec: &orrery_types::ChainSpec,
    core: u16,
    package: &[u8],
    extrinsics: Vec<Blob>,
) -> Result<WorkPackageSubmission, ErrorObjectOwned> {
    if core >= spec.cores_count {
        return Err(invalid(format!("core {core} does not exist; there are {}", spec.cores_count)));
    }
    if package.len() > MAX_WORK_PACKAGE {
        return Err(invalid(format!("the package is {} bytes, above {MAX_WORK_PACKAGE}", package.len())));
    }
    let package: WorkPackage = orrery_codec::decode_exact(package, spec.lengths())
        .map_err(|e| invalid(format!("the work-package does not decode: {e}")))?;
    let extrinsics = assign_extrinsics(&package, extrinsics.into_iter().map(|b| b.0))?;
    Ok(WorkPackageSubmission { core, package, extrinsics })
}

/// The extrinsics of `package`'s items, in item order, checked against each item's specs.
fn assign_extrinsics(
    package: &WorkPackage,
    blobs: impl ExactSizeIterator<Item = Vec<u8>>,
) -> Result<Vec<Vec<Vec<u8>>>, ErrorObjectOwned> {
    let wanted: usize = package.items.iter().map(|i| i.extrinsic.len()).sum();
    if blobs.len() != wanted {
        return Err(invalid(format!("the package's items name {wanted} extrinsics; {} given", blobs.len())));
    }
    let mut blobs = blobs;
    let mut out = Vec::with_capacity(package.items.len());
    for (i, item) in package.items.iter().enumerate() {
        let mut mine = Vec::with_capacity(item.extrinsic.len());
        for (j, spec) in item.extrinsic.iter().enumerate() {
            let Some(blob) = blobs.next() else { break };
            if blob.len() != spec.len as usize || orrery_crypto::blake2b_256(&blob) != spec.hash {
                return Err(invalid(format!("extrinsic {j} of item {i} does not match its hash and length")));
            }
            mine.push(blob);
        }
        out.push(mine);
    }
    Ok(out)
}

/// `submitWorkPackageBundle`: the bundle's package and extrinsics (GP 0.7.2 eq. 14.15: the
/// package, then the extrinsic blobs as the items declare them, then imports and justifications,
/// which a guarantor fetches or rebuilds itself).
fn bundle_package(
    spec: &orrery_types::ChainSpec,
    core: u16,
    bundle: &[u8],
) -> Result<WorkPackageSubmission, ErrorObjectOwned> {
    if core >= spec.cores_count {
        return Err(invalid(format!("core {core} does not exist; there are {}", spec.cores_count)));
    }
    if bundle.len() > orrery_types::constants::MAX_BUNDLE_SIZE {
        return Err(invalid("the bundle is above W_B bytes"));
    }
    let mut decoder = orrery_codec::Decoder::new(bundle, spec.lengths());
    let package = WorkPackage::decode(&mut decoder)
        .map_err(|e| invalid(format!("the bundle's work-package does not decode: {e}")))?;
    let mut at = bundle.len() - decoder.remaining();
    if at > MAX_WORK_PACKAGE {
        return Err(invalid(format!("the bundle's package is {at} bytes, above {MAX_WORK_PACKAGE}")));
    }
    let mut blobs = Vec::new();
    for item in &package.items {
        for x in &item.extrinsic {
            let end = at.checked_add(x.len as usize).filter(|e| *e <= bundle.len());
            let Some(end) = end else { return Err(invalid("the bundle ends inside an extrinsic")) };
            blobs.push(bundle[at..end].to_vec());
            at = end;
        }
    }
    let extrinsics = assign_extrinsics(&package, blobs.into_iter())?;
    Ok(WorkPackageSubmission { core, package, extrinsics })
}

/// The key of the all-connections allowance in [`Ctx::submissions`].
const ALL: ConnectionId = ConnectionId(usize::MAX);

/// Hands a submission to the node, within the connection's allowance and the server's.
fn submit(ctx: &Ctx, ext: &Extensions, input: Input) -> Result<(), ErrorObjectOwned> {
    let conn = ext.get::<ConnectionId>().copied().unwrap_or(ALL);
    {
        let mut map = ctx.submissions.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let minute = Duration::from_secs(60);
        // Forget connections idle for a minute: the map stays about as large as the live ones.
        if map.len() > 2 * ctx.config.max_connections as usize {
            map.retain(|c, (start, _)| *c == ALL || now.duration_since(*start) < minute);
        }
        let mut used = |key: ConnectionId| {
            let entry = map.entry(key).or_insert((now, 0));
            if now.duration_since(entry.0) >= minute {
                *entry = (now, 0);
            }
            entry.1
        };
        if used(conn) >= ctx.config.submissions_per_minute {
            return Err(other(format!(
                "more than {} submissions in a minute on this connection",
                ctx.config.submissions_per_minute
            )));
        }
        if used(ALL) >= ctx.config.total_submissions_per_minute {
            return Err(other("the node takes no more submissions this minute"));
        }
        let keys: &[ConnectionId] = if conn == ALL { &[ALL] } else { &[conn, ALL] };
        for key in keys {
            if let Some(entry) = map.get_mut(key) {
                entry.1 += 1;
            }
        }
    }
    ctx.backend.submit(input).map_err(unavailable)
}

/// Sends `pick(heads)` now and whenever it changes.
async fn follow_heads<T: Serialize + PartialEq + Copy + Send + 'static>(
    ctx: &Ctx,
    pending: PendingSubscriptionSink,
    pick: impl Fn(&Heads) -> T + Send,
) {
    let mut heads = ctx.backend.heads();
    let Ok(sink) = pending.accept().await else { return };
    let mut last: Option<T> = None;
    loop {
        let value = pick(&heads.borrow_and_update());
        if last != Some(value) {
            let Ok(msg) = message(&value) else { return };
            if sink.send(msg).await.is_err() {
                return;
            }
            last = Some(value);
        }
        tokio::select! {
            changed = heads.changed() => if changed.is_err() { return },
            _ = sink.closed() => return,
        }
    }
}

/// A chain subscription over the posterior state of the followed block.
async fn follow_state<T: Serialize + PartialEq + Send + 'static>(
    ctx: &Ctx,
    pending: PendingSubscriptionSink,
    finalized: bool,
    f: impl Fn(&State) -> T + Send + Sync + Clone + 'static,
) {
    follow(ctx, pending, finalized, move |node, at| {
        node.chain().state(at).map(|s| f(s.state())).ok_or_else(|| block_unavailable(at))
    })
    .await
}

/// A chain subscription: `f` at each new followed block, sent as a [`ChainUpdate`] when it changed.
async fn follow<T: Serialize + PartialEq + Send + 'static>(
    ctx: &Ctx,
    pending: PendingSubscriptionSink,
    finalized: bool,
    f: impl Fn(&Node, &HeaderHash) -> Result<T, ErrorObjectOwned> + Send + Sync + Clone + 'static,
) {
    let mut heads = ctx.backend.heads();
    let Ok(sink) = pending.accept().await else { return };
    let mut last: Option<T> = None;
    let mut seen: Option<BlockDescriptor> = None;
    loop {
        let head = {
            let h = heads.borrow_and_update();
            if finalized {
                h.finalized
            } else {
                h.best
            }
        };
        if seen != Some(head) {
            seen = Some(head);
            let g = f.clone();
            let value = match ask(ctx, move |node| g(node, &head.header_hash.0)).await {
                Ok(Ok(value)) => value,
                // The block went (pruned, or the node is busy): wait for the next one.
                Ok(Err(_)) | Err(_) => {
                    tokio::select! {
                        changed = heads.changed() => if changed.is_err() { return },
                        _ = sink.closed() => return,
                    }
                    continue;
                }
            };
            if last.as_ref() != Some(&value) {
                let update = ChainUpdate { header_hash: head.header_hash, slot: head.slot, value };
                let Ok(msg) = message(&update) else { return };
                if sink.send(msg).await.is_err() {
                    return;
                }
                last = Some(update.value);
            }
        }
        tokio::select! {
            changed = heads.changed() => if changed.is_err() { return },
            _ = sink.closed() => return,
        }
    }
}

fn message<T: Serialize>(value: &T) -> Result<SubscriptionMessage, serde_json::Error> {
    serde_json::value::to_raw_value(value).map(SubscriptionMessage::from)
}
