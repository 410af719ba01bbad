//! The outermost layer of every request: the request id (on error pages and, through
//! `crate::log`, on the log lines written for it), the latency for `/metrics` and the
//! security headers. It is a tower service of its own rather than
//! `middleware::from_fn`, which boxes every request's future and clones the whole stack
//! inside it; this is the one layer every request crosses, `/healthz` included.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, ready};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::response::Response;
use pin_project_lite::pin_project;
use tokio::task::futures::TaskLocalFuture;
use tower::{Layer, Service};

use crate::log::REQUEST_ID;
use crate::metrics::{Metrics, RouteLatency};

const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

#[derive(Clone)]
pub struct EdgeLayer {
    headers: Arc<[(HeaderName, HeaderValue)]>,
    metrics: Arc<Metrics>,
}

impl EdgeLayer {
    pub fn new(metrics: Arc<Metrics>, esia_origin: &str, https: bool) -> Self {
        Self {
            headers: security_headers(esia_origin, https),
            metrics,
        }
    }
}

impl<S> Layer<S> for EdgeLayer {
    type Service = Edge<S>;

    fn layer(&self, inner: S) -> Edge<S> {
        Edge {
            inner,
            layer: self.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Edge<S> {
    inner: S,
    layer: EdgeLayer,
}

/// What the edge hands inward with the request: its id (for error pages and the log)
/// and a slot for the route the router matched. The edge runs before routing (so that it
/// also times the session, the error page, a timeout and a panic); the router's own layer,
/// [`NoteRoute`], fills the slot in.
#[derive(Clone)]
pub struct Seen {
    pub id: HeaderValue,
    route: Arc<OnceLock<Arc<RouteLatency>>>,
}

impl<S> Service<Request> for Edge<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = EdgeFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        let started = Instant::now();
        let id = request_id(&req);
        let seen = Seen {
            id: id.clone(),
            route: Arc::default(),
        };
        req.extensions_mut().insert(seen.clone());
        let finish = Finish {
            started,
            method: req.method().clone(),
            is_static: req.uri().path().starts_with("/static/"),
            seen,
            layer: self.layer.clone(),
        };
        let inner = REQUEST_ID.sync_scope(id.clone(), || self.inner.call(req));
        EdgeFuture {
            inner: REQUEST_ID.scope(id, inner),
            finish: Some(finish),
        }
    }
}

/// A client's `X-Request-Id` when it looks like one (it goes into the log and onto error
/// pages), otherwise a new one.
fn request_id(req: &Request) -> HeaderValue {
    match req.headers().get(&X_REQUEST_ID).filter(|v| well_formed(v)) {
        Some(id) => id.clone(),
        None => {
            let mut buf = uuid::Uuid::encode_buffer();
            let made = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut buf);
            HeaderValue::from_str(made).unwrap_or(HeaderValue::from_static("-"))
        }
    }
}

fn well_formed(id: &HeaderValue) -> bool {
    let id = id.as_bytes();
    (1..=64).contains(&id.len())
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// What the edge does once the response is there.
struct Finish {
    started: Instant,
    method: Method,
    is_static: bool,
    seen: Seen,
    layer: EdgeLayer,
}

impl Finish {
    fn response(self, mut resp: Response) -> Response {
        let took = self.started.elapsed();
        let status = resp.status();
        let (method, status_code) = (self.method.as_str(), status.as_u16());
        let metrics = &self.layer.metrics;
        let route = match self.seen.route.get() {
            Some(latency) => {
                latency.record(metrics, method, status_code, took);
                latency.route()
            }
            None => {
                metrics.request(method, "unmatched", status_code, took);
                "unmatched"
            }
        };
        // Past the request's scope: its id goes in as a field. Never the URI, whose query
        // carries ESIA codes.
        let request_id = self.seen.id.to_str().unwrap_or_default();
        if status.is_server_error() {
            tracing::error!(
                method,
                route,
                status = status_code,
                ?took,
                request_id,
                "request failed"
            );
        } else {
            tracing::debug!(
                method,
                route,
                status = status_code,
                ?took,
                request_id,
                "request done"
            );
        }
        let h = resp.headers_mut();
        // Room for all of them at once, not a table grown twice on the way.
        h.reserve(self.layer.headers.len() + 2);
        for (name, value) in self.layer.headers.iter() {
            h.insert(name.clone(), value.clone());
        }
        if !self.is_static {
            // Pages show personal data: no browser or proxy may keep them.
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        h.insert(X_REQUEST_ID, self.seen.id);
        resp
    }
}

pin_project! {
    pub struct EdgeFuture<F> {
        #[pin]
        inner: TaskLocalFuture<HeaderValue, F>,
        finish: Option<Finish>,
    }
}

impl<F, E> Future for EdgeFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        Poll::Ready(match this.finish.take() {
            Some(finish) => result.map(|resp| finish.response(resp)),
            None => result,
        })
    }
}

/// On every route: hands the route's latency histograms to the edge. A plain service (it
/// only reads the request), because axum clones a route's layers for every request.
#[derive(Clone)]
pub struct NoteRouteLayer(pub Arc<Metrics>);

impl<S> Layer<S> for NoteRouteLayer {
    type Service = NoteRoute<S>;

    fn layer(&self, inner: S) -> NoteRoute<S> {
        NoteRoute {
            inner,
            metrics: self.0.clone(),
            kept: Arc::default(),
        }
    }
}

/// axum applies the layer to each route (and each method of it) once, so `kept`, shared
/// by the clones made per request, holds that route's histograms from its first request.
#[derive(Clone)]
pub struct NoteRoute<S> {
    inner: S,
    metrics: Arc<Metrics>,
    kept: Arc<OnceLock<Arc<RouteLatency>>>,
}

impl<S: Service<Request>> Service<Request> for NoteRoute<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        if let (Some(seen), Some(route)) = (
            req.extensions().get::<Seen>(),
            req.extensions().get::<MatchedPath>(),
        ) {
            let new = || Arc::new(self.metrics.route_latency(route.as_str()));
            let kept = self.kept.get_or_init(new);
            // A service mounted under a wildcard could answer several templates: those
            // are counted as they come, uncached.
            let latency = if kept.route() == route.as_str() {
                kept.clone()
            } else {
                new()
            };
            let _ = seen.route.set(latency);
        }
        self.inner.call(req)
    }
}

fn security_headers(esia_origin: &str, https: bool) -> Arc<[(HeaderName, HeaderValue)]> {
    // No inline script or style anywhere; forms may only post here, and the logout
    // redirect to ESIA counts as a form target in Chromium.
    let csp = format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self' {esia_origin}"
    );
    let mut headers = vec![
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_str(&csp).unwrap_or(HeaderValue::from_static("default-src 'self'")),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        // The callback URL carries the ESIA code: never leak it in a Referer.
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
        ),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ),
    ];
    if https {
        headers.push((
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        ));
    }
    headers.into()
}
