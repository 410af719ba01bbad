//! The staff inbox: appeals in a scope, filtered, searched, keyset-paginated (never
//! OFFSET: pages stay stable while new appeals arrive), with open duplicates about the
//! same child at the same organization folded into one row.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, FromQueryResult, TransactionTrait};

use super::entities::appeal;
use super::{Sql, corrupt};
use crate::domain::appeal::Appeal;
use crate::domain::names::PersonName;
use crate::domain::staff::Scope;
use crate::domain::status::Status;

/// `('new', …)`: the open statuses as an SQL list, from the domain's definition of open.
/// Status names are fixed identifiers, never user input, so they are inlined.
pub(super) fn open_list() -> String {
    let quoted: Vec<String> = Status::open_values()
        .iter()
        .map(|s| format!("'{s}'"))
        .collect();
    format!("({})", quoted.join(", "))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    Open,
    All,
    Only(Status),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssigneeFilter {
    Any,
    Unassigned,
    Staff(i32),
}

/// The order of the inbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    /// Unassigned first, then oldest first: the queue.
    Queue,
    /// The nearest answer deadline first.
    Due,
}

impl Sort {
    /// The keys of the order before the id.
    fn keys(self) -> &'static str {
        match self {
            Self::Queue => {
                "(CASE WHEN a.assigned_staff_id IS NULL THEN 0 ELSE 1 END), a.created_at"
            }
            Self::Due => "a.due_at",
        }
    }

    fn flag(self) -> u8 {
        match self {
            Self::Queue => 0,
            Self::Due => 1,
        }
    }
}

/// Position after the last row of a page, in the page's order: (assigned?, created_at or
/// due_at, id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub sort: Sort,
    pub assigned: bool,
    pub at: DateTime<Utc>,
    pub id: i64,
}

impl Cursor {
    pub fn encode(&self) -> String {
        let raw = format!(
            "{}|{}|{}|{}",
            self.sort.flag(),
            u8::from(self.assigned),
            self.at.to_rfc3339(),
            self.id
        );
        URL_SAFE_NO_PAD.encode(raw)
    }

    pub fn decode(s: &str) -> Option<Self> {
        let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(s).ok()?).ok()?;
        let mut parts = raw.split('|');
        let sort = match parts.next()? {
            "0" => Sort::Queue,
            "1" => Sort::Due,
            _ => return None,
        };
        let assigned = match parts.next()? {
            "0" => false,
            "1" => true,
            _ => return None,
        };
        let at = DateTime::parse_from_rfc3339(parts.next()?)
            .ok()?
            .with_timezone(&Utc);
        let id = parts.next()?.parse().ok()?;
        parts.next().is_none().then_some(Self {
            sort,
            assigned,
            at,
            id,
        })
    }
}

#[derive(Clone)]
pub struct InboxQuery {
    pub scope: Scope,
    pub status: StatusFilter,
    pub class_id: Option<i32>,
    /// One organization of the scope (the dashboard's links).
    pub organization_id: Option<i32>,
    pub assignee: AssigneeFilter,
    pub overdue: bool,
    /// Open and due by this moment, not yet overdue («истекает в ближайшие дни»).
    pub due_by: Option<DateTime<Utc>>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
    /// An appeal number (or part of one), or a name in normal form.
    pub search: Option<String>,
    pub sort: Sort,
    /// A cursor of another order is ignored: the page starts at the top.
    pub cursor: Option<Cursor>,
    pub limit: u64,
    pub now: DateTime<Utc>,
    /// Fold open appeals about the same child into one line (the inbox does; an export
    /// lists every appeal).
    pub fold: bool,
}

impl InboxQuery {
    /// The open queue without any narrowing: the view where duplicates fold.
    pub fn is_plain_queue(&self) -> bool {
        self.fold
            && self.status == StatusFilter::Open
            && self.class_id.is_none()
            && self.organization_id.is_none()
            && self.assignee == AssigneeFilter::Any
            && !self.overdue
            && self.due_by.is_none()
            && self.created_from.is_none()
            && self.created_before.is_none()
            && self.search.as_deref().is_none_or(str::is_empty)
    }
}

pub struct InboxRow {
    pub appeal: Appeal,
    /// Open appeals about the same child at the same organization, this one included.
    pub group_size: i64,
    pub organization: String,
    pub class_name: String,
    pub assignee: Option<PersonName>,
    /// The applicant answered after the last time staff opened the appeal.
    pub new_reply: bool,
}

pub struct InboxPage {
    pub rows: Vec<InboxRow>,
    pub next: Option<Cursor>,
}

