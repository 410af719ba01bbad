//! The middleware stack: request ids, tracing without personal data, sessions, security
//! headers, request timeout, panic containment, and error pages.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use askama::Template;
use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use pin_project_lite::pin_project;
use tower::{Layer, Service, ServiceBuilder};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use super::edge::{EdgeLayer, NoteRouteLayer, Seen};
use super::error::{ErrorView, LoginOffer};
use super::templates::Layout;
use crate::metrics::Metrics;
use crate::store::sessions::DbSessionStore;
use tower_sessions::Session;

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

/// What an error page needs from the request, taken before the handler consumes it:
/// cheap clones (shared bytes), since most responses are no error and never read them.
struct Asked {
    api: bool,
    session: Option<Session>,
    method: Method,
    uri: Uri,
    request_id: Option<HeaderValue>,
}

impl Asked {
    fn of(req: &Request) -> Self {
        Self {
            api: req.uri().path().starts_with("/api/"),
            session: req.extensions().get::<Session>().cloned(),
            method: req.method().clone(),
            uri: req.uri().clone(),
            request_id: req.extensions().get::<Seen>().map(|seen| seen.id.clone()),
        }
    }
}

/// The error this response is to show: the `ErrorView` a handler's `AppError` left in
/// it, or one for an error axum produced itself (unknown route, bad query, timeout).
fn error_view(resp: &Response) -> Option<ErrorView> {
    let status = resp.status();
    if let Some(v) = resp.extensions().get::<ErrorView>() {
        return Some(v.clone());
    }
    if !(status.is_client_error() || status.is_server_error()) {
        return None;
    }
    let own_page = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| !v.starts_with("text/plain"));
    // Pages a handler rendered itself (a refusal, a form with errors, the emulator's JSON
    // errors) stay as they are; axum's plain-text rejections get a page.
    if own_page && status.is_client_error() {
        return None;
    }
    Some(ErrorView {
        title: if status == StatusCode::NOT_FOUND {
            "Страница не найдена"
        } else {
            "Ошибка"
        },
        message: match status {
            StatusCode::NOT_FOUND => "Такой страницы нет или у вас нет к ней доступа.".into(),
            StatusCode::REQUEST_TIMEOUT => "Сервер не успел ответить. Попробуйте ещё раз.".into(),
            s if s.is_server_error() => {
                "Произошла внутренняя ошибка. Попробуйте ещё раз через минуту.".into()
            }
            _ => "Запрос не может быть обработан: проверьте адрес и данные формы.".into(),
        },
        login: LoginOffer::None,
        next: None,
    })
}

/// The error as JSON under `/api`, otherwise as a page in the site's layout.
async fn error_page(asked: Asked, resp: Response, mut view: ErrorView) -> Response {
    let path_and_query = asked.uri.path_and_query().map_or("", |p| p.as_str());
    let request_id = asked
        .request_id
        .as_ref()
        .and_then(|id| id.to_str().ok())
        .unwrap_or_default();
    let (mut parts, _) = resp.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let body = if asked.api {
        parts.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        Body::from(serde_json::json!({"error": view.message, "request_id": request_id}).to_string())
    } else {
        let (logins, next) = login_offer(&mut view, &asked.method, path_and_query);
        // The site's header as on any page: signed in or not, with the logout button.
        let layout = match &asked.session {
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

/// Turns error responses into error pages (see [`error_view`]). A plain service, not
/// `middleware::from_fn`: a response that is no error passes through without a boxed
/// future; only an error page is rendered in one.
#[derive(Clone)]
struct ErrorPagesLayer;

impl<S> Layer<S> for ErrorPagesLayer {
    type Service = ErrorPages<S>;

    fn layer(&self, inner: S) -> ErrorPages<S> {
        ErrorPages(inner)
    }
}

#[derive(Clone)]
struct ErrorPages<S>(S);

impl<S> Service<Request> for ErrorPages<S>
where
    S: Service<Request>,
    S::Response: IntoResponse,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Paged<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let asked = Some(Asked::of(&req));
        Paged::Handling {
            inner: self.0.call(req),
            asked,
        }
    }
}

pin_project! {
    #[project = PagedProj]
    enum Paged<F> {
        Handling { #[pin] inner: F, asked: Option<Asked> },
        Rendering { page: Pin<Box<dyn Future<Output = Response> + Send>> },
    }
}

impl<F, R, E> Future for Paged<F>
where
    F: Future<Output = Result<R, E>>,
    R: IntoResponse,
{
    type Output = Result<Response, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            match self.as_mut().project() {
                PagedProj::Handling { inner, asked } => {
                    let resp = ready!(inner.poll(cx))?.into_response();
                    let (Some(view), Some(asked)) = (error_view(&resp), asked.take()) else {
                        return Poll::Ready(Ok(resp));
                    };
                    self.set(Paged::Rendering {
                        page: Box::pin(error_page(asked, resp, view)),
                    });
                }
                PagedProj::Rendering { page } => return page.as_mut().poll(cx).map(Ok),
            }
        }
    }
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
        .layer(NoteRouteLayer(metrics.clone()));
    let stack = ServiceBuilder::new()
        .layer(EdgeLayer::new(metrics, esia_origin, secure))
        .layer(session_layer)
        // Inside the session layer: an error page shows the site's header for whoever is
        // signed in.
        .layer(ErrorPagesLayer)
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
