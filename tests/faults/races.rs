//! Races people make without meaning to (a double click, two staff resolving the same
//! appeal, a request in flight during logout, two people with one binding code) and the
//! per-client limits.

use std::sync::Arc;

use reqwest::header::{COOKIE, RETRY_AFTER};
use reqwest::{Client, StatusCode};

use crate::Size;
use crate::instance::{Backend, Ledger};
use crate::report::Row;
use crate::scenarios::Rig;
use crate::web::{Filing, Outcome, PARENT, Site, hidden_value, location};

/// Counts 5xx among answers; `None` is a request that got no answer.
fn tally(row: &mut Row, statuses: &[Option<StatusCode>]) {
    row.requests += statuses.len() as u64;
    row.server_errors += statuses
        .iter()
        .filter(|s| s.is_some_and(|s| s.is_server_error()))
        .count() as u64;
    let unanswered = statuses.iter().filter(|s| s.is_none()).count();
    row.check(unanswered == 0, || {
        format!("{unanswered} requests got no answer")
    });
}

/// The same confirmed form sent 20 times at once (a double click on a slow phone, a
/// resend after a timeout): one appeal, and every answer leads to it.
pub async fn double_submit(backend: Backend, _size: Size) -> Result<Row, String> {
    let rig = Rig::start(backend, "double").await?;
    let filing = Filing::of_demo(&rig.site).await?;
    let parent = rig.site.person("parent", PARENT).await?;
    let (csrf, id) = filing
        .open(&rig.site, &parent)
        .await
        .map_err(|o| format!("the form did not open: {o:?}"))?;
    let mut sends = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let (site, filing, parent, csrf, id) = (
            rig.site.clone(),
            filing.clone(),
            parent.clone(),
            csrf.clone(),
            id.clone(),
        );
        sends.spawn(async move { filing.send(&site, &parent, &csrf, &id).await });
    }
    let mut row = Row::default();
    let mut numbers = Vec::new();
    let mut statuses = Vec::new();
    while let Some(outcome) = sends.join_next().await {
        match outcome.map_err(|e| e.to_string())? {
            Outcome::Acknowledged(n) => {
                statuses.push(Some(StatusCode::SEE_OTHER));
                numbers.push(n);
            }
            Outcome::Answered(s) => statuses.push(Some(s)),
            Outcome::NoAnswer => statuses.push(None),
        }
    }
    tally(&mut row, &statuses);
    let ledger = Ledger::open(&rig.db).await?;
    let stored = ledger.count("SELECT COUNT(*) AS n FROM appeals").await;
    numbers.sort();
    numbers.dedup();
    row.acknowledged = numbers.len() as u64;
    row.found = ledger.complete(&numbers).await as u64;
    row.duplicates = (stored.max(1) - 1) as u64;
    let led_to = row.acknowledged;
    row.check(led_to == 1, || {
        format!("answers led to {led_to} different appeals")
    });
    row.note(format!(
        "{} of 20 answers lead to the appeal",
        statuses
            .iter()
            .filter(|s| **s == Some(StatusCode::SEE_OTHER))
            .count()
    ));
    row.account_mail(&ledger, &rig.sink, std::time::Duration::from_secs(30))
        .await;
    ledger.close().await;
    rig.finish(&mut row).await;
    Ok(row)
}

