//! A staff member works an appeal: opens it (with the roster candidates to compare), sets
//! its status, assigns it, writes internal notes, forwards it to another organization.

use std::collections::{HashMap, HashSet};

use chrono::Utc;

use super::change::{Action, perform, place_names};
use super::linking::{self, StudentPreview};
use super::notices;
use super::staff::{StaffActor, appeal_in_scope, colleagues, full_name, log_access};
use super::{Error, Refusal, Result, Workflow, check_version};
use crate::domain::appeal::{Appeal, NOTE_MAX_CHARS, STAFF_TEXT_MAX_CHARS, parse_text};
use crate::domain::candidates::{self, Candidate, Wanted};
use crate::domain::history::{Actor, Entry, EventKind};
use crate::domain::number::AppealNumber;
use crate::domain::roster::{LinkState, RosterRole};
use crate::domain::status::Status;
use crate::mail::messages::{self, AppealFacts};
use crate::store::appeals::{self as appeal_store, Change, Event};
use crate::store::entities::{organization, staff as staff_entity};
use crate::store::{directory, roster, staff};

pub struct HistoryLine {
    pub entry: Entry,
    /// The staff member who made it, for entries made by staff.
    pub staff_name: Option<String>,
}

pub struct CandidateLine {
    pub candidate: Candidate,
    pub class_name: String,
    /// The applicant's own record can be fixed and linked (when nobody else signs in with
    /// it); the child's is shown for comparison.
    pub own: bool,
    pub link: LinkState,
}

/// Everything the appeal page shows a staff member.
pub struct AppealView {
    pub appeal: Appeal,
    pub organization: String,
    pub class_name: String,
    pub overdue: bool,
    pub history: Vec<HistoryLine>,
    pub candidates: Vec<CandidateLine>,
    pub student: Option<StudentPreview>,
    pub colleagues: Vec<staff_entity::Model>,
    pub assignee: Option<String>,
    /// Numbers of other open appeals about the same child at the same organization.
    pub duplicates: Vec<String>,
    /// Organizations the appeal may be forwarded to, with their municipality's name.
    pub forward_targets: Vec<(organization::Model, String)>,
}

/// Not found unless the appeal is in the actor's scope; nothing is read or logged.
pub async fn ensure_in_scope(
    wf: &Workflow,
    actor: &StaffActor,
    number: &AppealNumber,
) -> Result<()> {
    appeal_in_scope(wf, actor, number).await.map(|_| ())
}

/// Opens an appeal of the actor's scope; the access is logged (152-ФЗ).
pub async fn open(wf: &Workflow, actor: &StaffActor, number: &AppealNumber) -> Result<AppealView> {
    let db = wf.db();
    let (a, place) = appeal_in_scope(wf, actor, number).await?;
    log_access(wf, actor, &a, "view").await?;
    let class_name = directory::class(db, a.class_id)
        .await?
        .map(|c| c.name)
        .unwrap_or_default();
    let entries = appeal_store::events(db, a.id).await?;
    let mut ids: Vec<i32> = entries.iter().filter_map(|e| e.actor_staff_id).collect();
    ids.extend(a.assigned_staff_id);
    ids.sort_unstable();
    ids.dedup();
    let names: HashMap<i32, String> = staff::by_ids(db, &ids)
        .await?
        .iter()
        .map(|s| (s.id, full_name(s)))
        .collect();
    let history = entries
        .into_iter()
        .map(|entry| HistoryLine {
            staff_name: entry.actor_staff_id.and_then(|id| names.get(&id).cloned()),
            entry,
        })
        .collect();
    let s = &a.snapshot;
    let snils = s.snils.as_ref().map(|x| x.to_string());
    let wanted = Wanted {
        name: &s.name,
        birth_date: s.birth_date,
        snils: snils.as_deref(),
    };
    let own_role = RosterRole::of_applicant(s.role);
    let mut candidates = candidate_lines(wf, &a, own_role, wanted, true).await?;
    if let Some(child) = &s.child {
        let child_snils = child.snils.as_ref().map(|x| x.to_string());
        let wanted = Wanted {
            name: &child.name,
            birth_date: child.birth_date,
            snils: child_snils.as_deref(),
        };
        candidates.extend(candidate_lines(wf, &a, RosterRole::Student, wanted, false).await?);
    }
    let student = linking::student_preview(wf, &a).await?;
    let colleagues = colleagues(wf, actor, Some(a.organization_id)).await?;
    let assignee = a.assigned_staff_id.and_then(|id| names.get(&id).cloned());
    let duplicates = appeal_store::open_duplicates(db, &a)
        .await?
        .into_iter()
        .map(|d| d.number)
        .collect();
    let forward_targets = directory::organizations(db, &Default::default())
        .await?
        .into_iter()
        .filter(|(o, _)| o.id != a.organization_id)
        .collect();
    Ok(AppealView {
        overdue: a.is_overdue(Utc::now()),
        organization: place.organization.name,
        class_name,
        history,
        candidates,
        student,
        colleagues,
        assignee,
        duplicates,
        forward_targets,
        appeal: a,
    })
}

