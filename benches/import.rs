//! Benchmark harness: a school's roster import at region scale. Writes a roster file of
//! `BENCH_ROWS` students (default 100000), each with a parent, imports it into a fresh
//! SQLite database seeded with the demo directory, then imports it again (every row
//! unchanged). Prints time, rows per second and the process's peak resident memory;
//! asserts nothing.
//!
//! `cargo bench --bench import`; `BENCH_ROWS=20000 cargo bench --bench import`.

use std::path::Path;
use std::time::Instant;

use appeals::workflow::Workflow;
use appeals::workflow::import::Mode;

/// Peak resident set size of this process so far, in MiB (Linux).
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn roster_csv(rows: usize) -> String {
    let classes = ["1а", "5а", "7а", "7б"];
    let mut text = String::from(
        "Фамилия;Имя;Отчество;Дата рождения;Класс;Родитель 1: Фамилия;Родитель 1: Имя;\
         Родитель 1: Отчество;Родитель 1: Дата рождения;Родитель 1: E-mail\n",
    );
    for i in 0..rows {
        let day = 1 + i % 28;
        let month = 1 + (i / 28) % 12;
        text.push_str(&format!(
            "Ученик{i};Иван;Петрович;{day:02}.{month:02}.2014;{};Родитель{i};Мария;Ивановна;{day:02}.{month:02}.1985;parent{i}@example.com\n",
            classes[i % classes.len()]
        ));
    }
    text
}

#[tokio::main]
async fn main() {
    let rows: usize = std::env::var("BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = std::env::temp_dir().join(format!("appeals-bench-import-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let url = format!("sqlite://{}?mode=rwc", dir.join("bench.db").display());
    let db = appeals::store::connect(&url, 2).await.expect("database");
    appeals::store::prepare(&db, Some(&config.join("demo-directory.toml")))
        .await
        .expect("migrations and demo directory");
    let wf = Workflow::new(
        db,
        String::new(),
        chrono::FixedOffset::east_opt(3 * 3600).expect("offset"),
    );
    let file = dir.join("roster.csv");
    std::fs::write(&file, roster_csv(rows)).expect("roster file");
    let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    println!(
        "roster file: {rows} students with a parent each, {:.1} MiB; peak RSS before import {:.0} MiB",
        size as f64 / 1048576.0,
        peak_rss_mib()
    );
    for label in ["first import (all new)", "second import (all unchanged)"] {
        let started = Instant::now();
        let report = appeals::import::roster_file(&wf, &config, &file, "school-1", Mode::default())
            .await
            .expect("import");
        let took = started.elapsed().as_secs_f64();
        println!(
            "{label:<32} {took:>7.1} s  {:>8.0} rows/s  added {} changed {} unchanged {} rejected {}  peak RSS {:.0} MiB",
            rows as f64 / took,
            report.added.len(),
            report.changed.len(),
            report.unchanged,
            report.rejected.len(),
            peak_rss_mib()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
