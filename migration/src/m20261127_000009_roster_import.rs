//! What a roster import brings besides the keys (gender, a parent's e-mail and phone,
//! students archived when a file leaves them out),
//! and the record of corrections staff made through appeals, so an import can tell «the
//! school has not applied our fix yet» from «the school changed it».

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one column per ALTER TABLE.
        for column in [
            string_null("gender"),
            string_null("email"),
            string_null("phone"),
            timestamp_with_time_zone_null("archived_at"),
        ] {
            m.alter_table(
                Table::alter()
                    .table("roster_persons")
                    .add_column(column)
                    .take(),
            )
            .await?;
        }
        m.create_table(
            Table::create()
                .table("roster_corrections")
                .col(pk_auto("id"))
                .col(integer("roster_person_id"))
                .col(string("name_norm_before"))
                .col(date("birth_date_before"))
                .col(string_null("snils_before"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("roster_corrections", "roster_person_id")
                        .to("roster_persons", "id"),
                )
                .take(),
        )
        .await?;
        // An import looks every person up by organization and key, or by СНИЛС: without
        // these SQLite picks the organization index and scans the school per row.
        for (name, columns) in [
            (
                "ix_roster_org_key",
                &["organization_id", "name_norm", "birth_date"][..],
            ),
            ("ix_roster_org_snils", &["organization_id", "snils"][..]),
        ] {
            let mut index = Index::create();
            index.name(name).table("roster_persons");
            for column in columns {
                index.col(*column);
            }
            m.create_index(index).await?;
        }
        m.create_index(
            Index::create()
                .name("ix_roster_corrections_before")
                .table("roster_corrections")
                .col("name_norm_before")
                .col("birth_date_before")
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("roster_corrections").take())
            .await?;
        for index in ["ix_roster_org_key", "ix_roster_org_snils"] {
            let mut drop = Index::drop();
            drop.name(index).table("roster_persons");
            m.drop_index(drop).await?;
        }
        for column in ["archived_at", "phone", "email", "gender"] {
            m.alter_table(
                Table::alter()
                    .table("roster_persons")
                    .drop_column(column)
                    .take(),
            )
            .await?;
        }
        Ok(())
    }
}
