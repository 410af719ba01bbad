//! Benchmark harness: a school's roster import at region scale. Writes a roster file of
//! `BENCH_ROWS` students (default 100000), each with a parent, imports it into a fresh
//! SQLite database seeded with the demo directory, then imports it again (every row
//! unchanged), then the same rows as an XLSX workbook. Prints time, rows per second and
//! the importing process's peak resident memory during each import; asserts nothing.
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

/// Resets the peak so that each import's own peak is measured (Linux ≥ 4.0).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

const HEADERS: [&str; 10] = [
    "Фамилия",
    "Имя",
    "Отчество",
    "Дата рождения",
    "Класс",
    "Родитель 1: Фамилия",
    "Родитель 1: Имя",
    "Родитель 1: Отчество",
    "Родитель 1: Дата рождения",
    "Родитель 1: E-mail",
];

fn row(i: usize) -> [String; 10] {
    let classes = ["1а", "5а", "7а", "7б"];
    let (day, month) = (1 + i % 28, 1 + (i / 28) % 12);
    [
        format!("Ученик{i}"),
        "Иван".into(),
        "Петрович".into(),
        format!("{day:02}.{month:02}.2014"),
        classes[i % classes.len()].into(),
        format!("Родитель{i}"),
        "Мария".into(),
        "Ивановна".into(),
        format!("{day:02}.{month:02}.1985"),
        format!("parent{i}@example.com"),
    ]
}

/// The file is written a row at a time, so that building it does not count in the peak.
fn write_csv(path: &Path, rows: usize) {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("csv file"));
    writeln!(out, "{}", HEADERS.join(";")).expect("csv");
    for i in 0..rows {
        writeln!(out, "{}", row(i).join(";")).expect("csv");
    }
    out.flush().expect("csv");
}

fn write_xlsx(path: &Path, rows: usize) {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in HEADERS.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).expect("header");
    }
    for i in 0..rows {
        for (c, v) in row(i).iter().enumerate() {
            sheet.write_string(i as u32 + 1, c as u16, v).expect("cell");
        }
    }
    book.save(path).expect("xlsx file");
}

#[tokio::main]
async fn main() {
    let rows: usize = std::env::var("BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    // The files are written first and imported by a child process of this harness, so
    // that building them in memory does not count in the importer's peak.
    let dir = match std::env::var_os("BENCH_IMPORT_DIR") {
        Some(dir) => std::path::PathBuf::from(dir),
        None => {
            let dir =
                std::env::temp_dir().join(format!("appeals-bench-import-{}", uuid::Uuid::new_v4()));
            std::fs::create_dir_all(&dir).expect("temp dir");
            write_csv(&dir.join("roster.csv"), rows);
            write_xlsx(&dir.join("roster.xlsx"), rows);
            let status = std::process::Command::new(std::env::current_exe().expect("harness"))
                .env("BENCH_IMPORT_DIR", &dir)
                .status()
                .expect("importing process");
            let _ = std::fs::remove_dir_all(&dir);
            std::process::exit(status.code().unwrap_or(1));
        }
    };
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
    let (csv, xlsx) = (dir.join("roster.csv"), dir.join("roster.xlsx"));
    let mib = |p: &Path| std::fs::metadata(p).map_or(0.0, |m| m.len() as f64 / 1048576.0);
    reset_peak_rss();
    println!(
        "roster file: {rows} students with a parent each, CSV {:.1} MiB, XLSX {:.1} MiB; \
         peak RSS before import {:.0} MiB",
        mib(&csv),
        mib(&xlsx),
        peak_rss_mib()
    );
    let school = appeals::import::organization(&wf, "school-1")
        .await
        .expect("demo school");
    for (label, file) in [
        ("CSV, first import (all new)", &csv),
        ("CSV, again (all unchanged)", &csv),
        ("XLSX, same rows (unchanged)", &xlsx),
    ] {
        reset_peak_rss();
        let started = Instant::now();
        let report = appeals::import::roster_file(
            &wf,
            &config.join("import"),
            file,
            &school,
            Mode::default(),
            &(),
        )
        .await
        .expect("import");
        let took = started.elapsed().as_secs_f64();
        println!(
            "{label:<30} {took:>7.1} s  {:>8.0} rows/s  added {} changed {} unchanged {} rejected {}  peak RSS {:.0} MiB",
            rows as f64 / took,
            report.added.len(),
            report.changed.len(),
            report.unchanged,
            report.rejected.len(),
            peak_rss_mib()
        );
    }
}
