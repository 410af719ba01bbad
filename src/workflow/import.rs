//! Applying a checked file to the database: all or nothing (one transaction), idempotent
//! (a record is found by its key and changed only where the file differs), never
//! deleting what the file leaves out. A dry run does the same work and rolls it back, so
//! its report is exactly what the real run would do.

use sea_orm::DbErr;

use super::Workflow;
use crate::domain::appeal::ORG_TYPES;
use crate::domain::directory::OrganizationEntry;
use crate::import::report::{FieldChange, Report};
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
    if mode.dry_run {
        txn.rollback().await?;
    } else {
        txn.commit().await?;
        report.written = true;
    }
    Ok(())
}