pub(super) fn push_scope(sql: &mut Sql, scope: Scope) {
    push_scope_as(sql, scope, true);
}

/// The scope condition; without `indexed` it is written « + 0», which keeps the planner
/// off the scope's index: a check of each row some other index found.
fn push_scope_as(sql: &mut Sql, scope: Scope, indexed: bool) {
    // The municipality and region are kept on every appeal by triggers (migration 016):
    // an index prefix in page order.
    let (column, id) = match scope {
        Scope::Organization(o) => ("organization_id", o),
        Scope::Municipality(m) => ("municipality_id", m),
        Scope::Region(r) => ("region_id", r),
        Scope::All => {
            sql.push("1 = 1");
            return;
        }
    };
    let shift = if indexed { "" } else { " + 0" };
    sql.push_trusted(&format!("a.{column}{shift} = ")).bind(id);
}

/// What a search of digits (and a dash) means: a whole number, the sequence part of one
/// («123» or «000123»: that appeal of any recent year), or the start of one («2026-0001»).
/// Each is an index lookup, never a scan of the scope.
#[derive(Debug, PartialEq, Eq)]
enum NumberSearch {
    Exact(Vec<String>),
    Prefix { from: String, to: String },
}

/// How many years back a bare sequence number looks (appeals are kept 3 years after the
/// answer, then anonymised: their numbers stay).
const SEQUENCE_YEARS: i32 = 10;

impl NumberSearch {
    /// A prefix with three digits of the sequence or more matches at most a thousand
    /// numbers a year: read through the number index, not found on a walk of the scope in
    /// page order. PostgreSQL cannot estimate such a range (its statistics are in the
    /// column's collation, the index in byte order) and walked the whole region when the
    /// matches were its newest appeals: 420 ms at a million. Shorter prefixes match a
    /// good part of a year, which the walk finds at once.
    fn is_narrow(&self) -> bool {
        match self {
            Self::Exact(_) => false,
            Self::Prefix { from, .. } => {
                from.split_once('-').is_some_and(|(_, seq)| seq.len() >= 3)
            }
        }
    }

    fn parse(s: &str, now: DateTime<Utc>) -> Option<Self> {
        if s.is_empty() || !s.chars().all(|c| c.is_ascii_digit() || c == '-') {
            return None;
        }
        if let Some(n) = crate::domain::number::AppealNumber::parse(s) {
            return Some(Self::Exact(vec![n.to_string()]));
        }
        if !s.contains('-') && s.len() <= 6 {
            let seq: u32 = s.parse().ok()?;
            let year = chrono::Datelike::year(&now);
            return Some(Self::Exact(
                (year - SEQUENCE_YEARS..=year + 1)
                    .rev()
                    .map(|y| {
                        crate::domain::number::AppealNumber::new(y, i64::from(seq)).to_string()
                    })
                    .collect(),
            ));
        }
        // The numbers starting with `s`: [s, s with its last character advanced).
        let mut to = s.to_string();
        let last = to.pop()?;
        to.push(char::from_u32(u32::from(last) + 1)?);
        Some(Self::Prefix {
            from: s.to_string(),
            to,
        })
    }
}

fn push_number(sql: &mut Sql, search: &NumberSearch) {
    // PostgreSQL compares under the database's collation unless told otherwise; the
    // index of migration 016 is in byte order, as SQLite's is.
    let column = if sql.is_postgres() {
        "a.number COLLATE \"C\""
    } else {
        "a.number"
    };
    match search {
        NumberSearch::Exact(numbers) => {
            sql.push(" AND a.number IN (")
                .bind_list(numbers.iter().cloned())
                .push(")");
        }
        NumberSearch::Prefix { from, to } => {
            sql.push_trusted(&format!(" AND {column} >= "))
                .bind(from.clone());
            sql.push_trusted(&format!(" AND {column} < "))
                .bind(to.clone());
        }
    }
}

