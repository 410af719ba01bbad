//! Test harness: each test builds the real application on port 0 with its own database
//! (a temporary SQLite file, or a fresh PostgreSQL database), the built-in ESIA emulator
//! and the development mailbox, and drives it over HTTP like a browser would.

#![allow(dead_code)]

pub mod browser;
mod html;
mod postgres;
mod process;
pub mod xls;

use std::future::Future;
use std::path::PathBuf;

pub use html::{hidden_value, location};

use appeals::Application;
use appeals::config::{Environment, Settings};
use appeals::mail::transport::{MailboxEntry, read_mailbox};
use appeals::mail::worker::DrainStats;
use reqwest::{Client, Response, StatusCode};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generates one test per database for a story: `story!(name, |app| async move { … });`
///
/// In scope in every capability module declared after `#[macro_use] mod support;` in
/// `main.rs`; the generated module sees the capability module's names through `super::*`.
macro_rules! story {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::support::run($crate::support::Backend::Sqlite, Vec::new(), $body).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::support::run($crate::support::Backend::Postgres, Vec::new(), $body).await;
            }
        }
    };
    ($name:ident, overrides = $overrides:expr, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::support::run($crate::support::Backend::Sqlite, $overrides, $body).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::support::run($crate::support::Backend::Postgres, $overrides, $body).await;
            }
        }
    };
}

pub struct TestApp {
    pub url: String,
    pub db: DatabaseConnection,
    /// The use cases, for stories that file many appeals without a browser each.
    pub workflow: appeals::workflow::Workflow,
    pub backend: Backend,
    app_worker: appeals::mail::Worker,
    mailbox: PathBuf,
    /// The settings the app was built with.
    pub settings: Settings,
    /// This test's PostgreSQL database and admin URL, or its SQLite directory.
    pg: Option<(String, String)>,
    dir: PathBuf,
}

/// The URL of the PostgreSQL server the tests' databases are created on (`CREATE
/// DATABASE` runs there): the server at `TEST_POSTGRES_URL` when one answers, otherwise
/// a throwaway cluster started once for this test process (see `postgres.rs`). Panics,
/// naming what was tried, when there is neither: a missing PostgreSQL fails the suite.
async fn postgres_admin_url() -> String {
    let resolved = tokio::task::spawn_blocking(postgres::admin_url)
        .await
        .expect("the PostgreSQL lookup finishes");
    match resolved {
        Ok(url) => url.clone(),
        Err(why) => panic!("{why}"),
    }
}

