//! The explorer in a real browser: `orrery testnet` (six validators, tiny, 2 s slots) with node 0
//! serving the explorer, Debian's chromedriver driving a headless Chromium through WebDriver (a
//! small client of our own over HTTP/1.1 on loopback, below). Checked on screen: the head advances,
//! a block's extrinsic sections, a kv service deployed and called during the test showing its stored
//! value through the storage-key form, search by block hash, and hostile input shown as an error
//! with no alert. Screenshots of the chain, block, service and validators pages go to
//! `target/explorer-screenshots/`; the first-paint figures are printed.
//!
//! Every wait is bounded; the testnet, chromedriver and the browser (found by its unique
//! `--user-data-dir`) are stopped, pass or fail. Without /usr/bin/chromedriver the test fails and
//! says what to install: it never passes without a browser.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use common::{hex, orrery, repo, run, testnet, wait_exit, TestnetPorts};
use serde_json::{json, Value};

/// Ports of this file's network, away from the dev defaults and from the other tests' networks.
const QUIC: u16 = 21_500;
const RPC: u16 = 21_600;
/// Node i serves Prometheus metrics on this + i.
const METRICS: u16 = 21_720;
const EXPLORER: u16 = 21_700;
const CHROMEDRIVER: u16 = 21_790;
/// The explorer of `orrery explorer` (second test).
const STANDALONE: u16 = 21_710;

const CHROMEDRIVER_BIN: &str = "/usr/bin/chromedriver";
const CHROMIUM_BIN: &str = "/usr/bin/chromium";

/// Stops and reaps everything the test started, however it ends: the browser session is closed,
/// the processes get SIGTERM (the testnet stops its nodes) then SIGKILL after 20 s, and any browser
/// process left (its command line names our unique profile folder) is killed by pid.
struct Reaper {
    children: Vec<Child>,
    session: Option<(SocketAddr, String)>,
    profile: Option<PathBuf>,
}

impl Drop for Reaper {
    fn drop(&mut self) {
        if let Some((driver, session)) = self.session.take() {
            let _ = http(driver, "DELETE", &format!("/session/{session}"), None, Duration::from_secs(20));
        }
        for child in &mut self.children {
            let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        }
        for child in &mut self.children {
            if wait_exit(child, Duration::from_secs(20)).is_none() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        if let Some(profile) = &self.profile {
            for pid in pids_naming(&profile.to_string_lossy()) {
                let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).stderr(Stdio::null()).status();
            }
        }
    }
}

/// Processes whose command line contains `needle`.
fn pids_naming(needle: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(needle))
        })
        .collect()
}

/// One HTTP/1.1 exchange on loopback (`Connection: close`): (status, body).
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&Value>,
    limit: Duration,
) -> Result<(u16, Vec<u8>), String> {
    let mut s =
        TcpStream::connect_timeout(&addr, Duration::from_secs(2)).map_err(|e| format!("{addr}: {e}"))?;
    s.set_read_timeout(Some(limit)).map_err(|e| e.to_string())?;
    s.set_write_timeout(Some(limit)).map_err(|e| e.to_string())?;
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(request.as_bytes()).map_err(|e| format!("{method} {path}: {e}"))?;
    // chromedriver keeps the connection open after its answer despite `Connection: close`: the body
    // is read by its Content-Length (or to the end, or chunk by chunk).
    let mut out = Vec::new();
    let mut buf = [0u8; 64 * 1024];
    let read_err = |e: std::io::Error| format!("{method} {path}: {e}");
    let split = loop {
        if let Some(at) = out.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let n = s.read(&mut buf).map_err(read_err)?;
        if n == 0 || out.len() > 1 << 20 {
            return Err(format!("{method} {path}: no header in {:?}", String::from_utf8_lossy(&out)));
        }
        out.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&out[..split]).to_ascii_lowercase();
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or(format!("bad status: {head}"))?;
    let length =
        head.lines().find_map(|l| l.strip_prefix("content-length:")).and_then(|v| v.trim().parse().ok());
    let chunked = head.contains("transfer-encoding: chunked") || head.contains("transfer-encoding:chunked");
    let mut body = out[split + 4..].to_vec();
    loop {
        let complete = match length {
            Some(length) => body.len() >= length,
            None if chunked => body.windows(5).any(|w| w == b"0\r\n\r\n"),
            None => false,
        };
        if complete || body.len() > 64 << 20 {
            break;
        }
        let n = s.read(&mut buf).map_err(read_err)?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&buf[..n]);
    }
    if let Some(length) = length {
        body.truncate(length);
    } else if chunked {
        body = dechunk(&body);
    }
    Ok((status, body))
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(at) = data.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&data[..at])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next().unwrap_or("").trim(), 16).ok())
            .unwrap_or(0);
        if size == 0 || data.len() < at + 2 + size {
            break;
        }
        out.extend_from_slice(&data[at + 2..at + 2 + size]);
        data = &data[(at + 4 + size).min(data.len())..];
    }
    out
}

