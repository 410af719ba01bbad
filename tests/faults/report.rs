//! One row per scenario and database, and the table they make.

use std::collections::HashMap;
use std::time::Duration;

use crate::instance::{Backend, Ledger};
use crate::smtp::Sink;

#[derive(Default)]
pub struct Row {
    pub scenario: String,
    pub backend: &'static str,
    pub requests: u64,
    pub acknowledged: u64,
    pub found: u64,
    pub mails_owed: i64,
    pub mails_delivered: i64,
    pub duplicates: u64,
    /// 5xx answers the scenario did not expect (a 503 while the database is cut off is
    /// expected; a 500 never is).
    pub server_errors: u64,
    /// Scenario-specific checks that failed, in words.
    pub problems: Vec<String>,
    /// What else the scenario measured, in words.
    pub notes: Vec<String>,
    pub skipped: Option<&'static str>,
    pub took: Duration,
    /// Times the service was killed with SIGKILL.
    pub kills: u64,
}

/// Rows the mail worker holds sending or sent and not yet marked: a kill can catch this
/// many messages accepted by the SMTP server but not marked sent. They go out again with
/// the same Message-ID (SMTP has no way to ask whether a message arrived), which receivers
/// that deduplicate by Message-ID fold; any more than this per kill is a duplicate. Taken
/// from the worker itself, so the bound cannot drift from what it does.
const SENDS_IN_FLIGHT: u64 = appeals::mail::worker::CONCURRENCY as u64;

impl Row {
    pub fn broken(why: String) -> Row {
        Row {
            problems: vec![format!("could not run: {why}")],
            ..Row::default()
        }
    }

    pub fn skipped(why: &'static str) -> Row {
        Row {
            skipped: Some(why),
            ..Row::default()
        }
    }

    pub fn named(mut self, scenario: &str, backend: Backend, took: Duration) -> Row {
        self.scenario = scenario.to_string();
        self.backend = backend.name();
        self.took = took;
        self
    }

    /// Records a failed check unless `ok`.
    pub fn check(&mut self, ok: bool, problem: impl FnOnce() -> String) {
        if !ok {
            self.problems.push(problem());
        }
    }

    pub fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    pub fn passed(&self) -> bool {
        self.problems.is_empty()
            && self.server_errors == 0
            && self.duplicates == 0
            && self.found == self.acknowledged
            && self.mails_delivered == self.mails_owed
    }

    fn verdict(&self) -> String {
        if let Some(why) = self.skipped {
            return format!("skipped: {why}");
        }
        if self.passed() {
            return "ok".into();
        }
        let mut why = self.problems.clone();
        if self.found != self.acknowledged {
            why.push(format!(
                "{} acknowledged appeals missing",
                self.acknowledged.saturating_sub(self.found)
            ));
        }
        if self.mails_delivered != self.mails_owed {
            why.push(format!(
                "{} of {} mails delivered",
                self.mails_delivered, self.mails_owed
            ));
        }
        if self.duplicates > 0 {
            why.push(format!("{} duplicates", self.duplicates));
        }
        if self.server_errors > 0 {
            why.push(format!("{} unexpected 5xx", self.server_errors));
        }
        format!("FAIL: {}", why.join("; "))
    }

    pub fn line(&self) -> String {
        let mut line = format!(
            "[{:>5.1} s] {} / {}: {}",
            self.took.as_secs_f64(),
            self.scenario,
            self.backend,
            self.verdict()
        );
        if !self.notes.is_empty() {
            line.push_str(&format!(" ({})", self.notes.join("; ")));
        }
        line
    }

    /// Waits for the outbox to settle, then compares it with what the sink accepted:
    /// every row owed is delivered exactly once, none is marked sent that never arrived.
    pub async fn account_mail(&mut self, ledger: &Ledger, sink: &Sink, within: Duration) {
        let settled = ledger.wait_mail_settled(within).await;
        self.check(settled, || format!("mail still queued after {within:?}"));
        let outbox = ledger.outbox().await;
        let accepted = accepted_by_outbox_id(sink);
        let ids = |status: &str| outbox.get(status).map(|s| s.1.clone()).unwrap_or_default();
        self.mails_owed = outbox.values().map(|s| s.0).sum();
        self.mails_delivered = outbox
            .values()
            .flat_map(|s| s.1.iter())
            .filter(|id| accepted.contains_key(id))
            .count() as i64;
        let again = accepted.values().map(|n| (n - 1) as u64).sum::<u64>();
        let allowed = self.kills * SENDS_IN_FLIGHT;
        if again > 0 && allowed > 0 {
            self.note(format!(
                "{again} mails in flight at the kill sent again with the same Message-ID (at most {allowed} allowed)"
            ));
        }
        self.duplicates += again.saturating_sub(allowed);
        let sent_unseen = ids("sent")
            .iter()
            .filter(|id| !accepted.contains_key(id))
            .count();
        self.check(sent_unseen == 0, || {
            format!("{sent_unseen} mails marked sent never reached the server")
        });
        let dead = ids("dead").len();
        self.check(dead == 0, || format!("{dead} mails dead"));
    }
}

/// Outbox id → times the sink accepted its message.
fn accepted_by_outbox_id(sink: &Sink) -> HashMap<i64, usize> {
    sink.accepted()
        .into_iter()
        .filter_map(|(message_id, n)| {
            let id = message_id
                .strip_prefix("<appeals-outbox-")?
                .split('@')
                .next()?
                .parse()
                .ok()?;
            Some((id, n))
        })
        .collect()
}

pub fn table(rows: &[Row], full: bool, took: Duration) -> String {
    let header = [
        "scenario",
        "database",
        "requests",
        "acknowledged",
        "found",
        "mails owed",
        "mails delivered",
        "duplicates",
        "5xx",
        "verdict",
    ];
    let mut lines = vec![
        format!(
            "Fault suite ({} sizes), {:.0} s",
            if full { "full" } else { "quick" },
            took.as_secs_f64()
        ),
        String::new(),
        format!("| {} |", header.join(" | ")),
        format!("|{}", "---|".repeat(header.len())),
    ];
    for r in rows {
        lines.push(format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.scenario,
            r.backend,
            r.requests,
            r.acknowledged,
            r.found,
            r.mails_owed,
            r.mails_delivered,
            r.duplicates,
            r.server_errors,
            r.verdict()
        ));
    }
    let notes: Vec<String> = rows
        .iter()
        .filter(|r| !r.notes.is_empty())
        .map(|r| format!("- {} / {}: {}", r.scenario, r.backend, r.notes.join("; ")))
        .collect();
    if !notes.is_empty() {
        lines.push(String::new());
        lines.extend(notes);
    }
    lines.join("\n")
}
