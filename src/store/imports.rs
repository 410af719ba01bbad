//! Imports started from the admin pages: the uploaded file (kept until the import is
//! applied or dropped), its status and progress, the preview and the final report.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::entities::{import_file, import_run};

/// What a new import is.
pub struct NewRun {
    pub kind: &'static str,
    pub organization_id: Option<i32>,
    pub staff_id: i32,
    pub file_name: String,
    pub file_data: Vec<u8>,
    pub skip_invalid: bool,
    pub prefer_file: bool,
    pub archive_missing: bool,
}

pub async fn create(
    db: &impl ConnectionTrait,
    run: NewRun,
    status: &str,
    now: DateTime<Utc>,
) -> Result<i32, DbErr> {
    let saved = import_run::ActiveModel {
        kind: Set(run.kind.to_string()),
        organization_id: Set(run.organization_id),
        staff_id: Set(run.staff_id),
        file_name: Set(run.file_name),
        skip_invalid: Set(run.skip_invalid),
        prefer_file: Set(run.prefer_file),
        archive_missing: Set(run.archive_missing),
        status: Set(status.to_string()),
        progress_done: Set(0),
        progress_total: Set(0),
        rows_read: Set(0),
        added: Set(0),
        changed: Set(0),
        unchanged: Set(0),
        rejected: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    import_file::ActiveModel {
        import_run_id: Set(saved.id),
        data: Set(run.file_data),
    }
    .insert(db)
    .await?;
    Ok(saved.id)
}

/// The uploaded file, while it is kept.
pub async fn file(db: &impl ConnectionTrait, id: i32) -> Result<Option<Vec<u8>>, DbErr> {
    Ok(import_file::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|f| f.data))
}

pub async fn drop_file(db: &impl ConnectionTrait, id: i32) -> Result<(), DbErr> {
    import_file::Entity::delete_by_id(id)
        .exec(db)
        .await
        .map(|_| ())
}

pub async fn by_id(db: &impl ConnectionTrait, id: i32) -> Result<Option<import_run::Model>, DbErr> {
    import_run::Entity::find_by_id(id).one(db).await
}

/// Moves a run from `from` to `to`; false when it was not in `from` (someone else moved
/// it first: a double click on «Применить» starts one import).
pub async fn transition(
    db: &impl ConnectionTrait,
    id: i32,
    from: &str,
    to: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let done = import_run::Entity::update_many()
        .col_expr(import_run::Column::Status, Expr::value(to))
        .col_expr(import_run::Column::UpdatedAt, Expr::value(now))
        .col_expr(import_run::Column::ProgressDone, Expr::value(0i64))
        .col_expr(import_run::Column::RowsRead, Expr::value(0i64))
        .filter(import_run::Column::Id.eq(id))
        .filter(import_run::Column::Status.eq(from))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

pub async fn progress(
    db: &impl ConnectionTrait,
    id: i32,
    (done, total, rows): (u64, u64, u64),
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    import_run::Entity::update_many()
        .col_expr(import_run::Column::ProgressDone, Expr::value(n(done)))
        .col_expr(import_run::Column::ProgressTotal, Expr::value(n(total)))
        .col_expr(import_run::Column::RowsRead, Expr::value(n(rows)))
        .col_expr(import_run::Column::UpdatedAt, Expr::value(now))
        .filter(import_run::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

/// What a check or an import found, and the status it ends in.
pub struct Outcome {
    pub status: &'static str,
    pub counts: [i32; 4],
    pub text: String,
    /// The preview of a check; the report of an applied import.
    pub is_preview: bool,
    /// Whether the file is no longer needed (applied, refused, failed).
    pub drop_file: bool,
}

pub async fn finish(
    db: &impl ConnectionTrait,
    id: i32,
    o: Outcome,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let [added, changed, unchanged, rejected] = o.counts;
    let mut update = import_run::Entity::update_many()
        .col_expr(import_run::Column::Status, Expr::value(o.status))
        .col_expr(import_run::Column::Added, Expr::value(added))
        .col_expr(import_run::Column::Changed, Expr::value(changed))
        .col_expr(import_run::Column::Unchanged, Expr::value(unchanged))
        .col_expr(import_run::Column::Rejected, Expr::value(rejected))
        .col_expr(import_run::Column::UpdatedAt, Expr::value(now));
    update = if o.is_preview {
        update.col_expr(import_run::Column::Preview, Expr::value(o.text))
    } else {
        update
            .col_expr(import_run::Column::Report, Expr::value(o.text))
            .col_expr(import_run::Column::FinishedAt, Expr::value(now))
    };
    update
        .filter(import_run::Column::Id.eq(id))
        .exec(db)
        .await?;
    if o.drop_file {
        drop_file(db, id).await?;
    }
    Ok(())
}

/// The latest runs, newest first: of these organizations or started
/// by this staff member, or all of them (`organizations` is `None`).
pub async fn latest(
    db: &impl ConnectionTrait,
    organizations: Option<&[i32]>,
    staff_id: i32,
    limit: u64,
) -> Result<Vec<import_run::Model>, DbErr> {
    let mut q = import_run::Entity::find();
    if let Some(ids) = organizations {
        q = q.filter(
            import_run::Column::OrganizationId
                .is_in(ids.iter().copied())
                .or(import_run::Column::StaffId.eq(staff_id)),
        );
    }
    q.order_by_desc(import_run::Column::Id)
        .limit(limit)
        .all(db)
        .await
}
