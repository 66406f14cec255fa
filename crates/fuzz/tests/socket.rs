//! The target over a real Unix socket: a trace of the vectors with an invalid block and a
//! re-import on an older parent in it, and malformed streams, each of which gets its connection
//! closed while the target goes on serving others.

mod common;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

use orrery_codec::decode_exact;
use orrery_fuzz::client::Client;
use orrery_fuzz::protocol::{read_frame, write_frame, Initialize, Message, PeerInfo, Version, FEATURE_FORKS};
use orrery_import::formats::{Genesis, TraceStep};
use orrery_import::header_hash;
use orrery_types::ChainSpec;

fn vectors() -> PathBuf {
    match std::env::var_os("ORRERY_VECTORS") {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors/jam-0.7.2"),
    }
}

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
    let dir = vectors().join("traces/fallback");
    let read = |name: &str| {
        std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()))
    };
    let genesis: Genesis = decode_exact(&read("genesis.bin"), spec.lengths()).unwrap();
    let steps: Vec<TraceStep> =
        (1..=4).map(|i| decode_exact(&read(&format!("{i:08}.bin")), spec.lengths()).unwrap()).collect();

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
    let spec = ChainSpec::tiny();
    let dir = vectors().join("traces/fallback");
    let step: TraceStep =
        decode_exact(&std::fs::read(dir.join("00000001.bin")).unwrap(), spec.lengths()).unwrap();
    step.block
}
