//! `/staff/inbox`: the appeals of the staff member's scope, with filters and pages.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Html;
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;

use crate::domain::status::Status;
use crate::web::AppState;
use crate::web::error::{AppError, AppResult};
use crate::web::security::html;
use crate::web::session::StaffUser;
use crate::web::templates::{Layout, Opt, opt, plural, ru_date, ru_datetime};
use crate::workflow::inbox::{self, AssigneeFilter, Cursor, InboxFilter, Sort, StatusFilter};
use crate::workflow::review::BULK_STATUSES;
use crate::workflow::staff::full_name;

#[derive(Debug, Default, Clone, Deserialize)]
pub(super) struct InboxParams {
    status: Option<String>,
    class_id: Option<String>,
    organization_id: Option<String>,
    assignee: Option<String>,
    overdue: Option<String>,
    due_soon: Option<String>,
    from: Option<String>,
    to: Option<String>,
    q: Option<String>,
    sort: Option<String>,
    cursor: Option<String>,
}

pub struct InboxLine {
    pub number: String,
    pub created: String,
    pub due: String,
    /// When a closed appeal was answered (empty while open).
    pub answered: String,
    pub overdue: bool,
    pub due_soon: bool,
    pub organization: String,
    pub class_name: String,
    pub subject: String,
    pub applicant: String,
    pub status: &'static str,
    pub assignee: String,
    pub more_in_group: i64,
    pub new_reply: bool,
    /// A roster import found the applicant on the roster: «Связать и закрыть».
    pub roster_match: Option<i32>,
    pub version: i32,
}

pub struct Tab {
    pub label: &'static str,
    pub status: &'static str,
    pub count: i64,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "staff/inbox.html")]
struct InboxPage {
    layout: Layout,
    who: String,
    tabs: Vec<Tab>,
    open_tab: bool,
    /// «2 группы · 40 обращений»: folding explained.
    open_summary: String,
    /// A filter under «Ещё фильтры» is set: show them.
    more_filters: bool,
    by_due: bool,
    /// This list in the other order (the «Срок» column header).
    other_order_url: String,
    /// This list, every page, as a spreadsheet.
    export_xlsx: String,
    export_csv: String,
    /// One school in scope: the organization column says nothing.
    single_org: bool,
    /// An administrator: the mail queue is theirs.
    admin: bool,
    /// A school administrator or an operator: the admin pages are theirs.
    administers: bool,
    statuses: Vec<Opt>,
    /// Choices of the «С отмеченными» form.
    bulk_staff: Vec<Opt>,
    bulk_statuses: Vec<Opt>,
    classes: Vec<Opt>,
    assignees: Vec<Opt>,
    overdue: bool,
    due_soon: bool,
    from: String,
    to: String,
    q: String,
    lines: Vec<InboxLine>,
    next_url: Option<String>,
    notify_digest: bool,
}

fn bad(message: &str) -> AppError {
    AppError::BadRequest(message.to_string())
}

fn day(s: Option<&str>) -> AppResult<Option<NaiveDate>> {
    let Some(s) = s.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .filter(|d| (2000..=2100).contains(&d.year()))
        .map(Some)
        .ok_or_else(|| bad("Дата должна быть в формате ГГГГ-ММ-ДД."))
}

