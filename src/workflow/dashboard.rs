//! The operators' and school administrators' dashboard: appeals by status and
//! organization, the time to answer, the overdue share, and the daily count of the last
//! 90 days — all within the actor's scope.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate, Utc};

use super::admin::require_admin;
use super::staff::StaffActor;
use super::{Result, Workflow};
use crate::domain::status::Status;
use crate::store::{dashboard, directory};

/// How many days the chart shows.
pub const CHART_DAYS: i64 = 90;

pub struct OrganizationLine {
    pub id: i32,
    pub name: String,
    /// Per status, in [`Status::ALL`] order.
    pub by_status: Vec<i64>,
    pub total: i64,
    pub overdue: i64,
}

pub struct Dashboard {
    pub organizations: Vec<OrganizationLine>,
    pub totals: Vec<i64>,
    pub total: i64,
    pub open: i64,
    pub overdue: i64,
    /// Days from registration to the answer: median and 90th percentile.
    pub median_days: Option<f64>,
    pub p90_days: Option<f64>,
    pub answered: usize,
    /// Appeals registered each day of the last [`CHART_DAYS`], oldest first.
    pub per_day: Vec<(NaiveDate, u32)>,
}

/// The value at `q` (0..=1) of sorted `values`, by the nearest rank.
fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

pub async fn dashboard(wf: &Workflow, actor: &StaffActor) -> Result<Dashboard> {
    require_admin(actor)?;
    let db = wf.db();
    let now = Utc::now();
    let names: BTreeMap<i32, String> = directory::organizations_in_scope(db, actor.scope)
        .await?
        .into_iter()
        .map(|(o, _)| (o.id, o.name))
        .collect();
    let overdue: BTreeMap<i32, i64> = dashboard::overdue(db, actor.scope, now)
        .await?
        .into_iter()
        .collect();
    let mut lines: BTreeMap<i32, OrganizationLine> = BTreeMap::new();
    for (org, status, n) in dashboard::counts(db, actor.scope).await? {
        let line = lines.entry(org).or_insert_with(|| OrganizationLine {
            id: org,
            name: names.get(&org).cloned().unwrap_or_default(),
            by_status: vec![0; Status::ALL.len()],
            total: 0,
            overdue: overdue.get(&org).copied().unwrap_or(0),
        });
        if let Some(i) = Status::ALL.iter().position(|s| *s == status) {
            line.by_status[i] += n;
        }
        line.total += n;
    }
    let mut organizations: Vec<OrganizationLine> = lines.into_values().collect();
    organizations.sort_by(|a, b| b.total.cmp(&a.total).then(a.name.cmp(&b.name)));
    let mut totals = vec![0; Status::ALL.len()];
    for line in &organizations {
        for (t, n) in totals.iter_mut().zip(&line.by_status) {
            *t += n;
        }
    }
    let open = Status::ALL
        .iter()
        .zip(&totals)
        .filter(|(s, _)| s.is_open())
        .map(|(_, n)| n)
        .sum();
    let mut days: Vec<f64> = dashboard::answered(db, actor.scope)
        .await?
        .into_iter()
        .map(|(registered, answered)| (answered - registered).num_minutes() as f64 / 1440.0)
        .collect();
    days.sort_by(f64::total_cmp);
    let today = wf.today();
    let first = today - Duration::days(CHART_DAYS - 1);
    let start = first
        .and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(wf.offset()).single())
        .map_or(now - Duration::days(CHART_DAYS), |t| t.with_timezone(&Utc));
    let mut per_day: BTreeMap<NaiveDate, u32> = (0..CHART_DAYS)
        .filter_map(|i| first.checked_add_days(chrono::Days::new(i as u64)))
        .map(|d| (d, 0))
        .collect();
    for at in dashboard::registered_since(db, actor.scope, start).await? {
        if let Some(n) = per_day.get_mut(&at.with_timezone(&wf.offset()).date_naive()) {
            *n += 1;
        }
    }
    Ok(Dashboard {
        total: totals.iter().sum(),
        overdue: overdue.values().sum(),
        open,
        median_days: percentile(&days, 0.5),
        p90_days: percentile(&days, 0.9),
        answered: days.len(),
        per_day: per_day.into_iter().collect(),
        organizations,
        totals,
    })
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.5), Some(5.0));
        assert_eq!(percentile(&v, 0.9), Some(9.0));
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(percentile(&[3.0], 0.9), Some(3.0));
    }
}
