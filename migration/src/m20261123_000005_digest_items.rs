//! Staff digests as a queue: one row per appeal a digest subscriber is to hear about,
//! written in the transaction that registers or forwards the appeal, so no appeal can slip
//! between two digests.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("staff_digest_items")
                .col(big_pk_auto("id"))
                .col(integer("staff_id"))
                .col(big_integer("appeal_id"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("sent_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("staff_digest_items", "staff_id")
                        .to("staff", "id"),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from("staff_digest_items", "appeal_id")
                        .to("appeals", "id"),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_digest_items_pending")
                .table("staff_digest_items")
                .col("staff_id")
                .col("sent_at")
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("staff_digest_items").take())
            .await
    }
}
