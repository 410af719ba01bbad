//! PostgreSQL: a transaction counts its appeals in one counter slot, chosen by its
//! transaction id, instead of each appeal in the slot of its own id. The registrar files
//! a group of appeals in one transaction (`store::registrar`); with a slot per appeal each
//! group took all eight slots of a school in the order of its ids, and two groups
//! committing at once waited for each other in opposite orders (a deadlock, one group
//! refused). With one slot per transaction, and a group's appeals inserted in order of
//! organization and child, two groups take the counter rows they share in the same order.
//! A slot's figure may go below zero (an appeal added in one slot, closed in another);
//! only the sum over the slots is read.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::m20261127_000017_inbox_counts::{PER_APPEAL, open_list, track_function};

#[derive(DeriveMigrationName)]
pub struct Migration;

pub(crate) const PER_TRANSACTION: &str = "(txid_current() % 8)::SMALLINT";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == DbBackend::Postgres {
            let sql = track_function(&open_list(), PER_TRANSACTION, PER_TRANSACTION);
            m.get_connection().execute_unprepared(&sql).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == DbBackend::Postgres {
            let sql = track_function(&open_list(), PER_APPEAL.0, PER_APPEAL.1);
            m.get_connection().execute_unprepared(&sql).await?;
        }
        Ok(())
    }
}
