//! Staff records: who handles a school's appeals.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set,
};

use super::entities::{staff, staff_digest_item};
use super::outbox::{self, NewMessage};
use crate::domain::staff::{Scope, StaffEntry, StaffRole};

pub const RESPONSIBLE: &str = "responsible";
pub const MUNICIPAL_OPERATOR: &str = "municipal_operator";
pub const REGIONAL_OPERATOR: &str = "regional_operator";

/// The scope a staff record grants (none for an unknown role or a record missing its unit).
pub fn scope(s: &staff::Model) -> Option<Scope> {
    StaffRole::parse(&s.role)
        .and_then(|r| Scope::of(r, s.organization_id, s.municipality_id, s.region_id))
}

pub struct RoutingFacts {
    pub responsible: u64,
    pub municipal: u64,
}

pub async fn routing_facts(
    db: &impl ConnectionTrait,
    organization_id: i32,
    municipality_id: i32,
) -> Result<RoutingFacts, DbErr> {
    let responsible = staff::Entity::find()
        .filter(staff::Column::Active.eq(true))
        .filter(staff::Column::Role.eq(RESPONSIBLE))
        .filter(staff::Column::OrganizationId.eq(organization_id))
        .count(db)
        .await?;
    let municipal = staff::Entity::find()
        .filter(staff::Column::Active.eq(true))
        .filter(staff::Column::Role.eq(MUNICIPAL_OPERATOR))
        .filter(staff::Column::MunicipalityId.eq(municipality_id))
        .count(db)
        .await?;
    Ok(RoutingFacts {
        responsible,
        municipal,
    })
}

/// Active staff records of a person, by СНИЛС digits (staff sign in through ESIA only).
pub async fn active_by_snils(
    db: &impl ConnectionTrait,
    snils_digits: &str,
) -> Result<Vec<staff::Model>, DbErr> {
    staff::Entity::find()
        .filter(staff::Column::Snils.eq(snils_digits))
        .filter(staff::Column::Active.eq(true))
        .order_by_asc(staff::Column::Id)
        .all(db)
        .await
}

pub async fn by_id(db: &impl ConnectionTrait, id: i32) -> Result<Option<staff::Model>, DbErr> {
    staff::Entity::find_by_id(id).one(db).await
}

/// Staff records by id (any that exist), for names shown beside history entries.
pub async fn by_ids(db: &impl ConnectionTrait, ids: &[i32]) -> Result<Vec<staff::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    staff::Entity::find()
        .filter(staff::Column::Id.is_in(ids.to_vec()))
        .all(db)
        .await
}

/// Active staff who handle appeals of `organization_id` directly.
pub async fn responsible_of(
    db: &impl ConnectionTrait,
    organization_id: i32,
) -> Result<Vec<staff::Model>, DbErr> {
    staff::Entity::find()
        .filter(staff::Column::Active.eq(true))
        .filter(staff::Column::Role.eq(RESPONSIBLE))
        .filter(staff::Column::OrganizationId.eq(organization_id))
        .order_by_asc(staff::Column::LastName)
        .all(db)
        .await
}

/// Active operators of a municipality (and, failing those, of its region).
pub async fn operators_for(
    db: &impl ConnectionTrait,
    municipality_id: i32,
    region_id: i32,
) -> Result<Vec<staff::Model>, DbErr> {
    let municipal = staff::Entity::find()
        .filter(staff::Column::Active.eq(true))
        .filter(staff::Column::Role.eq(MUNICIPAL_OPERATOR))
        .filter(staff::Column::MunicipalityId.eq(municipality_id))
        .all(db)
        .await?;
    if !municipal.is_empty() {
        return Ok(municipal);
    }
    staff::Entity::find()
        .filter(staff::Column::Active.eq(true))
        .filter(staff::Column::Role.eq(REGIONAL_OPERATOR))
        .filter(staff::Column::RegionId.eq(region_id))
        .all(db)
        .await
}

/// Staff who asked for an hourly digest instead of one e-mail per appeal.
pub async fn digest_subscribers(db: &impl ConnectionTrait) -> Result<Vec<staff::Model>, DbErr> {
    staff::Entity::find()
        .filter(staff::Column::Active.eq(true))
        .filter(staff::Column::NotifyDigest.eq(true))
        .order_by_asc(staff::Column::Id)
        .all(db)
        .await
}

pub async fn set_notify_digest(
    db: &impl ConnectionTrait,
    id: i32,
    digest: bool,
) -> Result<(), DbErr> {
    staff::ActiveModel {
        id: Set(id),
        notify_digest: Set(digest),
        ..Default::default()
    }
    .update(db)
    .await
    .map(|_| ())
}

/// Sends a subscriber their digest: claims it, takes the queued appeals and writes the
/// e-mail `render` makes of their numbers, all in one transaction. False when another
/// instance claimed it first or nothing was queued.
pub async fn take_digest<E, F>(
    db: &DatabaseConnection,
    subscriber: &staff::Model,
    now: DateTime<Utc>,
    render: F,
) -> Result<bool, E>
where
    E: From<DbErr>,
    F: FnOnce(&[String]) -> Result<NewMessage, E>,
{
    let txn = super::begin_write(db).await?;
    // Of several instances only one moves the timestamp.
    if !claim_digest(&txn, subscriber.id, subscriber.digest_sent_at, now).await? {
        txn.rollback().await?;
        return Ok(false);
    }
    let appeal_ids = take_digest_items(&txn, subscriber.id, now).await?;
    let numbers = super::appeals::numbers_of(&txn, &appeal_ids).await?;
    let queued = !numbers.is_empty();
    if queued {
        outbox::enqueue(&txn, render(&numbers)?, now).await?;
    }
    txn.commit().await?;
    Ok(queued)
}