async fn candidate_lines(
    wf: &Workflow,
    a: &Appeal,
    role: RosterRole,
    wanted: Wanted<'_>,
    own: bool,
) -> Result<Vec<CandidateLine>> {
    let org = a.organization_id;
    let pool = roster::of_organization(wf.db(), org, role).await?;
    let class_ids: HashSet<i32> = pool.iter().filter_map(|p| p.class_id).collect();
    let class_names: HashMap<i32, String> = directory::classes(wf.db(), org)
        .await?
        .into_iter()
        .filter(|c| class_ids.contains(&c.id))
        .map(|c| (c.id, c.name))
        .collect();
    let ranked = candidates::rank(&wanted, pool);
    let ids: Vec<i32> = ranked.iter().map(|c| c.entry.id).collect();
    let links = roster::linked_oids_of(wf.db(), &ids).await?;
    Ok(ranked
        .into_iter()
        .map(|candidate| CandidateLine {
            class_name: candidate
                .entry
                .class_id
                .and_then(|id| class_names.get(&id).cloned())
                .unwrap_or_default(),
            link: LinkState::of(
                links
                    .get(&candidate.entry.id)
                    .map_or(&[][..], Vec::as_slice),
                &a.applicant_oid,
            ),
            candidate,
            own,
        })
        .collect())
}

/// «Сохранить статус»: a move the rules allow, with the text the applicant gets.
pub async fn change_status(
    wf: &Workflow,
    actor: &StaffActor,
    number: &AppealNumber,
    to: Status,
    text: &str,
    version: Option<i32>,
    unlinked_confirmed: bool,
) -> Result<()> {
    let (a, _) = appeal_in_scope(wf, actor, number).await?;
    if !Status::SETTABLE.contains(&to) {
        return Err(Refusal::UnknownStatus.into());
    }
    let text = parse_text(text, STAFF_TEXT_MAX_CHARS).map_err(Refusal::Text)?;
    check_version(version, a.version)?;
    if !a.status.can_move_to(to) {
        return Err(Refusal::Transition { from: a.status, to }.into());
    }
    if to.requires_text() && text.is_none() {
        return Err(Refusal::TextRequired(to).into());
    }
    let mut action = Action::status(to, text, Some(actor.id()));
    // «Решено» promises access: an applicant still unlinked here would find the door shut.
    if to == Status::Resolved
        && roster::records_of(wf.db(), &a.applicant_oid, a.organization_id)
            .await?
            .is_empty()
    {
        if !unlinked_confirmed {
            return Err(Refusal::ResolveUnlinked.into());
        }
        action.extra_events.push(Event {
            kind: EventKind::Note,
            to: None,
            actor: Actor::Staff,
            actor_staff_id: Some(actor.id()),
            message: Some(
                "Заявитель не связан с записью организации; сотрудник подтвердил, что обращение всё равно решено."
                    .to_string(),
            ),
        });
    }
    log_access(wf, actor, &a, "status").await?;
    perform(wf, &a, action).await
}

