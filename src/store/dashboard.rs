//! What the operators' dashboard counts, in one scope.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};

use super::Sql;
use super::inbox::{GROUPS, counts_in, push_scope};
use crate::domain::staff::Scope;
use crate::domain::status::Status;

/// Appeals per organization and status, from the counters the inbox tabs read: counting
/// the appeals themselves took 232 ms for a municipality of 100,000 in a million.
pub async fn counts(
    db: &impl ConnectionTrait,
    scope: Scope,
) -> Result<Vec<(i32, Status, i64)>, DbErr> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT c.organization_id AS org, c.status AS status, CAST(SUM(c.n) AS BIGINT) AS n ");
    counts_in(&mut sql, scope);
    sql.push_trusted(&format!(
        " AND c.status <> '{GROUPS}' GROUP BY c.organization_id, c.status HAVING SUM(c.n) <> 0"
    ));
    let rows = db.query_all_raw(sql.build()).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let status: String = r.try_get("", "status")?;
        if let Some(status) = Status::parse(&status) {
            out.push((r.try_get("", "org")?, status, r.try_get("", "n")?));
        }
    }
    Ok(out)
}

/// Open appeals past their due date, per organization.
pub async fn overdue(
    db: &impl ConnectionTrait,
    scope: Scope,
    now: DateTime<Utc>,
) -> Result<Vec<(i32, i64)>, DbErr> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT a.organization_id AS org, COUNT(*) AS n FROM appeals a WHERE ");
    push_scope(&mut sql, scope);
    sql.push_trusted(&format!(" AND a.status IN {}", super::inbox::open_list()));
    sql.push(" AND a.due_at < ").bind(now);
    sql.push(" GROUP BY a.organization_id");
    let rows = db.query_all_raw(sql.build()).await?;
    rows.iter()
        .map(|r| Ok((r.try_get("", "org")?, r.try_get("", "n")?)))
        .collect()
}

/// When each answered appeal was registered and answered (for the time to answer).
pub async fn answered(
    db: &impl ConnectionTrait,
    scope: Scope,
) -> Result<Vec<(DateTime<Utc>, DateTime<Utc>)>, DbErr> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT a.created_at AS created, a.answered_at AS answered FROM appeals a WHERE ");
    push_scope(&mut sql, scope);
    sql.push(" AND a.answered_at IS NOT NULL");
    let rows = db.query_all_raw(sql.build()).await?;
    rows.iter()
        .map(|r| Ok((r.try_get("", "created")?, r.try_get("", "answered")?)))
        .collect()
}

/// When the appeals registered since `since` came in.
pub async fn registered_since(
    db: &impl ConnectionTrait,
    scope: Scope,
    since: DateTime<Utc>,
) -> Result<Vec<DateTime<Utc>>, DbErr> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT a.created_at AS created FROM appeals a WHERE ");
    push_scope(&mut sql, scope);
    sql.push(" AND a.created_at >= ").bind(since);
    let rows = db.query_all_raw(sql.build()).await?;
    rows.iter().map(|r| r.try_get("", "created")).collect()
}
