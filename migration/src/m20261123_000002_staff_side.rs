//! The staff side: a grouping key for duplicate appeals, the 152-ФЗ access log, and the
//! staff notification preference.

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
                .add_column(string("subject_key").default(""))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_appeals_subject")
                .table("appeals")
                .col("organization_id")
                .col("subject_key")
                .take(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("staff")
                .add_column(boolean("notify_digest").default(false))
                .take(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("staff")
                .add_column(timestamp_with_time_zone_null("digest_sent_at"))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("appeal_access_log")
                .col(big_pk_auto("id"))
                .col(big_integer("appeal_id"))
                .col(integer("staff_id"))
                .col(string("action"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("appeal_access_log", "appeal_id")
                        .to("appeals", "id"),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from("appeal_access_log", "staff_id")
                        .to("staff", "id"),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_access_log_appeal")
                .table("appeal_access_log")
                .col("appeal_id")
                .take(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("appeal_access_log").take())
            .await?;
        for (table, col) in [
            ("staff", "digest_sent_at"),
            ("staff", "notify_digest"),
            ("appeals", "subject_key"),
        ] {
            m.alter_table(Table::alter().table(table).drop_column(col).take())
                .await?;
        }
        Ok(())
    }
}
