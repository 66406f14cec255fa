//! The JIP-2 server over a real node (tests/common: the dev chain, blocks authored and imported, a
//! follower node on its own thread), called by a jsonrpsee WebSocket client over loopback, and by
//! hand-written HTTP requests for what a well-behaved client never sends. Expected values are read
//! from the chain's states directly (their serialized rows, `T(σ)`), or are the fixture's own
//! constants.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Fixture, ACCUMULATED_PACKAGE, KEY, PENDING_PACKAGE, PREIMAGE, REQUESTED, SERVICE, VALUE};
use jsonrpsee::core::client::{ClientT, Subscription, SubscriptionClientT};
use jsonrpsee::core::ClientError;
use jsonrpsee::rpc_params;
use jsonrpsee::ws_client::{WsClient, WsClientBuilder};
use orrery_codec::Encode;
use orrery_import::header_hash;
use orrery_rpc::types::{
    error, method, Blob, BlockDescriptor, ChainUpdate, Hash, ParametersResult, SyncState, SyncStatus,
    WorkPackageStatus,
};
use orrery_rpc::{RpcConfig, RpcServer};
use orrery_state::keys::{account_key, component_key};
use orrery_types::{ChainSpec, RefineContext, WorkPackage};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const LIMIT: Duration = Duration::from_secs(60);

async fn serve(f: &Fixture, config: RpcConfig) -> (RpcServer, WsClient) {
    let health: orrery_rpc::health::HealthFn = Arc::new(|| "{\"peers\":1}".to_string());
    let server =
        orrery_rpc::start("127.0.0.1:0".parse().unwrap(), Arc::new(f.link.clone()), config, Some(health))
            .await
            .unwrap();
    let client = WsClientBuilder::default()
        .request_timeout(LIMIT)
        .build(format!("ws://{}", server.local_addr))
        .await
        .unwrap();
    (server, client)
}

/// The JSON-RPC error code of a failed call.
fn code<T: std::fmt::Debug>(r: Result<T, ClientError>) -> (i32, Option<String>) {
    match r {
        Err(ClientError::Call(e)) => (e.code(), e.data().map(|d| d.get().to_string())),
        other => panic!("expected an error object, got {other:?}"),
    }
}

fn json_hash(h: &[u8; 32]) -> String {
    serde_json::to_string(&Hash(*h)).unwrap()
}

