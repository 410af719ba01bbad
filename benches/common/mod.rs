//! What the benchmarks share: appeals as the form files them, without the HTTP round trip,
//! and the service started as a process of its own.

pub mod results;
pub mod service;

use appeals::domain::applicant::{Applicant, Child, Identity, LoginRole, Snapshot};
use appeals::domain::consent::{self, Consent};
use appeals::domain::names::PersonName;
use appeals::domain::routing::Route;
use appeals::store::appeals::{Filing, NewAppeal};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use appeals::domain::staff::Scope;
use appeals::store::directory::{self, OrganizationFilter};
use appeals::store::entities::organization;
use appeals::store::inbox::{self, AssigneeFilter, InboxQuery, Sort, StatusFilter};
use chrono::{NaiveDate, Utc};
use sea_orm::DatabaseConnection;

/// The `i`-th appeal of a September flood: a parent about one child, at `org` / `class`.
/// Appeal `i` as the form files it, without e-mails.
pub fn filing(i: usize, org: i32, class: i32) -> Filing {
    Filing {
        new: new_appeal(i, org, class),
        mails: Box::new(|_| Vec::new()),
    }
}

pub fn new_appeal(i: usize, org: i32, class: i32) -> NewAppeal {
    let applicant = Applicant {
        identity: Identity {
            oid: format!("7{i:09}"),
            role: LoginRole::Parent,
            name: PersonName::new("Родителева", &format!("Мама{i}"), "Ивановна"),
            birth_date: NaiveDate::from_ymd_opt(1985, 1, 1).expect("date"),
            snils: None,
            email: Some(format!("parent{i}@example.com")),
            unverified_email: None,
            confirmed: true,
        },
        kids: Vec::new(),
    };
    let child = Child {
        esia_id: i.to_string(),
        name: PersonName::new("Учеников", &format!("Ребёнок{i}"), ""),
        birth_date: NaiveDate::from_ymd_opt(2014, 1, 1).expect("date"),
        snils: None,
    };
    let snapshot = Snapshot::new(&applicant, Some(child), None);
    let now = Utc::now();
    NewAppeal {
        snapshot,
        repeat_reason: None,
        digest_staff: Vec::new(),
        organization_id: org,
        class_id: class,
        comment: Some("Не могу войти в дневник".into()),
        submission_id: uuid::Uuid::new_v4().to_string(),
        route: Route::Organization,
        year: 2026,
        now,
        due_at: now + chrono::Duration::days(30),
        consent: Consent {
            version: consent::VERSION.into(),
            given_at: now,
        },
    }
}

/// The `q` quantile of `samples`, in milliseconds.
pub fn quantile_ms(samples: &[Duration], q: f64) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted[((sorted.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1000.0
}

/// The median of one figure over alternating runs.
pub fn median<T>(runs: &[T], figure: impl Fn(&T) -> f64) -> f64 {
    let mut v: Vec<f64> = runs.iter().map(figure).collect();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Prints the median, 95th and 99th percentile of `samples`.
pub fn report(label: &str, samples: Vec<Duration>) {
    println!(
        "{label:<44} median {:>8.2} ms   p95 {:>8.2} ms   p99 {:>8.2} ms   ({} runs)",
        quantile_ms(&samples, 0.5),
        quantile_ms(&samples, 0.95),
        quantile_ms(&samples, 0.99),
        samples.len()
    );
}

/// Runs the inbox query `runs` times.
pub async fn time_query(db: &DatabaseConnection, q: &InboxQuery, runs: usize) -> Vec<Duration> {
    let mut out = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        inbox::page(db, q).await.expect("inbox page");
        out.push(start.elapsed());
    }
    out
}

/// A number from the environment variable `name`, or `default`.
pub fn env_number<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A fresh temporary folder and the database to use: `BENCH_DATABASE_URL`, or a SQLite
/// file in that folder.
pub fn scratch() -> anyhow::Result<(PathBuf, String)> {
    let dir = std::env::temp_dir().join(format!("appeals-bench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    let url = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}?mode=rwc", dir.join("bench.db").display()));
    Ok((dir, url))
}

/// Connects, migrates and seeds the demo directory; returns the demo's school № 1.
pub async fn demo_database(
    url: &str,
    connections: u32,
) -> anyhow::Result<(DatabaseConnection, organization::Model)> {
    let db = appeals::store::connect(url, connections).await?;
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/demo-directory.toml");
    appeals::store::prepare(&db, Some(&demo)).await?;
    let school1 = directory::organizations(&db, &OrganizationFilter::default())
        .await?
        .into_iter()
        .find(|(o, _)| o.name.contains("«Средняя школа № 1»"))
        .map(|(o, _)| o)
        .ok_or_else(|| anyhow::anyhow!("demo school 1 missing"))?;
    Ok((db, school1))
}

/// The first page of the open queue of `scope`, as the inbox asks for it.
pub fn open_queue(scope: Scope) -> InboxQuery {
    InboxQuery {
        scope,
        status: StatusFilter::Open,
        class_id: None,
        organization_id: None,
        assignee: AssigneeFilter::Any,
        overdue: false,
        due_by: None,
        created_from: None,
        created_before: None,
        search: None,
        sort: Sort::Queue,
        cursor: None,
        limit: 50,
        now: Utc::now(),
        fold: true,
    }
}

/// Fresh databases of a harness's own on the PostgreSQL server at `BENCH_POSTGRES_URL`
/// (default the test server), dropped again by [`PgScratch::drop_all`].
pub struct PgScratch {
    admin: DatabaseConnection,
    base: String,
    names: Vec<String>,
}

impl PgScratch {
    pub async fn connect() -> anyhow::Result<Self> {
        let server = std::env::var("BENCH_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let admin = appeals::store::connect(&server, 1).await?;
        let base = server.rsplit_once('/').map_or(server.as_str(), |(b, _)| b);
        Ok(Self {
            admin,
            base: base.to_string(),
            names: Vec::new(),
        })
    }

    /// Creates `bench_{label}_…` and returns its URL.
    pub async fn create(&mut self, label: &str) -> anyhow::Result<String> {
        let name = format!("bench_{label}_{}", uuid::Uuid::new_v4().simple());
        sea_orm::ConnectionTrait::execute_unprepared(
            &self.admin,
            &format!("CREATE DATABASE {name}"),
        )
        .await?;
        let url = format!("{}/{name}", self.base);
        self.names.push(name);
        Ok(url)
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub async fn drop_all(self) {
        for name in &self.names {
            let _ = sea_orm::ConnectionTrait::execute_unprepared(
                &self.admin,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            )
            .await;
        }
    }
}
