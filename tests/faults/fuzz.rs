//! Random hostile input on every route: each form field and query parameter gets values
//! from a corpus of what breaks services (NUL, control and bidi characters, huge and
//! negative numbers, dates that do not exist, quotes, long strings, invalid UTF-8 in
//! percent-encoding), sent by an anonymous visitor, the applicant and school staff with
//! their real CSRF tokens. No answer may be a 5xx.

use std::collections::BTreeMap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;

use crate::Size;
use crate::instance::Backend;
use crate::matrix::{MATRIX, Visitors};
use crate::report::Row;
use crate::scenarios::Rig;

/// The parameters each route reads (query for GET, form for POST).
fn parameters(route: &str) -> &'static [&'static str] {
    match route {
        "/api/v1/organizations" => &["org_type", "municipality_id", "locality", "q"],
        "/login/esia" => &["role", "next"],
        "/login/esia/callback" => &["code", "state", "error", "error_description"],
        "/link" => &["code"],
        "/appeals/new" | "/appeals/form" => &[
            "region_id",
            "municipality_id",
            "locality",
            "org_type",
            "organization_id",
        ],
        "/appeals" => &[
            "region_id",
            "municipality_id",
            "locality",
            "org_type",
            "organization_id",
            "child_id",
            "class_id",
            "comment",
            "submission_id",
            "repeat_reason",
            "confirm",
        ],
        "/appeals/{number}/reply" | "/staff/appeals/{number}/notes" => &["text"],
        "/staff/choose" => &["staff_id"],
        "/staff/inbox" => &[
            "status", "class_id", "assignee", "overdue", "from", "to", "q", "sort", "cursor",
        ],
        "/staff/inbox/bulk" => &[
            "number", "version", "action", "staff_id", "status", "text", "confirm",
        ],
        "/staff/settings" => &["notify_digest"],
        "/staff/mail/requeue" => &["id"],
        "/staff/appeals/{number}/status" => {
            &["status", "resolution", "version", "confirm_unlinked"]
        }
        "/staff/appeals/{number}/assign" => &["staff_id", "version"],
        "/staff/appeals/{number}/forward" => &["organization_id", "resolution", "version"],
        "/staff/appeals/{number}/link" => &[
            "mode",
            "roster_person_id",
            "version",
            "confirm",
            "message",
            "reason",
        ],
        "/staff/roster/{id}/binding-code" => &["number"],
        _ => &["q"],
    }
}

const CORPUS: &[&str] = &[
    "",
    " ",
    "0",
    "-1",
    "1",
    "2147483648",
    "99999999999999999999999",
    "1e308",
    "NaN",
    "null",
    "true",
    "2026-02-30",
    "31.12.1899",
    "0000-00-00",
    "2026-000001",
    "2026-999999",
    "'; DROP TABLE appeals; --",
    "\" OR 1=1 --",
    "<script>alert(1)</script>",
    "{{7*7}}",
    "../../etc/passwd",
    "a\0b",
    "\0",
    "line\r\nX-Injected: 1",
    "\u{202e}gnp.exe",
    "\u{200b}\u{feff}",
    "Ёлкина Алёна",
    "😀😀😀",
    "%00%ff%fe",
    "resolved",
    "in_progress",
    "fix",
    "add",
    "general",
    "парент",
    "00000000-0000-0000-0000-000000000000",
];

/// A value; `long` is how long a string may get (a URL cannot carry what a form can).
fn value(rng: &mut StdRng, v: &Visitors, long: usize) -> String {
    match rng.random_range(0..10) {
        0 => "А".repeat(rng.random_range(1..long)),
        1 => v.organization_id.clone(),
        2 => v.number.clone(),
        3 => rng.random::<i64>().to_string(),
        4 => (0..rng.random_range(1..40))
            .map(|_| char::from_u32(rng.random_range(0..0x3000)).unwrap_or('?'))
            .collect(),
        _ => CORPUS[rng.random_range(0..CORPUS.len())].to_string(),
    }
}

