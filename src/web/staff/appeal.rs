//! `/staff/appeals/{number}`: the appeal with the applicant's ESIA data, the roster
//! candidates to compare, the actions and the history. A refused action shows this page
//! again with the refusal next to the form it concerns.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::number_of;
use crate::domain::applicant::Snapshot;
use crate::domain::candidates::Field;
use crate::domain::history::{Actor, EventKind};
use crate::domain::number::AppealNumber;
use crate::domain::roster::{LinkState, RosterRole};
use crate::domain::status::Status;
use crate::web::AppState;
use crate::web::error::AppResult;
use crate::web::security::html;
use crate::web::session::StaffUser;
use crate::web::templates::{Layout, Opt, Terms, opt, ru_date, ru_datetime};
use crate::workflow::linking::StudentPreview;
use crate::workflow::review::{self, AppealView, CandidateLine};
use crate::workflow::staff::full_name;
use crate::workflow::{Refusal, RefusalKind};

pub struct Cell {
    pub text: String,
    pub differs: bool,
    /// What Gosuslugi say, told to screen readers where the cell differs.
    pub esia: String,
}

pub struct CandidateView {
    pub id: i32,
    pub role: &'static str,
    pub class_name: String,
    pub last: Cell,
    pub first: Cell,
    pub middle: Cell,
    pub birth: Cell,
    pub snils: Cell,
    pub reason: &'static str,
    pub linkable: bool,
}

pub struct EventView {
    pub at: String,
    pub who: String,
    pub text: String,
    pub internal: bool,
}

pub struct Preview {
    pub applicant: String,
    pub applicant_role: &'static str,
    pub student: Option<String>,
}

/// The form of the appeal page a refusal concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    Status,
    Assign,
    Forward,
    Link,
    Note,
    Extend,
}

/// A refusal shown next to the form it concerns (`place`); the form's action URL carries
/// the fragment that brings the page there. A closed appeal shows no action forms, so a
/// refusal of one goes to the `top` of the page.
pub struct PageError {
    pub place: &'static str,
    pub message: String,
    /// «Решено» for an unlinked applicant: the text to send again once confirmed.
    pub confirm_resolution: Option<String>,
}

impl PageError {
    fn new(form: Form, refusal: &Refusal, appeal_open: bool, sent_text: &str) -> Self {
        let place = match form {
            // Shown with its own «Да, закрыть» form above the status form.
            _ if *refusal == Refusal::ResolveUnlinked => "confirm",
            Form::Note => "note",
            // Once extended, the page has no extension form to show it next to.
            _ if !appeal_open || *refusal == Refusal::AlreadyExtended => "top",
            Form::Status => "status",
            Form::Assign => "assign",
            Form::Forward => "forward",
            Form::Link => "roster",
            Form::Extend => "extend",
        };
        Self {
            place,
            message: refusal.message(),
            confirm_resolution: (*refusal == Refusal::ResolveUnlinked).then(|| sent_text.into()),
        }
    }
}

#[derive(Template)]
#[template(path = "staff/appeal.html")]
struct AppealPage {
    layout: Layout,
    number: String,
    version: i32,
    status: &'static str,
    is_open: bool,
    organization: String,
    class_name: String,
    terms: Terms,
    overdue: bool,
    due_soon: bool,
    comment: Option<String>,
    fio: String,
    birth_date: String,
    email: String,
    role: &'static str,
    snils: String,
    child: Option<String>,
    /// «27.11.2026 10:00, редакция 1»; None for appeals filed before consent was asked.
    consent: Option<String>,
    assignee: String,
    history: Vec<EventView>,
    duplicates: Vec<String>,
    candidates: Vec<CandidateView>,
    /// Similar records exist: adding a new one is the second choice.
    add_is_secondary: bool,
    preview: Preview,
    statuses: Vec<Opt>,
    colleagues: Vec<Opt>,
    forward_targets: Vec<Opt>,
    error: Option<PageError>,
}

fn candidate_view(line: CandidateLine, s: &Snapshot) -> CandidateView {
    let c = line.candidate;
    let e = &c.entry;
    // The record is compared with the applicant (their own record) or with the child.
    let (name, birth, snils) = match (&s.child, line.own) {
        (Some(child), false) => (&child.name, child.birth_date, child.snils.as_ref()),
        _ => (&s.name, s.birth_date, s.snils.as_ref()),
    };
    let cell = |field: Field, text: String, esia: String| Cell {
        text,
        differs: c.differs.contains(&field),
        esia,
    };
    let reason = match line.link {
        LinkState::Unlinked => c.reason.label(),
        LinkState::ThisApplicant => "запись уже связана с учётной записью этого заявителя",
        LinkState::Other => "запись связана с другой учётной записью Госуслуг",
    };
    CandidateView {
        id: e.id,
        role: e.role.label(),
        class_name: line.class_name,
        last: cell(Field::LastName, e.name.last.clone(), name.last.clone()),
        first: cell(Field::FirstName, e.name.first.clone(), name.first.clone()),
        middle: cell(
            Field::MiddleName,
            e.name.middle.clone(),
            name.middle.clone(),
        ),
        birth: cell(Field::BirthDate, ru_date(e.birth_date), ru_date(birth)),
        snils: cell(
            Field::Snils,
            e.snils.clone().unwrap_or_else(|| "не указан".into()),
            snils.map_or_else(|| "не указан".into(), |x| x.to_string()),
        ),
        reason,
        linkable: line.own && line.link == LinkState::Unlinked,
    }
}

