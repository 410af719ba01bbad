//! The admin pages' use cases: imports started from a browser (checked first, applied on
//! confirmation, run in the background with their progress kept in the database so any
//! instance can show it), the history of imports, the directory, staff and roster lists
//! of the actor's scope, a roster person's links and history, and the audit log.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};

use super::import::{Author, Mode};
use super::staff::{StaffActor, full_name, placement_in_scope};
use super::{Error, Refusal, Result, Workflow};
use crate::domain::names::normalize;
use crate::domain::roster::Person;
use crate::domain::staff::{Scope, StaffRole};
use crate::import::{self, Progress};
use crate::store::entities::{audit_entry, esia_link, import_run, organization, staff};
use crate::store::imports::{self as runs, NewRun, Outcome};
use crate::store::{audit, directory, roster as roster_store, staff as staff_store};

/// What a file loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Roster,
    Staff,
    Directory,
}

impl Kind {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "roster" => Some(Self::Roster),
            "staff" => Some(Self::Staff),
            "directory" => Some(Self::Directory),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Roster => "roster",
            Self::Staff => "staff",
            Self::Directory => "directory",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Roster => "Список обучающихся и родителей",
            Self::Staff => "Сотрудники",
            Self::Directory => "Справочник организаций",
        }
    }
}

/// What each role may load: a school its roster and staff, a municipality the same for
/// its schools, the region and the administrator also the directory.
pub fn kinds(actor: &StaffActor) -> &'static [Kind] {
    match StaffRole::parse(&actor.staff.role) {
        Some(StaffRole::SchoolAdmin | StaffRole::MunicipalOperator) => &[Kind::Roster, Kind::Staff],
        Some(StaffRole::RegionalOperator | StaffRole::Admin) => {
            &[Kind::Roster, Kind::Staff, Kind::Directory]
        }
        _ => &[],
    }
}

/// The admin pages are for those who may load something.
pub fn require_admin(actor: &StaffActor) -> Result<()> {
    if kinds(actor).is_empty() {
        return Err(Refusal::NotAdmin.into());
    }
    Ok(())
}

/// A file sent from the upload form.
pub struct Upload {
    pub kind: String,
    pub organization_id: Option<i32>,
    pub file_name: String,
    pub data: Vec<u8>,
    pub skip_invalid: bool,
    pub prefer_file: bool,
    pub archive_missing: bool,
}

/// Where an import's file lives while it runs, and the settings it runs with.
#[derive(Clone)]
pub struct Imports {
    pub mapping_dir: PathBuf,
}

/// Stores the file and starts checking it (a dry run whose report is the preview);
/// returns the run's number for its page.
pub async fn start(
    wf: &Workflow,
    imports: &Imports,
    actor: &StaffActor,
    upload: Upload,
) -> Result<i32> {
    require_admin(actor)?;
    let refuse = |why: &str| Err(Refusal::Import(why.to_string()).into());
    let Some(kind) = Kind::parse(&upload.kind).filter(|k| kinds(actor).contains(k)) else {
        return refuse("Выберите, что загружается.");
    };
    if upload.data.is_empty() {
        return refuse("Выберите файл: он не передан или пуст.");
    }
    if !import::sheet::is_readable_name(&upload.file_name) {
        return refuse("Нужен файл .xls, .xlsx или .csv, выгруженный из школьной системы.");
    }
    let organization_id = match (kind, actor.scope) {
        (Kind::Roster, Scope::Organization(own)) => Some(own),
        (Kind::Roster, _) => match upload.organization_id {
            Some(id) => Some(placement_in_scope(wf, actor, id).await?.organization.id),
            None => return refuse("Выберите организацию, чей список загружается."),
        },
        _ => None,
    };
    let file_name: String = Path::new(&upload.file_name)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("файл")
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    let roster = kind == Kind::Roster;
    let run = NewRun {
        kind: kind.as_str(),
        organization_id,
        staff_id: actor.id(),
        file_name,
        file_data: upload.data,
        skip_invalid: upload.skip_invalid,
        prefer_file: roster && upload.prefer_file,
        archive_missing: roster && upload.archive_missing,
    };
    let id = runs::create(wf.db(), run, CHECKING, Utc::now()).await?;
    spawn(wf, imports, actor, id, true);
    Ok(id)
}

