//! The transactional outbox: mail is a row written in the same transaction as the change
//! that causes it, delivered later by `mail::worker`.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::entities::outbox;
use super::{Sql, is_postgres};

pub const PENDING: &str = "pending";
pub const SENT: &str = "sent";
pub const DEAD: &str = "dead";

#[derive(Debug, Clone)]
pub struct NewMessage {
    pub kind: &'static str,
    pub appeal_id: Option<i64>,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
}

pub async fn enqueue(
    db: &impl ConnectionTrait,
    msg: NewMessage,
    now: DateTime<Utc>,
) -> Result<i64, DbErr> {
    Ok(pending(msg, now).insert(db).await?.id)
}

/// Queues several messages as of one moment (the e-mails of one staff action).
pub async fn enqueue_all(
    db: &impl ConnectionTrait,
    msgs: Vec<NewMessage>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    enqueue_each(db, msgs.into_iter().map(|m| (m, now)).collect()).await
}

/// Queues each message as of its own time, a thousand to a statement.
pub async fn enqueue_each(
    db: &impl ConnectionTrait,
    msgs: Vec<(NewMessage, DateTime<Utc>)>,
) -> Result<(), DbErr> {
    let rows = msgs.into_iter().map(|(m, at)| pending(m, at)).collect();
    super::insert_in_chunks(db, rows).await
}

