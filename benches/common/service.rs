//! The real service in a process of its own, as `cargo run` starts it, for the harnesses
//! that measure it from outside (HTTP load, export, peak memory).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::header::LOCATION;

/// One figure of `/proc/<pid>/status` in MiB (`VmRSS`, `VmHWM`).
pub fn memory_mib(pid: u32, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Starts the peak-RSS count of `pid` afresh (Linux: «5» to clear_refs).
pub fn reset_peak(pid: u32) {
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
}

pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// The service as `cargo run` starts it, on this database, its log thrown away.
pub fn serve(url: &str, port: u16, dir: &Path) -> anyhow::Result<Child> {
    Ok(Command::new(env!("CARGO_BIN_EXE_appeals"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("APPEALS_ENV", "test")
        .env("APPEALS__SERVER__PORT", port.to_string())
        .env("APPEALS__DATABASE__URL", url)
        .env("APPEALS__MAIL__MAILBOX_DIR", dir.join("mailbox"))
        .env("APPEALS__RETENTION__EVERY_HOURS", "0")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?)
}

/// Waits until `base` answers `path` with a success, for up to 60 s.
pub async fn wait_ready(http: &reqwest::Client, base: &str, path: &str) -> anyhow::Result<()> {
    for _ in 0..600 {
        if http
            .get(format!("{base}{path}"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("{base} did not get ready in 60 s")
}

/// The ESIA round trip through the built-in emulator as `persona` in `role`; returns the
/// page it lands on.
pub async fn sign_in(
    http: &reqwest::Client,
    base: &str,
    role: &str,
    persona: &str,
) -> anyhow::Result<String> {
    let mut next = format!("{base}/login/esia?role={role}");
    for hop in 0..3 {
        let url = match hop {
            1 => format!("{next}&persona={persona}"),
            _ => next.clone(),
        };
        let resp = http.get(&url).send().await?;
        let to = resp
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| anyhow::anyhow!("sign-in hop {hop}: {}", resp.status()))?;
        next = if to.starts_with('/') {
            format!("{base}{to}")
        } else {
            to.to_string()
        };
    }
    Ok(next)
}
