//! Linking an ESIA account to a school's roster, which is what an appeal is for: by itself
//! at login, by staff from an appeal (fix the record, or add the applicant), and the
//! resolution of the appeals the link answered.

use chrono::Utc;

use super::change::{Action, perform};
use super::staff::{StaffActor, appeal_in_scope, log_access};
use super::{Error, Refusal, Result, Workflow, check_version};
use crate::domain::appeal::Appeal;
use crate::domain::applicant::Applicant;
use crate::domain::matching;
use crate::domain::number::AppealNumber;
use crate::domain::roster::RosterRole;
use crate::domain::status::Status;
use crate::store::appeals::{self as appeal_store, RosterChange, StudentRecord};
use crate::store::directory;
use crate::store::roster::{self, NewPerson};

/// Standard resolution when staff fix the roster and link the account (seed 003).
pub const LINKED_TEXT: &str = "Данные в системе исправлены, учётная запись Госуслуг связана с вашей учётной записью в системе. Войдите снова через Госуслуги.";
/// Said when a login links the applicant by itself.
pub const AUTO_LINKED_TEXT: &str = "Учётная запись Госуслуг связана с вашими данными в системе при входе. Обращение закрыто автоматически.";
/// Said when the applicant links with a code the school gave them.
pub const CODE_LINKED_TEXT: &str =
    "Учётная запись Госуслуг связана по коду, выданному организацией. Обращение закрыто.";