const CHECKING: &str = "checking";
const CHECKED: &str = "checked";
const APPLYING: &str = "applying";

/// Applies a checked file: the same work again, written this time.
pub async fn apply(wf: &Workflow, imports: &Imports, actor: &StaffActor, id: i32) -> Result<()> {
    run(wf, actor, id).await?;
    if !runs::transition(wf.db(), id, CHECKED, APPLYING, Utc::now()).await? {
        return Err(Refusal::Import(
            "Эта загрузка уже применена, отменена или ещё проверяется.".into(),
        )
        .into());
    }
    spawn(wf, imports, actor, id, false);
    Ok(())
}

/// Drops a checked file without applying it.
pub async fn discard(wf: &Workflow, actor: &StaffActor, id: i32) -> Result<()> {
    run(wf, actor, id).await?;
    if !runs::transition(wf.db(), id, CHECKED, "discarded", Utc::now()).await? {
        return Err(Refusal::Import("Эта загрузка уже применена или отменена.".into()).into());
    }
    Ok(runs::drop_file(wf.db(), id).await?)
}

/// The progress of a run, counted by the reader and saved every second.
#[derive(Default)]
struct Counter {
    done: AtomicU64,
    total: AtomicU64,
    rows: AtomicU64,
}

impl Progress for Counter {
    fn advance(&self, done: u64, total: u64, rows: u64) {
        self.done.store(done, Ordering::Relaxed);
        self.total.store(total, Ordering::Relaxed);
        self.rows.store(rows, Ordering::Relaxed);
    }
}

impl Counter {
    fn get(&self) -> (u64, u64, u64) {
        (
            self.done.load(Ordering::Relaxed),
            self.total.load(Ordering::Relaxed),
            self.rows.load(Ordering::Relaxed),
        )
    }
}

fn spawn(wf: &Workflow, imports: &Imports, actor: &StaffActor, id: i32, dry_run: bool) {
    let (wf, imports) = (wf.clone(), imports.clone());
    let author = Author {
        staff_id: Some(actor.id()),
        import_run_id: Some(id),
        scope: actor.scope,
    };
    tokio::spawn(async move {
        if let Err(e) = execute(&wf, &imports, id, author, dry_run).await {
            tracing::error!(import_run = id, error = %e, "import run failed");
            let failed = Outcome {
                status: "failed",
                counts: [0; 4],
                text: "Загрузка прервана ошибкой сервиса; ничего не записано. Попробуйте ещё раз."
                    .into(),
                is_preview: dry_run,
                drop_file: true,
            };
            let _ = runs::finish(wf.db(), id, failed, Utc::now()).await;
        }
    });
}

/// Runs one check or import of a stored file and saves what it found.
async fn execute(
    wf: &Workflow,
    imports: &Imports,
    id: i32,
    author: Author,
    dry_run: bool,
) -> std::result::Result<(), sea_orm::DbErr> {
    let db = wf.db();
    let (Some(run), Some(data)) = (runs::by_id(db, id).await?, runs::file(db, id).await?) else {
        return Ok(());
    };
    // The name was checked at upload: its extension tells the reader the format.
    let ext = Path::new(&run.file_name)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("csv")
        .to_lowercase();
    let path = std::env::temp_dir().join(format!(
        "appeals-import-{id}-{}.{ext}",
        uuid::Uuid::new_v4()
    ));
    // Readable by the service only, and removed after the run.
    import::export::write_private(&path, &data)
        .map_err(|e| sea_orm::DbErr::Custom(e.to_string()))?;
    drop(data);
    let counter = Arc::new(Counter::default());
    let ticker = {
        let (counter, wf) = (counter.clone(), wf.clone());
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(1));
            loop {
                every.tick().await;
                let _ = runs::progress(wf.db(), id, counter.get(), Utc::now()).await;
            }
        })
    };
    let mode = Mode {
        dry_run,
        skip_invalid: run.skip_invalid,
        prefer_file: run.prefer_file,
        archive_missing: run.archive_missing,
        author,
    };
    let result = read_and_apply(wf, imports, &run, &path, mode, counter.as_ref()).await;
    ticker.abort();
    let _ = std::fs::remove_file(&path);
    let outcome = match result {
        Ok(report) => {
            let status = match (&report.refused, dry_run) {
                (Some(_), _) => "refused",
                (None, true) => CHECKED,
                (None, false) => "applied",
            };
            let count = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
            Outcome {
                status,
                counts: [
                    count(report.added.len()),
                    count(report.changed.len()),
                    count(report.unchanged),
                    count(report.rejected_lines()),
                ],
                text: report.to_string(),
                is_preview: dry_run,
                drop_file: status != CHECKED,
            }
        }
        Err(e) => Outcome {
            status: "refused",
            counts: [0; 4],
            text: format!("Файл не загружен: {e}"),
            is_preview: dry_run,
            drop_file: true,
        },
    };
    runs::finish(db, id, outcome, Utc::now()).await
}

