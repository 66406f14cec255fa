//! Prometheus metrics (`--metrics-port`): figures the node thread keeps in atomics as it goes, and
//! `GET /metrics` on 127.0.0.1 answering them in the Prometheus text exposition format 0.0.4.
//! `docs/METRICS.md` lists every name.
//!
//! Cost: counters and histograms are a few relaxed atomic additions per imported or authored block;
//! the pool and store sizes are read from the node at most once a second ([`FIGURES_EVERY`]). The
//! text is built only when scraped.
//!
//! The server: at most [`MAX_SCRAPERS`] connections at once (more are closed unanswered), a
//! request head of at most [`MAX_HEAD`] bytes read within [`HEAD_DEADLINE`], one answer per
//! connection (`Connection: close`). Only `GET /metrics` is served; other paths get 404, other
//! methods 405.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Scrapes served at once.
pub const MAX_SCRAPERS: usize = 16;
/// The longest request head read.
pub const MAX_HEAD: usize = 8 * 1024;
/// Time a scraper has to send its request head.
pub const HEAD_DEADLINE: Duration = Duration::from_secs(5);
/// How often the node thread reads the pool and store sizes.
pub const FIGURES_EVERY: Duration = Duration::from_secs(1);

/// Upper bounds of the import and authoring time buckets, in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// A histogram of durations: cumulative counts are made when scraped.
#[derive(Debug, Default)]
pub struct Histogram {
    /// Observations per bucket (not cumulative), the last for those above every bound.
    counts: [AtomicU64; BUCKETS.len() + 1],
    sum_us: AtomicU64,
}

