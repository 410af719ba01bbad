//! Applying a checked file to the database: all or nothing (one transaction), idempotent
//! (a record is found by its key and changed only where the file differs), never
//! deleting what the file leaves out. A dry run does the same work and rolls it back, so
//! its report is exactly what the real run would do.

use sea_orm::DbErr;

use super::Workflow;
use crate::domain::appeal::ORG_TYPES;
use crate::domain::directory::OrganizationEntry;
use crate::domain::staff::{StaffEntry, Unit};
use crate::import::report::{FieldChange, Report};
use crate::store::staff::{self as staff_store, Placement};
use crate::store::{self, directory as dir};

#[derive(Debug, Clone, Copy, Default)]
pub struct Mode {
    /// Check and report, write nothing.
    pub dry_run: bool,
    /// Write the valid rows even though others were rejected.
    pub skip_invalid: bool,
}

/// Refuses the whole file when it has rejected rows, unless told to skip them.
fn refuse_invalid(report: &mut Report, mode: Mode) -> bool {
    if report.rejected.is_empty() || mode.skip_invalid {
        return false;
    }
    report.refused = Some(
        "в файле есть ошибки (см. выше). Исправьте их или запустите с --skip-invalid, \
         чтобы записать только верные строки."
            .into(),
    );
    true
}

fn type_label(code: &str) -> String {
    ORG_TYPES
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(code, |(_, label)| label)
        .to_string()
}

