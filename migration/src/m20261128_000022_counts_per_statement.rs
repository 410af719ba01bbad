//! PostgreSQL: appeals inserted together are counted by one statement-level trigger that
//! reads them from a transition table, instead of by the row trigger of migration 017
//! once per appeal at commit. The registrar files up to sixteen appeals in one INSERT;
//! counted row by row, each took a PL/pgSQL call and two or three upserts, 19% of the
//! database's CPU under a registration surge. Counted per statement, a group is three
//! upserts in all. Changes and removals (one appeal at a time, by staff) keep the row
//! trigger.
//!
//! A statement trigger cannot be deferred, so a group holds its counter rows from its
//! INSERT to its commit, where the row trigger held them only through the commit. So that
//! the registrar's four writers do not wait for each other there, each transaction counts
//! in a slot no other running transaction holds (an advisory lock per slot, tried from
//! the slot of its transaction id on), where migration 019 took the slot of the
//! transaction id alone and two of four groups often shared one. Only with all eight
//! slots busy does a transaction share a slot, and wait, as before.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::m20261127_000017_inbox_counts::{open_list, track_function, track_trigger};
use crate::m20261128_000019_counts_per_transaction::PER_TRANSACTION;

#[derive(DeriveMigrationName)]
pub struct Migration;

const SLOT: &str = "appeal_counts_slot()";

/// The transaction's counter slot: the one it chose before (kept in a transaction-local
/// setting), else the first slot from its transaction id's that no other transaction
/// holds. The advisory lock key is «coun» in ASCII.
const SLOT_FUNCTION: &str = "
CREATE OR REPLACE FUNCTION appeal_counts_slot() RETURNS SMALLINT AS $$
DECLARE
    chosen TEXT := NULLIF(current_setting('appeals.count_slot', true), '');
    first INTEGER;
BEGIN
    IF chosen IS NOT NULL THEN
        RETURN chosen::SMALLINT;
    END IF;
    first := (txid_current() % 8)::INTEGER;
    FOR i IN 0..7 LOOP
        IF pg_try_advisory_xact_lock(1668248942, (first + i) % 8) THEN
            PERFORM set_config('appeals.count_slot', ((first + i) % 8)::TEXT, true);
            RETURN ((first + i) % 8)::SMALLINT;
        END IF;
    END LOOP;
    RETURN first::SMALLINT;
END $$ LANGUAGE plpgsql;
";

/// The counts of the appeals a statement inserted (`filed`): per status, the keyed groups
/// they open or join, and the groups opened (a child's first open appeal at the school,
/// or an appeal without a child key). Each upsert takes its rows in order of
/// organization and child, so two transactions never take shared rows crosswise.
fn filed_function(open: &str) -> String {
    format!(
        "
CREATE OR REPLACE FUNCTION appeal_counts_filed() RETURNS trigger AS $$
DECLARE sl SMALLINT := {SLOT};
BEGIN
    INSERT INTO appeal_counts (organization_id, status, slot, n)
    SELECT organization_id, status, sl, COUNT(*) FROM filed
    GROUP BY organization_id, status ORDER BY organization_id, status
    ON CONFLICT (organization_id, status, slot) DO UPDATE SET n = appeal_counts.n + EXCLUDED.n;
    WITH keyed AS (
        SELECT organization_id, subject_key, COUNT(*) AS n FROM filed
        WHERE status IN {open} AND subject_key <> ''
        GROUP BY organization_id, subject_key
    ), joined AS (
        INSERT INTO open_groups (organization_id, subject_key, n)
        SELECT organization_id, subject_key, n FROM keyed ORDER BY organization_id, subject_key
        ON CONFLICT (organization_id, subject_key) DO UPDATE SET n = open_groups.n + EXCLUDED.n
        RETURNING organization_id, subject_key, n
    ), opened AS (
        SELECT j.organization_id FROM joined j JOIN keyed k USING (organization_id, subject_key)
        WHERE j.n = k.n
        UNION ALL
        SELECT organization_id FROM filed WHERE status IN {open} AND subject_key = ''
    )
    INSERT INTO appeal_counts (organization_id, status, slot, n)
    SELECT organization_id, '_groups', sl, COUNT(*) FROM opened
    GROUP BY organization_id ORDER BY organization_id
    ON CONFLICT (organization_id, status, slot) DO UPDATE SET n = appeal_counts.n + EXCLUDED.n;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
"
    )
}

/// The row trigger of migration 017 on `events` (`INSERT OR ` only on the way down), its
/// function counting in `slot`.
fn row_counting(events: &str, slot: &str) -> String {
    format!(
        "{function} DROP TRIGGER IF EXISTS appeal_counts_track ON appeals; {trigger}",
        function = track_function(&open_list(), slot, slot),
        trigger = track_trigger(events)
    )
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == DbBackend::Postgres {
            let sql = format!(
                "{SLOT_FUNCTION} {filed} {rows} \
                 CREATE TRIGGER appeal_counts_filed AFTER INSERT ON appeals \
                 REFERENCING NEW TABLE AS filed \
                 FOR EACH STATEMENT EXECUTE FUNCTION appeal_counts_filed();",
                filed = filed_function(&open_list()),
                rows = row_counting("", SLOT),
            );
            m.get_connection().execute_unprepared(&sql).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == DbBackend::Postgres {
            let sql = format!(
                "DROP TRIGGER IF EXISTS appeal_counts_filed ON appeals; \
                 DROP FUNCTION IF EXISTS appeal_counts_filed(); {} \
                 DROP FUNCTION IF EXISTS appeal_counts_slot();",
                row_counting("INSERT OR ", PER_TRANSACTION)
            );
            m.get_connection().execute_unprepared(&sql).await?;
        }
        Ok(())
    }
}
