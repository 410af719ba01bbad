//! The admin pages: imports started from a browser (the file kept in the database until
//! it is applied or dropped, so any instance can run it; progress; the reports) and the
//! audit log of every change to the directory, staff and rosters.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("import_runs")
                .col(pk_auto("id"))
                .col(string("kind"))
                .col(integer_null("organization_id"))
                .col(integer("staff_id"))
                .col(string("file_name"))
                .col(boolean("skip_invalid"))
                .col(boolean("prefer_file"))
                .col(boolean("archive_missing"))
                .col(string("status"))
                .col(big_integer("progress_done").default(0))
                .col(big_integer("progress_total").default(0))
                .col(big_integer("rows_read").default(0))
                .col(integer("added").default(0))
                .col(integer("changed").default(0))
                .col(integer("unchanged").default(0))
                .col(integer("rejected").default(0))
                .col(text_null("preview"))
                .col(text_null("report"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .col(timestamp_with_time_zone_null("finished_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("import_runs", "staff_id")
                        .to("staff", "id"),
                )
                .take(),
        )
        .await?;
        // The uploaded file, apart from the run so that listing runs never reads it.
        m.create_table(
            Table::create()
                .table("import_files")
                .col(integer("import_run_id").primary_key())
                .col(blob("data"))
                .foreign_key(
                    ForeignKey::create()
                        .from("import_files", "import_run_id")
                        .to("import_runs", "id"),
                )
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("audit_log")
                .col(pk_auto("id"))
                .col(timestamp_with_time_zone("at"))
                .col(integer_null("staff_id"))
                .col(integer_null("organization_id"))
                .col(integer_null("roster_person_id"))
                .col(integer_null("import_run_id"))
                .col(string("action"))
                .col(text("detail"))
                .take(),
        )
        .await?;
        for (name, column) in [
            ("ix_audit_person", "roster_person_id"),
            ("ix_audit_organization", "organization_id"),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table("audit_log")
                    .col(column)
                    .take(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("audit_log").take())
            .await?;
        m.drop_table(Table::drop().table("import_files").take())
            .await?;
        m.drop_table(Table::drop().table("import_runs").take())
            .await
    }
}
