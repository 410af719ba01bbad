//! The audit log: every change to the directory, staff and rosters, by whom and through
//! which import.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::ExprTrait;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::entities::audit_entry;

/// One change, as the use case that made it describes it.
#[derive(Debug, Clone, Default)]
pub struct Change {
    pub staff_id: Option<i32>,
    pub organization_id: Option<i32>,
    pub roster_person_id: Option<i32>,
    pub import_run_id: Option<i32>,
    pub action: &'static str,
    pub detail: String,
}

pub async fn record(db: &impl ConnectionTrait, c: Change, at: DateTime<Utc>) -> Result<(), DbErr> {
    audit_entry::ActiveModel {
        at: Set(at),
        staff_id: Set(c.staff_id),
        organization_id: Set(c.organization_id),
        roster_person_id: Set(c.roster_person_id),
        import_run_id: Set(c.import_run_id),
        action: Set(c.action.to_string()),
        detail: Set(c.detail),
        ..Default::default()
    }
    .insert(db)
    .await
    .map(|_| ())
}

/// The history of one roster person, oldest first.
pub async fn of_person(
    db: &impl ConnectionTrait,
    roster_person_id: i32,
) -> Result<Vec<audit_entry::Model>, DbErr> {
    audit_entry::Entity::find()
        .filter(audit_entry::Column::RosterPersonId.eq(roster_person_id))
        .order_by_asc(audit_entry::Column::Id)
        .all(db)
        .await
}

/// The latest changes, newest first: of these organizations and by this staff member, or
/// all of them (`organizations` is `None`).
pub async fn latest(
    db: &impl ConnectionTrait,
    organizations: Option<&[i32]>,
    staff_id: i32,
    limit: u64,
) -> Result<Vec<audit_entry::Model>, DbErr> {
    let mut q = audit_entry::Entity::find();
    if let Some(ids) = organizations {
        q = q.filter(
            audit_entry::Column::OrganizationId
                .is_in(ids.iter().copied())
                .or(audit_entry::Column::StaffId.eq(staff_id)),
        );
    }
    q.order_by_desc(audit_entry::Column::Id)
        .limit(limit)
        .all(db)
        .await
}
