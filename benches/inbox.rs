//! Benchmark harness: appeal registration throughput and staff inbox latency at September
//! volumes. Prints numbers; asserts nothing.
//!
//! `cargo bench --bench inbox` (SQLite in a temporary file), or against PostgreSQL:
//! `BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/<fresh db> cargo bench --bench inbox`.
//! `BENCH_APPEALS` sets how many appeals to register (default 20000).

use std::time::Instant;

#[allow(dead_code)]
mod common;

use appeals::domain::names::normalize;
use appeals::domain::staff::Scope;
use appeals::store::inbox::{self, InboxQuery, StatusFilter};
use appeals::store::registrar::Registrar;
use common::{demo_database, env_number, filing, open_queue, report, scratch, time_query};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (dir, url) = scratch()?;
    let total: usize = env_number("BENCH_APPEALS", 20_000);
    let (db, school1) = demo_database(&url, 16).await?;
    let org = school1.id;
    let class = appeals::store::directory::classes(&db, org).await?[0].id;
    println!(
        "database: {}",
        if url.starts_with("postgres") {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    );

    // Registration: the appeal, its history, its number and its e-mail in one transaction.
    let registrar = std::sync::Arc::new(Registrar::new(db.clone()));
    let start = Instant::now();
    let first = total / 2;
    for i in 0..first {
        registrar.file(filing(i, org, class)).await?;
    }
    let serial = start.elapsed();
    println!(
        "register, 1 client:  {:>8.0} appeals/s ({first} appeals)",
        first as f64 / serial.as_secs_f64()
    );
    let start = Instant::now();
    let clients = 8;
    let mut tasks = Vec::new();
    for c in 0..clients {
        let registrar = registrar.clone();
        tasks.push(tokio::spawn(async move {
            for i in (first + c..total).step_by(clients) {
                registrar.file(filing(i, org, class)).await?;
            }
            Ok::<_, sea_orm::DbErr>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let parallel = start.elapsed();
    println!(
        "register, {clients} clients: {:>8.0} appeals/s ({} appeals)",
        (total - first) as f64 / parallel.as_secs_f64(),
        total - first
    );

    // Fresh statistics, as autovacuum (PostgreSQL) or a periodic ANALYZE (SQLite) keeps
    // them after a September flood; without them the planner guesses wrong.
    sea_orm::ConnectionTrait::execute_unprepared(&db, "ANALYZE").await?;
    let base = |search: Option<&str>, status| InboxQuery {
        status,
        search: search.map(normalize),
        ..open_queue(Scope::Organization(org))
    };
    println!("inbox over {total} appeals of one school:");
    report(
        "first page, open appeals",
        time_query(&db, &base(None, StatusFilter::Open), 30).await,
    );
    let mut deep = base(None, StatusFilter::Open);
    deep.cursor = inbox::page(&db, &deep).await?.next;
    report(
        "second page (keyset cursor)",
        time_query(&db, &deep, 30).await,
    );
    report(
        "search by name «ребенок1234»",
        time_query(&db, &base(Some("ребёнок1234"), StatusFilter::All), 30).await,
    );
    report(
        "search by surname «родителева»",
        time_query(&db, &base(Some("Родителева"), StatusFilter::All), 30).await,
    );
    report(
        "search by full ФИО",
        time_query(
            &db,
            &base(Some("Родителева Мама123 Ивановна"), StatusFilter::All),
            30,
        )
        .await,
    );
    report(
        "search by number «2026-0012»",
        time_query(&db, &base(Some("2026-0012"), StatusFilter::All), 30).await,
    );
    let mut counts = Vec::new();
    for _ in 0..30 {
        let start = Instant::now();
        inbox::status_counts(&db, Scope::Organization(org)).await?;
        counts.push(start.elapsed());
    }
    report("counts per status", counts);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
