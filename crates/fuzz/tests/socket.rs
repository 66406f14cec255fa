//! The target over a real Unix socket: a trace of the vectors with an invalid block and a
//! re-import on an older parent in it, and malformed streams, each of which gets its connection
//! closed while the target goes on serving others.

mod common;

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::time::{Duration, Instant};

use orrery_fuzz::client::{run_trace, Client};
use orrery_fuzz::protocol::{
    read_frame, write_frame, AncestryItem, Initialize, Message, PeerInfo, Version, FEATURE_ANCESTRY,
    FEATURE_FORKS, MAX_MESSAGE,
};
use orrery_fuzz::target::{bind, Limits};
use orrery_import::formats::{Genesis, TraceStep};
use orrery_import::header_hash;
use orrery_testkit::{genesis, trace_dir, trace_step, trace_step_path};
use orrery_types::ChainSpec;

fn fuzzer_info(features: u32) -> PeerInfo {
    PeerInfo {
        fuzz_version: 1,
        fuzz_features: features,
        jam_version: Version { major: 0, minor: 7, patch: 2 },
        app_version: Version { major: 0, minor: 0, patch: 1 },
        app_name: "test".into(),
    }
}

fn request(client: &mut Client<UnixStream>, message: Message) -> Message {
    client.request(&message).expect("an answer").0
}

/// Whether the target closed the connection: the next read gives end of stream (or a reset),
/// not a timeout.
fn closed_by_target(stream: &mut UnixStream) -> bool {
    stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut buf = [0u8; 64];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            // Anything the target sends before closing is not an answer to garbage.
            Ok(_) => return false,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return false,
        }
    }
}

#[test]
fn handshake_gives_our_peer_info() {
    let target = common::Target::start();
    let mut stream = target.connect();
    write_frame(&mut stream, &Message::PeerInfo(fuzzer_info(FEATURE_FORKS)).encode()).unwrap();
    let answer = read_frame(&mut stream).unwrap().unwrap();
    // 0 (peer_info), version 1, features 3 (ancestry | forks, u32 LE), JAM 0.7.2, then the app.
    assert_eq!(answer[..9], [0, 1, 3, 0, 0, 0, 0, 7, 2]);
    match Message::decode(&ChainSpec::tiny(), &answer).unwrap() {
        Message::PeerInfo(info) => assert_eq!(info.app_name, "orrery"),
        other => panic!("{other:?}"),
    }
}

/// A trace of the vectors through the socket: `Initialize` with its genesis, a block with a
/// broken seal (an `Error`, and the session goes on), the real blocks (their posterior roots),
/// the first block again on its parent though the chain has moved on (the same root), and
/// `get_state` of the head and of a block behind it (the trace's posterior rows).
#[test]
fn a_trace_with_an_invalid_block_and_an_older_parent() {
    let spec = ChainSpec::tiny();
    let genesis = genesis("fallback");
    let steps: Vec<TraceStep> = (1..=4).map(|i| trace_step("fallback", i)).collect();

    let target = common::Target::start();
    let mut client = Client::new(target.connect(), spec.clone());
    assert!(matches!(
        request(&mut client, Message::PeerInfo(fuzzer_info(FEATURE_FORKS))),
        Message::PeerInfo(_)
    ));
    let init = Initialize {
        header: genesis.header.clone(),
        keyvals: genesis.state.keyvals.clone(),
        ancestry: vec![],
    };
    assert_eq!(
        request(&mut client, Message::Initialize(Box::new(init))),
        Message::StateRoot(genesis.state.state_root)
    );

    let mut forged = steps[0].block.clone();
    forged.header.seal[0] ^= 1;
    match request(&mut client, Message::ImportBlock(Box::new(forged))) {
        Message::Error(text) => assert!(text.contains("seal"), "{text}"),
        other => panic!("a forged seal answered {other:?}"),
    }
    // A block on a parent nobody imported.
    let mut orphan = steps[0].block.clone();
    orphan.header.parent = [0xee; 32];
    assert!(matches!(request(&mut client, Message::ImportBlock(Box::new(orphan))), Message::Error(_)));

    for step in &steps {
        let answer = request(&mut client, Message::ImportBlock(Box::new(step.block.clone())));
        assert_eq!(answer, Message::StateRoot(step.post_state.state_root));
    }
    // The first block again: imported on the genesis state, which is kept.
    let again = request(&mut client, Message::ImportBlock(Box::new(steps[0].block.clone())));
    assert_eq!(again, Message::StateRoot(steps[0].post_state.state_root));

    for step in [&steps[3], &steps[1]] {
        match request(&mut client, Message::GetState(header_hash(&step.block.header))) {
            Message::State(keyvals) => assert_eq!(keyvals, step.post_state.keyvals),
            other => panic!("get_state answered {other:?}"),
        }
    }
    // No state for an unknown header: the protocol has no answer for that, so the session ends.
    write_frame(client_stream(&mut client), &Message::GetState([0xee; 32]).encode()).unwrap();
    assert!(closed_by_target(client_stream(&mut client)));
}

