//! What every handler shares: the use cases, the settings, the ESIA client, the mail
//! transport (for the development mailbox) and the counters of `/metrics`.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use sea_orm::DatabaseConnection;

use crate::config::Settings;
use crate::esia::EsiaClient;
use crate::mail::Transport;
use crate::workflow::Workflow;

#[derive(Default)]
pub struct Metrics {
    pub appeals_submitted: AtomicU64,
    pub logins_succeeded: AtomicU64,
    pub logins_failed: AtomicU64,
    /// Every statement sent to the database, counted by the connection's metric callback.
    pub db_queries: Arc<AtomicU64>,
}

pub struct Inner {
    pub workflow: Workflow,
    pub settings: Settings,
    pub esia: EsiaClient,
    pub transport: Arc<Transport>,
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
    pub fn db(&self) -> &DatabaseConnection {
        self.workflow.db()
    }

    pub fn public_url(&self) -> &str {
        self.workflow.public_url()
    }
}
