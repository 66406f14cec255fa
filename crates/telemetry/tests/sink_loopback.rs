//! The client sends to the sink over loopback (two nodes at once, one of them writing garbage
//! after its node information), and the sink's lines name what each sent.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use orrery_telemetry::sink::{serve, Lines, SinkConfig};
use orrery_telemetry::{
    encode_frame, ConnectionSide, Event, NodeInfo, Telemetry, TelemetryConfig, PARAMETERS_LEN,
};

fn info(name: &str) -> NodeInfo {
    let mut parameters = vec![0u8; PARAMETERS_LEN];
    parameters[24] = 2; // C
    parameters[30] = 12; // E
    parameters[92] = 6; // V
    NodeInfo {
        parameters,
        genesis: [1; 32],
        peer_id: [2; 32],
        address: "127.0.0.1:21899".parse().unwrap(),
        recompiler: false,
        name: name.into(),
        version: "0.1".into(),
        gp_version: "0.7.2".into(),
        note: "loopback test".into(),
    }
}

/// Waits (at most 10 s) until the output holds a line containing each of `wanted`.
fn wait_for(out: &Mutex<Vec<u8>>, wanted: &[&str]) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = String::from_utf8_lossy(&out.lock().unwrap()).into_owned();
        if wanted.iter().all(|w| text.contains(w)) || Instant::now() > deadline {
            return text;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sink_prints_what_the_client_sends_and_survives_garbage() {
    let listener = TcpListener::bind("127.0.0.1:21801").expect("port 21801 free");
    let addr: SocketAddr = listener.local_addr().unwrap();
    let dir = std::env::temp_dir().join(format!("orrery-sink-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let raw = dir.join("raw.bin");
    let out = Arc::new(Mutex::new(Vec::<u8>::new()));
    let lines: Lines = out.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let config = SinkConfig { out: Some(raw.clone()), max_frame: 4096, ..SinkConfig::default() };
    let server = {
        let stop = stop.clone();
        std::thread::spawn(move || serve(listener, config, lines, stop))
    };

    // A real client, its writer thread and queue.
    let client = Telemetry::start(TelemetryConfig::new(addr), info("node-a"));
    client.emit(Event::SyncStatusChanged { synced: true });
    let connecting = client.emit(Event::ConnectingOut { peer: [3; 32], address: addr });
    client.emit(Event::ConnectedOut { connecting });
    client.emit(Event::TicketTransferred {
        peer: [3; 32],
        sender: ConnectionSide::Remote,
        ce132: false,
        epoch: 4,
        attempt: 0,
        output: [9; 32],
    });
    let text = wait_for(
        &out,
        &["sync status changed synced=yes", "connected out connecting=1", "ticket transferred"],
    );
    assert!(text.contains("[1] node node-a 0.1 (GP 0.7.2)"), "{text}");
    assert!(text.contains("[1] #2 "), "{text}");
    assert!(text.contains("ticket transferred peer=0x03030303… sender=remote ce132=no epoch=4"), "{text}");

    // A second node, by hand: good node information, then a frame above the cap.
    let mut other = TcpStream::connect(addr).unwrap();
    other.write_all(&encode_frame(&info("node-b").encode())).unwrap();
    other.write_all(&(10_000u32).to_le_bytes()).unwrap();
    let text = wait_for(&out, &["[2] closed: frame 1: 10000 bytes, above the 4096-byte cap"]);
    assert!(text.contains("[2] node node-b"), "{text}");
    assert!(text.contains("[2] closed: frame 1: 10000 bytes, above the 4096-byte cap"), "{text}");

    // The first connection is unharmed.
    client.emit(Event::BestBlockChanged { slot: 12, hash: [5; 32] });
    let text = wait_for(&out, &["best block changed slot=12"]);
    assert!(text.contains("[1] #4 "), "{text}");

    drop(client);
    let _ = wait_for(&out, &["[1] closed"]);
    stop.store(true, Ordering::Relaxed);
    server.join().unwrap().unwrap();
    // Connection 1's raw bytes start with its node information frame.
    let bytes = std::fs::read(&raw).unwrap();
    let first = encode_frame(&info("node-a").encode());
    assert_eq!(&bytes[..first.len()], &first[..]);
    let _ = std::fs::remove_dir_all(&dir);
}
