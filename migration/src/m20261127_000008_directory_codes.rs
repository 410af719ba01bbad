//! Organizations carry the school system's code (the key a directory import matches
//! them by) and a short name; a class name is unique within its organization, so an
//! import adds a missing class once.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one column per ALTER TABLE.
        for column in [string_null("code"), string_null("short_name")] {
            m.alter_table(
                Table::alter()
                    .table("organizations")
                    .add_column(column)
                    .take(),
            )
            .await?;
        }
        m.create_index(
            Index::create()
                .name("ux_organizations_code")
                .table("organizations")
                .col("code")
                .unique()
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_classes_organization_name")
                .table("classes")
                .col("organization_id")
                .col("name")
                .unique()
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (index, table) in [
            ("ux_classes_organization_name", "classes"),
            ("ux_organizations_code", "organizations"),
        ] {
            let mut drop = Index::drop();
            drop.name(index).table(table);
            m.drop_index(drop).await?;
        }
        for column in ["short_name", "code"] {
            m.alter_table(
                Table::alter()
                    .table("organizations")
                    .drop_column(column)
                    .take(),
            )
            .await?;
        }
        Ok(())
    }
}
