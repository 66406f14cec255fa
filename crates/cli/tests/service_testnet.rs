//! A service developer's path on a real network: `orrery testnet` (six validator processes on
//! loopback), then `orrery service deploy services/kv/kv.jam` through the first node's JIP-2 RPC,
//! `orrery service call` with a kv "set" command, and `orrery service storage` reading the value
//! back, with `orrery service info` on the way. Every node reports JIP-3 telemetry to one
//! `orrery telemetry-sink`, whose output must show the call's guaranteeing pipeline with its links
//! (submission → authorized → refined → report built → guarantee built → distributed → shards →
//! assurance → a block carrying a guarantee). Every command and wait is bounded in time; every
//! process is stopped (and killed at worst) before the test returns, pass or fail.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{hex, orrery, repo, run, testnet, wait_exit, TestnetPorts};

/// Ports of this file's network, away from the dev defaults and from tests/node.rs's.
const QUIC: u16 = 21_300;
const RPC: u16 = 21_400;
/// Node i serves Prometheus metrics on this + i.
const METRICS: u16 = 21_460;
const EXPLORER: u16 = 21_450;
/// The telemetry sink every node reports to.
const SINK: u16 = 22_000;

/// Stops and reaps the processes however the test ends: SIGTERM (the testnet stops its nodes),
/// SIGKILL after 20 s.
struct Reaper(Vec<Child>);