/// Builds the app for `backend`, runs `body` against it, then removes the database and
/// files even when the body panicked.
pub async fn run<F, Fut>(backend: Backend, overrides: Vec<(&'static str, String)>, body: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    if std::env::var_os("TEST_LOG").is_some() {
        use tracing_subscriber::prelude::*;
        let _ = tracing_subscriber::registry()
            .with(tracing_subscriber::fmt::layer().with_test_writer())
            .with(
                tracing_subscriber::filter::Targets::new()
                    .with_default(tracing::Level::INFO)
                    .with_target("sqlx", tracing::Level::WARN),
            )
            .try_init();
    }
    let id = uuid::Uuid::new_v4().simple().to_string();
    let dir = std::env::temp_dir().join(format!("appeals-test-{id}"));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (db_url, pg) = match backend {
        Backend::Sqlite => (
            format!("sqlite://{}?mode=rwc", dir.join("appeals.db").display()),
            None,
        ),
        Backend::Postgres => {
            let name = format!("appeals_t_{id}");
            let admin_url = postgres_admin_url().await;
            let admin = Database::connect(&admin_url).await.unwrap_or_else(|e| {
                panic!("PostgreSQL is required for the test suite ({admin_url}): {e}")
            });
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create test database");
            let server = admin_url
                .rsplit_once('/')
                .map(|(s, _)| s.to_string())
                .unwrap_or_else(|| admin_url.clone());
            (format!("{server}/{name}"), Some((name, admin_url)))
        }
    };
    let mut all = vec![
        ("server.port", "0".to_string()),
        ("database.url", db_url),
        ("database.max_connections", "5".to_string()),
        (
            "mail.mailbox_dir",
            dir.join("mailbox").display().to_string(),
        ),
    ];
    all.extend(overrides);
    let config_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config");
    let settings = Settings::load_for(&config_dir, Environment::Test, &all).expect("test settings");
    let mailbox = settings.mail.mailbox_dir.clone();
    let app = Application::build(settings.clone())
        .await
        .expect("application builds");
    let test_app = TestApp {
        url: app.public_url().to_string(),
        db: app.db().clone(),
        workflow: app.workflow().clone(),
        backend,
        app_worker: app.mail_worker().expect("worker"),
        mailbox,
        settings,
        pg: pg.clone(),
        dir: dir.clone(),
    };
    let server = tokio::spawn(app.run_until_stopped(false));
    let outcome = tokio::spawn(body(test_app)).await;
    server.abort();
    let _ = server.await;
    if let Some((name, admin_url)) = pg
        && let Ok(admin) = Database::connect(&admin_url).await
    {
        for db in [name.clone(), format!("{name}_second")] {
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
                .await;
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// Now in the region's local time (config: `server.utc_offset_hours = 3`), which decides
/// the numbering year and the inbox's day boundaries.
pub fn local_now() -> chrono::DateTime<chrono::FixedOffset> {
    chrono::Utc::now().with_timezone(&chrono::FixedOffset::east_opt(3 * 3600).expect("offset"))
}

/// A browser: its own cookie jar, redirects not followed so tests see every hop.
pub fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// The number of the appeal a submission was redirected to.
pub fn filed_number(resp: &Response) -> String {
    assert_eq!(resp.status(), StatusCode::SEE_OTHER, "appeal accepted");
    location(resp)
        .strip_prefix("/appeals/")
        .expect("redirect to the appeal")
        .to_string()
}

/// The text of `<textarea id="…">` on a page (the default a form proposes).
pub fn textarea(html: &str, id: &str) -> Option<String> {
    let re = regex_lite::Regex::new(&format!(r#"(?s)<textarea id="{id}"[^>]*>(.*?)</textarea>"#))
        .ok()?;
    re.captures(html).map(|c| c[1].to_string())
}

pub struct Submission {
    pub child_id: String,
    pub org_type: String,
    pub organization_id: String,
    pub class_id: String,
    pub comment: String,
}

impl Submission {
    /// The POST fields of the form, with the tokens it was opened with, as «Отправить»
    /// on «Проверьте данные» sends them.
    pub fn confirmed<'a>(
        &'a self,
        csrf: &'a str,
        submission_id: &'a str,
    ) -> Vec<(&'a str, &'a str)> {
        let mut fields = self.fields(csrf, submission_id);
        fields.push(("confirm", "1"));
        fields
    }

    /// The POST fields of the form, with the tokens it was opened with.
    pub fn fields<'a>(&'a self, csrf: &'a str, submission_id: &'a str) -> Vec<(&'a str, &'a str)> {
        vec![
            ("csrf_token", csrf),
            ("submission_id", submission_id),
            ("child_id", &self.child_id),
            ("org_type", &self.org_type),
            ("organization_id", &self.organization_id),
            ("class_id", &self.class_id),
            ("comment", &self.comment),
        ]
    }
}

impl TestApp {
    pub fn path(&self, p: &str) -> String {
        format!("{}{p}", self.url)
    }

    pub async fn get(&self, client: &Client, path: &str) -> Response {
        let url = if path.starts_with("http") {
            path.to_string()
        } else {
            self.path(path)
        };
        client.get(url).send().await.expect("GET")
    }

    pub async fn get_html(&self, client: &Client, path: &str) -> (StatusCode, String) {
        let resp = self.get(client, path).await;
        let status = resp.status();
        (status, resp.text().await.expect("body"))
    }

    /// Starts a login with `role` and returns the emulator's authorize URL.
    pub async fn authorize_url(&self, client: &Client, role: &str) -> String {
        let resp = self.get(client, &format!("/login/esia?role={role}")).await;
        assert_eq!(
            resp.status(),
            StatusCode::SEE_OTHER,
            "login redirects to ESIA"
        );
        location(&resp)
    }

    /// The callback URL the emulator sends the browser back to for `persona`.
    pub async fn esia_callback(&self, client: &Client, role: &str, persona: &str) -> String {
        let authorize = self.authorize_url(client, role).await;
        let resp = self
            .get(client, &format!("{authorize}&persona={persona}"))
            .await;
        assert_eq!(
            resp.status(),
            StatusCode::SEE_OTHER,
            "emulator approves {persona}"
        );
        let callback = location(&resp);
        assert!(
            callback.contains("code="),
            "callback carries a code: {callback}"
        );
        callback
    }

    /// Follows a sign-in link of a page (`&amp;` as in the HTML) through the ESIA emulator
    /// as `persona`; returns where the app lands the person.
    pub async fn sign_in_from(&self, client: &Client, link: &str, persona: &str) -> String {
        let resp = self.get(client, &link.replace("&amp;", "&")).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let authorize = location(&resp);
        let resp = self
            .get(client, &format!("{authorize}&persona={persona}"))
            .await;
        let callback = location(&resp);
        location(&self.get(client, &callback).await)
    }

    /// The whole ESIA round trip; returns where the app sends the person afterwards.
    pub async fn login_as(&self, client: &Client, role: &str, persona: &str) -> String {
        let callback = self.esia_callback(client, role, persona).await;
        let resp = self.get(client, &callback).await;
        assert_eq!(
            resp.status(),
            StatusCode::SEE_OTHER,
            "callback signs {persona} in"
        );
        location(&resp)
    }

    pub async fn organization_id(&self, name_part: &str) -> String {
        let list: Vec<serde_json::Value> = browser()
            .get(self.path("/api/v1/organizations"))
            .query(&[("q", name_part)])
            .send()
            .await
            .expect("organizations")
            .json()
            .await
            .expect("json");
        assert_eq!(
            list.len(),
            1,
            "exactly one organization matches {name_part}"
        );
        list[0]["id"].to_string()
    }

    pub async fn class_id(&self, organization_id: &str, class: &str) -> String {
        let list: Vec<serde_json::Value> = browser()
            .get(self.path(&format!("/api/v1/organizations/{organization_id}/classes")))
            .send()
            .await
            .expect("classes")
            .json()
            .await
            .expect("json");
        list.iter()
            .find(|c| c["name"] == class)
            .map(|c| c["id"].to_string())
            .unwrap_or_else(|| panic!("class {class} exists"))
    }

    /// The school-1 / 7а submission of `parent-confirmed` for her son Артём.
    pub async fn school1_submission(&self) -> Submission {
        let org = self.organization_id("«Средняя школа № 1»").await;
        Submission {
            child_id: "38420917".into(),
            org_type: "general".into(),
            class_id: self.class_id(&org, "7а").await,
            organization_id: org,
            comment: "Не могу войти в дневник сына".into(),
        }
    }

    /// Opens the form for `organization_id` and returns (csrf_token, submission_id). A
    /// person filing for the first time gives the consent on the way, as on the site.
    pub async fn open_form(&self, client: &Client, organization_id: &str) -> (String, String) {
        let path = format!("/appeals/form?organization_id={organization_id}");
        if location(&self.get(client, &path).await) == "/appeals/consent" {
            self.give_consent(client).await;
        }
        let (status, html) = self.get_html(client, &path).await;
        assert_eq!(status, StatusCode::OK, "form opens: {html}");
        (
            hidden_value(&html, "csrf_token").expect("csrf token in form"),
            hidden_value(&html, "submission_id").expect("submission id in form"),
        )
    }

    /// «Даю согласие» on the consent to the processing of personal data; the person is
    /// sent on to the form.
    pub async fn give_consent(&self, client: &Client) {
        let (status, page) = self.get_html(client, "/appeals/consent").await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("Даю согласие"), "{page}");
        let csrf = hidden_value(&page, "csrf_token").expect("csrf token on the consent");
        let resp = self
            .post_form(client, "/appeals/consent", &[("csrf_token", csrf.as_str())])
            .await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&resp), "/appeals/form");
    }

    pub async fn post_form(
        &self,
        client: &Client,
        path: &str,
        fields: &[(&str, &str)],
    ) -> Response {
        client
            .post(self.path(path))
            .form(fields)
            .send()
            .await
            .expect("POST")
    }

    /// Fills and sends the form as a person would: «Проверить и отправить», then
    /// «Отправить» on «Проверьте данные»; returns the last response.
    pub async fn submit(&self, client: &Client, s: &Submission) -> Response {
        let (csrf, submission_id) = self.open_form(client, &s.organization_id).await;
        self.send_checked(client, s.fields(&csrf, &submission_id))
            .await
    }

    /// Posts the form; on «Проверьте данные» presses «Отправить» (its hidden fields).
    pub async fn send_checked(&self, client: &Client, fields: Vec<(&str, &str)>) -> Response {
        let resp = self.post_form(client, "/appeals", &fields).await;
        if resp.status() != StatusCode::OK {
            return resp;
        }
        let page = resp.text().await.expect("body");
        assert!(page.contains("Проверьте данные"), "{page}");
        let mut confirmed = fields.clone();
        confirmed.push(("confirm", "1"));
        self.post_form(client, "/appeals", &confirmed).await
    }

    /// Files an appeal and returns its number.
    pub async fn file_appeal(&self, client: &Client, s: &Submission) -> String {
        let resp = self.submit(client, s).await;
        filed_number(&resp)
    }

    /// Files a second appeal about a child who has an open one: the form says so and
    /// takes it only with a reason. Returns the new number.
    pub async fn file_again(&self, client: &Client, s: &Submission, reason: &str) -> String {
        let (csrf, submission_id) = self.open_form(client, &s.organization_id).await;
        let mut fields = s.fields(&csrf, &submission_id);
        let asked = self.post_form(client, "/appeals", &fields).await;
        assert_eq!(asked.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = asked.text().await.expect("body");
        assert!(
            page.contains("Уже есть открытое обращение"),
            "the open appeal is named: {page}"
        );
        fields.push(("repeat_reason", reason));
        filed_number(&self.send_checked(client, fields).await)
    }

    pub async fn count(&self, table: &str) -> i64 {
        let row = self
            .db
            .query_one_raw(sea_orm::Statement::from_string(
                self.db.get_database_backend(),
                format!("SELECT COUNT(*) AS n FROM {table}"),
            ))
            .await
            .expect("count")
            .expect("row");
        row.try_get::<i64>("", "n").expect("n")
    }

    pub async fn drain_mail(&self) -> DrainStats {
        self.app_worker.drain_once().await.expect("outbox drains")
    }

    /// The worker's hourly digest pass, run now.
    pub async fn queue_digests(&self, now: chrono::DateTime<chrono::Utc>) -> usize {
        self.app_worker.queue_digests(now).await.expect("digests")
    }

    pub async fn mailbox(&self) -> Vec<MailboxEntry> {
        read_mailbox(&self.mailbox).await.expect("mailbox")
    }

    /// A browser signed in as a staff persona, on its inbox.
    pub async fn staff(&self, persona: &str) -> Client {
        let client = browser();
        assert_eq!(
            self.login_as(&client, "staff", persona).await,
            "/staff/inbox",
            "{persona} signs in"
        );
        client
    }

    /// Posts a staff action form of an appeal with the page's CSRF token and version.
    pub async fn staff_action(
        &self,
        client: &Client,
        number: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> Response {
        let (status, page) = self
            .get_html(client, &format!("/staff/appeals/{number}"))
            .await;
        assert_eq!(status, StatusCode::OK, "the appeal page opens");
        let csrf = hidden_value(&page, "csrf_token").expect("csrf");
        let version = hidden_value(&page, "version").unwrap_or_default();
        let mut all = vec![("csrf_token", csrf.as_str()), ("version", version.as_str())];
        all.extend_from_slice(fields);
        self.post_form(client, &format!("/staff/appeals/{number}/{action}"), &all)
            .await
    }

    /// «Исправить…» or «Добавить…» as staff do it: the confirmation page, then
    /// «Подтвердить» with the message it proposes (`extra` adds e.g. a reason). Returns
    /// the confirmation page and the final response.
    pub async fn link_confirmed(
        &self,
        client: &Client,
        number: &str,
        fields: &[(&str, &str)],
        extra: &[(&str, &str)],
    ) -> (String, Response) {
        let asked = self.staff_action(client, number, "link", fields).await;
        assert_eq!(asked.status(), StatusCode::OK, "a confirmation comes first");
        let page = asked.text().await.expect("body");
        assert!(page.contains("Подтвердить"), "{page}");
        let csrf = hidden_value(&page, "csrf_token").expect("csrf");
        let version = hidden_value(&page, "version").expect("version");
        let message = textarea(&page, "message").expect("message to the applicant");
        let mut all = vec![
            ("csrf_token", csrf.as_str()),
            ("version", version.as_str()),
            ("confirm", "1"),
            ("message", message.as_str()),
        ];
        all.extend_from_slice(fields);
        all.extend_from_slice(extra);
        let resp = self
            .post_form(client, &format!("/staff/appeals/{number}/link"), &all)
            .await;
        (page, resp)
    }

    /// Enters a binding code on «Привязать учетную запись» as a signed-in applicant.
    pub async fn redeem_code(&self, client: &Client, code: &str) -> Response {
        let (_, page) = self.get_html(client, "/link").await;
        let csrf = hidden_value(&page, "csrf_token").expect("csrf");
        self.post_form(client, "/link", &[("csrf_token", &csrf), ("code", code)])
            .await
    }

    /// Delivered messages to one address, newest first.
    pub async fn mail_to(&self, address: &str) -> Vec<MailboxEntry> {
        self.mailbox()
            .await
            .into_iter()
            .filter(|m| m.to == address)
            .collect()
    }

    /// A further staff record for a person of the demo (by СНИЛС digits), as a region's
    /// staff import would add it: `role` at `organization`, or region-wide without one.
    /// Returns its id.
    pub async fn add_staff_record(
        &self,
        snils: &str,
        name: (&str, &str, &str),
        email: &str,
        role: &str,
        organization: Option<i32>,
    ) -> i32 {
        use sea_orm::{ActiveModelTrait, Set};
        appeals::store::entities::staff::ActiveModel {
            snils: Set(snils.into()),
            last_name: Set(name.0.into()),
            first_name: Set(name.1.into()),
            middle_name: Set(name.2.into()),
            email: Set(email.into()),
            role: Set(role.into()),
            organization_id: Set(organization),
            active: Set(true),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .expect("staff record")
        .id
    }

    /// The id of the demo roster record with this normalized name and birth date (the
    /// fixture a school's import would have made).
    pub async fn roster_id(&self, name_norm: &str, birth: (i32, u32, u32)) -> i32 {
        let born = chrono::NaiveDate::from_ymd_opt(birth.0, birth.1, birth.2).expect("date");
        appeals::store::roster::match_candidates(&self.db, name_norm, born)
            .await
            .expect("roster")
            .first()
            .unwrap_or_else(|| panic!("{name_norm} is on a roster"))
            .id
    }

    /// Settings for another instance on an empty database of this test's backend (removed
    /// with the test).
    pub async fn settings_on_an_empty_database(&self) -> Settings {
        let url = match &self.pg {
            Some((name, admin_url)) => {
                let admin = Database::connect(admin_url).await.expect("admin");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}_second"))
                    .await
                    .expect("second database");
                let server = admin_url
                    .rsplit_once('/')
                    .map_or(admin_url.as_str(), |(s, _)| s);
                format!("{server}/{name}_second")
            }
            None => format!("sqlite://{}?mode=rwc", self.dir.join("second.db").display()),
        };
        let mut s = self.settings.clone();
        s.database.url = serde_json::from_value(serde_json::json!(url)).expect("url");
        s
    }

    /// Runs `sql` written with PostgreSQL's `$1` parameters on the story's database (SQLite
    /// takes them as `?1`): for a story that moves time, as if things happened long ago.
    pub async fn execute(&self, sql: &str, values: Vec<sea_orm::Value>) {
        let sql = if self.is_postgres() {
            sql.to_string()
        } else {
            sql.replace('$', "?")
        };
        self.db
            .execute_raw(sea_orm::Statement::from_sql_and_values(
                self.db.get_database_backend(),
                sql,
                values,
            ))
            .await
            .expect("sql");
    }

    /// Runs `sql` on the PostgreSQL server as its administrator (never on SQLite): for
    /// stories that break the database on purpose. `{db}` is this test's database.
    pub async fn as_postgres_admin(&self, sql: &str) {
        let (name, admin_url) = self.pg.as_ref().expect("a PostgreSQL story");
        let admin = Database::connect(admin_url).await.expect("admin");
        admin
            .execute_unprepared(&sql.replace("{db}", name))
            .await
            .expect("admin statement");
    }

    /// Runs the `appeals` binary's command line on this test's database, as an operator
    /// would: returns whether it succeeded and what it printed (stdout, then stderr).
    pub async fn cli(&self, args: &[&str]) -> (bool, String) {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_appeals"));
        cmd.arg("--config-dir")
            .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config"))
            .args(args)
            .env("APPEALS_ENV", "test")
            .env(
                "APPEALS__DATABASE__URL",
                self.settings.database.url.expose(),
            )
            .env("RUST_LOG", "warn");
        let out = cmd.output().await.expect("the appeals binary runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    /// A path in this test's folder (removed with the test).
    pub fn dir_path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    /// A file of this test's folder (removed with the test).
    pub fn file(&self, name: &str, bytes: &[u8]) -> String {
        let path = self.dir.join(name);
        std::fs::write(&path, bytes).expect("test file");
        path.display().to_string()
    }

    pub fn is_postgres(&self) -> bool {
        self.backend == Backend::Postgres
    }
}
