//! Linking an ESIA account to a school's roster, which is what an appeal is for: by itself
//! at login, by staff from an appeal (fix the record, or add the applicant) after they
//! confirm what will change, and the resolution of the appeals the link answered.

use std::collections::HashSet;

use chrono::{NaiveDate, Utc};

use super::change::{Action, perform};
use super::staff::{StaffActor, appeal_in_scope, log_access};
use super::{Error, Refusal, Result, Workflow, check_version};
use crate::domain::appeal::{Appeal, STAFF_TEXT_MAX_CHARS, parse_text};
use crate::domain::applicant::Applicant;
use crate::domain::candidates::{self, Wanted};
use crate::domain::history::{Actor, EventKind};
use crate::domain::matching;
use crate::domain::names::PersonName;
use crate::domain::number::AppealNumber;
use crate::domain::roster::{Correction, LinkState, RosterRole, corrections};
use crate::domain::status::Status;
use crate::store::appeals::{self as appeal_store, Event, RosterChange, StudentRecord};
use crate::store::directory;
use crate::store::entities::class;
use crate::store::roster::{self, Linked, NewPerson};

/// Standard resolution when staff fix the roster and link the account (seed 003).
pub const LINKED_TEXT: &str = "Данные в системе исправлены, учётная запись Госуслуг связана с вашей учётной записью в системе. Войдите снова через Госуслуги.";
/// Said when a login links the applicant by itself.
pub const AUTO_LINKED_TEXT: &str = "Учётная запись Госуслуг связана с вашими данными в системе при входе. Обращение закрыто автоматически.";
/// Said when the applicant links with a code the school gave them.
pub const CODE_LINKED_TEXT: &str =
    "Учётная запись Госуслуг связана по коду, выданному организацией. Обращение закрыто.";

/// How an account came to be linked: named in the note on appeals the link did not answer.
#[derive(Debug, Clone, Copy)]
pub enum Via<'a> {
    Appeal(&'a str),
    Login,
    Code,
}

impl Via<'_> {
    fn note(self) -> String {
        let how = match self {
            Via::Appeal(n) => format!("через обращение № {n}"),
            Via::Login => "при входе через Госуслуги".to_string(),
            Via::Code => "по коду привязки".to_string(),
        };
        format!(
            "Заявитель связан с записью организации {how}; проверьте ребёнка: запись о нём в организации с заявителем не связана."
        )
    }
}

/// Once the applicant is linked to a school's roster, the appeals whose subject the link
/// answers (the student themself, or a child now tied to the parent's record there) are
/// resolved with `text`; the other open appeals stay open with a note for staff. An appeal
/// somebody changed meanwhile is left as it is. Returns the numbers resolved.
pub async fn resolve_after_link(
    wf: &Workflow,
    oid: &str,
    organization_id: i32,
    text: &str,
    via: Via<'_>,
) -> Result<Vec<String>> {
    let db = wf.db();
    let answered: HashSet<String> = roster::linked_students(db, oid, organization_id)
        .await?
        .iter()
        .map(|p| p.subject_key())
        .collect();
    let mut resolved = Vec::new();
    for a in appeal_store::open_of_applicant_at(db, oid, organization_id).await? {
        if !answered.contains(&a.subject_key) {
            let note = Event {
                kind: EventKind::Note,
                to: None,
                actor: Actor::System,
                actor_staff_id: None,
                message: Some(via.note()),
            };
            appeal_store::record_event(db, a.id, None, note, Utc::now()).await?;
            continue;
        }
        let action = Action::status(Status::Resolved, Some(text.to_string()), None);
        match perform(wf, &a, action).await {
            Ok(()) => resolved.push(a.number),
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
    via: Via<'_>,
) -> Vec<String> {
    resolve_after_link(wf, oid, organization_id, text, via)
        .await
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, organization_id, "open appeals not resolved after link");
            Vec::new()
        })
}

