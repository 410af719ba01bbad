//! Every route of the service against every kind of visitor, and every POST without its
//! CSRF token. The routes are read from the source (`.route(...)` in `src/web/`), so a
//! route added without a line in [`MATRIX`] fails the suite.

use std::collections::BTreeSet;
use std::path::Path;

use reqwest::{Client, StatusCode};

use crate::Size;
use crate::instance::{Backend, Ledger};
use crate::report::Row;
use crate::scenarios::Rig;
use crate::web::{Filing, Outcome, PARENT, Site, hidden_value};

/// The visitors, in the order of the letters in [`MATRIX`].
pub const PERSONAS: [&str; 7] = [
    "anonymous",
    "parent (the applicant)",
    "another parent",
    "staff of school 1",
    "staff of school 2",
    "municipal operator",
    "administrator",
];

/// Method, route, and what each visitor of [`PERSONAS`] must get: `O` a page or a
/// redirect (2xx/3xx), `D` a refusal (401, 403 or 404), `A` any answer but a 5xx (the
/// form is sent empty, so an allowed visitor may get a 400 or 422 about its fields).
pub const MATRIX: &[(&str, &str, &str)] = &[
    ("GET", "/", "OOOOOOO"),
    ("GET", "/healthz", "OOOOOOO"),
    ("GET", "/readyz", "OOOOOOO"),
    ("GET", "/metrics", "OOOOOOO"),
    ("GET", "/static/app.css", "OOOOOOO"),
    ("GET", "/static/form.js", "OOOOOOO"),
    ("GET", "/api/v1/regions/{id}/municipalities", "OOOOOOO"),
    ("GET", "/api/v1/municipalities/{id}/localities", "OOOOOOO"),
    ("GET", "/api/v1/organizations", "OOOOOOO"),
    ("GET", "/api/v1/organizations/{id}/classes", "OOOOOOO"),
    ("GET", "/login/esia", "OOOOOOO"),
    ("GET", "/login/esia/callback", "AAAAAAA"),
    ("GET", "/dev/mailbox", "AAAAAAA"),
    ("GET", "/dev/mailbox/{id}", "AAAAAAA"),
    ("GET", "/home", "DOODDDD"),
    ("GET", "/no-account", "DOODDDD"),
    ("GET", "/link", "DOODDDD"),
    ("POST", "/link", "DAADDDD"),
    ("GET", "/appeals/new", "DOODDDD"),
    ("GET", "/appeals/consent", "DOODDDD"),
    ("POST", "/appeals/consent", "DAADDDD"),
    ("GET", "/appeals/form", "DOODDDD"),
    ("POST", "/appeals/form", "DAADDDD"),
    ("POST", "/appeals", "DAADDDD"),
    ("GET", "/appeals/{number}", "DODDDDD"),
    ("POST", "/appeals/{number}/reply", "DADDDDD"),
    ("GET", "/my/appeals", "DOODDDD"),
    ("GET", "/staff", "OOOOOOO"),
    ("GET", "/staff/choose", "DDDOOOO"),
    ("POST", "/staff/choose", "DDDAAAA"),
    ("GET", "/staff/inbox", "DDDOOOO"),
    ("POST", "/staff/inbox/bulk", "DDDAAAA"),
    ("GET", "/staff/inbox/export", "DDDOOOO"),
    ("GET", "/staff/dashboard", "DDDDDOO"),
    ("GET", "/staff/settings", "DDDOOOO"),
    ("POST", "/staff/settings", "DDDAAAA"),
    ("GET", "/staff/mail", "DDDDDDO"),
    ("POST", "/staff/mail/requeue", "DDDDDDA"),
    ("GET", "/staff/appeals/{number}", "DDDODOO"),
    ("POST", "/staff/appeals/{number}/status", "DDDADAA"),
    ("POST", "/staff/appeals/{number}/assign", "DDDADAA"),
    ("POST", "/staff/appeals/{number}/notes", "DDDADAA"),
    ("POST", "/staff/appeals/{number}/forward", "DDDADAA"),
    ("POST", "/staff/appeals/{number}/link", "DDDADAA"),
    ("POST", "/staff/appeals/{number}/extend", "DDDADAA"),
    ("POST", "/staff/roster/{id}/binding-code", "DDDADAA"),
    ("GET", "/s/{token}", "DDDDDDD"),
    ("GET", "/admin", "OOOOOOO"),
    ("GET", "/admin/imports", "DDDDDOO"),
    ("POST", "/admin/imports", "DDDDDAA"),
    ("GET", "/admin/imports/{id}", "DDDDDAA"),
    ("POST", "/admin/imports/{id}/apply", "DDDDDAA"),
    ("POST", "/admin/imports/{id}/discard", "DDDDDAA"),
    ("GET", "/admin/imports/{id}/report", "DDDDDAA"),
    ("GET", "/admin/organizations", "DDDDDOO"),
    ("GET", "/admin/organizations/{id}/roster", "DDDDDAA"),
    ("GET", "/admin/roster/{id}", "DDDDDAA"),
    ("GET", "/admin/staff", "DDDDDOO"),
    ("GET", "/admin/audit", "DDDDDOO"),
    ("GET", "/admin/person-data", "DDDDDDO"),
    // Last: it ends the visitor's session.
    ("POST", "/logout", "OOOOOOO"),
];

