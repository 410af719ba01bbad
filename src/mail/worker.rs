//! Delivers outbox rows: lease a batch, send each with a timeout, then mark it sent, retry
//! it later (exponential backoff with jitter) or mark it dead after `max_attempts`. A
//! dead message stays in the table for operators; nothing is dropped silently.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use lettre::message::Mailbox;
use sea_orm::DatabaseConnection;
use tokio::sync::watch;

use super::transport::{SendError, Transport};
use crate::config::MailSettings;
use crate::store::{outbox, sessions::DbSessionStore};
use crate::workflow::{self, Workflow};

const BATCH: u64 = 20;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct DrainStats {
    pub sent: usize,
    pub retried: usize,
    pub dead: usize,
}

pub struct Worker {
    db: DatabaseConnection,
    workflow: Workflow,
    transport: Arc<Transport>,
    from: Mailbox,
    send_timeout: Duration,
    max_attempts: i32,
    poll: Duration,
}

/// Delay before attempt `attempt + 1`: 30 s doubling to at most 1 h, plus up to 25 %
/// jitter so a recovering SMTP server is not hit by every instance at once.
pub fn backoff(attempt: i32, jitter_fraction: f64) -> chrono::Duration {
    let base = 30i64
        .saturating_mul(1i64 << (attempt.clamp(1, 20) - 1))
        .min(3600);
    let jitter = (base as f64 * 0.25 * jitter_fraction.clamp(0.0, 1.0)) as i64;
    chrono::Duration::seconds(base + jitter)
}

impl Worker {
    pub fn new(
        workflow: Workflow,
        transport: Arc<Transport>,
        s: &MailSettings,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            db: workflow.db().clone(),
            workflow,
            transport,
            from: s
                .from
                .parse()
                .map_err(|e| anyhow::anyhow!("mail.from: {e}"))?,
            send_timeout: Duration::from_secs(s.send_timeout_secs),
            max_attempts: s.max_attempts,
            poll: Duration::from_millis(s.poll_interval_ms),
        })
    }

    /// One pass over the due messages; tests call it instead of waiting for the loop.
    pub async fn drain_once(&self) -> Result<DrainStats, sea_orm::DbErr> {
        let mut stats = DrainStats::default();
        loop {
            let now = Utc::now();
            // The lease covers every send of the batch timing out, so no other instance
            // can claim a row this one is still working through.
            let lease =
                chrono::Duration::seconds(BATCH as i64 * self.send_timeout.as_secs() as i64 + 60);
            let batch = outbox::claim_due(&self.db, now, now + lease, BATCH).await?;
            if batch.is_empty() {
                return Ok(stats);
            }
            for row in batch {
                match self
                    .transport
                    .send(&row, &self.from, self.send_timeout)
                    .await
                {
                    Ok(()) => {
                        outbox::mark_sent(&self.db, row.id, Utc::now()).await?;
                        tracing::info!(outbox_id = row.id, kind = %row.kind, "mail sent");
                        stats.sent += 1;
                    }
                    Err(err) => {
                        let permanent = matches!(err, SendError::Permanent(_));
                        let retry_at = (!permanent && row.attempts < self.max_attempts)
                            .then(|| Utc::now() + backoff(row.attempts, rand::random::<f64>()));
                        outbox::mark_failed(&self.db, row.id, &err.to_string(), retry_at).await?;
                        // The error text can name the recipient: only the id goes to the log.
                        if retry_at.is_some() {
                            tracing::warn!(
                                outbox_id = row.id,
                                attempts = row.attempts,
                                "mail send failed, will retry"
                            );
                            stats.retried += 1;
                        } else {
                            tracing::error!(
                                outbox_id = row.id,
                                attempts = row.attempts,
                                "mail is dead"
                            );
                            stats.dead += 1;
                        }
                    }
                }
            }
        }
    }

    /// The staff digests that are due (see `workflow::notices::queue_digests`).
    pub async fn queue_digests(&self, now: chrono::DateTime<Utc>) -> workflow::Result<usize> {
        workflow::notices::queue_digests(&self.workflow, now).await
    }

    /// Runs until `shutdown` flips, also sweeping expired sessions and form tokens.
    pub async fn run(self, sessions: DbSessionStore, mut shutdown: watch::Receiver<bool>) {
        let mut sweeps = 0u32;
        loop {
            if let Err(e) = self.drain_once().await {
                tracing::error!(error = %e, "outbox pass failed");
            }
            sweeps = sweeps.wrapping_add(1);
            if sweeps % 60 == 1 {
                let now = Utc::now();
                if let Err(e) = sessions.delete_expired(now).await {
                    tracing::warn!(error = %e, "session sweep failed");
                }
                if let Err(e) = self.queue_digests(now).await {
                    tracing::error!(error = %e, "staff digests failed");
                }
                let day_ago = now - chrono::Duration::days(1);
                if let Err(e) =
                    crate::store::appeals::delete_submission_tokens_before(&self.db, day_ago).await
                {
                    tracing::warn!(error = %e, "form token sweep failed");
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(self.poll) => {}
                _ = shutdown.changed() => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff(1, 0.0).num_seconds(), 30);
        assert_eq!(backoff(2, 0.0).num_seconds(), 60);
        assert_eq!(backoff(5, 0.0).num_seconds(), 480);
        assert_eq!(backoff(12, 0.0).num_seconds(), 3600);
    }

    #[test]
    fn jitter_adds_at_most_a_quarter() {
        assert_eq!(backoff(1, 1.0).num_seconds(), 37);
        assert!(backoff(3, 0.5).num_seconds() > 120);
    }
}
