//! Liveness, readiness (the database answers) and Prometheus metrics.

use std::fmt::Write;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

use super::AppState;
use super::error::{AppError, AppResult};
use crate::store::{self, outbox};

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match store::ready(state.db()).await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::error!(error = %e, "database not reachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

async fn metrics(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> AppResult<impl IntoResponse> {
    let token = state.settings.server.metrics_token.expose();
    if !token.is_empty() {
        let sent = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !bool::from(subtle::ConstantTimeEq::ct_eq(
            sent.as_bytes(),
            token.as_bytes(),
        )) {
            return Err(AppError::Forbidden(
                "Метрики доступны только с токеном мониторинга.".into(),
            ));
        }
    }
    let m = &state.metrics;
    let pending = outbox::count_by_status(state.db(), outbox::PENDING).await?;
    let dead = outbox::count_by_status(state.db(), outbox::DEAD).await?;
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, value: u64| {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
        );
    };
    metric(
        "appeals_submitted_total",
        "counter",
        "Appeals registered by this instance.",
        m.appeals_submitted.load(Ordering::Relaxed),
    );
    metric(
        "esia_logins_succeeded_total",
        "counter",
        "ESIA callbacks that signed someone in.",
        m.logins_succeeded.load(Ordering::Relaxed),
    );
    metric(
        "esia_logins_failed_total",
        "counter",
        "ESIA callbacks that failed.",
        m.logins_failed.load(Ordering::Relaxed),
    );
    metric(
        "db_queries_total",
        "counter",
        "Statements sent to the database by this instance.",
        m.db_queries.load(Ordering::Relaxed),
    );
    metric(
        "outbox_pending",
        "gauge",
        "E-mails waiting to be sent.",
        pending,
    );
    metric(
        "outbox_dead",
        "gauge",
        "E-mails given up after all retries.",
        dead,
    );
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}
