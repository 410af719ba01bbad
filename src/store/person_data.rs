//! Everything stored about one person (152-ФЗ ст. 14), found by СНИЛС or e-mail.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

use super::entities::{appeal, appeal_access, appeal_event, esia_link, roster_person};

/// Appeals whose snapshot holds this СНИЛС (digits) or whose applicant e-mail is this one,
/// and every other appeal of the ESIA accounts that filed them.
pub async fn appeals(
    db: &impl ConnectionTrait,
    snils: Option<&str>,
    email: Option<&str>,
) -> Result<Vec<appeal::Model>, DbErr> {
    let mut found = appeal::Entity::find();
    let mut any = sea_orm::Condition::any();
    if let Some(digits) = snils {
        any = any.add(appeal::Column::Snapshot.contains(format!(r#""snils":"{digits}""#)));
    }
    if let Some(email) = email {
        any = any.add(Expr::col(appeal::Column::ApplicantEmail).eq(email));
    }
    found = found.filter(any);
    let direct = found.all(db).await?;
    let oids: Vec<String> = direct.iter().map(|a| a.applicant_oid.clone()).collect();
    appeal::Entity::find()
        .filter(appeal::Column::ApplicantOid.is_in(oids))
        .order_by_asc(appeal::Column::Id)
        .all(db)
        .await
}

pub async fn events(
    db: &impl ConnectionTrait,
    appeal_ids: &[i64],
) -> Result<Vec<appeal_event::Model>, DbErr> {
    appeal_event::Entity::find()
        .filter(appeal_event::Column::AppealId.is_in(appeal_ids.iter().copied()))
        .order_by_asc(appeal_event::Column::Id)
        .all(db)
        .await
}

pub async fn access_log(
    db: &impl ConnectionTrait,
    appeal_ids: &[i64],
) -> Result<Vec<appeal_access::Model>, DbErr> {
    appeal_access::Entity::find()
        .filter(appeal_access::Column::AppealId.is_in(appeal_ids.iter().copied()))
        .order_by_asc(appeal_access::Column::Id)
        .all(db)
        .await
}

/// Roster records with this СНИЛС or e-mail, at any school.
pub async fn roster_records(
    db: &impl ConnectionTrait,
    snils: Option<&str>,
    email: Option<&str>,
) -> Result<Vec<roster_person::Model>, DbErr> {
    let mut any = sea_orm::Condition::any();
    if let Some(digits) = snils {
        any = any.add(roster_person::Column::Snils.eq(digits));
    }
    if let Some(email) = email {
        any = any.add(roster_person::Column::Email.eq(email));
    }
    roster_person::Entity::find().filter(any).all(db).await
}

pub async fn links(
    db: &impl ConnectionTrait,
    oids: &[String],
    roster_ids: &[i32],
) -> Result<Vec<esia_link::Model>, DbErr> {
    esia_link::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(esia_link::Column::EsiaOid.is_in(oids.iter().cloned()))
                .add(esia_link::Column::RosterPersonId.is_in(roster_ids.iter().copied())),
        )
        .all(db)
        .await
}
