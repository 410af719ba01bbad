//! The inbox tabs' counts without reading the scope: appeals per organization and status,
//! and per organization the groups the open ones fold into (one per child, or one per
//! appeal without a child key), kept exact by triggers in the transaction that changes an
//! appeal. A scope's figures are then a sum over its organizations' rows.
//!
//! `appeal_counts` holds `(organization, status, slot, n)`, with the status `_groups` for
//! the open groups; `open_groups` holds how many open appeals each keyed group has. On
//! PostgreSQL the trigger is deferred to commit and each appeal counts in one of 8 slots
//! (its id modulo 8; one per transaction since migration 019), so concurrent filings at
//! one school do not queue on one counter row; SQLite has one writer and uses slot 0.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

use crate::OPEN_STATUSES;

#[derive(DeriveMigrationName)]
pub struct Migration;

pub(crate) fn open_list() -> String {
    let quoted: Vec<String> = OPEN_STATUSES.iter().map(|s| format!("'{s}'")).collect();
    format!("({})", quoted.join(", "))
}

const TABLES: &str = "
CREATE TABLE appeal_counts (
    organization_id INTEGER NOT NULL,
    status VARCHAR NOT NULL,
    slot SMALLINT NOT NULL DEFAULT 0,
    n BIGINT NOT NULL,
    PRIMARY KEY (organization_id, status, slot)
);
CREATE TABLE open_groups (
    organization_id INTEGER NOT NULL,
    subject_key VARCHAR NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (organization_id, subject_key)
);
";

/// The figures recomputed from the appeals themselves.
pub fn recount() -> String {
    let open = open_list();
    format!(
        "DELETE FROM appeal_counts; DELETE FROM open_groups; \
         INSERT INTO appeal_counts (organization_id, status, n) \
         SELECT organization_id, status, COUNT(*) FROM appeals GROUP BY organization_id, status; \
         INSERT INTO open_groups (organization_id, subject_key, n) \
         SELECT organization_id, subject_key, COUNT(*) FROM appeals \
         WHERE status IN {open} AND subject_key <> '' GROUP BY organization_id, subject_key; \
         INSERT INTO appeal_counts (organization_id, status, n) \
         SELECT organization_id, '_groups', SUM(n) FROM ( \
           SELECT organization_id, COUNT(*) AS n FROM open_groups GROUP BY organization_id \
           UNION ALL SELECT organization_id, COUNT(*) FROM appeals \
           WHERE status IN {open} AND subject_key = '' GROUP BY organization_id) g \
         GROUP BY organization_id;"
    )
}

/// The function that adds `d` to one counter row, in SQL (as this migration made it) or
/// in PL/pgSQL (migration 021).
pub(crate) fn bump_function(plpgsql: bool) -> String {
    let upsert = "INSERT INTO appeal_counts (organization_id, status, slot, n) VALUES (org, st, sl, d) \
                  ON CONFLICT (organization_id, status, slot) DO UPDATE SET n = appeal_counts.n + d;";
    let (body, language) = if plpgsql {
        (format!("BEGIN {upsert} END"), "plpgsql")
    } else {
        (upsert.to_string(), "sql")
    };
    format!(
        "CREATE OR REPLACE FUNCTION appeal_counts_bump(org INTEGER, st VARCHAR, sl SMALLINT, d BIGINT) \
         RETURNS void AS $$ {body} $$ LANGUAGE {language};"
    )
}

fn postgres(open: &str) -> String {
    let track = track_function(open, PER_APPEAL.0, PER_APPEAL.1);
    let bump = bump_function(false);
    format!(
        "
{bump}
CREATE OR REPLACE FUNCTION appeal_counts_group(org INTEGER, key VARCHAR, sl SMALLINT, d BIGINT)
RETURNS void AS $$
DECLARE left_n BIGINT;
BEGIN
    IF key = '' THEN
        PERFORM appeal_counts_bump(org, '_groups', sl, d);
        RETURN;
    END IF;
    INSERT INTO open_groups (organization_id, subject_key, n) VALUES (org, key, d)
    ON CONFLICT (organization_id, subject_key) DO UPDATE SET n = open_groups.n + d
    RETURNING n INTO left_n;
    IF (d > 0 AND left_n = d) OR (d < 0 AND left_n = 0) THEN
        PERFORM appeal_counts_bump(org, '_groups', sl, d);
    END IF;
    IF left_n = 0 THEN
        DELETE FROM open_groups WHERE organization_id = org AND subject_key = key AND n = 0;
    END IF;
END $$ LANGUAGE plpgsql;
{track}
{trigger}
",
        trigger = track_trigger("INSERT OR ")
    )
}

/// The deferred row trigger that calls `appeal_counts_track` on `events` (`INSERT OR `
/// here; migration 022 counts insertions per statement and leaves it the rest).
pub(crate) fn track_trigger(events: &str) -> String {
    format!(
        "CREATE CONSTRAINT TRIGGER appeal_counts_track \
         AFTER {events}UPDATE OF status, organization_id, subject_key OR DELETE ON appeals \
         DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION appeal_counts_track();"
    )
}

