//! The explorer's server over a real loopback socket: raw HTTP/1.1 requests written by hand, the
//! answers checked against the files in explorer/dist read from disk, and the caps (header size,
//! header time, connections) met by misbehaving clients.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use orrery_explorer::{Config, Explorer, ExplorerError, Limits, CONTENT_SECURITY_POLICY};

/// A server on a free loopback port, run on its own thread until the test's end.
struct Server {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start(config: Config) -> Server {
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime =
                tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
            runtime.block_on(async move {
                let explorer = Explorer::bind(SocketAddr::from(([127, 0, 0, 1], 0)), config).await.unwrap();
                addr_tx.send(explorer.local_addr()).unwrap();
                explorer
                    .serve(async {
                        let _ = stopped.await;
                    })
                    .await;
            });
        });
        let addr = addr_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        Server { addr, stop: Some(stop), thread: Some(thread) }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.stop.take().unwrap().send(());
        // Dropping the runtime cancels the connections' tasks.
        let _ = self.thread.take().unwrap().join();
    }
}

fn dist() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../explorer/dist")
}

/// The built `index.html` as a server for the node at `meta` (the URL as it must appear, escaped,
/// in the `orrery-rpc` meta tag) serves it.
fn index_for(meta: &str) -> Vec<u8> {
    let built = String::from_utf8(std::fs::read(dist().join("index.html")).unwrap()).unwrap();
    let placeholder = r#"name="orrery-rpc" content="""#;
    assert_eq!(
        built.matches(placeholder).count(),
        1,
        "the built index.html has one empty orrery-rpc meta tag"
    );
    built.replace(placeholder, &format!(r#"name="orrery-rpc" content="{meta}""#)).into_bytes()
}

/// A parsed answer: status, headers (names lower-cased), body.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// Sends `raw` and reads until the server closes (every request says `Connection: close`).
fn exchange(addr: SocketAddr, raw: &[u8]) -> Answer {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(raw).unwrap();
    let mut out = Vec::new();
    s.take(16 << 20).read_to_end(&mut out).unwrap();
    let split = out.windows(4).position(|w| w == b"\r\n\r\n").expect("a header block");
    let head = std::str::from_utf8(&out[..split]).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers = lines
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap();
            (n.trim().to_ascii_lowercase(), v.trim().to_string())
        })
        .collect();
    Answer { status, headers, body: out[split + 4..].to_vec() }
}

fn get(addr: SocketAddr, path: &str) -> Answer {
    exchange(addr, format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes())
}

fn assert_secure(answer: &Answer) {
    assert_eq!(answer.header("content-security-policy"), Some(CONTENT_SECURITY_POLICY), "{answer:?}");
    assert_eq!(
        CONTENT_SECURITY_POLICY,
        "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self' 'unsafe-inline'"
    );
    assert_eq!(answer.header("x-content-type-options"), Some("nosniff"), "{answer:?}");
}

#[test]
fn the_index_and_config_are_served_with_their_types_and_headers() {
    let server = Server::start(Config::new("ws://127.0.0.1:19800").unwrap());
    let index = index_for("ws://127.0.0.1:19800");
    for path in ["/", "/index.html", "/?rpc=ws://10.0.0.1:1", "/#/block/00"] {
        let answer = get(server.addr, path);
        assert_eq!(answer.status, 200, "{path}");
        assert_eq!(answer.header("content-type"), Some("text/html; charset=utf-8"), "{path}");
        assert_eq!(answer.header("cache-control"), Some("no-cache"), "{path}");
        assert_eq!(answer.header("content-length"), Some(index.len().to_string().as_str()), "{path}");
        assert_secure(&answer);
        assert_eq!(answer.body, index, "{path}");
    }
    let config = get(server.addr, "/config.json");
    assert_eq!(config.status, 200);
    assert_eq!(config.header("content-type"), Some("application/json"));
    assert_eq!(config.header("cache-control"), Some("no-cache"));
    assert_secure(&config);
    assert_eq!(config.body, br#"{"rpc":"ws://127.0.0.1:19800"}"#);
}

#[test]
fn every_file_of_the_dist_is_served_as_it_is_on_disk() {
    let server = Server::start(Config::new("ws://127.0.0.1:1").unwrap());
    let mut stack = vec![dist()];
    let mut count = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let relative = path.strip_prefix(dist()).unwrap().to_str().unwrap().to_string();
            if relative.split('/').any(|p| p.starts_with('.')) {
                continue;
            }
            let url = format!("/{relative}");
            let answer = get(server.addr, &url);
            assert_eq!(answer.status, 200, "{url}");
            let expected = if url == "/index.html" {
                index_for("ws://127.0.0.1:1")
            } else {
                std::fs::read(&path).unwrap()
            };
            assert_eq!(answer.body, expected, "{url}");
            assert_secure(&answer);
            count += 1;
            let expected_type = match path.extension().and_then(|e| e.to_str()) {
                Some("html") => "text/html; charset=utf-8",
                Some("js") => "text/javascript; charset=utf-8",
                Some("css") => "text/css; charset=utf-8",
                Some("svg") => "image/svg+xml",
                Some("json") => "application/json",
                _ => continue,
            };
            assert_eq!(answer.header("content-type"), Some(expected_type), "{url}");
            assert_eq!(answer.header("cache-control"), Some("no-cache"), "{url}");
        }
    }
    assert!(count >= 1, "explorer/dist has no index.html?");
    assert_eq!(orrery_explorer::files().count(), count, "the embedded files are the dist's");
}

