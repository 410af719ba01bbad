//! Staff members: signing in by СНИЛС, the role they act in, their notification setting,
//! and the scope check every staff use case starts with.

use super::{Error, Refusal, Result, Workflow};
use crate::domain::appeal::Appeal;
use crate::domain::applicant::Applicant;
use crate::domain::names::PersonName;
use crate::domain::number::AppealNumber;
use crate::domain::staff::{Scope, StaffRole};
use crate::store::directory::{self, Placement};
use crate::store::entities::staff as staff_entity;
use crate::store::{appeals as appeal_store, staff};

/// A signed-in staff member acting as one staff record, with the scope it grants.
#[derive(Debug, Clone)]
pub struct StaffActor {
    pub staff: staff_entity::Model,
    pub scope: Scope,
}

impl StaffActor {
    pub fn id(&self) -> i32 {
        self.staff.id
    }

    pub fn name(&self) -> String {
        full_name(&self.staff)
    }

    pub fn role_label(&self) -> &'static str {
        role_label(&self.staff)
    }
}

pub fn full_name(s: &staff_entity::Model) -> String {
    PersonName::new(&s.last_name, &s.first_name, &s.middle_name).full()
}

fn role_label(s: &staff_entity::Model) -> &'static str {
    StaffRole::parse(&s.role)
        .map(StaffRole::label)
        .unwrap_or("—")
}

/// Staff have no local passwords: a confirmed ESIA account's СНИЛС finds their records.
pub async fn sign_in(wf: &Workflow, person: &Applicant) -> Result<Vec<i32>> {
    if !person.confirmed {
        return Err(Refusal::StaffUnconfirmed.into());
    }
    let records = match &person.snils {
        Some(snils) => staff::active_by_snils(wf.db(), snils.digits()).await?,
        None => Vec::new(),
    };
    if records.is_empty() {
        return Err(Refusal::NotStaff.into());
    }
    Ok(records.into_iter().map(|r| r.id).collect())
}

/// The record a signed-in person acts as, re-read on every request: a deactivated record
/// loses access at once. `None` when it is gone or inactive.
pub async fn actor(wf: &Workflow, staff_id: i32) -> Result<Option<StaffActor>> {
    let Some(record) = staff::by_id(wf.db(), staff_id).await?.filter(|s| s.active) else {
        return Ok(None);
    };
    let scope = staff::scope(&record).ok_or(Refusal::StaffWithoutUnit)?;
    Ok(Some(StaffActor {
        staff: record,
        scope,
    }))
}

pub struct RoleChoice {
    pub id: i32,
    pub role: &'static str,
    /// The organization or municipality, or «Все организации».
    pub unit: String,
}

/// The roles a person with several staff records chooses between after sign-in.
pub async fn role_choices(wf: &Workflow, records: &[i32]) -> Result<Vec<RoleChoice>> {
    let db = wf.db();
    let mut choices = Vec::new();
    for id in records {
        let Some(record) = staff::by_id(db, *id).await? else {
            continue;
        };
        let unit = match (record.organization_id, record.municipality_id) {
            (Some(o), _) => directory::organization(db, o).await?.map(|o| o.name),
            (None, Some(m)) => directory::municipality(db, m).await?.map(|m| m.name),
            _ => None,
        };
        choices.push(RoleChoice {
            id: record.id,
            role: role_label(&record),
            unit: unit.unwrap_or_else(|| "Все организации".into()),
        });
    }
    Ok(choices)
}

/// Notification preference: an e-mail per new appeal, or an hourly digest.
pub async fn set_notify_digest(wf: &Workflow, actor: &StaffActor, digest: bool) -> Result<()> {
    Ok(staff::set_notify_digest(wf.db(), actor.id(), digest).await?)
}

/// The appeal, if the actor's scope covers its organization; not found otherwise.
pub(super) async fn appeal_in_scope(
    wf: &Workflow,
    actor: &StaffActor,
    number: &AppealNumber,
) -> Result<(Appeal, Placement)> {
    let a = appeal_store::by_number(wf.db(), &number.to_string())
        .await?
        .ok_or(Error::NotFound)?;
    let place = placement_in_scope(wf, actor, a.organization_id).await?;
    Ok((a, place))
}

/// An organization with its place in the hierarchy, if the actor's scope covers it.
pub(super) async fn placement_in_scope(
    wf: &Workflow,
    actor: &StaffActor,
    organization_id: i32,
) -> Result<Placement> {
    let place = directory::placement(wf.db(), organization_id)
        .await?
        .ok_or(Error::NotFound)?;
    if !place.covered_by(actor.scope) {
        return Err(Error::NotFound);
    }
    Ok(place)
}

/// Staff an appeal of `organization` may be assigned to: its responsible staff, and the
/// actor themself (an operator may take it on).
pub(super) async fn colleagues(
    wf: &Workflow,
    actor: &StaffActor,
    organization: Option<i32>,
) -> Result<Vec<staff_entity::Model>> {
    let mut out = match organization {
        Some(o) => staff::responsible_of(wf.db(), o).await?,
        None => Vec::new(),
    };
    if !out.iter().any(|s| s.id == actor.id()) {
        out.push(actor.staff.clone());
    }
    Ok(out)
}

/// 152-ФЗ: who looked at or acted on which appeal's personal data, and when.
pub(super) async fn log_access(
    wf: &Workflow,
    actor: &StaffActor,
    a: &Appeal,
    action: &str,
) -> Result<()> {
    Ok(appeal_store::log_access(wf.db(), a.id, actor.id(), action, chrono::Utc::now()).await?)
}
