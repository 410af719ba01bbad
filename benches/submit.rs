//! Benchmark harness: appeal registration on PostgreSQL from 64 clients at once, against
//! pgbench running the minimal appeal transaction on the same database with 64
//! connections: the number, the appeal, its two history entries and its two e-mails
//! (`BEGIN; nextval; INSERT appeal; INSERT events; INSERT outbox; COMMIT`, prepared).
//! Ours is the store's `submit`, as the form's POST calls it, on a pool of `BENCH_POOL`
//! connections (default 10, the service's default). A/B/A/B, each run `BENCH_SECONDS`
//! (default 10); prints appeals/s, p50, p99, errors and the ratio, then JSON lines.
//!
//! `cargo bench --bench submit`; `BENCH_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`) is the server, where it creates and drops a
//! database of its own.

#[allow(dead_code)]
mod common;

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use appeals::store::appeals::{Filing, Submitted};
use appeals::store::outbox::NewMessage;
use appeals::store::registrar::Registrar;
use common::results::{Pair, publish};
use common::{PgScratch, demo_database, env_number, median, new_appeal, quantile_ms};

const CLIENTS: usize = 64;
const ROUNDS: usize = 2;

#[derive(Default)]
struct Run {
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
}

/// The two e-mails of a registration: the applicant's confirmation and the staff notice.
fn mails(appeal_id: i64) -> Vec<NewMessage> {
    ["registered", "staff_new"]
        .into_iter()
        .map(|kind| NewMessage {
            kind,
            appeal_id: Some(appeal_id),
            recipient: "parent@example.com".into(),
            subject: "Обращение зарегистрировано".into(),
            body_text: "Ваше обращение зарегистрировано.".into(),
            body_html: "<p>Ваше обращение зарегистрировано.</p>".into(),
        })
        .collect()
}

/// Appeal `i` with its two e-mails, as the form's POST hands it to the registrar.
fn with_mails(i: usize, (org, class): (i32, i32)) -> Filing {
    Filing {
        new: new_appeal(i, org, class),
        mails: Box::new(|a| mails(a.id)),
    }
}

/// `CLIENTS` tasks filing appeals through the store for `seconds`.
async fn ours(
    registrar: &Arc<Registrar>,
    (org, class): (i32, i32),
    seconds: u64,
    first: usize,
) -> anyhow::Result<Run> {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let registrar = registrar.clone();
        tasks.push(tokio::spawn(async move {
            let (mut took, mut errors) = (Vec::new(), 0u64);
            let mut i = first + c;
            while Instant::now() < deadline {
                let t = Instant::now();
                match registrar.file(with_mails(i, (org, class))).await {
                    Ok(Submitted::Created(_)) => took.push(t.elapsed()),
                    Ok(Submitted::Repeated(_)) | Err(_) => errors += 1,
                }
                i += CLIENTS;
            }
            (took, errors)
        }));
    }
    let (mut took, mut errors) = (Vec::new(), 0);
    for t in tasks {
        let (mine, e) = t.await?;
        took.extend(mine);
        errors += e;
    }
    let elapsed = start.elapsed().as_secs_f64();
    Ok(Run {
        per_second: took.len() as f64 / elapsed,
        p50_ms: quantile_ms(&took, 0.5),
        p99_ms: quantile_ms(&took, 0.99),
        errors,
    })
}

/// The minimal transaction as a pgbench script, copying the appeal filed by the store
/// (`template`) under a new number and submission id.
fn script(template: i64, year: i32) -> String {
    format!(
        "BEGIN;
SELECT nextval('appeal_number_{year}') AS seq \\gset
INSERT INTO appeals (number, applicant_oid, applicant_role, snapshot, applicant_email, \
search_norm, child_esia_id, organization_id, class_id, comment, status, route, submission_id, \
version, created_at, updated_at, due_at, subject_key, consent_version, consent_given_at) \
SELECT '{year}-' || lpad(:seq::text, 6, '0'), applicant_oid, applicant_role, snapshot, \
applicant_email, search_norm, child_esia_id, organization_id, class_id, comment, 'new', route, \
'pgbench-' || :seq, 1, now(), now(), due_at, subject_key || :seq, consent_version, \
consent_given_at FROM appeals WHERE id = {template} RETURNING id \\gset
INSERT INTO appeal_events (appeal_id, kind, from_status, to_status, actor, message, created_at) \
VALUES (:id, 'registered', NULL, 'new', 'applicant', NULL, now()), \
(:id, 'routed', NULL, NULL, 'system', 'Направлено в организацию', now());
INSERT INTO outbox (appeal_id, kind, recipient, subject, body_text, body_html, status, attempts, \
next_attempt_at, created_at) VALUES \
(:id, 'registered', 'parent@example.com', 'Обращение зарегистрировано', \
'Ваше обращение зарегистрировано.', '<p>Ваше обращение зарегистрировано.</p>', 'pending', 0, now(), now()), \
(:id, 'staff_new', 'parent@example.com', 'Обращение зарегистрировано', \
'Ваше обращение зарегистрировано.', '<p>Ваше обращение зарегистрировано.</p>', 'pending', 0, now(), now());
END;
"
    )
}

