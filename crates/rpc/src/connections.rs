//! The count of open WebSocket connections, for the node's metrics: an HTTP middleware in front of
//! jsonrpsee puts a guard into the extensions of each WebSocket upgrade request. jsonrpsee keeps
//! an upgraded connection's request extensions for the connection's whole life (they are what its
//! method calls see as `Extensions`) and drops them when it ends, so the guard counts the
//! connection from its upgrade to its close; a refused upgrade (over `max_connections`, or a bad
//! handshake) drops the request, and the guard, at once. Plain HTTP POST requests are not counted.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use jsonrpsee::server::{HttpRequest, HttpResponse};

/// Open WebSocket connections, shared with whoever reports them.
pub type Counter = Arc<AtomicU64>;

/// One connection's share of the count: the count goes down when the last clone is dropped.
#[derive(Debug)]
struct Open(Counter);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The extension jsonrpsee keeps (extensions must be `Clone`).
#[derive(Debug, Clone)]
struct Guard {
    _open: Arc<Open>,
}

/// The middleware.
#[derive(Debug, Clone)]
pub struct CountLayer {
    counter: Counter,
}

impl CountLayer {
    pub fn new(counter: Counter) -> Self {
        Self { counter }
    }
}

impl<S> tower::Layer<S> for CountLayer {
    type Service = Count<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Count { inner, counter: self.counter.clone() }
    }
}

/// The service [`CountLayer`] makes.
#[derive(Debug, Clone)]
pub struct Count<S> {
    inner: S,
    counter: Counter,
}

/// Whether `request` asks to become a WebSocket (`Connection: upgrade` and `Upgrade: websocket`).
fn is_upgrade<B>(request: &HttpRequest<B>) -> bool {
    let has = |name: http::HeaderName, token: &str| {
        request.headers().get_all(name).iter().any(|v| {
            v.to_str().is_ok_and(|v| v.split(',').any(|part| part.trim().eq_ignore_ascii_case(token)))
        })
    };
    has(http::header::CONNECTION, "upgrade") && has(http::header::UPGRADE, "websocket")
}

impl<S, B> tower::Service<HttpRequest<B>> for Count<S>
where
    S: tower::Service<HttpRequest<B>, Response = HttpResponse>,
{
    type Response = HttpResponse;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: HttpRequest<B>) -> Self::Future {
        if is_upgrade(&request) {
            self.counter.fetch_add(1, Ordering::Relaxed);
            request.extensions_mut().insert(Guard { _open: Arc::new(Open(self.counter.clone())) });
        }
        self.inner.call(request)
    }
}
