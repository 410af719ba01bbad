//! Directory, roster, ESIA links, appeals with history, outbox, sessions and numbering.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn fk(from: &'static str, col: &'static str, to: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from, col)
        .to(to, "id")
        .on_delete(ForeignKeyAction::Restrict)
        .take()
}

fn index(name: &'static str, table: &'static str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut stmt = Index::create().name(name).table(table).take();
    for col in cols {
        stmt.col(*col);
    }
    stmt
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("regions")
                .col(pk_auto("id"))
                .col(string("name"))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("municipalities")
                .col(pk_auto("id"))
                .col(integer("region_id"))
                .col(string("name"))
                .foreign_key(&mut fk("municipalities", "region_id", "regions"))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("organizations")
                .col(pk_auto("id"))
                .col(integer("municipality_id"))
                .col(string("locality"))
                .col(string("org_type"))
                .col(string("name"))
                .foreign_key(&mut fk(
                    "organizations",
                    "municipality_id",
                    "municipalities",
                ))
                .take(),
        )
        .await?;
        m.create_index(index(
            "ix_organizations_municipality",
            "organizations",
            &["municipality_id", "org_type"],
        ))
        .await?;
        m.create_table(
            Table::create()
                .table("classes")
                .col(pk_auto("id"))
                .col(integer("organization_id"))
                .col(string("name"))
                .foreign_key(&mut fk("classes", "organization_id", "organizations"))
                .take(),
        )
        .await?;
        m.create_index(index(
            "ix_classes_organization",
            "classes",
            &["organization_id"],
        ))
        .await?;
        m.create_table(
            Table::create()
                .table("staff")
                .col(pk_auto("id"))
                .col(string("snils"))
                .col(string("last_name"))
                .col(string("first_name"))
                .col(string("middle_name"))
                .col(string("email"))
                .col(string("role"))
                .col(integer_null("organization_id"))
                .col(integer_null("municipality_id"))
                .col(integer_null("region_id"))
                .col(boolean("active"))
                .foreign_key(&mut fk("staff", "organization_id", "organizations"))
                .foreign_key(&mut fk("staff", "municipality_id", "municipalities"))
                .foreign_key(&mut fk("staff", "region_id", "regions"))
                .take(),
        )
        .await?;
        m.create_index(index("ix_staff_snils", "staff", &["snils"]))
            .await?;
        m.create_index(index(
            "ix_staff_organization",
            "staff",
            &["organization_id", "role"],
        ))
        .await?;
        m.create_table(
            Table::create()
                .table("roster_persons")
                .col(pk_auto("id"))
                .col(integer("organization_id"))
                .col(string("role"))
                .col(string("last_name"))
                .col(string("first_name"))
                .col(string("middle_name"))
                .col(date("birth_date"))
                .col(string_null("snils"))
                .col(string_null("passport"))
                .col(integer_null("class_id"))
                .col(string("name_norm"))
                .foreign_key(&mut fk(
                    "roster_persons",
                    "organization_id",
                    "organizations",
                ))
                .foreign_key(&mut fk("roster_persons", "class_id", "classes"))
                .take(),
        )
        .await?;
        m.create_index(index(
            "ix_roster_match",
            "roster_persons",
            &["name_norm", "birth_date"],
        ))
        .await?;
        m.create_index(index(
            "ix_roster_organization",
            "roster_persons",
            &["organization_id"],
        ))
        .await?;
        m.create_table(
            Table::create()
                .table("roster_guardians")
                .col(integer("parent_id"))
                .col(integer("student_id"))
                .primary_key(Index::create().col("parent_id").col("student_id"))
                .foreign_key(&mut fk("roster_guardians", "parent_id", "roster_persons"))
                .foreign_key(&mut fk("roster_guardians", "student_id", "roster_persons"))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("esia_links")
                .col(pk_auto("id"))
                .col(string("esia_oid"))
                .col(integer("roster_person_id"))
                .col(string("method"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("esia_links", "roster_person_id", "roster_persons"))
                .take(),
        )
        .await?;
        m.create_index(
            index(
                "ux_esia_links",
                "esia_links",
                &["esia_oid", "roster_person_id"],
            )
            .unique()
            .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("binding_codes")
                .col(pk_auto("id"))
                .col(integer("roster_person_id"))
                .col(string_uniq("code_hash"))
                .col(timestamp_with_time_zone("expires_at"))
                .col(timestamp_with_time_zone_null("used_at"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk(
                    "binding_codes",
                    "roster_person_id",
                    "roster_persons",
                ))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("appeals")
                .col(big_pk_auto("id"))
                .col(string_uniq("number"))
                .col(string("applicant_oid"))
                .col(string("applicant_role"))
                .col(text("snapshot"))
                .col(string("applicant_email"))
                .col(string("search_norm"))
                .col(string_null("child_esia_id"))
                .col(integer("organization_id"))
                .col(integer("class_id"))
                .col(text_null("comment"))
                .col(string("status"))
                .col(string("route"))
                .col(integer_null("assigned_staff_id"))
                .col(string_uniq("submission_id"))
                .col(integer("version"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .col(timestamp_with_time_zone("due_at"))
                .foreign_key(&mut fk("appeals", "organization_id", "organizations"))
                .foreign_key(&mut fk("appeals", "class_id", "classes"))
                .foreign_key(&mut fk("appeals", "assigned_staff_id", "staff"))
                .take(),
        )
        .await?;
        m.create_index(index(
            "ix_appeals_inbox",
            "appeals",
            &["organization_id", "status", "created_at", "id"],
        ))
        .await?;
        m.create_index(index(
            "ix_appeals_applicant",
            "appeals",
            &["applicant_oid", "created_at"],
        ))
        .await?;
        m.create_table(
            Table::create()
                .table("appeal_events")
                .col(big_pk_auto("id"))
                .col(big_integer("appeal_id"))
                .col(string("kind"))
                .col(string_null("from_status"))
                .col(string_null("to_status"))
                .col(string("actor"))
                .col(integer_null("actor_staff_id"))
                .col(text_null("message"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("appeal_events", "appeal_id", "appeals"))
                .foreign_key(&mut fk("appeal_events", "actor_staff_id", "staff"))
                .take(),
        )
        .await?;
        m.create_index(index(
            "ix_appeal_events_appeal",
            "appeal_events",
            &["appeal_id", "id"],
        ))
        .await?;
        m.create_table(
            Table::create()
                .table("outbox")
                .col(big_pk_auto("id"))
                .col(big_integer_null("appeal_id"))
                .col(string("kind"))
                .col(string("recipient"))
                .col(string("subject"))
                .col(text("body_text"))
                .col(text("body_html"))
                .col(string("status"))
                .col(integer("attempts"))
                .col(timestamp_with_time_zone("next_attempt_at"))
                .col(timestamp_with_time_zone_null("locked_until"))
                .col(text_null("last_error"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("sent_at"))
                .foreign_key(&mut fk("outbox", "appeal_id", "appeals"))
                .take(),
        )
        .await?;
        m.create_index(index(
            "ix_outbox_due",
            "outbox",
            &["status", "next_attempt_at"],
        ))
        .await?;
        m.create_table(
            Table::create()
                .table("sessions")
                .col(string("id").primary_key())
                .col(text("data"))
                .col(timestamp_with_time_zone("expiry_date"))
                .take(),
        )
        .await?;
        m.create_index(index("ix_sessions_expiry", "sessions", &["expiry_date"]))
            .await?;
        m.create_table(
            Table::create()
                .table("appeal_counters")
                .col(integer("year").primary_key())
                .col(big_integer("last_value"))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("submission_tokens")
                .col(string("token").primary_key())
                .col(string("applicant_oid"))
                .col(timestamp_with_time_zone("created_at"))
                .take(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "submission_tokens",
            "appeal_counters",
            "sessions",
            "outbox",
            "appeal_events",
            "appeals",
            "binding_codes",
            "esia_links",
            "roster_guardians",
            "roster_persons",
            "staff",
            "classes",
            "organizations",
            "municipalities",
            "regions",
        ] {
            m.drop_table(Table::drop().table(table).take()).await?;
        }
        Ok(())
    }
}
