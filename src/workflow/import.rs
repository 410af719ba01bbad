//! Applying a checked file to the database: all or nothing (one transaction), idempotent
//! (a record is found by its key and changed only where the file differs), never
//! deleting what the file leaves out. A dry run does the same work and rolls it back, so
//! its report is exactly what the real run would do.

use sea_orm::DbErr;

use super::Workflow;
use crate::domain::appeal::ORG_TYPES;
use std::collections::{HashMap, HashSet};

use crate::domain::directory::OrganizationEntry;
use crate::domain::names::normalize;
use crate::domain::roster::{Before, Entry, Person, RosterRole, RosterRow};
use crate::domain::staff::Scope;
use crate::domain::staff::{StaffEntry, Unit};
use crate::import::report::{FieldChange, LISTED, Listed, Report};
use crate::store::roster as roster_store;
use crate::store::staff::{self as staff_store, Placement};
use crate::store::{self, audit, directory as dir};

#[derive(Debug, Clone, Copy, Default)]
pub struct Mode {
    /// Check and report, write nothing.
    pub dry_run: bool,
    /// Write the valid rows even though others were rejected.
    pub skip_invalid: bool,
    /// Take the file's value where staff corrected a record through an appeal.
    pub prefer_file: bool,
    /// Archive the students a roster file leaves out (no longer matched at login or by
    /// staff); a later file that has them again brings them back.
    pub archive_missing: bool,
    pub author: Author,
}

/// On whose behalf an import runs: a staff member on the admin pages, within their scope,
/// or the command line (every organization, nobody named: `Default`).
#[derive(Debug, Clone, Copy)]
pub struct Author {
    pub staff_id: Option<i32>,
    pub import_run_id: Option<i32>,
    pub scope: Scope,
}

impl Default for Author {
    fn default() -> Self {
        Author {
            staff_id: None,
            import_run_id: None,
            scope: Scope::All,
        }
    }
}

impl Author {
    /// Writes one change to the audit log, in the import's transaction.
    async fn record(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        action: &'static str,
        (organization_id, roster_person_id): (Option<i32>, Option<i32>),
        detail: String,
    ) -> Result<(), DbErr> {
        let change = audit::Change {
            staff_id: self.staff_id,
            organization_id,
            roster_person_id,
            import_run_id: self.import_run_id,
            action,
            detail,
        };
        audit::record(txn, change, chrono::Utc::now()).await
    }
}

/// «label: field «old» → «new»; …», as the audit log keeps a change.
fn described(label: &str, changes: &[FieldChange]) -> String {
    let fields: Vec<String> = changes
        .iter()
        .map(|c| format!("{}: «{}» → «{}»", c.field, c.old, c.new))
        .collect();
    format!("{label}: {}", fields.join("; "))
}