/// The roster records a login of `applicant` links automatically (at most one per
/// organization; only at `organization` when given).
pub async fn automatic_matches(
    db: &impl sea_orm::ConnectionTrait,
    applicant: &Applicant,
    organization: Option<i32>,
) -> std::result::Result<Vec<i32>, sea_orm::DbErr> {
    let candidates: Vec<_> =
        roster::match_candidates(db, &applicant.name.norm(), applicant.birth_date)
            .await?
            .into_iter()
            .filter(|c| organization.is_none_or(|o| o == c.organization_id))
            .collect();
    Ok(matching::match_applicant(applicant, None, &candidates))
}

/// Matching on every login, not only the first: the school may have fixed its roster
/// since, or the parent may now be on a second school's roster. Returns whether the
/// person is linked to any roster now.
pub async fn link_at_login(wf: &Workflow, applicant: &Applicant) -> Result<bool> {
    let db = wf.db();
    for person in automatic_matches(db, applicant, None).await? {
        if roster::link(db, &applicant.oid, person, "auto", Utc::now()).await? != Linked::New {
            continue;
        }
        tracing::info!(
            roster_person_id = person,
            "ESIA identity linked automatically"
        );
        if let Some(p) = roster::person(db, person).await? {
            resolve_after_link_logged(
                wf,
                &applicant.oid,
                p.organization_id,
                AUTO_LINKED_TEXT,
                Via::Login,
            )
            .await;
        }
    }
    Ok(!roster::linked_accounts(db, &applicant.oid)
        .await?
        .is_empty())
}

/// What staff do with the applicant's roster record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkMode {
    /// «Исправить по Госуслугам и связать» this record.
    Fix(i32),
    /// «Добавить в список и связать».
    Create,
}

/// What a link does with the child of a parent's appeal.
pub enum StudentPreview {
    /// The school lists the child: the parent is tied to that record.
    Listed(PersonName),
    /// The school does not list the child, and a fix adds nobody: the child stays unlinked.
    NotListed(PersonName),
    /// The child joins the roster, in `class` when the appeal's class is this school's.
    Joins {
        name: PersonName,
        birth_date: NaiveDate,
        class: Option<String>,
    },
}

/// Everything staff confirm before a link: what changes, which appeals close.
pub struct LinkPlan {
    pub appeal: Appeal,
    pub mode: LinkMode,
    /// Fix: the fields that change in the record.
    pub corrections: Vec<Correction>,
    /// Create: the child of a parent's appeal, found or added.
    pub student: Option<StudentPreview>,
    /// The applicant's other open appeals at this school the link answers.
    pub closing: Vec<String>,
    /// The applicant's other open appeals that stay open (their child is not linked).
    pub staying_open: Vec<String>,
    /// The text the applicant gets; staff may edit it.
    pub message: &'static str,
    /// Create while similar records exist: staff say why a new one is needed.
    pub needs_reason: bool,
}

/// What the staff member sends with the confirmation.
pub struct Confirmation<'a> {
    pub version: Option<i32>,
    pub message: &'a str,
    pub reason: &'a str,
}

/// The link, checked and ready: the roster change and the subjects answered after it.
struct Prepared {
    appeal: Appeal,
    change: RosterChange,
    corrections: Vec<Correction>,
    student: Option<StudentPreview>,
    /// Subject keys the applicant answers for at the school once the link is made.
    answered: HashSet<String>,
    needs_reason: bool,
}