fn pending(msg: NewMessage, now: DateTime<Utc>) -> outbox::ActiveModel {
    outbox::ActiveModel {
        appeal_id: Set(msg.appeal_id),
        kind: Set(msg.kind.to_string()),
        recipient: Set(msg.recipient),
        subject: Set(msg.subject),
        body_text: Set(msg.body_text),
        body_html: Set(msg.body_html),
        status: Set(PENDING.to_string()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        locked_until: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        sent_at: Set(None),
        ..Default::default()
    }
}

/// Leases up to `limit` due messages, the longest due first, until `lease_until` and
/// counts the attempt. On PostgreSQL `FOR UPDATE SKIP LOCKED` keeps instances from
/// claiming the same rows; SQLite has one writer, so the conditional UPDATE alone is
/// atomic.
pub async fn claim_due(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<outbox::Model>, DbErr> {
    let lock = if is_postgres(db) {
        " FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    // In the order of `ix_outbox_due` (status, next_attempt_at): a claim reads the first
    // few due rows of the index and stops. Ordered by id, it read every due row and sorted
    // them on each claim; with a backlog of 5,000 that was most of the worker's time.
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("UPDATE outbox SET locked_until = ")
        .bind(lease_until)
        .push(", attempts = attempts + 1 WHERE id IN (SELECT id FROM outbox WHERE status = ")
        .bind(PENDING)
        .push(" AND next_attempt_at <= ")
        .bind(now)
        .push(" AND (locked_until IS NULL OR locked_until <= ")
        .bind(now)
        .push_trusted(&format!(
            ") ORDER BY next_attempt_at, id LIMIT {limit}{lock}) RETURNING *"
        ));
    let stmt = sql.build();
    let mut rows = outbox::Model::find_by_statement(stmt).all(db).await?;
    rows.sort_by_key(|r| r.id);
    Ok(rows)
}

/// Marks the messages sent, in one statement however many there are.
pub async fn mark_sent(
    db: &impl ConnectionTrait,
    ids: &[i64],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if ids.is_empty() {
        return Ok(());
    }
    outbox::Entity::update_many()
        .col_expr(outbox::Column::Status, Expr::value(SENT))
        .col_expr(outbox::Column::SentAt, Expr::value(Some(now)))
        .col_expr(
            outbox::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            outbox::Column::LastError,
            Expr::value(Option::<String>::None),
        )
        .filter(outbox::Column::Id.is_in(ids.iter().copied()))
        .exec(db)
        .await
        .map(|_| ())
}

/// Schedules a retry at `retry_at`, or marks the message dead when there is none.
pub async fn mark_failed(
    db: &impl ConnectionTrait,
    id: i64,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
) -> Result<(), DbErr> {
    let mut row = outbox::ActiveModel {
        id: Set(id),
        locked_until: Set(None),
        last_error: Set(Some(error.chars().take(500).collect())),
        ..Default::default()
    };
    match retry_at {
        Some(at) => row.next_attempt_at = Set(at),
        None => row.status = Set(DEAD.to_string()),
    }
    row.update(db).await.map(|_| ())
}

/// Hands leased rows back unsent (a worker shutting down): due at once, the attempt that
/// never happened not counted.
pub async fn release(db: &impl ConnectionTrait, ids: &[i64]) -> Result<(), DbErr> {
    outbox::Entity::update_many()
        .col_expr(
            outbox::Column::LockedUntil,
            sea_orm::sea_query::Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            outbox::Column::Attempts,
            sea_orm::sea_query::ExprTrait::sub(
                sea_orm::sea_query::Expr::col(outbox::Column::Attempts),
                1,
            ),
        )
        .filter(outbox::Column::Id.is_in(ids.to_vec()))
        .filter(outbox::Column::Status.eq(PENDING))
        .exec(db)
        .await
        .map(|_| ())
}

/// Mail that needs a person: dead, or still pending after `stuck_before`, oldest first.
pub async fn troubled(
    db: &impl ConnectionTrait,
    stuck_before: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<outbox::Model>, DbErr> {
    use sea_orm::sea_query::Condition;
    outbox::Entity::find()
        .filter(
            Condition::any().add(outbox::Column::Status.eq(DEAD)).add(
                Condition::all()
                    .add(outbox::Column::Status.eq(PENDING))
                    .add(outbox::Column::CreatedAt.lt(stuck_before)),
            ),
        )
        .order_by_asc(outbox::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Puts dead messages back in the queue, due now with a fresh count of attempts (the last
/// error is kept until the next attempt). `None` re-queues every dead message. Returns the
/// rows re-queued.
pub async fn requeue(
    db: &impl ConnectionTrait,
    ids: Option<&[i64]>,
    now: DateTime<Utc>,
) -> Result<Vec<outbox::Model>, DbErr> {
    let mut find = outbox::Entity::find().filter(outbox::Column::Status.eq(DEAD));
    if let Some(ids) = ids {
        find = find.filter(outbox::Column::Id.is_in(ids.to_vec()));
    }
    let rows = find.all(db).await?;
    let chosen: Vec<i64> = rows.iter().map(|r| r.id).collect();
    if !chosen.is_empty() {
        outbox::Entity::update_many()
            .col_expr(
                outbox::Column::Status,
                sea_orm::sea_query::Expr::value(PENDING),
            )
            .col_expr(outbox::Column::Attempts, sea_orm::sea_query::Expr::value(0))
            .col_expr(
                outbox::Column::NextAttemptAt,
                sea_orm::sea_query::Expr::value(now),
            )
            .filter(outbox::Column::Id.is_in(chosen))
            .filter(outbox::Column::Status.eq(DEAD))
            .exec(db)
            .await?;
    }
    Ok(rows)
}

pub async fn count_by_status(db: &impl ConnectionTrait, status: &str) -> Result<u64, DbErr> {
    outbox::Entity::find()
        .filter(outbox::Column::Status.eq(status))
        .count(db)
        .await
}

pub async fn for_appeal(
    db: &impl ConnectionTrait,
    appeal_id: i64,
) -> Result<Vec<outbox::Model>, DbErr> {
    outbox::Entity::find()
        .filter(outbox::Column::AppealId.eq(appeal_id))
        .order_by_asc(outbox::Column::Id)
        .all(db)
        .await
}

pub async fn recent(db: &impl ConnectionTrait, limit: u64) -> Result<Vec<outbox::Model>, DbErr> {
    outbox::Entity::find()
        .order_by_desc(outbox::Column::Id)
        .limit(limit)
        .all(db)
        .await
}
