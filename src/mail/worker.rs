//! Delivers outbox rows: lease as many as there are free slots, send them side by side on
//! connections of their own (one silent SMTP server holds one slot, not the queue), then
//! mark those that went out sent together, retry the others later (exponential backoff
//! with jitter) or mark them dead after `max_attempts`. A dead message stays in the table for
//! operators; nothing is dropped silently. A lease lasts about one send, so rows of a
//! crashed worker come back in seconds; on shutdown the worker stops claiming, lets the
//! sends in flight finish for a bounded time and hands back the rest.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use lettre::message::Mailbox;
use sea_orm::DatabaseConnection;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::metrics::Metrics;
use crate::store::entities::outbox::Model as OutboxRow;

/// A finished send: the row and how it went.
type Sent = (OutboxRow, Result<(), SendError>);

use super::transport::{SendError, Transport};
use crate::config::MailSettings;
use crate::store::{outbox, sessions::DbSessionStore};
use crate::workflow::{self, Workflow};

/// Messages sent at once, each on its own SMTP connection. It also bounds the rows leased
/// and not yet written down (sending or sent, unrecorded): a crash can send at most this
/// many messages a second time. (Results the database refused for good, and a send task
/// that panicked, free their slot with the row still leased: those messages go out again
/// when the lease runs out, beyond this bound.)
pub const CONCURRENCY: usize = 16;
/// Slots are refilled once this many are free (or none is busy, or a poll interval
/// passed): one claim then leases several rows instead of one row a statement.
const REFILL_AT: usize = CONCURRENCY / 2;
/// Finished sends are written down in groups of `REFILL_AT`, when none is left running,
/// or this long after the first of a group finished: with a server that answers at once
/// an UPDATE per message would cost more than the sending.
const RECORD_WITHIN: Duration = Duration::from_millis(20);
/// What a lease covers beyond one send's timeout: the bookkeeping around it.
const LEASE_MARGIN_SECS: i64 = 15;

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
    retry_first: u64,
    poll: Duration,
    shutdown_grace: Duration,
    deadline_digest_hour: u32,
    metrics: Arc<Metrics>,
}