async fn read_and_apply(
    wf: &Workflow,
    imports: &Imports,
    run: &import_run::Model,
    path: &Path,
    mode: Mode,
    progress: &dyn Progress,
) -> std::result::Result<import::report::Report, import::ImportError> {
    let mapping = &imports.mapping_dir;
    let mut report = match Kind::parse(&run.kind) {
        Some(Kind::Directory) => import::directory_file(wf, mapping, path, mode, progress).await,
        Some(Kind::Staff) => import::staff_file(wf, mapping, path, mode, progress).await,
        _ => {
            let org = match run.organization_id {
                Some(id) => directory::organization(wf.db(), id).await?,
                None => None,
            };
            let org = org.ok_or_else(|| {
                import::ImportError::Refused("организации больше нет в справочнике".into())
            })?;
            import::roster_file(wf, mapping, path, &org, mode, progress).await
        }
    }?;
    report.file = report
        .file
        .replace(&path.display().to_string(), &run.file_name);
    Ok(report)
}

/// A run as its page and the history show it.
pub struct RunView {
    pub run: import_run::Model,
    pub kind: &'static str,
    pub organization: Option<String>,
    pub author: String,
    /// Still running by its status, but its progress has not moved for minutes: the
    /// instance running it stopped (nothing was written: the transaction never committed).
    pub stalled: bool,
}

impl RunView {
    pub fn running(&self) -> bool {
        matches!(self.run.status.as_str(), CHECKING | APPLYING) && !self.stalled
    }

    pub fn status_label(&self) -> &'static str {
        if self.stalled {
            return "Прервана (сервис перезапускался) — загрузите файл заново";
        }
        match self.run.status.as_str() {
            CHECKING => "Проверяется",
            CHECKED => "Проверена — ждёт подтверждения",
            APPLYING => "Применяется",
            "applied" => "Применена",
            "refused" => "Не загружена: ошибки в файле",
            "discarded" => "Отменена",
            _ => "Прервана ошибкой",
        }
    }

    pub fn can_apply(&self) -> bool {
        self.run.status == CHECKED
    }

    /// Percent done while running.
    pub fn percent(&self) -> u64 {
        let (done, total) = (self.run.progress_done, self.run.progress_total);
        if total <= 0 {
            return 0;
        }
        u64::try_from((done.min(total) * 100) / total).unwrap_or(0)
    }
}

/// How long a run's progress may stand still before it counts as interrupted.
const STALLED_AFTER_SECS: i64 = 120;

async fn view(wf: &Workflow, run: import_run::Model, names: &[staff::Model]) -> Result<RunView> {
    let organization = match run.organization_id {
        Some(id) => directory::organization(wf.db(), id).await?.map(|o| o.name),
        None => None,
    };
    let author = names
        .iter()
        .find(|s| s.id == run.staff_id)
        .map(full_name)
        .unwrap_or_default();
    let stalled = matches!(run.status.as_str(), CHECKING | APPLYING)
        && (Utc::now() - run.updated_at).num_seconds() > STALLED_AFTER_SECS;
    Ok(RunView {
        kind: Kind::parse(&run.kind).map_or("", Kind::label),
        run,
        organization,
        author,
        stalled,
    })
}

