//! PostgreSQL: a word index for staff search by a whole ФИО. The trigram index answers a
//! search of several words by reading the posting list of each of its trigrams, and those
//! of a common surname and patronymic cover most of a region's appeals (237 ms at a
//! million); the words of a name are few and exact, so an index on them reads only the
//! appeals that have all the complete words typed.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == DbBackend::Postgres {
            m.get_connection()
                .execute_unprepared(
                    "CREATE INDEX IF NOT EXISTS ix_appeals_search_words ON appeals \
                     USING gin (string_to_array(search_norm, ' '))",
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == DbBackend::Postgres {
            m.get_connection()
                .execute_unprepared("DROP INDEX IF EXISTS ix_appeals_search_words")
                .await?;
        }
        Ok(())
    }
}
