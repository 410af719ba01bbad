//! One row per baseline/ours pair, in the same shape for every harness: printed as JSON
//! lines and kept under `target/bench-results/`, where `cargo bench --bench summary`
//! gathers the last run of each harness into one table.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Pair {
    /// The harness that measured it.
    pub bench: String,
    pub scenario: String,
    /// What ours is compared with.
    pub baseline: String,
    /// The unit of the two figures: a rate (`req/s`) or a latency (`ms p99`).
    pub unit: String,
    pub baseline_value: f64,
    pub ours_value: f64,
    /// Ours over the baseline.
    pub ratio: f64,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub errors: u64,
    /// The goal for this pair, in words, and whether this run met it.
    pub goal: String,
    pub met: bool,
    /// When it was measured (UTC, RFC 3339).
    pub at: String,
}

/// Ours over the baseline; 0 when the baseline measured nothing (JSON has no infinity).
fn ratio(ours: f64, baseline: f64) -> f64 {
    if baseline > 0.0 { ours / baseline } else { 0.0 }
}

impl Pair {
    pub fn new(bench: &str, scenario: &str, baseline: &str, unit: &str) -> Pair {
        Pair {
            bench: bench.into(),
            scenario: scenario.into(),
            baseline: baseline.into(),
            unit: unit.into(),
            at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            ..Pair::default()
        }
    }

    fn figures(&mut self, baseline: f64, ours: f64) {
        self.baseline_value = baseline;
        self.ours_value = ours;
        self.ratio = ratio(ours, baseline);
    }

    /// Rates, where more is better: met when ours reaches `min_ratio` of the baseline
    /// with no errors and, if given, a p99 within `max_p99_ms`.
    pub fn rates(
        mut self,
        baseline: f64,
        ours: f64,
        min_ratio: f64,
        max_p99_ms: Option<f64>,
    ) -> Pair {
        self.figures(baseline, ours);
        let within = match (max_p99_ms, self.p99_ms) {
            (Some(max), Some(p99)) => p99 <= max,
            (Some(_), None) => false,
            (None, _) => true,
        };
        self.met = self.ratio >= min_ratio && within && self.errors == 0;
        self.goal = match max_p99_ms {
            Some(max) => format!("ratio ≥ {min_ratio}, p99 ≤ {max} ms"),
            None => format!("ratio ≥ {min_ratio}"),
        };
        self
    }

    /// Rates where the goal is ours reaching `min` per second, whatever the baseline does.
    pub fn rate_floor(mut self, baseline: f64, ours: f64, min: f64) -> Pair {
        self.figures(baseline, ours);
        self.met = ours >= min && self.errors == 0;
        self.goal = format!("≥ {min} {}", self.unit);
        self
    }

    /// p99 latencies, where less is better: met when ours is at most `max_ratio` times
    /// the baseline and at most `max_ms`.
    pub fn p99s(mut self, baseline: f64, ours: f64, max_ratio: f64, max_ms: f64) -> Pair {
        self.figures(baseline, ours);
        self.p99_ms = Some(ours);
        self.met = self.ratio <= max_ratio && ours <= max_ms && self.errors == 0;
        self.goal = format!("ratio ≤ {max_ratio}, p99 ≤ {max_ms} ms");
        self
    }

    /// Ours' latencies; set before [`Pair::rates`], which checks the p99.
    pub fn latency(mut self, p50_ms: f64, p99_ms: f64) -> Pair {
        self.p50_ms = Some(p50_ms);
        self.p99_ms = Some(p99_ms);
        self
    }

    /// Ours' failed operations; set before [`Pair::rates`].
    pub fn errors(mut self, errors: u64) -> Pair {
        self.errors = errors;
        self
    }
}

/// Where the harnesses leave their last rows.
pub fn folder() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
        .join("bench-results")
}

/// Prints `pairs` as JSON lines and keeps them as this harness's last run.
pub fn publish(bench: &str, pairs: &[Pair]) -> anyhow::Result<()> {
    for pair in pairs {
        println!("{}", serde_json::to_string(pair)?);
    }
    std::fs::create_dir_all(folder())?;
    std::fs::write(
        folder().join(format!("{bench}.json")),
        serde_json::to_string_pretty(pairs)?,
    )?;
    Ok(())
}