/// One bounded pgbench run; latencies from its per-transaction log.
fn pgbench(url: &str, script: &std::path::Path, seconds: u64) -> anyhow::Result<Run> {
    let logs =
        std::env::temp_dir().join(format!("appeals-pgbench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&logs)?;
    let out = Command::new("pgbench")
        .args([
            "-n",
            "-M",
            "prepared",
            &format!("-c{CLIENTS}"),
            "-j2",
            &format!("-T{seconds}"),
            "-l",
            &format!("--log-prefix={}", logs.join("tx").display()),
            "-f",
        ])
        .arg(script)
        .arg(url)
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    anyhow::ensure!(
        out.status.success(),
        "pgbench failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut took = Vec::new();
    for file in std::fs::read_dir(&logs)? {
        for line in std::fs::read_to_string(file?.path())?.lines() {
            // client transaction latency_us script_no epoch epoch_us
            if let Some(us) = line.split(' ').nth(2).and_then(|v| v.parse::<u64>().ok()) {
                took.push(Duration::from_micros(us));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&logs);
    let failed = text
        .lines()
        .find_map(|l| l.strip_prefix("number of failed transactions: "))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Ok(Run {
        per_second: took.len() as f64 / seconds as f64,
        p50_ms: quantile_ms(&took, 0.5),
        p99_ms: quantile_ms(&took, 0.99),
        errors: failed,
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let seconds: u64 = env_number("BENCH_SECONDS", 10);
    let pool: u32 = env_number("BENCH_POOL", 10);
    let mut scratch = PgScratch::connect().await?;
    let url = scratch.create("submit").await?;
    let result = async {
        let (db, school1) = demo_database(&url, pool).await?;
        let class = appeals::store::directory::classes(&db, school1.id).await?[0].id;
        let place = (school1.id, class);
        let registrar = Arc::new(Registrar::new(db.clone()));
        let year = 2026;
        let Submitted::Created(template) = registrar.file(with_mails(0, place)).await? else {
            anyhow::bail!("the first appeal was not registered");
        };
        let script_path =
            std::env::temp_dir().join(format!("appeals-submit-{}.sql", uuid::Uuid::new_v4()));
        std::fs::write(&script_path, script(template.id, year))?;
        println!(
            "{CLIENTS} clients, {seconds} s a run, {ROUNDS} rounds A/B; our pool: {pool} connections"
        );
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for round in 0..ROUNDS {
            a.push(pgbench(&url, &script_path, seconds)?);
            b.push(ours(&registrar, place, seconds, 1 + round * 10_000_000).await?);
        }
        let _ = std::fs::remove_file(&script_path);
        println!(
            "{:<34} {:>12} {:>9} {:>9} {:>7}",
            "registration, 64 clients", "appeals/s", "p50 ms", "p99 ms", "errors"
        );
        for (label, runs) in [("pgbench, minimal transaction", &a), ("ours (the registrar)", &b)] {
            println!(
                "{label:<34} {:>12.0} {:>9.2} {:>9.2} {:>7}",
                median(runs, |r| r.per_second),
                median(runs, |r| r.p50_ms),
                median(runs, |r| r.p99_ms),
                runs.iter().map(|r| r.errors).sum::<u64>()
            );
        }
        let ratio = median(&b, |r| r.per_second) / median(&a, |r| r.per_second);
        println!("ratio {ratio:.2}");
        let pair = Pair::new(
            "submit",
            &format!("registration, {CLIENTS} clients, pool {pool}"),
            "pgbench, minimal transaction",
            "appeals/s",
        )
        .latency(median(&b, |r| r.p50_ms), median(&b, |r| r.p99_ms))
        .errors(b.iter().map(|r| r.errors).sum())
        .rates(
            median(&a, |r| r.per_second),
            median(&b, |r| r.per_second),
            0.6,
            Some(50.0),
        );
        publish("submit", &[pair])?;
        db.close().await?;
        Ok::<_, anyhow::Error>(())
    }
    .await;
    scratch.drop_all().await;
    result
}
