//! Regions, municipalities, organizations and their classes: the selectors of the СГО login
//! screen (Регион → Муниципальный район → Город/село → Тип ОО → Организация).

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::entities::{class, municipality, organization, region};
use crate::domain::directory::OrganizationEntry;
use crate::domain::names::normalize;

pub async fn regions(db: &impl ConnectionTrait) -> Result<Vec<region::Model>, DbErr> {
    region::Entity::find()
        .order_by_asc(region::Column::Name)
        .all(db)
        .await
}

pub async fn municipalities(
    db: &impl ConnectionTrait,
    region_id: i32,
) -> Result<Vec<municipality::Model>, DbErr> {
    municipality::Entity::find()
        .filter(municipality::Column::RegionId.eq(region_id))
        .order_by_asc(municipality::Column::Name)
        .all(db)
        .await
}

pub async fn municipality(
    db: &impl ConnectionTrait,
    id: i32,
) -> Result<Option<municipality::Model>, DbErr> {
    municipality::Entity::find_by_id(id).one(db).await
}

pub async fn localities(
    db: &impl ConnectionTrait,
    municipality_id: i32,
) -> Result<Vec<String>, DbErr> {
    organization::Entity::find()
        .select_only()
        .column(organization::Column::Locality)
        .distinct()
        .filter(organization::Column::MunicipalityId.eq(municipality_id))
        .order_by_asc(organization::Column::Locality)
        .into_tuple()
        .all(db)
        .await
}

#[derive(Debug, Default, Clone)]
pub struct OrganizationFilter {
    pub municipality_id: Option<i32>,
    pub locality: Option<String>,
    pub org_type: Option<String>,
    /// Case-insensitive substring of the name.
    pub name_contains: Option<String>,
}

pub async fn organizations(
    db: &impl ConnectionTrait,
    f: &OrganizationFilter,
) -> Result<Vec<(organization::Model, String)>, DbErr> {
    let mut q = organization::Entity::find();
    if let Some(m) = f.municipality_id {
        q = q.filter(organization::Column::MunicipalityId.eq(m));
    }
    if let Some(l) = &f.locality {
        q = q.filter(organization::Column::Locality.eq(l.as_str()));
    }
    if let Some(t) = &f.org_type {
        q = q.filter(organization::Column::OrgType.eq(t.as_str()));
    }
    let orgs = q.order_by_asc(organization::Column::Name).all(db).await?;
    let munis: std::collections::HashMap<i32, String> = municipality::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.id, m.name))
        .collect();
    // Cyrillic case folding is done here rather than in SQL: SQLite's LOWER() is ASCII-only.
    let needle = f
        .name_contains
        .as_deref()
        .map(crate::domain::names::normalize);
    Ok(orgs
        .into_iter()
        .filter(|o| {
            needle
                .as_deref()
                .is_none_or(|n| crate::domain::names::normalize(&o.name).contains(n))
        })
        .map(|o| {
            let m = munis.get(&o.municipality_id).cloned().unwrap_or_default();
            (o, m)
        })
        .collect())
}

pub async fn organization(
    db: &impl ConnectionTrait,
    id: i32,
) -> Result<Option<organization::Model>, DbErr> {
    organization::Entity::find_by_id(id).one(db).await
}

pub async fn classes(
    db: &impl ConnectionTrait,
    organization_id: i32,
) -> Result<Vec<class::Model>, DbErr> {
    let mut list = class::Entity::find()
        .filter(class::Column::OrganizationId.eq(organization_id))
        .all(db)
        .await?;
    list.sort_by_key(|c| class_order(&c.name));
    Ok(list)
}

/// «2а» before «10а»: by grade number, then by letter.
fn class_order(name: &str) -> (u32, String) {
    let digits: String = name.chars().take_while(char::is_ascii_digit).collect();
    (
        digits.parse().unwrap_or(u32::MAX),
        name[digits.len()..].to_string(),
    )
}

pub async fn class(db: &impl ConnectionTrait, id: i32) -> Result<Option<class::Model>, DbErr> {
    class::Entity::find_by_id(id).one(db).await
}

/// An organization with the municipality and region it belongs to: what scopes check.
pub struct Placement {
    pub organization: organization::Model,
    pub municipality: municipality::Model,
}

impl Placement {
    pub fn covered_by(&self, scope: crate::domain::staff::Scope) -> bool {
        scope.covers(
            self.organization.id,
            self.municipality.id,
            self.municipality.region_id,
        )
    }
}

