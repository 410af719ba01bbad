//! The staff workplace: choosing a role after sign-in, the inbox, the appeal page with
//! roster candidates, and the actions. Every route checks the staff member's scope and
//! answers 404 for anything outside it, whatever the URL or form says.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{NaiveDate, TimeZone, Utc};
use serde::Deserialize;

use super::AppState;
use super::actions::{self, Action};
use super::csrf::CsrfForm;
use super::error::{AppError, AppResult};
use super::security::html;
use super::session::{StaffSession, StaffUser};
use super::templates::{Layout, Opt, opt, roster_role_label, ru_date, ru_datetime};
use crate::domain::appeal::{NOTE_MAX_CHARS, STAFF_TEXT_MAX_CHARS, parse_text};
use crate::domain::applicant::{LoginRole, Snapshot};
use crate::domain::candidates::{self, Field, RosterEntry, Wanted};
use crate::domain::names::{PersonName, normalize};
use crate::domain::number::AppealNumber;
use crate::domain::staff::{Scope, StaffRole};
use crate::domain::status::Status;
use crate::mail::messages::{self, StaffNotice};
use crate::store::appeals::{self as appeal_store, Applied, Change, RosterChange, StudentRecord};
use crate::store::directory::{self, Placement};
use crate::store::entities::{appeal, staff as staff_entity};
use crate::store::inbox::{self, AssigneeFilter, Cursor, InboxQuery, StatusFilter};
use crate::store::roster::{self, NewPerson};
use crate::store::staff;

const PAGE_SIZE: u64 = 50;
/// Standard resolution when staff fix the roster and link the account (seed 003).
const LINKED_TEXT: &str = "Данные в системе исправлены, учётная запись Госуслуг связана с вашей учётной записью в системе. Войдите снова через Госуслуги.";

fn staff_name(s: &staff_entity::Model) -> String {
    PersonName::new(&s.last_name, &s.first_name, &s.middle_name).full()
}

// ---------------------------------------------------------------- choosing a role

pub struct RoleChoice {
    pub id: i32,
    pub role: &'static str,
    pub unit: String,
}

#[derive(Template)]
#[template(path = "staff/choose.html")]
struct ChoosePage {
    layout: Layout,
    choices: Vec<RoleChoice>,
}

async fn choose_get(
    State(state): State<AppState>,
    session: tower_sessions::Session,
) -> AppResult<Html<String>> {
    let s = StaffSession::load(&session)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let mut choices = Vec::new();
    for id in &s.records {
        let Some(record) = staff::by_id(&state.db, *id).await? else {
            continue;
        };
        let unit = match (record.organization_id, record.municipality_id) {
            (Some(o), _) => directory::organization(&state.db, o).await?.map(|o| o.name),
            (None, Some(m)) => directory::municipality(&state.db, m).await?.map(|m| m.name),
            _ => None,
        };
        choices.push(RoleChoice {
            id: record.id,
            role: StaffRole::parse(&record.role)
                .map(StaffRole::label)
                .unwrap_or("—"),
            unit: unit.unwrap_or_else(|| "Все организации".into()),
        });
    }
    Ok(html(ChoosePage {
        layout: Layout::staff(&session).await?,
        choices,
    })?)
}

#[derive(Deserialize)]
struct ChooseForm {
    staff_id: Option<String>,
}

async fn choose_post(
    session: tower_sessions::Session,
    CsrfForm(form): CsrfForm<ChooseForm>,
) -> AppResult<Redirect> {
    let s = StaffSession::load(&session)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let id = form
        .staff_id
        .and_then(|v| v.parse().ok())
        .ok_or(AppError::NotFound)?;
    if !s.choose(&session, id).await? {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::to("/staff/inbox"))
}

// ---------------------------------------------------------------- inbox

#[derive(Debug, Default, Deserialize)]
struct InboxParams {
    status: Option<String>,
    class_id: Option<String>,
    assignee: Option<String>,
    overdue: Option<String>,
    from: Option<String>,
    to: Option<String>,
    q: Option<String>,
    cursor: Option<String>,
}

pub struct InboxLine {
    pub number: String,
    pub created: String,
    pub due: String,
    pub overdue: bool,
    pub organization: String,
    pub class_name: String,
    pub subject: String,
    pub status: &'static str,
    pub assignee: String,
    pub more_in_group: i64,
}

pub struct Tab {
    pub label: &'static str,
    pub status: &'static str,
    pub count: i64,
}

#[derive(Template)]
#[template(path = "staff/inbox.html")]
struct InboxPage {
    layout: Layout,
    who: String,
    tabs: Vec<Tab>,
    statuses: Vec<Opt>,
    classes: Vec<Opt>,
    assignees: Vec<Opt>,
    overdue: bool,
    from: String,
    to: String,
    q: String,
    lines: Vec<InboxLine>,
    next_url: Option<String>,
    notify_digest: bool,
}

fn local_day_start(state: &AppState, s: Option<&str>) -> AppResult<Option<chrono::DateTime<Utc>>> {
    let Some(s) = s.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let day = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .filter(|d| (2000..=2100).contains(&chrono::Datelike::year(d)))
        .ok_or_else(|| AppError::BadRequest("Дата должна быть в формате ГГГГ-ММ-ДД.".into()))?;
    let start = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    Ok(state
        .offset
        .from_local_datetime(&start)
        .single()
        .map(|t| t.with_timezone(&Utc)))
}

