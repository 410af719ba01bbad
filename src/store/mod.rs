//! Persistence: sea-orm entities and every query. The only module that speaks SQL.

pub mod appeals;
pub mod audit;
pub mod consents;
pub mod dashboard;
pub mod demo;
pub mod directory;
pub mod entities;
pub mod escalation;
pub mod imports;
pub mod inbox;
pub mod outbox;
pub mod person_data;
pub mod registrar;
pub mod retention;
pub mod roster;
pub mod sessions;
pub mod staff;

use std::path::Path;
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::SqliteJournalMode;
use sea_orm::{
    ActiveModelTrait, ConnectOptions, ConnectionTrait, Database, DatabaseConnection,
    DatabaseTransaction, DbBackend, DbErr, EntityTrait, SqlErr, SqliteTransactionMode, Statement,
    TransactionOptions, TransactionTrait, Value,
};

pub use sea_orm::DatabaseConnection as Db;

/// How long a request waits for a database connection: an outage answers «Сервис временно
/// недоступен» in seconds instead of holding every request.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

pub async fn connect(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbErr> {
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .and_then(|p| p.split('?').next())
        && let Some(dir) = std::path::Path::new(path).parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)
            .map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", dir.display())))?;
    }
    let mut opts = ConnectOptions::new(url);
    opts.max_connections(max_connections)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_timeout(ACQUIRE_TIMEOUT)
        // Connections are renewed now and then: one that went bad (a SQLite file that was
        // read-only for a while, a server that failed over) does not stay in the pool.
        .max_lifetime(Duration::from_secs(300))
        .idle_timeout(Duration::from_secs(60))
        .sqlx_logging(false)
        // SQLite: WAL lets readers run beside the writer; the busy timeout queues writers
        // instead of failing them; foreign keys are off unless asked for.
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        });
    // Two instances starting on a new SQLite file: switching it to WAL needs the file to
    // itself and fails at once with «database is locked» (no busy wait) while the other
    // one migrates. Wait for it, as the migrations themselves do, up to the busy timeout.
    let sqlite = url.starts_with("sqlite:");
    let mut tries = 0;
    loop {
        match Database::connect(opts.clone()).await {
            Err(e) if sqlite && is_connection_lost(&e) && tries < 40 => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            other => return other,
        }
    }
}

/// Applies pending migrations (see [`prepare`]).
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    prepare(db, None).await.map(|_| ())
}

/// Applies pending migrations and, when asked, seeds the demo directory (true when it did),
/// one instance at a time: instances starting together on an empty database take turns
/// and the later ones find nothing to do.
pub async fn prepare(db: &DatabaseConnection, demo: Option<&Path>) -> Result<bool, DbErr> {
    // SQLite: the write transaction holds the single write lock; PostgreSQL: an advisory
    // lock held until commit.
    let txn = begin_write(db).await?;
    if is_postgres(&txn) {
        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({SETUP_LOCK})"))
            .await?;
    }
    Migrator::up(&txn, None).await?;
    let seeded = match demo {
        Some(path) => demo::seed(&txn, path).await?,
        None => false,
    };
    txn.commit().await?;
    Ok(seeded)
}

/// Begins a transaction that will write. On SQLite it takes the single write lock at
/// BEGIN (IMMEDIATE, waiting under the busy timeout): a deferred transaction that reads
/// first fails its later write at once with SQLITE_BUSY when another connection wrote in
/// between, which the busy timeout does not cover (two people redeeming one binding code
/// got a 500). PostgreSQL ignores the mode.
pub(crate) async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// The advisory lock key setup takes on PostgreSQL («appeal» in ASCII).
const SETUP_LOCK: i64 = 0x6170_7065_616c;

/// Readiness: the database takes a write (a statement that changes nothing still needs
/// write access: a read-only SQLite file or a read-only PostgreSQL standby fails it).
pub async fn ready(db: &DatabaseConnection) -> Result<(), DbErr> {
    db.execute_unprepared("UPDATE appeal_counters SET last_value = last_value WHERE year = -1")
        .await
        .map(|_| ())
}