/// Once the applicant is linked to a school's roster, the appeals they filed about that
/// school have done their job: resolve them with `text` and say so. An appeal somebody
/// changed meanwhile is left as it is.
pub async fn resolve_after_link(
    wf: &Workflow,
    oid: &str,
    organization_id: i32,
    text: &str,
) -> Result<usize> {
    let mut resolved = 0;
    for a in appeal_store::open_of_applicant_at(wf.db(), oid, organization_id).await? {
        let action = Action::status(Status::Resolved, Some(text.to_string()), None);
        match perform(wf, &a, action).await {
            Ok(()) => resolved += 1,
            Err(Error::Refused(Refusal::ChangedMeanwhile)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(resolved)
}

/// The link is committed before the appeals are answered: a failure to answer them is
/// logged, and they stay open for staff to close by hand.
pub(super) async fn resolve_after_link_logged(
    wf: &Workflow,
    oid: &str,
    organization_id: i32,
    text: &str,
) {
    if let Err(e) = resolve_after_link(wf, oid, organization_id, text).await {
        tracing::error!(error = %e, organization_id, "open appeals not resolved after link");
    }
}

/// Matching on every login, not only the first: the school may have fixed its roster
/// since, or the parent may now be on a second school's roster. Returns whether the
/// person is linked to any roster now.
pub async fn link_at_login(wf: &Workflow, applicant: &Applicant) -> Result<bool> {
    let db = wf.db();
    let candidates =
        roster::match_candidates(db, &applicant.name.norm(), applicant.birth_date).await?;
    for person in matching::match_applicant(applicant, None, &candidates) {
        if !roster::link(db, &applicant.oid, person, "auto", Utc::now()).await? {
            continue;
        }
        tracing::info!(
            roster_person_id = person,
            "ESIA identity linked automatically"
        );
        if let Some(p) = roster::person(db, person).await? {
            resolve_after_link_logged(wf, &applicant.oid, p.organization_id, AUTO_LINKED_TEXT)
                .await;
        }
    }
    Ok(!roster::linked_accounts(db, &applicant.oid)
        .await?
        .is_empty())
}

/// An open appeal in scope at the version the form was rendered from.
async fn open_appeal(
    wf: &Workflow,
    actor: &StaffActor,
    number: &AppealNumber,
    version: Option<i32>,
) -> Result<Appeal> {
    let (a, _) = appeal_in_scope(wf, actor, number).await?;
    if !a.status.can_move_to(Status::Resolved) {
        return Err(Refusal::AlreadyClosed(a.status).into());
    }
    check_version(version, a.version)?;
    Ok(a)
}

/// «Исправить по Госуслугам и связать»: the applicant's roster record gets the ESIA data
/// and is linked to their account; the appeal is resolved.
pub async fn fix_and_link(
    wf: &Workflow,
    actor: &StaffActor,
    number: &AppealNumber,
    roster_person_id: i32,
    version: Option<i32>,
) -> Result<()> {
    let a = open_appeal(wf, actor, number, version).await?;
    let s = &a.snapshot;
    let person = roster::person(wf.db(), roster_person_id)
        .await?
        .ok_or(Error::NotFound)?;
    // Only a record of this appeal's school, and of the applicant's kind.
    if person.organization_id != a.organization_id
        || person.role != RosterRole::of_applicant(s.role)
    {
        return Err(Error::NotFound);
    }
    // A record somebody else already signs in with is not this applicant's to take.
    if roster::linked_oids(wf.db(), person.id)
        .await?
        .iter()
        .any(|o| *o != s.oid)
    {
        return Err(Refusal::LinkedElsewhere.into());
    }
    let change = RosterChange::Fix {
        person_id: person.id,
        name: s.name.clone(),
        birth_date: s.birth_date,
        snils: s.snils.as_ref().map(|x| x.digits().to_string()),
        oid: s.oid.clone(),
    };
    link_and_resolve(wf, actor, &a, change).await
}

/// «Добавить в список и связать»: the applicant (and their child, when the school does not
/// list them yet) join the roster as ESIA knows them; the appeal is resolved.
pub async fn add_from_snapshot(
    wf: &Workflow,
    actor: &StaffActor,
    number: &AppealNumber,
    version: Option<i32>,
) -> Result<()> {
    let a = open_appeal(wf, actor, number, version).await?;
    let s = &a.snapshot;
    let class_here = class_here(wf, &a).await?;
    let applicant = NewPerson {
        organization_id: a.organization_id,
        role: RosterRole::of_applicant(s.role),
        name: s.name.clone(),
        birth_date: s.birth_date,
        snils: s.snils.as_ref().map(|x| x.digits().to_string()),
        class_id: class_here.filter(|_| RosterRole::of_applicant(s.role) == RosterRole::Student),
    };
    let student = match &s.child {
        None => StudentRecord::None,
        Some(child) => {
            match roster::find_student(
                wf.db(),
                a.organization_id,
                &child.name.norm(),
                child.birth_date,
            )
            .await?
            {
                Some(existing) => StudentRecord::Existing(existing.id),
                None => StudentRecord::New(NewPerson {
                    organization_id: a.organization_id,
                    role: RosterRole::Student,
                    name: child.name.clone(),
                    birth_date: child.birth_date,
                    snils: child.snils.as_ref().map(|x| x.digits().to_string()),
                    class_id: class_here,
                }),
            }
        }
    };
    let change = RosterChange::Create {
        applicant,
        student,
        oid: s.oid.clone(),
    };
    link_and_resolve(wf, actor, &a, change).await
}

/// The appeal's class, if it belongs to the appeal's organization: a forwarded appeal
/// still names the old school's class, and people of this school are never filed into
/// another school's class.
async fn class_here(wf: &Workflow, a: &Appeal) -> Result<Option<i32>> {
    Ok(directory::class(wf.db(), a.class_id)
        .await?
        .filter(|c| c.organization_id == a.organization_id)
        .map(|c| c.id))
}

async fn link_and_resolve(
    wf: &Workflow,
    actor: &StaffActor,
    a: &Appeal,
    change: RosterChange,
) -> Result<()> {
    let action = Action {
        roster: change,
        ..Action::status(
            Status::Resolved,
            Some(LINKED_TEXT.to_string()),
            Some(actor.id()),
        )
    };
    log_access(wf, actor, a, "status").await?;
    perform(wf, a, action).await?;
    // Other open appeals of this applicant about this school are answered too.
    resolve_after_link_logged(wf, &a.applicant_oid, a.organization_id, LINKED_TEXT).await;
    Ok(())
}
