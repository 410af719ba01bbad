//! The middleware stack: request ids, tracing without personal data, sessions, security
//! headers, request timeout, panic containment, and error pages.

use std::sync::Arc;
use std::time::{Duration, Instant};

use askama::Template;
use axum::Router;
use axum::body::Body;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::RequestId;
use tower_http::timeout::TimeoutLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};
use tracing::Instrument;

use super::error::{ErrorView, LoginOffer};
use super::templates::Layout;
use crate::metrics::Metrics;
use crate::store::sessions::DbSessionStore;
use tower_sessions::Session;

const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    layout: Layout,
    view: &'a ErrorView,
    request_id: &'a str,
    /// Sign-in buttons: (role, label) and the page to come back to.
    logins: Vec<(&'static str, &'static str)>,
    next: String,
}

const STAFF_LOGIN: [(&str, &str); 1] = [("staff", "Войти как сотрудник")];
const APPLICANT_LOGIN: [(&str, &str); 2] = [
    ("parent", "Войти как родитель"),
    ("student", "Войти как обучающийся"),
];

/// The sign-in an error page offers, and what it says when the page asked for a login.
fn login_offer(
    view: &mut ErrorView,
    method: &axum::http::Method,
    path_and_query: &str,
) -> (Vec<(&'static str, &'static str)>, String) {
    let path = path_and_query.split('?').next().unwrap_or_default();
    let staff_path = ["/staff", "/admin"]
        .iter()
        .any(|p| path == *p || path.starts_with(&format!("{p}/")));
    // A failed sign-in (ESIA refused, unreachable) is retried in any role, from the start.
    let login_path = path.starts_with("/login/");
    let logins = match view.login {
        LoginOffer::None => return (Vec::new(), String::new()),
        LoginOffer::Staff => STAFF_LOGIN.to_vec(),
        LoginOffer::Applicant => APPLICANT_LOGIN.to_vec(),
        LoginOffer::ForPath if login_path => {
            [APPLICANT_LOGIN.as_slice(), STAFF_LOGIN.as_slice()].concat()
        }
        LoginOffer::ForPath if staff_path => STAFF_LOGIN.to_vec(),
        LoginOffer::ForPath => APPLICANT_LOGIN.to_vec(),
    };
    // A page read by GET is opened again after the login; a form's target is not a page,
    // and the sign-in's own addresses (carrying ESIA's code) never are.
    let next = match view.next {
        Some(next) => next.to_string(),
        None if method == axum::http::Method::GET && !login_path => path_and_query.to_string(),
        None => String::new(),
    };
    if view.login == LoginOffer::ForPath {
        let number = path
            .strip_prefix("/appeals/")
            .or_else(|| path.strip_prefix("/staff/appeals/"))
            .filter(|n| crate::domain::number::AppealNumber::parse(n).is_some());
        if let Some(n) = number.filter(|_| !next.is_empty()) {
            view.message = format!("Чтобы посмотреть обращение № {n}, войдите через Госуслуги.");
        }
    }
    let next = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
    (logins, next)
}

/// Renders the `ErrorView` a handler's `AppError` left in the response: JSON under
/// `/api`, otherwise a page in the site's layout.
async fn render_errors(req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let session = req.extensions().get::<Session>().cloned();
    let method = req.method().clone();
    // Cheap clones (shared bytes): most responses are no error and never read them.
    let uri = req.uri().clone();
    let request_id = req.extensions().get::<RequestId>().cloned();
    let resp = next.run(req).await;
    let status = resp.status();
    let mut view = match resp.extensions().get::<ErrorView>() {
        Some(v) => v.clone(),
        // Errors produced by axum itself (unknown route, bad query, timeout) get a page too.
        None if status.is_client_error() || status.is_server_error() => {
            let own_page = resp
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| !v.starts_with("text/plain"));
            // Pages a handler rendered itself (a refusal, a form with errors, the emulator's
            // JSON errors) stay as they are; axum's plain-text rejections get a page.
            if own_page && status.is_client_error() {
                return resp;
            }
            ErrorView {
                title: if status == StatusCode::NOT_FOUND {
                    "Страница не найдена"
                } else {
                    "Ошибка"
                },
                message: match status {
                    StatusCode::NOT_FOUND => {
                        "Такой страницы нет или у вас нет к ней доступа.".into()
                    }
                    StatusCode::REQUEST_TIMEOUT => {
                        "Сервер не успел ответить. Попробуйте ещё раз.".into()
                    }
                    s if s.is_server_error() => {
                        "Произошла внутренняя ошибка. Попробуйте ещё раз через минуту.".into()
                    }
                    _ => "Запрос не может быть обработан: проверьте адрес и данные формы.".into(),
                },
                login: LoginOffer::None,
                next: None,
            }
        }
        None => return resp,
    };
    let path_and_query = uri.path_and_query().map_or("", |p| p.as_str());
    let request_id = request_id
        .as_ref()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or_default();
    let (mut parts, _) = resp.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let body = if api {
        parts.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        Body::from(serde_json::json!({"error": view.message, "request_id": request_id}).to_string())
    } else {
        let (logins, next) = login_offer(&mut view, &method, path_and_query);
        // The site's header as on any page: signed in or not, with the logout button.
        let layout = match &session {
            Some(s) => Layout::new(s).await.unwrap_or_else(|_| Layout::anonymous()),
            None => Layout::anonymous(),
        };
        match (ErrorPage {
            layout,
            view: &view,
            request_id,
            logins,
            next,
        })
        .render()
        {
            Ok(html) => {
                parts.headers.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                );
                Body::from(html)
            }
            Err(_) => Body::from(view.message),
        }
    };
    Response::from_parts(parts, body)
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

