//! Personal-data retention (152-ФЗ): closed appeals older than the term are anonymised,
//! the staff access log is pruned after its own term. Run every day by the service and
//! on demand by `appeals retention run [--dry-run]`; running twice changes nothing more.

use chrono::{DateTime, Months, Utc};
use sea_orm::DbErr;

use super::Workflow;
use crate::domain::applicant::{Identity, LoginRole, Snapshot};
use crate::domain::names::PersonName;
use crate::store::{self, consents, retention};

/// The terms, in years.
#[derive(Debug, Clone, Copy)]
pub struct Terms {
    pub appeal_years: u32,
    pub access_log_years: u32,
}

/// How many rows a run touched.
#[derive(Debug, Default)]
pub struct Report {
    pub dry_run: bool,
    pub appeals: u64,
    pub events: u64,
    pub mails: u64,
    pub access_log: u64,
    pub consents: u64,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.dry_run {
            writeln!(f, "Проверка без записи: так будет при запуске.")?;
        }
        writeln!(f, "Обезличено обращений: {}", self.appeals)?;
        writeln!(f, "  записей истории: {}", self.events)?;
        writeln!(f, "  писем: {}", self.mails)?;
        writeln!(f, "Удалено записей журнала доступа: {}", self.access_log)?;
        writeln!(f, "Удалено согласий на обработку данных: {}", self.consents)
    }
}

/// Appeals per transaction: a region's first run may meet years of them.
const BATCH: u64 = 500;

fn years_before(now: DateTime<Utc>, years: u32) -> DateTime<Utc> {
    now.checked_sub_months(Months::new(years.saturating_mul(12)))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// A snapshot nobody can read any more still loses its data.
fn anonymized_snapshot(stored: &str, role: &str) -> String {
    let snapshot = serde_json::from_str::<Snapshot>(stored).map(|s| s.anonymized());
    let snapshot = snapshot.unwrap_or_else(|_| Snapshot {
        identity: Identity {
            oid: String::new(),
            role: LoginRole::parse(role).unwrap_or(LoginRole::Parent),
            name: PersonName::new("Обезличено", "", ""),
            birth_date: chrono::NaiveDate::MIN,
            snils: None,
            email: None,
            unverified_email: None,
            confirmed: false,
        },
        child: None,
        email_from_applicant: false,
    });
    serde_json::to_string(&snapshot).unwrap_or_default()
}

pub async fn run(wf: &Workflow, terms: Terms, dry_run: bool) -> Result<Report, DbErr> {
    let now = Utc::now();
    let cutoff = years_before(now, terms.appeal_years);
    let mut report = Report {
        dry_run,
        ..Report::default()
    };
    loop {
        // A dry run does everything in one transaction and rolls it back, so its counts
        // are exactly what a run would do.
        let txn = store::begin_write(wf.db()).await?;
        let mut done = 0;
        loop {
            let batch = retention::due_for_anonymizing(&txn, cutoff, BATCH).await?;
            if batch.is_empty() {
                break;
            }
            for a in &batch {
                let snapshot = anonymized_snapshot(&a.snapshot, &a.applicant_role);
                let touched = retention::anonymize(&txn, a, snapshot, now).await?;
                report.appeals += 1;
                report.events += touched.events;
                report.mails += touched.mails;
            }
            done += batch.len();
            if !dry_run {
                break;
            }
        }
        if dry_run {
            prune(&txn, &mut report, now, terms).await?;
            txn.rollback().await?;
            return Ok(report);
        }
        txn.commit().await?;
        if done == 0 {
            break;
        }
    }
    prune(wf.db(), &mut report, now, terms).await?;
    Ok(report)
}

/// What is deleted outright: old access-log entries, and the consents of people no
/// appeal names any more (the appeals keep which wording and when).
async fn prune(
    db: &impl sea_orm::ConnectionTrait,
    report: &mut Report,
    now: DateTime<Utc>,
    terms: Terms,
) -> Result<(), DbErr> {
    report.access_log =
        retention::prune_access_log(db, years_before(now, terms.access_log_years)).await?;
    report.consents = consents::prune(db, years_before(now, terms.appeal_years)).await?;
    Ok(())
}
