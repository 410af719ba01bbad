//! 59-ФЗ deadlines: one extension of the answer term (when and why) and when the appeal
//! was answered, for the appeal page, the inbox and the reports.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one column per ALTER TABLE.
        for column in [
            timestamp_with_time_zone_null("extended_at"),
            text_null("extension_reason"),
            timestamp_with_time_zone_null("answered_at"),
        ] {
            m.alter_table(Table::alter().table("appeals").add_column(column).take())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in ["extended_at", "extension_reason", "answered_at"] {
            m.alter_table(Table::alter().table("appeals").drop_column(column).take())
                .await?;
        }
        Ok(())
    }
}
