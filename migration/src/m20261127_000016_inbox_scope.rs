//! An operator's inbox at a million appeals: every appeal carries its municipality and
//! region (kept by triggers in the same statement, on filing, forwarding and a school
//! moving), so a multi-school scope is an index prefix in the inbox's own order instead
//! of an IN list read in full and sorted; and appeal numbers have an index their prefix
//! can walk on PostgreSQL whatever the database's collation.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The queue order of `store::inbox` (unassigned first, then oldest), after a scope column.
fn queue_index(name: &str, scope: &str) -> String {
    format!(
        "CREATE INDEX IF NOT EXISTS {name} ON appeals \
         ({scope}, (CASE WHEN assigned_staff_id IS NULL THEN 0 ELSE 1 END), created_at, id)"
    )
}

const POSTGRES: &str = "
CREATE OR REPLACE FUNCTION appeals_scope() RETURNS trigger AS $$
BEGIN
    SELECT o.municipality_id, m.region_id INTO NEW.municipality_id, NEW.region_id
    FROM organizations o JOIN municipalities m ON m.id = o.municipality_id
    WHERE o.id = NEW.organization_id;
    RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER appeals_scope BEFORE INSERT OR UPDATE OF organization_id ON appeals
    FOR EACH ROW EXECUTE FUNCTION appeals_scope();
CREATE OR REPLACE FUNCTION organizations_scope() RETURNS trigger AS $$
BEGIN
    UPDATE appeals SET organization_id = organization_id WHERE organization_id = NEW.id;
    RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER organizations_scope AFTER UPDATE OF municipality_id ON organizations
    FOR EACH ROW EXECUTE FUNCTION organizations_scope();
CREATE INDEX IF NOT EXISTS ix_appeals_number_c ON appeals (number COLLATE \"C\");
";

const SQLITE_SET: &str = "UPDATE appeals SET \
    municipality_id = (SELECT municipality_id FROM organizations WHERE id = NEW.organization_id), \
    region_id = (SELECT m.region_id FROM organizations o JOIN municipalities m ON m.id = o.municipality_id \
                 WHERE o.id = NEW.organization_id) \
    WHERE id = NEW.id;";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one column per ALTER TABLE.
        for column in [
            integer("municipality_id").default(0),
            integer("region_id").default(0),
        ] {
            m.alter_table(Table::alter().table("appeals").add_column(column).take())
                .await?;
        }
        let db = m.get_connection();
        db.execute_unprepared(
            "UPDATE appeals SET \
             municipality_id = (SELECT o.municipality_id FROM organizations o WHERE o.id = appeals.organization_id), \
             region_id = (SELECT mu.region_id FROM organizations o JOIN municipalities mu ON mu.id = o.municipality_id \
                          WHERE o.id = appeals.organization_id)",
        )
        .await?;
        if db.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared(POSTGRES).await?;
        } else {
            db.execute_unprepared(&format!(
                "CREATE TRIGGER IF NOT EXISTS appeals_scope_filed AFTER INSERT ON appeals \
                 BEGIN {SQLITE_SET} END; \
                 CREATE TRIGGER IF NOT EXISTS appeals_scope_forwarded AFTER UPDATE OF organization_id ON appeals \
                 BEGIN {SQLITE_SET} END; \
                 CREATE TRIGGER IF NOT EXISTS organizations_scope AFTER UPDATE OF municipality_id ON organizations \
                 BEGIN UPDATE appeals SET organization_id = organization_id WHERE organization_id = NEW.id; END;"
            ))
            .await?;
        }
        db.execute_unprepared(&queue_index(
            "ix_appeals_queue_municipality",
            "municipality_id",
        ))
        .await?;
        db.execute_unprepared(&queue_index("ix_appeals_queue_region", "region_id"))
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        let drop = if db.get_database_backend() == DbBackend::Postgres {
            "DROP TRIGGER IF EXISTS organizations_scope ON organizations; \
             DROP TRIGGER IF EXISTS appeals_scope ON appeals; \
             DROP FUNCTION IF EXISTS organizations_scope(); DROP FUNCTION IF EXISTS appeals_scope(); \
             DROP INDEX IF EXISTS ix_appeals_number_c;"
        } else {
            "DROP TRIGGER IF EXISTS organizations_scope; DROP TRIGGER IF EXISTS appeals_scope_forwarded; \
             DROP TRIGGER IF EXISTS appeals_scope_filed;"
        };
        db.execute_unprepared(drop).await?;
        db.execute_unprepared(
            "DROP INDEX IF EXISTS ix_appeals_queue_region; DROP INDEX IF EXISTS ix_appeals_queue_municipality;",
        )
        .await?;
        for column in ["region_id", "municipality_id"] {
            m.alter_table(Table::alter().table("appeals").drop_column(column).take())
                .await?;
        }
        Ok(())
    }
}
