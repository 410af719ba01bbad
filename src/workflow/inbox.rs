//! The staff inbox: the appeals of the actor's scope, filtered and paged, with the counts
//! per status and the choices its filters offer. A page costs the same number of queries
//! whatever the number of rows or schools.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use super::staff::{StaffActor, colleagues};
use super::{Result, Workflow};
use crate::domain::names::normalize;
use crate::domain::staff::Scope;
use crate::domain::status::Status;
use crate::store::directory;
use crate::store::entities::{class, staff as staff_entity};
use crate::store::inbox::{self, InboxQuery, InboxRow};

pub use crate::store::inbox::{AssigneeFilter, Cursor, Sort, StatusFilter};

const PAGE_SIZE: u64 = 50;

#[derive(Clone)]
pub struct InboxFilter {
    pub status: StatusFilter,
    pub class_id: Option<i32>,
    pub organization_id: Option<i32>,
    pub assignee: AssigneeFilter,
    pub overdue: bool,
    /// Due within three working days and not yet overdue.
    pub due_soon: bool,
    /// Registered on or after this day, and on or before `to`, in the region's time.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// An appeal number (or part of one) or a name.
    pub search: String,
    pub sort: Sort,
    pub cursor: Option<Cursor>,
}

pub struct InboxLine {
    pub row: InboxRow,
    pub overdue: bool,
    pub due_soon: bool,
}

pub struct InboxView {
    pub lines: Vec<InboxLine>,
    pub next: Option<Cursor>,
    pub counts: Vec<(Status, i64)>,
    /// The classes of a school-scoped actor's organization (operators see several schools).
    pub classes: Vec<class::Model>,
    /// Who the appeals may be assigned to.
    pub colleagues: Vec<staff_entity::Model>,
    /// The actor's scope is one organization.
    pub single_organization: bool,
    /// Open appeals in scope: the groups they fold into, and how many there are.
    pub open_groups: i64,
    pub open_appeals: i64,
}

fn query(wf: &Workflow, actor: &StaffActor, f: InboxFilter, now: DateTime<Utc>) -> InboxQuery {
    InboxQuery {
        scope: actor.scope,
        status: f.status,
        class_id: f.class_id,
        organization_id: f.organization_id,
        assignee: f.assignee,
        overdue: f.overdue,
        due_by: f.due_soon.then(|| wf.deadlines().soon_horizon(now)),
        created_from: f.from.and_then(|d| day_start(wf, d)),
        created_before: f
            .to
            .and_then(|d| d.succ_opt())
            .and_then(|d| day_start(wf, d)),
        search: Some(normalize(&f.search)).filter(|s| !s.is_empty()),
        sort: f.sort,
        cursor: f.cursor,
        limit: PAGE_SIZE,
        now,
        fold: true,
    }
}

pub async fn page(wf: &Workflow, actor: &StaffActor, f: InboxFilter) -> Result<InboxView> {
    let db = wf.db();
    let now = Utc::now();
    let query = query(wf, actor, f, now);
    let page = inbox::page(db, &query).await?;
    let (open_groups, open_appeals) = inbox::open_groups(db, actor.scope).await?;
    let single_org = match actor.scope {
        Scope::Organization(o) => Some(o),
        _ => None,
    };
    let classes = match single_org {
        Some(o) => directory::classes(db, o).await?,
        None => Vec::new(),
    };
    Ok(InboxView {
        lines: page
            .rows
            .into_iter()
            .map(|row| InboxLine {
                overdue: row.appeal.is_overdue(now),
                due_soon: row.appeal.status.is_open()
                    && wf.deadlines().due_soon(row.appeal.due_at, now),
                row,
            })
            .collect(),
        next: page.next,
        counts: inbox::status_counts(db, actor.scope).await?,
        classes,
        colleagues: colleagues(wf, actor, single_org).await?,
        single_organization: single_org.is_some(),
        open_groups,
        open_appeals,
    })
}

/// Midnight of `day` in the region's time, as UTC.
fn day_start(wf: &Workflow, day: NaiveDate) -> Option<DateTime<Utc>> {
    wf.offset()
        .from_local_datetime(&day.and_hms_opt(0, 0, 0)?)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// Rows of one export page: every appeal the filters select, none folded.
const EXPORT_PAGE: u64 = 500;

/// The next page of an inbox export with the inbox's filters (`f.cursor` where the last
/// one ended); the cursor of the page after, if any.
pub async fn export_page(
    wf: &Workflow,
    actor: &StaffActor,
    f: InboxFilter,
) -> Result<(Vec<InboxRow>, Option<Cursor>)> {
    let mut q = query(wf, actor, f, Utc::now());
    q.fold = false;
    q.limit = EXPORT_PAGE;
    let page = inbox::page(wf.db(), &q).await?;
    Ok((page.rows, page.next))
}
