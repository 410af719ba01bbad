//! An open appeal whose applicant a roster import made match a record exactly: the
//! inbox marks it «теперь совпадает с записью в списке» with «Связать и закрыть».

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
                .add_column(integer_null("roster_match_id"))
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("appeals")
                .drop_column("roster_match_id")
                .take(),
        )
        .await
    }
}
