//! HTTP: routers by feature, extractors, CSRF, errors rendered as pages.

mod account;
mod admin;
mod api;
mod appeals;
mod auth;
mod csrf;
mod dev;
mod edge;
mod entry;
pub mod error;
mod health;
mod limits;
mod security;
mod session;
mod staff;
pub mod state;
mod status;
mod templates;

use axum::Router;

pub use state::{AppState, Inner};

/// Where ESIA sends the browser back after sign-in.
pub const CALLBACK_PATH: &str = "/login/esia/callback";
/// Where the built-in ESIA emulator is mounted when it is enabled.
pub const EMULATOR_PREFIX: &str = "/esia-emulator";

/// The whole site; `emulator` is the ESIA emulator's router when it is enabled.
pub fn router(state: AppState, emulator: Option<Router>) -> Router {
    let esia_origin = state.esia.origin();
    let secure = state.settings.session.secure_cookie;
    let idle = state.settings.session.idle_timeout_minutes;
    let timeout = std::time::Duration::from_secs(state.settings.server.request_timeout_secs);
    let sessions = crate::store::sessions::DbSessionStore::new(state.db().clone());
    let metrics = state.metrics.clone();
    let l = &state.settings.limits;
    let upload_max = state.settings.import.upload_max_mb * 1024 * 1024;
    let sign_in = limits::per_minute(l.sign_in_per_minute, None);
    let forms = limits::per_minute(l.forms_per_minute, Some(vec![axum::http::Method::POST]));
    let mut app = Router::new()
        .merge(entry::router())
        .merge(auth::router().route_layer(sign_in))
        .merge(account::router().route_layer(forms.clone()))
        .merge(appeals::router().route_layer(forms.clone()))
        .merge(api::router())
        .merge(health::router())
        .merge(status::router())
        .merge(staff::router().route_layer(forms.clone()))
        .merge(admin::router(upload_max).route_layer(forms));
    if state.transport.mailbox_dir().is_some() {
        app = app.merge(dev::router());
    }
    let mut app = app.with_state(state);
    if let Some(emulator) = emulator {
        app = app.nest(EMULATOR_PREFIX, emulator);
    }
    security::wrap(app, metrics, sessions, secure, idle, timeout, &esia_origin)
}
