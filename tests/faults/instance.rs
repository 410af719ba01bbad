//! The real `appeals` binary, started on loopback with a database of its own, and the
//! database it uses, read directly to check what the service acknowledged.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use tokio::process::{Child, Command};

use crate::postgres;
use crate::process::free_port;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// One scenario's empty database: a SQLite file in the scenario's folder or a PostgreSQL
/// database on the suite's server, dropped with the scenario.
pub struct Db {
    pub url: String,
    pub dir: PathBuf,
    pg: Option<(String, String)>,
}

impl Db {
    pub async fn create(backend: Backend, label: &str) -> Result<Db, String> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let dir = std::env::temp_dir().join(format!("appeals-faults-{label}-{id}"));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        match backend {
            Backend::Sqlite => Ok(Db {
                url: format!("sqlite://{}?mode=rwc", dir.join("appeals.db").display()),
                dir,
                pg: None,
            }),
            Backend::Postgres => {
                let admin_url = tokio::task::spawn_blocking(postgres::admin_url)
                    .await
                    .map_err(|e| e.to_string())?
                    .clone()?;
                let name = format!("appeals_f_{id}");
                let admin = Database::connect(&admin_url)
                    .await
                    .map_err(|e| format!("PostgreSQL at {admin_url}: {e}"))?;
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .map_err(|e| format!("CREATE DATABASE: {e}"))?;
                let server = admin_url
                    .rsplit_once('/')
                    .map_or(admin_url.as_str(), |(s, _)| s);
                Ok(Db {
                    url: format!("{server}/{name}"),
                    dir,
                    pg: Some((name, admin_url)),
                })
            }
        }
    }

    pub async fn connect(&self) -> Result<DatabaseConnection, String> {
        Database::connect(&self.url)
            .await
            .map_err(|e| format!("the scenario's database: {e}"))
    }

    /// Cuts every connection the service holds to this database, as a failover or a
    /// network blip would: `pg_terminate_backend` on its backends only (the shared server
    /// stays up). Returns how many were cut; SQLite has none to cut.
    pub async fn terminate_backends(&self) -> Result<u64, String> {
        let Some((name, admin_url)) = &self.pg else {
            return Ok(0);
        };
        let admin = Database::connect(admin_url)
            .await
            .map_err(|e| e.to_string())?;
        let cut = admin
            .execute_unprepared(&format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = '{name}' AND pid <> pg_backend_pid()"
            ))
            .await
            .map_err(|e| e.to_string())?;
        let _ = admin.close().await;
        Ok(cut.rows_affected())
    }

    /// Drops the database; the folder with the instances' logs stays when `keep_logs`.
    pub async fn drop(self, keep_logs: bool) {
        if let Some((name, admin_url)) = &self.pg
            && let Ok(admin) = Database::connect(admin_url).await
        {
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
        }
        if !keep_logs {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Settings of one started instance, on top of `config/test.toml` (which keeps the demo
/// directory, the emulator and high per-client limits).
#[derive(Clone)]
pub struct Launch {
    pub smtp_port: u16,
    pub extra: Vec<(String, String)>,
}

impl Launch {
    pub fn new(smtp_port: u16) -> Launch {
        Launch {
            smtp_port,
            extra: Vec::new(),
        }
    }

    pub fn with(mut self, key: &str, value: &str) -> Launch {
        self.extra.push((key.to_string(), value.to_string()));
        self
    }
}

pub struct Instance {
    pub url: String,
    pub port: u16,
    child: Option<Child>,
    log: PathBuf,
}

fn env_key(key: &str) -> String {
    format!("APPEALS__{}", key.to_uppercase().replace('.', "__"))
}

impl Instance {
    /// Starts the binary and waits until it answers `/readyz`.
    pub async fn start(db: &Db, launch: &Launch, name: &str) -> Result<Instance, String> {
        let started = Self::spawn(db, launch, name, free_port()?)?;
        started.ready(Duration::from_secs(60)).await?;
        Ok(started)
    }

    /// Starts the binary on `port` without waiting for it.
    pub fn spawn(db: &Db, launch: &Launch, name: &str, port: u16) -> Result<Instance, String> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let log = db.dir.join(format!("{name}.log"));
        let out = std::fs::File::create(&log).map_err(|e| e.to_string())?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let mut settings: Vec<(String, String)> = [
            ("server.host", "127.0.0.1".to_string()),
            ("server.port", port.to_string()),
            ("database.url", db.url.clone()),
            ("database.max_connections", "5".to_string()),
            ("mail.transport", "smtp".to_string()),
            (
                "mail.smtp_url",
                format!("smtp://127.0.0.1:{}", launch.smtp_port),
            ),
            ("mail.send_timeout_secs", "3".to_string()),
            ("mail.retry_first_secs", "1".to_string()),
            ("mail.poll_interval_ms", "200".to_string()),
            ("mail.shutdown_grace_secs", "5".to_string()),
            (
                "mail.mailbox_dir",
                db.dir.join("mailbox").display().to_string(),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        settings.extend(launch.extra.iter().cloned());
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_appeals"));
        cmd.current_dir(root)
            .arg("--config-dir")
            .arg(root.join("config"))
            .env("APPEALS_ENV", "test")
            .env("RUST_LOG", "info,sqlx=warn,sea_orm=warn")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .kill_on_drop(true);
        for (key, value) in &settings {
            cmd.env(env_key(key), value);
        }
        let child = cmd
            .spawn()
            .map_err(|e| format!("could not start the appeals binary: {e}"))?;
        Ok(Instance {
            url: format!("http://127.0.0.1:{port}"),
            port,
            child: Some(child),
            log,
        })
    }

    pub async fn ready(&self, within: Duration) -> Result<(), String> {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + within;
        loop {
            if let Ok(resp) = client.get(format!("{}/readyz", self.url)).send().await
                && resp.status().is_success()
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "the instance did not become ready in {within:?}; its log: {}",
                    self.log.display()
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `kill -9`: no shutdown code runs.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    /// SIGTERM, as a supervisor stops a service; returns how long it took to exit, or an
    /// error when it was still running after `within` (it is killed then).
    pub async fn terminate(&mut self, within: Duration) -> Result<Duration, String> {
        let Some(mut child) = self.child.take() else {
            return Ok(Duration::ZERO);
        };
        let pid = child.id().ok_or("the instance already exited")?;
        let started = Instant::now();
        std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .map_err(|e| format!("kill -TERM: {e}"))?;
        match tokio::time::timeout(within, child.wait()).await {
            Ok(_) => Ok(started.elapsed()),
            Err(_) => {
                let _ = child.kill().await;
                Err(format!("still running {within:?} after SIGTERM"))
            }
        }
    }
}

/// What the database holds, read after a scenario.
pub struct Ledger {
    db: DatabaseConnection,
}

impl Ledger {
    pub async fn open(db: &Db) -> Result<Ledger, String> {
        Ok(Ledger {
            db: db.connect().await?,
        })
    }

    /// The integer `n` that `sql` selects, or -1 when it selects none.
    pub async fn count(&self, sql: &str) -> i64 {
        let stmt = Statement::from_string(self.db.get_database_backend(), sql.to_string());
        match self.db.query_one_raw(stmt).await {
            // COUNT is a bigint, MIN of an id column an integer.
            Ok(Some(row)) => row
                .try_get::<i64>("", "n")
                .or_else(|_| row.try_get::<i32>("", "n").map(i64::from))
                .unwrap_or(-1),
            _ => -1,
        }
    }

    /// The numbers of the acknowledged appeals that are stored complete: the appeal, its
    /// first history entry and the e-mail to the applicant.
    pub async fn complete(&self, numbers: &[String]) -> usize {
        let mut found = 0;
        for chunk in numbers.chunks(200) {
            let list = chunk
                .iter()
                .filter(|n| n.bytes().all(|b| b.is_ascii_digit() || b == b'-'))
                .map(|n| format!("'{n}'"))
                .collect::<Vec<_>>()
                .join(",");
            if list.is_empty() {
                continue;
            }
            found += self
                .count(&format!(
                    "SELECT COUNT(*) AS n FROM appeals a WHERE a.number IN ({list}) \
                     AND EXISTS (SELECT 1 FROM appeal_events e WHERE e.appeal_id = a.id) \
                     AND EXISTS (SELECT 1 FROM outbox o WHERE o.appeal_id = a.id \
                                 AND o.recipient = a.applicant_email)"
                ))
                .await
                .max(0) as usize;
        }
        found
    }

    /// Outbox rows by status.
    pub async fn outbox(&self) -> HashMap<String, (i64, Vec<i64>)> {
        let stmt = Statement::from_string(
            self.db.get_database_backend(),
            "SELECT id, status FROM outbox".to_string(),
        );
        let mut by_status: HashMap<String, (i64, Vec<i64>)> = HashMap::new();
        if let Ok(rows) = self.db.query_all_raw(stmt).await {
            for row in rows {
                let (Ok(id), Ok(status)) = (
                    row.try_get::<i64>("", "id"),
                    row.try_get::<String>("", "status"),
                ) else {
                    continue;
                };
                let entry = by_status.entry(status).or_default();
                entry.0 += 1;
                entry.1.push(id);
            }
        }
        by_status
    }

    /// Waits until no e-mail is waiting to be sent (all sent or dead), up to `within`.
    pub async fn wait_mail_settled(&self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        loop {
            let waiting = self
                .count("SELECT COUNT(*) AS n FROM outbox WHERE status NOT IN ('sent', 'dead')")
                .await;
            if waiting == 0 {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    pub async fn execute(&self, sql: &str) -> Result<(), String> {
        self.db
            .execute_unprepared(sql)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    pub async fn close(self) {
        let _ = self.db.close().await;
    }
}