/// Refuses the whole file when it has rejected rows, unless told to skip them.
fn refuse_invalid(report: &mut Report, mode: Mode) -> bool {
    if report.rejected.is_empty() || mode.skip_invalid {
        return false;
    }
    report.refused = Some(
        "в файле есть ошибки (см. выше). Исправьте их или загрузите только верные строки \
         (параметр «загрузить верные строки», в командной строке --skip-invalid)."
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
    let region_of_scope = match mode.author.scope {
        Scope::All => None,
        Scope::Region(id) => dir::regions(wf.db())
            .await?
            .into_iter()
            .find(|r| r.id == id)
            .map(|r| normalize(&r.name)),
        Scope::Municipality(_) | Scope::Organization(_) => {
            report.refused = Some("справочник загружают оператор региона и администратор".into());
            return Ok(());
        }
    };
    let entries: Vec<&OrganizationEntry> = entries
        .iter()
        .filter(|e| match &region_of_scope {
            Some(mine) if *mine != normalize(&e.region) => {
                report.reject(e.line, "Регион", &e.region, "организация не вашего региона");
                false
            }
            _ => true,
        })
        .collect();
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
            let label = format!("{label}, классов: {}", e.classes.len());
            let at = (Some(id), None);
            mode.author
                .record(&txn, "directory.added", at, label.clone())
                .await?;
            report.added.push(label);
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
        let at = (Some(existing.id), None);
        mode.author
            .record(&txn, "directory.changed", at, described(&label, &changes))
            .await?;
        report.changed.push((label, changes));
    }
    finish(txn, mode, None, report).await
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
        let Some(at) = placement(wf, e, report).await? else {
            continue;
        };
        if within(wf, mode.author.scope, at).await? {
            placed.push((e, at));
        } else {
            let reason = "вне вашей зоны ответственности: такую запись загружает оператор \
                          выше уровнем или администратор";
            report.reject(e.line, "Роль", e.role.label(), reason);
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
        let audit_at = (at.organization_id, None);
        let Some(existing) = existing else {
            staff_store::save_record(&txn, None, e, at).await?;
            mode.author
                .record(&txn, "staff.added", audit_at, label.clone())
                .await?;
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
            (
                "E-mail",
                existing.email.clone(),
                e.email.clone().unwrap_or(existing.email.clone()),
            ),
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
        mode.author
            .record(&txn, "staff.changed", audit_at, described(&label, &changes))
            .await?;
        report.changed.push((label, changes));
    }
    finish(txn, mode, None, report).await
}

/// Whether a staff record placed `at` is within `scope`: a school's own staff for its
/// administrator, a municipality's schools and operators for its operator, and so on.
async fn within(wf: &Workflow, scope: Scope, at: Placement) -> Result<bool, DbErr> {
    let db = wf.db();
    Ok(
        match (scope, at.organization_id, at.municipality_id, at.region_id) {
            (Scope::All, ..) => true,
            (_, Some(o), ..) => dir::placement(db, o)
                .await?
                .is_some_and(|p| p.covered_by(scope)),
            (Scope::Municipality(mine), None, Some(m), _) => mine == m,
            (Scope::Region(mine), None, Some(m), _) => dir::municipality(db, m)
                .await?
                .is_some_and(|m| m.region_id == mine),
            (Scope::Region(mine), None, None, Some(r)) => mine == r,
            _ => false,
        },
    )
}

/// Commits with a line in the audit log, or rolls back a dry run.
async fn finish(
    txn: sea_orm::DatabaseTransaction,
    mode: Mode,
    organization_id: Option<i32>,
    report: &mut Report,
) -> Result<(), DbErr> {
    if mode.dry_run {
        txn.rollback().await
    } else {
        let summary = format!(
            "{}: {} — добавлено {}, изменено {}, без изменений {}, отклонено строк {}",
            report.title,
            report.file,
            report.added.len(),
            report.changed.len(),
            report.unchanged,
            report.rejected_lines()
        );
        mode.author
            .record(&txn, "import", (organization_id, None), summary)
            .await?;
        txn.commit().await?;
        report.written = true;
        Ok(())
    }
}

/// Who a roster row names, as the report says it.
fn who(role: RosterRole, p: &Entry) -> String {
    let kind = match role {
        RosterRole::Student => "Обучающийся",
        _ => "Родитель",
    };
    match p.birth_date {
        Some(born) => format!("{kind} {}, {}", p.name.full(), born.format("%d.%m.%Y")),
        None => format!("{kind} {}", p.name.full()),
    }
}

/// Compares a record with the file and applies what differs: a field staff corrected
/// through an appeal is a conflict (kept, unless the file is preferred).
struct Merge<'a> {
    label: String,
    class_names: &'a HashMap<i32, String>,
    /// The person's keys before staff corrections.
    before: Vec<Before>,
    prefer_file: bool,
    changes: Vec<FieldChange>,
    conflicts: &'a mut Listed<(String, FieldChange)>,
}

impl Merge<'_> {
    /// Whether to take the file's value `new` over `old` for `field`; `stale`: the file
    /// has the value staff corrected away from (the school has not applied the fix).
    fn take(&mut self, field: &'static str, old: String, new: String, stale: bool) -> bool {
        if old == new {
            return false;
        }
        let change = FieldChange { field, old, new };
        if stale && !self.prefer_file {
            self.conflicts.push((self.label.clone(), change));
            return false;
        }
        self.changes.push(change);
        true
    }
}

