//! The inbox's default order — unassigned first, then oldest — as an index, so a page is
//! read in order and the query stops after it instead of sorting the whole school.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Expression indexes are the same SQL on PostgreSQL and SQLite; the expression
        // must match `ASSIGNED_FLAG` in src/store/inbox.rs for the planner to use it.
        m.get_connection()
            .execute_unprepared(
                "CREATE INDEX IF NOT EXISTS ix_appeals_queue ON appeals \
                 (organization_id, (CASE WHEN assigned_staff_id IS NULL THEN 0 ELSE 1 END), created_at, id)",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared("DROP INDEX IF EXISTS ix_appeals_queue")
            .await?;
        Ok(())
    }
}
