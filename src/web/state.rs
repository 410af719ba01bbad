//! What every handler shares: the use cases, the settings, the ESIA client, the mail
//! transport (for the development mailbox) and the counters of `/metrics`.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::config::Settings;
use crate::esia::EsiaClient;
use crate::mail::Transport;
use crate::metrics::Metrics;
use crate::workflow::Workflow;

pub struct Inner {
    pub workflow: Workflow,
    pub settings: Settings,
    pub esia: EsiaClient,
    pub transport: Arc<Transport>,
    pub metrics: Arc<Metrics>,
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
