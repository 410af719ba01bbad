//! Mail that did not go out: the administrator sees dead and long-pending messages with
//! their errors and puts dead ones back in the queue. Each re-queue is written to the
//! appeal's history (and to the log for mail that belongs to no appeal).

use chrono::Utc;

use super::staff::StaffActor;
use super::{Error, Result, Workflow};
use crate::domain::history::{Actor, EventKind};
use crate::domain::staff::Scope;
use crate::store::appeals::{self as appeal_store, Event};
use crate::store::entities::outbox::Model as OutboxRow;
use crate::store::outbox;

/// Pending longer than this is stuck.
const STUCK_AFTER_HOURS: i64 = 1;
const SHOWN: u64 = 200;

/// Only an administrator (all organizations) handles the queue: the messages carry every
/// school's applicants.
fn ensure_admin(actor: &StaffActor) -> Result<()> {
    match actor.scope {
        Scope::All => Ok(()),
        _ => Err(Error::NotFound),
    }
}

pub async fn troubled(wf: &Workflow, actor: &StaffActor) -> Result<Vec<OutboxRow>> {
    ensure_admin(actor)?;
    let stuck_before = Utc::now() - chrono::Duration::hours(STUCK_AFTER_HOURS);
    Ok(outbox::troubled(wf.db(), stuck_before, SHOWN).await?)
}

/// Re-queues one dead message, or all of them; returns how many.
pub async fn requeue(wf: &Workflow, actor: &StaffActor, id: Option<i64>) -> Result<usize> {
    ensure_admin(actor)?;
    let now = Utc::now();
    let ids = id.map(|i| vec![i]);
    let rows = outbox::requeue(wf.db(), ids.as_deref(), now).await?;
    for row in &rows {
        tracing::info!(
            outbox_id = row.id,
            staff_id = actor.id(),
            "dead mail re-queued"
        );
        if let Some(appeal_id) = row.appeal_id {
            let event = Event {
                kind: EventKind::Note,
                to: None,
                actor: Actor::Staff,
                actor_staff_id: Some(actor.id()),
                message: Some(format!(
                    "Неотправленное письмо «{}» поставлено в очередь повторно.",
                    row.subject
                )),
            };
            appeal_store::record_event(wf.db(), appeal_id, None, event, now).await?;
        }
    }
    Ok(rows.len())
}