impl Histogram {
    pub fn observe(&self, d: Duration) {
        let s = d.as_secs_f64();
        let i = BUCKETS.iter().position(|b| s <= *b).unwrap_or(BUCKETS.len());
        self.counts[i].fetch_add(1, Ordering::Relaxed);
        self.sum_us.fetch_add(u64::try_from(d.as_micros()).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    fn write(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut total = 0u64;
        for (i, bound) in BUCKETS.iter().enumerate() {
            total += self.counts[i].load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {total}");
        }
        total += self.counts[BUCKETS.len()].load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {total}");
        let us = self.sum_us.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_sum {}.{:06}\n{name}_count {total}", us / 1_000_000, us % 1_000_000);
    }
}

/// Everything `/metrics` shows. Written by the node thread (and the network tasks for the inbox),
/// read by the scraper.
#[derive(Debug, Default)]
pub struct Metrics {
    pub best_slot: AtomicU64,
    pub best_height: AtomicU64,
    pub finalized_slot: AtomicU64,
    pub finalized_height: AtomicU64,
    pub peers: AtomicU64,
    pub syncing: AtomicU64,
    pub imported: AtomicU64,
    pub authored: AtomicU64,
    pub rejected: AtomicU64,
    pub import_time: Histogram,
    pub authoring_time: Histogram,
    pub accumulate_gas: AtomicU64,
    pub refine_gas: AtomicU64,
    /// Inputs from the network waiting for the node thread (shared with `net::Inbox`).
    pub inbox: Arc<AtomicU64>,
    pub guarantees: AtomicU64,
    pub packages: AtomicU64,
    pub assurances: AtomicU64,
    pub tickets: AtomicU64,
    pub preimages: AtomicU64,
    pub preimages_bytes: AtomicU64,
    pub shards: AtomicU64,
    pub shards_bytes: AtomicU64,
    pub scrapes: AtomicU64,
    /// Open RPC WebSocket connections (the RPC server's count; 0 without an RPC server).
    pub rpc_connections: Arc<AtomicU64>,
}

fn gauge(out: &mut String, name: &str, kind: &str, help: &str, value: &AtomicU64) {
    let _ =
        writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {}", value.load(Ordering::Relaxed));
}

impl Metrics {
    /// The exposition text (format 0.0.4).
    pub fn render(&self) -> String {
        let mut o = String::with_capacity(4096);
        let g = "gauge";
        let c = "counter";
        gauge(&mut o, "orrery_best_slot", g, "Timeslot of the best block.", &self.best_slot);
        gauge(&mut o, "orrery_best_height", g, "Height of the best block above genesis.", &self.best_height);
        gauge(
            &mut o,
            "orrery_finalized_slot",
            g,
            "Timeslot of the latest finalized block.",
            &self.finalized_slot,
        );
        gauge(
            &mut o,
            "orrery_finalized_height",
            g,
            "Height of the latest finalized block above genesis.",
            &self.finalized_height,
        );
        gauge(&mut o, "orrery_peers", g, "Connected peers.", &self.peers);
        gauge(
            &mut o,
            "orrery_syncing",
            g,
            "1 while the node knows of blocks it has not imported.",
            &self.syncing,
        );
        gauge(&mut o, "orrery_blocks_imported_total", c, "Blocks imported from peers.", &self.imported);
        gauge(&mut o, "orrery_blocks_authored_total", c, "Blocks this node authored.", &self.authored);
        gauge(&mut o, "orrery_blocks_rejected_total", c, "Blocks that failed import.", &self.rejected);
        self.import_time.write(
            &mut o,
            "orrery_import_seconds",
            "Node-thread time of an input that imported blocks, per block imported.",
        );
        self.authoring_time.write(
            &mut o,
            "orrery_authoring_seconds",
            "Node-thread time of authoring a block.",
        );
        gauge(
            &mut o,
            "orrery_accumulate_gas_total",
            c,
            "PVM gas used by accumulation in imported and authored blocks (their service statistics).",
            &self.accumulate_gas,
        );
        gauge(
            &mut o,
            "orrery_refine_gas_total",
            c,
            "Refine gas the work reports of imported and authored blocks declare.",
            &self.refine_gas,
        );
        gauge(&mut o, "orrery_inbox_length", g, "Network inputs waiting for the node thread.", &self.inbox);
        gauge(&mut o, "orrery_pool_guarantees", g, "Guarantees pooled for blocks.", &self.guarantees);
        gauge(
            &mut o,
            "orrery_guarantor_packages",
            g,
            "Work packages being refined or awaiting co-guarantor signatures.",
            &self.packages,
        );
        gauge(&mut o, "orrery_pool_assurances", g, "Assurances pooled for blocks.", &self.assurances);
        gauge(&mut o, "orrery_pool_tickets", g, "Safrole tickets pooled, all epochs.", &self.tickets);
        gauge(&mut o, "orrery_pool_preimages", g, "Preimages pooled for blocks.", &self.preimages);
        gauge(
            &mut o,
            "orrery_pool_preimages_bytes",
            g,
            "Size of the pooled preimages.",
            &self.preimages_bytes,
        );
        gauge(&mut o, "orrery_availability_shards", g, "Availability records held.", &self.shards);
        gauge(
            &mut o,
            "orrery_availability_bytes",
            g,
            "Size of the availability records held.",
            &self.shards_bytes,
        );
        gauge(
            &mut o,
            "orrery_rpc_connections",
            g,
            "Open RPC WebSocket connections (plain HTTP requests are not counted).",
            &self.rpc_connections,
        );
        gauge(&mut o, "orrery_metrics_scrapes_total", c, "Scrapes of this endpoint.", &self.scrapes);
        o
    }

    /// Copies the node's status and pool figures.
    pub(crate) fn set_status(&self, status: &orrery_node::Status) {
        let r = Ordering::Relaxed;
        self.best_slot.store(status.best.slot.into(), r);
        self.finalized_slot.store(status.finalized.slot.into(), r);
        self.peers.store(status.peers as u64, r);
        self.syncing.store(status.syncing.into(), r);
    }

    pub(crate) fn set_figures(&self, f: &orrery_node::Figures) {
        let r = Ordering::Relaxed;
        self.best_height.store(f.best_height, r);
        self.finalized_height.store(f.finalized_height, r);
        self.guarantees.store(f.guarantees_by_core.iter().map(|n| u64::from(*n)).sum(), r);
        self.packages.store(f.packages_in_progress as u64, r);
        self.assurances.store(f.assurances as u64, r);
        self.tickets.store(f.tickets as u64, r);
        self.preimages.store(f.preimages as u64, r);
        self.preimages_bytes.store(f.preimages_size as u64, r);
        self.shards.store(f.shards as u64, r);
        self.shards_bytes.store(f.shards_size, r);
    }
}

/// Serves `GET /metrics` on `listener` until the task is dropped.
pub async fn serve(listener: tokio::net::TcpListener, metrics: Arc<Metrics>) {
    let open = Arc::new(AtomicUsize::new(0));
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        if open.fetch_add(1, Ordering::Relaxed) >= MAX_SCRAPERS {
            open.fetch_sub(1, Ordering::Relaxed);
            continue;
        }
        let (open, metrics) = (open.clone(), metrics.clone());
        tokio::spawn(async move {
            let _ = tokio::time::timeout(HEAD_DEADLINE * 2, answer(stream, &metrics)).await;
            open.fetch_sub(1, Ordering::Relaxed);
        });
    }
}

/// Binds `addr` for [`serve`].
pub async fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await
}

