//! `orrery node run` and `orrery testnet` as real processes talking QUIC on loopback: six validators
//! author and finalize; one killed with SIGKILL and restarted on its database catches up with the
//! others' finalized head; a seventh node that validates nothing, started late, follows the chain.
//! Every wait is bounded, every process is stopped (and killed at worst) before the test returns.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use orrery_testkit::{srs_path, trace_dir};

/// Ports of this file's network (away from the dev defaults, so a developer's testnet is not hit).
const QUIC: u16 = 21_100;
const RPC: u16 = 21_200;
/// Node 0 serves the explorer here (a_misbehaving_peer_is_disconnected_and_refused uses 21150 and 21250).
const EXPLORER: u16 = 21_290;
/// Node i of the testnet serves Prometheus metrics on this + i.
const METRICS: u16 = 21_810;
/// The telemetry sink node 5 reports to.
const SINK: u16 = 21_802;
const SLOT_SECONDS: &str = "2";

fn orrery() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_orrery"));
    cmd.env("ORRERY_SRS", srs_path()).env("ORRERY_DEV_BASE", trace_dir("fallback").join("genesis.bin"));
    cmd
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Stops and reaps the processes when the test ends, however it ends: SIGTERM first (the testnet
/// then stops its own nodes), SIGKILL after 15 s.
struct Reaper(Vec<Child>);

impl Drop for Reaper {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        }
        for child in &mut self.0 {
            if wait_exit(child, Duration::from_secs(15)).is_none() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill").args([sig, &pid.to_string()]).status().expect("running kill");
    assert!(ok.success(), "kill {sig} {pid}");
}

fn wait_exit(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

/// `/health` of the node serving on `port`: (best slot, finalized slot, finalized hash, peers).
fn health(port: u16) -> Option<(u32, u32, String, usize)> {
    use std::io::{Read, Write};
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let body = out.split_once("\r\n\r\n")?.1;
    let number = |after: &str| -> Option<u64> {
        let at = body.find(after)? + after.len();
        body[at..].chars().take_while(char::is_ascii_digit).collect::<String>().parse().ok()
    };
    let hash_at = body.find("\"finalized\":{")?;
    let hash_start = body[hash_at..].find("\"hash\":\"")? + hash_at + 8;
    Some((
        number("\"best\":{\"slot\":")? as u32,
        number("\"finalized\":{\"slot\":")? as u32,
        body.get(hash_start..hash_start + 64)?.to_string(),
        number("\"peers\":")? as usize,
    ))
}

/// One JSON-RPC call over plain HTTP to the node serving on `port`: the response body.
fn json_rpc(port: u16, body: &str) -> Option<String> {
    use std::io::{Read, Write};
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let request = format!(
        "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(request.as_bytes()).ok()?;
    let mut out = String::new();
    s.take(64 * 1024).read_to_string(&mut out).ok()?;
    Some(out.split_once("\r\n\r\n")?.1.to_string())
}

/// Padded base64 (RFC 4648), written out here so the test does not lean on the code it checks.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Polls until `done` holds, at most `limit`; says what it last saw when it gives up.
fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> (bool, String)) {
    let start = Instant::now();
    loop {
        let (ok, seen) = done();
        if ok {
            return;
        }
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}; last seen: {seen}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn all_health(ports: impl Iterator<Item = u16>) -> Vec<Option<(u32, u32, String, usize)>> {
    ports.map(health).collect()
}

fn node_run(spec: &Path, index: Option<u32>, store: &[&str], port: u16, rpc: u16, log: &Path) -> Child {
    let log = std::fs::File::create(log).unwrap();
    let mut cmd = orrery();
    cmd.args(["node", "run", "--no-tickets", "--chain"]).arg(spec).args(store);
    if let Some(i) = index {
        cmd.args(["--dev-validator", &i.to_string()]);
    }
    cmd.args(["--listen", &format!("127.0.0.1:{port}"), "--rpc-port", &rpc.to_string()])
        .args(["--slot-seconds", SLOT_SECONDS, "--status-seconds", "2"])
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log);
    cmd.spawn().expect("starting orrery node run")
}

/// The whole frames of a raw telemetry stream (the sink's `--out` file).
fn frames_of(mut bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    while bytes.len() >= 4 {
        let len = u32::from_le_bytes(bytes[..4].try_into().unwrap()) as usize;
        assert!(len < 1 << 20, "a telemetry frame of {len} bytes");
        if bytes.len() < 4 + len {
            break;
        }
        frames.push(bytes[4..4 + len].to_vec());
        bytes = &bytes[4 + len..];
    }
    frames
}

/// `GET path` on 127.0.0.1:`port`: the whole answer, head and body.
fn http_get(port: u16, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    stream.write_all(format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").as_bytes()).ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    Some(answer)
}

#[test]
fn testnet_finalizes_and_a_killed_node_catches_up_and_a_late_follower_syncs() {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("testnet.out");
    let testnet = orrery()
        // No tickets: every validator's ring proofs early in each epoch are a CPU burst that, on a
        // loaded CI machine, stalls the chain for seconds; the fallback-sealed chain exercises the
        // same networking.
        .args(["testnet", "--validators", "6", "--slot-seconds", SLOT_SECONDS, "--for-seconds", "200"])
        .arg("--no-tickets")
        .args(["--base-port", &QUIC.to_string(), "--base-rpc-port", &RPC.to_string()])
        .args(["--base-explorer-port", &EXPLORER.to_string()])
        .args(["--base-metrics-port", &METRICS.to_string()])
        .args(["--summary-seconds", "2", "--dir"])
        .arg(dir.path())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reaper = Reaper(vec![testnet]);
    let logs = || {
        let mut all = String::new();
        for i in 0..6 {
            let log: PathBuf = dir.path().join(format!("node-{i}.log"));
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(6).collect();
            all.push_str(&format!(
                "--- node {i}\n{}\n",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            ));
        }
        all
    };

    // Blocks are authored, imported everywhere, and finalized by GRANDPA: slots are counted from
    // the JAM common era, so the first finalized block sets the mark and three more must follow.
    let mut first = 0;
    wait_for("six validators finalize a first block", Duration::from_secs(60), || {
        let h = all_health(RPC..RPC + 6);
        first = h.iter().flatten().map(|h| h.1).max().unwrap_or(0);
        (first > 0, format!("{h:?}\n{}", logs()))
    });
    wait_for("six validators finalize on", Duration::from_secs(60), || {
        let h = all_health(RPC..RPC + 6);
        let ok =
            h.iter().all(|h| h.as_ref().is_some_and(|(best, fin, _, _)| *fin >= first + 3 && best >= fin));
        (ok, format!("{h:?}\n{}", logs()))
    });
    // The JIP-2 RPC on the same port (JSON-RPC over plain HTTP here): node 0's finalized block is
    // the one its `/health` reports, its hash in padded base64 rather than hex (finality may move
    // between the two reads, so a few tries).
    let mut seen = Vec::new();
    let agreed = (0..5).any(|_| {
        let (_, slot, hex, _) = health(RPC).expect("node 0's health");
        let call = r#"{"jsonrpc":"2.0","id":1,"method":"finalizedBlock","params":[]}"#;
        let answer = json_rpc(RPC, call).expect("an RPC answer");
        let bytes: Vec<u8> =
            (0..32).map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap()).collect();
        let expected = format!(r#""result":{{"header_hash":"{}","slot":{slot}}}"#, base64(&bytes));
        seen.push(format!("{answer} (health: slot {slot}, {hex})"));
        answer.contains(&expected)
    });
    assert!(agreed, "{seen:#?}");
    let printed = std::fs::read_to_string(&out_path).unwrap();
    for i in 0..6 {
        assert!(printed.contains(&format!("node {i}: pid ")), "{printed}");
        assert!(printed.contains(&format!("health http://127.0.0.1:{}/health", RPC + i)), "{printed}");
        assert!(printed.contains(&format!("metrics http://127.0.0.1:{}/metrics", METRICS + i)), "{printed}");
    }

    // Prometheus metrics: every documented family is there, and the best slot advances.
    let scrape = || {
        let text = http_get(METRICS, "/metrics").expect("a metrics answer");
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
        assert!(text.contains("Content-Type: text/plain; version=0.0.4"), "{text}");
        text
    };
    let gauge = |text: &str, name: &str| -> u64 {
        let line =
            text.lines().find(|l| l.starts_with(&format!("{name} "))).unwrap_or_else(|| panic!("{name}"));
        line[name.len() + 1..].parse().unwrap()
    };
    let first_scrape = scrape();
    for name in [
        "orrery_best_slot",
        "orrery_best_height",
        "orrery_finalized_slot",
        "orrery_finalized_height",
        "orrery_peers",
        "orrery_blocks_imported_total",
        "orrery_blocks_authored_total",
        "orrery_blocks_rejected_total",
        "orrery_import_seconds_count",
        "orrery_authoring_seconds_count",
        "orrery_accumulate_gas_total",
        "orrery_inbox_length",
        "orrery_pool_guarantees",
        "orrery_pool_assurances",
        "orrery_pool_tickets",
        "orrery_pool_preimages",
        "orrery_availability_shards",
        "orrery_availability_bytes",
    ] {
        assert!(
            first_scrape.contains(&format!("\n# TYPE {name}"))
                || first_scrape.contains(&format!("\n{name} ")),
            "{name} missing:\n{first_scrape}"
        );
    }
    let slot_before = gauge(&first_scrape, "orrery_best_slot");
    assert!(slot_before > 0 && gauge(&first_scrape, "orrery_peers") > 0, "{first_scrape}");
    wait_for("node 0's metrics show a later best slot", Duration::from_secs(30), || {
        let now = gauge(&scrape(), "orrery_best_slot");
        (now > slot_before, format!("best slot {now}, was {slot_before}"))
    });
    let later = scrape();
    assert!(
        gauge(&later, "orrery_blocks_imported_total") + gauge(&later, "orrery_blocks_authored_total") > 0
    );
    assert!(http_get(METRICS, "/other").unwrap().starts_with("HTTP/1.1 404"));

    // SIGKILL validator 5 (pid from the testnet's listing); the other five, more than 2/3, go on.
    let pid: u32 = printed
        .lines()
        .find_map(|l| l.strip_prefix("node 5: pid ")?.split_whitespace().next()?.parse().ok())
        .expect("node 5's pid");
    signal(pid, "-KILL");
    wait_for("node 5 is gone", Duration::from_secs(10), || (health(RPC + 5).is_none(), String::new()));
    let before = health(RPC).map_or(0, |h| h.1);
    wait_for("five validators finalize on", Duration::from_secs(60), || {
        let now = health(RPC).map_or(0, |h| h.1);
        (now >= before + 2, format!("node 0 finalized {now}, was {before}\n{}", logs()))
    });

    // Restarted on its database, it rejoins and reaches the others' finalized head.
    let spec = dir.path().join("chain-spec.json");
    let db = dir.path().join("node-5").join("db");
    let db = db.to_str().unwrap();
    // It reports to a JIP-3 telemetry server: `orrery telemetry-sink`, keeping the raw stream.
    let telemetry_addr = format!("127.0.0.1:{SINK}");
    let sink_out = dir.path().join("sink.out");
    let sink_raw = dir.path().join("sink.raw");
    let sink = orrery()
        .args(["telemetry-sink", "--listen", &telemetry_addr, "--out"])
        .arg(&sink_raw)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&sink_out).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Its own reaper: the test stops the others by their place in `reaper`.
    let _sink = Reaper(vec![sink]);
    // No probe of the port: the node's is to be the sink's first connection (its raw stream goes
    // to `sink.raw`); the node's client retries until the sink listens.
    let restarted = node_run(
        &spec,
        Some(5),
        &["--db", db, "--telemetry", &telemetry_addr],
        QUIC + 5,
        RPC + 5,
        &dir.path().join("node-5-again.log"),
    );
    reaper.0.push(restarted);
    let target = health(RPC).map_or(0, |h| h.1);
    wait_for("restarted node 5 catches up", Duration::from_secs(60), || {
        let h = health(RPC + 5);
        let again = std::fs::read_to_string(dir.path().join("node-5-again.log")).unwrap_or_default();
        let tail: String = again.lines().rev().take(8).collect::<Vec<_>>().join("\n");
        (h.as_ref().is_some_and(|h| h.1 >= target), format!("{h:?} (target finalized slot {target})\n{tail}"))
    });
    let again = std::fs::read_to_string(dir.path().join("node-5-again.log")).unwrap();
    assert!(again.contains("resuming the chain in the database"), "{again}");
    // Same chain: at some moment node 5 and node 0 report the same finalized block.
    wait_for("node 5 agrees with node 0", Duration::from_secs(30), || {
        let (a, b) = (health(RPC), health(RPC + 5));
        let same = matches!((&a, &b), (Some(a), Some(b)) if a.1 == b.1 && a.2 == b.2);
        (same, format!("{a:?} {b:?}"))
    });

    // Its telemetry: node information first (protocol version 0, the tiny parameters, the genesis
    // hash, its key), then events, among them best and finalized block changes (11, 12).
    let chain = orrery_chain_spec::JamChainSpec::read(&spec).unwrap();
    wait_for("the sink prints node 5's events", Duration::from_secs(30), || {
        let text = std::fs::read_to_string(&sink_out).unwrap_or_default();
        let named = [
            "node Orrery",
            "status peers=",
            "best block changed slot=",
            "finalized block changed slot=",
            "block announced peer=",
        ];
        let connected =
            text.contains("connected in connecting=") || text.contains("connected out connecting=");
        (connected && named.iter().all(|n| text.contains(n)), text)
    });
    let frames = frames_of(&std::fs::read(&sink_raw).unwrap());
    let info = frames.first().expect("no telemetry arrived");
    let params = orrery_chain_spec::params::encode(&chain.spec);
    assert_eq!(info[0], 0);
    assert_eq!(&info[1..1 + params.len()], &params[..]);
    let at = 1 + params.len();
    assert_eq!(&info[at..at + 32], &chain.genesis_hash()[..]);
    assert_eq!(&info[at + 32..at + 64], &orrery_keys::ValidatorKeys::dev(5).ed25519_public()[..]);
    let kinds: Vec<u8> = frames[1..].iter().filter_map(|f| f.get(8).copied()).collect();
    assert!(kinds.contains(&11) && kinds.contains(&12) && kinds.contains(&10), "{kinds:?}");

    // A seventh node, no validator and started late, is proven the final block by a CE 153 warp
    // proof from the genesis's validators on, starts from its state fetched with CE 129 and follows
    // the finalized chain.
    let follower = node_run(
        &spec,
        None,
        &["--temp", "--state-sync"],
        QUIC + 6,
        RPC + 6,
        &dir.path().join("follower.log"),
    );
    reaper.0.push(follower);
    let target = health(RPC).map_or(0, |h| h.1);
    wait_for("the follower syncs", Duration::from_secs(60), || {
        let h = health(RPC + 6);
        let follower_log = std::fs::read_to_string(dir.path().join("follower.log")).unwrap_or_default();
        let tail: String = follower_log.lines().rev().take(5).collect::<Vec<_>>().join("\n");
        (h.as_ref().is_some_and(|h| h.1 >= target), format!("{h:?} (target {target})\n{tail}"))
    });

    // Clean stops: SIGTERM ends a node with status 0; the testnet stops its own nodes.
    for i in [2, 1] {
        let mut child = reaper.0.remove(i);
        signal(child.id(), "-TERM");
        let status = wait_exit(&mut child, Duration::from_secs(15)).expect("the node stops on SIGTERM");
        assert!(status.success(), "{status}");
    }
    let mut testnet = reaper.0.remove(0);
    signal(testnet.id(), "-TERM");
    let status = wait_exit(&mut testnet, Duration::from_secs(30)).expect("the testnet stops on SIGTERM");
    let mut stderr = String::new();
    std::io::Read::read_to_string(testnet.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert!(status.success(), "{status}: {stderr}");
    let printed = std::fs::read_to_string(&out_path).unwrap();
    assert!(printed.contains("node 5 exited"), "{printed}");
    assert!(printed.lines().any(|l| l.starts_with("final best ")), "{printed}");
    let log = std::fs::read_to_string(dir.path().join("node-0.log")).unwrap();
    assert!(log.contains(" finalized ") && log.contains(" imported "), "{log}");
    let log = std::fs::read_to_string(dir.path().join("follower.log")).unwrap();
    let warped = log
        .lines()
        .find(|l| l.contains("warped to a justified final block (CE 153) and fetched its state (CE 129)"))
        .unwrap_or_else(|| panic!("{log}"));
    // The chain crossed epoch changes (tiny: 12 slots of 2 s) before the follower came: the proof
    // carried at least one voter-set handover.
    let handovers: u32 = warped
        .split_whitespace()
        .find_map(|w| w.strip_prefix("handovers=")?.parse().ok())
        .unwrap_or_else(|| panic!("{warped}"));
    assert!(handovers >= 1, "{warped}");
}

#[test]
fn node_run_and_testnet_refuse_bad_flags() {
    let cases: &[(&[&str], &str)] = &[
        (&["node", "run", "--chain", "dev"], "--db"),
        (&["node", "run", "--temp", "--dev-validator", "9"], "--dev-validator 9"),
        (&["node", "run", "--temp", "--bootnode", "nobody@127.0.0.1:1"], "--bootnode nobody@127.0.0.1:1"),
        (&["node", "run", "--temp", "--chain", "/nonexistent/spec.json"], "/nonexistent/spec.json"),
        (&["node", "run", "--temp", "--slot-seconds", "0"], "--slot-seconds 0"),
        (&["node", "run", "--temp", "--listen", "not-an-address"], "--listen"),
        (&["testnet", "--validators", "5", "--for-seconds", "1"], "--validators 5"),
        (&["testnet", "--spec", "full", "--for-seconds", "1"], "a testnet runs tiny only"),
        (&["node", "run", "--temp", "--explorer-port", "0"], "--explorer-port 0"),
        (&["node", "run", "--temp", "--explorer-port", "x"], "--explorer-port"),
        (
            &["node", "run", "--temp", "--rpc-port", "21160", "--explorer-port", "21160"],
            "--explorer-port 21160: that is the RPC port",
        ),
        (&["testnet", "--base-explorer-port", "0", "--for-seconds", "1"], "--base-explorer-port 0"),
        (
            &["testnet", "--base-explorer-port", "19803", "--for-seconds", "1"],
            "--base-explorer-port 19803: one of the nodes' QUIC, RPC or metrics ports",
        ),
        (
            &["testnet", "--base-explorer-port", "19902", "--for-seconds", "1"],
            "--base-explorer-port 19902: one of the nodes' QUIC, RPC or metrics ports",
        ),
        (&["explorer", "--rpc", "http://127.0.0.1:1"], "--rpc: the RPC address \"http://127.0.0.1:1\""),
        (&["explorer"], "--rpc"),
        (&["explorer", "--rpc", "ws://127.0.0.1:1", "--listen", "nowhere"], "--listen"),
        (&["explorer", "--rpc", "ws://127.0.0.1:1", "--listen", "127.0.0.1:0"], "--listen 127.0.0.1:0"),
    ];
    for (args, expected) in cases {
        let out = orrery().args(*args).output().unwrap();
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    // A database of another chain (its genesis recorded beside it) is refused.
    let db = tempfile::tempdir().unwrap();
    std::fs::write(db.path().join("orrery-chain-genesis"), format!("{}\n", "00".repeat(32))).unwrap();
    let out = orrery().args(["node", "run", "--dev-validator", "0", "--db"]).arg(db.path()).output().unwrap();
    let stderr = text(&out.stderr);
    assert!(!out.status.success() && stderr.contains("holds the chain with genesis 0000"), "{stderr}");
}

async fn bounded<T>(f: impl std::future::Future<Output = T>) -> Result<T, tokio::time::error::Elapsed> {
    tokio::time::timeout(Duration::from_secs(20), f).await
}

/// A peer that opens an unknown stream kind, sends an undecodable request, an oversized frame and a
/// garbage GRANDPA vote is disconnected by the node (four offences pass its limit) and then refused.
#[test]
fn a_misbehaving_peer_is_disconnected_and_refused() {
    use orrery_network::{Alpn, Config, Endpoint, Identity, StreamKind};

    const PORT: u16 = 21_150;
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("dev.json");
    let out = orrery().args(["chain-spec", "dev", "--validators", "6", "--out"]).arg(&spec).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let chain = orrery_chain_spec::JamChainSpec::read(&spec).unwrap();
    let me = orrery_keys::ValidatorKeys::dev(0);
    // Its own name as the only bootnode: it dials nobody (a node skips itself).
    let bootnode = format!("{}@127.0.0.1:{PORT}", me.peer_name());
    let log = dir.path().join("node.log");
    let node = node_run(&spec, Some(0), &["--temp", "--bootnode", &bootnode], PORT, PORT + 100, &log);
    let mut reaper = Reaper(vec![node]);
    wait_for("the node serves", Duration::from_secs(30), || (health(PORT + 100).is_some(), String::new()));

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let identity = Identity::from_validator_keys(&orrery_keys::ValidatorKeys::dev(1)).unwrap();
        let config = Config::new(Alpn::for_genesis_hash(&chain.genesis_hash()));
        let endpoint = Endpoint::bind(identity, config, "127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], PORT));
        let conn = bounded(endpoint.connect(addr, Some(me.ed25519_public()))).await.unwrap().unwrap();

        let mut unknown = conn.open_stream(StreamKind(200)).await.unwrap();
        assert!(bounded(unknown.recv()).await.unwrap().is_err(), "an unknown kind is reset");
        let mut garbage = conn.open_stream(StreamKind::BLOCK_REQUEST).await.unwrap();
        garbage.send(&[1, 2, 3]).await.unwrap();
        garbage.finish();
        assert!(bounded(garbage.recv()).await.unwrap().is_err(), "an undecodable request is reset");
        let mut oversized = conn.open_stream(StreamKind::BLOCK_REQUEST).await.unwrap();
        oversized.send_raw(&u32::MAX.to_le_bytes()).await.unwrap();
        assert!(bounded(oversized.recv()).await.unwrap().is_err(), "an oversized frame is reset");
        let mut vote = conn.open_stream(StreamKind(149)).await.unwrap();
        vote.send(&[0xff; 40]).await.unwrap();
        vote.finish();
        // The fourth offence passes the node's limit: the connection is closed.
        bounded(conn.closed()).await.expect("the node closes the connection");

        // And a new connection from the same key is dropped at once.
        if let Ok(Ok(again)) = bounded(endpoint.connect(addr, Some(me.ed25519_public()))).await {
            bounded(again.closed()).await.expect("a refused peer's connection is closed");
        }
        endpoint.close();
    });
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.contains("disconnecting") && log.contains("misbehaviour"), "{log}");

    let mut node = reaper.0.remove(0);
    signal(node.id(), "-TERM");
    let status = wait_exit(&mut node, Duration::from_secs(15)).expect("the node stops on SIGTERM");
    assert!(status.success(), "{status}");
}