#[test]
fn head_gives_the_headers_only_and_other_methods_and_paths_are_refused() {
    let server = Server::start(Config::new("ws://127.0.0.1:1").unwrap());
    let index_len = index_for("ws://127.0.0.1:1").len();
    let head = exchange(server.addr, b"HEAD / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-length"), Some(index_len.to_string().as_str()));
    assert!(head.body.is_empty(), "{head:?}");
    assert_secure(&head);

    for method in ["POST", "PUT", "DELETE", "OPTIONS", "PATCH"] {
        let answer = exchange(
            server.addr,
            format!(
                "{method} / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            .as_bytes(),
        );
        assert_eq!(answer.status, 405, "{method}");
        assert_eq!(answer.header("allow"), Some("GET, HEAD"), "{method}");
        assert_secure(&answer);
    }
    for path in [
        "/nope",
        "/../Cargo.toml",
        "/%2e%2e/Cargo.toml",
        "/index.html/",
        "/INDEX.HTML",
        "//index.html",
        "/config.json/x",
        "/assets",
    ] {
        let answer = get(server.addr, path);
        assert_eq!(answer.status, 404, "{path}");
        assert_eq!(answer.body, b"not found\n", "{path}");
        assert_secure(&answer);
    }
    // Not HTTP at all: an error status, never a file, and the server goes on.
    let answer = exchange(server.addr, b"\x16\x03\x01 hello\r\n\r\n");
    assert_eq!(answer.status, 400);
    assert_eq!(get(server.addr, "/").status, 200);
}