fn like_escaped(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// A search by name (`s` in normal form). One word matches anywhere in the applicant's
/// and the child's names (the trigram index on PostgreSQL). Several words are words of a
/// name in that order, the last one possibly typed only in part: «иванова мария пет».
/// Their complete words go through the word index of migration 018, which reads only the
/// appeals having all of them; a trigram search for a whole ФИО reads the posting lists of
/// every trigram, and those of a common surname and patronymic cover most of the table.
fn push_name(sql: &mut Sql, s: &str) {
    let words: Vec<&str> = s.split(' ').collect();
    let Some((last, complete)) = words.split_last().filter(|(_, c)| !c.is_empty()) else {
        push_like(
            sql,
            " AND a.search_norm LIKE ",
            format!("%{}%", like_escaped(s)),
        );
        return;
    };
    if sql.is_postgres() {
        sql.push(" AND string_to_array(a.search_norm, ' ') @> ARRAY[")
            .bind_list(complete.iter().map(|w| w.to_string()))
            .push("]::text[]");
        // Implied by the pattern below; here for the trigram index, the better start
        // when the complete words are common and the last one is not.
        push_like(
            sql,
            " AND a.search_norm LIKE ",
            format!("%{}%", like_escaped(last)),
        );
    }
    // The order and the word starts; written so that no index takes it over from the
    // word index.
    push_like(
        sql,
        " AND (' ' || a.search_norm) LIKE ",
        format!("% {}%", like_escaped(s)),
    );
}

/// `condition` (ending in LIKE) with `pattern` bound, backslash escaping its wildcards.
fn push_like(sql: &mut Sql, condition: &'static str, pattern: String) {
    sql.push(condition).bind(pattern).push(" ESCAPE '\\'");
}

pub async fn page(db: &DatabaseConnection, q: &InboxQuery) -> Result<InboxPage, DbErr> {
    let open = open_list();
    let mut sql = Sql::new(db.get_database_backend());
    // Two statements: this one walks `ix_appeals_queue` in page order and stops after one
    // page; `rows_of` reads the names shown, group sizes and new replies for those rows
    // only. One statement doing both took 0.4 ms to plan, and PostgreSQL plans a search
    // anew on every run at a million appeals (a plan made once cannot estimate a number
    // range or a word); this one plans in a tenth of that, and `rows_of`'s, the same for any
    // page of that size, runs on a plan made once.
    sql.push("SELECT a.* FROM appeals a WHERE ");
    let search = q.search.as_deref().filter(|s| !s.is_empty());
    let number = search.and_then(|s| NumberSearch::parse(s, q.now));
    // Several words go through the word index, which finds a handful of appeals in the
    // whole database; ANDing the scope's index with it would read every entry of a
    // municipality (35 ms at a hundred thousand) to narrow a handful.
    let by_words = number.is_none() && search.is_some_and(|s| s.contains(' ')) && sql.is_postgres();
    if by_words || number.as_ref().is_some_and(NumberSearch::is_narrow) {
        push_scope_as(&mut sql, q.scope, false);
    } else {
        push_scope(&mut sql, q.scope);
    }
    match q.status {
        StatusFilter::Open => {
            sql.push_trusted(&format!(" AND a.status IN {open}"));
        }
        StatusFilter::All => {}
        StatusFilter::Only(s) => {
            sql.push(" AND a.status = ").bind(s.as_str());
        }
    }
    if let Some(o) = q.organization_id {
        sql.push(" AND a.organization_id = ").bind(o);
    }
    if let Some(c) = q.class_id {
        sql.push(" AND a.class_id = ").bind(c);
    }
    match q.assignee {
        AssigneeFilter::Any => {}
        AssigneeFilter::Unassigned => {
            sql.push(" AND a.assigned_staff_id IS NULL");
        }
        AssigneeFilter::Staff(id) => {
            sql.push(" AND a.assigned_staff_id = ").bind(id);
        }
    }
    if q.overdue {
        sql.push_trusted(&format!(" AND a.status IN {open} AND a.due_at < "))
            .bind(q.now);
    }
    if let Some(by) = q.due_by {
        sql.push_trusted(&format!(" AND a.status IN {open} AND a.due_at >= "))
            .bind(q.now);
        sql.push(" AND a.due_at <= ").bind(by);
    }
    if let Some(from) = q.created_from {
        sql.push(" AND a.created_at >= ").bind(from);
    }
    if let Some(before) = q.created_before {
        sql.push(" AND a.created_at < ").bind(before);
    }
    match (&number, search) {
        (Some(number), _) => push_number(&mut sql, number),
        (None, Some(s)) => push_name(&mut sql, s),
        (None, None) => {}
    }
    // Fold: in the plain queue, of the open appeals about one child at one organization
    // only the oldest shows. A narrowed view (search, filters) shows every match, or a
    // newer duplicate could hide behind an older one the filter excludes.
    if q.is_plain_queue() {
        sql.push_trusted(&format!(
            " AND NOT (a.status IN {open} AND EXISTS (SELECT 1 FROM appeals d WHERE {SAME_GROUP} \
             AND d.status IN {open} AND (d.created_at < a.created_at OR (d.created_at = a.created_at AND d.id < a.id))))"
        ));
    }
    let keys = q.sort.keys();
    if let Some(c) = q.cursor.as_ref().filter(|c| c.sort == q.sort) {
        sql.push_trusted(&format!(" AND ({keys}, a.id) > ("));
        if q.sort == Sort::Queue {
            sql.bind(i32::from(c.assigned)).push(", ");
        }
        sql.bind(c.at).push(", ").bind(c.id).push(")");
    }
    sql.push_trusted(&format!(" ORDER BY {keys}, a.id LIMIT {}", q.limit + 1));
    let found = if by_words {
        // Planned for these words every time: a plan made once for any words (PostgreSQL
        // switches a prepared statement to one after five runs) cannot tell a surname
        // half the region has from a first name of one child, and picks the wrong index.
        let txn = db.begin().await?;
        txn.execute_unprepared("SET LOCAL plan_cache_mode = force_custom_plan")
            .await?;
        let rows = txn.query_all_raw(sql.build()).await?;
        txn.commit().await?;
        rows
    } else {
        db.query_all_raw(sql.build()).await?
    };
    let mut appeals = found
        .iter()
        .map(|r| super::appeals::typed(appeal::Model::from_query_result(r, "")?))
        .collect::<Result<Vec<_>, DbErr>>()?;
    // One row more than the page says whether another page follows; it is not shown, so
    // its names and group size are not read.
    let next = if appeals.len() as u64 > q.limit {
        appeals.truncate(q.limit as usize);
        appeals.last().map(|a| Cursor {
            sort: q.sort,
            assigned: a.assigned_staff_id.is_some(),
            at: match q.sort {
                Sort::Queue => a.created_at,
                Sort::Due => a.due_at,
            },
            id: a.id,
        })
    } else {
        None
    };
    let rows = rows_of(db, appeals).await?;
    Ok(InboxPage { rows, next })
}

/// Open appeals `d` about the same child at the same organization as `a`.
const SAME_GROUP: &str = "d.organization_id = a.organization_id AND d.subject_key = a.subject_key AND d.subject_key <> ''";

/// The inbox rows of a page's appeals, in their order: the names shown, group sizes and
/// new-reply flags read in one statement.
async fn rows_of(db: &DatabaseConnection, appeals: Vec<Appeal>) -> Result<Vec<InboxRow>, DbErr> {
    if appeals.is_empty() {
        return Ok(Vec::new());
    }
    let open = open_list();
    let mut sql = Sql::new(db.get_database_backend());
    sql.push_trusted(&format!(
        "SELECT a.id, o.name AS organization_name, c.name AS class_name, \
         s.last_name AS assignee_last, s.first_name AS assignee_first, s.middle_name AS assignee_middle, \
         CASE WHEN a.status IN {open} THEN \
         (SELECT COUNT(*) FROM appeals d WHERE {SAME_GROUP} AND d.status IN {open}) ELSE 1 END AS group_size, \
         CASE WHEN EXISTS (SELECT 1 FROM appeal_events e WHERE e.appeal_id = a.id AND e.kind = 'reply' \
         AND NOT EXISTS (SELECT 1 FROM appeal_access_log l WHERE l.appeal_id = a.id AND l.action = 'view' \
         AND l.created_at >= e.created_at)) THEN 1 ELSE 0 END AS new_reply \
         FROM appeals a \
         LEFT JOIN organizations o ON o.id = a.organization_id \
         LEFT JOIN classes c ON c.id = a.class_id \
         LEFT JOIN staff s ON s.id = a.assigned_staff_id \
         WHERE a.id IN ("
    ))
    .bind_list(appeals.iter().map(|a| a.id))
    .push(")");
    let mut by_id = std::collections::HashMap::with_capacity(appeals.len());
    for r in db.query_all_raw(sql.build()).await? {
        by_id.insert(r.try_get::<i64>("", "id")?, r);
    }
    let mut rows = Vec::with_capacity(appeals.len());
    for appeal in appeals {
        // An appeal removed between the two statements is no longer there to show.
        let Some(r) = by_id.remove(&appeal.id) else {
            continue;
        };
        let name = |col: &str| r.try_get::<Option<String>>("", col);
        let assignee = match (
            name("assignee_last")?,
            name("assignee_first")?,
            name("assignee_middle")?,
        ) {
            (Some(l), Some(f), m) => Some(PersonName::new(&l, &f, &m.unwrap_or_default())),
            _ => None,
        };
        rows.push(InboxRow {
            appeal,
            group_size: r.try_get::<i64>("", "group_size")?,
            organization: name("organization_name")?.unwrap_or_default(),
            class_name: name("class_name")?.unwrap_or_default(),
            assignee,
            new_reply: r.try_get::<i32>("", "new_reply")? == 1,
        });
    }
    Ok(rows)
}

/// `FROM appeal_counts c … WHERE` the organizations of `scope`: the figures the triggers of
/// migration 017 keep, one row per organization and status, summed.
pub(super) fn counts_in(sql: &mut Sql, scope: Scope) {
    sql.push(
        "FROM appeal_counts c JOIN organizations o ON o.id = c.organization_id \
         JOIN municipalities m ON m.id = o.municipality_id WHERE ",
    );
    match scope {
        Scope::Organization(id) => sql.push("c.organization_id = ").bind(id),
        Scope::Municipality(id) => sql.push("o.municipality_id = ").bind(id),
        Scope::Region(id) => sql.push("m.region_id = ").bind(id),
        Scope::All => sql.push("1 = 1"),
    };
}

/// Open appeals in the scope and the groups they fold into (one per child and
/// organization), for the inbox's «Открытые» tab.
pub async fn open_groups(db: &impl ConnectionTrait, scope: Scope) -> Result<(i64, i64), DbErr> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push_trusted(&format!(
        "SELECT CAST(COALESCE(SUM(CASE WHEN c.status = '{GROUPS}' THEN c.n ELSE 0 END), 0) AS BIGINT) AS groups, \
         CAST(COALESCE(SUM(CASE WHEN c.status IN {} THEN c.n ELSE 0 END), 0) AS BIGINT) AS appeals ",
        open_list()
    ));
    counts_in(&mut sql, scope);
    let row = db
        .query_one_raw(sql.build())
        .await?
        .ok_or_else(|| DbErr::Custom("open group count returned no row".into()))?;
    Ok((row.try_get("", "groups")?, row.try_get("", "appeals")?))
}