/// A WebDriver session on chromedriver (W3C WebDriver, JSON over HTTP).
struct Browser {
    driver: SocketAddr,
    session: String,
}

/// The W3C name of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Browser {
    fn command(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let path = format!("/session/{}{path}", self.session);
        let (status, body) = http(self.driver, method, &path, body.as_ref(), Duration::from_secs(60))?;
        let value: Value = serde_json::from_slice(&body)
            .map_err(|e| format!("{path}: {e}: {}", String::from_utf8_lossy(&body)))?;
        let value = value.get("value").cloned().unwrap_or(Value::Null);
        if status != 200 {
            return Err(format!(
                "{method} {path}: {} {}",
                value.get("error").and_then(Value::as_str).unwrap_or("?"),
                value.get("message").and_then(Value::as_str).unwrap_or("").lines().next().unwrap_or("")
            ));
        }
        Ok(value)
    }

    fn goto(&self, url: &str) {
        self.command("POST", "/url", Some(json!({ "url": url }))).unwrap();
    }

    fn script(&self, script: &str, args: Value) -> Value {
        self.command("POST", "/execute/sync", Some(json!({ "script": script, "args": args }))).unwrap()
    }

    fn script_async(&self, script: &str, args: Value) -> Result<Value, String> {
        self.command("POST", "/execute/async", Some(json!({ "script": script, "args": args })))
    }

    /// The first element with `data-testid` = `id`, if any.
    fn find(&self, id: &str) -> Option<String> {
        let selector = format!("[data-testid=\"{id}\"]");
        let found = match self.command(
            "POST",
            "/element",
            Some(json!({ "using": "css selector", "value": selector })),
        ) {
            Ok(found) => found,
            Err(e) if e.contains("no such element") => return None,
            Err(e) => panic!("finding {id}: {e}"),
        };
        found.get(ELEMENT).and_then(Value::as_str).map(str::to_string)
    }

    /// The text content of the first `data-testid` = `id` (null: none on the page).
    fn text(&self, id: &str) -> Option<String> {
        self.script(
            "const e = document.querySelector(`[data-testid=\"${arguments[0]}\"]`); return e ? e.textContent : null;",
            json!([id]),
        )
        .as_str()
        .map(str::to_string)
    }

    fn count(&self, id: &str) -> u64 {
        self.script(
            "return document.querySelectorAll(`[data-testid=\"${arguments[0]}\"]`).length;",
            json!([id]),
        )
        .as_u64()
        .unwrap_or(0)
    }

    fn click(&self, element: &str) {
        self.command("POST", &format!("/element/{element}/click"), Some(json!({}))).unwrap();
    }

    /// Replaces the input's text with `text`, and checks it took. A clear fires no input event, so
    /// a live page that re-renders between the clear and the typing (a new block arrives) puts
    /// the controlled input's old value back and the typing lands after it (CI saw
    /// "0x6e616d65missing"); so the value is read back, and cleared and typed again if it differs.
    /// WebDriver's keys (Enter, `\u{E007}`) at the end are pressed once the text is right.
    fn type_into(&self, id: &str, text: &str) {
        let is_key = |c: char| ('\u{E000}'..='\u{F8FF}').contains(&c);
        let printable = text.trim_end_matches(is_key);
        let keys = &text[printable.len()..];
        let read =
            format!("const e = document.querySelector('[data-testid=\"{id}\"]'); return e ? e.value : null;");
        let element = self.find(id).unwrap_or_else(|| panic!("no {id} on the page"));
        let send = |what: &str| {
            self.command("POST", &format!("/element/{element}/value"), Some(json!({ "text": what })))
                .unwrap();
        };
        let mut took = false;
        for _ in 0..5 {
            self.command("POST", &format!("/element/{element}/clear"), Some(json!({}))).unwrap();
            send(printable);
            let start = Instant::now();
            while !took && start.elapsed() < Duration::from_secs(1) {
                took = self.script(&read, json!([])).as_str() == Some(printable);
                std::thread::sleep(Duration::from_millis(20));
            }
            if took {
                break;
            }
        }
        assert!(took, "{id} does not keep the text {printable:?}: {:?}", self.script(&read, json!([])));
        if !keys.is_empty() {
            send(keys);
        }
    }

    fn hash(&self) -> String {
        self.script("return location.hash;", json!([])).as_str().unwrap_or("").to_string()
    }

    /// No `alert()` is open (WebDriver answers "no such alert").
    fn no_alert(&self) -> bool {
        matches!(self.command("GET", "/alert/text", None), Err(e) if e.contains("no such alert"))
    }

    fn screenshot(&self, path: &Path) {
        let png = self.command("GET", "/screenshot", None).unwrap();
        let bytes = base64::engine::general_purpose::STANDARD.decode(png.as_str().unwrap()).unwrap();
        assert!(bytes.starts_with(b"\x89PNG"), "not a PNG");
        std::fs::write(path, bytes).unwrap();
    }
}