/// The routes the source declares, as (method, path).
pub fn declared_routes() -> Result<BTreeSet<(String, String)>, String> {
    let re = regex_lite::Regex::new(
        r#"\.route\(\s*"([^"]+)",\s*(?:axum::routing::)?(get|post)\([^)]*\)(?:\.(get|post)\()?"#,
    )
    .map_err(|e| e.to_string())?;
    let mut routes = BTreeSet::new();
    let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))? {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let source = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
                for c in re.captures_iter(&source) {
                    for method in [c.get(2), c.get(3)].into_iter().flatten() {
                        routes.insert((method.as_str().to_uppercase(), c[1].to_string()));
                    }
                }
            }
        }
    }
    Ok(routes)
}

/// The seven visitors signed in on one instance, and the ids the routes need.
pub struct Visitors {
    pub browsers: Vec<Client>,
    /// Each visitor's CSRF token (empty for the anonymous one).
    pub csrf: Vec<String>,
    pub number: String,
    pub organization_id: String,
    ids: [(String, i64); 3],
    roster_person: i64,
}

impl Visitors {
    pub async fn sign_in(rig: &Rig) -> Result<Visitors, String> {
        let site = &rig.site;
        let ledger = Ledger::open(&rig.db).await?;
        // The operator also holds an administrator record (a region's setup would).
        ledger
            .execute(
                "INSERT INTO staff (snils, last_name, first_name, middle_name, email, role, active) \
                 SELECT snils, last_name, first_name, middle_name, 'admin@edu.example.com', \
                 'admin', active FROM staff WHERE role = 'municipal_operator'",
            )
            .await?;
        let record = |role: &'static str| {
            let ledger = &ledger;
            async move {
                ledger
                    .count(&format!(
                        "SELECT MIN(id) AS n FROM staff WHERE role = '{role}'"
                    ))
                    .await
            }
        };
        let (operator, admin) = (record("municipal_operator").await, record("admin").await);
        let filing = Filing::of_demo(site).await?;
        let parent = site.person("parent", PARENT).await?;
        let Outcome::Acknowledged(number) = filing.file(site, &parent).await else {
            return Err("the appeal was not filed".into());
        };
        let roster_person = ledger
            .count(&format!(
                "SELECT MIN(id) AS n FROM roster_persons WHERE organization_id = {}",
                filing.organization_id
            ))
            .await;
        let ids = [
            (
                "regions".to_string(),
                ledger.count("SELECT MIN(id) AS n FROM regions").await,
            ),
            (
                "municipalities".to_string(),
                ledger
                    .count("SELECT MIN(id) AS n FROM municipalities")
                    .await,
            ),
            (
                "organizations".to_string(),
                filing.organization_id.parse().unwrap_or(0),
            ),
        ];
        ledger.close().await;
        let browsers = vec![
            crate::web::browser(),
            parent,
            site.person("parent", "parent-linked").await?,
            site.person("staff", "staff-school-1").await?,
            site.person("staff", "staff-school-2").await?,
            site.staff_as("operator-municipal", operator).await?,
            site.staff_as("operator-municipal", admin).await?,
        ];
        let mut csrf = Vec::new();
        for (i, who) in browsers.iter().enumerate() {
            let page = match i {
                0 => None,
                1 | 2 => Some("/my/appeals"),
                _ => Some("/staff/inbox"),
            };
            csrf.push(match page {
                None => String::new(),
                Some(p) => hidden_value(&site.page(who, p).await?.1, "csrf_token")
                    .ok_or(format!("no CSRF token for {}", PERSONAS[i]))?,
            });
        }
        Ok(Visitors {
            browsers,
            csrf,
            number,
            organization_id: filing.organization_id,
            ids,
            roster_person,
        })
    }

    /// The route with its placeholders filled with real ids, and the query it needs.
    pub fn concrete(&self, route: &str) -> String {
        let mut path = route.replace("{number}", &self.number);
        if route.starts_with("/api/") {
            for (table, id) in &self.ids {
                path = path.replace(&format!("/{table}/{{id}}"), &format!("/{table}/{id}"));
            }
        }
        path = path
            .replace("/roster/{id}", &format!("/roster/{}", self.roster_person))
            .replace("{id}", "1");
        match route {
            "/login/esia" => format!("{path}?role=parent"),
            "/appeals/form" => format!("{path}?organization_id={}", self.organization_id),
            _ => path,
        }
    }
}