async fn prepare(
    wf: &Workflow,
    actor: &StaffActor,
    number: &AppealNumber,
    mode: LinkMode,
    version: Option<i32>,
) -> Result<Prepared> {
    let db = wf.db();
    let (a, _) = appeal_in_scope(wf, actor, number).await?;
    if !a.status.can_move_to(Status::Resolved) {
        return Err(Refusal::AlreadyClosed(a.status).into());
    }
    check_version(version, a.version)?;
    let s = &a.snapshot;
    let own_role = RosterRole::of_applicant(s.role);
    let mut answered: HashSet<String> = roster::linked_students(db, &s.oid, a.organization_id)
        .await?
        .iter()
        .map(|p| p.subject_key())
        .collect();
    let snils = s.snils.as_ref().map(|x| x.digits().to_string());
    let prepared = match mode {
        LinkMode::Fix(person_id) => {
            let person = roster::person(db, person_id)
                .await?
                .ok_or(Error::NotFound)?;
            // Only a record of this appeal's school, and of the applicant's kind.
            if person.organization_id != a.organization_id || person.role != own_role {
                return Err(Error::NotFound);
            }
            // A record somebody else already signs in with is not this applicant's to take.
            let oids = roster::linked_oids(db, person.id).await?;
            if LinkState::of(&oids, &s.oid) == LinkState::Other {
                return Err(Refusal::LinkedElsewhere.into());
            }
            // A parent's record gets tied to the appeal's child when the school lists the
            // child: that is what makes the appeal answered.
            let (tie_student, student) = match own_role {
                RosterRole::Student => {
                    answered.insert(crate::domain::applicant::subject_key(&s.name, s.birth_date));
                    (None, None)
                }
                _ => {
                    answered.extend(
                        roster::children_of(db, &person)
                            .await?
                            .iter()
                            .map(|c| c.subject_key()),
                    );
                    let (_, record, preview) = child_plan(wf, &a).await?;
                    match record {
                        StudentRecord::Existing(id) => {
                            answered.insert(a.snapshot.subject_key());
                            (Some(id), preview)
                        }
                        // Fix never adds a child: staff add one with «Добавить в список».
                        _ => (
                            None,
                            s.child
                                .as_ref()
                                .map(|c| StudentPreview::NotListed(c.name.clone())),
                        ),
                    }
                }
            };
            Prepared {
                corrections: corrections(&person, &s.name, s.birth_date, s.snils.as_ref()),
                change: RosterChange::Fix {
                    person_id: person.id,
                    name: s.name.clone(),
                    birth_date: s.birth_date,
                    snils,
                    oid: s.oid.clone(),
                    tie_student,
                },
                appeal: a,
                student,
                answered,
                needs_reason: false,
            }
        }
        LinkMode::Create => {
            let (class_here, student, preview) = child_plan(wf, &a).await?;
            let applicant = NewPerson {
                organization_id: a.organization_id,
                role: own_role,
                name: s.name.clone(),
                birth_date: s.birth_date,
                snils,
                class_id: class_here
                    .as_ref()
                    .filter(|_| own_role == RosterRole::Student)
                    .map(|c| c.id),
            };
            answered.insert(a.snapshot.subject_key());
            let s_snils = s.snils.as_ref().map(|x| x.to_string());
            let wanted = Wanted {
                name: &s.name,
                birth_date: s.birth_date,
                snils: s_snils.as_deref(),
            };
            let pool = roster::of_organization(db, a.organization_id, own_role).await?;
            let needs_reason = !candidates::rank(&wanted, pool).is_empty();
            Prepared {
                change: RosterChange::Create {
                    applicant,
                    student,
                    oid: s.oid.clone(),
                },
                appeal: a,
                corrections: Vec::new(),
                student: preview,
                answered,
                needs_reason,
            }
        }
    };
    Ok(prepared)
}