/// Eight staff pages opened on one appeal, «Решено» pressed on all at once: one
/// resolution, one e-mail about it, the others told the appeal changed.
pub async fn concurrent_resolution(backend: Backend, _size: Size) -> Result<Row, String> {
    let rig = Rig::start(backend, "resolve").await?;
    let filing = Filing::of_demo(&rig.site).await?;
    let parent = rig.site.person("parent", PARENT).await?;
    let Outcome::Acknowledged(number) = filing.file(&rig.site, &parent).await else {
        return Err("the appeal was not filed".into());
    };
    let mut pages = Vec::new();
    for i in 0..8 {
        let persona = if i % 2 == 0 {
            "staff-school-1"
        } else {
            "operator-municipal"
        };
        let who = rig.site.person("staff", persona).await?;
        let (_, page) = rig
            .site
            .page(&who, &format!("/staff/appeals/{number}"))
            .await?;
        let csrf = hidden_value(&page, "csrf_token").ok_or("no CSRF token")?;
        let version = hidden_value(&page, "version").ok_or("no version")?;
        pages.push((who, csrf, version, i));
    }
    let path = format!("/staff/appeals/{number}/status");
    let mut presses = tokio::task::JoinSet::new();
    for (who, csrf, version, i) in pages {
        let (site, path) = (rig.site.clone(), path.clone());
        presses.spawn(async move {
            let text = format!("Запись исправлена (сотрудник {i})");
            let fields = [
                ("csrf_token", csrf.as_str()),
                ("version", version.as_str()),
                ("status", "resolved"),
                ("resolution", text.as_str()),
                ("confirm_unlinked", "1"),
            ];
            site.post(&who, &path, &fields)
                .await
                .ok()
                .map(|r| r.status())
        });
    }
    let mut statuses = Vec::new();
    while let Some(s) = presses.join_next().await {
        statuses.push(s.map_err(|e| e.to_string())?);
    }
    let mut row = Row::default();
    tally(&mut row, &statuses);
    let won = statuses
        .iter()
        .filter(|s| **s == Some(StatusCode::SEE_OTHER))
        .count();
    let ledger = Ledger::open(&rig.db).await?;
    let resolutions = ledger
        .count("SELECT COUNT(*) AS n FROM appeal_events WHERE kind = 'status'")
        .await;
    row.acknowledged = 1;
    row.found = ledger.complete(std::slice::from_ref(&number)).await as u64;
    row.duplicates = (resolutions.max(1) - 1) as u64;
    row.check(won == 1, || format!("{won} of 8 presses succeeded"));
    row.note(format!("1 of 8 presses won; the others: {:?}", {
        let mut others: Vec<u16> = statuses
            .iter()
            .flatten()
            .filter(|s| **s != StatusCode::SEE_OTHER)
            .map(|s| s.as_u16())
            .collect();
        others.dedup();
        others
    }));
    row.account_mail(&ledger, &rig.sink, std::time::Duration::from_secs(30))
        .await;
    ledger.close().await;
    rig.finish(&mut row).await;
    Ok(row)
}

/// A browser whose cookie can be read, to replay it after logout.
fn jar_browser() -> (Client, Arc<reqwest::cookie::Jar>) {
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let client = Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .expect("an HTTP client");
    (client, jar)
}

/// «Выйти» while the same session has requests in flight (another tab loading): after
/// the logout, the old session cookie opens nothing.
pub async fn logout_race(backend: Backend, size: Size) -> Result<Row, String> {
    use reqwest::cookie::CookieStore;
    let rig = Rig::start(backend, "logout").await?;
    let mut row = Row::default();
    let rounds = if size.full { 20 } else { 5 };
    let mut resurrected = 0;
    let url = reqwest::Url::parse(&rig.site.url).map_err(|e| e.to_string())?;
    for _ in 0..rounds {
        let (who, jar) = jar_browser();
        rig.site.sign_in(&who, "parent", PARENT).await?;
        let cookie = jar.cookies(&url).ok_or("no session cookie after sign-in")?;
        let (_, page) = rig.site.page(&who, "/my/appeals").await?;
        let csrf = hidden_value(&page, "csrf_token").ok_or("no CSRF token")?;
        let replay = crate::web::browser();
        let mut tab = tokio::task::JoinSet::new();
        for _ in 0..20 {
            let (site, replay, cookie) = (rig.site.clone(), replay.clone(), cookie.clone());
            tab.spawn(async move {
                replay
                    .get(site.at("/my/appeals"))
                    .header(COOKIE, cookie)
                    .send()
                    .await
                    .ok()
                    .map(|r| r.status())
            });
        }
        let out = rig
            .site
            .post(&who, "/logout", &[("csrf_token", &csrf)])
            .await
            .ok()
            .map(|r| r.status());
        let mut statuses = vec![out];
        while let Some(s) = tab.join_next().await {
            statuses.push(s.map_err(|e| e.to_string())?);
        }
        let after = replay
            .get(rig.site.at("/my/appeals"))
            .header(COOKIE, cookie)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        statuses.push(Some(after.status()));
        if after.status() != StatusCode::UNAUTHORIZED {
            resurrected += 1;
        }
        tally(&mut row, &statuses);
    }
    row.check(resurrected == 0, || {
        format!("{resurrected} of {rounds} sessions survived logout")
    });
    row.note(format!("{rounds} logouts with 20 requests in flight each"));
    rig.finish(&mut row).await;
    Ok(row)
}