/// «Продлить срок» (59-ФЗ ст. 12 ч. 2): once, with a reason the applicant is e-mailed
/// together with the new date. Returns the new date as the region reads it.
pub async fn extend(
    wf: &Workflow,
    actor: &StaffActor,
    number: &AppealNumber,
    reason: &str,
    version: Option<i32>,
) -> Result<String> {
    let (a, _) = appeal_in_scope(wf, actor, number).await?;
    check_version(version, a.version)?;
    if !a.status.is_open() {
        return Err(Refusal::ExtendClosed.into());
    }
    if a.extension.is_some() {
        return Err(Refusal::AlreadyExtended.into());
    }
    let reason = parse_text(reason, STAFF_TEXT_MAX_CHARS)
        .map_err(Refusal::Text)?
        .ok_or(Refusal::ExtensionReason)?;
    let due = wf.deadlines().extended_due(a.due_at);
    let until = due
        .with_timezone(&wf.offset())
        .format("%d.%m.%Y")
        .to_string();
    let mut action = Action::new(EventKind::Extended, Some(actor.id()));
    action.text = Some(format!("до {until}. Причина: {reason}"));
    action.change.extension = Some((due, reason.clone()));
    let (organization, class) = place_names(wf, &a).await?;
    if let Some(facts) = AppealFacts::new(
        &a,
        &organization,
        &class,
        wf.public_url(),
        wf.status_links(),
    ) {
        action
            .extra_mail
            .push(messages::deadline_extended(&facts, &until, &reason)?);
    }
    log_access(wf, actor, &a, "extend").await?;
    perform(wf, &a, action).await?;
    Ok(until)
}

/// Who an appeal is assigned to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assignee {
    Nobody,
    Me,
    Staff(i32),
}

/// «Назначить»: only a colleague who may see the appeal themself.
pub async fn assign(
    wf: &Workflow,
    actor: &StaffActor,
    number: &AppealNumber,
    assignee: Assignee,
    version: Option<i32>,
) -> Result<()> {
    let (a, place) = appeal_in_scope(wf, actor, number).await?;
    if !a.status.is_open() {
        return Err(Refusal::AssignClosed.into());
    }
    let target = match assignee {
        Assignee::Nobody => None,
        Assignee::Me => Some(actor.staff.clone()),
        Assignee::Staff(id) => Some(staff::by_id(wf.db(), id).await?.ok_or(Error::NotFound)?),
    };
    if let Some(t) = &target {
        let covers = staff::scope(t).is_some_and(|s| place.covered_by(s));
        if !t.active || !covers {
            return Err(Refusal::AssigneeOutOfScope.into());
        }
    }
    check_version(version, a.version)?;
    let action = Action {
        text: Some(match &target {
            Some(t) => format!("Исполнитель: {}.", full_name(t)),
            None => "Исполнитель снят.".to_string(),
        }),
        change: Change {
            assigned_staff_id: Some(target.map(|t| t.id)),
            ..Default::default()
        },
        ..Action::new(EventKind::Assigned, Some(actor.id()))
    };
    log_access(wf, actor, &a, "assigned").await?;
    perform(wf, &a, action).await
}

/// An internal note: history for staff only, never shown to the applicant.
pub async fn add_note(
    wf: &Workflow,
    actor: &StaffActor,
    number: &AppealNumber,
    text: &str,
) -> Result<()> {
    let (a, _) = appeal_in_scope(wf, actor, number).await?;
    let text = parse_text(text, NOTE_MAX_CHARS)
        .map_err(Refusal::Text)?
        .ok_or(Refusal::EmptyNote)?;
    Ok(appeal_store::add_note(wf.db(), a.id, actor.id(), text, Utc::now()).await?)
}

/// «Перенаправить»: to the competent organization, with the reason the applicant gets
/// (59-ФЗ, ст. 8). Its staff hear about it like about a new appeal.
pub async fn forward(
    wf: &Workflow,
    actor: &StaffActor,
    number: &AppealNumber,
    target: Option<i32>,
    reason: &str,
    version: Option<i32>,
) -> Result<()> {
    let (a, _) = appeal_in_scope(wf, actor, number).await?;
    let db = wf.db();
    let target = match target {
        Some(id) if id != a.organization_id => directory::organization(db, id).await?,
        _ => None,
    }
    .ok_or(Refusal::ForwardTarget)?;
    let reason = parse_text(reason, STAFF_TEXT_MAX_CHARS)
        .map_err(Refusal::Text)?
        .ok_or(Refusal::ForwardReason)?;
    if !a.status.can_move_to(Status::Forwarded) {
        return Err(Refusal::CannotForward(a.status).into());
    }
    check_version(version, a.version)?;
    let (_, recipients) = notices::route_and_recipients(wf, &target).await?;
    let class_name = directory::class(db, a.class_id)
        .await?
        .map(|c| c.name)
        .unwrap_or_default();
    let notices = recipients.new_appeal_notices(wf, &a, &target.name, &class_name)?;
    // The class list belongs to the old organization; the receiving one keeps the id for
    // reference and picks the class when it answers.
    let action = Action {
        change: Change {
            status: Some(Status::Forwarded),
            organization_id: Some(target.id),
            assigned_staff_id: Some(None),
            ..Default::default()
        },
        forwarded_to: Some(target.name.clone()),
        extra_mail: notices,
        extra_events: vec![Event {
            kind: EventKind::Routed,
            to: None,
            actor: Actor::Staff,
            actor_staff_id: Some(actor.id()),
            message: Some(format!(
                "Обращение перенаправлено в организацию «{}».",
                target.name
            )),
        }],
        digest_staff: recipients.digest_ids(),
        ..Action::status(Status::Forwarded, Some(reason), Some(actor.id()))
    };
    log_access(wf, actor, &a, "status").await?;
    perform(wf, &a, action).await
}

