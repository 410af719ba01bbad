//! One ESIA account per roster record: the database itself refuses a second account on a
//! record, whatever path (login, staff link, binding code) races to make it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // A record that got a second account before this rule keeps its first one (the
        // record's owner as matched or linked first); the later links go.
        m.get_connection()
            .execute_unprepared(
                "DELETE FROM esia_links WHERE id NOT IN \
                 (SELECT MIN(id) FROM esia_links GROUP BY roster_person_id)",
            )
            .await?;
        m.create_index(
            Index::create()
                .name("ux_esia_links_person")
                .table("esia_links")
                .col("roster_person_id")
                .unique()
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut drop = Index::drop();
        drop.name("ux_esia_links_person").table("esia_links");
        m.drop_index(drop).await
    }
}
