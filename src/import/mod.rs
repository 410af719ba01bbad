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

use std::collections::VecDeque;
use std::path::Path;

use columns::{Aliases, Layout, MissingColumns};
use report::Report;
use sheet::{Cell, Row};

use crate::store::entities::organization;
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

/// Where an import says how far it has got: a progress bar in the terminal, the progress
/// page of an import started from the admin pages.
pub trait Progress: Send + Sync {
    /// `done` of `total` in the file's own unit (bytes of a CSV file, rows of a
    /// workbook; `total` 0 while unknown); `rows`: data rows read so far.
    fn advance(&self, done: u64, total: u64, rows: u64);
}

/// No progress shown.
impl Progress for () {
    fn advance(&self, _: u64, _: u64, _: u64) {}
}

/// A file being read, its columns found: the data rows below the header row come one at
/// a time.
struct Opened<'p> {
    rows: sheet::Rows,
    /// Rows read to find the header row, not yet handed out.
    head: VecDeque<Row>,
    located: columns::Located,
    report: Report,
    progress: &'p dyn Progress,
    read: u64,
}

impl Opened<'_> {
    /// The next data row that is not empty.
    async fn next(&mut self) -> Result<Option<Row>, ImportError> {
        loop {
            let row = match self.head.pop_front() {
                Some(row) => row,
                None => match self.rows.next().await {
                    Some(row) => row?,
                    None => return Ok(None),
                },
            };
            if row.1.iter().all(Cell::is_empty) {
                continue;
            }
            self.read += 1;
            if self.read.is_multiple_of(256) {
                let (done, total) = self.rows.meter().get();
                self.progress.advance(done, total, self.read);
            }
            return Ok(Some(row));
        }
    }

    /// All the data rows (directory and staff files are small).
    async fn all(&mut self) -> Result<Vec<Row>, ImportError> {
        let mut rows = Vec::new();
        while let Some(row) = self.next().await? {
            rows.push(row);
        }
        Ok(rows)
    }
}

async fn open<'p>(
    mapping_dir: &Path,
    file: &Path,
    layout: &Layout,
    title: &'static str,
    progress: &'p dyn Progress,
) -> Result<Opened<'p>, ImportError> {
    let aliases = Aliases::load(mapping_dir).map_err(ImportError::Mapping)?;
    let mut rows = sheet::open(file)?;
    let mut head = Vec::new();
    while head.len() < columns::HEADER_SEARCH_ROWS {
        match rows.next().await {
            Some(row) => head.push(row?),
            None => break,
        }
    }
    let located = columns::locate(&head, layout, &aliases)
        .map_err(|m| missing_columns(layout, &aliases, m))?;
    let head = head.into_iter().skip(located.header_row + 1).collect();
    Ok(Opened {
        rows,
        head,
        located,
        report: Report::new(title, file.display().to_string()),
        progress,
        read: 0,
    })
}

/// `appeals import directory FILE`: reads the file, checks every row, applies the valid
/// ones (or none, see [`Mode`]) and returns the report.
pub async fn directory_file(
    wf: &Workflow,
    mapping_dir: &Path,
    file: &Path,
    mode: Mode,
    progress: &dyn Progress,
) -> Result<Report, ImportError> {
    let title = "Справочник организаций";
    let mut o = open(mapping_dir, file, &directory::LAYOUT, title, progress).await?;
    let rows = o.all().await?;
    let entries = directory::entries(&rows, &o.located, &mut o.report);
    crate::workflow::import::directory(wf, &entries, mode, &mut o.report).await?;
    Ok(o.report)
}

/// `appeals import staff FILE`, as [`directory_file`].
pub async fn staff_file(
    wf: &Workflow,
    mapping_dir: &Path,
    file: &Path,
    mode: Mode,
    progress: &dyn Progress,
) -> Result<Report, ImportError> {
    let mut o = open(mapping_dir, file, &staff::LAYOUT, "Сотрудники", progress).await?;
    let rows = o.all().await?;
    let entries = staff::entries(&rows, &o.located, &mut o.report);
    crate::workflow::import::staff(wf, &entries, mode, &mut o.report).await?;
    Ok(o.report)
}

/// `appeals import roster --organization ORG FILE`, as [`directory_file`]. Rows are
/// checked and written one at a time inside one transaction, so the file is never held
/// in memory.
pub async fn roster_file(
    wf: &Workflow,
    mapping_dir: &Path,
    file: &Path,
    org: &organization::Model,
    mode: Mode,
    progress: &dyn Progress,
) -> Result<Report, ImportError> {
    let covered = crate::store::directory::placement(wf.db(), org.id)
        .await?
        .is_some_and(|p| p.covered_by(mode.author.scope));
    if !covered {
        return Err(ImportError::Refused(format!(
            "организация «{}» вне вашей зоны ответственности",
            org.name
        )));
    }
    let title = "Список обучающихся и родителей";
    let mut o = open(mapping_dir, file, &roster::LAYOUT, title, progress).await?;
    let today = chrono::Utc::now().with_timezone(&wf.offset()).date_naive();
    let mut checker = roster::Checker::new(today);
    let mut run = crate::workflow::import::RosterImport::begin(wf, org.id, mode).await?;
    while let Some((line, cells)) = o.next().await? {
        if let Some(row) = checker.row(line, &cells, &o.located, &mut o.report) {
            run.row(&row, &mut o.report).await?;
        }
    }
    run.finish(&mut o.report).await?;
    o.report.file = format!("{} → {}", o.report.file, org.name);
    Ok(o.report)
}

/// An organization by its code in the directory or its number (`--organization`).
pub async fn organization(wf: &Workflow, text: &str) -> Result<organization::Model, ImportError> {
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
    mapping_dir: &Path,
    organization: &str,
    since: Option<chrono::NaiveDate>,
    out: &Path,
) -> Result<usize, ImportError> {
    let org = self::organization(wf, organization).await?;
    let aliases = Aliases::load(mapping_dir).map_err(ImportError::Mapping)?;
    let since = since
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(|t| t.and_local_timezone(wf.offset()).single())
        .map(|t| t.with_timezone(&chrono::Utc));
    let rows = crate::workflow::handback::roster_changes(wf, org.id, since).await?;
    export::write(&rows, &aliases, out).map_err(ImportError::Refused)?;
    Ok(rows.len())
}
