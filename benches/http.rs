//! Benchmark harness: requests per second of the entry page (`/`) and `/healthz` against a
//! bare axum hello-world built from this same file (the baseline: the harness runs itself
//! with `BENCH_HELLO_PORT` set), under `wrk` with 64 connections on loopback. Baseline and
//! service take turns (A/B/A/B), each run bounded by `BENCH_SECONDS` (default 5); prints
//! requests/s, p50 and p99 latency, errors and the ratio of the medians, the service's
//! peak RSS under that load, then the same as JSON lines.
//!
//! `cargo bench --bench http`; installs Debian's `wrk` when it is missing and the harness
//! runs as root.

#[allow(dead_code)]
mod common;

use std::process::{Child, Command, Stdio};

use common::results::{Pair, publish};
use common::service::{free_port, memory_mib, reset_peak, serve, wait_ready};
use common::{env_number, median};

const ROUNDS: usize = 3;
const CONNECTIONS: u32 = 64;

/// The baseline: axum's hello-world on a multi-threaded runtime, nothing else.
fn hello(port: u16) -> anyhow::Result<()> {
    tokio::runtime::Runtime::new()?.block_on(async move {
        let app = axum::Router::new().route("/", axum::routing::get(|| async { "Hello, World!" }));
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        axum::serve(listener, app).await?;
        Ok(())
    })
}

/// `wrk` on this machine, installed from Debian when it is missing.
fn ensure_wrk() -> anyhow::Result<()> {
    let found = |c: &str| {
        Command::new(c)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
    };
    if found("wrk") {
        return Ok(());
    }
    println!("installing wrk (apt-get install wrk)");
    let status = Command::new("apt-get")
        .args(["install", "-y", "wrk"])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()?;
    anyhow::ensure!(
        status.success() && found("wrk"),
        "wrk is missing and could not be installed: run `apt-get install wrk` as root"
    );
    Ok(())
}

#[derive(Clone, Copy, Default)]
struct Run {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
}

/// A latency as wrk prints it (`812.00us`, `1.23ms`, `2.01s`), in milliseconds.
fn millis(s: &str) -> Option<f64> {
    let (number, scale) = if let Some(n) = s.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = s.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1000.0)
    } else {
        return None;
    };
    number.parse::<f64>().ok().map(|v| v * scale)
}

/// One bounded `wrk` run against `url`.
fn wrk(url: &str, seconds: u64) -> anyhow::Result<Run> {
    let out = Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{CONNECTIONS}"),
            &format!("-d{seconds}s"),
            "--latency",
            url,
        ])
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut run = Run::default();
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", n] => run.rps = n.parse()?,
            ["50%", t] => run.p50_ms = millis(t).unwrap_or(f64::NAN),
            ["99%", t] => run.p99_ms = millis(t).unwrap_or(f64::NAN),
            ["Non-2xx", "or", "3xx", "responses:", n] => run.errors += n.parse::<u64>()?,
            ["Socket", "errors:", rest @ ..] => {
                run.errors += rest
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                    .sum::<u64>();
            }
            _ => {}
        }
    }
    anyhow::ensure!(run.rps > 0.0, "wrk printed no rate for {url}:\n{text}");
    Ok(run)
}

struct Stop(Child);

impl Drop for Stop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn main() -> anyhow::Result<()> {
    match std::env::var("BENCH_HELLO_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
    {
        Some(port) => hello(port),
        None => tokio::runtime::Runtime::new()?.block_on(compare()),
    }
}

async fn compare() -> anyhow::Result<()> {
    ensure_wrk()?;
    let seconds: u64 = env_number("BENCH_SECONDS", 5);
    let (dir, url) = common::scratch()?;
    let hello_port = free_port()?;
    let _hello = Stop(
        Command::new(std::env::current_exe()?)
            .env("BENCH_HELLO_PORT", hello_port.to_string())
            .stdout(Stdio::null())
            .spawn()?,
    );
    let port = free_port()?;
    let service = Stop(serve(&url, port, &dir)?);
    let pid = service.0.id();
    let http = reqwest::Client::new();
    let (baseline, base) = (
        format!("http://127.0.0.1:{hello_port}/"),
        format!("http://127.0.0.1:{port}"),
    );
    wait_ready(&http, &baseline, "").await?;
    wait_ready(&http, &base, "/readyz").await?;
    println!(
        "wrk -c{CONNECTIONS}, {seconds} s a run, {ROUNDS} rounds A/B; idle service RSS {:.0} MiB",
        memory_mib(pid, "VmRSS:")
    );
    println!(
        "{:<22} {:>12} {:>12} {:>7} {:>9} {:>9} {:>7} {:>10}",
        "scenario", "hello req/s", "ours req/s", "ratio", "p50 ms", "p99 ms", "errors", "peak RSS"
    );
    let (mut pairs, mut rss_within) = (Vec::new(), true);
    for path in ["/", "/healthz"] {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        reset_peak(pid);
        for _ in 0..ROUNDS {
            a.push(wrk(&baseline, seconds)?);
            b.push(wrk(&format!("{base}{path}"), seconds)?);
        }
        let peak = memory_mib(pid, "VmHWM:");
        let (rps_a, rps_b) = (median(&a, |r| r.rps), median(&b, |r| r.rps));
        let (p50, p99) = (median(&b, |r| r.p50_ms), median(&b, |r| r.p99_ms));
        let errors: u64 = b.iter().map(|r| r.errors).sum();
        println!(
            "GET {path:<18} {rps_a:>12.0} {rps_b:>12.0} {:>7.2} {p50:>9.2} {p99:>9.2} {errors:>7} {peak:>6.0} MiB",
            rps_b / rps_a
        );
        pairs.push(
            Pair::new(
                "http",
                &format!("GET {path}, wrk -c{CONNECTIONS}, peak RSS {peak:.0} MiB"),
                "axum hello-world",
                "req/s",
            )
            .latency(p50, p99)
            .errors(errors)
            .rates(rps_a, rps_b, 0.6, None),
        );
        rss_within &= peak <= 50.0;
    }
    for pair in &mut pairs {
        pair.met &= rss_within;
        pair.goal.push_str(", peak RSS ≤ 50 MiB");
    }
    publish("http", &pairs)?;
    drop(service);
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}
