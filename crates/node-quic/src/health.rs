//! `GET /health` over plain HTTP/1.1 on a TCP port: the node's best and finalized blocks, its peer
//! count and whether it is syncing, as one JSON object. The driver serves it on the JIP-2 RPC's port
//! through `orrery_rpc::health::HealthLayer` with [`Health::to_json`]; [`serve`] is this module's
//! own listener for a port with no RPC.
//!
//! Hand-written on purpose: one route, one answer, and the request is untrusted. A request is read
//! up to [`MAX_REQUEST`] bytes within [`REQUEST_TIMEOUT`]; at most [`MAX_CLIENTS`] are served at once
//! and the rest wait in the kernel's backlog.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The largest request head read.
pub const MAX_REQUEST: usize = 4096;
/// Time a client has to send its request head.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);
/// Clients served at once.
pub const MAX_CLIENTS: usize = 16;

/// What `/health` reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Health {
    /// Hash and slot of the best block.
    pub best: ([u8; 32], u32),
    pub finalized: ([u8; 32], u32),
    pub peers: usize,
    pub syncing: bool,
}

impl Health {
    pub fn of(status: &orrery_node::Status) -> Self {
        Self {
            best: (status.best.hash, status.best.slot),
            finalized: (status.finalized.hash, status.finalized.slot),
            peers: status.peers,
            syncing: status.syncing,
        }
    }

    /// `{"best":{"slot":S,"hash":"…"},"finalized":{…},"peers":N,"syncing":B}`, hashes in lowercase hex.
    pub fn to_json(&self) -> String {
        let block = |(hash, slot): &([u8; 32], u32)| {
            let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
            format!("{{\"slot\":{slot},\"hash\":\"{hex}\"}}")
        };
        format!(
            "{{\"best\":{},\"finalized\":{},\"peers\":{},\"syncing\":{}}}",
            block(&self.best),
            block(&self.finalized),
            self.peers,
            self.syncing
        )
    }
}

/// Serves `listener` until the task is aborted.
pub async fn serve(listener: TcpListener, health: Arc<Mutex<Health>>) {
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CLIENTS));
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else { return };
        let Ok((stream, _)) = listener.accept().await else { continue };
        let health = health.clone();
        tokio::spawn(async move {
            let _ = tokio::time::timeout(REQUEST_TIMEOUT * 2, answer(stream, &health)).await;
            drop(permit);
        });
    }
}

async fn answer(mut stream: TcpStream, health: &Mutex<Health>) -> std::io::Result<()> {
    let mut head = Vec::with_capacity(256);
    let mut chunk = [0u8; 512];
    let complete = tokio::time::timeout(REQUEST_TIMEOUT, async {
        while head.len() < MAX_REQUEST && !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                break;
            }
            head.extend_from_slice(&chunk[..n]);
        }
        Ok::<_, std::io::Error>(())
    })
    .await;
    let (status, body) = match complete {
        Ok(Ok(())) => route(&head, health),
        _ => ("408 Request Timeout", "{\"error\":\"request timeout\"}".to_string()),
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

fn route(head: &[u8], health: &Mutex<Health>) -> (&'static str, String) {
    let line = head.split(|&b| b == b'\r' || b == b'\n').next().unwrap_or_default();
    let mut parts = line.split(|&b| b == b' ');
    match (parts.next(), parts.next()) {
        (Some(b"GET"), Some(b"/health")) => {
            let json = health.lock().map(|h| h.to_json()).unwrap_or_else(|_| "{}".into());
            ("200 OK", json)
        }
        (Some(b"GET"), Some(_)) => ("404 Not Found", "{\"error\":\"not found; try /health\"}".into()),
        _ => ("400 Bad Request", "{\"error\":\"bad request\"}".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shape() {
        let mut hash = [0u8; 32];
        hash[0] = 0xab;
        hash[31] = 0x01;
        let h = Health { best: (hash, 7), finalized: ([0; 32], 3), peers: 5, syncing: false };
        assert_eq!(
            h.to_json(),
            "{\"best\":{\"slot\":7,\"hash\":\"ab000000000000000000000000000000000000000000000000000000000000\
             01\"},\"finalized\":{\"slot\":3,\"hash\":\"00000000000000000000000000000000000000000000\
             00000000000000000000\"},\"peers\":5,\"syncing\":false}"
        );
    }

    #[tokio::test]
    async fn serves_health_and_refuses_the_rest() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let health = Arc::new(Mutex::new(Health { peers: 2, ..Health::default() }));
        let server = tokio::spawn(serve(listener, health));
        let get = |request: &'static [u8]| async move {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(request).await.unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).await.unwrap();
            out
        };
        let bounded = |f| tokio::time::timeout(Duration::from_secs(10), f);
        let ok = bounded(get(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")).await.unwrap();
        assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
        assert!(ok.ends_with("\"peers\":2,\"syncing\":false}"), "{ok}");
        let missing = bounded(get(b"GET /metrics HTTP/1.1\r\n\r\n")).await.unwrap();
        assert!(missing.starts_with("HTTP/1.1 404 "), "{missing}");
        let junk = bounded(get(b"\x00\x01\x02\r\n\r\n")).await.unwrap();
        assert!(junk.starts_with("HTTP/1.1 400 "), "{junk}");
        server.abort();
    }
}