impl InboxParams {
    /// The filters as the query string says them; a value no page of ours sends is a 400.
    pub(super) fn parse(&self, me: i32) -> AppResult<InboxFilter> {
        let status = match self.status.as_deref().unwrap_or("open") {
            "open" | "" => StatusFilter::Open,
            "all" => StatusFilter::All,
            s => StatusFilter::Only(
                Status::parse(s).ok_or_else(|| bad("Неизвестный статус обращения."))?,
            ),
        };
        let assignee = match self.assignee.as_deref().unwrap_or_default() {
            "" | "any" => AssigneeFilter::Any,
            "none" => AssigneeFilter::Unassigned,
            "me" => AssigneeFilter::Staff(me),
            other => {
                AssigneeFilter::Staff(other.parse().map_err(|_| bad("Неизвестный исполнитель."))?)
            }
        };
        let class_id = match self.class_id.as_deref().filter(|c| !c.is_empty()) {
            Some(c) => Some(c.parse().map_err(|_| bad("Неизвестный класс."))?),
            None => None,
        };
        let organization_id = match self.organization_id.as_deref().filter(|c| !c.is_empty()) {
            Some(o) => Some(o.parse().map_err(|_| bad("Неизвестная организация."))?),
            None => None,
        };
        let cursor = match self.cursor.as_deref().filter(|c| !c.is_empty()) {
            Some(c) => Some(Cursor::decode(c).ok_or_else(|| {
                bad("Ссылка на страницу списка устарела. Откройте список заново.")
            })?),
            None => None,
        };
        let search = self.q.clone().unwrap_or_default();
        if search.chars().any(|c| c.is_control()) {
            return Err(bad("Строка поиска содержит недопустимые символы."));
        }
        if search.chars().count() > 200 {
            return Err(bad("Строка поиска длиннее 200 символов."));
        }
        let sort = match self.sort.as_deref().unwrap_or_default() {
            "" | "queue" => Sort::Queue,
            "due" => Sort::Due,
            _ => return Err(bad("Неизвестный порядок списка.")),
        };
        Ok(InboxFilter {
            sort,
            status,
            class_id,
            organization_id,
            assignee,
            overdue: self.overdue.as_deref() == Some("1"),
            due_soon: self.due_soon.as_deref() == Some("1"),
            from: day(self.from.as_deref())?,
            to: day(self.to.as_deref())?,
            search,
            cursor,
        })
    }

    /// The same filters, on the page after `cursor`.
    fn next_url(&self, cursor: &Cursor) -> String {
        let mut q = self.query();
        q.append_pair("cursor", &cursor.encode());
        format!("/staff/inbox?{}", q.finish())
    }

    /// The export of this list, all pages, in `format`.
    fn export_url(&self, format: &str) -> String {
        let mut q = Self {
            cursor: None,
            ..self.clone()
        }
        .query();
        q.append_pair("format", format);
        format!("/staff/inbox/export?{}", q.finish())
    }

    /// The same filters from the first page, by due date or in queue order.
    fn reordered(&self, by_due: bool) -> String {
        let mut q = Self {
            sort: by_due.then(|| "due".to_string()),
            cursor: None,
            ..self.clone()
        }
        .query();
        format!("/staff/inbox?{}", q.finish())
    }

    fn query(&self) -> url::form_urlencoded::Serializer<'static, String> {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("status", self.status.as_deref()),
            ("class_id", self.class_id.as_deref()),
            ("organization_id", self.organization_id.as_deref()),
            ("assignee", self.assignee.as_deref()),
            ("overdue", self.overdue.as_deref()),
            ("due_soon", self.due_soon.as_deref()),
            ("from", self.from.as_deref()),
            ("to", self.to.as_deref()),
            ("q", self.q.as_deref()),
            ("sort", self.sort.as_deref()),
        ] {
            if let Some(v) = v.filter(|v| !v.is_empty()) {
                q.append_pair(k, v);
            }
        }
        q
    }
}

