//! The deadline digest (59-ФЗ): every working morning, in the region's time, one e-mail
//! per person — responsible staff and school administrators get their school's appeals
//! due within three working days and those overdue, a municipal operator the overdue ones
//! of its schools. A row per day claims it, so several instances send it once.

use std::collections::{BTreeMap, HashMap};

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
    // Each appeal due with its school's place, once; then each person picks theirs.
    let places: HashMap<i32, (String, i32)> = directory::organizations_in_scope(&txn, Scope::All)
        .await?
        .into_iter()
        .map(|(o, _)| (o.id, (o.name, o.municipality_id)))
        .collect();
    let due: Vec<(i32, i32, bool, DueLine)> = escalation::open_due_by(&txn, d.soon_horizon(now))
        .await?
        .iter()
        .filter_map(|a| {
            let (name, municipality) = places.get(&a.organization_id)?;
            let overdue = a.due_at < now;
            Some((a.organization_id, *municipality, overdue, line(a, name, wf)))
        })
        .collect();
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
        for (org, municipality, overdue, line) in &due {
            let mine = match role {
                StaffRole::Responsible | StaffRole::SchoolAdmin => {
                    record.organization_id == Some(*org)
                }
                StaffRole::MunicipalOperator => {
                    *overdue && record.municipality_id == Some(*municipality)
                }
                StaffRole::RegionalOperator | StaffRole::Admin => false,
            };
            if mine {
                let list = if *overdue {
                    &mut digest.overdue
                } else {
                    &mut digest.soon
                };
                list.insert(line.number.clone(), line.clone());
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