async fn inbox_get(
    State(state): State<AppState>,
    user: StaffUser,
    Query(p): Query<InboxParams>,
) -> AppResult<Html<String>> {
    let status_param = p.status.clone().unwrap_or_else(|| "open".into());
    let status = match status_param.as_str() {
        "open" | "" => StatusFilter::Open,
        "all" => StatusFilter::All,
        s => StatusFilter::Only(
            Status::parse(s)
                .ok_or_else(|| AppError::BadRequest("Неизвестный статус обращения.".into()))?,
        ),
    };
    let assignee_param = p.assignee.clone().unwrap_or_default();
    let assignee = match assignee_param.as_str() {
        "" | "any" => AssigneeFilter::Any,
        "none" => AssigneeFilter::Unassigned,
        "me" => AssigneeFilter::Staff(user.staff.id),
        other => AssigneeFilter::Staff(
            other
                .parse()
                .map_err(|_| AppError::BadRequest("Неизвестный исполнитель.".into()))?,
        ),
    };
    let class_id = match p.class_id.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => Some(
            c.parse()
                .map_err(|_| AppError::BadRequest("Неизвестный класс.".into()))?,
        ),
        None => None,
    };
    let cursor = match p.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => Some(Cursor::decode(c).ok_or_else(|| {
            AppError::BadRequest(
                "Ссылка на страницу списка устарела. Откройте список заново.".into(),
            )
        })?),
        None => None,
    };
    let created_from = local_day_start(&state, p.from.as_deref())?;
    let created_before =
        local_day_start(&state, p.to.as_deref())?.map(|t| t + chrono::Duration::days(1));
    let q = p.q.clone().unwrap_or_default();
    if q.chars().count() > 200 {
        return Err(AppError::BadRequest(
            "Строка поиска длиннее 200 символов.".into(),
        ));
    }
    let now = Utc::now();
    let query = InboxQuery {
        scope: user.scope,
        status,
        class_id,
        assignee,
        overdue: p.overdue.as_deref() == Some("1"),
        created_from,
        created_before,
        search: Some(normalize(&q)).filter(|s| !s.is_empty()),
        cursor,
        limit: PAGE_SIZE,
        now,
    };
    let page = inbox::page(&state.db, &query).await?;
    let orgs: HashMap<i32, String> = directory::organizations_in_scope(&state.db, user.scope)
        .await?
        .into_iter()
        .map(|(o, _)| (o.id, o.name))
        .collect();
    let mut classes_by_id = HashMap::new();
    let mut class_opts = vec![opt("", "Все классы", "")];
    if let Scope::Organization(o) = user.scope {
        for c in directory::classes(&state.db, o).await? {
            class_opts.push(opt(
                c.id.to_string(),
                c.name.clone(),
                p.class_id.as_deref().unwrap_or(""),
            ));
            classes_by_id.insert(c.id, c.name);
        }
    }
    let single_org = match user.scope {
        Scope::Organization(o) => Some(o),
        _ => None,
    };
    let colleagues = colleagues_for(&state, &user, single_org).await?;
    let mut names: HashMap<i32, String> =
        colleagues.iter().map(|s| (s.id, staff_name(s))).collect();
    for id in page.rows.iter().filter_map(|r| r.appeal.assigned_staff_id) {
        if let std::collections::hash_map::Entry::Vacant(e) = names.entry(id) {
            e.insert(
                staff::by_id(&state.db, id)
                    .await?
                    .map(|s| staff_name(&s))
                    .unwrap_or_default(),
            );
        }
    }
    let mut lines = Vec::with_capacity(page.rows.len());
    for row in page.rows {
        let a = row.appeal;
        let snapshot: Option<Snapshot> = serde_json::from_str(&a.snapshot).ok();
        let class_name = match classes_by_id.get(&a.class_id) {
            Some(c) => c.clone(),
            None => directory::class(&state.db, a.class_id)
                .await?
                .map(|c| c.name)
                .unwrap_or_default(),
        };
        let status = Status::parse(&a.status);
        lines.push(InboxLine {
            overdue: status.is_some_and(Status::is_open) && a.due_at < now,
            number: a.number,
            created: ru_datetime(a.created_at, state.offset),
            due: ru_datetime(a.due_at, state.offset),
            organization: orgs.get(&a.organization_id).cloned().unwrap_or_default(),
            class_name,
            subject: snapshot
                .map(|s| s.subject_name().full())
                .unwrap_or_default(),
            status: status.map(Status::label).unwrap_or("—"),
            assignee: a
                .assigned_staff_id
                .and_then(|id| names.get(&id).cloned())
                .unwrap_or_default(),
            more_in_group: row.group_size - 1,
        });
    }
    let counts: HashMap<String, i64> = inbox::status_counts(&state.db, user.scope)
        .await?
        .into_iter()
        .collect();
    let tabs = Status::ALL
        .iter()
        .map(|s| Tab {
            label: s.label(),
            status: s.as_str(),
            count: counts.get(s.as_str()).copied().unwrap_or(0),
        })
        .collect();
    let mut statuses = vec![
        opt("open", "Открытые", &status_param),
        opt("all", "Все", &status_param),
    ];
    statuses.extend(
        Status::ALL
            .iter()
            .map(|s| opt(s.as_str(), s.label(), &status_param)),
    );
    let mut assignees = vec![
        opt("any", "Все исполнители", &assignee_param),
        opt("none", "Не назначено", &assignee_param),
        opt("me", "Назначено мне", &assignee_param),
    ];
    assignees.extend(
        colleagues
            .iter()
            .filter(|c| c.id != user.staff.id)
            .map(|c| opt(c.id.to_string(), staff_name(c), &assignee_param)),
    );
    let next_url = page.next.map(|c| {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("status", p.status.as_deref()),
            ("class_id", p.class_id.as_deref()),
            ("assignee", p.assignee.as_deref()),
            ("overdue", p.overdue.as_deref()),
            ("from", p.from.as_deref()),
            ("to", p.to.as_deref()),
            ("q", p.q.as_deref()),
        ] {
            if let Some(v) = v.filter(|v| !v.is_empty()) {
                q.append_pair(k, v);
            }
        }
        q.append_pair("cursor", &c.encode());
        format!("/staff/inbox?{}", q.finish())
    });
    Ok(html(InboxPage {
        layout: Layout::staff(&user.session).await?,
        who: format!(
            "{}, {}",
            staff_name(&user.staff),
            StaffRole::parse(&user.staff.role)
                .map(StaffRole::label)
                .unwrap_or("")
        ),
        tabs,
        statuses,
        classes: if class_opts.len() > 1 {
            class_opts
        } else {
            Vec::new()
        },
        assignees,
        overdue: query.overdue,
        from: p.from.unwrap_or_default(),
        to: p.to.unwrap_or_default(),
        q,
        lines,
        next_url,
        notify_digest: user.staff.notify_digest,
    })?)
}

