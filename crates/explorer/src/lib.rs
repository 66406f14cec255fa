//! The web explorer's server: the UI built into `explorer/dist` (TypeScript, built by Vite and
//! committed), embedded in the binary at compile time by `build.rs`, served over HTTP/1.1 on a TCP
//! address with one generated file, `/config.json` = `{"rpc": "<the node's JIP-2 WebSocket URL>"}`,
//! and that URL also written into `index.html`'s `<meta name="orrery-rpc" content="">` (HTML-escaped),
//! so that a fresh page learns where the node is without a second request.
//!
//! What is here: `GET` and `HEAD` of the embedded files (`/` is `index.html`; anything else is 404,
//! other methods 405), each with its content type, `Cache-Control: no-cache` and an entity tag
//! (a revalidation is a 304; the UI's file names are stable), and the explorer contract's security headers: a
//! Content-Security-Policy that allows scripts only from this origin and connections to WebSockets,
//! and `X-Content-Type-Options: nosniff`. An untrusted client meets caps: open connections
//! ([`Limits::connections`], more are closed at once), request-header bytes (431 past them), the time
//! to send the headers, and the lifetime of a connection.
//!
//! What is not here: the server never talks to the node. The page, in the browser, opens the
//! node's JIP-2 RPC itself (a WebSocket to the URL in `/config.json`, or one given in the page's
//! `?rpc=`), so this server needs no access to the chain and costs the node nothing while nobody
//! watches. No TLS (serve loopback, or put a TLS proxy in front), no compression, no range requests,
//! no directory listings: the file set is fixed when the binary is built.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

mod assets {
    // `ASSETS`: (URL path, bytes, entity tag) of every file under explorer/dist, sorted by path (build.rs).
    include!(concat!(env!("OUT_DIR"), "/assets.rs"));
}

/// The Content-Security-Policy of every answer (the explorer contract): scripts, styles and images
/// from this origin only (inline styles allowed, data: images for charts), WebSockets to any node.
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self' 'unsafe-inline'";

/// The longest RPC URL accepted.
const MAX_RPC_URL: usize = 2048;

#[derive(Debug, thiserror::Error)]
pub enum ExplorerError {
    /// The RPC URL the page is told to use is not a WebSocket URL.
    #[error("the RPC address {0:?}: give ws://HOST:PORT or wss://HOST:PORT")]
    RpcUrl(String),
    /// The listening socket could not be opened.
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
}

/// What an untrusted client may take.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Open connections; one more is closed as soon as it is accepted.
    pub connections: usize,
    /// Bytes of a request's start line and headers (431 past them; at least 8 KiB, hyper's floor).
    pub header_bytes: usize,
    /// Time to send a request's headers, from the connection or the previous answer.
    pub header_time: Duration,
    /// Lifetime of a connection (keep-alive included); a browser reconnects when it needs to.
    pub connection_time: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            connections: 64,
            header_bytes: 16 * 1024,
            header_time: Duration::from_secs(10),
            connection_time: Duration::from_secs(120),
        }
    }
}

/// What the server tells the page, and its limits.
#[derive(Debug, Clone)]
pub struct Config {
    rpc: String,
    limits: Limits,
}

impl Config {
    /// The page will use the JIP-2 RPC at `rpc` (`ws://HOST:PORT` or `wss://…`).
    pub fn new(rpc: &str) -> Result<Self, ExplorerError> {
        let rest = rpc.strip_prefix("ws://").or_else(|| rpc.strip_prefix("wss://"));
        let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or(""));
        let valid = rpc.len() <= MAX_RPC_URL
            && host.is_some_and(|h| !h.is_empty() && !h.starts_with(':'))
            && rpc.chars().all(|c| c.is_ascii_graphic());
        if !valid {
            return Err(ExplorerError::RpcUrl(rpc.chars().take(200).collect()));
        }
        Ok(Config { rpc: rpc.to_string(), limits: Limits::default() })
    }

    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    pub fn rpc(&self) -> &str {
        &self.rpc
    }
}

/// The paths of the embedded files (`/index.html`, `/assets/…`), in order.
pub fn files() -> impl Iterator<Item = &'static str> {
    assets::ASSETS.iter().map(|(path, _, _)| *path)
}

/// A bound explorer server; [`Explorer::serve`] runs it.
#[derive(Debug)]
pub struct Explorer {
    listener: TcpListener,
    site: Arc<Site>,
    limits: Limits,
}

impl Explorer {
    /// Listens on `addr` (port 0: a free port, see [`Explorer::local_addr`]).
    pub async fn bind(addr: SocketAddr, config: Config) -> Result<Self, ExplorerError> {
        let listener =
            TcpListener::bind(addr).await.map_err(|source| ExplorerError::Bind { addr, source })?;
        let config_json = serde_json::json!({ "rpc": config.rpc }).to_string();
        let site = Arc::new(Site { config_json: Bytes::from(config_json), index: Index::of(&config.rpc) });
        Ok(Explorer { listener, site, limits: config.limits })
    }

