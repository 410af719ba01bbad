//! What people do over HTTP, as the scenarios need it: sign in through the ESIA emulator,
//! file an appeal, act on one as staff. Every step reports failure instead of panicking,
//! because under a fault a failed request is an outcome to count.

use std::time::Duration;

use reqwest::{Client, Response, StatusCode};

pub fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .expect("an HTTP client")
}

pub use crate::html::{hidden_value, location};

/// A site and what the scenarios learned about it once (ids of the demo directory).
#[derive(Clone)]
pub struct Site {
    pub url: String,
    pub client: Client,
}

/// What happened to one request that mattered.
#[derive(Debug)]
pub enum Outcome {
    /// Answered with the appeal's number: the service promised it is kept.
    Acknowledged(String),
    /// Answered, but not with an appeal (a refusal, a limit, a page).
    Answered(StatusCode),
    /// No answer: the connection failed or timed out.
    NoAnswer,
}

impl Site {
    pub fn new(url: &str) -> Site {
        Site {
            url: url.to_string(),
            client: browser(),
        }
    }

    pub fn at(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.url)
        }
    }

    pub async fn get(&self, who: &Client, path: &str) -> Result<Response, reqwest::Error> {
        who.get(self.at(path)).send().await
    }

    pub async fn page(&self, who: &Client, path: &str) -> Result<(StatusCode, String), String> {
        let resp = self.get(who, path).await.map_err(|e| e.to_string())?;
        let status = resp.status();
        Ok((status, resp.text().await.map_err(|e| e.to_string())?))
    }

    pub async fn post(
        &self,
        who: &Client,
        path: &str,
        fields: &[(&str, &str)],
    ) -> Result<Response, reqwest::Error> {
        who.post(self.at(path)).form(fields).send().await
    }

    /// The ESIA round trip through the emulator; returns where the app lands the person.
    pub async fn sign_in(&self, who: &Client, role: &str, persona: &str) -> Result<String, String> {
        let mut next = format!("/login/esia?role={role}");
        for hop in 0..3 {
            let url = if hop == 1 {
                format!("{next}&persona={persona}")
            } else {
                next
            };
            let resp = self.get(who, &url).await.map_err(|e| e.to_string())?;
            if resp.status() != StatusCode::SEE_OTHER {
                return Err(format!("sign-in hop {hop} answered {}", resp.status()));
            }
            next = location(&resp);
        }
        Ok(next)
    }

    /// A new browser signed in as `persona`.
    pub async fn person(&self, role: &str, persona: &str) -> Result<Client, String> {
        let who = browser();
        self.sign_in(&who, role, persona).await?;
        Ok(who)
    }

    /// A staff browser on the record `staff_id` (for a person with several records).
    pub async fn staff_as(&self, persona: &str, staff_id: i64) -> Result<Client, String> {
        let who = browser();
        self.sign_in(&who, "staff", persona).await?;
        let (_, page) = self.page(&who, "/staff/choose").await?;
        let csrf = hidden_value(&page, "csrf_token").ok_or("no CSRF token on /staff/choose")?;
        let id = staff_id.to_string();
        self.post(
            &who,
            "/staff/choose",
            &[("csrf_token", &csrf), ("staff_id", &id)],
        )
        .await
        .map_err(|e| e.to_string())?;
        Ok(who)
    }

    /// The demo's first organization whose name contains `part`, and its class `class`.
    pub async fn school(&self, part: &str, class: &str) -> Result<(String, String), String> {
        let json = |resp: Result<Response, reqwest::Error>| async move {
            resp.map_err(|e| e.to_string())?
                .json::<Vec<serde_json::Value>>()
                .await
                .map_err(|e| e.to_string())
        };
        let orgs = json(
            self.client
                .get(self.at("/api/v1/organizations"))
                .query(&[("q", part)])
                .send()
                .await,
        )
        .await?;
        let org = orgs
            .first()
            .map(|o| o["id"].to_string())
            .ok_or(format!("no organization {part}"))?;
        let classes = json(
            self.get(
                &self.client,
                &format!("/api/v1/organizations/{org}/classes"),
            )
            .await,
        )
        .await?;
        let class = classes
            .iter()
            .find(|c| c["name"] == class)
            .map(|c| c["id"].to_string())
            .ok_or(format!("no class {class}"))?;
        Ok((org, class))
    }
}