/// Staff who may be assigned appeals of the user's scope.
/// Staff an appeal of `organization` may be assigned to: its responsible staff, and the
/// user themself (an operator may take it on).
async fn colleagues_for(
    state: &AppState,
    user: &StaffUser,
    organization: Option<i32>,
) -> AppResult<Vec<staff_entity::Model>> {
    let mut out = match organization {
        Some(o) => staff::responsible_of(&state.db, o).await?,
        None => Vec::new(),
    };
    if !out.iter().any(|s| s.id == user.staff.id) {
        out.push(user.staff.clone());
    }
    Ok(out)
}

// ---------------------------------------------------------------- the appeal page

/// The appeal, if the user's scope covers its organization; 404 otherwise.
async fn appeal_in_scope(
    state: &AppState,
    user: &StaffUser,
    number: &str,
) -> AppResult<(appeal::Model, Placement)> {
    let number = AppealNumber::parse(number)
        .ok_or(AppError::NotFound)?
        .to_string();
    let a = appeal_store::by_number(&state.db, &number)
        .await?
        .ok_or(AppError::NotFound)?;
    let place = placement_in_scope(state, user, a.organization_id).await?;
    Ok((a, place))
}

/// The organization with its place in the hierarchy, if the user's scope covers it.
async fn placement_in_scope(
    state: &AppState,
    user: &StaffUser,
    organization_id: i32,
) -> AppResult<Placement> {
    let place = directory::placement(&state.db, organization_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !place.covered_by(user.scope) {
        return Err(AppError::NotFound);
    }
    Ok(place)
}

pub struct Cell {
    pub text: String,
    pub differs: bool,
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
    /// The applicant's own record can be fixed and linked; the child's is shown for
    /// comparison.
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
    created: String,
    due: String,
    overdue: bool,
    comment: Option<String>,
    fio: String,
    birth_date: String,
    email: String,
    role: &'static str,
    snils: String,
    child: Option<String>,
    assignee: String,
    history: Vec<EventView>,
    duplicates: Vec<String>,
    candidates: Vec<CandidateView>,
    preview: Preview,
    statuses: Vec<Opt>,
    colleagues: Vec<Opt>,
    forward_targets: Vec<Opt>,
    error: Option<String>,
}

fn cell(text: String, differs: bool) -> Cell {
    Cell { text, differs }
}

async fn candidate_views(
    state: &AppState,
    org: i32,
    role: &str,
    wanted: Wanted<'_>,
    linkable: bool,
) -> AppResult<Vec<CandidateView>> {
    let pool = roster::of_organization(&state.db, org, role).await?;
    let class_ids: std::collections::HashSet<i32> =
        pool.iter().filter_map(|p| p.class_id).collect();
    let class_names: HashMap<i32, String> = directory::classes(&state.db, org)
        .await?
        .into_iter()
        .filter(|c| class_ids.contains(&c.id))
        .map(|c| (c.id, c.name))
        .collect();
    let class_of: HashMap<i32, Option<i32>> = pool.iter().map(|p| (p.id, p.class_id)).collect();
    let entries = pool
        .into_iter()
        .map(|p| RosterEntry {
            id: p.id,
            role: p.role.clone(),
            name: PersonName::new(&p.last_name, &p.first_name, &p.middle_name),
            birth_date: p.birth_date,
            snils: p.snils.clone(),
        })
        .collect();
    Ok(candidates::rank(&wanted, entries)
        .into_iter()
        .map(|c| {
            let d = |f: Field| c.differs.contains(&f);
            let class_name = class_of
                .get(&c.entry.id)
                .copied()
                .flatten()
                .and_then(|id| class_names.get(&id).cloned())
                .unwrap_or_default();
            CandidateView {
                id: c.entry.id,
                role: roster_role_label(&c.entry.role),
                class_name,
                last: cell(c.entry.name.last.clone(), d(Field::LastName)),
                first: cell(c.entry.name.first.clone(), d(Field::FirstName)),
                middle: cell(c.entry.name.middle.clone(), d(Field::MiddleName)),
                birth: cell(ru_date(c.entry.birth_date), d(Field::BirthDate)),
                snils: cell(
                    c.entry.snils.clone().unwrap_or_else(|| "не указан".into()),
                    d(Field::Snils),
                ),
                reason: c.reason.label(),
                linkable,
            }
        })
        .collect())
}

async fn appeal_page(
    state: &AppState,
    user: &StaffUser,
    a: &appeal::Model,
    place: &Placement,
    error: Option<String>,
) -> AppResult<AppealPage> {
    let s: Snapshot = serde_json::from_str(&a.snapshot).map_err(anyhow::Error::from)?;
    let status =
        Status::parse(&a.status).ok_or_else(|| anyhow::anyhow!("unknown status in database"))?;
    let class = directory::class(&state.db, a.class_id).await?;
    // After forwarding, the class belongs to the previous school and is not offered here.
    let class_here = class
        .as_ref()
        .filter(|c| c.organization_id == a.organization_id)
        .map(|c| c.name.clone());
    let class_name = class.map(|c| c.name).unwrap_or_default();
    let mut staff_names: HashMap<i32, String> = HashMap::new();
    let mut history = Vec::new();
    for e in appeal_store::events(&state.db, a.id).await? {
        let who = match e.actor_staff_id {
            Some(id) => {
                if let std::collections::hash_map::Entry::Vacant(v) = staff_names.entry(id) {
                    v.insert(
                        staff::by_id(&state.db, id)
                            .await?
                            .map(|s| staff_name(&s))
                            .unwrap_or_default(),
                    );
                }
                staff_names[&id].clone()
            }
            None if e.actor == appeal_store::ACTOR_APPLICANT => "Заявитель".to_string(),
            None => "Система".to_string(),
        };
        history.push(EventView {
            at: ru_datetime(e.created_at, state.offset),
            who,
            internal: e.kind == "note",
            text: super::appeals::event_text(&e.kind, e.to_status.as_deref(), e.message),
        });
    }
    let own_role = if s.role == LoginRole::Student {
        "student"
    } else {
        "parent"
    };
    let snils = s.snils.as_ref().map(|x| x.to_string());
    let wanted = Wanted {
        name: &s.name,
        birth_date: s.birth_date,
        snils: snils.as_deref(),
    };
    let mut candidates = candidate_views(state, a.organization_id, own_role, wanted, true).await?;
    let student = match &s.child {
        Some(child) => {
            let child_snils = child.snils.as_ref().map(|x| x.to_string());
            let wanted = Wanted {
                name: &child.name,
                birth_date: child.birth_date,
                snils: child_snils.as_deref(),
            };
            candidates
                .extend(candidate_views(state, a.organization_id, "student", wanted, false).await?);
            let existing = roster::find_student(
                &state.db,
                a.organization_id,
                &child.name.norm(),
                child.birth_date,
            )
            .await?;
            Some(match existing {
                Some(_) => format!(
                    "{} — уже есть в списке обучающихся, будет связан с родителем",
                    child.name.full()
                ),
                None => match &class_here {
                    Some(c) => format!(
                        "{} ({}) — будет добавлен в класс {c}",
                        child.name.full(),
                        ru_date(child.birth_date)
                    ),
                    None => format!(
                        "{} ({}) — будет добавлен без класса: укажите класс в системе",
                        child.name.full(),
                        ru_date(child.birth_date)
                    ),
                },
            })
        }
        None => None,
    };
    let colleagues = colleagues_for(state, user, Some(a.organization_id)).await?;
    let assignee = match a.assigned_staff_id {
        Some(id) => staff::by_id(&state.db, id).await?.map(|s| staff_name(&s)),
        None => None,
    };
    let assigned = a
        .assigned_staff_id
        .map(|i| i.to_string())
        .unwrap_or_default();
    let duplicates = appeal_store::open_duplicates(&state.db, a)
        .await?
        .into_iter()
        .map(|d| d.number)
        .collect();
    let forward_targets = directory::organizations(&state.db, &Default::default())
        .await?
        .into_iter()
        .filter(|(o, _)| o.id != a.organization_id)
        .map(|(o, m)| opt(o.id.to_string(), format!("{} ({m})", o.name), ""))
        .collect();
    let now = Utc::now();
    Ok(AppealPage {
        layout: Layout::staff(&user.session).await?,
        number: a.number.clone(),
        version: a.version,
        status: status.label(),
        is_open: status.is_open(),
        organization: place.organization.name.clone(),
        class_name,
        created: ru_datetime(a.created_at, state.offset),
        due: ru_datetime(a.due_at, state.offset),
        overdue: status.is_open() && a.due_at < now,
        comment: a.comment.clone(),
        fio: s.name.full(),
        birth_date: ru_date(s.birth_date),
        email: s.email.clone().unwrap_or_else(|| "не указан".into()),
        role: s.role.label(),
        snils: snils.unwrap_or_else(|| "не указан".into()),
        child: s.child.as_ref().map(|c| {
            let sn = c
                .snils
                .as_ref()
                .map(|x| format!(", СНИЛС {x}"))
                .unwrap_or_default();
            format!("{} ({}{sn})", c.name.full(), ru_date(c.birth_date))
        }),
        assignee: assignee.unwrap_or_else(|| "не назначен".into()),
        history,
        duplicates,
        candidates,
        preview: Preview {
            applicant: format!("{} ({})", s.name.full(), ru_date(s.birth_date)),
            applicant_role: if s.role == LoginRole::Student {
                "Обучающийся"
            } else {
                "Родитель"
            },
            student,
        },
        statuses: Status::SETTABLE
            .iter()
            .filter(|t| status.can_move_to(**t))
            .map(|t| opt(t.as_str(), t.label(), ""))
            .collect(),
        colleagues: colleagues
            .iter()
            .map(|c| opt(c.id.to_string(), staff_name(c), &assigned))
            .collect(),
        forward_targets,
        error,
    })
}

async fn appeal_get(
    State(state): State<AppState>,
    user: StaffUser,
    Path(number): Path<String>,
) -> AppResult<Html<String>> {
    let (a, place) = appeal_in_scope(&state, &user, &number).await?;
    appeal_store::log_access(&state.db, a.id, user.staff.id, "view", Utc::now()).await?;
    Ok(html(appeal_page(&state, &user, &a, &place, None).await?)?)
}

/// The appeal page again, with what went wrong on top.
async fn rejected(
    state: &AppState,
    user: &StaffUser,
    number: &str,
    status: StatusCode,
    message: &str,
) -> AppResult<Response> {
    let (a, place) = appeal_in_scope(state, user, number).await?;
    appeal_store::log_access(&state.db, a.id, user.staff.id, "view", Utc::now()).await?;
    let page = appeal_page(state, user, &a, &place, Some(message.to_string())).await?;
    Ok((status, html(page)?).into_response())
}

const CONFLICT: &str = "Обращение уже изменил другой сотрудник. Ниже — актуальное состояние; повторите действие, если оно ещё нужно.";

/// Runs a staff action and answers: back to the appeal, or the page with the conflict.
/// `after` defaults to the appeal's own page.
async fn finish(
    state: &AppState,
    user: &StaffUser,
    a: &appeal::Model,
    action: Action,
    after: Option<&str>,
) -> AppResult<Response> {
    appeal_store::log_access(&state.db, a.id, user.staff.id, action.kind, Utc::now()).await?;
    match actions::perform(state, a, action).await? {
        Applied::Done => {
            let back = format!("/staff/appeals/{}", a.number);
            Ok(Redirect::to(after.unwrap_or(&back)).into_response())
        }
        Applied::Conflict => rejected(state, user, &a.number, StatusCode::CONFLICT, CONFLICT).await,
    }
}

/// The page's forms carry the version they were rendered from; a client that sends none
/// acts on the version just read (the UPDATE still refuses if it changed meanwhile).
fn version_matches(form_version: Option<&str>, a: &appeal::Model) -> bool {
    match form_version.map(str::trim).filter(|v| !v.is_empty()) {
        None => true,
        Some(v) => v.parse::<i32>().ok() == Some(a.version),
    }
}

#[derive(Deserialize)]
struct StatusForm {
    status: Option<String>,
    resolution: Option<String>,
    version: Option<String>,
}

async fn status_post(
    State(state): State<AppState>,
    user: StaffUser,
    Path(number): Path<String>,
    CsrfForm(form): CsrfForm<StatusForm>,
) -> AppResult<Response> {
    let (a, _) = appeal_in_scope(&state, &user, &number).await?;
    let Some(to) = form
        .status
        .as_deref()
        .and_then(Status::parse)
        .filter(|s| Status::SETTABLE.contains(s))
    else {
        return rejected(
            &state,
            &user,
            &number,
            StatusCode::UNPROCESSABLE_ENTITY,
            "Неизвестный статус.",
        )
        .await;
    };
    let text = match parse_text(
        form.resolution.as_deref().unwrap_or_default(),
        STAFF_TEXT_MAX_CHARS,
    ) {
        Ok(t) => t,
        Err(e) => {
            return rejected(
                &state,
                &user,
                &number,
                StatusCode::UNPROCESSABLE_ENTITY,
                &e.to_string(),
            )
            .await;
        }
    };
    if !version_matches(form.version.as_deref(), &a) {
        return rejected(&state, &user, &number, StatusCode::CONFLICT, CONFLICT).await;
    }
    let from =
        Status::parse(&a.status).ok_or_else(|| anyhow::anyhow!("unknown status in database"))?;
    if !from.can_move_to(to) {
        let msg = format!(
            "Нельзя перевести обращение из статуса «{}» в «{}».",
            from.label(),
            to.label()
        );
        return rejected(&state, &user, &number, StatusCode::CONFLICT, &msg).await;
    }
    if to.requires_text() && text.is_none() {
        let msg = match to {
            Status::NeedsInfo => "Напишите, какие сведения нужны от заявителя.",
            Status::Rejected => "Укажите причину отказа.",
            _ => "Укажите текст решения: он будет отправлен заявителю.",
        };
        return rejected(
            &state,
            &user,
            &number,
            StatusCode::UNPROCESSABLE_ENTITY,
            msg,
        )
        .await;
    }
    let action = Action::status(to, text, Some(user.staff.id));
    finish(&state, &user, &a, action, None).await
}

#[derive(Deserialize)]
struct AssignForm {
    staff_id: Option<String>,
    version: Option<String>,
}

async fn assign_post(
    State(state): State<AppState>,
    user: StaffUser,
    Path(number): Path<String>,
    CsrfForm(form): CsrfForm<AssignForm>,
) -> AppResult<Response> {
    let (a, place) = appeal_in_scope(&state, &user, &number).await?;
    if !Status::parse(&a.status).is_some_and(Status::is_open) {
        let msg = "Обращение закрыто: назначать исполнителя больше не нужно.";
        return rejected(&state, &user, &number, StatusCode::CONFLICT, msg).await;
    }
    let target = match form.staff_id.as_deref().unwrap_or_default() {
        "" => None,
        "me" => Some(user.staff.clone()),
        id => Some(
            staff::by_id(&state.db, id.parse().map_err(|_| AppError::NotFound)?)
                .await?
                .ok_or(AppError::NotFound)?,
        ),
    };
    if let Some(t) = &target {
        // A colleague must be able to see the appeal themself.
        let covers = staff::scope(t).is_some_and(|s| place.covered_by(s));
        if !t.active || !covers {
            let msg = "Назначить можно только сотрудника, который работает с обращениями этой организации.";
            return rejected(
                &state,
                &user,
                &number,
                StatusCode::UNPROCESSABLE_ENTITY,
                msg,
            )
            .await;
        }
    }
    if !version_matches(form.version.as_deref(), &a) {
        return rejected(&state, &user, &number, StatusCode::CONFLICT, CONFLICT).await;
    }
    let action = Action {
        kind: "assigned",
        status: None,
        text: Some(match &target {
            Some(t) => format!("Исполнитель: {}.", staff_name(t)),
            None => "Исполнитель снят.".to_string(),
        }),
        extra_mail: Vec::new(),
        extra_events: Vec::new(),
        digest_staff: Vec::new(),
        actor_staff_id: Some(user.staff.id),
        by_applicant: false,
        change: Change {
            assigned_staff_id: Some(target.map(|t| t.id)),
            ..Default::default()
        },
        roster: RosterChange::None,
        forwarded_to: None,
    };
    finish(&state, &user, &a, action, None).await
}

#[derive(Deserialize)]
struct NoteForm {
    text: Option<String>,
}

async fn notes_post(
    State(state): State<AppState>,
    user: StaffUser,
    Path(number): Path<String>,
    CsrfForm(form): CsrfForm<NoteForm>,
) -> AppResult<Response> {
    let (a, _) = appeal_in_scope(&state, &user, &number).await?;
    let text = match parse_text(form.text.as_deref().unwrap_or_default(), NOTE_MAX_CHARS) {
        Ok(Some(t)) => t,
        Ok(None) => {
            return rejected(
                &state,
                &user,
                &number,
                StatusCode::UNPROCESSABLE_ENTITY,
                "Заметка пуста.",
            )
            .await;
        }
        Err(e) => {
            return rejected(
                &state,
                &user,
                &number,
                StatusCode::UNPROCESSABLE_ENTITY,
                &e.to_string(),
            )
            .await;
        }
    };
    appeal_store::add_note(&state.db, a.id, user.staff.id, text, Utc::now()).await?;
    Ok(Redirect::to(&format!("/staff/appeals/{number}")).into_response())
}

#[derive(Deserialize)]
struct ForwardForm {
    organization_id: Option<String>,
    resolution: Option<String>,
    version: Option<String>,
}

async fn forward_post(
    State(state): State<AppState>,
    user: StaffUser,
    Path(number): Path<String>,
    CsrfForm(form): CsrfForm<ForwardForm>,
) -> AppResult<Response> {
    let (a, _) = appeal_in_scope(&state, &user, &number).await?;
    let target = match form.organization_id.as_deref().and_then(|v| v.parse().ok()) {
        Some(id) if id != a.organization_id => directory::organization(&state.db, id).await?,
        _ => None,
    };
    let Some(target) = target else {
        let msg = "Выберите другую организацию из списка.";
        return rejected(
            &state,
            &user,
            &number,
            StatusCode::UNPROCESSABLE_ENTITY,
            msg,
        )
        .await;
    };
    let reason = match parse_text(
        form.resolution.as_deref().unwrap_or_default(),
        STAFF_TEXT_MAX_CHARS,
    ) {
        Ok(Some(t)) => t,
        Ok(None) => {
            let msg = "Укажите, почему обращение направляется в другую организацию: заявитель получит это пояснение.";
            return rejected(
                &state,
                &user,
                &number,
                StatusCode::UNPROCESSABLE_ENTITY,
                msg,
            )
            .await;
        }
        Err(e) => {
            return rejected(
                &state,
                &user,
                &number,
                StatusCode::UNPROCESSABLE_ENTITY,
                &e.to_string(),
            )
            .await;
        }
    };
    let from = Status::parse(&a.status).unwrap_or(Status::New);
    if !from.can_move_to(Status::Forwarded) {
        let msg = format!(
            "Обращение в статусе «{}» перенаправить нельзя.",
            from.label()
        );
        return rejected(&state, &user, &number, StatusCode::CONFLICT, &msg).await;
    }
    if !version_matches(form.version.as_deref(), &a) {
        return rejected(&state, &user, &number, StatusCode::CONFLICT, CONFLICT).await;
    }
    // The receiving organization's staff hear about it like about a new appeal.
    let facts = staff::routing_facts(&state.db, target.id, target.municipality_id).await?;
    let route = crate::domain::routing::route(facts.responsible, facts.municipal);
    let class_name = directory::class(&state.db, a.class_id)
        .await?
        .map(|c| c.name)
        .unwrap_or_default();
    let recipients = super::appeals::staff_to_notify(&state, &target, route).await?;
    let mut extra_mail = Vec::new();
    for to in &recipients.now {
        extra_mail.push(messages::staff_notice(
            StaffNotice::New,
            to,
            &a,
            &target.name,
            &class_name,
            &state.public_url,
        )?);
    }
    // The class list belongs to the old organization; the receiving one keeps the id
    // for reference and picks the class when it answers.
    let action = Action {
        kind: "status",
        status: Some(Status::Forwarded),
        text: Some(reason),
        actor_staff_id: Some(user.staff.id),
        by_applicant: false,
        change: Change {
            status: Some(Status::Forwarded),
            organization_id: Some(target.id),
            assigned_staff_id: Some(None),
        },
        roster: RosterChange::None,
        forwarded_to: Some(target.name.clone()),
        extra_mail,
        extra_events: vec![appeal_store::Event {
            kind: "routed",
            to: None,
            actor: appeal_store::ACTOR_STAFF,
            actor_staff_id: Some(user.staff.id),
            message: Some(format!(
                "Обращение перенаправлено в организацию «{}».",
                target.name
            )),
        }],
        digest_staff: recipients.digest_ids(),
    };
    finish(&state, &user, &a, action, Some("/staff/inbox")).await
}

#[derive(Deserialize)]
struct LinkForm {
    mode: Option<String>,
    roster_person_id: Option<String>,
    version: Option<String>,
}

async fn link_post(
    State(state): State<AppState>,
    user: StaffUser,
    Path(number): Path<String>,
    CsrfForm(form): CsrfForm<LinkForm>,
) -> AppResult<Response> {
    let (a, _) = appeal_in_scope(&state, &user, &number).await?;
    let s: Snapshot = serde_json::from_str(&a.snapshot).map_err(anyhow::Error::from)?;
    let from = Status::parse(&a.status).unwrap_or(Status::New);
    if !from.can_move_to(Status::Resolved) {
        let msg = format!("Обращение в статусе «{}» уже закрыто.", from.label());
        return rejected(&state, &user, &number, StatusCode::CONFLICT, &msg).await;
    }
    if !version_matches(form.version.as_deref(), &a) {
        return rejected(&state, &user, &number, StatusCode::CONFLICT, CONFLICT).await;
    }
    let own_role = if s.role == LoginRole::Student {
        "student"
    } else {
        "parent"
    };
    let snils = s.snils.as_ref().map(|x| x.digits().to_string());
    let roster_change = match form.mode.as_deref() {
        Some("fix") => {
            let id: i32 = form
                .roster_person_id
                .as_deref()
                .and_then(|v| v.parse().ok())
                .ok_or(AppError::NotFound)?;
            let person = roster::person(&state.db, id)
                .await?
                .ok_or(AppError::NotFound)?;
            // Only a record of this appeal's school, and of the applicant's kind.
            if person.organization_id != a.organization_id || person.role != own_role {
                return Err(AppError::NotFound);
            }
            // A record somebody else already signs in with is not this applicant's to take.
            if roster::linked_oids(&state.db, id)
                .await?
                .iter()
                .any(|o| *o != s.oid)
            {
                let msg = "Эта запись уже связана с другой учётной записью Госуслуг. Проверьте данные: возможно, это другой человек.";
                return rejected(&state, &user, &number, StatusCode::CONFLICT, msg).await;
            }
            RosterChange::Fix {
                person_id: id,
                name: s.name.clone(),
                birth_date: s.birth_date,
                snils,
                oid: s.oid.clone(),
            }
        }
        Some("create") => {
            // A forwarded appeal still names the old school's class: never file people
            // of this school into another school's class.
            let class_here = directory::class(&state.db, a.class_id)
                .await?
                .filter(|c| c.organization_id == a.organization_id)
                .map(|c| c.id);
            let applicant = NewPerson {
                organization_id: a.organization_id,
                role: own_role,
                name: s.name.clone(),
                birth_date: s.birth_date,
                snils,
                class_id: class_here.filter(|_| s.role == LoginRole::Student),
            };
            let student = match &s.child {
                None => StudentRecord::None,
                Some(child) => {
                    match roster::find_student(
                        &state.db,
                        a.organization_id,
                        &child.name.norm(),
                        child.birth_date,
                    )
                    .await?
                    {
                        Some(existing) => StudentRecord::Existing(existing.id),
                        None => StudentRecord::New(NewPerson {
                            organization_id: a.organization_id,
                            role: "student",
                            name: child.name.clone(),
                            birth_date: child.birth_date,
                            snils: child.snils.as_ref().map(|x| x.digits().to_string()),
                            class_id: class_here,
                        }),
                    }
                }
            };
            RosterChange::Create {
                applicant,
                student,
                oid: s.oid.clone(),
            }
        }
        _ => return Err(AppError::BadRequest("Неизвестное действие.".into())),
    };
    let action = Action {
        kind: "status",
        status: Some(Status::Resolved),
        text: Some(LINKED_TEXT.to_string()),
        actor_staff_id: Some(user.staff.id),
        by_applicant: false,
        change: Change {
            status: Some(Status::Resolved),
            ..Default::default()
        },
        roster: roster_change,
        forwarded_to: None,
        extra_mail: Vec::new(),
        extra_events: Vec::new(),
        digest_staff: Vec::new(),
    };
    appeal_store::log_access(&state.db, a.id, user.staff.id, action.kind, Utc::now()).await?;
    match actions::perform(&state, &a, action).await? {
        Applied::Done => {
            // Other open appeals of this applicant about this school are answered too; the
            // link is committed, so a failure here is logged, not shown as an error.
            if let Err(e) =
                actions::resolve_after_link(&state, &s.oid, a.organization_id, LINKED_TEXT).await
            {
                tracing::error!(error = %e, appeal_id = a.id, "other open appeals not resolved after link");
            }
            Ok(Redirect::to(&format!("/staff/appeals/{number}")).into_response())
        }
        Applied::Conflict => rejected(&state, &user, &number, StatusCode::CONFLICT, CONFLICT).await,
    }
}

#[derive(Template)]
#[template(path = "staff/code.html")]
struct CodePage {
    layout: Layout,
    code: String,
    person: String,
    number: String,
}

#[derive(Deserialize)]
struct CodeForm {
    number: Option<String>,
}

/// «Привязать учетную запись»: a one-time code for a roster person of an appeal the user
/// may see; shown once, stored only as a hash.
async fn binding_code_post(
    State(state): State<AppState>,
    user: StaffUser,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> AppResult<Html<String>> {
    let id: i32 = id.parse().map_err(|_| AppError::NotFound)?;
    let person = roster::person(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    placement_in_scope(&state, &user, person.organization_id).await?;
    if !matches!(person.role.as_str(), "parent" | "student") {
        return Err(AppError::NotFound);
    }
    if !roster::linked_oids(&state.db, id).await?.is_empty() {
        return Err(AppError::Conflict(
            "Эта запись уже связана с учётной записью Госуслуг; новый код не нужен. Если связь ошибочна, обратитесь к администратору.".into(),
        ));
    }
    // Issued from an appeal: the appeal's history says so.
    let appeal = match form.number.as_deref().and_then(AppealNumber::parse) {
        Some(n) => Some(appeal_in_scope(&state, &user, &n.to_string()).await?.0),
        None => None,
    };
    if appeal
        .as_ref()
        .is_some_and(|a| a.organization_id != person.organization_id)
    {
        return Err(AppError::NotFound);
    }
    let code =
        roster::issue_binding_code(&state.db, id, chrono::Duration::hours(72), Utc::now()).await?;
    if let Some(a) = &appeal {
        let now = Utc::now();
        appeal_store::log_access(&state.db, a.id, user.staff.id, "binding_code", now).await?;
        let event = appeal_store::Event {
            kind: "binding_code",
            to: None,
            actor: appeal_store::ACTOR_STAFF,
            actor_staff_id: Some(user.staff.id),
            message: Some(format!(
                "Выдан одноразовый код привязки для записи № {id} в списке."
            )),
        };
        appeal_store::record_event(&state.db, a.id, None, event, now).await?;
    }
    tracing::info!(
        roster_person_id = id,
        staff_id = user.staff.id,
        "binding code issued"
    );
    Ok(html(CodePage {
        layout: Layout::staff(&user.session).await?,
        code,
        person: PersonName::new(&person.last_name, &person.first_name, &person.middle_name).full(),
        number: form
            .number
            .filter(|n| AppealNumber::parse(n).is_some())
            .unwrap_or_default(),
    })?)
}

#[derive(Deserialize)]
struct SettingsForm {
    notify_digest: Option<String>,
}

/// Notification preference: an e-mail per new appeal, or an hourly digest.
async fn settings_post(
    State(state): State<AppState>,
    user: StaffUser,
    CsrfForm(form): CsrfForm<SettingsForm>,
) -> AppResult<Redirect> {
    let digest = form.notify_digest.as_deref() == Some("1");
    staff::set_notify_digest(&state.db, user.staff.id, digest).await?;
    Ok(Redirect::to("/staff/inbox"))
}

async fn staff_root() -> Redirect {
    Redirect::to("/staff/inbox")
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/staff", get(staff_root))
        .route("/staff/choose", get(choose_get).post(choose_post))
        .route("/staff/inbox", get(inbox_get))
        .route("/staff/settings", post(settings_post))
        .route("/staff/appeals/{number}", get(appeal_get))
        .route("/staff/appeals/{number}/status", post(status_post))
        .route("/staff/appeals/{number}/assign", post(assign_post))
        .route("/staff/appeals/{number}/notes", post(notes_post))
        .route("/staff/appeals/{number}/forward", post(forward_post))
        .route("/staff/appeals/{number}/link", post(link_post))
        .route("/staff/roster/{id}/binding-code", post(binding_code_post))
}
