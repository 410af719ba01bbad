//! Personal-data retention (152-ФЗ): closed appeals past the term lose their personal
//! data, statistics stay; the staff access log is pruned after its own term.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::entities::{appeal, appeal_access, appeal_event, outbox, submission_token};
use crate::domain::status::Status;

/// Closed appeals answered (or last changed) before `cutoff`, not yet anonymised.
pub async fn due_for_anonymizing(
    db: &impl ConnectionTrait,
    cutoff: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<appeal::Model>, DbErr> {
    // Answered before the cutoff; an appeal closed without an answer (forwarded away)
    // counts from its last change.
    let closed_before = Condition::any()
        .add(appeal::Column::AnsweredAt.lt(cutoff))
        .add(
            Condition::all()
                .add(appeal::Column::AnsweredAt.is_null())
                .add(appeal::Column::UpdatedAt.lt(cutoff)),
        );
    appeal::Entity::find()
        .filter(appeal::Column::Status.is_not_in(Status::open_values()))
        .filter(appeal::Column::AnonymizedAt.is_null())
        .filter(closed_before)
        .order_by_asc(appeal::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// How many rows one appeal's anonymisation changed.
#[derive(Debug, Default, Clone, Copy)]
pub struct Touched {
    pub events: u64,
    pub mails: u64,
}

/// Replaces the appeal's personal data: the snapshot (already anonymised by the caller),
/// the applicant's ESIA id and e-mail, the search text, the comment; every history text
/// (replies, notes, resolutions); the e-mails it sent. Dates, status, organization and
/// class stay.
pub async fn anonymize(
    db: &impl ConnectionTrait,
    a: &appeal::Model,
    snapshot: String,
    now: DateTime<Utc>,
) -> Result<Touched, DbErr> {
    let anonymous = format!("anonymized-{}", a.id);
    appeal::Entity::update_many()
        .col_expr(appeal::Column::Snapshot, Expr::value(snapshot))
        .col_expr(appeal::Column::ApplicantOid, Expr::value(anonymous.clone()))
        .col_expr(appeal::Column::ApplicantEmail, Expr::value(""))
        .col_expr(appeal::Column::SearchNorm, Expr::value(""))
        .col_expr(appeal::Column::SubjectKey, Expr::value(anonymous))
        .col_expr(
            appeal::Column::ChildEsiaId,
            Expr::value(Option::<String>::None),
        )
        .col_expr(appeal::Column::Comment, Expr::value(Option::<String>::None))
        .col_expr(appeal::Column::AnonymizedAt, Expr::value(now))
        .filter(appeal::Column::Id.eq(a.id))
        .exec(db)
        .await?;
    let events = appeal_event::Entity::update_many()
        .col_expr(
            appeal_event::Column::Message,
            Expr::value(Option::<String>::None),
        )
        .filter(appeal_event::Column::AppealId.eq(a.id))
        .filter(appeal_event::Column::Message.is_not_null())
        .exec(db)
        .await?
        .rows_affected;
    let mails = outbox::Entity::update_many()
        .col_expr(outbox::Column::Recipient, Expr::value(""))
        .col_expr(outbox::Column::Subject, Expr::value(""))
        .col_expr(outbox::Column::BodyText, Expr::value(""))
        .col_expr(outbox::Column::BodyHtml, Expr::value(""))
        .col_expr(
            outbox::Column::LastError,
            Expr::value(Option::<String>::None),
        )
        .filter(outbox::Column::AppealId.eq(a.id))
        .exec(db)
        .await?
        .rows_affected;
    // The form token it was filed with names the applicant's ESIA id.
    submission_token::Entity::delete_by_id(a.submission_id.clone())
        .exec(db)
        .await?;
    Ok(Touched { events, mails })
}

/// Deletes staff access-log entries older than `cutoff`; returns how many.
pub async fn prune_access_log(
    db: &impl ConnectionTrait,
    cutoff: DateTime<Utc>,
) -> Result<u64, DbErr> {
    Ok(appeal_access::Entity::delete_many()
        .filter(appeal_access::Column::CreatedAt.lt(cutoff))
        .exec(db)
        .await?
        .rows_affected)
}
