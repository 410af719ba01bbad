//! Benchmark summary: the last run of every harness that keeps its pairs
//! (`common::results`), in one table and as JSON lines — scenario, baseline, ours,
//! ratio, p50, p99, errors and whether the goal was met.
//!
//! `cargo bench --bench scale --bench submit --bench http --bench mail` measures;
//! `cargo bench --bench summary` then prints what they left in `target/bench-results/`.

#[allow(dead_code)]
mod common;

use common::results::{Pair, folder};

/// The harnesses in the order of the goals.
const ORDER: [&str; 4] = ["scale", "submit", "http", "mail"];

fn figure(v: Option<f64>) -> String {
    v.map_or_else(|| "—".into(), |v| format!("{v:.2}"))
}

fn main() -> anyhow::Result<()> {
    let mut pairs: Vec<Pair> = Vec::new();
    let mut missing = Vec::new();
    for bench in ORDER {
        let read = std::fs::read_to_string(folder().join(format!("{bench}.json")))
            .ok()
            .and_then(|text| serde_json::from_str::<Vec<Pair>>(&text).ok());
        match read {
            Some(these) => pairs.extend(these),
            None => missing.push(bench),
        }
    }
    println!(
        "| harness | scenario | baseline | unit | baseline | ours | ratio | p50 ms | p99 ms | errors | goal | met | measured |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for p in &pairs {
        println!(
            "| {} | {} | {} | {} | {:.2} | {:.2} | {:.2} | {} | {} | {} | {} | {} | {} |",
            p.bench,
            p.scenario,
            p.baseline,
            p.unit,
            p.baseline_value,
            p.ours_value,
            p.ratio,
            figure(p.p50_ms),
            figure(p.p99_ms),
            p.errors,
            p.goal,
            if p.met { "yes" } else { "no" },
            p.at
        );
    }
    if !missing.is_empty() {
        println!(
            "\nnot measured yet, or unreadable: {} (run `cargo bench --bench {}`)",
            missing.join(", "),
            missing.join(" --bench ")
        );
    }
    for p in &pairs {
        println!("{}", serde_json::to_string(p)?);
    }
    Ok(())
}
