//! Benchmark harness: the inbox export (`/staff/inbox/export`) of a municipality's appeals
//! through the real service, as XLSX and as CSV: time to the last byte and the service's
//! own peak RSS while it writes. Prints numbers; asserts nothing but that every row came.
//!
//! `cargo bench --bench export` (SQLite in a temporary file), or against PostgreSQL:
//! `BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/<fresh db> cargo bench --bench export`.
//! `BENCH_APPEALS` sets how many appeals to export (default 100000).

#[allow(dead_code)]
mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use appeals::store::directory::{self, OrganizationFilter};
use appeals::store::registrar::Registrar;
use common::service::{free_port, memory_mib, reset_peak, serve, sign_in, wait_ready};
use common::{demo_database, env_number, filing, scratch};

struct Measured {
    seconds: f64,
    bytes: u64,
    peak_mib: f64,
}

/// Downloads the export chunk by chunk, as a browser saving it would, into `out`.
async fn export(
    http: &reqwest::Client,
    base: &str,
    format: &str,
    pid: u32,
    out: &Path,
) -> anyhow::Result<Measured> {
    use std::io::Write;
    reset_peak(pid);
    let start = Instant::now();
    let mut resp = http
        .get(format!("{base}/staff/inbox/export?format={format}"))
        .send()
        .await?
        .error_for_status()?;
    let mut file = std::io::BufWriter::new(std::fs::File::create(out)?);
    let mut bytes = 0u64;
    while let Some(chunk) = resp.chunk().await? {
        bytes += chunk.len() as u64;
        file.write_all(&chunk)?;
    }
    file.flush()?;
    Ok(Measured {
        seconds: start.elapsed().as_secs_f64(),
        bytes,
        peak_mib: memory_mib(pid, "VmHWM:"),
    })
}

/// Rows of the exported file, header included.
fn rows_in(path: &Path, format: &str) -> anyhow::Result<usize> {
    if format == "csv" {
        return Ok(std::fs::read(path)?.iter().filter(|b| **b == b'\n').count());
    }
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(path)?;
    let sheet = book
        .worksheet_range_at(0)
        .ok_or_else(|| anyhow::anyhow!("no sheet"))??;
    Ok(sheet.height())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (dir, url) = scratch()?;
    let total: usize = env_number("BENCH_APPEALS", 100_000);
    let (db, school1) = demo_database(&url, 8).await?;

    // The municipal operator's schools, each with its first class, share the appeals.
    let mut places = Vec::new();
    let same_municipality = OrganizationFilter {
        municipality_id: Some(school1.municipality_id),
        ..Default::default()
    };
    for (o, _) in directory::organizations(&db, &same_municipality).await? {
        if let Some(c) = directory::classes(&db, o.id).await?.first() {
            places.push((o.id, c.id));
        }
    }
    let started = Instant::now();
    let registrar = Registrar::new(db.clone());
    for i in 0..total {
        let (org, class) = places[i % places.len()];
        registrar.file(filing(i, org, class)).await?;
    }
    sea_orm::ConnectionTrait::execute_unprepared(&db, "ANALYZE").await?;
    println!(
        "{} appeals in {} schools of one municipality ({}), registered in {:.0} s",
        total,
        places.len(),
        if url.starts_with("postgres") {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        started.elapsed().as_secs_f64()
    );

    let port = free_port()?;
    let base = format!("http://127.0.0.1:{port}");
    let mut service = serve(&url, port, &dir)?;
    let pid = service.id();
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(1800))
        .build()?;
    let result = async {
        wait_ready(&http, &base, "/readyz").await?;
        let landing = sign_in(&http, &base, "staff", "operator-municipal").await?;
        anyhow::ensure!(landing.ends_with("/staff/inbox"), "landed on {landing}");
        http.get(&landing).send().await?.error_for_status()?;
        println!(
            "service RSS after sign-in and one inbox page: {:.0} MiB",
            memory_mib(pid, "VmRSS:")
        );
        println!(
            "{:<6} {:>10} {:>10} {:>10} {:>16}",
            "format", "rows", "seconds", "MiB out", "peak RSS (MiB)"
        );
        for format in ["csv", "xlsx"] {
            let out = dir.join(format!("export.{format}"));
            let m = export(&http, &base, format, pid, &out).await?;
            let rows = rows_in(&out, format)?;
            anyhow::ensure!(
                rows == total + 1,
                "{format}: {rows} rows for {total} appeals"
            );
            println!(
                "{format:<6} {:>10} {:>10.1} {:>10.1} {:>16.0}",
                rows - 1,
                m.seconds,
                m.bytes as f64 / 1048576.0,
                m.peak_mib
            );
        }
        Ok(())
    }
    .await;
    let _ = service.kill();
    let _ = service.wait();
    let _ = std::fs::remove_dir_all(&dir);
    result
}