pub(super) async fn get(
    State(state): State<AppState>,
    user: StaffUser,
    Query(p): Query<InboxParams>,
) -> AppResult<Html<String>> {
    let me = &user.actor;
    let filter = p.parse(me.id())?;
    let (overdue, due_soon) = (filter.overdue, filter.due_soon);
    let by_due = filter.sort == Sort::Due;
    let view = inbox::page(&state.workflow, me, filter).await?;
    let offset = state.workflow.offset();
    let status_param = p.status.clone().unwrap_or_else(|| "open".into());
    let assignee_param = p.assignee.clone().unwrap_or_default();
    let class_param = p.class_id.clone().unwrap_or_default();
    let lines = view
        .lines
        .into_iter()
        .map(|l| {
            let a = &l.row.appeal;
            InboxLine {
                number: a.number.clone(),
                created: ru_datetime(a.created_at, offset),
                due: ru_date(a.due_at.with_timezone(&offset).date_naive()),
                answered: a
                    .answered_at
                    .map(|t| ru_datetime(t, offset))
                    .unwrap_or_default(),
                overdue: l.overdue,
                due_soon: l.due_soon,
                organization: l.row.organization.clone(),
                class_name: l.row.class_name.clone(),
                subject: a.snapshot.subject_name().full(),
                applicant: a.snapshot.name.full(),
                status: a.status.label(),
                assignee: l
                    .row
                    .assignee
                    .as_ref()
                    .map(|n| n.full())
                    .unwrap_or_default(),
                more_in_group: l.row.group_size - 1,
                new_reply: l.row.new_reply,
                roster_match: a.roster_match.filter(|_| a.status.is_open()),
                version: a.version,
            }
        })
        .collect();
    let tabs = Status::ALL
        .iter()
        .map(|s| Tab {
            label: s.label(),
            status: s.as_str(),
            count: view
                .counts
                .iter()
                .find(|(c, _)| c == s)
                .map_or(0, |(_, n)| *n),
            current: status_param == s.as_str(),
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
        view.colleagues
            .iter()
            .filter(|c| c.id != me.id())
            .map(|c| opt(c.id.to_string(), full_name(c), &assignee_param)),
    );
    let classes = if view.classes.is_empty() {
        Vec::new()
    } else {
        let mut list = vec![opt("", "Все классы", "")];
        list.extend(
            view.classes
                .iter()
                .map(|c| opt(c.id.to_string(), c.name.clone(), &class_param)),
        );
        list
    };
    let mut bulk_staff = vec![opt("me", "Себя", "me")];
    bulk_staff.extend(
        view.colleagues
            .iter()
            .filter(|c| c.id != me.id())
            .map(|c| opt(c.id.to_string(), full_name(c), "")),
    );
    bulk_staff.push(opt("", "Снять исполнителя", "me"));
    let bulk_statuses = BULK_STATUSES
        .iter()
        .map(|s| opt(s.as_str(), s.label(), ""))
        .collect();
    Ok(html(InboxPage {
        bulk_staff,
        bulk_statuses,
        layout: Layout::new(&user.session).await?,
        who: format!("{}, {}", me.name(), me.role_label()),
        tabs,
        open_tab: matches!(status_param.as_str(), "open" | ""),
        open_summary: if view.open_groups == view.open_appeals {
            plural(view.open_appeals, "обращение", "обращения", "обращений")
        } else {
            format!(
                "{} · {}",
                plural(view.open_groups, "группа", "группы", "групп"),
                plural(view.open_appeals, "обращение", "обращения", "обращений")
            )
        },
        by_due,
        other_order_url: p.reordered(!by_due),
        export_xlsx: p.export_url("xlsx"),
        export_csv: p.export_url("csv"),
        more_filters: [
            &p.class_id,
            &p.assignee,
            &p.from,
            &p.to,
            &p.overdue,
            &p.due_soon,
        ]
        .iter()
        .any(|v| v.as_deref().is_some_and(|v| !v.is_empty() && v != "any")),
        single_org: view.single_organization,
        admin: me.scope == crate::domain::staff::Scope::All,
        administers: crate::workflow::admin::require_admin(me).is_ok(),
        statuses,
        classes,
        assignees,
        overdue,
        due_soon,
        next_url: view.next.as_ref().map(|c| p.next_url(c)),
        from: p.from.unwrap_or_default(),
        to: p.to.unwrap_or_default(),
        q: p.q.unwrap_or_default(),
        lines,
        notify_digest: me.staff.notify_digest,
    })?)
}