/// The counter slot of a removal and of an addition: the appeal's id modulo 8 (migration
/// 019 makes it one slot per transaction).
pub(crate) const PER_APPEAL: (&str, &str) = ("(OLD.id % 8)::SMALLINT", "(NEW.id % 8)::SMALLINT");

/// The trigger function that moves the figures of a changed appeal; `old_slot` and
/// `new_slot` are the SQL of the counter slot a removal and an addition go to.
pub(crate) fn track_function(open: &str, old_slot: &str, new_slot: &str) -> String {
    format!(
        "
CREATE OR REPLACE FUNCTION appeal_counts_track() RETURNS trigger AS $$
BEGIN
    -- A change that moves no figure (a forward to the same school, a closed appeal's key
    -- anonymised) writes no counter row.
    IF TG_OP = 'UPDATE' AND OLD.status = NEW.status AND OLD.organization_id = NEW.organization_id
       AND (OLD.subject_key = NEW.subject_key OR OLD.status NOT IN {open}) THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM appeal_counts_bump(OLD.organization_id, OLD.status, {old_slot}, -1);
        IF OLD.status IN {open} THEN
            PERFORM appeal_counts_group(OLD.organization_id, OLD.subject_key, {old_slot}, -1);
        END IF;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        PERFORM appeal_counts_bump(NEW.organization_id, NEW.status, {new_slot}, 1);
        IF NEW.status IN {open} THEN
            PERFORM appeal_counts_group(NEW.organization_id, NEW.subject_key, {new_slot}, 1);
        END IF;
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
"
    )
}

/// SQLite triggers run no procedures: each change of a row is the steps below, guarded by
/// WHEN. `{row}` is NEW or OLD, `{d}` +1 or -1.
fn sqlite_steps(row: &str, d: i32, open: &str) -> String {
    let group_edge = if d > 0 { "1" } else { "0" };
    format!(
        "INSERT INTO appeal_counts (organization_id, status, n) VALUES ({row}.organization_id, {row}.status, {d}) \
           ON CONFLICT (organization_id, status, slot) DO UPDATE SET n = n + {d}; \
         INSERT INTO open_groups (organization_id, subject_key, n) \
           SELECT {row}.organization_id, {row}.subject_key, {d} \
           WHERE {row}.status IN {open} AND {row}.subject_key <> '' \
           ON CONFLICT (organization_id, subject_key) DO UPDATE SET n = n + {d}; \
         INSERT INTO appeal_counts (organization_id, status, n) \
           SELECT {row}.organization_id, '_groups', {d} \
           WHERE {row}.status IN {open} AND ({row}.subject_key = '' OR (SELECT n FROM open_groups \
             WHERE organization_id = {row}.organization_id AND subject_key = {row}.subject_key) = {group_edge}) \
           ON CONFLICT (organization_id, status, slot) DO UPDATE SET n = n + {d}; \
         DELETE FROM open_groups WHERE organization_id = {row}.organization_id \
           AND subject_key = {row}.subject_key AND n = 0;"
    )
}

fn sqlite(open: &str) -> String {
    let (add, remove) = (sqlite_steps("NEW", 1, open), sqlite_steps("OLD", -1, open));
    // The old row leaves before the new one joins (one trigger, in this order).
    format!(
        "CREATE TRIGGER appeal_counts_filed AFTER INSERT ON appeals BEGIN {add} END; \
         CREATE TRIGGER appeal_counts_changed AFTER UPDATE OF status, organization_id, subject_key ON appeals \
           WHEN OLD.status <> NEW.status OR OLD.organization_id <> NEW.organization_id \
             OR (OLD.subject_key <> NEW.subject_key AND OLD.status IN {open}) \
           BEGIN {remove} {add} END; \
         CREATE TRIGGER appeal_counts_deleted AFTER DELETE ON appeals BEGIN {remove} END;"
    )
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        let open = open_list();
        db.execute_unprepared(TABLES).await?;
        db.execute_unprepared(&recount()).await?;
        let triggers = if db.get_database_backend() == DbBackend::Postgres {
            postgres(&open)
        } else {
            sqlite(&open)
        };
        db.execute_unprepared(&triggers).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        let drop = if db.get_database_backend() == DbBackend::Postgres {
            "DROP TRIGGER IF EXISTS appeal_counts_track ON appeals; \
             DROP FUNCTION IF EXISTS appeal_counts_track(); \
             DROP FUNCTION IF EXISTS appeal_counts_group(INTEGER, VARCHAR, SMALLINT, BIGINT); \
             DROP FUNCTION IF EXISTS appeal_counts_bump(INTEGER, VARCHAR, SMALLINT, BIGINT);"
        } else {
            "DROP TRIGGER IF EXISTS appeal_counts_filed; DROP TRIGGER IF EXISTS appeal_counts_changed; \
             DROP TRIGGER IF EXISTS appeal_counts_deleted;"
        };
        db.execute_unprepared(drop).await?;
        db.execute_unprepared(
            "DROP TABLE IF EXISTS open_groups; DROP TABLE IF EXISTS appeal_counts;",
        )
        .await?;
        Ok(())
    }
}