/// Merges a file's person into a roster record; returns the updated record and changes.
fn merge(record: &Person, file: &Entry, class_id: Option<i32>, m: &mut Merge<'_>) -> Person {
    let mut p = record.clone();
    let names = |n: &crate::domain::names::PersonName| n.full();
    let stale_name = m.before.iter().any(|b| b.name_norm == file.name.norm());
    if m.take("ФИО", names(&record.name), names(&file.name), stale_name) {
        p.name = file.name.clone();
    }
    if let Some(born) = file.birth_date
        && m.take(
            "Дата рождения",
            record.birth_date.format("%d.%m.%Y").to_string(),
            born.format("%d.%m.%Y").to_string(),
            m.before.iter().any(|b| b.birth_date == born),
        )
    {
        p.birth_date = born;
    }
    if let Some(snils) = &file.snils
        && m.take(
            "СНИЛС",
            record.snils.clone().unwrap_or_default(),
            snils.digits().to_string(),
            m.before
                .iter()
                .any(|b| b.snils.as_deref() == Some(snils.digits())),
        )
    {
        p.snils = Some(snils.digits().to_string());
    }
    if let Some(class_id) = class_id
        && record.class_id != Some(class_id)
    {
        let name = |id: Option<i32>| {
            id.and_then(|id| m.class_names.get(&id).cloned())
                .unwrap_or_default()
        };
        let change = FieldChange {
            field: "Класс",
            old: name(record.class_id),
            new: name(Some(class_id)),
        };
        m.changes.push(change);
        p.class_id = Some(class_id);
    }
    // Gender is kept as M/F and shown as the school writes it.
    let shown = |field: &str, v: &str| match (field, v) {
        ("Пол", "M") => "М".to_string(),
        ("Пол", "F") => "Ж".to_string(),
        _ => v.to_string(),
    };
    for (field, old, new) in [
        ("Пол", &record.contacts.gender, &file.contacts.gender),
        ("E-mail", &record.contacts.email, &file.contacts.email),
        ("Телефон", &record.contacts.phone, &file.contacts.phone),
    ] {
        if let Some(new) = new
            && m.take(
                field,
                shown(field, old.as_deref().unwrap_or_default()),
                shown(field, new),
                false,
            )
        {
            match field {
                "Пол" => p.contacts.gender = Some(new.clone()),
                "E-mail" => p.contacts.email = Some(new.clone()),
                _ => p.contacts.phone = Some(new.clone()),
            }
        }
    }
    p
}

/// Finds the record a file's person is, adds it when there is none, merges it; returns
/// its id.
async fn place_person(
    txn: &sea_orm::DatabaseTransaction,
    organization_id: i32,
    role: RosterRole,
    file: &Entry,
    class: (Option<i32>, &HashMap<i32, String>),
    mode: Mode,
    report: &mut Report,
) -> Result<i32, DbErr> {
    let (class_id, class_names) = class;
    let label = who(role, file);
    let found = match role {
        RosterRole::Student => match file.birth_date {
            Some(born) => {
                roster_store::find_student(txn, organization_id, &file.name.norm(), born).await?
            }
            None => None,
        },
        _ => roster_store::find_parent(txn, organization_id, file).await?,
    };
    // The school has not applied a fix yet: its file names the person as before.
    let found = match (found, file.birth_date) {
        (Some(p), _) => Some(p),
        (None, Some(born)) => {
            roster_store::corrected_from(txn, organization_id, &file.name.norm(), born).await?
        }
        (None, None) => None,
    };
    let Some(record) = found else {
        let born = file
            .birth_date
            .ok_or_else(|| DbErr::Custom("a new person without a birth date".into()))?;
        let id = roster_store::add_entry(txn, organization_id, role, file, born, class_id).await?;
        let at = (Some(organization_id), Some(id));
        mode.author
            .record(txn, "roster.added", at, label.clone())
            .await?;
        report.added.push(label);
        return Ok(id);
    };
    let mut m = Merge {
        label: label.clone(),
        class_names,
        before: roster_store::corrections_of(txn, record.id).await?,
        prefer_file: mode.prefer_file,
        changes: Vec::new(),
        conflicts: &mut report.conflicts,
    };
    let merged = merge(&record, file, class_id, &mut m);
    let changes = m.changes;
    if changes.is_empty() {
        report.unchanged += 1;
    } else {
        roster_store::update_person(txn, &merged).await?;
        let at = (Some(organization_id), Some(record.id));
        mode.author
            .record(txn, "roster.changed", at, described(&label, &changes))
            .await?;
        report.changed.push((label, changes));
    }
    Ok(record.id)
}