/// Polls `f` until it gives a value, at most `limit`; panics naming `what` and the page's state.
fn wait_for<T>(browser: &Browser, what: &str, limit: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        if start.elapsed() > limit {
            let error = browser.text("error");
            let body = browser
                .script("return document.body ? document.body.innerText.slice(0, 2000) : '';", json!([]));
            panic!(
                "waited {limit:?} for {what}; page {} error {error:?}\n{}",
                browser.hash(),
                body.as_str().unwrap_or("")
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The first run of decimal digits in `text`.
fn first_number(text: &str) -> Option<u64> {
    let digits: String =
        text.chars().skip_while(|c| !c.is_ascii_digit()).take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// `/health` of the node serving on `port`: its best slot.
fn best_slot(port: u16) -> Option<u32> {
    let (status, body) =
        http(SocketAddr::from(([127, 0, 0, 1], port)), "GET", "/health", None, Duration::from_secs(2))
            .ok()?;
    let body = String::from_utf8(body).ok().filter(|_| status == 200)?;
    let at = body.find("\"best\":{\"slot\":")? + 15;
    body[at..].chars().take_while(char::is_ascii_digit).collect::<String>().parse().ok()
}

/// The number after `prefix` on some line of `text`.
fn number_after(text: &str, prefix: &str) -> Option<u32> {
    let at = text.find(prefix)? + prefix.len();
    text[at..].split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

/// Deploys kv and stores name=orrery in it, through node 0's RPC, as a user would: the new id and
/// the hash of the call's work package (lower-case hex, as the CLI prints it).
fn deploy_and_call_kv() -> Result<(u32, String), String> {
    let rpc = format!("ws://127.0.0.1:{RPC}");
    let submit = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--rpc", rpc.as_str(), "--wait-slots", "12"]);
        run(&all, Duration::from_secs(90))
    };
    let kv = repo().join("services/kv/kv.jam");
    let (code, out) = submit(&["service", "deploy", kv.to_str().unwrap()]);
    if code != Some(0) {
        return Err(format!("deploy failed:\n{out}"));
    }
    let id = number_after(&out, "deployed service ").ok_or_else(|| format!("no id in:\n{out}"))?;
    let payload = hex(b"name=orrery\n");
    let (code, out) = submit(&["service", "call", &id.to_string(), "--payload", &payload, "--key", "@name"]);
    if code != Some(0) || !out.contains("storage 0x6e616d65 = 0x6f7272657279") {
        return Err(format!("call failed:\n{out}"));
    }
    let package = out
        .split("submitted work package 0x")
        .nth(1)
        .map(|rest| rest.chars().take_while(char::is_ascii_hexdigit).collect::<String>())
        .filter(|p| p.len() == 64)
        .ok_or_else(|| format!("no package hash in:\n{out}"))?;
    Ok((id, package))
}

/// In the page: waits (animation frame by frame, 20 s at most) until `selector` matches, then
/// answers the time since navigation start in ms and the paint entries.
const DRAWN_AT: &str = r#"
const [selector, mark, done] = [arguments[0], arguments[1], arguments[arguments.length - 1]];
const start = performance.now();
let seen = null;
const tick = () => {
  if (seen === null && document.querySelector(selector)) seen = performance.now();
  // The page's own mark may come a frame after what it marks: waited for, 2 s at most.
  const marked = performance.getEntriesByName(mark).length > 0;
  if (seen !== null && (marked || performance.now() - seen > 2000)) {
    const paints = {};
    for (const p of performance.getEntriesByType('paint')) paints[p.name] = p.startTime;
    for (const m of performance.getEntriesByType('mark')) paints[m.name] = m.startTime;
    done({ drawn: seen, paints });
  } else if (performance.now() - start > 20000) {
    done(null);
  } else {
    requestAnimationFrame(tick);
  }
};
tick();
"#;

/// For a fresh load of `url`, in ms from navigation start: `selector` seen drawn (polled each
/// animation frame), the first contentful paint, and the page's own `performance.mark` `mark`.
fn first_paint(browser: &Browser, url: &str, selector: &str, mark: &str) -> (f64, f64, f64) {
    browser.goto("about:blank");
    browser.goto(url);
    let answer = browser.script_async(DRAWN_AT, json!([selector, mark])).unwrap();
    let drawn =
        answer.get("drawn").and_then(Value::as_f64).unwrap_or_else(|| panic!("{selector} never drawn"));
    let entry = |name: &str| answer["paints"].get(name).and_then(Value::as_f64).unwrap_or(f64::NAN);
    (drawn, entry("first-contentful-paint"), entry(mark))
}

/// Starts chromedriver on `port` (its log in `dir`) and a headless Chromium session with a fresh
/// profile in `dir`; both are left to `reaper`.
fn start_browser(dir: &Path, port: u16, reaper: &mut Reaper) -> Browser {
    let profile = dir.join("chromium-profile");
    reaper.profile = Some(profile.clone());
    let driver = orrery_free_port_check(port);
    let chromedriver = Command::new(CHROMEDRIVER_BIN)
        .args([format!("--port={port}"), format!("--log-path={}", dir.join("chromedriver.log").display())])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting chromedriver");
    reaper.children.push(chromedriver);
    let start = Instant::now();
    while !http(driver, "GET", "/status", None, Duration::from_secs(2))
        .is_ok_and(|(s, b)| s == 200 && String::from_utf8_lossy(&b).contains("\"ready\":true"))
    {
        assert!(start.elapsed() < Duration::from_secs(20), "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let capabilities = json!({ "capabilities": { "alwaysMatch": {
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": CHROMIUM_BIN,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1280,1000", format!("--user-data-dir={}", profile.display()),
            ],
        },
    }}});
    let (status, body) =
        http(driver, "POST", "/session", Some(&capabilities), Duration::from_secs(60)).unwrap();
    let created: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(status, 200, "no browser session: {created}");
    let session = created["value"]["sessionId"].as_str().unwrap().to_string();
    reaper.session = Some((driver, session.clone()));
    let browser = Browser { driver, session };
    browser
        .command("POST", "/timeouts", Some(json!({ "script": 30_000, "pageLoad": 30_000, "implicit": 0 })))
        .unwrap();
    browser
}