fn meets(expect: char, status: StatusCode) -> bool {
    let refused = [
        StatusCode::UNAUTHORIZED,
        StatusCode::FORBIDDEN,
        StatusCode::NOT_FOUND,
    ]
    .contains(&status);
    match expect {
        'O' => status.is_success() || status.is_redirection(),
        'D' => refused,
        _ => !status.is_server_error(),
    }
}

pub async fn authorization_matrix(backend: Backend, _size: Size) -> Result<Row, String> {
    let mut row = Row::default();
    let declared = declared_routes()?;
    let listed: BTreeSet<(String, String)> = MATRIX
        .iter()
        .map(|(m, p, _)| (m.to_string(), p.to_string()))
        .collect();
    for (method, path) in declared.difference(&listed) {
        row.problems
            .push(format!("{method} {path} has no line in the matrix"));
    }
    for (method, path) in listed.difference(&declared) {
        row.problems
            .push(format!("{method} {path} is in the matrix but not served"));
    }
    let rig = Rig::start(backend, "matrix").await?;
    let v = Visitors::sign_in(&rig).await?;
    let mut cells = 0;
    for (method, route, expected) in MATRIX {
        for (i, expect) in expected.chars().enumerate() {
            let status = send(&rig.site, &v, i, method, route, true).await;
            cells += 1;
            row.requests += 1;
            match status {
                Some(s) if s.is_server_error() => row.server_errors += 1,
                Some(s) if meets(expect, s) => {}
                other => row.problems.push(format!(
                    "{method} {route} as {}: {other:?}, expected {expect}",
                    PERSONAS[i]
                )),
            }
        }
    }
    row.note(format!(
        "{} routes × {} visitors = {cells} cells",
        MATRIX.len(),
        PERSONAS.len()
    ));
    rig.finish(&mut row).await;
    Ok(row)
}

/// Sends `method route` as visitor `i`, with its CSRF token when `with_token`.
async fn send(
    site: &Site,
    v: &Visitors,
    i: usize,
    method: &str,
    route: &str,
    with_token: bool,
) -> Option<StatusCode> {
    let url = site.at(&v.concrete(route));
    let who = &v.browsers[i];
    let request = if method == "POST" {
        let token = if with_token {
            v.csrf[i].as_str()
        } else {
            "forged"
        };
        who.post(url).form(&[("csrf_token", token)])
    } else {
        who.get(url)
    };
    request.send().await.ok().map(|r| r.status())
}

/// Every POST route, as every visitor it is open to, once with a forged token and once
/// without one: refused with 403, and nothing in the database changed.
pub async fn csrf_on_every_post(backend: Backend, _size: Size) -> Result<Row, String> {
    let rig = Rig::start(backend, "csrf").await?;
    let v = Visitors::sign_in(&rig).await?;
    let ledger = Ledger::open(&rig.db).await?;
    let state = "SELECT (SELECT COUNT(*) FROM appeals) + (SELECT COUNT(*) FROM appeal_events) \
                 + (SELECT COUNT(*) FROM outbox) + (SELECT COUNT(*) FROM esia_links) \
                 + (SELECT COUNT(*) FROM binding_codes) + (SELECT COUNT(*) FROM staff_digest_items) \
                 + (SELECT COUNT(*) FROM staff WHERE notify_digest) AS n";
    let before = ledger.count(state).await;
    let mut row = Row::default();
    for (method, route, expected) in MATRIX.iter().filter(|(m, _, _)| *m == "POST") {
        for (i, expect) in expected.chars().enumerate() {
            if i == 0 || expect == 'D' {
                continue;
            }
            for forged in [true, false] {
                let url = rig.site.at(&v.concrete(route));
                let fields: &[(&str, &str)] = if forged {
                    &[("csrf_token", "forged")]
                } else {
                    &[]
                };
                let status = v.browsers[i]
                    .post(url)
                    .form(fields)
                    .send()
                    .await
                    .ok()
                    .map(|r| r.status());
                row.requests += 1;
                if status.is_some_and(|s| s.is_server_error()) {
                    row.server_errors += 1;
                } else if status != Some(StatusCode::FORBIDDEN) {
                    row.problems.push(format!(
                        "{method} {route} as {} {}: {status:?}",
                        PERSONAS[i],
                        if forged {
                            "with a forged token"
                        } else {
                            "without a token"
                        }
                    ));
                }
            }
        }
    }
    let after = ledger.count(state).await;
    row.check(before == after, || {
        format!("forged posts changed the database ({before} rows → {after})")
    });
    let still_in = rig.site.page(&v.browsers[1], "/my/appeals").await?.0;
    row.check(still_in == StatusCode::OK, || {
        format!("a forged logout ended the session ({still_in})")
    });
    ledger.close().await;
    rig.finish(&mut row).await;
    Ok(row)
}
