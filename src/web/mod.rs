//! HTTP: routers by feature, extractors, CSRF, errors rendered as pages.

mod account;
mod actions;
mod api;
mod appeals;
mod auth;
mod csrf;
mod dev;
mod entry;
pub mod error;
mod health;
mod security;
mod session;
mod staff;
mod templates;

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use axum::Router;
use chrono::FixedOffset;
use sea_orm::DatabaseConnection;

use crate::config::Settings;
use crate::esia::EsiaClient;
use crate::mail::Transport;
use crate::store::appeals::Numbering;

#[derive(Default)]
pub struct Metrics {
    pub appeals_submitted: AtomicU64,
    pub logins_succeeded: AtomicU64,
    pub logins_failed: AtomicU64,
}

pub struct Inner {
    pub db: DatabaseConnection,
    pub settings: Settings,
    pub esia: EsiaClient,
    pub numbering: Numbering,
    pub transport: Arc<Transport>,
    pub public_url: String,
    pub offset: FixedOffset,
    pub metrics: Metrics,
}

#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl Inner {
    pub fn today(&self) -> chrono::NaiveDate {
        chrono::Utc::now().with_timezone(&self.offset).date_naive()
    }
}

/// The whole site; `emulator` is the ESIA emulator's router when it is enabled.
pub fn router(state: AppState, emulator: Option<Router>) -> Router {
    let esia_origin = state.esia.origin();
    let secure = state.settings.session.secure_cookie;
    let idle = state.settings.session.idle_timeout_minutes;
    let timeout = std::time::Duration::from_secs(state.settings.server.request_timeout_secs);
    let sessions = crate::store::sessions::DbSessionStore::new(state.db.clone());
    let mut app = Router::new()
        .merge(entry::router())
        .merge(auth::router())
        .merge(account::router())
        .merge(appeals::router())
        .merge(api::router())
        .merge(health::router())
        .merge(staff::router());
    if state.transport.mailbox_dir().is_some() {
        app = app.merge(dev::router());
    }
    let mut app = app.with_state(state);
    if let Some(emulator) = emulator {
        app = app.nest(crate::EMULATOR_PREFIX, emulator);
    }
    security::wrap(app, sessions, secure, idle, timeout, &esia_origin)
}
