//! Consent to the processing of personal data (152-ФЗ ст. 9): given once per person and
//! text version, and copied onto every appeal filed under it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("consents")
                .col(pk_auto("id"))
                .col(string("applicant_oid"))
                .col(string("version"))
                .col(timestamp_with_time_zone("given_at"))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("consents_person_version")
                .table("consents")
                .col("applicant_oid")
                .col("version")
                .unique()
                .take(),
        )
        .await?;
        // SQLite takes one column per ALTER TABLE.
        for column in [
            string_null("consent_version"),
            timestamp_with_time_zone_null("consent_given_at"),
        ] {
            m.alter_table(Table::alter().table("appeals").add_column(column).take())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in ["consent_given_at", "consent_version"] {
            m.alter_table(Table::alter().table("appeals").drop_column(column).take())
                .await?;
        }
        m.drop_table(Table::drop().table("consents").take()).await
    }
}