pub async fn placement(
    db: &impl ConnectionTrait,
    organization_id: i32,
) -> Result<Option<Placement>, DbErr> {
    let Some(organization) = organization(db, organization_id).await? else {
        return Ok(None);
    };
    let Some(municipality) = municipality(db, organization.municipality_id).await? else {
        return Ok(None);
    };
    Ok(Some(Placement {
        organization,
        municipality,
    }))
}

/// Ids of the organizations a scope covers.
pub async fn organizations_in_scope(
    db: &impl ConnectionTrait,
    scope: crate::domain::staff::Scope,
) -> Result<Vec<(organization::Model, String)>, DbErr> {
    use crate::domain::staff::Scope;
    let mut all = organizations(db, &OrganizationFilter::default()).await?;
    let munis: std::collections::HashMap<i32, i32> = municipality::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.id, m.region_id))
        .collect();
    all.retain(|(o, _)| match scope {
        Scope::All => true,
        _ => scope.covers(
            o.id,
            o.municipality_id,
            munis.get(&o.municipality_id).copied().unwrap_or(-1),
        ),
    });
    Ok(all)
}

/// The region named `name` (case, spaces, «ё» aside), added when missing.
pub async fn region_named(db: &impl ConnectionTrait, name: &str) -> Result<i32, DbErr> {
    let wanted = normalize(name);
    if let Some(found) = region::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .find(|r| normalize(&r.name) == wanted)
    {
        return Ok(found.id);
    }
    region::ActiveModel {
        name: Set(name.to_string()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map(|r| r.id)
}

/// The municipality `name` of a region (as for regions), added when missing.
pub async fn municipality_named(
    db: &impl ConnectionTrait,
    region_id: i32,
    name: &str,
) -> Result<i32, DbErr> {
    let wanted = normalize(name);
    if let Some(found) = municipality::Entity::find()
        .filter(municipality::Column::RegionId.eq(region_id))
        .all(db)
        .await?
        .into_iter()
        .find(|m| normalize(&m.name) == wanted)
    {
        return Ok(found.id);
    }
    municipality::ActiveModel {
        region_id: Set(region_id),
        name: Set(name.to_string()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map(|m| m.id)
}

pub async fn organization_by_code(
    db: &impl ConnectionTrait,
    code: &str,
) -> Result<Option<organization::Model>, DbErr> {
    organization::Entity::find()
        .filter(organization::Column::Code.eq(code))
        .one(db)
        .await
}

/// Adds an organization of a directory file; returns its id.
pub async fn add_organization(
    db: &impl ConnectionTrait,
    municipality_id: i32,
    e: &OrganizationEntry,
) -> Result<i32, DbErr> {
    let new = organization::ActiveModel {
        locality: Set(String::new()),
        short_name: Set(None),
        ..Default::default()
    };
    fields(new, municipality_id, e)
        .insert(db)
        .await
        .map(|o| o.id)
}

/// Rewrites an organization with what its directory row says.
pub async fn update_organization(
    db: &impl ConnectionTrait,
    id: i32,
    municipality_id: i32,
    e: &OrganizationEntry,
) -> Result<(), DbErr> {
    let row = organization::ActiveModel {
        id: sea_orm::Unchanged(id),
        ..Default::default()
    };
    fields(row, municipality_id, e).update(db).await.map(|_| ())
}

fn fields(
    mut row: organization::ActiveModel,
    municipality_id: i32,
    e: &OrganizationEntry,
) -> organization::ActiveModel {
    row.municipality_id = Set(municipality_id);
    row.org_type = Set(e.org_type.to_string());
    row.name = Set(e.name.clone());
    row.code = Set(Some(e.code.clone()));
    if let Some(locality) = &e.locality {
        row.locality = Set(locality.clone());
    }
    if let Some(short_name) = &e.short_name {
        row.short_name = Set(short_name.clone());
    }
    row
}

pub async fn add_class(
    db: &impl ConnectionTrait,
    organization_id: i32,
    name: &str,
) -> Result<(), DbErr> {
    class::ActiveModel {
        organization_id: Set(organization_id),
        name: Set(name.to_string()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map(|_| ())
}

pub async fn municipalities_named(
    db: &impl ConnectionTrait,
    name: &str,
) -> Result<Vec<municipality::Model>, DbErr> {
    let wanted = normalize(name);
    Ok(municipality::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .filter(|m| normalize(&m.name) == wanted)
        .collect())
}