/// One binding code, entered at the same moment by five signed-in people (one of them
/// in two tabs): the record gets one account.
pub async fn binding_code_race(backend: Backend, _size: Size) -> Result<Row, String> {
    let rig = Rig::start(backend, "code").await?;
    let ledger = Ledger::open(&rig.db).await?;
    let person = ledger
        .count(
            "SELECT MIN(p.id) AS n FROM roster_persons p JOIN organizations o \
             ON o.id = p.organization_id WHERE o.name LIKE '%Средняя школа № 1%' \
             AND NOT EXISTS (SELECT 1 FROM esia_links l WHERE l.roster_person_id = p.id)",
        )
        .await;
    if person < 1 {
        return Err("no unlinked roster record at school 1".into());
    }
    let staff = rig.site.person("staff", "staff-school-1").await?;
    let (_, inbox) = rig.site.page(&staff, "/staff/inbox").await?;
    let csrf = hidden_value(&inbox, "csrf_token").ok_or("no CSRF token on the inbox")?;
    let (_, page) = rig
        .site
        .post(
            &staff,
            &format!("/staff/roster/{person}/binding-code"),
            &[("csrf_token", &csrf)],
        )
        .await
        .map_err(|e| e.to_string())?
        .text()
        .await
        .map(|t| (0, t))
        .map_err(|e| e.to_string())?;
    let code = page
        .split_once("<code>")
        .and_then(|(_, rest)| rest.split_once("</code>"))
        .map(|(code, _)| code.to_string())
        .ok_or("no code on the page")?;
    let mut people = Vec::new();
    for persona in [
        PARENT,
        PARENT,
        "parent-typo",
        "parent-no-kids",
        "student-15",
        "parent-linked",
    ] {
        let role = if persona.starts_with("student") {
            "student"
        } else {
            "parent"
        };
        let who = rig.site.person(role, persona).await?;
        let (_, page) = rig.site.page(&who, "/link").await?;
        let csrf = hidden_value(&page, "csrf_token").ok_or("no CSRF token on /link")?;
        people.push((who, csrf));
    }
    let mut tries = tokio::task::JoinSet::new();
    for (who, csrf) in people {
        let (site, code) = (rig.site.clone(), code.clone());
        tries.spawn(async move {
            site.post(&who, "/link", &[("csrf_token", &csrf), ("code", &code)])
                .await
                .ok()
                .map(|r| (r.status(), location(&r)))
        });
    }
    let mut statuses = Vec::new();
    let mut linked = 0;
    while let Some(answer) = tries.join_next().await {
        let answer = answer.map_err(|e| e.to_string())?;
        if answer
            .as_ref()
            .is_some_and(|(s, to)| *s == StatusCode::SEE_OTHER && to == "/home")
        {
            linked += 1;
        }
        statuses.push(answer.map(|(s, _)| s));
    }
    let mut row = Row::default();
    tally(&mut row, &statuses);
    let links = ledger
        .count(&format!(
            "SELECT COUNT(*) AS n FROM esia_links WHERE roster_person_id = {person}"
        ))
        .await;
    row.acknowledged = linked;
    row.found = links.max(0) as u64;
    row.duplicates = (links.max(1) - 1) as u64;
    row.check(linked == 1, || {
        format!("{linked} people were told they are linked")
    });
    row.note(format!("6 tries of one code, {linked} linked"));
    ledger.close().await;
    rig.finish(&mut row).await;
    Ok(row)
}