impl Drop for Reaper {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        }
        for child in &mut self.0 {
            if wait_exit(child, Duration::from_secs(20)).is_none() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

/// `/health` of the node serving on `port`: its best slot.
fn best_slot(port: u16) -> Option<u32> {
    use std::io::{Read, Write};
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").ok()?;
    let mut out = String::new();
    s.take(64 * 1024).read_to_string(&mut out).ok()?;
    let body = out.split_once("\r\n\r\n")?.1;
    let at = body.find("\"best\":{\"slot\":")? + 15;
    body[at..].chars().take_while(char::is_ascii_digit).collect::<String>().parse().ok()
}

/// The number after `prefix` on some line of `text`.
fn number_after(text: &str, prefix: &str) -> Option<u32> {
    let at = text.find(prefix)? + prefix.len();
    text[at..].split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

/// A WebSocket connection to the RPC on `port`, upgraded (RFC 6455 handshake by hand) and left open.
fn open_websocket(port: u16) -> std::net::TcpStream {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .unwrap();
    let mut head = [0u8; 12];
    s.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 101", "{}", String::from_utf8_lossy(&head));
    s
}

/// Waits (at most 10 s) until node metric `name` on `port` satisfies `ok`.
fn wait_metric(port: u16, name: &str, ok: impl Fn(u64) -> bool) {
    use std::io::{Read, Write};
    let start = Instant::now();
    let mut last = None;
    while start.elapsed() < Duration::from_secs(10) {
        let scrape = (|| {
            let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
            s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
            s.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").ok()?;
            let mut out = String::new();
            s.take(1 << 20).read_to_string(&mut out).ok()?;
            let line = out.lines().find(|l| l.starts_with(&format!("{name} ")))?;
            line[name.len() + 1..].trim().parse::<u64>().ok()
        })();
        if scrape.is_some_and(&ok) {
            return;
        }
        last = scrape;
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("metric {name} on port {port}: {last:?}");
}

/// JIP-3 events of the sink's `--json` output.
fn sink_events(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v.get("kind").is_some())
        .collect()
}

/// Finds, on some node's connection, the guaranteeing pipeline of a package calling `service`,
/// each event naming the one the JIP says it links to; the error says what the best candidate
/// lacked.
fn guaranteeing_chain(events: &[serde_json::Value], service: u64) -> Result<String, String> {
    use serde_json::Value;
    let kind = |e: &Value| e["kind"].as_u64().unwrap_or(u64::MAX);
    let mut missing = String::from("no \"work-package received\" (94) names the service");
    let calls = events.iter().filter(|e| {
        kind(e) == 94
            && e["outline"]["items"]
                .as_array()
                .is_some_and(|items| items.iter().any(|i| i["service"] == service))
    });
    for received in calls {
        let conn = &received["conn"];
        let s = &received["submission"];
        let on_conn = |k: u64, field: &str, value: &Value| {
            events.iter().find(|e| e["conn"] == *conn && kind(e) == k && e[field] == *value)
        };
        let check = || -> Result<String, String> {
            on_conn(90, "id", s).ok_or("its submission is no \"work-package submission\" (90)")?;
            let authorized = on_conn(95, "submission", s).ok_or("no \"authorized\" (95)")?;
            let refined = on_conn(101, "submission", s).ok_or("no \"refined\" (101)")?;
            let built = on_conn(102, "submission", s).ok_or("no \"work-report built\" (102)")?;
            let guarantee = on_conn(105, "submission", s).ok_or("no \"guarantee built\" (105)")?;
            let distributed = on_conn(109, "submission", s).ok_or("no \"guarantees distributed\" (109)")?;
            if guarantee["outline"]["report"] != built["outline"]["hash"] {
                return Err(format!("the guarantee {guarantee} is not of the report built {built}"));
            }
            let ids: Vec<u64> = [received, authorized, refined, built, guarantee, distributed]
                .iter()
                .map(|e| e["id"].as_u64().unwrap_or(0))
                .collect();
            if ids.windows(2).any(|w| w[0] >= w[1]) {
                return Err(format!("out of order: event ids {ids:?}"));
            }
            // Some assurer asked a guarantor for its shard of the report, and got it.
            let root = &built["outline"]["erasure_root"];
            let shard = events
                .iter()
                .filter(|e| kind(e) == 120 && e["erasure_root"] == *root)
                .find(|r| {
                    events.iter().any(|e| kind(e) == 125 && e["conn"] == r["conn"] && e["request"] == r["id"])
                })
                .ok_or("no \"sending shard request\" (120) of the report's erasure root answered (125)")?;
            // After the guarantee: an assurance distributed, and a block carrying a guarantee.
            let after = guarantee["at"].as_u64();
            let assured = events
                .iter()
                .filter(|d| kind(d) == 126 && d["at"].as_u64() > after)
                .find(|d| {
                    events
                        .iter()
                        .any(|e| kind(e) == 129 && e["conn"] == d["conn"] && e["distributing"] == d["id"])
                })
                .ok_or("no \"distributing assurance\" (126) closed by \"assurance distributed\" (129)")?;
            let block = events
                .iter()
                .find(|b| {
                    matches!(kind(b), 42 | 43)
                        && b["at"].as_u64() > after
                        && b["outline"]["guarantees"].as_u64().is_some_and(|g| g >= 1)
                })
                .ok_or("no block authored (42) or imported (43) with a guarantee after it")?;
            Ok(format!(
                "conn {conn}: ids {ids:?}, shard request on conn {}, assurance on conn {}, block event {} on conn {}",
                shard["conn"], assured["conn"], block["kind"], block["conn"]
            ))
        };
        match check() {
            Ok(found) => return Ok(found),
            Err(e) => missing = format!("conn {conn}, submission {s}: {e}"),
        }
    }
    Err(missing)
}

#[test]
fn a_service_is_deployed_called_and_read_back_on_a_testnet() {
    let dir = tempfile::tempdir().unwrap();
    // Every node's telemetry goes to one JIP-3 server, printing JSON lines.
    let sink_out = dir.path().join("sink.out");
    let sink = orrery()
        .args(["telemetry-sink", "--json", "--listen", &format!("127.0.0.1:{SINK}")])
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&sink_out).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _sink = Reaper(vec![sink]);
    let ports = TestnetPorts { quic: QUIC, rpc: RPC, explorer: EXPLORER, metrics: METRICS };
    let testnet =
        testnet(dir.path(), &ports, 400).args(["--telemetry", &format!("127.0.0.1:{SINK}")]).spawn().unwrap();
    let _reaper = Reaper(vec![testnet]);
    let logs = || {
        let mut all = String::new();
        for i in 0..6 {
            let text = std::fs::read_to_string(dir.path().join(format!("node-{i}.log"))).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(8).collect();
            all.push_str(&format!(
                "--- node {i}\n{}\n",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            ));
        }
        all
    };

    // The chain runs: every node serves /health and node 0 has a few blocks past genesis.
    let start = Instant::now();
    loop {
        let slots: Vec<Option<u32>> = (RPC..RPC + 6).map(best_slot).collect();
        if slots.iter().all(Option::is_some) && slots[0].is_some_and(|s| s > 0) {
            let first = slots[0].unwrap();
            if best_slot(RPC).is_some_and(|s| s >= first + 2) || start.elapsed() > Duration::from_secs(90) {
                break;
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "the testnet did not start: {slots:?}\n{}",
            logs()
        );
        std::thread::sleep(Duration::from_millis(500));
    }

    // An open RPC WebSocket connection shows in node 0's metrics, and leaves them when closed.
    let metrics_start = Instant::now();
    let ws = open_websocket(RPC);
    wait_metric(METRICS, "orrery_rpc_connections", |n| n >= 1);
    drop(ws);
    wait_metric(METRICS, "orrery_rpc_connections", |n| n == 0);
    eprintln!("RPC connection gauge checked in {:?}", metrics_start.elapsed());

    let rpc = format!("ws://127.0.0.1:{RPC}");
    // Every package goes through node 0, whatever core it is for: a node that does not guarantee
    // the core passes its user's package on to a guarantor that does (CE 133).
    let submit = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--rpc", rpc.as_str(), "--wait-slots", "12"]);
        run(&all, Duration::from_secs(90))
    };
    let kv = repo().join("services/kv/kv.jam");
    let kv_hash = orrery_crypto::blake2b_256(&std::fs::read(&kv).unwrap());

    // Deploy kv through the manager: reported, available, accumulated; the new id printed.
    let (code, out) = submit(&["service", "deploy", kv.to_str().unwrap()]);
    assert!(!out.contains("panicked"), "{out}");
    assert_eq!(code, Some(0), "deploy:\n{out}\n{}", logs());
    assert!(out.contains("submitted work package "), "{out}");
    assert!(out.contains("reported in #") && out.contains("available in #"), "{out}");
    let id = number_after(&out, "deployed service ").unwrap_or_else(|| panic!("no id in:\n{out}"));
    assert!(id >= 1 << 16, "{out}");

    // Its account holds kv's code hash.
    let (code, out) = run(&["service", "info", &id.to_string(), "--rpc", &rpc], Duration::from_secs(30));
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains(&format!("code hash        0x{}", hex(&kv_hash))), "{out}");

    // Call it with a set command: refine's output is kv's compact list, accumulate writes it.
    let id_text = id.to_string();
    let payload = hex(b"name=orrery\n");
    let (code, out) = submit(&["service", "call", &id_text, "--payload", &payload, "--key", "@name"]);
    assert_eq!(code, Some(0), "call:\n{out}\n{}", logs());
    // [1] ‖ E2(4) ‖ "name" ‖ E4(6) ‖ "orrery", by kv's doc.
    let list = [&[1u8, 4, 0][..], b"name", &[6, 0, 0, 0], b"orrery"].concat();
    assert!(out.contains(&format!("refine: output 0x{}", hex(&list))), "{out}");
    assert!(out.contains(&format!("accumulate: service {id} accumulated in #")), "{out}");
    assert!(out.contains("storage items "), "{out}");
    assert!(out.contains("storage 0x6e616d65 = 0x6f7272657279 (\"orrery\") (was none)"), "{out}");

    // The call's pipeline in the telemetry (the sink has had every event up to the accumulation
    // the call waited for; a few seconds more for the queues to drain).
    let start = Instant::now();
    let found = loop {
        let events = sink_events(&std::fs::read_to_string(&sink_out).unwrap_or_default());
        match guaranteeing_chain(&events, u64::from(id)) {
            Ok(found) => break found,
            Err(e) if start.elapsed() > Duration::from_secs(15) => {
                panic!("telemetry ({} events): {e}", events.len())
            }
            Err(_) => std::thread::sleep(Duration::from_millis(500)),
        }
    };
    eprintln!("telemetry: {found} (found after {:?})", start.elapsed());

    // The value reads back, by text key and by hex key.
    let (code, out) =
        run(&["service", "storage", &id.to_string(), "@name", "--rpc", &rpc], Duration::from_secs(30));
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains(&format!("0x{} (\"orrery\")", hex(b"orrery"))), "{out}");
    let (code, out) = run(
        &["service", "storage", &id.to_string(), &hex(b"missing"), "--rpc", &rpc],
        Duration::from_secs(30),
    );
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("none (service "), "{out}");

    // The service list has the manager and the new service.
    let (code, out) = run(&["service", "info", "--rpc", &rpc], Duration::from_secs(30));
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains(&format!(" {id}  code 0x{}", hex(&kv_hash[..8]))), "{out}");

    // Code larger than a work result (48 KiB): the registry's 145 KB go by hash, then as a
    // preimage that a block's preimage extrinsic brings on chain.
    let registry = repo().join("services/registry/registry.jam");
    let registry_code = std::fs::read(&registry).unwrap();
    let (code, out) = submit(&["service", "deploy", registry.to_str().unwrap()]);
    assert_eq!(code, Some(0), "deploy by hash:\n{out}\n{}", logs());
    assert!(out.contains("the manager deploys it by hash"), "{out}");
    assert!(
        out.contains(&format!("submitted its code ({} octets) as a preimage", registry_code.len())),
        "{out}"
    );
    assert!(out.contains("code on chain in #"), "{out}");
    let registry_id = number_after(&out, "deployed service ").unwrap_or_else(|| panic!("no id in:\n{out}"));
    // It runs: a registration of no agent (zero commands) is refined and accumulated.
    let (code, out) = submit(&["service", "call", &registry_id.to_string(), "--payload", "0100"]);
    assert_eq!(code, Some(0), "call of the registry:\n{out}\n{}", logs());
    assert!(out.contains(&format!("accumulate: service {registry_id} accumulated in #")), "{out}");
}

