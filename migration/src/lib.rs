//! Database schema as sea-orm migrations; `Application::build` and `appeals migrate` run them.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_initial;
mod m20261123_000002_staff_side;
mod m20261123_000003_search_trigram;
mod m20261123_000004_inbox_queue_index;
mod m20261123_000005_digest_items;
mod m20261127_000006_one_account_per_record;
mod m20261127_000007_link_attempts;
mod m20261127_000008_directory_codes;
mod m20261127_000009_roster_import;
mod m20261127_000010_roster_match;
mod m20261127_000011_admin;
mod m20261127_000012_deadlines;
mod m20261127_000013_retention;
mod m20261127_000014_escalation;
mod m20261127_000015_consent;
mod m20261127_000016_inbox_scope;
mod m20261127_000017_inbox_counts;
mod m20261127_000018_search_words;
mod m20261128_000019_counts_per_transaction;
mod m20261128_000020_search_index_pending_list;
mod m20261128_000021_counts_bump_plpgsql;
mod m20261128_000022_counts_per_statement;

/// A bulk load with the counting triggers off (a benchmark's million appeals) recounts
/// after it with this SQL.
pub use m20261127_000017_inbox_counts::recount as recount_inbox_sql;

/// The statuses of an open appeal, as the counting triggers of migration 017 know them;
/// the application checks them against its own (`domain::status`).
pub const OPEN_STATUSES: [&str; 4] = ["new", "in_progress", "needs_info", "forwarded"];

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_initial::Migration),
            Box::new(m20261123_000002_staff_side::Migration),
            Box::new(m20261123_000003_search_trigram::Migration),
            Box::new(m20261123_000004_inbox_queue_index::Migration),
            Box::new(m20261123_000005_digest_items::Migration),
            Box::new(m20261127_000006_one_account_per_record::Migration),
            Box::new(m20261127_000007_link_attempts::Migration),
            Box::new(m20261127_000008_directory_codes::Migration),
            Box::new(m20261127_000009_roster_import::Migration),
            Box::new(m20261127_000010_roster_match::Migration),
            Box::new(m20261127_000011_admin::Migration),
            Box::new(m20261127_000012_deadlines::Migration),
            Box::new(m20261127_000013_retention::Migration),
            Box::new(m20261127_000014_escalation::Migration),
            Box::new(m20261127_000015_consent::Migration),
            Box::new(m20261127_000016_inbox_scope::Migration),
            Box::new(m20261127_000017_inbox_counts::Migration),
            Box::new(m20261127_000018_search_words::Migration),
            Box::new(m20261128_000019_counts_per_transaction::Migration),
            Box::new(m20261128_000020_search_index_pending_list::Migration),
            Box::new(m20261128_000021_counts_bump_plpgsql::Migration),
            Box::new(m20261128_000022_counts_per_statement::Migration),
        ]
    }
}