/// Students and their parents of one organization from a roster file, row by row in one
/// transaction. Students are keyed by ФИО and birth date, parents by СНИЛС (else ФИО
/// and birth date); parents are tied to their children. Nobody is removed: students the
/// file leaves out are listed (and archived, if told to).
pub struct RosterImport {
    txn: sea_orm::DatabaseTransaction,
    organization_id: i32,
    mode: Mode,
    classes: HashMap<String, i32>,
    class_names: HashMap<i32, String>,
    /// Students the file has.
    present: HashSet<i32>,
    /// СНИЛС → the normalized name it was given with in this file.
    owners: HashMap<String, String>,
    /// Parents met with a birth date earlier in the file (a sibling's row may name them
    /// by СНИЛС only).
    dated: HashSet<String>,
}

impl RosterImport {
    /// Checks that need the database: the class exists, and a СНИЛС is not another
    /// person's (in the organization or earlier in the file). Whether the row is valid.
    async fn check(&mut self, row: &RosterRow, report: &mut Report) -> Result<bool, DbErr> {
        let (db, organization_id) = (&self.txn, self.organization_id);
        let (owners, dated) = (&mut self.owners, &mut self.dated);
        let before = report.rejected.len();
        if !self.classes.contains_key(&row.class) {
            report.reject(
                row.line,
                "Класс",
                &row.class,
                "такого класса нет у организации в справочнике (файл другой организации?)",
            );
        }
        let people = std::iter::once((RosterRole::Student, &row.student))
            .chain(row.parents.iter().map(|p| (RosterRole::Parent, p)));
        for (role, person) in people {
            let key = person.name.norm();
            let digits = person.snils.as_ref().map(|s| s.digits().to_string());
            if person.birth_date.is_some()
                && let Some(d) = &digits
            {
                dated.insert(d.clone());
            }
            if role == RosterRole::Parent
                && person.birth_date.is_none()
                && !digits.as_ref().is_some_and(|d| dated.contains(d))
                && roster_store::find_parent(db, organization_id, person)
                    .await?
                    .is_none()
            {
                report.reject(
                    row.line,
                    "Родитель: Дата рождения",
                    "",
                    format!(
                        "{} нет в списке: для новой записи нужна дата рождения",
                        person.name.full()
                    ),
                );
            }
            let Some(snils) = &person.snils else { continue };
            if let Some(other) = owners.insert(snils.digits().to_string(), key.clone())
                && other != key
            {
                report.reject(
                    row.line,
                    "СНИЛС",
                    &snils.to_string(),
                    "этот СНИЛС в файле указан у другого человека",
                );
                continue;
            }
            if let Some(holder) =
                roster_store::snils_holder(db, organization_id, snils.digits()).await?
            {
                let same = holder.name.norm() == person.name.norm()
                    && person.birth_date.is_none_or(|b| b == holder.birth_date);
                let corrected = match person.birth_date {
                    Some(born) => {
                        roster_store::corrected_from(db, organization_id, &person.name.norm(), born)
                            .await?
                            .is_some_and(|p| p.id == holder.id)
                    }
                    None => false,
                };
                // A parent found by СНИЛС may have a new surname (marriage) or a fixed birth
                // date, not both: a mistyped СНИЛС must not merge two parents.
                let parent_by_snils = role == RosterRole::Parent
                    && holder.role == RosterRole::Parent
                    && (holder.name.norm() == person.name.norm()
                        || person.birth_date == Some(holder.birth_date));
                if !same && !corrected && !parent_by_snils {
                    report.reject(
                        row.line,
                        "СНИЛС",
                        &snils.to_string(),
                        format!(
                            "этот СНИЛС в списке у другого человека: {}",
                            holder.name.full()
                        ),
                    );
                }
            }
        }
        Ok(report.rejected.len() == before)
    }

    pub async fn begin(wf: &Workflow, organization_id: i32, mode: Mode) -> Result<Self, DbErr> {
        let classes: HashMap<String, i32> = dir::classes(wf.db(), organization_id)
            .await?
            .into_iter()
            .map(|c| (c.name, c.id))
            .collect();
        let class_names = classes
            .iter()
            .map(|(name, id)| (*id, name.clone()))
            .collect();
        Ok(RosterImport {
            txn: store::begin_write(wf.db()).await?,
            organization_id,
            mode,
            classes,
            class_names,
            present: HashSet::new(),
            owners: HashMap::new(),
            dated: HashSet::new(),
        })
    }

