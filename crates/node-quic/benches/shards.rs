//! Availability shards of a 12 MB bundle at full-spec shard counts over real QUIC sockets on
//! 127.0.0.1, through the driver's network side (`net`: its streams, caps and per-peer limits),
//! with no node thread: the bench answers for the node from shards made once.
//!
//! - `shards/distribute/bundle=12MB`: every validator's CE 137 shard of the bundle (1023 shards of
//!   35,088 octets, each with its co-path) fetched from one guarantor by 8 requesting endpoints,
//!   each asking its share, at most 8 in flight each (the driver's `MAX_REQUESTS_OUT`). On a real
//!   network 1023 assurers ask once each; 8 connections model the guarantor's side of that.
//! - `shards/reconstruct/bundle=12MB`: an auditor's CE 138 fetch of 342 bundle shards (the recovery
//!   threshold, no data shard among them: the worst case) from one assurer, then the bundle
//!   rebuilt from them (`orrery-erasure`).
//!
//! Throughput is bundle octets per second. Making the shards (the erasure root and every co-path)
//! is set-up, not timed: `orrery-work-report`'s `shards` bench measures it.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use orrery_network::message::{AuditShardResponse, JustificationStep, ShardRequest, ShardResponse};
use orrery_network::{Alpn, Endpoint, Identity};
use orrery_node::{Input, Output, PeerId, Request, Response};
use orrery_node_quic::net::{self, Inbox, Net};
use orrery_types::ChainSpec;
use tokio::sync::mpsc;

const BUNDLE: usize = 12_000_000;
const REQUESTERS: usize = 8;
const IN_FLIGHT: usize = 8;
const GENESIS: [u8; 32] = [0x44; 32];

struct Side {
    key: PeerId,
    addr: SocketAddr,
    /// Behind a lock only so that a requester can be lent to a scoped thread each iteration.
    inputs: std::sync::Mutex<Receiver<Input>>,
    outputs: mpsc::Sender<Output>,
    net: Arc<Net>,
}

fn side(seed: u8, spec: &ChainSpec) -> Side {
    let endpoint = Endpoint::bind(
        Identity::from_ed25519_secret(&[seed; 32]).unwrap(),
        net::endpoint_config(Alpn::for_genesis_hash(&GENESIS)),
        ([127, 0, 0, 1], 0).into(),
    )
    .unwrap();
    let (tx, inputs) = sync_channel(4096);
    let net = Net::new(endpoint, spec, Inbox::new(tx));
    let (outputs, rx) = mpsc::channel(4096);
    tokio::spawn(net::accept_loop(net.clone()));
    tokio::spawn(net::maintain(net.clone()));
    tokio::spawn(net::dispatch(net.clone(), rx));
    Side { key: *net.identity().key(), addr: net.local_addr(), inputs: inputs.into(), outputs, net }
}

fn steps(justification: &[Vec<u8>]) -> Vec<JustificationStep> {
    justification.iter().map(|node| JustificationStep::from_node(node).expect("a co-path node")).collect()
}

/// The guarantor (or assurer): answers every CE 137 and CE 138 request from `shards`, on its own
/// thread, until its inputs close.
fn serve(side: Side, shards: Arc<orrery_work_report::AvailabilityShards>) {
    std::thread::spawn(move || {
        let inputs = side.inputs.into_inner().unwrap();
        while let Ok(input) = inputs.recv() {
            let Input::Request { peer, id, request } = input else { continue };
            let response = match request {
                Request::Shard(r) => {
                    let s = &shards.shards[usize::from(r.shard_index)];
                    Response::Shard(ShardResponse {
                        bundle_shard: s.bundle.clone(),
                        segment_shards: s.segments.clone(),
                        justification: steps(&s.justification),
                    })
                }
                Request::AuditShard(r) => {
                    // CE 138's co-path ends in the shard's segment-shard root, as the node sends it.
                    let s = &shards.shards[usize::from(r.shard_index)];
                    let mut justification = steps(&s.justification);
                    let segments_root =
                        orrery_merkle::well_balanced_root(&s.segments, orrery_crypto::blake2b_256);
                    justification.push(JustificationStep::Hash(segments_root));
                    Response::AuditShard(AuditShardResponse { bundle_shard: s.bundle.clone(), justification })
                }
                _ => continue,
            };
            if side.outputs.blocking_send(Output::Respond { peer, id, response }).is_err() {
                return;
            }
        }
    });
}