/// Organization ids of the actor's scope; `None` for everything.
async fn scope_ids(wf: &Workflow, actor: &StaffActor) -> Result<Option<Vec<i32>>> {
    if actor.scope == Scope::All {
        return Ok(None);
    }
    Ok(Some(
        directory::organizations_in_scope(wf.db(), actor.scope)
            .await?
            .into_iter()
            .map(|(o, _)| o.id)
            .collect(),
    ))
}

/// One run, if the actor started it or its organization is in the actor's scope.
pub async fn run(wf: &Workflow, actor: &StaffActor, id: i32) -> Result<RunView> {
    require_admin(actor)?;
    let run = runs::by_id(wf.db(), id).await?.ok_or(Error::NotFound)?;
    let visible = run.staff_id == actor.id()
        || actor.scope == Scope::All
        || match run.organization_id {
            Some(o) => placement_in_scope(wf, actor, o).await.is_ok(),
            None => false,
        };
    if !visible {
        return Err(Error::NotFound);
    }
    let names = staff_store::by_ids(wf.db(), &[run.staff_id]).await?;
    view(wf, run, &names).await
}

pub async fn history(wf: &Workflow, actor: &StaffActor) -> Result<Vec<RunView>> {
    require_admin(actor)?;
    let ids = scope_ids(wf, actor).await?;
    let list = runs::latest(wf.db(), ids.as_deref(), actor.id(), 100).await?;
    let authors: Vec<i32> = list.iter().map(|r| r.staff_id).collect();
    let names = staff_store::by_ids(wf.db(), &authors).await?;
    let mut out = Vec::with_capacity(list.len());
    for run in list {
        out.push(view(wf, run, &names).await?);
    }
    Ok(out)
}

/// The organizations a roster may be loaded for, for the upload form.
pub async fn organizations(
    wf: &Workflow,
    actor: &StaffActor,
    query: Option<&str>,
) -> Result<Vec<(organization::Model, String)>> {
    require_admin(actor)?;
    let mut all = directory::organizations_in_scope(wf.db(), actor.scope).await?;
    if let Some(q) = query.map(normalize).filter(|q| !q.is_empty()) {
        all.retain(|(o, locality)| {
            [
                o.name.as_str(),
                o.short_name.as_deref().unwrap_or_default(),
                o.code.as_deref().unwrap_or_default(),
                locality,
            ]
            .iter()
            .any(|field| normalize(field).contains(&q))
        });
    }
    Ok(all)
}

/// A staff record as the staff list shows it.
pub struct StaffLine {
    pub record: staff::Model,
    pub name: String,
    pub role: &'static str,
    pub unit: String,
}

/// Staff records of the actor's scope, by a part of the name or a СНИЛС.
pub async fn staff_list(
    wf: &Workflow,
    actor: &StaffActor,
    query: Option<&str>,
) -> Result<Vec<StaffLine>> {
    require_admin(actor)?;
    let db = wf.db();
    let orgs: std::collections::HashMap<i32, String> =
        directory::organizations_in_scope(db, actor.scope)
            .await?
            .into_iter()
            .map(|(o, _)| (o.id, o.name))
            .collect();
    let q = query.map(normalize).filter(|q| !q.is_empty());
    let digits: String = query
        .unwrap_or_default()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let mut out = Vec::new();
    for record in staff_store::all(db).await? {
        let unit = match (
            record.organization_id,
            record.municipality_id,
            record.region_id,
        ) {
            (Some(o), ..) => match orgs.get(&o) {
                Some(name) => name.clone(),
                None => continue,
            },
            (None, Some(m), _) => {
                let Some(municipality) = directory::municipality(db, m).await? else {
                    continue;
                };
                let mine = match actor.scope {
                    Scope::All => true,
                    Scope::Region(r) => municipality.region_id == r,
                    Scope::Municipality(own) => own == m,
                    Scope::Organization(_) => false,
                };
                if !mine {
                    continue;
                }
                municipality.name
            }
            (None, None, Some(r))
                if matches!(actor.scope, Scope::All) || actor.scope == Scope::Region(r) =>
            {
                "Регион".into()
            }
            (None, None, None) if actor.scope == Scope::All => "Все организации".into(),
            _ => continue,
        };
        let name = full_name(&record);
        let found = match &q {
            None => true,
            Some(q) => {
                normalize(&name).contains(q) || (digits.len() == 11 && record.snils == digits)
            }
        };
        if found {
            out.push(StaffLine {
                role: StaffRole::parse(&record.role).map_or("—", StaffRole::label),
                name,
                unit,
                record,
            });
        }
    }
    Ok(out)
}

