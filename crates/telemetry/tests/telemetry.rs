//! JIP-3 messages byte for byte (the layouts worked out from the JIP's text by hand), and the
//! client against a real TCP server on loopback: node information first, events in order, drops
//! counted, a reconnection announced.

use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use orrery_telemetry::{
    encode_frame, BlockOutline, ConnectionSide, Event, NodeInfo, PerCore, Telemetry, TelemetryConfig,
};

fn info() -> NodeInfo {
    NodeInfo {
        parameters: vec![1, 2, 3],
        genesis: [0x11; 32],
        peer_id: [0x22; 32],
        address: "127.0.0.1:40000".parse().unwrap(),
        recompiler: true,
        name: "Orrery".into(),
        version: "0.1.0".into(),
        gp_version: "0.7.2".into(),
        note: "x".repeat(600),
    }
}

#[test]
fn node_information_is_laid_out_as_the_jip_says() {
    let bytes = info().encode();
    let mut expected = vec![0u8, 1, 2, 3];
    expected.extend_from_slice(&[0x11; 32]);
    expected.extend_from_slice(&[0x22; 32]);
    // 127.0.0.1 as IPv4-mapped IPv6, then 40000 = 0x9c40 little-endian.
    expected.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1, 0x40, 0x9c]);
    expected.extend_from_slice(&[1, 0, 0, 0]);
    expected.push(6);
    expected.extend_from_slice(b"Orrery");
    expected.push(5);
    expected.extend_from_slice(b"0.1.0");
    expected.push(5);
    expected.extend_from_slice(b"0.7.2");
    // String<512>: the note is cut to 512 octets; 512 = 0x200 is two octets in the general
    // natural encoding (0x80 | 0x02, 0x00).
    expected.extend_from_slice(&[0x82, 0x00]);
    expected.extend_from_slice(&[b'x'; 512]);
    assert_eq!(bytes, expected);
}

#[test]
fn events_are_timestamp_discriminator_fields() {
    let at = 0x0102_0304_0506_0708u64;
    let ts = [8, 7, 6, 5, 4, 3, 2, 1];

    let best = Event::BestBlockChanged { slot: 7, hash: [0xaa; 32] }.encode(at);
    let mut expected = ts.to_vec();
    expected.extend_from_slice(&[11, 7, 0, 0, 0]);
    expected.extend_from_slice(&[0xaa; 32]);
    assert_eq!(best, expected);

    let gone =
        Event::Disconnected { peer: [3; 32], terminator: Some(ConnectionSide::Remote), reason: "bye".into() }
            .encode(at);
    let mut expected = ts.to_vec();
    expected.push(27);
    expected.extend_from_slice(&[3; 32]);
    expected.extend_from_slice(&[1, 1, 3, b'b', b'y', b'e']);
    assert_eq!(gone, expected);
    let timeout = Event::Disconnected { peer: [3; 32], terminator: None, reason: String::new() }.encode(at);
    assert_eq!(&timeout[9 + 32..], &[0, 0]);

    let outline = BlockOutline {
        size: 0x100,
        hash: [5; 32],
        tickets: 1,
        preimages: 2,
        preimages_size: 3,
        guarantees: 4,
        assurances: 5,
        dispute_verdicts: 6,
    };
    let authored = Event::Authored { authoring: 9, outline }.encode(at);
    let mut expected = ts.to_vec();
    expected.push(42);
    expected.extend_from_slice(&9u64.to_le_bytes());
    expected.extend_from_slice(&[0, 1, 0, 0]);
    expected.extend_from_slice(&[5; 32]);
    for n in 1u32..=6 {
        expected.extend_from_slice(&n.to_le_bytes());
    }
    assert_eq!(authored, expected);

    // A reason is String<128>: cut at a character boundary, never in the middle of one.
    let long = "é".repeat(100); // 200 octets
    let misbehaved = Event::PeerMisbehaved { peer: [0; 32], reason: long }.encode(at);
    assert_eq!(misbehaved[9 + 32], 0x80, "the length 128 takes two octets: 0x80, 0x80");
    assert_eq!(misbehaved[9 + 33], 0x80);
    assert_eq!(misbehaved.len(), 9 + 32 + 2 + 128);

    let status = Event::Status {
        peers: 5,
        validator_peers: 4,
        announcement_streams: 3,
        guarantees_by_core: PerCore(vec![1, 2]),
        shards: 0,
        shards_size: 0,
        preimages: 0,
        preimages_size: 0,
    }
    .encode(at);
    assert_eq!(status.len(), 9 + 12 + 2 + 4 + 8 + 4 + 4);
    assert_eq!(&status[9..23], &[5, 0, 0, 0, 4, 0, 0, 0, 3, 0, 0, 0, 1, 2]);

    assert_eq!(encode_frame(&[9, 9]), vec![2, 0, 0, 0, 9, 9]);
}