    pub fn local_addr(&self) -> SocketAddr {
        // A bound listener has an address; the fallback is never used.
        self.listener.local_addr().unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    /// Serves until `shutdown` completes; then accepts no more connections (open ones finish on
    /// their own, within [`Limits::connection_time`]).
    pub async fn serve(self, shutdown: impl Future<Output = ()>) {
        let Explorer { listener, site, limits } = self;
        let open = Arc::new(Semaphore::new(limits.connections));
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(limits.header_time)
            .max_buf_size(limits.header_bytes.max(8192))
            .max_header_size(limits.header_bytes);
        let http = Arc::new(http);
        tokio::pin!(shutdown);
        loop {
            let (stream, _peer) = tokio::select! {
                _ = &mut shutdown => return,
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Out of file descriptors and the like: wait a little rather than spin.
                        tracing::warn!(error = %e, "explorer: accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
            };
            let Ok(permit) = open.clone().try_acquire_owned() else {
                drop(stream);
                continue;
            };
            let site = site.clone();
            let http = http.clone();
            tokio::spawn(async move {
                let _permit = permit;
                let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                    let answer = site.answer(&request);
                    async move { Ok::<_, Infallible>(answer) }
                });
                let connection = http.serve_connection(TokioIo::new(stream), service);
                // An error is the client's doing (a reset, bad HTTP, a timeout): nothing to report.
                let _ = tokio::time::timeout(limits.connection_time, connection).await;
            });
        }
    }
}

#[derive(Debug)]
struct Site {
    config_json: Bytes,
    index: Index,
}

/// `index.html` with the RPC URL written into its `orrery-rpc` meta tag, and its own entity tag
/// (the embedded file's, suffixed by a digest of the URL: two servers for two nodes must not share
/// a cached page).
#[derive(Debug)]
struct Index {
    bytes: Bytes,
    etag: HeaderValue,
}

/// The meta tag's placeholder in the built `index.html` (the explorer contract).
const RPC_META: &str = r#"name="orrery-rpc" content="""#;

impl Index {
    fn of(rpc: &str) -> Index {
        let (html, etag) = assets::ASSETS
            .iter()
            .find(|(path, _, _)| *path == "/index.html")
            .map(|(_, bytes, etag)| (String::from_utf8_lossy(bytes).into_owned(), *etag))
            .unwrap_or_default();
        let html =
            html.replacen(RPC_META, &format!(r#"name="orrery-rpc" content="{}""#, escape_html(rpc)), 1);
        let digest = rpc
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
        let etag = format!("{}-{digest:016x}\"", etag.trim_end_matches('"'));
        // The embedded tag is ASCII and the suffix hex, so the header value is always valid.
        let etag = HeaderValue::from_str(&etag).unwrap_or_else(|_| HeaderValue::from_static("\"index\""));
        Index { bytes: Bytes::from(html), etag }
    }
}

/// `text` safe inside a double-quoted HTML attribute.
fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

impl Site {
    fn answer(&self, request: &Request<Incoming>) -> Response<Full<Bytes>> {
        if request.method() != Method::GET && request.method() != Method::HEAD {
            let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD\n");
            response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return response;
        }
        let path = match request.uri().path() {
            "/" | "" => "/index.html",
            path => path,
        };
        // HEAD: hyper sends the headers (the length included) and leaves the body out.
        if path == "/config.json" {
            return file(path, self.config_json.clone(), None);
        }
        let (bytes, etag) = if path == "/index.html" {
            (self.index.bytes.clone(), self.index.etag.clone())
        } else {
            let Ok(i) = assets::ASSETS.binary_search_by(|(p, _, _)| (*p).cmp(path)) else {
                return plain(StatusCode::NOT_FOUND, "not found\n");
            };
            let (_, bytes, etag) = assets::ASSETS[i];
            (Bytes::from_static(bytes), HeaderValue::from_static(etag))
        };
        // A browser revalidating a file it holds gets 304 and no body.
        let held = request
            .headers()
            .get_all(header::IF_NONE_MATCH)
            .iter()
            .any(|v| v.to_str().is_ok_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*")));
        let mut response = file(path, bytes, Some(etag));
        if held {
            *response.status_mut() = StatusCode::NOT_MODIFIED;
            *response.body_mut() = Full::new(Bytes::new());
            response.headers_mut().remove(header::CONTENT_TYPE);
        }
        response
    }
}

/// An embedded file (or config.json) with its type and cache policy.
fn file(path: &str, body: Bytes, etag: Option<HeaderValue>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(path)));
    // The UI's file names are stable across builds (reproducible dist), so nothing may be cached
    // unchecked: the browser revalidates each time, and the entity tag makes that a 304.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Some(etag) = etag {
        headers.insert(header::ETAG, etag);
    }
    secure(&mut response);
    response
}

fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    secure(&mut response);
    response
}

fn secure(response: &mut Response<Full<Bytes>>) {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
}

/// The media type of a file, by its extension (what Vite emits, and a few more).
pub fn content_type(path: &str) -> &'static str {
    let extension = path.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    match extension {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "wasm" => "application/wasm",
        "txt" => "text/plain; charset=utf-8",
        "webmanifest" => "application/manifest+json",
        _ => "application/octet-stream",
    }
}
