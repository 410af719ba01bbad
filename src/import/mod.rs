//! Loading a region's data from the school system's exports: reading the spreadsheet,
//! finding the columns by their headers, checking each row. What the rows then change in
//! the database is the import use case's job (`workflow::import`).

pub mod check;
pub mod columns;
pub mod directory;
pub mod export;
pub mod report;
pub mod roster;
pub mod sheet;
pub mod staff;

use std::path::Path;

use columns::{Aliases, Layout, MissingColumns};
use report::Report;

use crate::workflow::{Workflow, import::Mode};

/// Why an import could not start (each message is shown to the person importing).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    Sheet(#[from] sheet::SheetError),
    #[error("настройка столбцов (config/import): {0}")]
    Mapping(String),
    #[error("{0}")]
    Refused(String),
    #[error("ошибка базы данных: {0}")]
    Store(#[from] sea_orm::DbErr),
}

fn missing_columns(layout: &Layout, aliases: &Aliases, m: MissingColumns) -> ImportError {
    let names: Vec<String> = m
        .missing
        .iter()
        .map(|key| format!("«{}»", aliases.name(layout, key)))
        .collect();
    let found = if m.found.is_empty() {
        "ни одного заголовка".to_string()
    } else {
        m.found
            .iter()
            .map(|h| format!("«{h}»"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    ImportError::Refused(format!(
        "в файле нет обязательных столбцов: {}. Найдены заголовки: {found}.",
        names.join(", ")
    ))
}

/// A file read and its columns found, ready for a kind's row checks.
struct Opened {
    sheet: sheet::Sheet,
    located: columns::Located,
    report: Report,
}

fn open(
    config_dir: &Path,
    file: &Path,
    layout: &Layout,
    title: &'static str,
) -> Result<Opened, ImportError> {
    let aliases = Aliases::load(&config_dir.join("import")).map_err(ImportError::Mapping)?;
    let sheet = sheet::read(file)?;
    let located = columns::locate(&sheet, layout, &aliases)
        .map_err(|m| missing_columns(layout, &aliases, m))?;
    Ok(Opened {
        sheet,
        located,
        report: Report {
            title,
            file: file.display().to_string(),
            ..Report::default()
        },
    })
}

/// `appeals import directory FILE`: reads the file, checks every row, applies the valid
/// ones (or none, see [`Mode`]) and returns the report.
pub async fn directory_file(
    wf: &Workflow,
    config_dir: &Path,
    file: &Path,
    mode: Mode,
) -> Result<Report, ImportError> {
    let mut o = open(
        config_dir,
        file,
        &directory::LAYOUT,
        "Справочник организаций",
    )?;
    let entries = directory::entries(&o.sheet, &o.located, &mut o.report);
    crate::workflow::import::directory(wf, &entries, mode, &mut o.report).await?;
    Ok(o.report)
}

/// `appeals import staff FILE`, as [`directory_file`].
pub async fn staff_file(
    wf: &Workflow,
    config_dir: &Path,
    file: &Path,
    mode: Mode,
) -> Result<Report, ImportError> {
    let mut o = open(config_dir, file, &staff::LAYOUT, "Сотрудники")?;
    let entries = staff::entries(&o.sheet, &o.located, &mut o.report);
    crate::workflow::import::staff(wf, &entries, mode, &mut o.report).await?;
    Ok(o.report)
}

/// `appeals import roster --organization ORG FILE`, as [`directory_file`]; `organization`
/// is the organization's code in the directory or its number.
pub async fn roster_file(
    wf: &Workflow,
    config_dir: &Path,
    file: &Path,
    organization: &str,
    mode: Mode,
) -> Result<Report, ImportError> {
    let org = self::organization(wf, organization).await?;
    let mut o = open(
        config_dir,
        file,
        &roster::LAYOUT,
        "Список обучающихся и родителей",
    )?;
    let today = chrono::Utc::now().with_timezone(&wf.offset()).date_naive();
    let rows = roster::rows(&o.sheet, &o.located, &mut o.report, today);
    crate::workflow::import::roster(wf, org.id, &rows, mode, &mut o.report).await?;
    o.report.file = format!("{} → {}", o.report.file, org.name);
    Ok(o.report)
}

/// An organization by its code in the directory or its number.
async fn organization(
    wf: &Workflow,
    text: &str,
) -> Result<crate::store::entities::organization::Model, ImportError> {
    let db = wf.db();
    let found = match crate::store::directory::organization_by_code(db, text).await? {
        Some(o) => Some(o),
        None => match text.parse::<i32>() {
            Ok(id) => crate::store::directory::organization(db, id).await?,
            Err(_) => None,
        },
    };
    found.ok_or_else(|| {
        ImportError::Refused(format!(
            "организации «{text}» нет в справочнике (нужен её код или номер)"
        ))
    })
}

/// `appeals export roster-changes`: writes what staff corrected or added through appeals
/// since `since` (local date; everything when `None`) to `out`; returns the rows written.
pub async fn roster_changes_file(
    wf: &Workflow,
    config_dir: &Path,
    organization: &str,
    since: Option<chrono::NaiveDate>,
    out: &Path,
) -> Result<usize, ImportError> {
    let org = self::organization(wf, organization).await?;
    let aliases = Aliases::load(&config_dir.join("import")).map_err(ImportError::Mapping)?;
    let since = since
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(|t| t.and_local_timezone(wf.offset()).single())
        .map(|t| t.with_timezone(&chrono::Utc));
    let rows = crate::workflow::handback::roster_changes(wf, org.id, since).await?;
    export::write(&rows, &aliases, out).map_err(ImportError::Refused)?;
    Ok(rows.len())
}