/// The row of `appeal_counts` that counts open groups rather than a status.
pub(super) const GROUPS: &str = "_groups";

/// Appeals per status in the scope, for the inbox tabs.
pub async fn status_counts(
    db: &impl ConnectionTrait,
    scope: Scope,
) -> Result<Vec<(Status, i64)>, DbErr> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT c.status AS status, CAST(SUM(c.n) AS BIGINT) AS n ");
    counts_in(&mut sql, scope);
    sql.push_trusted(&format!(
        " AND c.status <> '{GROUPS}' GROUP BY c.status HAVING SUM(c.n) > 0"
    ));
    let rows = db.query_all_raw(sql.build()).await?;
    rows.iter()
        .map(|r| {
            let status = r.try_get::<String>("", "status")?;
            let parsed = Status::parse(&status)
                .ok_or_else(|| corrupt("appeals", "(status count)", "status"))?;
            Ok((parsed, r.try_get::<i64>("", "n")?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_counting_triggers_know_the_open_statuses() {
        assert_eq!(Status::open_values(), migration::OPEN_STATUSES.to_vec());
    }

    #[test]
    fn a_number_search_is_an_exact_or_a_prefix_lookup() {
        let now = DateTime::parse_from_rfc3339("2026-11-27T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let exact = |n: &str| NumberSearch::Exact(vec![n.to_string()]);
        assert_eq!(
            NumberSearch::parse("2026-000123", now),
            Some(exact("2026-000123"))
        );
        let Some(NumberSearch::Exact(years)) = NumberSearch::parse("123", now) else {
            panic!("a sequence number");
        };
        assert_eq!(years.first().map(String::as_str), Some("2027-000123"));
        assert!(years.contains(&"2026-000123".to_string()));
        assert_eq!(years.last().map(String::as_str), Some("2016-000123"));
        assert_eq!(
            NumberSearch::parse("000123", now),
            NumberSearch::parse("123", now)
        );
        assert_eq!(
            NumberSearch::parse("2026-0001", now),
            Some(NumberSearch::Prefix {
                from: "2026-0001".into(),
                to: "2026-0002".into()
            })
        );
        assert_eq!(NumberSearch::parse("иванова", now), None);
        assert_eq!(NumberSearch::parse("", now), None);
        // Three sequence digits or more: through the number index whatever the scope.
        let narrow = |s: &str| NumberSearch::parse(s, now).is_some_and(|n| n.is_narrow());
        assert!(narrow("2026-0001") && narrow("2026-000"));
        assert!(!narrow("2026-00") && !narrow("2026-") && !narrow("2026-000123"));
    }

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let c = Cursor {
            sort: Sort::Due,
            assigned: true,
            at: Utc::now(),
            id: 42,
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        assert_eq!(Cursor::decode("garbage"), None);
        assert_eq!(Cursor::decode(&URL_SAFE_NO_PAD.encode("2|x|1")), None);
    }

    #[test]
    fn like_metacharacters_are_escaped() {
        assert_eq!(like_escaped("50%_a\\"), "50\\%\\_a\\\\");
    }
}
