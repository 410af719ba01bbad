//! Consents to the processing of personal data, one per person and text version.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};

use super::entities::{appeal, consent};

/// When `oid` agreed to `version`, if they did.
pub async fn given_at(
    db: &impl ConnectionTrait,
    oid: &str,
    version: &str,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    Ok(consent::Entity::find()
        .filter(consent::Column::ApplicantOid.eq(oid))
        .filter(consent::Column::Version.eq(version))
        .one(db)
        .await?
        .map(|c| c.given_at))
}

/// Records the consent; agreeing again (another tab, a double click) keeps the first time.
pub async fn give(
    db: &impl ConnectionTrait,
    oid: &str,
    version: &str,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, DbErr> {
    consent::Entity::insert(consent::ActiveModel {
        applicant_oid: Set(oid.to_string()),
        version: Set(version.to_string()),
        given_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([consent::Column::ApplicantOid, consent::Column::Version])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    given_at(db, oid, version)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("consent just given".into()))
}

/// Every consent of these ESIA accounts, oldest first.
pub async fn of_people(
    db: &impl ConnectionTrait,
    oids: &[String],
) -> Result<Vec<consent::Model>, DbErr> {
    consent::Entity::find()
        .filter(consent::Column::ApplicantOid.is_in(oids.iter().cloned()))
        .order_by_asc(consent::Column::GivenAt)
        .all(db)
        .await
}

/// Deletes consents given before `cutoff` by people with no appeal left that still
/// carries their data (an anonymised appeal no longer names them); returns how many.
pub async fn prune(db: &impl ConnectionTrait, cutoff: DateTime<Utc>) -> Result<u64, DbErr> {
    let still_named = Query::select()
        .column(appeal::Column::ApplicantOid)
        .from(appeal::Entity)
        .and_where(appeal::Column::AnonymizedAt.is_null())
        .to_owned();
    Ok(consent::Entity::delete_many()
        .filter(consent::Column::GivenAt.lt(cutoff))
        .filter(consent::Column::ApplicantOid.not_in_subquery(still_named))
        .exec(db)
        .await?
        .rows_affected)
}
