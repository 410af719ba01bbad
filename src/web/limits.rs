//! Per-client rate limits (governor, keyed by the peer address): sign-in, which costs a
//! signed request to ESIA and a session row, and form posts. Over the limit a person gets
//! «Слишком много запросов» with `Retry-After`. Attempts at binding codes are counted in the
//! database instead (see `workflow::binding`), so every instance sees them.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::Method;
use axum::response::IntoResponse;
use governor::middleware::NoOpMiddleware;
use tower_governor::GovernorError;
use tower_governor::GovernorLayer;
use tower_governor::governor::{GovernorConfig, GovernorConfigBuilder};
use tower_governor::key_extractor::PeerIpKeyExtractor;

use super::error::AppError;

pub type Limit = GovernorLayer<PeerIpKeyExtractor, NoOpMiddleware, Body>;

/// `per_minute` requests at once per client address, refilled evenly over a minute;
/// `methods` narrows it (form posts only).
pub fn per_minute(per_minute: u32, methods: Option<Vec<Method>>) -> Limit {
    let mut builder = GovernorConfigBuilder::default();
    builder
        .period(Duration::from_millis(60_000 / u64::from(per_minute.max(1))))
        .burst_size(per_minute.max(1));
    if let Some(m) = methods {
        builder.methods(m);
    }
    let config: Arc<GovernorConfig<PeerIpKeyExtractor, NoOpMiddleware>> =
        Arc::new(builder.finish().unwrap_or_default());
    forget_idle_clients(&config);
    GovernorLayer::new(config).error_handler(refused)
}

/// The limiter keeps a little state per address: drop the addresses that went quiet.
fn forget_idle_clients(config: &Arc<GovernorConfig<PeerIpKeyExtractor, NoOpMiddleware>>) {
    let limiter = config.limiter().clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            limiter.retain_recent();
        }
    });
}

fn refused(e: GovernorError) -> axum::response::Response {
    match e {
        GovernorError::TooManyRequests { wait_time, .. } => AppError::TooManyRequests {
            retry_after: wait_time.max(1),
        }
        .into_response(),
        other => AppError::Unexpected(anyhow::anyhow!("rate limiter: {other}")).into_response(),
    }
}
