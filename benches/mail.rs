//! Benchmark harness: the outbox worker against a bare lettre loop, to a local SMTP server
//! with the kernel's normal delayed ACK and to one that ACKs every segment at once. Each
//! pair runs A/B/A/B, each run bounded in time; prints one table and JSON lines.
//!
//! `cargo bench --bench mail` (SQLite in a temporary file; `BENCH_DATABASE_URL` for
//! PostgreSQL). `BENCH_MAILS` sets the messages per run (default 5000).

#[allow(dead_code)]
mod common;
#[allow(dead_code)]
#[path = "../tests/stories/support/process.rs"]
mod process;
#[allow(dead_code)]
#[path = "../tests/faults/smtp.rs"]
mod smtp;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use appeals::config::{Environment, Settings};
use appeals::mail::transport::{self, Transport};
use appeals::mail::worker::Worker;
use appeals::store::entities::outbox;
use appeals::store::outbox::{NewMessage, enqueue};
use appeals::workflow::Workflow;
use chrono::{FixedOffset, Utc};
use common::results::{Pair, publish};
use common::{env_number, median, scratch};
use lettre::message::Mailbox;
use lettre::transport::smtp::client::AsyncSmtpConnection;
use lettre::transport::smtp::extension::ClientId;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, TransactionTrait,
};

/// No run takes longer than this, however slow the side measured.
const BOUND: Duration = Duration::from_secs(20);

/// A registration e-mail of the usual size.
fn new_message(i: usize) -> NewMessage {
    NewMessage {
        kind: "registered",
        appeal_id: None,
        recipient: format!("parent{i}@example.com"),
        subject: format!("Обращение № 2026-{i:06} зарегистрировано"),
        body_text: "Здравствуйте! Ваше обращение зарегистрировано. ".repeat(12),
        body_html: format!(
            "<p>{}</p>",
            "Здравствуйте! Ваше обращение зарегистрировано. ".repeat(12)
        ),
    }
}

async fn fill_outbox(db: &DatabaseConnection, n: usize) -> anyhow::Result<()> {
    outbox::Entity::delete_many().exec(db).await?;
    let txn = db.begin().await?;
    for i in 0..n {
        enqueue(&txn, new_message(i), Utc::now()).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// The baseline: one lettre connection on lettre's own socket, one message after another.
async fn bare_lettre(port: u16, rows: &[outbox::Model], from: &Mailbox) -> anyhow::Result<f64> {
    let mut conn = AsyncSmtpConnection::connect_tokio1(
        ("127.0.0.1", port),
        Some(Duration::from_secs(10)),
        &ClientId::default(),
        None,
        None,
    )
    .await?;
    let start = Instant::now();
    let mut sent = 0;
    for row in rows {
        let email = transport::message(row, from).map_err(|e| anyhow::anyhow!("{e}"))?;
        conn.send(email.envelope(), &email.formatted()).await?;
        sent += 1;
        if start.elapsed() > BOUND {
            break;
        }
    }
    Ok(sent as f64 / start.elapsed().as_secs_f64())
}

/// Ours: the outbox worker draining `n` queued messages (claiming, sending, marking sent).
async fn worker(db: &DatabaseConnection, worker: &Worker, n: usize) -> anyhow::Result<f64> {
    fill_outbox(db, n).await?;
    let start = Instant::now();
    let _ = tokio::time::timeout(BOUND, worker.drain_once()).await;
    let elapsed = start.elapsed().as_secs_f64();
    let sent = outbox::Entity::find()
        .filter(outbox::Column::Status.eq("sent"))
        .count(db)
        .await?;
    Ok(sent as f64 / elapsed)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (dir, url) = scratch()?;
    let n: usize = env_number("BENCH_MAILS", 5000);
    let db = appeals::store::connect(&url, 8).await?;
    appeals::store::prepare(&db, None).await?;
    let mut pairs = Vec::new();
    println!(
        "{:<34} {:>14} {:>10} {:>7}",
        "scenario (mails/s, median of 2)", "bare lettre", "ours", "ratio"
    );
    for ack_at_once in [false, true] {
        let sink = smtp::Sink::start().await.map_err(|e| anyhow::anyhow!(e))?;
        if ack_at_once {
            sink.ack_at_once();
        }
        let settings = Settings::load_for(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("config"),
            Environment::Test,
            &[
                ("database.url", url.clone()),
                ("mail.transport", "smtp".into()),
                ("mail.smtp_url", format!("smtp://127.0.0.1:{}", sink.port)),
            ],
        )?;
        let from: Mailbox = settings.mail.from.parse()?;
        let wf = Workflow::new(
            db.clone(),
            String::new(),
            FixedOffset::east_opt(0).expect("UTC"),
        );
        let transport = Arc::new(Transport::from_settings(&settings.mail)?);
        let ours = Worker::new(wf, transport, &settings.mail, Default::default())?;
        fill_outbox(&db, n).await?;
        let rows = outbox::Entity::find().all(&db).await?;
        let (mut bare, mut mine) = (Vec::new(), Vec::new());
        for _ in 0..2 {
            bare.push(bare_lettre(sink.port, &rows, &from).await?);
            mine.push(worker(&db, &ours, n).await?);
        }
        let (bare, mine) = (median(&bare, |v| *v), median(&mine, |v| *v));
        let scenario = if ack_at_once {
            "SMTP server that ACKs at once"
        } else {
            "SMTP server with delayed ACK"
        };
        println!(
            "{scenario:<34} {bare:>14.0} {mine:>10.0} {:>7.2}",
            mine / bare
        );
        let pair = Pair::new("mail", scenario, "bare lettre loop", "mails/s");
        pairs.push(if ack_at_once {
            pair.rates(bare, mine, 0.8, None)
        } else {
            pair.rate_floor(bare, mine, 300.0)
        });
    }
    publish("mail", &pairs)?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
