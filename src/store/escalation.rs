//! The daily deadline digest: the day's claim and the open appeals it reports.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};

use super::entities::{appeal, escalation_day};
use crate::domain::appeal::Appeal;
use crate::domain::status::Status;

/// Claims `day` for this instance; false when another one already sent its digest.
pub async fn claim_day(
    db: &impl ConnectionTrait,
    day: NaiveDate,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let inserted = escalation_day::Entity::insert(escalation_day::ActiveModel {
        day: Set(day),
        sent_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(escalation_day::Column::Day)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(inserted == 1)
}

/// Open appeals due by `by` (the overdue among them too), earliest first.
pub async fn open_due_by(
    db: &impl ConnectionTrait,
    by: DateTime<Utc>,
) -> Result<Vec<Appeal>, DbErr> {
    let rows = appeal::Entity::find()
        .filter(appeal::Column::Status.is_in(Status::open_values()))
        .filter(appeal::Column::DueAt.lte(by))
        .order_by_asc(appeal::Column::DueAt)
        .all(db)
        .await?;
    rows.into_iter().map(super::appeals::typed).collect()
}