/// How many people a roster page lists at most (a search narrows it).
const ROSTER_PAGE: u64 = 300;

/// An organization's roster, archived people included, by a part of a name or a СНИЛС.
pub async fn roster(
    wf: &Workflow,
    actor: &StaffActor,
    organization_id: i32,
    query: Option<&str>,
) -> Result<(organization::Model, Vec<(Person, Option<DateTime<Utc>>)>)> {
    require_admin(actor)?;
    let place = placement_in_scope(wf, actor, organization_id).await?;
    let query = query.map(str::trim).filter(|q| !q.is_empty());
    let people = roster_store::listed(wf.db(), organization_id, query, ROSTER_PAGE).await?;
    Ok((place.organization, people))
}

/// Everything the admin pages know of one roster person.
pub struct PersonView {
    pub person: Person,
    pub organization: organization::Model,
    pub class: Option<String>,
    pub archived_at: Option<DateTime<Utc>>,
    /// Children of a parent, parents of a student.
    pub related: Vec<Person>,
    pub links: Vec<esia_link::Model>,
    pub history: Vec<(audit_entry::Model, String)>,
}

pub async fn person(wf: &Workflow, actor: &StaffActor, id: i32) -> Result<PersonView> {
    require_admin(actor)?;
    let db = wf.db();
    let person = roster_store::person(db, id).await?.ok_or(Error::NotFound)?;
    let place = placement_in_scope(wf, actor, person.organization_id).await?;
    let class = match person.class_id {
        Some(c) => directory::class(db, c).await?.map(|c| c.name),
        None => None,
    };
    let related = match person.role {
        crate::domain::roster::RosterRole::Student => roster_store::parents_of(db, &person).await?,
        _ => roster_store::children_of(db, &person).await?,
    };
    let entries = audit::of_person(db, id).await?;
    Ok(PersonView {
        archived_at: roster_store::archived_at(db, id).await?,
        links: roster_store::links_of(db, id).await?,
        history: with_authors(wf, entries).await?,
        class,
        related,
        organization: place.organization,
        person,
    })
}

/// Audit entries with who made each («командная строка» for imports run there).
async fn with_authors(
    wf: &Workflow,
    entries: Vec<audit_entry::Model>,
) -> Result<Vec<(audit_entry::Model, String)>> {
    let ids: Vec<i32> = entries.iter().filter_map(|e| e.staff_id).collect();
    let names = staff_store::by_ids(wf.db(), &ids).await?;
    Ok(entries
        .into_iter()
        .map(|e| {
            let who = match e.staff_id {
                Some(id) => names
                    .iter()
                    .find(|s| s.id == id)
                    .map(full_name)
                    .unwrap_or_default(),
                None => "командная строка".into(),
            };
            (e, who)
        })
        .collect())
}

/// The latest changes in the actor's scope.
pub async fn audit_log(
    wf: &Workflow,
    actor: &StaffActor,
) -> Result<Vec<(audit_entry::Model, String)>> {
    require_admin(actor)?;
    let ids = scope_ids(wf, actor).await?;
    let entries = audit::latest(wf.db(), ids.as_deref(), actor.id(), 300).await?;
    with_authors(wf, entries).await
}

/// What an audit entry's action code means.
pub fn action_label(code: &str) -> &'static str {
    match code {
        "import" => "Загрузка файла",
        "directory.added" => "Организация добавлена",
        "directory.changed" => "Организация изменена",
        "staff.added" => "Сотрудник добавлен",
        "staff.changed" => "Сотрудник изменён",
        "roster.added" => "Добавлен из файла школы",
        "roster.changed" => "Изменён по файлу школы",
        "roster.archived" => "Отправлен в архив",
        "roster.restored" => "Возвращён из архива",
        "roster.corrected" => "Исправлен сотрудником по обращению",
        "roster.added_by_staff" => "Добавлен сотрудником по обращению",
        _ => "Изменение",
    }
}