/// Limits per client on loopback: a burst of logins is cut to the limit with a Russian
/// 429 and Retry-After and leaves no session rows; binding codes tried in parallel are
/// checked no more often than the hourly limit, and a new login does not reset it.
pub async fn rate_limits(backend: Backend, _size: Size) -> Result<Row, String> {
    let rig = Rig::start_with(backend, "limits", |l| {
        l.with("limits.sign_in_per_minute", "20")
            .with("limits.forms_per_minute", "60")
            .with("limits.link_attempts_per_hour", "5")
            .with("limits.link_attempts_per_client_per_hour", "20")
    })
    .await?;
    let mut row = Row::default();
    // Codes first: signing in spends the sign-in budget too.
    let parent = rig.site.person("parent", PARENT).await?;
    let (_, page) = rig.site.page(&parent, "/link").await?;
    let csrf = hidden_value(&page, "csrf_token").ok_or("no CSRF token on /link")?;
    let codes = fire(&rig.site, 40, |site| {
        let (parent, csrf) = (parent.clone(), csrf.clone());
        async move {
            site.post(
                &parent,
                "/link",
                &[("csrf_token", &csrf), ("code", "WRONG-0000")],
            )
            .await
        }
    })
    .await;
    let checked = codes
        .iter()
        .filter(|(s, _)| *s == Some(StatusCode::UNPROCESSABLE_ENTITY))
        .count();
    row.check(checked <= 5, || {
        format!("{checked} of 40 parallel codes were checked")
    });
    let again = rig.site.person("parent", PARENT).await?;
    let (_, page) = rig.site.page(&again, "/link").await?;
    let csrf = hidden_value(&page, "csrf_token").ok_or("no CSRF token on /link")?;
    let after_login = rig
        .site
        .post(
            &again,
            "/link",
            &[("csrf_token", &csrf), ("code", "WRONG-0001")],
        )
        .await
        .map_err(|e| e.to_string())?
        .status();
    row.check(after_login == StatusCode::TOO_MANY_REQUESTS, || {
        format!("a new login reset the code limit ({after_login})")
    });
    let ledger = Ledger::open(&rig.db).await?;
    let sessions_before = ledger.count("SELECT COUNT(*) AS n FROM sessions").await;
    let browsing = fire(&rig.site, 50, |site| async move {
        let path =
            ["/", "/api/v1/organizations", "/staff/inbox", "/my/appeals"][rand::random_range(0..4)];
        crate::web::browser().get(site.at(path)).send().await
    })
    .await;
    let sessions_browsed = ledger.count("SELECT COUNT(*) AS n FROM sessions").await;
    row.check(sessions_browsed == sessions_before, || {
        format!(
            "50 anonymous page views made {} session rows",
            sessions_browsed - sessions_before
        )
    });
    let logins = fire(&rig.site, 200, |site| async move {
        site.client
            .get(site.at("/login/esia?role=parent"))
            .send()
            .await
    })
    .await;
    let sessions_after = ledger.count("SELECT COUNT(*) AS n FROM sessions").await;
    let started = logins
        .iter()
        .filter(|(s, _)| *s == Some(StatusCode::SEE_OTHER))
        .count();
    let limited: Vec<_> = logins
        .iter()
        .filter(|(s, _)| *s == Some(StatusCode::TOO_MANY_REQUESTS))
        .collect();
    row.check(started <= 20, || format!("{started} of 200 logins started"));
    row.check(
        limited.iter().all(|(_, r)| {
            r.as_ref()
                .is_some_and(|(wait, body)| wait.is_some() && body.contains("Слишком много"))
        }),
        || "a 429 without Retry-After or without the Russian page".into(),
    );
    let new_sessions = sessions_after - sessions_before;
    row.check(new_sessions <= started as i64, || {
        format!("{new_sessions} session rows for {started} started logins")
    });
    row.note(format!(
        "codes: {checked} of 40 checked, then 429 after a new login; logins: {started} of 200 started, {} × 429, {new_sessions} session rows; 50 anonymous page views, no session row",
        limited.len()
    ));
    let statuses: Vec<_> = codes
        .iter()
        .chain(&logins)
        .chain(&browsing)
        .map(|(s, _)| *s)
        .collect();
    tally(&mut row, &statuses);
    ledger.close().await;
    rig.finish(&mut row).await;
    Ok(row)
}

type Answer = (Option<StatusCode>, Option<(Option<String>, String)>);

/// Sends `n` requests at once; each answer's status, Retry-After and body.
async fn fire<F, Fut>(site: &Site, n: usize, request: F) -> Vec<Answer>
where
    F: Fn(Site) -> Fut,
    Fut: Future<Output = Result<reqwest::Response, reqwest::Error>> + Send + 'static,
{
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..n {
        let sent = request(site.clone());
        set.spawn(async move {
            match sent.await {
                Err(_) => (None, None),
                Ok(resp) => {
                    let status = resp.status();
                    let wait = resp
                        .headers()
                        .get(RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string);
                    let body = resp.text().await.unwrap_or_default();
                    (Some(status), Some((wait, body)))
                }
            }
        });
    }
    let mut answers = Vec::new();
    while let Some(a) = set.join_next().await {
        answers.push(a.unwrap_or((None, None)));
    }
    answers
}
