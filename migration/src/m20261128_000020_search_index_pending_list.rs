//! PostgreSQL: the two search indexes (GIN) take new entries into a pending list that the
//! inserting transaction merges into the index once the list is full. At the default
//! 4 MB a merge every few thousand appeals stalled one registration group for 30–130 ms
//! (the September surge's p99: 55 ms); at 256 kB the merges are small and frequent (p99
//! 34–42 ms, 5% fewer appeals a second).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEXES: [&str; 2] = ["ix_appeals_search_trgm", "ix_appeals_search_words"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == DbBackend::Postgres {
            for index in INDEXES {
                m.get_connection()
                    .execute_unprepared(&format!(
                        "ALTER INDEX {index} SET (gin_pending_list_limit = 256)"
                    ))
                    .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == DbBackend::Postgres {
            for index in INDEXES {
                m.get_connection()
                    .execute_unprepared(&format!(
                        "ALTER INDEX {index} RESET (gin_pending_list_limit)"
                    ))
                    .await?;
            }
        }
        Ok(())
    }
}
