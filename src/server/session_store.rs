//! tower-sessions store over our database. The signed-in user id, password stamp and client
//! of the sign-in are copied into their own columns so sessions can be counted, listed and
//! ended per user. A loaded record also carries the row's public id and last-seen time (under
//! [`PUBLIC_ID_KEY`] and [`LAST_SEEN_KEY`]), so a request knows both without another query;
//! they are never written back into the data.

use crate::db::{self, Db};
use crate::domain::{from_millis, to_millis};
use async_trait::async_trait;
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

pub const USER_ID_KEY: &str = "uid";
pub const PASSWORD_STAMP_KEY: &str = "pwv";
pub const CLIENT_IP_KEY: &str = "ip";
pub const CLIENT_UA_KEY: &str = "ua";
pub const PUBLIC_ID_KEY: &str = "sid";
pub const LAST_SEEN_KEY: &str = "seen";

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

/// A record's data and the columns copied from it.
struct Encoded {
    data: String,
    user_id: Option<i64>,
    password_stamp: Option<i64>,
    ip: String,
    user_agent: String,
}

impl Encoded {
    fn columns(&self, expires_ms: i64) -> db::web_sessions::SessionColumns<'_> {
        db::web_sessions::SessionColumns {
            user_id: self.user_id,
            data: &self.data,
            expires_ms,
            ip: &self.ip,
            user_agent: &self.user_agent,
            password_stamp: self.password_stamp,
        }
    }
}

fn encode(record: &Record) -> session_store::Result<Encoded> {
    let fields = &record.data;
    let stored: std::collections::HashMap<&String, &serde_json::Value> = fields
        .iter()
        .filter(|(k, _)| k.as_str() != PUBLIC_ID_KEY && k.as_str() != LAST_SEEN_KEY)
        .collect();
    let data =
        serde_json::to_string(&stored).map_err(|e| session_store::Error::Encode(e.to_string()))?;
    let text = |key: &str| {
        fields
            .get(key)
            .and_then(serde_json::Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    Ok(Encoded {
        data,
        user_id: fields.get(USER_ID_KEY).and_then(serde_json::Value::as_i64),
        password_stamp: fields
            .get(PASSWORD_STAMP_KEY)
            .and_then(serde_json::Value::as_i64),
        ip: text(CLIENT_IP_KEY),
        user_agent: text(CLIENT_UA_KEY),
    })
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let encoded = encode(record)?;
        let now = to_millis(OffsetDateTime::now_utc());
        // Ids are 128 random bits; a collision is astronomically unlikely but costs nothing to handle.
        loop {
            let id = record.id.to_string();
            let columns = encoded.columns(to_millis(record.expiry_date));
            if db::web_sessions::insert_new(&self.db, &id, &columns, now)
                .await
                .map_err(backend)?
            {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let encoded = encode(record)?;
        let now = to_millis(OffsetDateTime::now_utc());
        let columns = encoded.columns(to_millis(record.expiry_date));
        db::web_sessions::update(&self.db, &record.id.to_string(), &columns, now)
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
        let mut data: std::collections::HashMap<String, serde_json::Value> =
            serde_json::from_str(&row.data)
                .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        data.insert(PUBLIC_ID_KEY.into(), row.public_id.into());
        data.insert(LAST_SEEN_KEY.into(), row.last_seen_at.into());
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
