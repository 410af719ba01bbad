//! Demo directory, roster and staff for `cargo run` and the tests, read from
//! `config/demo-directory.toml`. Seeding runs once: an existing directory is left alone.

use std::collections::HashMap;
use std::path::Path;

use chrono::NaiveDate;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, Set};
use serde::Deserialize;

use super::entities::{
    class, municipality, organization, region, roster_guardian, roster_person, staff,
};
use crate::domain::names::PersonName;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoFile {
    region: Vec<DemoRegion>,
    #[serde(default)]
    staff: Vec<DemoStaff>,
    #[serde(default)]
    roster: Vec<DemoPerson>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoRegion {
    name: String,
    municipality: Vec<DemoMunicipality>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoMunicipality {
    key: String,
    name: String,
    organization: Vec<DemoOrganization>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoOrganization {
    key: String,
    name: String,
    locality: String,
    #[serde(rename = "type")]
    org_type: String,
    #[serde(default)]
    classes: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoStaff {
    snils: String,
    last_name: String,
    first_name: String,
    middle_name: String,
    email: String,
    role: String,
    organization: Option<String>,
    municipality: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoPerson {
    key: String,
    organization: String,
    role: String,
    last_name: String,
    first_name: String,
    #[serde(default)]
    middle_name: String,
    birth_date: String,
    snils: Option<String>,
    class: Option<String>,
    #[serde(default)]
    children: Vec<String>,
}

fn bad(msg: String) -> DbErr {
    DbErr::Custom(format!("demo directory: {msg}"))
}

/// Seeds the demo data unless the directory already has regions. Returns whether it did.
/// Seeds an empty directory; run inside the setup transaction (`store::prepare`), so all
/// of it or none of it lands.
pub async fn seed(db: &impl ConnectionTrait, path: &Path) -> Result<bool, DbErr> {
    if region::Entity::find().count(db).await? > 0 {
        return Ok(false);
    }
    let text =
        std::fs::read_to_string(path).map_err(|e| bad(format!("{}: {e}", path.display())))?;
    let file: DemoFile = toml::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let mut orgs: HashMap<String, i32> = HashMap::new();
    let mut munis: HashMap<String, i32> = HashMap::new();
    let mut classes: HashMap<(String, String), i32> = HashMap::new();
    for r in &file.region {
        let region = region::ActiveModel {
            name: Set(r.name.clone()),
            ..Default::default()
        }
        .insert(db)
        .await?;
        for m in &r.municipality {
            let muni = municipality::ActiveModel {
                region_id: Set(region.id),
                name: Set(m.name.clone()),
                ..Default::default()
            }
            .insert(db)
            .await?;
            munis.insert(m.key.clone(), muni.id);
            for o in &m.organization {
                let org = organization::ActiveModel {
                    municipality_id: Set(muni.id),
                    locality: Set(o.locality.clone()),
                    org_type: Set(o.org_type.clone()),
                    name: Set(o.name.clone()),
                    code: Set(Some(o.key.clone())),
                    ..Default::default()
                }
                .insert(db)
                .await?;
                orgs.insert(o.key.clone(), org.id);
                for c in &o.classes {
                    let cls = class::ActiveModel {
                        organization_id: Set(org.id),
                        name: Set(c.clone()),
                        ..Default::default()
                    }
                    .insert(db)
                    .await?;
                    classes.insert((o.key.clone(), c.clone()), cls.id);
                }
            }
        }
    }
    let lookup = |map: &HashMap<String, i32>, key: &Option<String>| -> Result<Option<i32>, DbErr> {
        key.as_ref()
            .map(|k| {
                map.get(k)
                    .copied()
                    .ok_or_else(|| bad(format!("unknown key {k}")))
            })
            .transpose()
    };
    for s in &file.staff {
        staff::ActiveModel {
            snils: Set(s.snils.chars().filter(char::is_ascii_digit).collect()),
            last_name: Set(s.last_name.clone()),
            first_name: Set(s.first_name.clone()),
            middle_name: Set(s.middle_name.clone()),
            email: Set(s.email.clone()),
            role: Set(s.role.clone()),
            organization_id: Set(lookup(&orgs, &s.organization)?),
            municipality_id: Set(lookup(&munis, &s.municipality)?),
            region_id: Set(None),
            active: Set(true),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    let mut people: HashMap<String, i32> = HashMap::new();
    for p in &file.roster {
        let org = *orgs
            .get(&p.organization)
            .ok_or_else(|| bad(format!("unknown organization {}", p.organization)))?;
        let class_id = match &p.class {
            Some(c) => Some(
                *classes
                    .get(&(p.organization.clone(), c.clone()))
                    .ok_or_else(|| bad(format!("unknown class {c}")))?,
            ),
            None => None,
        };
        let birth_date = NaiveDate::parse_from_str(&p.birth_date, "%d.%m.%Y")
            .map_err(|e| bad(format!("{}: {e}", p.key)))?;
        let name = PersonName::new(&p.last_name, &p.first_name, &p.middle_name);
        let person = roster_person::ActiveModel {
            organization_id: Set(org),
            role: Set(p.role.clone()),
            last_name: Set(name.last.clone()),
            first_name: Set(name.first.clone()),
            middle_name: Set(name.middle.clone()),
            birth_date: Set(birth_date),
            snils: Set(p
                .snils
                .as_ref()
                .map(|s| s.chars().filter(char::is_ascii_digit).collect())),
            passport: Set(None),
            class_id: Set(class_id),
            name_norm: Set(name.norm()),
            ..Default::default()
        }
        .insert(db)
        .await?;
        people.insert(p.key.clone(), person.id);
    }
    for p in &file.roster {
        for child in &p.children {
            let student = *people
                .get(child)
                .ok_or_else(|| bad(format!("unknown child {child}")))?;
            roster_guardian::ActiveModel {
                parent_id: Set(people[&p.key]),
                student_id: Set(student),
            }
            .insert(db)
            .await?;
        }
    }
    Ok(true)
}
