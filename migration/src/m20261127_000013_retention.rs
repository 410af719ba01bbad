//! Personal-data retention (152-ФЗ): when a closed appeal was anonymised.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("appeals")
                .add_column(timestamp_with_time_zone_null("anonymized_at"))
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("appeals")
                .drop_column("anonymized_at")
                .take(),
        )
        .await
    }
}