pub async fn fuzz(backend: Backend, size: Size) -> Result<Row, String> {
    let rig = Rig::start(backend, "fuzz").await?;
    let v = Visitors::sign_in(&rig).await?;
    // The anonymous visitor, the applicant and the school's staff; logout stays out, so
    // every request is made inside a live session.
    let visitors = [0usize, 1, 3];
    let routes: Vec<(&str, &str)> = MATRIX
        .iter()
        .filter(|(_, r, _)| *r != "/logout")
        .map(|(m, r, _)| (*m, *r))
        .collect();
    let mut rng = StdRng::seed_from_u64(0x0a99_ea15);
    let mut row = Row::default();
    let mut by_status: BTreeMap<u16, u64> = BTreeMap::new();
    let mut failures: Vec<String> = Vec::new();
    let total = size.fuzz_requests;
    let mut batch = tokio::task::JoinSet::new();
    for n in 0..total {
        let (method, route) = routes[rng.random_range(0..routes.len())];
        let who = visitors[rng.random_range(0..visitors.len())];
        let mut path = v.concrete(route);
        if route.contains('{') && rng.random_bool(0.3) {
            let junk = value(&mut rng, &v, 1_000);
            let encoded: String = url::form_urlencoded::byte_serialize(junk.as_bytes()).collect();
            path = path.replace(&v.number, &encoded);
        }
        let path = path.split('?').next().unwrap_or_default().to_string();
        // Each Cyrillic letter takes 6 bytes in a URL, which may not pass 64 KiB.
        let long = if method == "POST" { 20_000 } else { 1_000 };
        let mut fields: Vec<(String, String)> = Vec::new();
        for p in parameters(route) {
            if rng.random_bool(0.7) {
                fields.push((p.to_string(), value(&mut rng, &v, long)));
            }
        }
        if rng.random_bool(0.1) {
            fields.push(("unexpected".into(), value(&mut rng, &v, long)));
        }
        let client = v.browsers[who].clone();
        let url = rig.site.at(&path);
        let request = if method == "POST" {
            if rng.random_bool(0.85) {
                fields.push(("csrf_token".into(), v.csrf[who].clone()));
            }
            client.post(url).form(&fields)
        } else {
            client.get(url).query(&fields)
        };
        let label = format!("{method} {route}");
        batch.spawn(async move {
            // A connection the server closed after refusing an oversized request can be
            // picked from the pool just then; a browser retries such a request once.
            let again = request.try_clone();
            let mut answer = request.send().await;
            if let (Err(e), Some(again)) = (&answer, again)
                && e.is_request()
            {
                answer = again.send().await;
            }
            (label, fields, answer.map(|r| r.status()))
        });
        if batch.len() >= 8 || n + 1 == total {
            while let Some(done) = batch.join_next().await {
                let (label, fields, status) = done.map_err(|e| e.to_string())?;
                let fields: Vec<(String, String)> = fields
                    .into_iter()
                    .map(|(k, v)| (k, v.chars().take(40).collect()))
                    .collect();
                row.requests += 1;
                match status {
                    Ok(s) => {
                        *by_status.entry(s.as_u16()).or_default() += 1;
                        if s.is_server_error() {
                            row.server_errors += 1;
                            failures.push(format!("{label} {fields:?} → {s}"));
                        }
                    }
                    Err(e) => failures.push(format!("no answer ({e:?}): {label} {fields:?}")),
                }
            }
        }
    }
    let unanswered = failures
        .iter()
        .filter(|f| f.starts_with("no answer"))
        .count();
    row.check(unanswered == 0, || {
        format!("{unanswered} requests got no answer")
    });
    for f in failures.iter().take(5) {
        row.problems.push(f.chars().take(300).collect());
    }
    row.note(format!(
        "answers: {}",
        by_status
            .iter()
            .map(|(s, n)| format!("{s}×{n}"))
            .collect::<Vec<_>>()
            .join(" ")
    ));
    let alive = rig.site.page(&v.browsers[1], "/my/appeals").await?.0;
    row.check(alive == StatusCode::OK, || {
        format!("the applicant's page after the run: {alive}")
    });
    rig.finish(&mut row).await;
    Ok(row)
}