/// The edge of every request, in one layer (each layer costs allocations on every
/// request): the request id for the log, error pages and the response, and the security
/// headers on every response.
async fn edge(
    headers: axum::extract::State<Arc<[(HeaderName, HeaderValue)]>>,
    mut req: Request,
    next: Next,
) -> Response {
    let id = match req.headers().get(&X_REQUEST_ID).filter(|v| well_formed(v)) {
        Some(id) => id.clone(),
        None => {
            let mut buf = uuid::Uuid::encode_buffer();
            let made = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut buf);
            let id = HeaderValue::from_str(made).unwrap_or(HeaderValue::from_static("-"));
            req.headers_mut().insert(X_REQUEST_ID, id.clone());
            id
        }
    };
    req.extensions_mut().insert(RequestId::new(id.clone()));
    let is_static = req.uri().path().starts_with("/static/");
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    for (name, value) in headers.iter() {
        h.insert(name.clone(), value.clone());
    }
    if !is_static {
        // Pages show personal data: no browser or proxy may keep them.
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    h.insert(X_REQUEST_ID, id);
    resp
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../templates/static/app.css"),
    )
}

async fn form_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../templates/static/form.js"),
    )
}

/// The request's log span, and the route template the router matched: `observe` runs
/// before routing (so that it also times the session, the error page, a timeout and a
/// panic), the router's own layer fills this in.
#[derive(Clone)]
struct Routed {
    span: tracing::Span,
    route: Arc<std::sync::OnceLock<MatchedPath>>,
}

/// Per request: the log span (method, route template, request id; never the URI, whose
/// query carries ESIA codes and ids), the latency for `/metrics`, and a log line for a
/// server error.
async fn observe(
    metrics: axum::extract::State<Arc<Metrics>>,
    mut req: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let id = req
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or("");
    let span = tracing::info_span!(
        "http",
        method = %method,
        route = tracing::field::Empty,
        request_id = id
    );
    let routed = Routed {
        span: span.clone(),
        route: Arc::default(),
    };
    req.extensions_mut().insert(routed.clone());
    let resp = next.run(req).instrument(span.clone()).await;
    let took = started.elapsed();
    let status = resp.status();
    let route = routed.route.get().map_or("unmatched", MatchedPath::as_str);
    metrics.request(method.as_str(), route, status.as_u16(), took);
    if status.is_server_error() {
        span.in_scope(|| tracing::error!(status = status.as_u16(), ?took, "request failed"));
    } else {
        span.in_scope(|| tracing::debug!(status = status.as_u16(), ?took, "request done"));
    }
    resp
}

/// On every route: hands the matched template to `observe`.
async fn note_route(route: Option<MatchedPath>, req: Request, next: Next) -> Response {
    if let (Some(routed), Some(route)) = (req.extensions().get::<Routed>(), route) {
        routed.span.record("route", route.as_str());
        let _ = routed.route.set(route);
    }
    next.run(req).await
}

/// A client's `X-Request-Id` is kept only when it looks like one (it goes into the log and
/// onto error pages); otherwise a new one is made.
fn well_formed(id: &HeaderValue) -> bool {
    let id = id.as_bytes();
    (1..=64).contains(&id.len())
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

pub fn wrap(
    app: Router,
    metrics: Arc<Metrics>,
    sessions: DbSessionStore,
    secure: bool,
    idle_minutes: i64,
    timeout: Duration,
    esia_origin: &str,
) -> Router {
    let session_layer = SessionManagerLayer::new(sessions)
        .with_name("appeals_session")
        .with_secure(secure)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_expiry(Expiry::OnInactivity(time::Duration::minutes(idle_minutes)))
        // Every request of a signed-in person extends the idle timeout, not only the ones
        // that change the session: a parent reading a page is not idle.
        .with_always_save(true);
    // Layers on a router wrap each route and are cloned for every request; only what
    // needs the matched route goes there, the rest wraps the router once.
    let app = app
        .route("/static/app.css", axum::routing::get(stylesheet))
        .route("/static/form.js", axum::routing::get(form_script))
        .layer(middleware::from_fn(note_route));
    let stack = ServiceBuilder::new()
        .layer(middleware::from_fn_with_state(
            security_headers(esia_origin, secure),
            edge,
        ))
        .layer(middleware::from_fn_with_state(metrics, observe))
        .layer(session_layer)
        // Inside the session layer: an error page shows the site's header for whoever is
        // signed in.
        .layer(middleware::from_fn(render_errors))
        .layer(CatchPanicLayer::new())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .service(app);
    Router::new().fallback_service(stack)
}

pub fn html(page: impl Template) -> Result<Html<String>, askama::Error> {
    page.render().map(Html)
}