/// What staff do to several appeals at once from the inbox.
pub enum BulkAction {
    Assign(Assignee),
    /// «На рассмотрении», or «Отклонено» with the reason every applicant gets.
    Status(Status, String),
}

/// The statuses the inbox sets in bulk: the others want a word for each applicant.
pub const BULK_STATUSES: [Status; 2] = [Status::InProgress, Status::Rejected];

/// What a bulk action did: the appeals changed, and the others with the reason.
pub struct BulkOutcome {
    pub done: Vec<String>,
    pub refused: Vec<(String, String)>,
}

/// One appeal of a bulk confirmation.
pub struct BulkLine {
    pub appeal: Appeal,
    pub assignee: Option<String>,
}

/// What a bulk confirmation shows: the appeals the actor may act on (at most 100, their
/// views logged) and, for an assignment to a colleague, the colleague's name when they
/// may work on these appeals.
pub struct BulkPreview {
    pub lines: Vec<BulkLine>,
    pub assignee_name: Option<String>,
}

pub async fn bulk_preview(
    wf: &Workflow,
    actor: &StaffActor,
    numbers: &[AppealNumber],
    action: &BulkAction,
) -> Result<BulkPreview> {
    let target = match action {
        BulkAction::Assign(Assignee::Staff(id)) => staff::by_id(wf.db(), *id)
            .await?
            .filter(|t| t.active)
            .and_then(|t| staff::scope(&t).map(|scope| (t, scope))),
        _ => None,
    };
    let mut lines = Vec::new();
    let mut target_covers = false;
    for n in numbers.iter().take(BULK_LIMIT) {
        let (a, place) = match appeal_in_scope(wf, actor, n).await {
            Ok(found) => found,
            Err(Error::NotFound) => continue,
            Err(e) => return Err(e),
        };
        log_access(wf, actor, &a, "view").await?;
        target_covers |= target
            .as_ref()
            .is_some_and(|(_, scope)| place.covered_by(*scope));
        let assignee = match a.assigned_staff_id {
            Some(id) => staff::by_id(wf.db(), id).await?.map(|s| full_name(&s)),
            None => None,
        };
        lines.push(BulkLine {
            appeal: a,
            assignee,
        });
    }
    Ok(BulkPreview {
        lines,
        assignee_name: target.filter(|_| target_covers).map(|(t, _)| full_name(&t)),
    })
}

const BULK_LIMIT: usize = 100;

/// Applies `action` to each appeal on its own (each its own transaction, as if done on its
/// page); one refusal does not stop the others.
pub async fn bulk(
    wf: &Workflow,
    actor: &StaffActor,
    appeals: &[(AppealNumber, Option<i32>)],
    action: &BulkAction,
) -> Result<BulkOutcome> {
    let mut outcome = BulkOutcome {
        done: Vec::new(),
        refused: Vec::new(),
    };
    if let BulkAction::Status(to, _) = action
        && !BULK_STATUSES.contains(to)
    {
        return Err(Refusal::UnknownStatus.into());
    }
    // Each at the version the confirmation showed: one changed since is left as it is.
    for (n, version) in appeals.iter().take(BULK_LIMIT) {
        let result = match action {
            BulkAction::Assign(who) => assign(wf, actor, n, *who, *version).await,
            BulkAction::Status(to, text) => {
                change_status(wf, actor, n, *to, text, *version, false).await
            }
        };
        match result {
            Ok(()) => outcome.done.push(n.to_string()),
            Err(Error::Refused(r)) => outcome.refused.push((n.to_string(), r.message())),
            Err(Error::NotFound) => outcome
                .refused
                .push((n.to_string(), "Обращение не найдено.".to_string())),
            Err(e) => return Err(e),
        }
    }
    Ok(outcome)
}