/// «Даю согласие» with the consent page's CSRF token.
async fn give_consent(site: &Site, who: &Client) -> Result<(), Outcome> {
    let (status, page) = site
        .page(who, "/appeals/consent")
        .await
        .map_err(|_| Outcome::NoAnswer)?;
    let csrf = hidden_value(&page, "csrf_token").ok_or(Outcome::Answered(status))?;
    let resp = site
        .post(who, "/appeals/consent", &[("csrf_token", &csrf)])
        .await
        .map_err(|_| Outcome::NoAnswer)?;
    match resp.status() {
        StatusCode::SEE_OTHER => Ok(()),
        other => Err(Outcome::Answered(other)),
    }
}

/// The appeal parent-confirmed files about her son at school 1, again and again: a repeat
/// while one is open carries a reason, as the form asks.
#[derive(Clone)]
pub struct Filing {
    pub organization_id: String,
    pub class_id: String,
}

pub const PARENT: &str = "parent-confirmed";
pub const CHILD_ID: &str = "38420917";

impl Filing {
    pub async fn of_demo(site: &Site) -> Result<Filing, String> {
        let (organization_id, class_id) = site.school("«Средняя школа № 1»", "7а").await?;
        Ok(Filing {
            organization_id,
            class_id,
        })
    }

    /// Opens the form: its CSRF token and submission id. The first time, the person gives
    /// the consent to the processing of personal data on the way.
    pub async fn open(&self, site: &Site, who: &Client) -> Result<(String, String), Outcome> {
        let path = format!("/appeals/form?organization_id={}", self.organization_id);
        let mut resp = site.get(who, &path).await.map_err(|_| Outcome::NoAnswer)?;
        if location(&resp) == "/appeals/consent" {
            give_consent(site, who).await?;
            resp = site.get(who, &path).await.map_err(|_| Outcome::NoAnswer)?;
        }
        let status = resp.status();
        let page = resp.text().await.map_err(|_| Outcome::NoAnswer)?;
        match (
            hidden_value(&page, "csrf_token"),
            hidden_value(&page, "submission_id"),
        ) {
            (Some(csrf), Some(id)) if status == StatusCode::OK => Ok((csrf, id)),
            _ => Err(Outcome::Answered(status)),
        }
    }

    pub fn fields<'a>(&'a self, csrf: &'a str, submission_id: &'a str) -> Vec<(&'a str, &'a str)> {
        vec![
            ("csrf_token", csrf),
            ("submission_id", submission_id),
            ("child_id", CHILD_ID),
            ("org_type", "general"),
            ("organization_id", &self.organization_id),
            ("class_id", &self.class_id),
            ("comment", "Не могу войти в дневник сына"),
            ("repeat_reason", "Проверка под нагрузкой"),
            ("confirm", "1"),
        ]
    }

    /// Sends a filled form as «Отправить» on «Проверьте данные» does.
    pub async fn send(&self, site: &Site, who: &Client, csrf: &str, id: &str) -> Outcome {
        match site.post(who, "/appeals", &self.fields(csrf, id)).await {
            Err(_) => Outcome::NoAnswer,
            Ok(resp) => {
                let to = location(&resp);
                match to.strip_prefix("/appeals/") {
                    Some(number) if resp.status() == StatusCode::SEE_OTHER => {
                        Outcome::Acknowledged(number.to_string())
                    }
                    _ => Outcome::Answered(resp.status()),
                }
            }
        }
    }

    /// One whole filing: open the form, send it.
    pub async fn file(&self, site: &Site, who: &Client) -> Outcome {
        match self.open(site, who).await {
            Ok((csrf, id)) => self.send(site, who, &csrf, &id).await,
            Err(outcome) => outcome,
        }
    }
}
