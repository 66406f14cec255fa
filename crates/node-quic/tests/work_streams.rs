//! The work-package streams (CE 133, 134, 135, 137, 138, 139, 141, 142, 143) over real QUIC sockets on
//! 127.0.0.1: two drivers' network sides (`net`), without node threads. The test plays both nodes:
//! it writes their outputs and reads their inputs. Every wait is bounded.

use std::net::SocketAddr;
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;
use std::time::{Duration, Instant};

use orrery_codec::BitVec;
use orrery_network::message::{
    AssuranceMessage, AuditShardResponse, BundleShare, JustificationStep, PreimageAnnouncement,
    ReportSignature, SegmentShardItem, SegmentShardRequest, ShardRequest, ShardResponse,
    WorkPackageSubmission,
};
use orrery_network::{Alpn, Config, Endpoint, Identity, StreamKind};
use orrery_node::{Input, Message, Output, PeerId, Request, RequestFailure, Response};
use orrery_node_quic::net::{self, Inbox, Net, PeerSlots};
use orrery_types::{
    ChainSpec, ExtrinsicSpec, RefineContext, ReportGuarantee, SegmentRootLookupItem, ValidatorSignature,
    WorkItem, WorkPackage, WorkPackageSpec, WorkReport,
};
use tokio::sync::mpsc;

const GENESIS: [u8; 32] = [0x33; 32];
const WAIT: Duration = Duration::from_secs(10);

/// One driver's network side: its inputs (what the node thread would read) and its outputs (what
/// the node thread would write).
struct Side {
    key: PeerId,
    addr: SocketAddr,
    inputs: Receiver<Input>,
    outputs: mpsc::Sender<Output>,
    net: Arc<Net>,
}

fn identity(seed: u8) -> Identity {
    Identity::from_ed25519_secret(&[seed; 32]).unwrap()
}

fn side(seed: u8) -> Side {
    side_with(seed, PeerSlots::default())
}

fn side_with(seed: u8, slots: PeerSlots) -> Side {
    let endpoint = Endpoint::bind(
        identity(seed),
        net::endpoint_config(Alpn::for_genesis_hash(&GENESIS)),
        ([127, 0, 0, 1], 0).into(),
    )
    .unwrap();
    let (tx, inputs) = sync_channel(256);
    let net = Net::with_slots(endpoint, &ChainSpec::tiny(), Inbox::new(tx), slots);
    let (outputs, rx) = mpsc::channel(64);
    tokio::spawn(net::accept_loop(net.clone()));
    tokio::spawn(net::maintain(net.clone()));
    tokio::spawn(net::dispatch(net.clone(), rx));
    Side { key: *net.identity().key(), addr: net.local_addr(), inputs, outputs, net }
}

