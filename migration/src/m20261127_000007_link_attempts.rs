//! Attempts at «Привязать учетную запись» codes, counted per ESIA account and per client
//! address in the database, so parallel requests, new logins and several instances all
//! count against the same limit.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("link_attempts")
                .col(big_pk_auto("id"))
                .col(string("esia_oid"))
                .col(string("client"))
                .col(timestamp_with_time_zone("created_at"))
                .take(),
        )
        .await?;
        for (name, col) in [
            ("ix_link_attempts_oid", "esia_oid"),
            ("ix_link_attempts_client", "client"),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table("link_attempts")
                    .col(col)
                    .col("created_at")
                    .take(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("link_attempts").take())
            .await
    }
}