/// Reads one frame, within a deadline.
fn frame(stream: &mut TcpStream) -> Vec<u8> {
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut len = [0u8; 4];
    stream.read_exact(&mut len).unwrap();
    let mut content = vec![0u8; u32::from_le_bytes(len) as usize];
    stream.read_exact(&mut content).unwrap();
    content
}

fn quick(server: SocketAddr, queue: usize) -> TelemetryConfig {
    TelemetryConfig {
        queue,
        backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(50),
        io_timeout: Duration::from_secs(2),
        ..TelemetryConfig::new(server)
    }
}

#[test]
fn the_client_sends_node_information_then_events_in_order() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let telemetry = Telemetry::start(quick(listener.local_addr().unwrap(), 64), info());
    let a = telemetry.emit_at(100, Event::SyncStatusChanged { synced: true });
    let b = telemetry.emit_at(200, Event::FinalizedBlockChanged { slot: 3, hash: [1; 32] });
    assert_eq!((a, b), (0, 1));
    let (mut stream, _) = listener.accept().unwrap();
    assert_eq!(frame(&mut stream), info().encode());
    assert_eq!(frame(&mut stream), [&100u64.to_le_bytes()[..], &[13, 1]].concat());
    let finalized = frame(&mut stream);
    assert_eq!(&finalized[..9], &[&200u64.to_le_bytes()[..], &[12]].concat()[..]);
}

#[test]
fn events_beyond_the_queue_are_dropped_and_counted() {
    // Nobody listens yet: the writer cannot connect, two events wait, the rest are dropped.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let server: SocketAddr = ([127, 0, 0, 1], port).into();
    let telemetry = Telemetry::start(quick(server, 2), info());
    for slot in 0..10 {
        telemetry.emit_at(1000 + u64::from(slot), Event::BestBlockChanged { slot, hash: [0; 32] });
    }
    let listener = TcpListener::bind(server).unwrap();
    let (mut stream, _) = listener.accept().unwrap();
    assert_eq!(frame(&mut stream), info().encode());
    assert_eq!(frame(&mut stream)[8..13], [11, 0, 0, 0, 0]);
    assert_eq!(frame(&mut stream)[8..13], [11, 1, 0, 0, 0]);
    // The queue has room again.
    let id = telemetry.emit_at(5000, Event::SyncStatusChanged { synced: false });
    assert_eq!(id, 10);
    // IDs 2..=9 never left the node: one "dropped" event for eight, then ID 10.
    let dropped = frame(&mut stream);
    assert_eq!(
        dropped,
        [&5000u64.to_le_bytes()[..], &[0], &5000u64.to_le_bytes(), &8u64.to_le_bytes()].concat()
    );
    assert_eq!(frame(&mut stream), [&5000u64.to_le_bytes()[..], &[13, 0]].concat());
}

#[test]
fn a_new_connection_starts_with_node_information_and_the_ids_it_missed() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let telemetry = Telemetry::start(quick(listener.local_addr().unwrap(), 64), info());
    telemetry.emit_at(1, Event::SyncStatusChanged { synced: true });
    let (mut first, _) = listener.accept().unwrap();
    assert_eq!(frame(&mut first), info().encode());
    frame(&mut first);
    drop(first);
    // Writes to the closed connection fail sooner or later; the client reconnects.
    let deadline = Instant::now() + Duration::from_secs(10);
    listener.set_nonblocking(true).unwrap();
    let mut second = loop {
        assert!(Instant::now() < deadline, "no reconnection");
        telemetry.emit_at(2, Event::SyncStatusChanged { synced: false });
        match listener.accept() {
            Ok((stream, _)) => break stream,
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    second.set_nonblocking(false).unwrap();
    assert_eq!(frame(&mut second), info().encode());
    // The server numbers this connection's events from 0: a "dropped" event first brings its
    // count to the ID of the event that follows.
    let dropped = frame(&mut second);
    assert_eq!(dropped[8], 0);
    let count = u64::from_le_bytes(dropped[17..25].try_into().unwrap());
    let next = frame(&mut second);
    assert_eq!(next[8..10], [13, 0]);
    assert!(count >= 1, "the first connection's event is not renumbered: {count}");
}
