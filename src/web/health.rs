//! Liveness, readiness (the database answers) and Prometheus metrics.

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
    let (open, idle) = store::pool_usage(state.db());
    let max = state.settings.database.max_connections;
    for (name, help, value) in [
        (
            "outbox_pending",
            "E-mails waiting to be sent.",
            pending as f64,
        ),
        (
            "outbox_dead",
            "E-mails given up after all retries.",
            dead as f64,
        ),
        (
            "db_pool_max",
            "Connections the pool may open.",
            f64::from(max),
        ),
        (
            "db_pool_open",
            "Connections the pool holds now.",
            f64::from(open),
        ),
        (
            "db_pool_in_use",
            "Connections lent out to requests and jobs now.",
            f64::from(open) - idle as f64,
        ),
    ] {
        m.gauge(name, help, value);
    }
    let out = m.render();
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}