/// Every trace of the vectors with `feature-ancestry` on (the lookup anchors of the guarantees
/// checked against the chain the session imported): every block gets the trace's posterior root,
/// every block the trace rejects an `Error`.
#[test]
fn the_traces_with_ancestry() {
    let target = common::Target::start();
    for name in ["fallback", "safrole", "storage", "preimages"] {
        let mut client = Client::new(target.connect(), ChainSpec::tiny());
        let both = FEATURE_ANCESTRY | FEATURE_FORKS;
        match request(&mut client, Message::PeerInfo(fuzzer_info(both))) {
            Message::PeerInfo(info) => assert_eq!(info.fuzz_features & both, both),
            other => panic!("{other:?}"),
        }
        let steps = run_trace(&mut client, &trace_dir(name)).expect("the trace runs");
        let wrong: Vec<_> = steps.iter().filter(|s| !s.as_expected).map(|s| &s.name).collect();
        assert!(wrong.is_empty(), "{name}: {wrong:?}");
        assert!(steps.len() >= 100, "{name}: {} steps", steps.len());
        println!(
            "{name}: {} steps as expected, {} rejected",
            steps.len(),
            steps.iter().filter(|s| s.rejected).count()
        );
    }
}

fn load_trace(name: &str) -> (Genesis, Vec<TraceStep>) {
    let steps =
        (1..).take_while(|&i| trace_step_path(name, i).exists()).map(|i| trace_step(name, i)).collect();
    (genesis(name), steps)
}

/// `feature-ancestry` at work: a session initialized in the middle of a trace, at a block whose
/// guarantees name an earlier block as lookup anchor. Without the ancestry in `Initialize` the
/// anchor is not among the block's ancestors (an `Error`, GP 0.7.2 eq. 11.35); with it the block
/// imports to the trace's root; and without the feature the rule is skipped, as the protocol
/// asks.
#[test]
fn initialize_ancestry_feeds_the_lookup_anchor_rule() {
    // A step whose guarantee's lookup anchor is a trace block other than its parent.
    let mut found = None;
    for name in ["storage", "preimages"] {
        let (_, steps) = load_trace(name);
        let hashes: Vec<_> = steps.iter().map(|s| header_hash(&s.block.header)).collect();
        for k in 1..steps.len() {
            let anchors_behind = steps[k].block.extrinsic.guarantees.iter().any(|g| {
                let anchor = g.report.context.lookup_anchor;
                anchor != hashes[k - 1] && hashes[..k - 1].contains(&anchor)
            });
            if anchors_behind && steps[k - 1].pre_state != steps[k - 1].post_state {
                found = Some((name, k));
                break;
            }
        }
        if found.is_some() {
            break;
        }
    }
    let (name, k) = found.expect("a trace block whose lookup anchor is an earlier block");
    let (_, steps) = load_trace(name);
    let step = &steps[k];
    let parent = &steps[k - 1];
    let ancestry: Vec<AncestryItem> = steps[..k]
        .iter()
        .rev()
        .map(|s| AncestryItem { slot: s.block.header.slot, header_hash: header_hash(&s.block.header) })
        .filter(|a| a.slot + ChainSpec::tiny().max_lookup_anchor_age >= step.block.header.slot)
        .collect();

    let target = common::Target::start();
    let session = |features: u32, ancestry: Vec<AncestryItem>| {
        let mut client = Client::new(target.connect(), ChainSpec::tiny());
        assert!(matches!(
            request(&mut client, Message::PeerInfo(fuzzer_info(features))),
            Message::PeerInfo(_)
        ));
        let init = Initialize {
            header: parent.block.header.clone(),
            keyvals: parent.post_state.keyvals.clone(),
            ancestry,
        };
        assert_eq!(
            request(&mut client, Message::Initialize(Box::new(init))),
            Message::StateRoot(parent.post_state.state_root)
        );
        request(&mut client, Message::ImportBlock(Box::new(step.block.clone())))
    };
    let both = FEATURE_ANCESTRY | FEATURE_FORKS;
    match session(both, vec![]) {
        Message::Error(text) => assert!(text.contains("lookup"), "{name} {k}: {text}"),
        other => panic!("{name} step {}: an anchor outside the ancestry answered {other:?}", k + 1),
    }
    assert_eq!(session(both, ancestry.clone()), Message::StateRoot(step.post_state.state_root));
    // Without the feature: the rule is skipped, and the ancestry (if any is sent) ignored.
    assert_eq!(session(FEATURE_FORKS, vec![]), Message::StateRoot(step.post_state.state_root));
}