/// Delay before attempt `attempt + 1`: `first` seconds (30 by default) doubling to at most
/// 1 h, plus up to 25 % jitter so a recovering SMTP server is not hit by every instance at
/// once.
pub fn backoff(first: u64, attempt: i32, jitter_fraction: f64) -> chrono::Duration {
    let base = i64::try_from(first)
        .unwrap_or(3600)
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
        metrics: Arc<Metrics>,
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
            retry_first: s.retry_first_secs,
            poll: Duration::from_millis(s.poll_interval_ms),
            shutdown_grace: Duration::from_secs(s.shutdown_grace_secs),
            deadline_digest_hour: s.deadline_digest_hour,
            metrics,
        })
    }

    /// One pass over the due messages; tests call it instead of waiting for the loop.
    pub async fn drain_once(&self) -> Result<DrainStats, sea_orm::DbErr> {
        let (_keep, never) = watch::channel(false);
        self.drain(never).await
    }

    /// Sends due messages until none is left, or until `stop` flips: then it takes no
    /// more, waits for the sends in flight up to the shutdown grace and hands back the
    /// rows still unsent. Slots are filled as they free up, each row leased for one send;
    /// the results are written down together (a crash before that sends a message twice
    /// when its lease runs out, never loses it).
    async fn drain(&self, mut stop: watch::Receiver<bool>) -> Result<DrainStats, sea_orm::DbErr> {
        let mut stats = DrainStats::default();
        let mut sending: JoinSet<Sent> = JoinSet::new();
        let mut in_flight: Vec<i64> = Vec::new();
        let lease =
            chrono::Duration::seconds(self.send_timeout.as_secs() as i64 + LEASE_MARGIN_SECS);
        let mut polled = true;
        let mut unrecorded: Vec<Sent> = Vec::new();
        let mut record_by: Option<tokio::time::Instant> = None;
        loop {
            if *stop.borrow() {
                self.record(&unrecorded, &mut stats).await;
                return self.finish(sending, in_flight, stats).await;
            }
            // Finished but unrecorded sends hold their slot until written down, so a crash
            // never catches more than `CONCURRENCY` messages sent and not marked.
            let free = CONCURRENCY.saturating_sub(sending.len() + unrecorded.len());
            if free >= REFILL_AT || (free > 0 && (sending.is_empty() || polled)) {
                let now = Utc::now();
                // A database hiccup must not drop the sends in flight: they finish and are
                // recorded; only with none running does the pass end with the error.
                let claimed = match outbox::claim_due(&self.db, now, now + lease, free as u64).await
                {
                    Ok(rows) => rows,
                    Err(e) if sending.is_empty() => return Err(e),
                    Err(e) => {
                        tracing::error!(error = %e, "claiming mail failed");
                        Vec::new()
                    }
                };
                for row in claimed {
                    in_flight.push(row.id);
                    let (transport, from, timeout, metrics) = (
                        self.transport.clone(),
                        self.from.clone(),
                        self.send_timeout,
                        self.metrics.clone(),
                    );
                    sending.spawn(async move {
                        let started = std::time::Instant::now();
                        let result = transport.send(&row, &from, timeout).await;
                        metrics.mail_send(result.is_ok(), started.elapsed());
                        (row, result)
                    });
                }
            }
            if sending.is_empty() {
                return Ok(stats);
            }
            // A free slot looks for new mail every poll interval, so messages queued while
            // a send hangs go out beside it instead of waiting for it.
            let slot_free = sending.len() + unrecorded.len() < CONCURRENCY;
            let mut done = Vec::new();
            polled = false;
            let record_at = record_by.unwrap_or_else(tokio::time::Instant::now);
            tokio::select! {
                first = sending.join_next() => done.extend(first.and_then(Result::ok)),
                _ = tokio::time::sleep(self.poll), if slot_free => polled = true,
                _ = tokio::time::sleep_until(record_at), if record_by.is_some() => {}
                _ = stop.changed() => {}
            }
            while let Some(next) = sending.try_join_next() {
                done.extend(next.ok());
            }
            in_flight.retain(|id| !done.iter().any(|(row, _)| row.id == *id));
            if !done.is_empty() && record_by.is_none() {
                record_by = Some(tokio::time::Instant::now() + RECORD_WITHIN);
            }
            unrecorded.append(&mut done);
            if unrecorded.len() >= REFILL_AT
                || sending.is_empty()
                || record_by.is_some_and(|at| at <= tokio::time::Instant::now())
            {
                self.record(&unrecorded, &mut stats).await;
                unrecorded.clear();
                record_by = None;
            }
        }
    }

    /// Shutdown: the sends in flight get `shutdown_grace`; the rows of those still running
    /// then go back to the queue for the next start (or another instance).
    async fn finish(
        &self,
        mut sending: JoinSet<Sent>,
        mut in_flight: Vec<i64>,
        mut stats: DrainStats,
    ) -> Result<DrainStats, sea_orm::DbErr> {
        let deadline = tokio::time::Instant::now() + self.shutdown_grace;
        while let Ok(Some(done)) = tokio::time::timeout_at(deadline, sending.join_next()).await {
            if let Ok(sent) = done {
                in_flight.retain(|id| *id != sent.0.id);
                self.record(&[sent], &mut stats).await;
            }
        }
        sending.abort_all();
        if !in_flight.is_empty() {
            outbox::release(&self.db, &in_flight).await?;
            tracing::warn!(
                released = in_flight.len(),
                "unsent mail handed back at shutdown"
            );
        }
        Ok(stats)
    }

    /// Writes down how the sends went, trying again for a few seconds when the database
    /// connection was lost (the pool gives a fresh one). If the database still refuses,
    /// the rows keep their lease and come back when it runs out (a second delivery rather
    /// than a lost message).
    async fn record(&self, done: &[Sent], stats: &mut DrainStats) {
        if done.is_empty() {
            return;
        }
        let mut pause = Duration::from_millis(200);
        loop {
            let mut counted = DrainStats::default();
            match self.try_record(done, &mut counted).await {
                Ok(()) => {
                    stats.sent += counted.sent;
                    stats.retried += counted.retried;
                    stats.dead += counted.dead;
                    return;
                }
                Err(e)
                    if crate::store::is_connection_lost(&e) && pause < Duration::from_secs(4) =>
                {
                    tracing::warn!(
                        mails = done.len(),
                        "mail results not recorded yet, retrying"
                    );
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                }
                Err(e) => {
                    tracing::error!(mails = done.len(), error = %e, "mail results not recorded");
                    return;
                }
            }
        }
    }

    async fn try_record(
        &self,
        done: &[Sent],
        stats: &mut DrainStats,
    ) -> Result<(), sea_orm::DbErr> {
        let sent: Vec<i64> = done
            .iter()
            .filter(|(_, result)| result.is_ok())
            .map(|(row, _)| row.id)
            .collect();
        outbox::mark_sent(&self.db, &sent, Utc::now()).await?;
        for id in &sent {
            tracing::debug!(outbox_id = id, "mail sent");
        }
        if let (Some(first), Some(last)) = (sent.first(), sent.last()) {
            tracing::info!(
                mails = sent.len(),
                first_id = first,
                last_id = last,
                "mail sent"
            );
        }
        stats.sent += sent.len();
        for (row, result) in done {
            let Err(err) = result else { continue };
            let permanent = matches!(err, SendError::Permanent(_));
            let retry_at = (!permanent && row.attempts < self.max_attempts).then(|| {
                Utc::now() + backoff(self.retry_first, row.attempts, rand::random::<f64>())
            });
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
                tracing::error!(outbox_id = row.id, attempts = row.attempts, "mail is dead");
                stats.dead += 1;
            }
        }
        Ok(())
    }

    /// The staff digests that are due (see `workflow::notices::queue_digests`).
    pub async fn queue_digests(&self, now: chrono::DateTime<Utc>) -> workflow::Result<usize> {
        workflow::notices::queue_digests(&self.workflow, now).await
    }

    /// Runs until `shutdown` flips, also sweeping expired sessions and form tokens.
    pub async fn run(self, sessions: DbSessionStore, mut shutdown: watch::Receiver<bool>) {
        let mut sweeps = 0u32;
        loop {
            if let Err(e) = self.drain(shutdown.clone()).await {
                tracing::error!(error = %e, "outbox pass failed");
            }
            if *shutdown.borrow() {
                return;
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
                let daily = workflow::escalation::send_daily(
                    &self.workflow,
                    now,
                    self.deadline_digest_hour,
                );
                if let Err(e) = daily.await {
                    tracing::error!(error = %e, "deadline digest failed");
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
        assert_eq!(backoff(30, 1, 0.0).num_seconds(), 30);
        assert_eq!(backoff(30, 2, 0.0).num_seconds(), 60);
        assert_eq!(backoff(30, 5, 0.0).num_seconds(), 480);
        assert_eq!(backoff(30, 12, 0.0).num_seconds(), 3600);
    }

    #[test]
    fn jitter_adds_at_most_a_quarter() {
        assert_eq!(backoff(30, 1, 1.0).num_seconds(), 37);
        assert!(backoff(30, 3, 0.5).num_seconds() > 120);
    }
}