#[test]
fn a_revalidation_with_the_entity_tag_is_a_304_and_a_changed_tag_gets_the_file() {
    let server = Server::start(Config::new("ws://127.0.0.1:1").unwrap());
    let index = index_for("ws://127.0.0.1:1");
    let first = get(server.addr, "/");
    let etag = first.header("etag").expect("an entity tag").to_string();
    // The built file's tag, then a digest of the RPC URL written into it.
    assert!(etag.starts_with('"') && etag.ends_with('"') && etag.len() == 35, "{etag}");
    let other = Server::start(Config::new("ws://127.0.0.1:2").unwrap());
    let other_tag = get(other.addr, "/").header("etag").unwrap().to_string();
    assert_eq!(other_tag[..17], etag[..17], "the same built file");
    assert_ne!(other_tag, etag, "another node's page is another page");
    let again = |tag: &str| {
        exchange(
            server.addr,
            format!("GET / HTTP/1.1\r\nHost: localhost\r\nIf-None-Match: {tag}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
    };
    let held = again(&etag);
    assert_eq!(held.status, 304);
    assert!(held.body.is_empty());
    assert_eq!(held.header("etag"), Some(etag.as_str()));
    assert_secure(&held);
    let both = again(&format!("\"0000000000000000\", {etag}"));
    assert_eq!(both.status, 304);
    let stale = again("\"0000000000000000\"");
    assert_eq!(stale.status, 200);
    assert_eq!(stale.body, index);
    // Files differ, so do their tags; config.json has none (it is made at run time).
    let tags: std::collections::BTreeSet<String> =
        orrery_explorer::files().map(|f| get(server.addr, f).header("etag").unwrap().to_string()).collect();
    assert_eq!(tags.len(), orrery_explorer::files().count());
    assert_eq!(get(server.addr, "/config.json").header("etag"), None);
}

#[test]
fn the_config_json_and_the_page_escape_the_url() {
    let server = Server::start(Config::new(r#"ws://h:1/a"b\c"#).unwrap());
    assert_eq!(get(server.addr, "/config.json").body, br#"{"rpc":"ws://h:1/a\"b\\c"}"#);
    assert_eq!(get(server.addr, "/").body, index_for(r#"ws://h:1/a&quot;b\c"#));
    let server = Server::start(Config::new("ws://h:1/'<script>&").unwrap());
    assert_eq!(get(server.addr, "/").body, index_for("ws://h:1/&#39;&lt;script&gt;&amp;"));
}

#[test]
fn rpc_urls_that_are_not_websockets_are_refused() {
    for bad in
        ["", "http://127.0.0.1:1", "ws://", "ws://:1", "wss:///x", "ws://a b:1", "ws://a\n:1", "127.0.0.1:1"]
    {
        match Config::new(bad) {
            Err(e @ ExplorerError::RpcUrl(_)) => {
                assert!(e.to_string().contains("give ws://HOST:PORT"), "{e}")
            }
            other => panic!("{bad:?}: {other:?}"),
        }
    }
    let long = format!("ws://{}:1", "a".repeat(3000));
    assert!(Config::new(&long).is_err());
    for good in ["ws://127.0.0.1:19800", "wss://node.example:443/rpc", "ws://[::1]:9944"] {
        assert_eq!(Config::new(good).unwrap().rpc(), good);
    }
}

#[test]
fn a_port_in_use_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let err = runtime.block_on(Explorer::bind(addr, Config::new("ws://127.0.0.1:1").unwrap())).unwrap_err();
    assert!(err.to_string().starts_with(&format!("cannot listen on {addr}: ")), "{err}");
}

#[test]
fn oversized_headers_get_431() {
    let server = Server::start(Config::new("ws://127.0.0.1:1").unwrap());
    let big = "x".repeat(20 * 1024);
    let answer = exchange(
        server.addr,
        format!("GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: {big}\r\nConnection: close\r\n\r\n").as_bytes(),
    );
    assert_eq!(answer.status, 431);
    assert_eq!(get(server.addr, "/").status, 200);
}

#[test]
fn a_client_that_sends_its_headers_too_slowly_is_cut_off() {
    let limits = Limits { header_time: Duration::from_millis(300), ..Limits::default() };
    let server = Server::start(Config::new("ws://127.0.0.1:1").unwrap().with_limits(limits));
    let mut s = TcpStream::connect(server.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: loc").unwrap();
    let start = Instant::now();
    let mut out = Vec::new();
    // The server answers (408 or nothing) and closes; it does not wait for the rest.
    let _ = s.read_to_end(&mut out);
    let waited = start.elapsed();
    assert!(waited >= Duration::from_millis(250) && waited < Duration::from_secs(4), "{waited:?}");
    assert!(out.is_empty() || out.starts_with(b"HTTP/1.1 408"), "{:?}", String::from_utf8_lossy(&out));
}

#[test]
fn connections_past_the_cap_are_closed_and_room_comes_back() {
    let limits = Limits { connections: 2, ..Limits::default() };
    let server = Server::start(Config::new("ws://127.0.0.1:1").unwrap().with_limits(limits));
    // Two idle connections hold the two places.
    let first = TcpStream::connect(server.addr).unwrap();
    let _second = TcpStream::connect(server.addr).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let mut third = TcpStream::connect(server.addr).unwrap();
    third.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = third.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    let mut out = Vec::new();
    let _ = third.read_to_end(&mut out);
    assert!(out.is_empty(), "served past the cap: {:?}", String::from_utf8_lossy(&out));
    // One leaves: a new client is served.
    drop(first);
    let start = Instant::now();
    loop {
        let mut s = TcpStream::connect(server.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let _ = s.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        if out.starts_with(b"HTTP/1.1 200") {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(5), "no room came back");
        std::thread::sleep(Duration::from_millis(50));
    }
}