fn client_stream(client: &mut Client<UnixStream>) -> &mut UnixStream {
    client.stream_mut()
}

/// Deterministic garbage (xorshift).
fn garbage(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        })
        .collect()
}

fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = (payload.len() as u32).to_le_bytes().to_vec();
    out.extend_from_slice(payload);
    out
}

/// Malformed streams: each connection is closed by the target, none kills it, and a fuzzer
/// that stalls mid-message does not keep others from being served.
#[test]
fn garbage_closes_the_connection_and_the_target_keeps_serving() {
    let target = common::Target::start();
    let handshake = frame(&Message::PeerInfo(fuzzer_info(FEATURE_FORKS)).encode());

    // Left open in the middle of a frame for the whole test.
    let mut stalled = target.connect();
    stalled.write_all(&[100, 0, 0, 0, 0, 1, 2]).unwrap();

    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("random octets", garbage(4096, 0x9e37_79b9_7f4a_7c15)),
        ("a frame claiming 4 GiB", vec![0xff, 0xff, 0xff, 0xff, 0, 1, 2, 3]),
        ("an empty frame", frame(&[])),
        ("an unknown discriminator", frame(&[0x42, 1, 2, 3])),
        ("initialize before the handshake", frame(&[1; 64])),
        ("import_block before the handshake", frame(&[3; 64])),
        ("a truncated peer_info", frame(&[0, 1, 2])),
        (
            "protocol version 2",
            frame(&Message::PeerInfo(PeerInfo { fuzz_version: 2, ..fuzzer_info(0) }).encode()),
        ),
    ];
    for (name, tail) in [
        ("a second peer_info", handshake.clone()),
        ("a state_root as a request", frame(&Message::StateRoot([1; 32]).encode())),
        ("an error as a request", frame(&Message::Error("no".into()).encode())),
        ("a state as a request", frame(&Message::State(vec![]).encode())),
        ("an initialize that does not decode", frame(&[&[1u8][..], &garbage(300, 7)].concat())),
        ("random octets after the handshake", garbage(1000, 42)),
    ] {
        let mut bytes = handshake.clone();
        bytes.extend(tail);
        cases.push((name, bytes));
    }

    for (name, bytes) in &cases {
        let mut stream = target.connect();
        stream.write_all(bytes).unwrap();
        // The handshake, where sent first, is answered before the garbage is read.
        if bytes.starts_with(&handshake) {
            let answer = read_frame(&mut stream).unwrap().unwrap();
            assert_eq!(answer[0], 0, "{name}: the handshake is answered");
        }
        assert!(closed_by_target(&mut stream), "{name}: the target closes the connection");
    }
    // A connection that ends in the middle of a frame.
    let mut half = target.connect();
    half.write_all(&handshake[..handshake.len() - 1]).unwrap();
    half.shutdown(std::net::Shutdown::Write).unwrap();
    assert!(closed_by_target(&mut half), "a frame cut short by the fuzzer");

    // Still serving.
    let mut client = Client::new(target.connect(), ChainSpec::tiny());
    assert!(matches!(
        request(&mut client, Message::PeerInfo(fuzzer_info(FEATURE_FORKS))),
        Message::PeerInfo(_)
    ));
    // And import_block whose block does not decode is an invalid block: an `Error`, session goes on.
    assert!(matches!(request(&mut client, Message::ImportBlock(Box::new(dummy_block()))), Message::Error(_)));
    let (answer, _) = client.request_raw(&[3, 1, 2, 3]).unwrap();
    assert!(matches!(Message::decode(&ChainSpec::tiny(), &answer), Ok(Message::Error(_))));

    let log = target.log_lines();
    let closed = log.iter().filter(|l| l.contains("closed by the target")).count();
    // The cases and the frame cut short.
    let bad_sessions = cases.len() + 1;
    assert!(closed >= bad_sessions, "every bad session is closed by the target: {log:#?}");
    assert!(!log.iter().any(|l| l.contains("panic")), "{log:#?}");
    drop(stalled);
}

