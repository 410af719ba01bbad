//! The fault suite: starts the real `appeals` binary on SQLite and on PostgreSQL, breaks
//! things around it on loopback (kills, SMTP outages, cut database connections, races,
//! forged and fuzzed requests) and checks that nothing acknowledged was lost or doubled.
//! It prints one table and exits non-zero on any loss, duplicate or unexpected 5xx.
//!
//! `cargo test --test faults` runs the quick sizes (the test command of README.md runs
//! them too); `cargo test --release --test faults -- --full` the long ones. Options:
//! `--sqlite` or `--postgres` for one database, any other word picks the scenarios whose
//! name contains it.

#[path = "../stories/support/html.rs"]
mod html;
#[path = "../stories/support/postgres.rs"]
mod postgres;
#[path = "../stories/support/process.rs"]
mod process;

mod fuzz;
mod instance;
mod matrix;
mod races;
mod report;
mod scenarios;
mod smtp;
mod web;

use std::time::Instant;

use instance::Backend;
use report::Row;

/// How big each scenario is.
#[derive(Clone, Copy)]
pub struct Size {
    pub full: bool,
    /// Seconds of load before a fault.
    pub load_secs: u64,
    /// Browsers filing at once.
    pub clients: usize,
    /// Rounds of a fault that repeats (kills, cuts).
    pub rounds: usize,
    pub fuzz_requests: usize,
}

impl Size {
    fn new(full: bool) -> Size {
        if full {
            Size {
                full,
                load_secs: 8,
                clients: 12,
                rounds: 3,
                fuzz_requests: 12_000,
            }
        } else {
            Size {
                full,
                load_secs: 2,
                clients: 4,
                rounds: 1,
                fuzz_requests: 1_500,
            }
        }
    }
}

type Scenario =
    fn(
        Backend,
        Size,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Row, String>> + Send>>;

macro_rules! scenario {
    ($f:path) => {
        (|backend, size| Box::pin($f(backend, size))) as Scenario
    };
}

fn scenarios() -> Vec<(&'static str, Scenario)> {
    vec![
        ("kill -9 under load", scenario!(scenarios::kill_under_load)),
        (
            "SIGTERM under load",
            scenario!(scenarios::terminate_under_load),
        ),
        (
            "SMTP down, then up",
            scenario!(scenarios::smtp_down_then_up),
        ),
        ("SMTP silent", scenario!(scenarios::smtp_silent)),
        ("one slow message", scenario!(scenarios::one_slow_message)),
        (
            "database connections cut",
            scenario!(scenarios::connections_cut),
        ),
        (
            "two instances, empty database",
            scenario!(scenarios::two_instances),
        ),
        ("double submit", scenario!(races::double_submit)),
        (
            "concurrent resolution",
            scenario!(races::concurrent_resolution),
        ),
        ("logout race", scenario!(races::logout_race)),
        ("binding-code race", scenario!(races::binding_code_race)),
        ("rate limits", scenario!(races::rate_limits)),
        (
            "authorization matrix",
            scenario!(matrix::authorization_matrix),
        ),
        ("CSRF on every POST", scenario!(matrix::csrf_on_every_post)),
        ("fuzz", scenario!(fuzz::fuzz)),
    ]
}

fn main() -> std::process::ExitCode {
    let mut full = false;
    let mut backends = vec![Backend::Sqlite, Backend::Postgres];
    let mut only: Vec<String> = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--full" => full = true,
            "--sqlite" => backends = vec![Backend::Sqlite],
            "--postgres" => backends = vec![Backend::Postgres],
            // What cargo test hands every test binary.
            "--nocapture" | "--quiet" | "-q" | "--test-threads=1" => {}
            other if other.starts_with('-') => {
                eprintln!("faults: unknown option {other}");
                return std::process::ExitCode::FAILURE;
            }
            word => only.push(word.to_lowercase()),
        }
    }
    let size = Size::new(full);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let started = Instant::now();
    let mut rows = Vec::new();
    for backend in backends {
        for (name, run) in scenarios() {
            if !only.is_empty() && !only.iter().any(|w| name.to_lowercase().contains(w)) {
                continue;
            }
            let began = Instant::now();
            let row = runtime
                .block_on(run(backend, size))
                .unwrap_or_else(Row::broken);
            let row = row.named(name, backend, began.elapsed());
            eprintln!("{}", row.line());
            rows.push(row);
        }
    }
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    println!("{}", report::table(&rows, size.full, started.elapsed()));
    if rows.iter().all(Row::passed) {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}