/// The appeal's class if it is this school's (a forwarded appeal still names the old
/// school's class, and people are never filed into another school's class), and what
/// «Добавить в список» does with a parent's child: ties the parent to the listed record
/// or adds the child.
async fn child_plan(
    wf: &Workflow,
    a: &Appeal,
) -> Result<(Option<class::Model>, StudentRecord, Option<StudentPreview>)> {
    let db = wf.db();
    let class_here = directory::class(db, a.class_id)
        .await?
        .filter(|c| c.organization_id == a.organization_id);
    let Some(child) = &a.snapshot.child else {
        return Ok((class_here, StudentRecord::None, None));
    };
    let listed =
        roster::find_student(db, a.organization_id, &child.name.norm(), child.birth_date).await?;
    let (record, preview) = match listed {
        Some(existing) => (
            StudentRecord::Existing(existing.id),
            StudentPreview::Listed(child.name.clone()),
        ),
        None => (
            StudentRecord::New(NewPerson {
                organization_id: a.organization_id,
                role: RosterRole::Student,
                name: child.name.clone(),
                birth_date: child.birth_date,
                snils: child.snils.as_ref().map(|x| x.digits().to_string()),
                class_id: class_here.as_ref().map(|c| c.id),
            }),
            StudentPreview::Joins {
                name: child.name.clone(),
                birth_date: child.birth_date,
                class: class_here.as_ref().map(|c| c.name.clone()),
            },
        ),
    };
    Ok((class_here, record, Some(preview)))
}

/// What «Добавить в список» would do with the child of a parent's appeal.
pub(super) async fn student_preview(wf: &Workflow, a: &Appeal) -> Result<Option<StudentPreview>> {
    Ok(child_plan(wf, a).await?.2)
}

/// The confirmation staff see before a link: nothing is changed.
pub async fn plan(
    wf: &Workflow,
    actor: &StaffActor,
    number: &AppealNumber,
    mode: LinkMode,
    version: Option<i32>,
) -> Result<LinkPlan> {
    let p = prepare(wf, actor, number, mode, version).await?;
    let a = &p.appeal;
    log_access(wf, actor, a, "view").await?;
    let (closing, staying_open): (Vec<Appeal>, Vec<Appeal>) =
        appeal_store::open_of_applicant_at(wf.db(), &a.applicant_oid, a.organization_id)
            .await?
            .into_iter()
            .filter(|o| o.id != a.id)
            .partition(|o| p.answered.contains(&o.subject_key));
    Ok(LinkPlan {
        mode,
        corrections: p.corrections,
        student: p.student,
        closing: closing.into_iter().map(|o| o.number).collect(),
        staying_open: staying_open.into_iter().map(|o| o.number).collect(),
        message: LINKED_TEXT,
        needs_reason: p.needs_reason,
        appeal: p.appeal,
    })
}

/// The confirmed link: the roster change, the link and this appeal's resolution in one
/// transaction, then the other appeals the link answers. Returns those appeals' numbers.
pub async fn link(
    wf: &Workflow,
    actor: &StaffActor,
    number: &AppealNumber,
    mode: LinkMode,
    confirmation: Confirmation<'_>,
) -> Result<Vec<String>> {
    let p = prepare(wf, actor, number, mode, confirmation.version).await?;
    let message = parse_text(confirmation.message, STAFF_TEXT_MAX_CHARS)
        .map_err(Refusal::Text)?
        .ok_or(Refusal::TextRequired(Status::Resolved))?;
    let reason = parse_text(confirmation.reason, STAFF_TEXT_MAX_CHARS).map_err(Refusal::Text)?;
    let mut extra_events = Vec::new();
    if p.needs_reason {
        let reason = reason.ok_or(Refusal::NewRecordReason)?;
        extra_events.push(Event {
            kind: EventKind::Note,
            to: None,
            actor: Actor::Staff,
            actor_staff_id: Some(actor.id()),
            message: Some(format!(
                "Новая запись в списке, хотя похожие есть: {reason}"
            )),
        });
    }
    let a = &p.appeal;
    let action = Action {
        roster: p.change,
        extra_events,
        ..Action::status(Status::Resolved, Some(message.clone()), Some(actor.id()))
    };
    log_access(wf, actor, a, "status").await?;
    perform(wf, a, action).await?;
    Ok(resolve_after_link_logged(
        wf,
        &a.applicant_oid,
        a.organization_id,
        &message,
        Via::Appeal(&a.number),
    )
    .await)
}