/// A block on a parent the session does not know (nothing was initialized).
fn dummy_block() -> orrery_types::Block {
    trace_step("fallback", 1).block
}

/// Polls `done` every 20 ms for up to `limit`; whether it came true.
fn eventually(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    done()
}

/// How long until the target closes `stream` (end of stream or a reset), if it does within
/// `limit`; anything it sends first fails the test.
fn time_to_close(stream: &mut UnixStream, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut buf = [0u8; 64];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Some(start.elapsed()),
            Ok(n) => panic!("the target answered {n} octets to half a message"),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return Some(start.elapsed()),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return None,
        }
    }
}

/// Connections beyond the cap are closed at once; those within it that hold half a length
/// prefix are closed after the idle time, and then nothing is left open. The target serves a
/// fuzzer after it.
#[test]
fn half_frames_are_bounded_in_number_and_in_time() {
    let idle = Duration::from_secs(2);
    let target = common::Target::start_with(Limits { max_sessions: 4, idle, ..Limits::default() });
    let first_connect = Instant::now();
    let mut streams: Vec<UnixStream> = (0..12)
        .map(|_| {
            let mut stream = target.connect();
            // A connection beyond the cap may already be closed by the target (broken pipe);
            // which ones were refused is counted from the target's log below.
            let _ = stream.write_all(&[100, 0]);
            stream
        })
        .collect();
    assert!(
        eventually(Duration::from_secs(10), || target.logged("refused") == 8),
        "8 of 12 connections refused: {:#?}",
        target.log_lines()
    );
    if first_connect.elapsed() < idle / 2 {
        assert_eq!(target.server.open_sessions(), 4);
    }
    assert!(eventually(idle + Duration::from_secs(10), || target.server.open_sessions() == 0));
    // Every session began after `first_connect` and waited the idle time before it was closed.
    assert!(first_connect.elapsed() >= idle);
    for stream in &mut streams {
        assert!(time_to_close(stream, Duration::from_secs(10)).is_some(), "closed by the target");
    }
    assert_eq!(target.logged("within the idle limit"), 4, "{:#?}", target.log_lines());

    let mut client = Client::new(target.connect(), ChainSpec::tiny());
    assert!(matches!(
        request(&mut client, Message::PeerInfo(fuzzer_info(FEATURE_FORKS))),
        Message::PeerInfo(_)
    ));
}

/// A length above the protocol's largest message is refused as soon as it is read, not after
/// the idle time, and nothing of it is held.
#[test]
fn an_oversized_claim_is_refused_at_once() {
    let target = common::Target::start_with(Limits { idle: Duration::from_secs(60), ..Limits::default() });
    let mut stream = target.connect();
    stream.write_all(&(MAX_MESSAGE + 1).to_le_bytes()).unwrap();
    let _ = stream.write_all(&[0; 1000]);
    let took = time_to_close(&mut stream, Duration::from_secs(30)).expect("closed by the target");
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert!(
        eventually(Duration::from_secs(10), || target.logged("more than the 67778373 allowed") == 1),
        "{:#?}",
        target.log_lines()
    );
    assert_eq!(target.server.buffered(), 0);
}

