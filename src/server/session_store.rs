//! tower-sessions store over our database. The signed-in user id is copied into its own
//! column so sessions can be counted, listed and ended per user.

use crate::db::{self, Db};
use crate::domain::{from_millis, to_millis};
use async_trait::async_trait;
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

pub const USER_ID_KEY: &str = "uid";

#[derive(Clone, Debug)]
pub struct DbSessionStore {
    db: Db,
}

impl DbSessionStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

fn backend(err: sqlx::Error) -> session_store::Error {
    session_store::Error::Backend(err.to_string())
}

fn encode(record: &Record) -> session_store::Result<(String, Option<i64>)> {
    let data = serde_json::to_string(&record.data)
        .map_err(|e| session_store::Error::Encode(e.to_string()))?;
    let user_id = record
        .data
        .get(USER_ID_KEY)
        .and_then(serde_json::Value::as_i64);
    Ok((data, user_id))
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let (data, user_id) = encode(record)?;
        let now = to_millis(OffsetDateTime::now_utc());
        // Ids are 128 random bits; a collision is astronomically unlikely but costs nothing to handle.
        loop {
            let id = record.id.to_string();
            if db::web_sessions::insert_new(
                &self.db,
                &id,
                user_id,
                &data,
                to_millis(record.expiry_date),
                now,
            )
            .await
            .map_err(backend)?
            {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let (data, user_id) = encode(record)?;
        let now = to_millis(OffsetDateTime::now_utc());
        db::web_sessions::upsert(
            &self.db,
            &record.id.to_string(),
            user_id,
            &data,
            to_millis(record.expiry_date),
            now,
        )
        .await
        .map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let now = to_millis(OffsetDateTime::now_utc());
        let Some(row) = db::web_sessions::load(&self.db, &id.to_string(), now)
            .await
            .map_err(backend)?
        else {
            return Ok(None);
        };
        let data = serde_json::from_str(&row.data)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date: from_millis(row.expires_at),
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        db::web_sessions::delete(&self.db, &id.to_string())
            .await
            .map_err(backend)
    }
}
