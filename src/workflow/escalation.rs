//! The deadline digest (59-ФЗ): every working morning, in the region's time, one e-mail
//! per person — responsible staff and school administrators get their school's appeals
//! due within three working days and those overdue, a municipal operator the overdue ones
//! of its schools. A row per day claims it, so several instances send it once.

use std::collections::BTreeMap;

use chrono::{DateTime, Timelike, Utc};

use super::{Result, Workflow};
use crate::domain::appeal::Appeal;
use crate::domain::staff::{Scope, StaffRole};
use crate::mail::messages::{self, DueLine};
use crate::store::{self, directory, escalation, outbox, staff};

/// What one person is told.
#[derive(Default)]
struct Digest {
    email: String,
    overdue: BTreeMap<String, DueLine>,
    soon: BTreeMap<String, DueLine>,
}

/// Sends the day's digests if it is a working day, `hour` has come in the region, and no
/// instance sent them today. Returns how many e-mails were queued.
pub async fn send_daily(wf: &Workflow, now: DateTime<Utc>, hour: u32) -> Result<usize> {
    let d = wf.deadlines();
    let local = now.with_timezone(&d.offset);
    if local.hour() < hour || !d.calendar.is_working(local.date_naive()) {
        return Ok(0);
    }
    let txn = store::begin_write(wf.db()).await?;
    if !escalation::claim_day(&txn, local.date_naive(), now).await? {
        txn.rollback().await?;
        return Ok(0);
    }
    let due = escalation::open_due_by(&txn, d.soon_horizon(now)).await?;
    let places = directory::organizations_in_scope(&txn, Scope::All).await?;
    let mut digests: BTreeMap<String, Digest> = BTreeMap::new();
    for record in staff::all(&txn).await? {
        if !record.active || record.email.is_empty() {
            continue;
        }
        let Some(role) = StaffRole::parse(&record.role) else {
            continue;
        };
        let digest = digests
            .entry(record.snils.clone())
            .or_insert_with(|| Digest {
                email: record.email.clone(),
                ..Digest::default()
            });
        for a in &due {
            let Some((org, _)) = places.iter().find(|(o, _)| o.id == a.organization_id) else {
                continue;
            };
            let overdue = a.due_at < now;
            let mine = match role {
                StaffRole::Responsible | StaffRole::SchoolAdmin => {
                    record.organization_id == Some(org.id)
                }
                StaffRole::MunicipalOperator => {
                    overdue && record.municipality_id == Some(org.municipality_id)
                }
                StaffRole::RegionalOperator | StaffRole::Admin => false,
            };
            if mine {
                let line = line(a, &org.name, wf);
                let list = if overdue {
                    &mut digest.overdue
                } else {
                    &mut digest.soon
                };
                list.insert(a.number.clone(), line);
            }
        }
    }
    let mut queued = 0;
    for digest in digests.into_values() {
        if digest.overdue.is_empty() && digest.soon.is_empty() {
            continue;
        }
        let overdue: Vec<DueLine> = digest.overdue.into_values().collect();
        let soon: Vec<DueLine> = digest.soon.into_values().collect();
        let mail = messages::staff_deadlines(&digest.email, &overdue, &soon, wf.public_url())?;
        outbox::enqueue(&txn, mail, now).await?;
        queued += 1;
    }
    txn.commit().await?;
    Ok(queued)
}

fn line(a: &Appeal, organization: &str, wf: &Workflow) -> DueLine {
    DueLine {
        number: a.number.clone(),
        organization: organization.to_string(),
        due: a
            .due_at
            .with_timezone(&wf.offset())
            .format("%d.%m.%Y")
            .to_string(),
    }
}