    /// Checks a row and, if it is valid, writes it.
    pub async fn row(&mut self, row: &RosterRow, report: &mut Report) -> Result<(), DbErr> {
        if !self.check(row, report).await? {
            return Ok(());
        }
        let (txn, organization_id, mode) = (&self.txn, self.organization_id, self.mode);
        let class_id = self.classes.get(&row.class).copied();
        let student = place_person(
            txn,
            organization_id,
            RosterRole::Student,
            &row.student,
            (class_id, &self.class_names),
            mode,
            report,
        )
        .await?;
        self.present.insert(student);
        for parent in &row.parents {
            let parent = place_person(
                txn,
                organization_id,
                RosterRole::Parent,
                parent,
                (None, &self.class_names),
                mode,
                report,
            )
            .await?;
            roster_store::tie_guardian(txn, parent, student).await?;
        }
        Ok(())
    }

    /// After the last row: archives and restores, marks the appeals that now match, and
    /// commits; or rolls back a dry run or a file with rejected rows (all or nothing).
    pub async fn finish(self, report: &mut Report) -> Result<(), DbErr> {
        let RosterImport {
            txn,
            organization_id,
            mode,
            present,
            ..
        } = self;
        if refuse_invalid(report, mode) {
            report.forget_changes();
            return txn.rollback().await;
        }
        // Students archived before and in this file again come back.
        let back: Vec<i32> = roster_store::archived_ids(&txn, organization_id)
            .await?
            .into_iter()
            .filter(|id| present.contains(id))
            .collect();
        roster_store::set_archived(&txn, &back, None).await?;
        for id in &back {
            let at = (Some(organization_id), Some(*id));
            let detail = "снова есть в файле школы".to_string();
            mode.author
                .record(&txn, "roster.restored", at, detail)
                .await?;
        }
        report.restored = back.len();
        // Ids first: a whole school's records would not fit the bounded memory.
        let absent: Vec<i32> = roster_store::student_ids(&txn, organization_id, false)
            .await?
            .into_iter()
            .filter(|id| !present.contains(id))
            .collect();
        let listed = &absent[..absent.len().min(LISTED)];
        for p in roster_store::persons_at(&txn, listed.to_vec(), organization_id).await? {
            let born = p.birth_date.format("%d.%m.%Y");
            report.absent.push(format!("{}, {born}", p.name.full()));
        }
        report.absent.count_more(absent.len() - listed.len());
        if mode.archive_missing {
            roster_store::set_archived(&txn, &absent, Some(chrono::Utc::now())).await?;
            for id in &absent {
                let at = (Some(organization_id), Some(*id));
                let detail = "нет в файле школы".to_string();
                mode.author
                    .record(&txn, "roster.archived", at, detail)
                    .await?;
            }
            report.archived = true;
        }
        mark_matches(&txn, organization_id, report).await?;
        finish(txn, mode, Some(organization_id), report).await
    }
}

/// Open appeals at the organization whose applicant the roster now has exactly (what the
/// applicant's next login would link): marked for staff, «Связать и закрыть» in the inbox.
async fn mark_matches(
    txn: &sea_orm::DatabaseTransaction,
    organization_id: i32,
    report: &mut Report,
) -> Result<(), DbErr> {
    use crate::domain::applicant::Applicant;
    for appeal in crate::store::appeals::open_at(txn, organization_id).await? {
        let applicant = Applicant {
            identity: appeal.snapshot.identity.clone(),
            kids: Vec::new(),
        };
        let mut found = None;
        for id in super::linking::automatic_matches(txn, &applicant, Some(organization_id)).await? {
            let others = roster_store::linked_oids(txn, id).await?;
            if others.iter().all(|oid| *oid == applicant.oid) {
                found = Some(id);
            }
        }
        if found != appeal.roster_match {
            crate::store::appeals::mark_roster_match(txn, appeal.id, found).await?;
        }
        if found.is_some() {
            report.matched.push(appeal.number.clone());
        }
    }
    Ok(())
}
