//! PostgreSQL: the counter bump of migration 017 in PL/pgSQL instead of SQL. PostgreSQL 15
//! parses and plans the body of an SQL function that cannot be inlined (an INSERT) on
//! every call, and the counting trigger calls it once or twice for every appeal filed:
//! 17% of the database's CPU under a registration surge went to that. A PL/pgSQL body
//! keeps its plan for the session.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::m20261127_000017_inbox_counts::bump_function;

#[derive(DeriveMigrationName)]
pub struct Migration;

async fn define(m: &SchemaManager<'_>, plpgsql: bool) -> Result<(), DbErr> {
    if m.get_database_backend() == DbBackend::Postgres {
        m.get_connection()
            .execute_unprepared(&bump_function(plpgsql))
            .await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        define(m, true).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        define(m, false).await
    }
}