/// Regions, municipalities, organizations (by their code) and classes of a directory file.
pub async fn directory(
    wf: &Workflow,
    entries: &[OrganizationEntry],
    mode: Mode,
    report: &mut Report,
) -> Result<(), DbErr> {
    if refuse_invalid(report, mode) {
        return Ok(());
    }
    let txn = store::begin_write(wf.db()).await?;
    for e in entries {
        let region_id = dir::region_named(&txn, &e.region).await?;
        let municipality_id = dir::municipality_named(&txn, region_id, &e.municipality).await?;
        let label = format!("{} «{}»", e.code, e.name);
        let Some(existing) = dir::organization_by_code(&txn, &e.code).await? else {
            let id = dir::add_organization(&txn, municipality_id, e).await?;
            for class in &e.classes {
                dir::add_class(&txn, id, class).await?;
            }
            report
                .added
                .push(format!("{label}, классов: {}", e.classes.len()));
            continue;
        };
        let mut changes = Vec::new();
        if existing.municipality_id != municipality_id {
            let old = dir::municipality(&txn, existing.municipality_id)
                .await?
                .map(|m| m.name)
                .unwrap_or_default();
            changes.push(FieldChange {
                field: "Муниципальный район",
                old,
                new: e.municipality.clone(),
            });
        }
        // A column the file does not have leaves the field as it is.
        for (field, old, new) in [
            (
                "Населённый пункт",
                existing.locality.clone(),
                e.locality.clone(),
            ),
            ("Наименование", existing.name.clone(), Some(e.name.clone())),
            (
                "Краткое наименование",
                existing.short_name.clone().unwrap_or_default(),
                e.short_name.clone().map(Option::unwrap_or_default),
            ),
            (
                "Тип",
                type_label(&existing.org_type),
                Some(type_label(e.org_type)),
            ),
        ] {
            if let Some(new) = new
                && old != new
            {
                changes.push(FieldChange { field, old, new });
            }
        }
        let rewrite = !changes.is_empty();
        let known: Vec<String> = dir::classes(&txn, existing.id)
            .await?
            .into_iter()
            .map(|c| c.name)
            .collect();
        let missing: Vec<&String> = e.classes.iter().filter(|c| !known.contains(c)).collect();
        if !missing.is_empty() {
            for class in &missing {
                dir::add_class(&txn, existing.id, class).await?;
            }
            changes.push(FieldChange {
                field: "Классы",
                old: known.join(", "),
                new: format!(
                    "{} + {}",
                    known.join(", "),
                    missing
                        .iter()
                        .map(|c| c.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
        if changes.is_empty() {
            report.unchanged += 1;
            continue;
        }
        if rewrite {
            dir::update_organization(&txn, existing.id, municipality_id, e).await?;
        }
        report.changed.push((label, changes));
    }
    finish(txn, mode, report).await
}

/// Finds where a staff row works in the directory; a name or code the directory does not
/// have rejects the row (column names as in the shipped headers).
async fn placement(
    wf: &Workflow,
    e: &StaffEntry,
    report: &mut Report,
) -> Result<Option<Placement>, DbErr> {
    let db = wf.db();
    let none = Placement {
        organization_id: None,
        municipality_id: None,
        region_id: None,
    };
    let found = match &e.unit {
        Unit::Organization(code) => match dir::organization_by_code(db, code).await? {
            Some(o) => Ok(Placement {
                organization_id: Some(o.id),
                ..none
            }),
            None => Err((
                "Код организации",
                code.clone(),
                "организации с таким кодом нет в справочнике",
            )),
        },
        Unit::Municipality(name) => {
            let found = dir::municipalities_named(db, name).await?;
            match found.as_slice() {
                [one] => Ok(Placement {
                    municipality_id: Some(one.id),
                    ..none
                }),
                [] => Err((
                    "Муниципальный район",
                    name.clone(),
                    "такого района нет в справочнике",
                )),
                _ => Err((
                    "Муниципальный район",
                    name.clone(),
                    "районов с таким названием несколько (в разных регионах)",
                )),
            }
        }
        Unit::Region(name) => {
            let regions = dir::regions(db).await?;
            let matching: Vec<_> = regions
                .iter()
                .filter(|r| name.as_ref().is_none_or(|n| *n == r.name))
                .collect();
            match matching.as_slice() {
                [one] => Ok(Placement {
                    region_id: Some(one.id),
                    ..none
                }),
                _ => Err((
                    "Регион",
                    name.clone().unwrap_or_default(),
                    "укажите регион из справочника",
                )),
            }
        }
        Unit::Everywhere => Ok(none),
    };
    Ok(match found {
        Ok(at) => Some(at),
        Err((column, value, reason)) => {
            report.reject(e.line, column, &value, reason);
            None
        }
    })
}

/// Staff records of a staff file, by СНИЛС, role and place of work. A record the file
/// leaves out is kept as it is.
pub async fn staff(
    wf: &Workflow,
    entries: &[StaffEntry],
    mode: Mode,
    report: &mut Report,
) -> Result<(), DbErr> {
    let mut placed = Vec::new();
    for e in entries {
        if let Some(at) = placement(wf, e, report).await? {
            placed.push((e, at));
        }
    }
    report.rejected.sort_by_key(|r| r.line);
    if refuse_invalid(report, mode) {
        return Ok(());
    }
    let txn = store::begin_write(wf.db()).await?;
    for (e, at) in placed {
        let label = format!(
            "{}, {}, {}",
            e.name.full(),
            e.role.label().to_lowercase(),
            e.unit.describe()
        );
        let existing = staff_store::record(&txn, e.snils.digits(), e.role, at).await?;
        let Some(existing) = existing else {
            staff_store::save_record(&txn, None, e, at).await?;
            report.added.push(label);
            continue;
        };
        let changes: Vec<FieldChange> = [
            ("Фамилия", existing.last_name.clone(), e.name.last.clone()),
            ("Имя", existing.first_name.clone(), e.name.first.clone()),
            (
                "Отчество",
                existing.middle_name.clone(),
                e.name.middle.clone(),
            ),
            ("E-mail", existing.email.clone(), e.email.clone()),
            (
                "Действует",
                if existing.active { "да" } else { "нет" }.to_string(),
                "да".to_string(),
            ),
        ]
        .into_iter()
        .filter(|(_, old, new)| old != new)
        .map(|(field, old, new)| FieldChange { field, old, new })
        .collect();
        if changes.is_empty() {
            report.unchanged += 1;
            continue;
        }
        staff_store::save_record(&txn, Some(existing.id), e, at).await?;
        report.changed.push((label, changes));
    }
    finish(txn, mode, report).await
}

/// Commits, or rolls back a dry run.
async fn finish(
    txn: sea_orm::DatabaseTransaction,
    mode: Mode,
    report: &mut Report,
) -> Result<(), DbErr> {
    if mode.dry_run {
        txn.rollback().await
    } else {
        txn.commit().await?;
        report.written = true;
        Ok(())
    }
}