/// Without a node, or with something else on the port, each command says so in one line and
/// exits 1, never panics.
#[test]
fn the_network_commands_fail_cleanly_without_a_node() {
    // A listener that answers HTTP, not WebSocket (a real socket; it serves each connection once).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let not_ws = format!("ws://{}", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        use std::io::{Read, Write};
        listener.set_nonblocking(true).unwrap();
        let start = Instant::now();
        let mut served = 0;
        while served < 2 && start.elapsed() < Duration::from_secs(30) {
            match listener.accept() {
                Ok((mut s, _)) => {
                    s.set_nonblocking(false).unwrap();
                    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
                    let mut buf = [0u8; 2048];
                    let _ = s.read(&mut buf);
                    let _ = s.write_all(
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    );
                    served += 1;
                }
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    });
    // A port nothing listens on: bound, then closed.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let refused = format!("ws://{closed}");
    let kv = repo().join("services/kv/kv.jam");
    let kv = kv.to_str().unwrap();
    let cases: Vec<(Vec<&str>, String)> = vec![
        (
            vec!["service", "storage", "1", "@x", "--rpc", &refused],
            format!("cannot reach the node's RPC at {refused}"),
        ),
        (vec!["service", "info", "--rpc", &not_ws], format!("cannot reach the node's RPC at {not_ws}")),
        (
            vec!["service", "deploy", kv, "--rpc", &refused],
            format!("cannot reach the node's RPC at {refused}"),
        ),
        (
            vec!["service", "call", "65536", "--payload", "00", "--rpc", &not_ws],
            "cannot reach the node's RPC".into(),
        ),
        (vec!["service", "info", "1", "--rpc", "http://127.0.0.1:1"], "give a ws:// address".into()),
        (
            vec!["service", "storage", "1", "zz", "--rpc", &refused],
            "key `zz`: 'z' is not a hexadecimal digit".into(),
        ),
        (
            vec!["service", "call", "1", "--payload", "abc", "--rpc", &refused],
            "an odd number of hex digits".into(),
        ),
        (vec!["service", "deploy", "/nonexistent.jam", "--rpc", &refused], "/nonexistent.jam".into()),
        (vec!["service", "deploy", "Cargo.toml", "--rpc", &refused], "not a service blob".into()),
    ];
    for (args, expected) in &cases {
        let (code, out) = run(args, Duration::from_secs(30));
        assert_eq!(code, Some(1), "{args:?}: {out}");
        assert!(out.contains(expected.as_str()), "{args:?}: {out}");
        assert!(!out.contains("panicked"), "{args:?}: {out}");
        assert_eq!(out.trim().lines().count(), 1, "{args:?}: one line, not:\n{out}");
    }
    server.join().unwrap();
}