/// Moves a subscriber's digest timestamp from `previous` to `now`; false when another
/// instance already did (the digest is theirs to send).
async fn claim_digest(
    db: &impl ConnectionTrait,
    id: i32,
    previous: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let mut update = staff::Entity::update_many()
        .col_expr(
            staff::Column::DigestSentAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(staff::Column::Id.eq(id));
    update = match previous {
        Some(t) => update.filter(staff::Column::DigestSentAt.eq(t)),
        None => update.filter(staff::Column::DigestSentAt.is_null()),
    };
    Ok(update.exec(db).await?.rows_affected == 1)
}

/// Queues an appeal for the digests of `staff_ids` (inside the caller's transaction).
pub async fn queue_for_digest(
    db: &impl ConnectionTrait,
    items: Vec<(i32, i64, DateTime<Utc>)>,
) -> Result<(), DbErr> {
    let rows = items
        .into_iter()
        .map(|(staff_id, appeal_id, at)| staff_digest_item::ActiveModel {
            staff_id: Set(staff_id),
            appeal_id: Set(appeal_id),
            created_at: Set(at),
            sent_at: Set(None),
            ..Default::default()
        })
        .collect();
    super::insert_in_chunks(db, rows).await
}

/// Takes a subscriber's pending digest items: marks them sent and returns the appeal ids.
async fn take_digest_items(
    db: &impl ConnectionTrait,
    staff_id: i32,
    now: DateTime<Utc>,
) -> Result<Vec<i64>, DbErr> {
    let items = staff_digest_item::Entity::find()
        .filter(staff_digest_item::Column::StaffId.eq(staff_id))
        .filter(staff_digest_item::Column::SentAt.is_null())
        .order_by_asc(staff_digest_item::Column::Id)
        .all(db)
        .await?;
    let ids: Vec<i64> = items.iter().map(|i| i.id).collect();
    if !ids.is_empty() {
        staff_digest_item::Entity::update_many()
            .col_expr(
                staff_digest_item::Column::SentAt,
                sea_orm::sea_query::Expr::value(now),
            )
            .filter(staff_digest_item::Column::Id.is_in(ids))
            .exec(db)
            .await?;
    }
    Ok(items.into_iter().map(|i| i.appeal_id).collect())
}

/// Where a staff record works, resolved to the directory's ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    pub organization_id: Option<i32>,
    pub municipality_id: Option<i32>,
    pub region_id: Option<i32>,
}

/// The staff record of a person in a role at a place, active or not.
pub async fn record(
    db: &impl ConnectionTrait,
    snils_digits: &str,
    role: StaffRole,
    at: Placement,
) -> Result<Option<staff::Model>, DbErr> {
    let eq_or_null = |col: staff::Column, v: Option<i32>| match v {
        Some(v) => col.eq(v),
        None => col.is_null(),
    };
    staff::Entity::find()
        .filter(staff::Column::Snils.eq(snils_digits))
        .filter(staff::Column::Role.eq(role.as_str()))
        .filter(eq_or_null(
            staff::Column::OrganizationId,
            at.organization_id,
        ))
        .filter(eq_or_null(
            staff::Column::MunicipalityId,
            at.municipality_id,
        ))
        .filter(eq_or_null(staff::Column::RegionId, at.region_id))
        .one(db)
        .await
}

/// Adds an active staff record, or rewrites `id` with this name and e-mail (active).
pub async fn save_record(
    db: &impl ConnectionTrait,
    id: Option<i32>,
    e: &StaffEntry,
    at: Placement,
) -> Result<(), DbErr> {
    let mut row = match id {
        Some(id) => staff::ActiveModel {
            id: sea_orm::Unchanged(id),
            ..Default::default()
        },
        None => staff::ActiveModel {
            email: Set(String::new()),
            snils: Set(e.snils.digits().to_string()),
            role: Set(e.role.as_str().to_string()),
            organization_id: Set(at.organization_id),
            municipality_id: Set(at.municipality_id),
            region_id: Set(at.region_id),
            ..Default::default()
        },
    };
    row.last_name = Set(e.name.last.clone());
    row.first_name = Set(e.name.first.clone());
    row.middle_name = Set(e.name.middle.clone());
    if let Some(email) = &e.email {
        row.email = Set(email.clone());
    }
    row.active = Set(true);
    match id {
        Some(_) => row.update(db).await.map(|_| ()),
        None => row.insert(db).await.map(|_| ()),
    }
}

/// Every staff record, by name (a region has thousands at most).
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<staff::Model>, DbErr> {
    staff::Entity::find()
        .order_by_asc(staff::Column::LastName)
        .order_by_asc(staff::Column::FirstName)
        .all(db)
        .await
}