async fn answer(mut stream: tokio::net::TcpStream, metrics: &Metrics) -> std::io::Result<()> {
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    let read = tokio::time::timeout(HEAD_DEADLINE, async {
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_HEAD {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        Ok::<_, std::io::Error>(())
    })
    .await;
    // A head that did not come whole (cut at the cap, or the peer stopped): no answer.
    if !matches!(read, Ok(Ok(()))) || !head.windows(4).any(|w| w == b"\r\n\r\n") {
        return Ok(());
    }
    let line = head.split(|b| *b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (status, kind, body) = match (method, path.split('?').next().unwrap_or("")) {
        ("GET", "/metrics") => {
            metrics.scrapes.fetch_add(1, Ordering::Relaxed);
            ("200 OK", "text/plain; version=0.0.4; charset=utf-8", metrics.render())
        }
        ("GET", _) => ("404 Not Found", "text/plain; charset=utf-8", "only /metrics is served\n".into()),
        _ => ("405 Method Not Allowed", "text/plain; charset=utf-8", "only GET is served\n".into()),
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(addr: SocketAddr, request: &[u8]) -> String {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream.write_all(request).await.unwrap();
        let mut answer = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
        assert!(read.is_ok(), "no answer to {:?}", String::from_utf8_lossy(request));
        String::from_utf8_lossy(&answer).into_owned()
    }

    #[tokio::test]
    async fn serves_metrics_over_loopback_and_nothing_else() {
        let listener = bind("127.0.0.1:21820".parse().unwrap()).await.expect("port 21820 free");
        let addr = listener.local_addr().unwrap();
        let metrics = Arc::new(Metrics::default());
        metrics.best_slot.store(7, Ordering::Relaxed);
        let server = tokio::spawn(serve(listener, metrics.clone()));

        let answer = get(addr, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").await;
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        assert!(head.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8"), "{head}");
        assert!(head.contains(&format!("Content-Length: {}", body.len())), "{head}");
        assert!(body.contains("\norrery_best_slot 7\n"), "{body}");
        metrics.best_slot.store(8, Ordering::Relaxed);
        let again = get(addr, b"GET /metrics?x=1 HTTP/1.0\r\n\r\n").await;
        assert!(again.contains("\norrery_best_slot 8\n"));
        assert!(
            again.contains("\norrery_metrics_scrapes_total 2\n"),
            "both scrapes, this one included: {again}"
        );

        assert!(get(addr, b"GET / HTTP/1.1\r\n\r\n").await.starts_with("HTTP/1.1 404 "));
        assert!(get(addr, b"POST /metrics HTTP/1.1\r\n\r\n").await.starts_with("HTTP/1.1 405 "));
        // A head that never ends is cut at the cap: no answer, the connection closed.
        let endless = vec![b'a'; MAX_HEAD + 10];
        assert_eq!(get(addr, &endless).await, "");
        server.abort();
    }

    #[test]
    fn histogram_buckets_are_cumulative_and_the_text_is_prometheus_0_0_4() {
        let m = Metrics::default();
        m.best_slot.store(42, Ordering::Relaxed);
        m.import_time.observe(Duration::from_micros(800)); // ≤ 0.001
        m.import_time.observe(Duration::from_millis(30)); // ≤ 0.05
        m.import_time.observe(Duration::from_secs(20)); // above every bound
        let text = m.render();
        assert!(text.contains("# TYPE orrery_best_slot gauge\norrery_best_slot 42\n"), "{text}");
        assert!(text.contains("orrery_import_seconds_bucket{le=\"0.001\"} 1\n"));
        assert!(text.contains("orrery_import_seconds_bucket{le=\"0.025\"} 1\n"));
        assert!(text.contains("orrery_import_seconds_bucket{le=\"0.05\"} 2\n"));
        assert!(text.contains("orrery_import_seconds_bucket{le=\"10\"} 2\n"));
        assert!(text.contains("orrery_import_seconds_bucket{le=\"+Inf\"} 3\n"));
        // 0.0008 + 0.03 + 20 seconds.
        assert!(text.contains("orrery_import_seconds_sum 20.030800\n"), "{text}");
        assert!(text.contains("orrery_import_seconds_count 3\n"));
        assert!(text.contains("# TYPE orrery_blocks_imported_total counter\n"));
        // Every sample line is `name value` or `name{labels} value`, after its HELP and TYPE.
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (name, value) = line.rsplit_once(' ').unwrap();
            assert!(name.starts_with("orrery_"), "{line}");
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
    }
}
