//! `/staff/dashboard`: counts by status and organization, the time to answer, the overdue
//! share and a chart of the last 90 days drawn as SVG on the server (no scripts).

use askama::Template;
use axum::extract::State;
use axum::response::Html;

use crate::domain::status::Status;
use crate::web::AppState;
use crate::web::error::AppResult;
use crate::web::security::html;
use crate::web::session::StaffUser;
use crate::web::templates::{Layout, plural, ru_date};
use crate::workflow::dashboard::{self, Dashboard, OrganizationLine};

/// One bar of the chart, in the SVG's own units.
struct Bar {
    x: f64,
    y: f64,
    height: f64,
    /// «27.11.2026: 4» — the bar's tooltip and what a screen reader hears.
    title: String,
}

const CHART_WIDTH: f64 = 720.0;
const CHART_HEIGHT: f64 = 160.0;

#[derive(Template)]
#[template(path = "staff/dashboard.html")]
struct DashboardPage {
    layout: Layout,
    statuses: Vec<&'static str>,
    organizations: Vec<OrganizationLine>,
    totals: Vec<i64>,
    total: i64,
    open: i64,
    overdue: i64,
    overdue_share: String,
    /// The median and 90th-percentile days to answer, once there is an answer.
    time_to_answer: Option<(String, String)>,
    answered: usize,
    bars: Vec<Bar>,
    chart_width: f64,
    chart_height: f64,
    chart_max: u32,
    chart_from: String,
    chart_to: String,
    /// «12 обращений».
    chart_total: String,
}

fn days(d: f64) -> String {
    format!("{d:.1}").replace('.', ",")
}

fn bars(d: &Dashboard) -> (Vec<Bar>, u32) {
    let max = d.per_day.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let step = CHART_WIDTH / d.per_day.len().max(1) as f64;
    let bars = d
        .per_day
        .iter()
        .enumerate()
        .map(|(i, (day, n))| {
            let height = f64::from(*n) / f64::from(max) * (CHART_HEIGHT - 10.0);
            Bar {
                x: i as f64 * step,
                y: CHART_HEIGHT - height,
                height,
                title: format!("{}: {n}", ru_date(*day)),
            }
        })
        .collect();
    (bars, max)
}

pub(super) async fn get(State(state): State<AppState>, user: StaffUser) -> AppResult<Html<String>> {
    let d = dashboard::dashboard(&state.workflow, &user.actor).await?;
    let (bars, chart_max) = bars(&d);
    let share = if d.open > 0 {
        format!("{:.0} %", d.overdue as f64 * 100.0 / d.open as f64)
    } else {
        "—".into()
    };
    Ok(html(DashboardPage {
        layout: Layout::new(&user.session).await?,
        statuses: Status::ALL.iter().map(|s| s.label()).collect(),
        total: d.total,
        open: d.open,
        overdue: d.overdue,
        overdue_share: share,
        time_to_answer: d
            .median_days
            .zip(d.p90_days)
            .map(|(median, p90)| (days(median), days(p90))),
        answered: d.answered,
        chart_from: d
            .per_day
            .first()
            .map(|(day, _)| ru_date(*day))
            .unwrap_or_default(),
        chart_to: d
            .per_day
            .last()
            .map(|(day, _)| ru_date(*day))
            .unwrap_or_default(),
        chart_total: plural(
            d.per_day.iter().map(|(_, n)| i64::from(*n)).sum(),
            "обращение",
            "обращения",
            "обращений",
        ),
        totals: d.totals,
        organizations: d.organizations,
        bars,
        chart_width: CHART_WIDTH,
        chart_height: CHART_HEIGHT,
        chart_max,
    })?)
}
