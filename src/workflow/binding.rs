//! «Привязать учетную запись»: staff issue a one-time code for a roster record, the person
//! enters it after an ESIA login and their account is linked to that record.

use chrono::Utc;

use super::linking::{CODE_LINKED_TEXT, Via, resolve_after_link_logged};
use super::staff::{StaffActor, appeal_in_scope, log_access, placement_in_scope};
use super::{Error, Refusal, Result, Workflow};
use crate::domain::history::{Actor, EventKind};
use crate::domain::names::PersonName;
use crate::domain::number::AppealNumber;
use crate::store::appeals::{self as appeal_store, Event};
use crate::store::roster::{self, Redeemed};

/// How long an issued code works.
const CODE_TTL_HOURS: i64 = 72;

pub struct IssuedCode {
    /// Shown once; only its hash is stored.
    pub code: String,
    pub person: PersonName,
    /// The appeal it was issued from, if any.
    pub number: Option<AppealNumber>,
}

/// A code for a roster person of the actor's scope, optionally from an appeal (whose
/// history then says so).
pub async fn issue(
    wf: &Workflow,
    actor: &StaffActor,
    roster_person_id: i32,
    from_appeal: Option<&AppealNumber>,
) -> Result<IssuedCode> {
    let db = wf.db();
    let person = roster::person(db, roster_person_id)
        .await?
        .ok_or(Error::NotFound)?;
    placement_in_scope(wf, actor, person.organization_id).await?;
    if !person.role.can_be_bound() {
        return Err(Error::NotFound);
    }
    if !roster::linked_oids(db, person.id).await?.is_empty() {
        return Err(Refusal::AlreadyLinked.into());
    }
    let appeal = match from_appeal {
        Some(n) => Some(appeal_in_scope(wf, actor, n).await?.0),
        None => None,
    };
    if appeal
        .as_ref()
        .is_some_and(|a| a.organization_id != person.organization_id)
    {
        return Err(Error::NotFound);
    }
    let now = Utc::now();
    let code =
        roster::issue_binding_code(db, person.id, chrono::Duration::hours(CODE_TTL_HOURS), now)
            .await?;
    if let Some(a) = &appeal {
        log_access(wf, actor, a, "binding_code").await?;
        let event = Event {
            kind: EventKind::BindingCode,
            to: None,
            actor: Actor::Staff,
            actor_staff_id: Some(actor.id()),
            message: Some(format!(
                "Выдан одноразовый код привязки для записи № {} в списке.",
                person.id
            )),
        };
        appeal_store::record_event(db, a.id, None, event, now).await?;
    }
    tracing::info!(
        roster_person_id = person.id,
        staff_id = actor.id(),
        "binding code issued"
    );
    Ok(IssuedCode {
        code,
        person: person.name,
        number: from_appeal.cloned(),
    })
}

/// How many codes an account and a client address may try per hour.
#[derive(Debug, Clone, Copy)]
pub struct AttemptLimits {
    pub per_account: u32,
    pub per_client: u32,
}

/// Spends a code for the signed-in `oid` from `client`: links the account and answers the
/// appeals it filed about that school. A code has about 50 bits; the attempts per account
/// and per address make guessing pointless.
pub async fn redeem(
    wf: &Workflow,
    oid: &str,
    client: &str,
    code: &str,
    limits: AttemptLimits,
) -> Result<()> {
    if code.trim().is_empty() {
        return Err(Refusal::CodeEmpty.into());
    }
    let now = Utc::now();
    let (by_account, by_client) =
        roster::count_link_attempt(wf.db(), oid, client, now, now - chrono::Duration::hours(1))
            .await?;
    if by_account > u64::from(limits.per_account) || by_client > u64::from(limits.per_client) {
        tracing::warn!("binding code attempts over the limit");
        return Err(Refusal::TooManyCodes.into());
    }
    match roster::redeem_binding_code(wf.db(), code, oid, now).await? {
        Redeemed::Linked(person) => {
            resolve_after_link_logged(wf, oid, person.organization_id, CODE_LINKED_TEXT, Via::Code)
                .await;
            Ok(())
        }
        Redeemed::Taken => Err(Refusal::LinkedElsewhere.into()),
        Redeemed::Unknown => Err(Refusal::CodeUnknown.into()),
    }
}
