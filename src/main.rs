use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::prelude::*;

use appeals::config::Settings;
use appeals::log::WithRequestId;
use appeals::workflow::Workflow;
use appeals::workflow::import::{Author, Mode};
use appeals::{Application, import, store};

// Every request allocates and frees dozens of small buffers (headers, the log span, the
// page) across two worker threads; glibc's malloc spent 17% of the service's CPU on them
// under load (perf, `cargo bench --bench http`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "appeals",
    about = "Обращения в образовательную организацию после входа через Госуслуги"
)]
struct Cli {
    /// Folder with default.toml and the environment files.
    #[arg(long, default_value = "config", global = true)]
    config_dir: PathBuf,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the application (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Serve only the ESIA emulator, on its own port, for another instance's esia.base_url.
    EsiaEmulator {
        #[arg(long, default_value_t = 8090)]
        port: u16,
        /// The callback URL of the system that will use this emulator.
        #[arg(long)]
        redirect_uri: String,
    },
    /// Load the region's data from the school system's export (.xls, .xlsx, .csv).
    Import {
        #[command(subcommand)]
        what: ImportKind,
    },
    /// Write what staff changed through appeals, for the school system.
    Export {
        #[command(subcommand)]
        what: ExportKind,
    },
    /// Everything stored about a person (152-ФЗ ст. 14), by СНИЛС or e-mail, into one
    /// JSON file (readable by its owner only).
    PersonData {
        #[arg(long)]
        snils: Option<String>,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Personal-data retention (152-ФЗ).
    Retention {
        #[command(subcommand)]
        what: RetentionKind,
    },
    /// Issue a one-time «Привязать учетную запись» code for a roster person.
    IssueBindingCode {
        #[arg(long)]
        roster_person_id: i32,
        #[arg(long, default_value_t = 72)]
        valid_hours: i64,
    },
}

#[derive(Subcommand)]
enum ImportKind {
    /// Regions, municipalities, organizations (by their code) and classes.
    Directory(ImportArgs),
    /// Staff by СНИЛС, role and place of work.
    Staff(ImportArgs),
    /// Students and their parents of one organization.
    Roster {
        /// The organization: its code in the directory, or its number.
        #[arg(long)]
        organization: String,
        /// Take the file's value even where staff corrected a record through an appeal.
        #[arg(long)]
        prefer_file: bool,
        /// Archive the students the file leaves out.
        #[arg(long)]
        archive_missing: bool,
        #[command(flatten)]
        args: ImportArgs,
    },
}

#[derive(Subcommand)]
enum RetentionKind {
    /// Anonymise closed appeals past `retention.appeal_years`, prune the staff access log
    /// past `retention.access_log_years`, and print how many rows were touched.
    Run {
        /// Count, write nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand)]
enum ExportKind {
    /// Roster people staff corrected or added through appeals, in the roster layout
    /// (.xlsx or .csv) for the school system's «Пакетное обновление».
    RosterChanges {
        /// The organization: its code in the directory, or its number.
        #[arg(long)]
        organization: String,
        /// Only changes made on or after this day (YYYY-MM-DD).
        #[arg(long)]
        since: Option<chrono::NaiveDate>,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(clap::Args)]
struct ImportArgs {
    file: PathBuf,
    /// Check and print the report, write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Write the valid rows even when others are rejected.
    #[arg(long)]
    skip_invalid: bool,
}

/// The use cases on the configured database, migrated, for the commands.
async fn workflow(settings: &Settings) -> anyhow::Result<Workflow> {
    let db = store::connect(settings.database.url.expose(), 1).await?;
    store::migrate(&db).await?;
    let calendar = appeals::production_calendar(settings)?;
    let links = appeals::domain::status_link::StatusLinks::new(settings.status_links.key.expose());
    Ok(
        Workflow::new(db, String::new(), settings.server.offset()).configured(
            calendar,
            appeals::deadline_rules(settings),
            links,
        ),
    )
}

/// An import's progress bar, drawn on stderr when it is a terminal.
struct Bar(indicatif::ProgressBar);

impl Bar {
    fn new() -> Self {
        let bar =
            indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{bar:40.cyan/blue} {percent:>3}% · {msg} · {elapsed_precise}",
        ) {
            bar.set_style(style);
        }
        Bar(bar)
    }
}

impl import::Progress for Bar {
    fn advance(&self, done: u64, total: u64, rows: u64) {
        if total > 0 {
            self.0.set_length(total);
        }
        self.0.set_position(done);
        self.0.set_message(format!("строк прочитано: {rows}"));
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // One clear line for operators (bad config, unreachable database), never a backtrace.
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("appeals: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    // `Targets` rather than `EnvFilter`: the same `RUST_LOG` forms (a level, `target=level`)
    // without the span bookkeeping EnvFilter does on every poll of every request.
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|s| s.parse::<Targets>().ok())
        .unwrap_or_else(|| {
            // tower-sessions opens an INFO span around every request: a span the log never
            // shows, costing an allocation and formatted fields each time.
            Targets::new()
                .with_default(tracing::Level::INFO)
                .with_target("sqlx", tracing::Level::WARN)
                .with_target("sea_orm", tracing::Level::WARN)
                .with_target("tower_sessions", tracing::Level::WARN)
        });
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                // Colour codes only for a person at a terminal, never into journald or a file.
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
                .event_format(WithRequestId(tracing_subscriber::fmt::format())),
        )
        .with(filter)
        .init();
    let cli = Cli::parse();
    let settings = Settings::load(&cli.config_dir)?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = Application::build(settings).await?;
            tracing::info!(url = %app.public_url(), "appeals is listening");
            println!("appeals: open {}/", app.public_url());
            app.run_until_stopped(true).await
        }
        Command::Migrate => {
            let db = store::connect(settings.database.url.expose(), 1).await?;
            store::migrate(&db).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::EsiaEmulator { port, redirect_uri } => {
            let listener =
                tokio::net::TcpListener::bind((settings.server.host.as_str(), port)).await?;
            let base = format!("http://{}", listener.local_addr()?);
            let emulator = appeals::emulator_for(&settings, redirect_uri, base.clone())?;
            println!("ESIA emulator: {base}/");
            axum::serve(listener, emulator.router())
                .await
                .context("emulator server")
        }
        Command::Import { what } => {
            let wf = workflow(&settings).await?;
            let (ImportKind::Directory(args)
            | ImportKind::Staff(args)
            | ImportKind::Roster { args, .. }) = &what;
            let (prefer_file, archive_missing) = match &what {
                ImportKind::Roster {
                    prefer_file,
                    archive_missing,
                    ..
                } => (*prefer_file, *archive_missing),
                _ => (false, false),
            };
            let mode = Mode {
                dry_run: args.dry_run,
                skip_invalid: args.skip_invalid,
                prefer_file,
                archive_missing,
                author: Author::default(),
            };
            let config = &settings.import.mapping_dir;
            let bar = Bar::new();
            let report = match &what {
                ImportKind::Directory(a) => {
                    import::directory_file(&wf, config, &a.file, mode, &bar).await
                }
                ImportKind::Staff(a) => import::staff_file(&wf, config, &a.file, mode, &bar).await,
                ImportKind::Roster {
                    organization, args, ..
                } => match import::organization(&wf, organization).await {
                    Ok(org) => import::roster_file(&wf, config, &args.file, &org, mode, &bar).await,
                    Err(e) => Err(e),
                },
            };
            bar.0.finish_and_clear();
            let report = report.map_err(|e| anyhow::anyhow!("{e}"))?;
            print!("{report}");
            if report.refused.is_some() {
                anyhow::bail!("файл не загружен");
            }
            Ok(())
        }
        Command::Export {
            what:
                ExportKind::RosterChanges {
                    organization,
                    since,
                    out,
                },
        } => {
            let wf = workflow(&settings).await?;
            let written = import::roster_changes_file(
                &wf,
                &settings.import.mapping_dir,
                &organization,
                since,
                &out,
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("Записано строк: {written} → {}", out.display());
            Ok(())
        }
        Command::PersonData { snils, email, out } => {
            let snils = match snils.as_deref() {
                Some(s) => Some(
                    appeals::domain::snils::Snils::parse(s)
                        .map_err(|e| anyhow::anyhow!("СНИЛС: {e}"))?,
                ),
                None => None,
            };
            let email = email
                .map(|e| e.trim().to_string())
                .filter(|e| !e.is_empty());
            if snils.is_none() && email.is_none() {
                anyhow::bail!("укажите --snils или --email");
            }
            let wf = workflow(&settings).await?;
            let found =
                appeals::workflow::person_data::gather(&wf, snils.as_ref(), email.as_deref())
                    .await?;
            let text = serde_json::to_string_pretty(&found.document)?;
            import::export::write_private(&out, text.as_bytes())
                .with_context(|| format!("{}: cannot write", out.display()))?;
            println!(
                "Обращений: {}, записей в списках школ: {}, связей с Госуслугами: {}, \
                 просмотров сотрудниками: {} → {}",
                found.appeals,
                found.roster_records,
                found.links,
                found.access_log,
                out.display()
            );
            Ok(())
        }
        Command::Retention {
            what: RetentionKind::Run { dry_run },
        } => {
            let wf = workflow(&settings).await?;
            let report =
                appeals::workflow::retention::run(&wf, settings.retention.terms(), dry_run).await?;
            print!("{report}");
            Ok(())
        }
        Command::IssueBindingCode {
            roster_person_id,
            valid_hours,
        } => {
            let db = store::connect(settings.database.url.expose(), 1).await?;
            store::migrate(&db).await?;
            store::roster::person(&db, roster_person_id)
                .await?
                .with_context(|| format!("roster person {roster_person_id} does not exist"))?;
            let code = store::roster::issue_binding_code(
                &db,
                roster_person_id,
                chrono::Duration::hours(valid_hours),
                chrono::Utc::now(),
            )
            .await?;
            println!("{code}");
            Ok(())
        }
    }
}