/// Asks `from` for each request in `requests`, `IN_FLIGHT` at a time, and returns the answers by
/// shard index; panics on a failure (the bench measures a working path).
fn fetch(side: &Side, from: PeerId, requests: Vec<Request>) -> Vec<(u16, Response)> {
    let mut queue: VecDeque<(u64, Request)> =
        requests.into_iter().enumerate().map(|(i, r)| (i as u64, r)).collect();
    let index = |r: &Request| match r {
        Request::Shard(s) | Request::AuditShard(s) => s.shard_index,
        _ => unreachable!(),
    };
    let mut asked = std::collections::HashMap::new();
    let inputs = side.inputs.lock().unwrap();
    let mut out = Vec::with_capacity(queue.len());
    let total = queue.len();
    while out.len() < total {
        while asked.len() < IN_FLIGHT {
            let Some((id, request)) = queue.pop_front() else { break };
            asked.insert(id, index(&request));
            side.outputs.blocking_send(Output::Request { peer: from, id, request }).unwrap();
        }
        match inputs.recv_timeout(Duration::from_secs(20)).expect("an answer within 20 s") {
            Input::Response { id, response, .. } => {
                let shard = asked.remove(&id).expect("an answer to a request asked");
                out.push((shard, response.expect("the request succeeds")));
            }
            Input::Misbehaved { what, .. } => panic!("the answer was refused: {what}"),
            _ => continue,
        }
    }
    out
}

fn connected(a: &Side, b: &Side) {
    a.net.want(b.key, b.addr, true);
    b.net.want(a.key, a.addr, true);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while a.net.peer_count() == 0 || b.net.peer_count() == 0 {
        assert!(std::time::Instant::now() < deadline, "no connection within 10 s");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn shards(c: &mut Criterion) {
    let spec = ChainSpec::full();
    let bundle: Vec<u8> = (0..BUNDLE as u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let made = Arc::new(orrery_work_report::availability_shards(&spec, &bundle, &[]).unwrap());
    let root = made.erasure_root;
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let _guard = runtime.enter();

    let guarantor = side(1, &spec);
    let guarantor_key = guarantor.key;
    let requesters: Vec<Side> = (0..REQUESTERS).map(|i| side(10 + i as u8, &spec)).collect();
    for r in &requesters {
        connected(r, &guarantor);
    }
    // Connection events went to the guarantor's inputs before its server thread takes them.
    serve(guarantor, made.clone());

    let mut group = c.benchmark_group("shards");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Bytes(BUNDLE as u64));
    let validators = made.shards.len();
    group.bench_function("distribute/bundle=12MB", |b| {
        b.iter(|| {
            std::thread::scope(|s| {
                for (i, r) in requesters.iter().enumerate() {
                    s.spawn(move || {
                        let mine: Vec<Request> = (i..validators)
                            .step_by(REQUESTERS)
                            .map(|v| {
                                Request::Shard(ShardRequest { erasure_root: root, shard_index: v as u16 })
                            })
                            .collect();
                        let got = fetch(r, guarantor_key, mine);
                        assert!(got.iter().all(|(_, r)| matches!(r, Response::Shard(_))));
                    });
                }
            });
        })
    });

    let coder = orrery_erasure::ErasureCoder::for_spec(&spec).unwrap();
    let threshold = coder.data_shards();
    let auditor = &requesters[0];
    group.bench_function("reconstruct/bundle=12MB", |b| {
        b.iter(|| {
            let asked: Vec<Request> = (validators - threshold..validators)
                .map(|v| Request::AuditShard(ShardRequest { erasure_root: root, shard_index: v as u16 }))
                .collect();
            let got = fetch(auditor, guarantor_key, asked);
            let chunks = got.into_iter().map(|(i, r)| match r {
                Response::AuditShard(a) => (usize::from(i), a.bundle_shard),
                _ => unreachable!(),
            });
            let rebuilt = coder.reconstruct(chunks, BUNDLE).unwrap();
            assert!(rebuilt == bundle);
        })
    });
    group.finish();
}

criterion_group!(benches, shards);
criterion_main!(benches);