/// The database went away under the request rather than refusing it: the pool had no
/// connection, the server cut ours (SQLSTATE class 08 connection exception, 57P operator
/// intervention: a restart, a failover, `pg_terminate_backend`), the socket failed, or
/// the SQLite file stayed locked past the busy timeout, became read-only or unwritable,
/// or the disk is full. A retry later can succeed,
/// so callers answer «temporarily unavailable», not an internal error.
pub fn is_connection_lost(err: &DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    if matches!(err, DbErr::ConnectionAcquire(_) | DbErr::Conn(_)) {
        return true;
    }
    let Some(e) = sqlx_error(err) else {
        return false;
    };
    match e {
        Sqlx::Io(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::WorkerCrashed => true,
        Sqlx::Database(db) => {
            let code = db.code().unwrap_or_default();
            if db
                .try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>()
                .is_some()
            {
                // The primary result code is the low byte of the extended one: BUSY,
                // READONLY, IOERR, FULL, CANTOPEN.
                code.parse::<i32>()
                    .is_ok_and(|c| matches!(c & 0xff, 5 | 8 | 10 | 13 | 14))
            } else {
                code.starts_with("08") || code.starts_with("57P")
            }
        }
        _ => false,
    }
}

/// The database gave up this transaction rather than the request: the connection was
/// lost, or PostgreSQL chose it as a deadlock's victim or failed its serialization
/// (SQLSTATE 40P01, 40001). The same request again can succeed: «временно недоступен».
pub fn is_transient(err: &DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    is_connection_lost(err)
        || matches!(sqlx_error(err), Some(Sqlx::Database(db))
            if db.code().is_some_and(|c| c == "40P01" || c == "40001"))
}

fn sqlx_error(err: &DbErr) -> Option<&sea_orm::sqlx::Error> {
    match err {
        DbErr::Query(sea_orm::RuntimeErr::SqlxError(e))
        | DbErr::Exec(sea_orm::RuntimeErr::SqlxError(e)) => Some(e.as_ref()),
        _ => None,
    }
}

pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// A stored value the application cannot read: an error naming the table, row and column,
/// reported once where it surfaces (a 500 page and one log line), never read as another
/// value. The value itself stays out of the log: a broken import can put a name anywhere.
pub(crate) fn corrupt(table: &str, id: impl std::fmt::Display, what: &str) -> DbErr {
    DbErr::Custom(format!("corrupt value in {table} row {id}: {what}"))
}

/// The pool's connections now: open, and of those idle.
pub fn pool_usage(db: &DatabaseConnection) -> (u32, usize) {
    match db.get_database_backend() {
        DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        DbBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => (0, 0),
    }
}

/// Inserts `rows` in statements of at most [`ROWS_PER_INSERT`]: a statement binds at most
/// 65,535 values on PostgreSQL and 32,766 on SQLite, and a registration group's e-mails
/// to a whole municipality's operators can pass that.
pub(crate) async fn insert_in_chunks<A>(
    db: &impl ConnectionTrait,
    mut rows: Vec<A>,
) -> Result<(), DbErr>
where
    A: ActiveModelTrait,
{
    while !rows.is_empty() {
        let rest = rows.split_off(rows.len().min(ROWS_PER_INSERT));
        <A::Entity as EntityTrait>::insert_many(rows)
            .exec(db)
            .await?;
        rows = rest;
    }
    Ok(())
}

/// Rows of up to 20 columns stay well inside both databases' limits on bound values.
const ROWS_PER_INSERT: usize = 1000;

pub fn is_postgres(db: &impl ConnectionTrait) -> bool {
    db.get_database_backend() == DbBackend::Postgres
}

/// Raw SQL with bound values and the backend's placeholders (`$1` on PostgreSQL, `?1` on
/// SQLite), for the few queries the query builder cannot express.
pub(crate) struct Sql {
    backend: DbBackend,
    text: String,
    values: Vec<Value>,
}

impl Sql {
    pub(crate) fn new(backend: DbBackend) -> Self {
        Self {
            backend,
            text: String::new(),
            values: Vec::new(),
        }
    }

    /// Appends SQL text written in the source: a `&'static str` cannot carry a value a
    /// person typed, so values must go through [`Sql::bind`].
    pub(crate) fn push(&mut self, sql: &'static str) -> &mut Self {
        self.text.push_str(sql);
        self
    }

    /// Appends SQL text computed by the program (status lists from the domain, a numeric
    /// LIMIT, a backend-specific clause). Never pass anything derived from input here.
    pub(crate) fn push_trusted(&mut self, sql: &str) -> &mut Self {
        self.text.push_str(sql);
        self
    }

    /// Binds each value, separated by commas (the inside of `IN (…)` or `ARRAY[…]`).
    pub(crate) fn bind_list<V: Into<Value>>(
        &mut self,
        values: impl IntoIterator<Item = V>,
    ) -> &mut Self {
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(v);
        }
        self
    }

    pub(crate) fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.values.push(value.into());
        let n = self.values.len();
        let placeholder = if self.backend == DbBackend::Postgres {
            format!("${n}")
        } else {
            format!("?{n}")
        };
        self.text.push_str(&placeholder);
        self
    }

    pub(crate) fn is_postgres(&self) -> bool {
        self.backend == DbBackend::Postgres
    }

    pub(crate) fn build(self) -> Statement {
        Statement::from_sql_and_values(self.backend, self.text, self.values)
    }
}
