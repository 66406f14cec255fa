//! `GET /health` on the RPC's port: an HTTP middleware in front of jsonrpsee that answers that one
//! route with the JSON a closure gives (the node's `/health` body) and `Connection: close`, so a
//! client reading to the end of the stream gets its answer at once; every other request goes on to
//! the RPC (WebSocket upgrades and JSON-RPC over HTTP POST).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use jsonrpsee::server::{HttpBody, HttpRequest, HttpResponse};

/// Makes the `/health` body.
pub type HealthFn = Arc<dyn Fn() -> String + Send + Sync>;

/// The middleware; with no closure, every request passes through.
#[derive(Clone)]
pub struct HealthLayer {
    health: Option<HealthFn>,
}

impl std::fmt::Debug for HealthLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HealthLayer").field("enabled", &self.health.is_some()).finish()
    }
}

impl HealthLayer {
    pub fn new(health: Option<HealthFn>) -> Self {
        Self { health }
    }
}

impl<S> tower::Layer<S> for HealthLayer {
    type Service = Health<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Health { inner, health: self.health.clone() }
    }
}

/// The service [`HealthLayer`] makes.
#[derive(Clone)]
pub struct Health<S> {
    inner: S,
    health: Option<HealthFn>,
}

impl<S> std::fmt::Debug for Health<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Health").field("enabled", &self.health.is_some()).finish()
    }
}

impl<S, B> tower::Service<HttpRequest<B>> for Health<S>
where
    S: tower::Service<HttpRequest<B>, Response = HttpResponse>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = HttpResponse;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: HttpRequest<B>) -> Self::Future {
        if let Some(health) = &self.health {
            if request.method() == http::Method::GET && request.uri().path() == "/health" {
                let mut response = HttpResponse::new(HttpBody::from(health()));
                let headers = response.headers_mut();
                headers
                    .insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
                headers.insert(http::header::CONNECTION, http::HeaderValue::from_static("close"));
                return Box::pin(std::future::ready(Ok(response)));
            }
        }
        Box::pin(self.inner.call(request))
    }
}