/// Slow senders of large messages: each holds about what it sent, not what it claimed, and
/// together no more than the budget; the one that would pass it is closed, the other goes on.
#[test]
fn slow_large_messages_stay_within_the_budget() {
    let budget = 1 << 20;
    let target = common::Target::start_with(Limits {
        buffered: budget,
        idle: Duration::from_secs(60),
        ..Limits::default()
    });
    // Claims 40 MB (a legal size), sends 100 KiB.
    let mut first = target.connect();
    first.write_all(&40_000_000u32.to_le_bytes()).unwrap();
    first.write_all(&vec![1; 100 << 10]).unwrap();
    assert!(
        eventually(Duration::from_secs(10), || target.server.buffered() >= 100 << 10),
        "{}",
        target.server.buffered()
    );
    // What arrived, rounded up to the buffer's doubling: 128 KiB, not 40 MB.
    assert_eq!(target.server.buffered(), 128 << 10);

    // A second sends 2 MiB of its 40 MB: past the budget beside the first.
    let mut second = target.connect();
    second.write_all(&40_000_000u32.to_le_bytes()).unwrap();
    for _ in 0..32 {
        if second.write_all(&[2; 64 << 10]).is_err() {
            break; // closed by the target
        }
    }
    assert!(time_to_close(&mut second, Duration::from_secs(30)).is_some(), "the second is closed");
    // The log line follows the close.
    assert!(
        eventually(Duration::from_secs(10), || target.logged("would pass the budget of 1048576 octets") == 1),
        "{:#?}",
        target.log_lines()
    );
    assert_eq!(target.server.buffered(), 128 << 10, "the first still holds its part");
    assert_eq!(target.server.open_sessions(), 1);
    drop(first);
    assert!(eventually(Duration::from_secs(10), || target.server.buffered() == 0));
}

/// The socket of a live target is not taken over: [`bind`] refuses it, naming it, and the first
/// listener goes on accepting; a socket nothing listens on any more is replaced; a file that is
/// not a socket is left alone.
#[test]
fn a_live_socket_is_refused_and_a_stale_one_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("target.sock");
    let live = UnixListener::bind(&path).unwrap();
    let refused = bind(&path).expect_err("a live socket is refused");
    assert_eq!(refused.kind(), std::io::ErrorKind::AddrInUse);
    assert!(refused.to_string().contains(&path.display().to_string()), "{refused}");
    // Still the first listener's: a connection reaches it.
    let _client = UnixStream::connect(&path).expect("the socket is still there");
    live.set_nonblocking(false).unwrap();
    let (_served, _) = live.accept().expect("the first listener accepts");

    drop(live);
    assert!(path.exists(), "a listener dropped leaves its socket file: stale now");
    let replaced = bind(&path).expect("a stale socket is replaced");
    let _client = UnixStream::connect(&path).expect("the new listener's socket");
    replaced.accept().expect("the new listener accepts");

    let file = dir.path().join("not-a-socket");
    std::fs::write(&file, b"keep").unwrap();
    let err = bind(&file).expect_err("a file is not replaced");
    assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
    assert_eq!(std::fs::read(&file).unwrap(), b"keep");
}

/// The idle limit is per wait, not per message: a fuzzer that sends a message in pieces, each
/// within the limit, is served though the whole takes longer than the limit.
#[test]
fn a_slow_but_live_fuzzer_is_served() {
    let idle = Duration::from_millis(800);
    let target = common::Target::start_with(Limits { idle, ..Limits::default() });
    let mut stream = target.connect();
    let handshake = frame(&Message::PeerInfo(fuzzer_info(FEATURE_FORKS)).encode());
    let start = Instant::now();
    for piece in handshake.chunks(handshake.len().div_ceil(4)) {
        std::thread::sleep(idle / 2);
        stream.write_all(piece).unwrap();
    }
    assert!(start.elapsed() > idle);
    let answer = read_frame(&mut stream).unwrap().expect("an answer");
    assert_eq!(answer[0], 0, "peer_info");
}