#[test]
fn the_explorer_shows_a_live_testnet_in_a_real_browser() {
    assert!(
        Path::new(CHROMEDRIVER_BIN).exists() && Path::new(CHROMIUM_BIN).exists(),
        "the browser tests need {CHROMIUM_BIN} and {CHROMEDRIVER_BIN}: install them with \
         `apt-get install -y chromium chromium-driver` (Debian)"
    );
    let dir = tempfile::tempdir().unwrap();
    let ports = TestnetPorts { quic: QUIC, rpc: RPC, explorer: EXPLORER, metrics: METRICS };
    let testnet = testnet(dir.path(), &ports, 500).spawn().unwrap();
    let mut reaper = Reaper { children: vec![testnet], session: None, profile: None };

    // The chain runs: every node answers /health and node 0's best block moves on by two slots.
    let start = Instant::now();
    let mut first_seen = None;
    loop {
        let slots: Vec<Option<u32>> = (RPC..RPC + 6).map(best_slot).collect();
        if slots.iter().all(Option::is_some) && slots[0].is_some_and(|s| s > 0) {
            let first = *first_seen.get_or_insert(slots[0].unwrap());
            if slots[0].unwrap() >= first + 2 {
                break;
            }
        }
        assert!(start.elapsed() < Duration::from_secs(90), "the testnet did not start: {slots:?}");
        std::thread::sleep(Duration::from_millis(500));
    }
    let testnet_out = std::fs::read_to_string(dir.path().join("testnet.out")).unwrap();
    let url = format!("http://127.0.0.1:{EXPLORER}/");
    assert!(testnet_out.contains(&format!("explorer {url}")), "{testnet_out}");

    // The service is deployed and called while the browser looks at the chain.
    let kv = std::thread::spawn(deploy_and_call_kv);

    let browser = start_browser(dir.path(), CHROMEDRIVER, &mut reaper);
    let shots = std::env::current_exe().unwrap().ancestors().nth(3).unwrap().join("explorer-screenshots");
    std::fs::create_dir_all(&shots).unwrap();

    // The chain page: first paint, connected to node 0's RPC, the head advancing.
    let (chain_drawn, chain_fcp, chain_mark) =
        first_paint(&browser, &url, "[data-testid=\"block-row\"]", "orrery:blocks-listed");
    let rpc_url = wait_for(&browser, "rpc-url", Duration::from_secs(10), || browser.text("rpc-url"));
    assert!(rpc_url.contains(&format!("ws://127.0.0.1:{RPC}")), "{rpc_url}");
    wait_for(&browser, "connected", Duration::from_secs(20), || {
        browser.text("rpc-status").filter(|s| s.contains("connected") && !s.contains("disconnected"))
    });
    let first = wait_for(&browser, "best-slot", Duration::from_secs(20), || {
        browser.text("best-slot").as_deref().and_then(first_number)
    });
    let later = wait_for(&browser, "the best slot to grow", Duration::from_secs(30), || {
        browser.text("best-slot").as_deref().and_then(first_number).filter(|s| *s > first)
    });
    wait_for(&browser, "finalized-slot", Duration::from_secs(30), || {
        browser.text("finalized-slot").as_deref().and_then(first_number)
    });
    assert!(browser.count("chart-block-times") == 1 && browser.count("chart-finality-lag") == 1);
    wait_for(&browser, "two block rows", Duration::from_secs(20), || {
        (browser.count("block-row") >= 2).then_some(())
    });
    assert_eq!(browser.count("fork-points"), 1, "the chain page lists fork points");
    browser.screenshot(&shots.join("chain.png"));

    // A block: click the newest row's link; the five extrinsic sections with their counts.
    let hrefs = browser.script(
        "return [...document.querySelectorAll('[data-testid=\"block-link\"]')].map(a => a.getAttribute('href'));",
        json!([]),
    );
    let hrefs: Vec<String> =
        hrefs.as_array().unwrap().iter().filter_map(|h| h.as_str().map(str::to_string)).collect();
    assert!(hrefs.len() >= 2, "{hrefs:?}");
    let block_hex = |href: &str| href.rsplit('/').next().unwrap().to_string();
    for href in &hrefs {
        let hex = block_hex(href);
        assert!(href.starts_with("#/block/") && hex.len() == 64, "{href}");
        assert!(hex.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)), "{href}");
    }
    let clicked = block_hex(&hrefs[0]);
    let clicked_at = browser.script("return performance.now();", json!([])).as_f64().unwrap();
    browser.click(&browser.find("block-link").unwrap());
    let shown = wait_for(&browser, "block-hash", Duration::from_secs(20), || {
        browser.text("block-hash").filter(|h| h.contains(&clicked))
    });
    assert!(shown.contains(&clicked));
    for kind in ["tickets", "preimages", "guarantees", "assurances", "disputes"] {
        let id = format!("extrinsic-{kind}");
        let count = wait_for(&browser, &id, Duration::from_secs(20), || {
            browser
                .script(
                    "const e = document.querySelector(`[data-testid=\"${arguments[0]}\"]`); \
                     return e ? e.getAttribute('data-count') : null;",
                    json!([id]),
                )
                .as_str()
                .and_then(|c| c.parse::<u64>().ok())
        });
        assert!(count < 1024, "{id}: {count}");
    }
    for id in ["block-slot", "block-parent", "block-author", "block-state-root"] {
        assert!(browser.text(id).is_some_and(|t| !t.trim().is_empty()), "{id}");
    }
    let shown_mark = browser.script(
        "const m = performance.getEntriesByName('orrery:block-shown:' + arguments[0]); \
         return m.length ? m[0].startTime : null;",
        json!([clicked]),
    );
    let click_to_block = shown_mark.as_f64().map_or(f64::NAN, |t| t - clicked_at);
    browser.screenshot(&shots.join("block.png"));
    let (block_drawn, block_fcp, block_mark) = first_paint(
        &browser,
        &format!("{url}#/block/{clicked}"),
        "[data-testid=\"extrinsic-disputes\"][data-count]",
        &format!("orrery:block-shown:{clicked}"),
    );

    // Search finds a block by its hash (another one than the clicked one, 0x-prefixed).
    browser.goto(&format!("{url}#/"));
    let searched = block_hex(&hrefs[1]);
    browser.type_into("search-input", &format!("0x{searched}\u{E007}"));
    wait_for(&browser, "the searched block", Duration::from_secs(20), || {
        if let Some(result) = browser.find("search-result") {
            if !browser.hash().starts_with("#/block/") {
                browser.click(&result);
            }
        }
        browser.text("block-hash").filter(|h| h.contains(&searched))
    });
    assert_eq!(browser.hash(), format!("#/block/{searched}"));

    // Hostile input: an error on the page, no alert, nothing inserted as HTML.
    browser.goto(&format!("{url}#/"));
    wait_for(&browser, "search-input", Duration::from_secs(10), || browser.find("search-input"));
    browser.type_into("search-input", "<script>alert(1)</script>");
    browser.click(&browser.find("search-submit").unwrap());
    let error = wait_for(&browser, "an error for the hostile search", Duration::from_secs(20), || {
        browser.text("error").filter(|t| !t.trim().is_empty())
    });
    assert!(browser.no_alert(), "an alert opened");
    let injected = browser.script(
        "return [...document.querySelectorAll('script')].filter(s => s.textContent.includes('alert(1)')).length;",
        json!([]),
    );
    assert_eq!(injected, json!(0), "the search was inserted as HTML");
    println!("hostile search shows: {error:?}");
    let unknown = "ab".repeat(32);
    browser.goto(&format!("{url}#/search/{unknown}"));
    let error = wait_for(&browser, "an error for an unknown hash", Duration::from_secs(20), || {
        browser.text("error").filter(|t| !t.trim().is_empty())
    });
    assert!(browser.no_alert());
    println!("unknown hash shows: {error:?}");

    // The page was told the node's RPC in its meta tag, and the node's slot period is the
    // testnet's 2 s, not the spec's 6 s.
    let meta = browser.script(
        "const m = document.querySelector('meta[name=\"orrery-rpc\"]'); return m ? m.content : null;",
        json!([]),
    );
    assert_eq!(meta.as_str(), Some(format!("ws://127.0.0.1:{RPC}").as_str()));
    let header = browser.script("return document.body.innerText;", json!([]));
    assert!(header.as_str().is_some_and(|t| t.contains("slot 2 s")), "{header}");

    // Validators: the dev keys (JIP-5 test vectors, as crates/keys checks them) with their
    // JAMNP-S names and loopback endpoints, for this epoch and the next.
    browser.goto(&format!("{url}#/validators"));
    wait_for(&browser, "six validator rows with keys", Duration::from_secs(45), || {
        (browser.count("validator-row") == 6 && browser.count("validator-ed25519") >= 6).then_some(())
    });
    let first_of = |id: &str| {
        browser
            .script(
                "const e = document.querySelector(`[data-testid=\"${arguments[0]}\"]`); \
                 return e ? (e.getAttribute('data-value') || e.getAttribute('title') || e.textContent) : null;",
                json!([id]),
            )
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert!(first_of("validator-ed25519")
        .contains("4418fb8c85bb3985394a8c2756d3643457ce614546202a2f50b093d762499ace"));
    assert!(first_of("validator-bandersnatch")
        .contains("ff71c6c03ff88adb5ed52c9681de1629a54e702fc14729f6b50d2f0a76f185b3"));
    assert!(first_of("validator-peer").contains("eecgwpgwq3noky4ijm4jmvjtmuzv44qvigciusxakq5epnrfj2utb"));
    assert!(
        first_of("validator-endpoint").contains(&format!("]:{QUIC}")),
        "{}",
        first_of("validator-endpoint")
    );
    assert_eq!(browser.count("next-validator-row"), 6);
    browser.screenshot(&shots.join("validators.png"));

    // The service deployed during the test: its page, and the stored value through the key form.
    let (id, package) = kv.join().unwrap().unwrap_or_else(|e| panic!("{e}"));

    // Cores: every core has a stage from ρ, and the throughput chart is drawn.
    browser.goto(&format!("{url}#/cores"));
    wait_for(&browser, "two core rows with stages", Duration::from_secs(45), || {
        let stages = browser.script(
            "return [...document.querySelectorAll('[data-testid=\"core-row\"]')].map(e => e.getAttribute('data-stage'));",
            json!([]),
        );
        let stages: Vec<String> =
            stages.as_array()?.iter().filter_map(|v| v.as_str().map(str::to_string)).collect();
        (stages.len() == 2 && stages.iter().all(|s| s == "idle" || s == "reported")).then_some(())
    });
    wait_for(&browser, "chart-core-throughput", Duration::from_secs(45), || {
        browser.find("chart-core-throughput")
    });
    browser.screenshot(&shots.join("cores.png"));

    // The kv call's package: its life, reported then ready, from the node's own record.
    browser.goto(&format!("{url}#/package/{package}"));
    wait_for(&browser, "the package ready", Duration::from_secs(45), || {
        let stage = browser.script(
            "const e = document.querySelector('[data-testid=\"package-stage\"]'); \
             return e ? e.getAttribute('data-stage') : null;",
            json!([]),
        );
        (stage.as_str() == Some("ready")).then_some(())
    });
    let life = browser.text("package-life").unwrap_or_default();
    assert!(!life.trim().is_empty(), "the package's life is listed");
    browser.screenshot(&shots.join("package.png"));
    // Search finds it by its hash too.
    browser.goto(&format!("{url}#/search/{package}"));
    let found = wait_for(&browser, "the package found by search", Duration::from_secs(45), || {
        browser
            .script(
                "const a = document.querySelector('[data-testid=\"search-result\"]'); \
                 return a ? a.getAttribute('href') : null;",
                json!([]),
            )
            .as_str()
            .map(str::to_string)
    });
    assert_eq!(found, format!("#/package/{package}"));

    // Services: the per-service gas chart.
    browser.goto(&format!("{url}#/services"));
    wait_for(&browser, "chart-service-gas", Duration::from_secs(45), || browser.find("chart-service-gas"));

    browser.goto(&format!("{url}#/service/{id}"));
    let shown = wait_for(&browser, "service-id", Duration::from_secs(20), || browser.text("service-id"));
    assert!(shown.contains(&id.to_string()), "{shown}");
    // The account as the node holds it: kv's code hash (the blob's Blake2b-256), in full in data-value.
    let kv_hash =
        hex(&orrery_crypto::blake2b_256(&std::fs::read(repo().join("services/kv/kv.jam")).unwrap()));
    wait_for(&browser, "service-code-hash", Duration::from_secs(20), || {
        let value = browser.script(
            "const e = document.querySelector('[data-testid=\"service-code-hash\"]'); \
             return e ? e.getAttribute('data-value') : null;",
            json!([]),
        );
        (value.as_str() == Some(kv_hash.as_str())).then_some(())
    });
    assert!(browser.text("service-balance").is_some_and(|t| t.chars().any(|c| c.is_ascii_digit())));
    browser.type_into("storage-key-input", "name");
    browser.click(&browser.find("storage-key-submit").unwrap());
    let value =
        wait_for(&browser, "storage-value", Duration::from_secs(20), || browser.text("storage-value"));
    assert!(value.contains(&hex(b"orrery")) && value.contains("orrery"), "{value}");
    browser.script(
        "document.querySelector('[data-testid=\"storage-value\"]').scrollIntoView({ block: 'center' });",
        json!([]),
    );
    browser.screenshot(&shots.join("service.png"));
    // The same key in hex, then a key kv does not hold.
    browser.type_into("storage-key-input", &format!("0x{}", hex(b"name")));
    browser.click(&browser.find("storage-key-submit").unwrap());
    wait_for(&browser, "storage-value by hex key", Duration::from_secs(20), || {
        browser.text("storage-value").filter(|v| v.contains(&hex(b"orrery")))
    });
    browser.type_into("storage-key-input", "missing");
    browser.click(&browser.find("storage-key-submit").unwrap());
    wait_for(&browser, "storage-none", Duration::from_secs(20), || browser.find("storage-none"));
    assert!(browser.no_alert());

    println!("screenshots in {}", shots.display());
    println!(
        "first paint, chain page: first contentful paint {chain_fcp:.0} ms, blocks listed (page mark) \
         {chain_mark:.0} ms, block rows seen {chain_drawn:.0} ms after navigation start"
    );
    println!(
        "first paint, block page (fresh load): first contentful paint {block_fcp:.0} ms, block shown \
         (page mark) {block_mark:.0} ms, extrinsic sections seen {block_drawn:.0} ms; from a click on the \
         chain page: {click_to_block:.0} ms"
    );
    println!("head on screen: slot {first} then {later}");
    drop(reaper);
}