pub(super) fn student_line(p: StudentPreview) -> String {
    match p {
        StudentPreview::Listed(name) => format!(
            "{} — уже есть в списке обучающихся, будет связан с родителем",
            name.full()
        ),
        StudentPreview::NotListed(name) => format!(
            "{} — нет в списке обучающихся организации: ребёнок останется не связан с родителем",
            name.full()
        ),
        StudentPreview::Joins {
            name,
            birth_date,
            class: Some(c),
        } => format!(
            "{} ({}) — будет добавлен в класс {c}",
            name.full(),
            ru_date(birth_date)
        ),
        StudentPreview::Joins {
            name,
            birth_date,
            class: None,
        } => format!(
            "{} ({}) — будет добавлен без класса: укажите класс в системе",
            name.full(),
            ru_date(birth_date)
        ),
    }
}

async fn page(
    state: &AppState,
    user: &StaffUser,
    v: AppealView,
    error: Option<PageError>,
) -> AppResult<AppealPage> {
    let offset = state.workflow.offset();
    let a = v.appeal;
    let s = &a.snapshot;
    let assigned = a
        .assigned_staff_id
        .map(|i| i.to_string())
        .unwrap_or_default();
    let history = v
        .history
        .into_iter()
        .map(|h| EventView {
            at: ru_datetime(h.entry.created_at, offset),
            who: match (h.staff_name, h.entry.actor_staff_id, h.entry.actor) {
                (Some(name), _, _) => name,
                (None, Some(_), _) => String::new(),
                (None, None, Actor::Applicant) => "Заявитель".to_string(),
                (None, None, _) => "Система".to_string(),
            },
            internal: h.entry.kind == EventKind::Note,
            text: h.entry.text(),
        })
        .collect();
    Ok(AppealPage {
        layout: Layout::new(&user.session).await?,
        number: a.number.clone(),
        version: a.version,
        status: a.status.label(),
        is_open: a.status.is_open(),
        organization: v.organization,
        class_name: v.class_name,
        terms: Terms::of(&a, state.workflow.deadlines()),
        overdue: v.overdue,
        due_soon: a.status.is_open()
            && state
                .workflow
                .deadlines()
                .due_soon(a.due_at, chrono::Utc::now()),
        consent: a.consent.as_ref().map(|c| {
            format!(
                "{}, редакция {}",
                ru_datetime(c.given_at, offset),
                c.version
            )
        }),
        comment: a.comment.clone(),
        fio: s.name.full(),
        birth_date: ru_date(s.birth_date),
        email: s.email.clone().unwrap_or_else(|| "не указан".into()),
        role: s.role.label(),
        snils: s
            .snils
            .as_ref()
            .map(|x| x.to_string())
            .unwrap_or_else(|| "не указан".into()),
        child: s.child.as_ref().map(|c| {
            let sn = c
                .snils
                .as_ref()
                .map(|x| format!(", СНИЛС {x}"))
                .unwrap_or_default();
            format!("{} ({}{sn})", c.name.full(), ru_date(c.birth_date))
        }),
        assignee: v.assignee.unwrap_or_else(|| "не назначен".into()),
        history,
        duplicates: v.duplicates,
        add_is_secondary: v.candidates.iter().any(|c| c.own),
        candidates: v
            .candidates
            .into_iter()
            .map(|line| candidate_view(line, s))
            .collect(),
        preview: Preview {
            applicant: format!("{} ({})", s.name.full(), ru_date(s.birth_date)),
            applicant_role: RosterRole::of_applicant(s.role).label(),
            student: v.student.map(student_line),
        },
        statuses: Status::SETTABLE
            .iter()
            .filter(|t| a.status.can_move_to(**t))
            .map(|t| opt(t.as_str(), t.label(), ""))
            .collect(),
        colleagues: v
            .colleagues
            .iter()
            .map(|c| opt(c.id.to_string(), full_name(c), &assigned))
            .collect(),
        forward_targets: v
            .forward_targets
            .into_iter()
            .map(|(o, m)| opt(o.id.to_string(), format!("{} ({m})", o.name), ""))
            .collect(),
        error,
    })
}

pub(super) async fn get(
    State(state): State<AppState>,
    user: StaffUser,
    Path(number): Path<String>,
) -> AppResult<Html<String>> {
    let v = review::open(&state.workflow, &user.actor, &number_of(&number)?).await?;
    Ok(html(page(&state, &user, v, None).await?)?)
}

/// The appeal page again, with the refusal next to the form that was sent: 409 when the
/// appeal's state is the reason, 422 when the input is.
pub(super) async fn refused(
    state: &AppState,
    user: &StaffUser,
    number: &AppealNumber,
    form: Form,
    refusal: Refusal,
    sent_text: &str,
) -> AppResult<Response> {
    let status = match refusal.kind() {
        RefusalKind::Conflict => StatusCode::CONFLICT,
        RefusalKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        RefusalKind::Forbidden | RefusalKind::Malformed => {
            // Outside the scope the answer is «not found», whatever the form said.
            review::ensure_in_scope(&state.workflow, &user.actor, number).await?;
            return Err(refusal.into());
        }
    };
    let v = review::open(&state.workflow, &user.actor, number).await?;
    let error = PageError::new(form, &refusal, v.appeal.status.is_open(), sent_text);
    Ok((status, html(page(state, user, v, Some(error)).await?)?).into_response())
}
