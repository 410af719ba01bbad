//! Server-side sessions in the `sessions` table, shared by every instance (DESIGN.md:
//! one pool for both databases, no second sqlx).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, Error, SessionStore};

use super::entities::session;
use super::is_unique_violation;

#[derive(Clone)]
pub struct DbSessionStore {
    db: DatabaseConnection,
}

impl std::fmt::Debug for DbSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DbSessionStore")
    }
}

impl DbSessionStore {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    pub async fn delete_expired(&self, now: DateTime<Utc>) -> Result<u64, sea_orm::DbErr> {
        Ok(session::Entity::delete_many()
            .filter(session::Column::ExpiryDate.lt(now))
            .exec(&self.db)
            .await?
            .rows_affected)
    }
}

fn backend(e: sea_orm::DbErr) -> Error {
    Error::Backend(e.to_string())
}

fn expiry(record: &Record) -> DateTime<Utc> {
    DateTime::from_timestamp(record.expiry_date.unix_timestamp(), 0).unwrap_or_else(Utc::now)
}

fn encode(record: &Record) -> session_store::Result<String> {
    serde_json::to_string(&record.data).map_err(|e| Error::Encode(e.to_string()))
}

#[async_trait::async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        loop {
            let row = session::ActiveModel {
                id: Set(record.id.to_string()),
                data: Set(encode(record)?),
                expiry_date: Set(expiry(record)),
            };
            match row.insert(&self.db).await {
                Ok(_) => return Ok(()),
                // 128-bit ids practically never collide, but a collision must not let one
                // session take over another's row.
                Err(e) if is_unique_violation(&e) => record.id = Id::default(),
                Err(e) => return Err(backend(e)),
            }
        }
    }

    /// Updates a session that exists. A row that is gone stays gone: a request still
    /// running when the person logged out (or the session expired) must not bring the
    /// session back by saving it on its way out. A failed update is logged, not answered
    /// with a 500: the request's own work is done (an appeal committed must be answered
    /// with its number), and at worst the person signs in again.
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let row = session::ActiveModel {
            id: Set(record.id.to_string()),
            data: Set(encode(record)?),
            expiry_date: Set(expiry(record)),
        };
        if let Err(e) = session::Entity::update_many()
            .set(row)
            .filter(session::Column::Id.eq(record.id.to_string()))
            .exec(&self.db)
            .await
        {
            tracing::error!(error = %e, "session not saved");
        }
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let Some(row) = session::Entity::find_by_id(id.to_string())
            .filter(session::Column::ExpiryDate.gt(Utc::now()))
            .one(&self.db)
            .await
            .map_err(backend)?
        else {
            return Ok(None);
        };
        let data: HashMap<String, serde_json::Value> =
            serde_json::from_str(&row.data).map_err(|e| Error::Decode(e.to_string()))?;
        let expiry_date = time::OffsetDateTime::from_unix_timestamp(row.expiry_date.timestamp())
            .map_err(|e| Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        session::Entity::delete_by_id(id.to_string())
            .exec(&self.db)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn saving_a_deleted_session_does_not_bring_it_back() {
        let db = crate::store::connect("sqlite::memory:", 1).await.unwrap();
        crate::store::migrate(&db).await.unwrap();
        let store = DbSessionStore::new(db);
        let mut record = Record {
            id: Id::default(),
            data: HashMap::from([("user".to_string(), serde_json::json!({"oid": "1"}))]),
            expiry_date: time::OffsetDateTime::now_utc() + time::Duration::hours(1),
        };
        store.create(&mut record).await.unwrap();
        assert!(store.load(&record.id).await.unwrap().is_some());
        // Logout deletes the row while another request of the same person still runs…
        store.delete(&record.id).await.unwrap();
        // …and that request saves the session it loaded earlier.
        store.save(&record).await.unwrap();
        assert!(
            store.load(&record.id).await.unwrap().is_none(),
            "the logged-out session stays gone"
        );
    }

    #[tokio::test]
    async fn a_session_that_cannot_be_saved_does_not_fail_the_request() {
        let db = crate::store::connect("sqlite::memory:", 1).await.unwrap();
        crate::store::migrate(&db).await.unwrap();
        let store = DbSessionStore::new(db.clone());
        let record = Record {
            id: Id::default(),
            data: HashMap::new(),
            expiry_date: time::OffsetDateTime::now_utc() + time::Duration::hours(1),
        };
        db.close().await.unwrap();
        assert!(store.save(&record).await.is_ok());
    }
}
