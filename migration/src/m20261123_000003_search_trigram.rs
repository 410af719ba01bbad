//! PostgreSQL: trigram index for staff search over `search_norm` (DESIGN.md: ~15 ms over
//! 1M appeals inside one organization). pg_trgm needs a privileged role to install; where
//! it is not available the search still works, only slower, so its absence must not stop
//! the migration.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = m.get_connection();
        db.execute_unprepared(
            "DO $$ BEGIN CREATE EXTENSION IF NOT EXISTS pg_trgm; \
             EXCEPTION WHEN others THEN RAISE NOTICE 'pg_trgm is not available: %', SQLERRM; END $$",
        )
        .await?;
        db.execute_unprepared(
            "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN \
             CREATE INDEX IF NOT EXISTS ix_appeals_search_trgm ON appeals USING gin (search_norm gin_trgm_ops); \
             END IF; END $$",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == DbBackend::Postgres {
            m.get_connection()
                .execute_unprepared("DROP INDEX IF EXISTS ix_appeals_search_trgm")
                .await?;
        }
        Ok(())
    }
}