impl Side {
    /// The first input `pick` accepts, skipping the others (connection events); panics after
    /// [`WAIT`].
    async fn next<T>(&self, what: &str, mut pick: impl FnMut(Input) -> Option<T>) -> T {
        let deadline = Instant::now() + WAIT;
        loop {
            while let Ok(input) = self.inputs.try_recv() {
                if let Some(found) = pick(input) {
                    return found;
                }
            }
            assert!(Instant::now() < deadline, "no {what} within {WAIT:?}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    async fn output(&self, output: Output) {
        self.outputs.send(output).await.unwrap();
    }
}

/// Two sides connected to each other.
async fn pair() -> (Side, Side) {
    let (a, b) = (side(1), side(2));
    a.net.want(b.key, b.addr, true);
    b.net.want(a.key, a.addr, true);
    let b_key = b.key;
    a.next("connection at a", |i| {
        matches!(i, Input::PeerConnected { peer, .. } if peer == b_key).then_some(())
    })
    .await;
    let a_key = a.key;
    b.next("connection at b", |i| {
        matches!(i, Input::PeerConnected { peer, .. } if peer == a_key).then_some(())
    })
    .await;
    (a, b)
}

fn context() -> RefineContext {
    RefineContext {
        anchor: [1; 32],
        state_root: [2; 32],
        beefy_root: [3; 32],
        lookup_anchor: [4; 32],
        lookup_anchor_slot: 5,
        prerequisites: vec![[6; 32]],
    }
}

fn submission() -> WorkPackageSubmission {
    let item = |service, lens: &[u32]| WorkItem {
        service,
        code_hash: [7; 32],
        refine_gas_limit: 1_000,
        accumulate_gas_limit: 100,
        export_count: 1,
        payload: b"payload".to_vec(),
        import_segments: vec![],
        extrinsic: lens.iter().map(|&len| ExtrinsicSpec { hash: [8; 32], len }).collect(),
    };
    WorkPackageSubmission {
        core: 1,
        package: WorkPackage {
            auth_code_host: 9,
            auth_code_hash: [10; 32],
            context: context(),
            authorization: vec![1, 2, 3],
            authorizer_config: vec![],
            items: vec![item(11, &[4, 0]), item(12, &[3000])],
        },
        extrinsics: vec![vec![vec![0xaa; 4], vec![]], vec![vec![0xbb; 3000]]],
    }
}

fn guarantee() -> ReportGuarantee {
    ReportGuarantee {
        report: WorkReport {
            package_spec: WorkPackageSpec {
                hash: [20; 32],
                length: 1234,
                erasure_root: [21; 32],
                exports_root: [22; 32],
                exports_count: 1,
            },
            context: context(),
            core_index: 1,
            authorizer_hash: [23; 32],
            auth_gas_used: 77,
            auth_output: b"ok".to_vec(),
            segment_root_lookup: vec![],
            results: vec![],
        },
        slot: 42,
        signatures: vec![
            ValidatorSignature { validator_index: 0, signature: [24; 64] },
            ValidatorSignature { validator_index: 3, signature: [25; 64] },
        ],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_way_messages_arrive_equal() {
    tokio::time::timeout(Duration::from_secs(60), async {
        let (a, b) = pair().await;
        let messages = [
            Message::WorkPackage(submission()),
            Message::Guarantee(guarantee()),
            Message::Assurance(AssuranceMessage {
                anchor: [30; 32],
                bitfield: BitVec::from_bools([false, true]),
                signature: [31; 64],
            }),
            Message::PreimageAnnouncement(PreimageAnnouncement { service: 32, hash: [33; 32], length: 34 }),
        ];
        for message in messages {
            a.output(Output::Send { peer: b.key, message: message.clone() }).await;
            let a_key = a.key;
            let got = b
                .next("the message", |i| match i {
                    Input::Message { peer, message } if peer == a_key => Some(message),
                    _ => None,
                })
                .await;
            assert_eq!(got, message);
        }
    })
    .await
    .expect("test exceeded its time bound");
}

/// What `a` got for its request: the response, and its misbehaviour reports of `b` on the way.
type Answer = (Result<Response, RequestFailure>, Vec<String>);

/// `a` asks `b`; `b` answers with `response` (or refuses, for `None`).
async fn ask(a: &Side, b: &Side, id: u64, request: Request, response: Option<Response>) -> Answer {
    a.output(Output::Request { peer: b.key, id, request: request.clone() }).await;
    let a_key = a.key;
    let (their_id, got) = b
        .next("the request", |i| match i {
            Input::Request { peer, id, request } if peer == a_key => Some((id, request)),
            _ => None,
        })
        .await;
    assert_eq!(got, request);
    match response {
        Some(response) => b.output(Output::Respond { peer: a.key, id: their_id, response }).await,
        None => b.output(Output::Refuse { peer: a.key, id: their_id }).await,
    }
    let b_key = b.key;
    let mut reports = Vec::new();
    let response = a
        .next("the response", |i| match i {
            Input::Response { peer, id: answered, response } if peer == b_key && answered == id => {
                Some(response)
            }
            Input::Misbehaved { peer, what } if peer == b_key => {
                reports.push(what);
                None
            }
            _ => None,
        })
        .await;
    (response, reports)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_and_answers_arrive_equal() {
    tokio::time::timeout(Duration::from_secs(60), async {
        let (a, b) = pair().await;

        let share = BundleShare {
            core: 1,
            segment_roots: vec![SegmentRootLookupItem {
                work_package_hash: [40; 32],
                segment_tree_root: [41; 32],
            }],
            bundle: (0..100_000u32).map(|i| i as u8).collect(),
        };
        let signature =
            Response::ReportSignature(ReportSignature { report_hash: [42; 32], signature: [43; 64] });
        let got = ask(&a, &b, 1, Request::ShareBundle(share), Some(signature.clone())).await;
        assert_eq!(got, (Ok(signature), vec![]));

        // The tiny spec's segment shards are 2052 bytes.
        let shards = Response::Shard(ShardResponse {
            bundle_shard: vec![44; 1000],
            segment_shards: vec![vec![45; 2052], vec![46; 2052]],
            justification: vec![
                JustificationStep::Pair([47; 32], [48; 32]),
                JustificationStep::Hash([49; 32]),
            ],
        });
        let request = Request::Shard(ShardRequest { erasure_root: [50; 32], shard_index: 3 });
        assert_eq!(ask(&a, &b, 2, request, Some(shards.clone())).await, (Ok(shards), vec![]));

        let preimage = Response::Preimage(b"the preimage".to_vec());
        let got = ask(&a, &b, 3, Request::Preimage([51; 32]), Some(preimage.clone())).await;
        assert_eq!(got, (Ok(preimage), vec![]));

        // CE 153: the set id out, a warp proof back (its contents are the simulator's tests').
        let warp = Response::Warp(Box::default());
        let got = ask(&a, &b, 30, Request::Warp(7), Some(warp.clone())).await;
        assert_eq!(got, (Ok(warp), vec![]));

        // A refusal resets the stream: the requester learns at once that the request failed.
        let started = Instant::now();
        let got = ask(&a, &b, 4, Request::Preimage([52; 32]), None).await;
        assert_eq!(got, (Err(RequestFailure::Failed), vec![]));
        assert!(started.elapsed() < Duration::from_secs(5), "a refusal must not wait for the deadline");

        // A CE 137 answer whose segment shards are not whole 2052-byte shards is misbehaviour.
        let ragged = Response::Shard(ShardResponse {
            bundle_shard: vec![],
            segment_shards: vec![vec![0; 100]],
            justification: vec![],
        });
        let request = Request::Shard(ShardRequest { erasure_root: [53; 32], shard_index: 0 });
        let (got, reports) = ask(&a, &b, 5, request, Some(ragged)).await;
        assert_eq!(got, Err(RequestFailure::Failed));
        let [what] = &reports[..] else { panic!("one report expected: {reports:?}") };
        assert!(what.contains("CE 137"), "{what}");

        // CE 138: a bundle shard with its justification ending in the segment-shard root.
        let audit = Response::AuditShard(AuditShardResponse {
            bundle_shard: vec![59; 1000],
            justification: vec![
                JustificationStep::Pair([60; 32], [61; 32]),
                JustificationStep::Hash([62; 32]),
            ],
        });
        let request = Request::AuditShard(ShardRequest { erasure_root: [63; 32], shard_index: 5 });
        assert_eq!(ask(&a, &b, 8, request, Some(audit.clone())).await, (Ok(audit), vec![]));
        // One without the root (its last step a pair) is misbehaviour.
        let rootless = Response::AuditShard(AuditShardResponse {
            bundle_shard: vec![59; 10],
            justification: vec![JustificationStep::Pair([60; 32], [61; 32])],
        });
        let request = Request::AuditShard(ShardRequest { erasure_root: [64; 32], shard_index: 1 });
        let (got, reports) = ask(&a, &b, 9, request, Some(rootless)).await;
        assert_eq!(got, Err(RequestFailure::Failed));
        let [what] = &reports[..] else { panic!("one report expected: {reports:?}") };
        assert!(what.contains("CE 138"), "{what}");

        // CE 139: three segment shards of two roots, in the order asked.
        let request = Request::SegmentShards(SegmentShardRequest {
            items: vec![
                SegmentShardItem { erasure_root: [54; 32], shard_index: 2, segment_indices: vec![0, 5] },
                SegmentShardItem { erasure_root: [55; 32], shard_index: 4, segment_indices: vec![1] },
            ],
        });
        let shards = Response::SegmentShards(vec![vec![56; 2052], vec![57; 2052], vec![58; 2052]]);
        assert_eq!(ask(&a, &b, 6, request.clone(), Some(shards.clone())).await, (Ok(shards), vec![]));
        // Fewer shards than asked is misbehaviour.
        let short = Response::SegmentShards(vec![vec![56; 2052]]);
        let (got, reports) = ask(&a, &b, 7, request, Some(short)).await;
        assert_eq!(got, Err(RequestFailure::Failed));
        let [what] = &reports[..] else { panic!("one report expected: {reports:?}") };
        assert!(what.contains("CE 139"), "{what}");
    })
    .await
    .expect("test exceeded its time bound");
}

/// The next misbehaviour `b` reports of `peer`.
async fn misbehaved(b: &Side, peer: PeerId) -> String {
    b.next("a misbehaviour report", |i| match i {
        Input::Misbehaved { peer: p, what } if p == peer => Some(what),
        _ => None,
    })
    .await
}

/// Sends bytes the receiver may refuse before they are all read: it stops the stream as soon as a
/// head is over its cap or does not decode, and then our send fails with `Stopped`, which is the
/// refusal the test is about, not an error of the test (under load the two race).
async fn send_refusable(stream: &mut orrery_network::Stream, bytes: &[u8]) {
    let _ = stream.send(bytes).await;
}

/// A raw connection to `b` from a peer that is not a driver, to send bytes a driver never would.
async fn rogue(b: &Side) -> (Endpoint, orrery_network::Connection) {
    let endpoint = raw_endpoint(9);
    let conn = endpoint.connect(b.addr, Some(b.key)).await.unwrap();
    (endpoint, conn)
}

fn raw_endpoint(seed: u8) -> Endpoint {
    Endpoint::bind(identity(seed), Config::new(Alpn::for_genesis_hash(&GENESIS)), ([127, 0, 0, 1], 0).into())
        .unwrap()
}

/// Whether `b` took the connection: it stays open past a moment (a refused one is closed at once).
async fn kept(conn: &orrery_network::Connection) -> bool {
    tokio::time::timeout(Duration::from_millis(400), conn.closed()).await.is_err()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn builders_have_their_own_slots_and_lose_them_when_idle() {
    tokio::time::timeout(Duration::from_secs(60), async {
        let slots = PeerSlots { builders: 2, others: 2, builder_idle: Duration::from_secs(4) };
        let b = side_with(2, slots);
        // A validator (b wants it) and three builders, three plain non-validators.
        let validator = side(1);
        b.net.want(validator.key, validator.addr, false);
        let endpoints: Vec<Endpoint> = (10..16).map(raw_endpoint).collect();
        let mut builders = Vec::new();
        for e in &endpoints[..3] {
            builders.push(e.connect_as_builder(b.addr, Some(b.key)).await.unwrap());
        }
        let mut others = Vec::new();
        for e in &endpoints[3..] {
            others.push(e.connect(b.addr, Some(b.key)).await.unwrap());
        }
        // Two of each are kept, the third of each refused.
        let mut kept_builders = 0;
        for c in &builders {
            kept_builders += usize::from(kept(c).await);
        }
        let mut kept_others = 0;
        for c in &others {
            kept_others += usize::from(kept(c).await);
        }
        assert_eq!((kept_builders, kept_others), (2, 2));
        assert_eq!(b.net.peer_classes(), (0, 2, 2));
        // The validator still gets in, the others' slots full.
        validator.net.want(b.key, b.addr, true);
        let key = validator.key;
        b.next("the validator", |i| {
            matches!(i, Input::PeerConnected { peer, .. } if peer == key).then_some(())
        })
        .await;
        assert_eq!(b.net.peer_classes(), (1, 2, 2));

        // A builder that submits keeps its slot; one that does not is closed once idle, which
        // frees its slot for a new builder.
        let live = builders.iter().position(|c| !c.is_closed()).unwrap();
        let quiet = builders.iter().rposition(|c| !c.is_closed()).unwrap();
        assert_ne!(live, quiet);
        let s = submission();
        let deadline = Instant::now() + Duration::from_secs(7);
        while Instant::now() < deadline {
            let mut stream = builders[live].open_stream(StreamKind::WORK_PACKAGE_SUBMISSION).await.unwrap();
            stream.send(&s.encode_head()).await.unwrap();
            stream.send(&s.encode_extrinsics()).await.unwrap();
            stream.finish();
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        assert!(builders[quiet].is_closed(), "the idle builder is still connected");
        assert!(!builders[live].is_closed(), "the submitting builder was closed");
        let newcomer = raw_endpoint(16).connect_as_builder(b.addr, Some(b.key)).await.unwrap();
        assert!(kept(&newcomer).await, "the freed slot was not given to a new builder");
        assert_eq!(b.net.peer_classes(), (1, 2, 2));
    })
    .await
    .expect("test exceeded its time bound");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_assurance_and_submission_are_misbehaviour() {
    tokio::time::timeout(Duration::from_secs(60), async {
        let b = side(2);
        let (_endpoint, conn) = rogue(&b).await;
        let rogue_key = *identity(9).key();

        // CE 141 for two cores is 97 bytes; a padding bit set in the one bitfield byte.
        let mut stream = conn.open_stream(StreamKind::ASSURANCE_DISTRIBUTION).await.unwrap();
        let mut bytes = vec![0u8; 97];
        bytes[32] = 0b100;
        send_refusable(&mut stream, &bytes).await;
        stream.finish();
        let what = misbehaved(&b, rogue_key).await;
        assert!(what.contains("CE 141"), "{what}");

        // CE 141 one byte long: over the exact cap, refused before it is read.
        let mut stream = conn.open_stream(StreamKind::ASSURANCE_DISTRIBUTION).await.unwrap();
        send_refusable(&mut stream, &[0u8; 98]).await;
        stream.finish();
        let what = misbehaved(&b, rogue_key).await;
        assert!(what.contains("CE 141"), "{what}");

        // CE 133 whose extrinsics are one byte shorter than the items declare.
        let s = submission();
        let mut stream = conn.open_stream(StreamKind::WORK_PACKAGE_SUBMISSION).await.unwrap();
        stream.send(&s.encode_head()).await.unwrap();
        let extrinsics = s.encode_extrinsics();
        send_refusable(&mut stream, &extrinsics[1..]).await;
        stream.finish();
        let what = misbehaved(&b, rogue_key).await;
        assert!(what.contains("CE 133") && what.contains("declare"), "{what}");

        // CE 133 whose package does not decode: refused before the extrinsics are read.
        let mut stream = conn.open_stream(StreamKind::WORK_PACKAGE_SUBMISSION).await.unwrap();
        let mut head = s.encode_head();
        head.push(0);
        send_refusable(&mut stream, &head).await;
        let what = misbehaved(&b, rogue_key).await;
        assert!(what.contains("CE 133"), "{what}");

        // CE 134 naming nine segment-root mappings, one more than a report holds: over the head's
        // cap, refused before the bundle is read.
        let mut stream = conn.open_stream(StreamKind::WORK_PACKAGE_SHARING).await.unwrap();
        let mut head = vec![1, 0, 9];
        head.extend_from_slice(&[0; 9 * 64]);
        send_refusable(&mut stream, &head).await;
        let what = misbehaved(&b, rogue_key).await;
        assert!(what.contains("CE 134"), "{what}");

        // CE 143 asking with 31 bytes, not a hash.
        let mut stream = conn.open_stream(StreamKind::PREIMAGE_REQUEST).await.unwrap();
        send_refusable(&mut stream, &[0; 31]).await;
        stream.finish();
        let what = misbehaved(&b, rogue_key).await;
        assert!(what.contains("CE 143"), "{what}");

        // And a well-formed one still goes through on the same connection.
        let mut stream = conn.open_stream(StreamKind::WORK_PACKAGE_SUBMISSION).await.unwrap();
        stream.send(&s.encode_head()).await.unwrap();
        stream.send(&extrinsics).await.unwrap();
        stream.finish();
        let got = b
            .next("the submission", |i| match i {
                Input::Message { peer, message: Message::WorkPackage(got) } if peer == rogue_key => Some(got),
                _ => None,
            })
            .await;
        assert_eq!(got, s);
        // The receiver ends its half cleanly: a FIN, not a reset.
        assert_eq!(stream.recv().await.unwrap(), None);
    })
    .await
    .expect("test exceeded its time bound");
}
