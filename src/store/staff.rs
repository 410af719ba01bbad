//! Staff records: who handles a school's appeals.

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter};

use super::entities::staff;

pub const RESPONSIBLE: &str = "responsible";
pub const MUNICIPAL_OPERATOR: &str = "municipal_operator";
pub const REGIONAL_OPERATOR: &str = "regional_operator";

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