/// The loopback address of `port`, after checking nothing listens there (a chromedriver left over
/// would otherwise be driven instead of ours).
fn orrery_free_port_check(port: u16) -> SocketAddr {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    assert!(
        TcpStream::connect_timeout(&addr, Duration::from_millis(300)).is_err(),
        "something already listens on {addr}"
    );
    addr
}

/// `orrery explorer` serves the page for a node elsewhere, tells it that node's RPC, and stops on
/// SIGTERM.
#[test]
fn orrery_explorer_serves_the_page_for_a_node_elsewhere() {
    let explorer = orrery()
        .args(["explorer", "--rpc", "ws://10.1.2.3:9944", "--listen", &format!("127.0.0.1:{STANDALONE}")])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reaper = Reaper { children: vec![explorer], session: None, profile: None };
    let addr = SocketAddr::from(([127, 0, 0, 1], STANDALONE));
    let start = Instant::now();
    let config = loop {
        if let Ok((200, body)) = http(addr, "GET", "/config.json", None, Duration::from_secs(2)) {
            break body;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "orrery explorer did not start");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(config, br#"{"rpc":"ws://10.1.2.3:9944"}"#);
    let (status, index) = http(addr, "GET", "/", None, Duration::from_secs(2)).unwrap();
    assert_eq!(status, 200);
    // The built page, with that node's RPC written into its meta tag.
    let built = String::from_utf8(std::fs::read(repo().join("explorer/dist/index.html")).unwrap()).unwrap();
    let expected =
        built.replace(r#"name="orrery-rpc" content="""#, r#"name="orrery-rpc" content="ws://10.1.2.3:9944""#);
    assert_ne!(expected, built, "the built page has the orrery-rpc meta tag");
    assert_eq!(String::from_utf8_lossy(&index), expected);
    let mut child = reaper.children.remove(0);
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let status = wait_exit(&mut child, Duration::from_secs(10));
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
    let mut out = String::new();
    child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    assert!(out.contains(&format!("explorer http://{addr}/ for the node at ws://10.1.2.3:9944")), "{out}");
}

/// The explorer's first paint on a long chain (issue 17: the chain page under 1 s and a block page
/// under 200 ms on a node holding 100k blocks). `scripts/explorer-long-chain.sh` writes the chain,
/// starts a follower node that serves it and runs this against that node's explorer
/// (`ORRERY_EXPLORER_URL`); it is a measurement, so the normal run leaves it out.
#[test]
#[ignore = "a measurement: scripts/explorer-long-chain.sh runs it against a node it starts"]
fn first_paint_on_a_long_chain() {
    let url = std::env::var("ORRERY_EXPLORER_URL").expect("ORRERY_EXPLORER_URL: the explorer to measure");
    let rounds: usize = std::env::var("ORRERY_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(5);
    let dir = tempfile::tempdir().unwrap();
    let mut reaper = Reaper { children: Vec::new(), session: None, profile: None };
    let browser = start_browser(dir.path(), CHROMEDRIVER + 1, &mut reaper);
    let row = "[data-testid=\"block-row\"]";
    let mut newest = String::new();
    for _ in 0..rounds {
        let (drawn, fcp, listed) = first_paint(&browser, &url, row, "orrery:blocks-listed");
        println!("chain page: first contentful paint {fcp:.0} ms, 20 blocks listed {listed:.0} ms (first row drawn {drawn:.0} ms)");
        let best = browser.text("best-slot").unwrap_or_default();
        println!("  best {best}, rows {}", browser.count("block-row"));
        let hrefs = browser.script(
            "return [...document.querySelectorAll('[data-testid=\"block-link\"]')].map(a => a.getAttribute('href'));",
            json!([]),
        );
        newest = hrefs[hrefs.as_array().map_or(0, |a| a.len().saturating_sub(1))]
            .as_str()
            .and_then(|h| h.strip_prefix("#/block/"))
            .expect("a listed block")
            .to_string();
    }
    for _ in 0..rounds {
        let (drawn, fcp, shown) = first_paint(
            &browser,
            &format!("{url}#/block/{newest}"),
            "[data-testid=\"block-hash\"]",
            &format!("orrery:block-shown:{newest}"),
        );
        println!("block page (fresh load): first contentful paint {fcp:.0} ms, block shown {shown:.0} ms (hash drawn {drawn:.0} ms)");
    }
}

/// The explorer against a JIP-2 node that is not Orrery (issue 17): `scripts/explorer-against.sh
/// ws://HOST:PORT` starts `orrery explorer` for that node and runs this. Every page must show the
/// node's data or say what the node does not serve, never a blank page; screenshots go to
/// `target/explorer-screenshots/foreign-*.png`. Ignored in the normal run: no other node runs in CI.
#[test]
#[ignore = "needs another implementation's node: scripts/explorer-against.sh runs it"]
fn the_explorer_against_another_node() {
    let url = std::env::var("ORRERY_EXPLORER_URL").expect("ORRERY_EXPLORER_URL: the explorer to drive");
    let dir = tempfile::tempdir().unwrap();
    let mut reaper = Reaper { children: Vec::new(), session: None, profile: None };
    let browser = start_browser(dir.path(), CHROMEDRIVER + 2, &mut reaper);
    let shots = std::env::current_exe().unwrap().ancestors().nth(3).unwrap().join("explorer-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    browser.goto(&url);
    wait_for(&browser, "connected", Duration::from_secs(20), || {
        browser.text("rpc-status").filter(|s| s.contains("connected") && !s.contains("disconnected"))
    });
    let best = wait_for(&browser, "best-slot", Duration::from_secs(20), || {
        browser.text("best-slot").as_deref().and_then(first_number)
    });
    // The newest blocks, or an error saying why not.
    wait_for(&browser, "block rows or an error", Duration::from_secs(30), || {
        (browser.count("block-row") > 0 || browser.text("error").is_some_and(|t| !t.trim().is_empty()))
            .then_some(())
    });
    println!(
        "chain page: best slot {best}, {} block rows, error {:?}",
        browser.count("block-row"),
        browser.text("error")
    );
    browser.screenshot(&shots.join("foreign-chain.png"));
    for (page, shown) in [
        ("validators", ["validator-row", "validators-keys-unavailable"]),
        ("cores", ["core-row", "pending-reports-unavailable"]),
        ("services", ["service-row", "chart-service-gas"]),
    ] {
        browser.goto(&format!("{url}#/{page}"));
        wait_for(
            &browser,
            &format!("the {page} page's content or an error"),
            Duration::from_secs(30),
            || {
                (shown.iter().any(|id| browser.count(id) > 0)
                    || browser.text("error").is_some_and(|t| !t.trim().is_empty()))
                .then_some(())
            },
        );
        let text = browser.script("return document.body.innerText.slice(0, 400);", json!([]));
        println!("{page}: {}", text.as_str().unwrap_or("").replace('\n', " | "));
        browser.screenshot(&shots.join(format!("foreign-{page}.png")));
    }
    assert!(browser.no_alert());
}
