//! The lists of the actor's scope: organizations (each with its roster), a roster
//! person's page, staff, and the audit log.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Html;

use super::{Search, Tabs};
use crate::store::entities::{audit_entry, esia_link, organization};
use crate::web::AppState;
use crate::web::error::AppResult;
use crate::web::security::html;
use crate::web::session::StaffUser;
use crate::web::templates::{Layout, ru_date, ru_datetime};
use crate::workflow::admin::{self, StaffLine, action_label};

/// A person in a list: id, ФИО, birth date, СНИЛС, archived (when).
pub(super) struct PersonLine {
    id: i32,
    name: String,
    born: String,
    role: &'static str,
    archived: String,
}

fn person_line(
    p: &crate::domain::roster::Person,
    archived: Option<chrono::DateTime<chrono::Utc>>,
    offset: chrono::FixedOffset,
) -> PersonLine {
    PersonLine {
        id: p.id,
        name: p.name.full(),
        born: ru_date(p.birth_date),
        role: match p.role {
            crate::domain::roster::RosterRole::Student => "обучающийся",
            _ => "родитель",
        },
        archived: archived.map(|t| ru_datetime(t, offset)).unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "admin/organizations.html")]
struct OrganizationsPage {
    layout: Layout,
    tabs: Tabs,
    q: String,
    list: Vec<(organization::Model, String)>,
}

pub(super) async fn organizations(
    State(state): State<AppState>,
    user: StaffUser,
    Query(search): Query<Search>,
) -> AppResult<Html<String>> {
    let list = admin::organizations(&state.workflow, &user.actor, search.text()).await?;
    Ok(html(OrganizationsPage {
        layout: Layout::new(&user.session).await?,
        tabs: Tabs {
            current: "/admin/organizations",
        },
        q: search.text().unwrap_or_default().to_string(),
        list,
    })?)
}

#[derive(Template)]
#[template(path = "admin/roster.html")]
struct RosterPage {
    layout: Layout,
    tabs: Tabs,
    q: String,
    roster_path: String,
    organization: organization::Model,
    people: Vec<PersonLine>,
}

pub(super) async fn roster(
    State(state): State<AppState>,
    user: StaffUser,
    Path(id): Path<i32>,
    Query(search): Query<Search>,
) -> AppResult<Html<String>> {
    let wf = &state.workflow;
    let (organization, people) = admin::roster(wf, &user.actor, id, search.text()).await?;
    Ok(html(RosterPage {
        layout: Layout::new(&user.session).await?,
        tabs: Tabs {
            current: "/admin/organizations",
        },
        q: search.text().unwrap_or_default().to_string(),
        roster_path: format!("/admin/organizations/{id}/roster"),
        organization,
        people: people
            .iter()
            .map(|(p, archived)| person_line(p, *archived, wf.offset()))
            .collect(),
    })?)
}

#[derive(Template)]
#[template(path = "admin/person.html")]
struct PersonPage {
    layout: Layout,
    tabs: Tabs,
    line: PersonLine,
    organization: organization::Model,
    snils: String,
    class: String,
    contacts: Vec<(&'static str, String)>,
    related: Vec<PersonLine>,
    links: Vec<(esia_link::Model, String)>,
    changes: Vec<(String, String, &'static str, String)>,
}

pub(super) async fn person(
    State(state): State<AppState>,
    user: StaffUser,
    Path(id): Path<i32>,
) -> AppResult<Html<String>> {
    let wf = &state.workflow;
    let offset = wf.offset();
    let v = admin::person(wf, &user.actor, id).await?;
    let c = &v.person.contacts;
    let contacts = [
        (
            "Пол",
            c.gender
                .as_deref()
                .map(|g| if g == "F" { "Ж" } else { "М" }.to_string()),
        ),
        ("E-mail", c.email.clone()),
        ("Телефон", c.phone.clone()),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect();
    Ok(html(PersonPage {
        layout: Layout::new(&user.session).await?,
        tabs: Tabs {
            current: "/admin/organizations",
        },
        line: person_line(&v.person, v.archived_at, offset),
        snils: v.person.snils.clone().unwrap_or_default(),
        class: v.class.unwrap_or_default(),
        contacts,
        related: v
            .related
            .iter()
            .map(|p| person_line(p, None, offset))
            .collect(),
        links: v
            .links
            .into_iter()
            .map(|l| {
                let when = ru_datetime(l.created_at, offset);
                (l, when)
            })
            .collect(),
        changes: history_lines(v.history, offset),
        organization: v.organization,
    })?)
}

/// (when, who, what, detail) of audit entries.
fn history_lines(
    entries: Vec<(audit_entry::Model, String)>,
    offset: chrono::FixedOffset,
) -> Vec<(String, String, &'static str, String)> {
    entries
        .into_iter()
        .map(|(e, who)| {
            (
                ru_datetime(e.at, offset),
                who,
                action_label(&e.action),
                e.detail,
            )
        })
        .collect()
}

#[derive(Template)]
#[template(path = "admin/staff.html")]
struct StaffPage {
    layout: Layout,
    tabs: Tabs,
    q: String,
    list: Vec<StaffLine>,
}

pub(super) async fn staff(
    State(state): State<AppState>,
    user: StaffUser,
    Query(search): Query<Search>,
) -> AppResult<Html<String>> {
    let list = admin::staff_list(&state.workflow, &user.actor, search.text()).await?;
    Ok(html(StaffPage {
        layout: Layout::new(&user.session).await?,
        tabs: Tabs {
            current: "/admin/staff",
        },
        q: search.text().unwrap_or_default().to_string(),
        list,
    })?)
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    layout: Layout,
    tabs: Tabs,
    changes: Vec<(String, String, &'static str, String)>,
}

pub(super) async fn audit(
    State(state): State<AppState>,
    user: StaffUser,
) -> AppResult<Html<String>> {
    let wf = &state.workflow;
    let entries = admin::audit_log(wf, &user.actor).await?;
    Ok(html(AuditPage {
        layout: Layout::new(&user.session).await?,
        tabs: Tabs {
            current: "/admin/audit",
        },
        changes: history_lines(entries, wf.offset()),
    })?)
}