/// One plain-HTTP exchange on the RPC port; the whole response as text.
async fn http(addr: std::net::SocketAddr, request: String) -> String {
    let exchange = async {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(request.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.unwrap();
        String::from_utf8_lossy(&out).into_owned()
    };
    tokio::time::timeout(Duration::from_secs(10), exchange).await.expect("an answer within 10 s")
}

async fn post(addr: std::net::SocketAddr, body: &str) -> String {
    http(
        addr,
        format!(
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        ),
    )
    .await
}

fn package() -> WorkPackage {
    WorkPackage {
        auth_code_host: SERVICE,
        auth_code_hash: [1; 32],
        context: RefineContext {
            anchor: [0; 32],
            state_root: [0; 32],
            beefy_root: [0; 32],
            lookup_anchor: [0; 32],
            lookup_anchor_slot: 0,
            prerequisites: vec![],
        },
        authorization: vec![],
        authorizer_config: vec![],
        items: vec![],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_method_answers_from_the_chain() {
    let f = Fixture::start(3);
    let config = RpcConfig { submissions_per_minute: 4, ..RpcConfig::default() };
    let (server, c) = serve(&f, config).await;
    let (best, best_slot, state) = f.best().clone();
    let (genesis, genesis_slot, _) = f.chain[0].clone();
    let (before_best, before_slot, _) = f.chain[f.chain.len() - 2].clone();
    let row = |key| state.pairs().find(|(k, _)| **k == key).map(|(_, v)| v.to_vec()).unwrap();

    let ParametersResult::V1(p) = c.request(method::PARAMETERS, rpc_params![]).await.unwrap();
    let tiny = ChainSpec::tiny();
    assert_eq!((p.core_count, p.val_count, p.epoch_period), (tiny.cores_count, tiny.validators_count, 12));

    let b: BlockDescriptor = c.request(method::BEST_BLOCK, rpc_params![]).await.unwrap();
    assert_eq!(b, BlockDescriptor { header_hash: Hash(best), slot: best_slot });
    let fin: BlockDescriptor = c.request(method::FINALIZED_BLOCK, rpc_params![]).await.unwrap();
    assert_eq!(fin, BlockDescriptor { header_hash: Hash(genesis), slot: genesis_slot }, "nothing finalized");
    let parent: BlockDescriptor = c.request(method::PARENT, rpc_params![Hash(best)]).await.unwrap();
    assert_eq!(parent, BlockDescriptor { header_hash: Hash(before_best), slot: before_slot });
    let root: Hash = c.request(method::STATE_ROOT, rpc_params![Hash(best)]).await.unwrap();
    assert_eq!(root, Hash(state.root()));
    // Orrery's `block` extension: the body whose header hashes to the asked hash.
    let body: Blob = c.request(method::BLOCK, rpc_params![Hash(best)]).await.unwrap();
    let block: orrery_types::Block =
        orrery_codec::decode_exact(&body.0, tiny.lengths()).expect("a GP-encoded block");
    assert_eq!(header_hash(&block.header), best);
    assert_eq!(block.header.parent, before_best);
    // β's newest entry is the block itself (GP 0.7.2 §7), with its BEEFY root.
    let entry = state.state().recent_blocks.history.last().unwrap();
    assert_eq!(entry.header_hash, best);
    let beefy: Hash = c.request(method::BEEFY_ROOT, rpc_params![Hash(best)]).await.unwrap();
    assert_eq!(beefy, Hash(entry.beefy_root));
    // Orrery's `validators` extension: κ (component 8), then γ_P (the head of component 4).
    let keys: Blob = c.request(method::VALIDATORS, rpc_params![Hash(best)]).await.unwrap();
    let pending = row(component_key(4));
    assert_eq!(keys.0.len(), 2 * tiny.validators_count as usize * 336);
    assert_eq!(keys.0[..keys.0.len() / 2], row(component_key(8))[..]);
    assert_eq!(keys.0[keys.0.len() / 2..], pending[..keys.0.len() / 2]);
    // `pendingReports`: ρ, component 10.
    let rho: Blob = c.request(method::PENDING_REPORTS, rpc_params![Hash(best)]).await.unwrap();
    assert_eq!(rho.0, row(component_key(10)));
    // π is state component 13.
    let stats: Blob = c.request(method::STATISTICS, rpc_params![Hash(best)]).await.unwrap();
    assert_eq!(stats.0, row(component_key(13)));

    let data: Option<Blob> = c.request(method::SERVICE_DATA, rpc_params![Hash(best), SERVICE]).await.unwrap();
    assert_eq!(data.unwrap().0, row(account_key(SERVICE)));
    let none: Option<Blob> = c.request(method::SERVICE_DATA, rpc_params![Hash(best), 999u32]).await.unwrap();
    assert_eq!(none, None);
    let value: Option<Blob> =
        c.request(method::SERVICE_VALUE, rpc_params![Hash(best), SERVICE, Blob(KEY.to_vec())]).await.unwrap();
    assert_eq!(value, Some(Blob(VALUE.to_vec())));
    let absent: Option<Blob> = c
        .request(method::SERVICE_VALUE, rpc_params![Hash(best), SERVICE, Blob(b"nope".to_vec())])
        .await
        .unwrap();
    assert_eq!(absent, None);
    let hash = orrery_crypto::blake2b_256(PREIMAGE);
    let preimage: Option<Blob> =
        c.request(method::SERVICE_PREIMAGE, rpc_params![Hash(best), SERVICE, Hash(hash)]).await.unwrap();
    assert_eq!(preimage, Some(Blob(PREIMAGE.to_vec())));
    let provided: Option<Vec<u32>> = c
        .request(method::SERVICE_REQUEST, rpc_params![Hash(best), SERVICE, Hash(hash), PREIMAGE.len() as u32])
        .await
        .unwrap();
    assert_eq!(provided, Some(vec![genesis_slot]));
    let requested = orrery_crypto::blake2b_256(REQUESTED);
    let asked: Option<Vec<u32>> = c
        .request(
            method::SERVICE_REQUEST,
            rpc_params![Hash(best), SERVICE, Hash(requested), REQUESTED.len() as u32],
        )
        .await
        .unwrap();
    assert_eq!(asked, Some(vec![]));
    let never: Option<Vec<u32>> = c
        .request(method::SERVICE_REQUEST, rpc_params![Hash(best), SERVICE, Hash(requested), 1u32])
        .await
        .unwrap();
    assert_eq!(never, None);
    let services: Vec<u32> = c.request(method::LIST_SERVICES, rpc_params![Hash(best)]).await.unwrap();
    assert_eq!(services, state.state().accounts.keys().copied().collect::<Vec<_>>());
    assert!(services.contains(&SERVICE));

    // A package anchored at the best block may be reported in the next `H` = 8 blocks; one whose
    // anchor the fork does not know cannot become ready.
    let wp = Hash([9; 32]);
    let status: WorkPackageStatus =
        c.request(method::WORK_PACKAGE_STATUS, rpc_params![Hash(best), wp, Hash(best)]).await.unwrap();
    assert_eq!(status, WorkPackageStatus::Reportable { remaining_blocks: 8 });
    let status: WorkPackageStatus =
        c.request(method::WORK_PACKAGE_STATUS, rpc_params![Hash(best), wp, Hash([5; 32])]).await.unwrap();
    assert!(matches!(status, WorkPackageStatus::Failed(_)), "{status:?}");

    // The report pending on core 1 since the genesis: reported there, and readable by its hash
    // (the hash of its encoding, GP 0.7.2 §11.1). The package accumulated in the genesis is ready
    // since then (its report is no longer held).
    let report = common::pending_report();
    let report_hash = Hash(orrery_crypto::blake2b_256(&report.encode()));
    let status: WorkPackageStatus = c
        .request(method::WORK_PACKAGE_STATUS, rpc_params![Hash(best), Hash(PENDING_PACKAGE), Hash(best)])
        .await
        .unwrap();
    let genesis_block = BlockDescriptor { header_hash: Hash(genesis), slot: genesis_slot };
    assert_eq!(status, WorkPackageStatus::Reported { reported_in: genesis_block, core: 1, report_hash });
    let found: Blob = c.request(method::WORK_REPORT, rpc_params![report_hash]).await.unwrap();
    assert_eq!(found.0, report.encode());
    let status: WorkPackageStatus = c
        .request(method::WORK_PACKAGE_STATUS, rpc_params![Hash(best), Hash(ACCUMULATED_PACKAGE), Hash(best)])
        .await
        .unwrap();
    let WorkPackageStatus::Ready { ready_in, .. } = status else { panic!("{status:?}") };
    assert_eq!(ready_in, genesis_block);

    let sync: SyncState = c.request(method::SYNC_STATE, rpc_params![]).await.unwrap();
    assert_eq!(sync, SyncState { num_peers: 1, status: SyncStatus::Completed });

    // Submissions: accepted, then refused past the connection's allowance.
    let encoded = Blob(package().encode());
    let ok: Option<()> = c
        .request(method::SUBMIT_WORK_PACKAGE, rpc_params![0u16, encoded.clone(), Vec::<Blob>::new()])
        .await
        .unwrap();
    assert_eq!(ok, None);
    let ok: Option<()> =
        c.request(method::SUBMIT_WORK_PACKAGE_BUNDLE, rpc_params![1u16, encoded.clone()]).await.unwrap();
    assert_eq!(ok, None);
    let ok: Option<()> =
        c.request(method::SUBMIT_PREIMAGE, rpc_params![SERVICE, Blob(REQUESTED.to_vec())]).await.unwrap();
    assert_eq!(ok, None);
    let (bad_core, _) = code(
        c.request::<Option<()>, _>(
            method::SUBMIT_WORK_PACKAGE,
            rpc_params![2u16, encoded.clone(), Vec::<Blob>::new()],
        )
        .await,
    );
    assert_eq!(bad_core, -32602, "core 2 of 2");
    let (malformed, _) = code(
        c.request::<Option<()>, _>(
            method::SUBMIT_WORK_PACKAGE,
            rpc_params![0u16, Blob(vec![1, 2, 3]), Vec::<Blob>::new()],
        )
        .await,
    );
    assert_eq!(malformed, -32602, "a package that does not decode");
    let (extra, _) = code(
        c.request::<Option<()>, _>(
            method::SUBMIT_WORK_PACKAGE,
            rpc_params![0u16, encoded.clone(), vec![Blob(vec![1])]],
        )
        .await,
    );
    assert_eq!(extra, -32602, "an extrinsic no item names");
    let ok: Option<()> =
        c.request(method::SUBMIT_PREIMAGE, rpc_params![SERVICE, Blob(vec![0])]).await.unwrap();
    assert_eq!(ok, None, "the fourth submission");
    let (limited, _) =
        code(c.request::<Option<()>, _>(method::SUBMIT_PREIMAGE, rpc_params![SERVICE, Blob(vec![0])]).await);
    assert_eq!(limited, error::OTHER, "the fifth in a minute");

    // The error codes.
    let unknown = [0xee; 32];
    let (c1, data) = code(c.request::<Hash, _>(method::STATE_ROOT, rpc_params![Hash(unknown)]).await);
    assert_eq!((c1, data), (error::BLOCK_UNAVAILABLE, Some(json_hash(&unknown))));
    let (c1, _) =
        code(c.request::<Option<Blob>, _>(method::SERVICE_DATA, rpc_params![Hash(unknown), SERVICE]).await);
    assert_eq!(c1, error::BLOCK_UNAVAILABLE);
    let (c1, _) = code(c.request::<BlockDescriptor, _>(method::PARENT, rpc_params![Hash(unknown)]).await);
    assert_eq!(c1, error::BLOCK_UNAVAILABLE);
    let (c1, data) = code(c.request::<Blob, _>(method::BLOCK, rpc_params![Hash(unknown)]).await);
    assert_eq!((c1, data), (error::BLOCK_UNAVAILABLE, Some(json_hash(&unknown))));
    for m in [method::VALIDATORS, method::PENDING_REPORTS] {
        let (c1, data) = code(c.request::<Blob, _>(m, rpc_params![Hash(unknown)]).await);
        assert_eq!((c1, data), (error::BLOCK_UNAVAILABLE, Some(json_hash(&unknown))), "{m}");
    }
    let (c2, data) = code(c.request::<Blob, _>(method::WORK_REPORT, rpc_params![Hash(unknown)]).await);
    assert_eq!((c2, data), (error::WORK_REPORT_UNAVAILABLE, Some(json_hash(&unknown))));
    let (c3, _) =
        code(c.request::<Vec<Blob>, _>(method::FETCH_SEGMENTS, rpc_params![Hash(unknown), vec![0u16]]).await);
    assert_eq!(c3, error::SEGMENT_UNAVAILABLE);
    let (c3, _) = code(
        c.request::<Vec<Blob>, _>(
            method::FETCH_WORK_PACKAGE_SEGMENTS,
            rpc_params![Hash(unknown), vec![0u16]],
        )
        .await,
    );
    assert_eq!(c3, error::SEGMENT_UNAVAILABLE);
    let (invalid, _) = code(c.request::<Hash, _>(method::STATE_ROOT, rpc_params!["not base64"]).await);
    assert_eq!(invalid, -32602);
    let (invalid, _) = code(c.request::<Hash, _>(method::STATE_ROOT, rpc_params!["Zg=="]).await);
    assert_eq!(invalid, -32602, "a 1-byte hash");
    let (invalid, _) = code(c.request::<Hash, _>(method::STATE_ROOT, rpc_params![]).await);
    assert_eq!(invalid, -32602, "no parameters");
    let refused = c
        .subscribe::<ChainUpdate<Option<Blob>>, _>(
            method::SUBSCRIBE_SERVICE_VALUE,
            rpc_params![1u32],
            method::UNSUBSCRIBE_SERVICE_VALUE,
        )
        .await;
    let (invalid, _) = code(refused.map(|_| ()));
    assert_eq!(invalid, -32602, "a subscription without its parameters");

    // Requests no client library sends: each gets an error object and the server lives on.
    let addr = server.local_addr;
    let parse_error = post(addr, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":").await;
    assert!(parse_error.contains("-32700"), "{parse_error}");
    for body in [
        r#"{"jsonrpc":"2.0","id":1,"method":"stateRoot","params":{"header_hash":1}}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"serviceValue","params":[[],[],[]]}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"serviceData","params":["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",99999999999999999999]}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"submitWorkPackage","params":[0,"////",["!"],4]}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"fetchSegments","params":[null,[-1]]}"#,
    ] {
        let answer = post(addr, body).await;
        assert!(answer.contains("\"error\"") && answer.contains("-32602"), "{body}: {answer}");
    }
    let unknown_method = post(addr, r#"{"jsonrpc":"2.0","id":1,"method":"noSuchMethod","params":[]}"#).await;
    assert!(unknown_method.contains("-32601"), "{unknown_method}");
    let b: BlockDescriptor = c.request(method::BEST_BLOCK, rpc_params![]).await.unwrap();
    assert_eq!(b.header_hash, Hash(best), "still serving");

    // `/health` on the same port, closed after the answer.
    let health = http(addr, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n".into()).await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.ends_with("\r\n\r\n{\"peers\":1}"), "{health}");
    server.handle.stop().unwrap();
}

async fn next<T: serde::de::DeserializeOwned + std::fmt::Debug>(sub: &mut Subscription<T>) -> T {
    tokio::time::timeout(LIMIT, sub.next()).await.expect("a notification in time").expect("open").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_follow_a_new_best_block() {
    let f = Fixture::start(2);
    let (server, c) = serve(&f, RpcConfig::default()).await;
    let (best, best_slot, state) = f.best().clone();
    let (genesis, genesis_slot, _) = f.chain[0].clone();
    let next_hash = header_hash(&f.next.header);

    let mut best_sub: Subscription<BlockDescriptor> = c
        .subscribe(method::SUBSCRIBE_BEST_BLOCK, rpc_params![], method::UNSUBSCRIBE_BEST_BLOCK)
        .await
        .unwrap();
    let mut fin_sub: Subscription<BlockDescriptor> = c
        .subscribe(method::SUBSCRIBE_FINALIZED_BLOCK, rpc_params![], method::UNSUBSCRIBE_FINALIZED_BLOCK)
        .await
        .unwrap();
    let mut stats_sub: Subscription<ChainUpdate<Blob>> = c
        .subscribe(method::SUBSCRIBE_STATISTICS, rpc_params![false], method::UNSUBSCRIBE_STATISTICS)
        .await
        .unwrap();
    let mut value_sub: Subscription<ChainUpdate<Option<Blob>>> = c
        .subscribe(
            method::SUBSCRIBE_SERVICE_VALUE,
            rpc_params![SERVICE, Blob(KEY.to_vec()), false],
            method::UNSUBSCRIBE_SERVICE_VALUE,
        )
        .await
        .unwrap();
    let mut data_sub: Subscription<ChainUpdate<Option<Blob>>> = c
        .subscribe(
            method::SUBSCRIBE_SERVICE_DATA,
            rpc_params![SERVICE, true],
            method::UNSUBSCRIBE_SERVICE_DATA,
        )
        .await
        .unwrap();
    let hash = orrery_crypto::blake2b_256(PREIMAGE);
    let mut preimage_sub: Subscription<ChainUpdate<Option<Blob>>> = c
        .subscribe(
            method::SUBSCRIBE_SERVICE_PREIMAGE,
            rpc_params![SERVICE, Hash(hash), false],
            method::UNSUBSCRIBE_SERVICE_PREIMAGE,
        )
        .await
        .unwrap();
    let mut request_sub: Subscription<ChainUpdate<Option<Vec<u32>>>> = c
        .subscribe(
            method::SUBSCRIBE_SERVICE_REQUEST,
            rpc_params![SERVICE, Hash(hash), PREIMAGE.len() as u32, false],
            method::UNSUBSCRIBE_SERVICE_REQUEST,
        )
        .await
        .unwrap();
    let mut status_sub: Subscription<ChainUpdate<WorkPackageStatus>> = c
        .subscribe(
            method::SUBSCRIBE_WORK_PACKAGE_STATUS,
            rpc_params![Hash([9; 32]), Hash(best), false],
            method::UNSUBSCRIBE_WORK_PACKAGE_STATUS,
        )
        .await
        .unwrap();
    let mut sync_sub: Subscription<SyncStatus> = c
        .subscribe(method::SUBSCRIBE_SYNC_STATUS, rpc_params![], method::UNSUBSCRIBE_SYNC_STATUS)
        .await
        .unwrap();

    // The current values first.
    assert_eq!(next(&mut best_sub).await, BlockDescriptor { header_hash: Hash(best), slot: best_slot });
    assert_eq!(next(&mut fin_sub).await, BlockDescriptor { header_hash: Hash(genesis), slot: genesis_slot });
    let stats = next(&mut stats_sub).await;
    assert_eq!((stats.header_hash, stats.slot), (Hash(best), best_slot));
    assert_eq!(stats.value.0, state.pairs().find(|(k, _)| **k == component_key(13)).unwrap().1);
    let value = next(&mut value_sub).await;
    assert_eq!(
        value,
        ChainUpdate { header_hash: Hash(best), slot: best_slot, value: Some(Blob(VALUE.to_vec())) }
    );
    let data = next(&mut data_sub).await;
    assert_eq!(data.header_hash, Hash(genesis), "following the finalized block");
    assert!(data.value.is_some());
    assert_eq!(next(&mut preimage_sub).await.value, Some(Blob(PREIMAGE.to_vec())));
    assert_eq!(next(&mut request_sub).await.value, Some(vec![genesis_slot]));
    assert_eq!(next(&mut status_sub).await.value, WorkPackageStatus::Reportable { remaining_blocks: 8 });
    let sync = next(&mut sync_sub).await;
    assert!(matches!(sync, SyncStatus::Completed | SyncStatus::InProgress));

    // A new best block: the best-block subscription and those whose value changed with it
    // (statistics count the block's author; the anchor moved one place down β) notify.
    f.offer_next();
    let new = next(&mut best_sub).await;
    assert_eq!(new, BlockDescriptor { header_hash: Hash(next_hash), slot: f.next.header.slot });
    let stats = next(&mut stats_sub).await;
    assert_eq!((stats.header_hash, stats.slot), (Hash(next_hash), f.next.header.slot));
    let status = next(&mut status_sub).await;
    assert_eq!(status.header_hash, Hash(next_hash));
    assert_eq!(status.value, WorkPackageStatus::Reportable { remaining_blocks: 7 });

    best_sub.unsubscribe().await.unwrap();
    value_sub.unsubscribe().await.unwrap();
    server.handle.stop().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caps_refuse_past_their_limits() {
    let f = Fixture::start(1);
    let config = RpcConfig {
        max_connections: 2,
        max_subscriptions_per_connection: 1,
        max_request_bytes: 4096,
        total_submissions_per_minute: 2,
        ..RpcConfig::default()
    };
    let (server, c) = serve(&f, config).await;
    let addr = server.local_addr;

    // A request above the size cap is refused whole.
    let big = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"submitPreimage","params":[1,"{}"]}}"#,
        "A".repeat(8192)
    );
    let answer = post(addr, &big).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");

    // One subscription per connection.
    let _first: Subscription<BlockDescriptor> = c
        .subscribe(method::SUBSCRIBE_BEST_BLOCK, rpc_params![], method::UNSUBSCRIBE_BEST_BLOCK)
        .await
        .unwrap();
    let second = c
        .subscribe::<BlockDescriptor, _>(
            method::SUBSCRIBE_FINALIZED_BLOCK,
            rpc_params![],
            method::UNSUBSCRIBE_FINALIZED_BLOCK,
        )
        .await;
    assert!(second.is_err(), "a second subscription on the connection");

    // Two submissions a minute across connections.
    let other = WsClientBuilder::default().build(format!("ws://{addr}")).await.unwrap();
    let ok: Option<()> =
        c.request(method::SUBMIT_PREIMAGE, rpc_params![SERVICE, Blob(vec![1])]).await.unwrap();
    assert_eq!(ok, None);
    let ok: Option<()> =
        other.request(method::SUBMIT_PREIMAGE, rpc_params![SERVICE, Blob(vec![2])]).await.unwrap();
    assert_eq!(ok, None);
    let (refused, _) = code(
        other.request::<Option<()>, _>(method::SUBMIT_PREIMAGE, rpc_params![SERVICE, Blob(vec![3])]).await,
    );
    assert_eq!(refused, error::OTHER);

    // Two connections at most; the count of open WebSocket connections says 2 (the POSTs are
    // not counted, nor is the refused third).
    let third = WsClientBuilder::default().build(format!("ws://{addr}")).await;
    assert!(third.is_err(), "a third connection");
    let b: BlockDescriptor = c.request(method::BEST_BLOCK, rpc_params![]).await.unwrap();
    assert_eq!(b.header_hash, Hash(f.best().0), "the first still served");
    let open = || server.ws_connections.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(open(), 2);
    // Closed by the client: the count goes down once the server sees it.
    drop(other);
    let start = std::time::Instant::now();
    while open() != 1 && start.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(open(), 1, "after one client closed");
    drop(c);
    while open() != 0 && start.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(open(), 0, "after both closed");
    server.handle.stop().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_typed_client_reads_and_submits() {
    let f = Fixture::start(1);
    let (server, _) = serve(&f, RpcConfig::default()).await;
    let c = orrery_rpc::client::Client::connect(&format!("ws://{}", server.local_addr)).await.unwrap();
    let (best, slot, state) = f.best().clone();
    assert_eq!(c.best_block().await.unwrap(), BlockDescriptor { header_hash: Hash(best), slot });
    assert_eq!(c.parameters().await.unwrap().val_count, 6);
    assert_eq!(c.state_root(Hash(best)).await.unwrap(), Hash(state.root()));
    assert_eq!(c.service_value(Hash(best), SERVICE, KEY).await.unwrap(), Some(Blob(VALUE.to_vec())));
    assert_eq!(
        c.list_services(Hash(best)).await.unwrap(),
        state.state().accounts.keys().copied().collect::<Vec<_>>()
    );
    c.submit_preimage(SERVICE, REQUESTED.to_vec()).await.unwrap();
    c.submit_work_package(0, package().encode(), vec![]).await.unwrap();
    let mut sub = c.subscribe_service_value(SERVICE, KEY, false).await.unwrap();
    assert_eq!(next(&mut sub).await.value, Some(Blob(VALUE.to_vec())));
    let (missing, _) = code(c.work_report(Hash([1; 32])).await);
    assert_eq!(missing, error::WORK_REPORT_UNAVAILABLE);
    server.handle.stop().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_carry_the_subscribe_method_and_a_numeric_id() {
    let f = Fixture::start(1);
    let module = orrery_rpc::module(Arc::new(f.link.clone()), RpcConfig::default()).unwrap();
    let call = r#"{"jsonrpc":"2.0","id":1,"method":"subscribeBestBlock","params":[]}"#;
    let (response, mut notifications) = module.raw_json_request(call, 8).await.unwrap();
    let response: serde_json::Value = serde_json::from_str(response.get()).unwrap();
    let id = response["result"].clone();
    assert!(id.is_u64(), "a Number: {response}");
    let first = tokio::time::timeout(LIMIT, notifications.recv()).await.unwrap().unwrap();
    let first: serde_json::Value = serde_json::from_str(first.get()).unwrap();
    let (best, slot, _) = f.best();
    assert_eq!(
        first,
        serde_json::json!({
            "jsonrpc": "2.0",
            "method": "subscribeBestBlock",
            "params": {"subscription": id, "result": {"header_hash": Hash(*best), "slot": slot}}
        })
    );
}

/// `fetchSegments` and `fetchWorkPackageSegments` from the shards a guarantor keeps of its own
/// report (`Node::keep_for_assurers`): three hand-made segments come back as given, in the order
/// asked, by segment root and by package hash; an index past the exports and an unknown root are
/// error 3.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn segments_come_back_from_the_shards_the_node_keeps() {
    let exports: Vec<Vec<u8>> = (0..3u8)
        .map(|i| {
            let mut s = vec![0u8; 4104];
            s[0] = i + 1;
            s[4103] = 0xee;
            s
        })
        .collect();
    let bundle = b"a bundle the node keeps".to_vec();
    let package = [0x5e; 32];
    let mut report = common::pending_report();
    report.package_spec =
        orrery_work_report::availability_spec(&ChainSpec::tiny(), package, &bundle, &exports).unwrap();
    let root = report.package_spec.exports_root;
    let kept = exports.clone();
    let f = Fixture::start_with(1, move |node| node.keep_for_assurers(&report, &bundle, &kept));
    let (server, c) = serve(&f, RpcConfig::default()).await;

    let got: Vec<Blob> =
        c.request(method::FETCH_SEGMENTS, rpc_params![Hash(root), vec![2u16, 0]]).await.unwrap();
    assert_eq!(got, vec![Blob(exports[2].clone()), Blob(exports[0].clone())]);
    let got: Vec<Blob> =
        c.request(method::FETCH_WORK_PACKAGE_SEGMENTS, rpc_params![Hash(package), vec![1u16]]).await.unwrap();
    assert_eq!(got, vec![Blob(exports[1].clone())]);

    let (c3, _) =
        code(c.request::<Vec<Blob>, _>(method::FETCH_SEGMENTS, rpc_params![Hash(root), vec![3u16]]).await);
    assert_eq!(c3, error::SEGMENT_UNAVAILABLE);
    let (c3, _) = code(
        c.request::<Vec<Blob>, _>(
            method::FETCH_WORK_PACKAGE_SEGMENTS,
            rpc_params![Hash([0x5f; 32]), vec![0u16]],
        )
        .await,
    );
    assert_eq!(c3, error::SEGMENT_UNAVAILABLE);
    server.handle.stop().unwrap();
}
