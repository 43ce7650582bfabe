//! Browser sessions for tower-sessions, kept in the database so they survive restarts and
//! can be listed and ended per user. `id` is the cookie's secret value and never leaves the
//! server; `public_id` is what lists show and requests name.

use super::{Db, execute_ints, with_pool};
use crate::app::types::UserId;

#[derive(sqlx::FromRow)]
pub struct WebSessionRow {
    pub public_id: i64,
    pub data: String,
    pub expires_at: i64,
    pub last_seen_at: i64,
}

/// What the store writes of a session record besides its data.
pub struct SessionColumns<'a> {
    pub user_id: Option<i64>,
    pub data: &'a str,
    pub expires_ms: i64,
    pub ip: &'a str,
    pub user_agent: &'a str,
    pub password_stamp: Option<i64>,
}

/// Writes an existing session. Only an update: a session ended while one of its requests was
/// in flight must stay ended, not be written back by that request.
pub async fn update(
    db: &Db,
    id: &str,
    cols: &SessionColumns<'_>,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    const SQL: &str =
        "UPDATE web_sessions SET user_id = $2, data = $3, expires_at = $4, updated_at = $5,
                           ip = $6, user_agent = $7, password_stamp = $8
                       WHERE id = $1";
    with_pool!(db, |pool| {
        sqlx::query(SQL)
            .bind(id)
            .bind(cols.user_id)
            .bind(cols.data)
            .bind(cols.expires_ms)
            .bind(now_ms)
            .bind(cols.ip)
            .bind(cols.user_agent)
            .bind(cols.password_stamp)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Inserts only if the id is free; `Ok(false)` on a collision so the caller picks another id.
pub async fn insert_new(
    db: &Db,
    id: &str,
    cols: &SessionColumns<'_>,
    now_ms: i64,
) -> Result<bool, sqlx::Error> {
    const SQL: &str =
        "INSERT INTO web_sessions (id, user_id, data, expires_at, created_at, updated_at,
                           last_seen_at, ip, user_agent, password_stamp)
                       VALUES ($1, $2, $3, $4, $5, $5, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING";
    let n = with_pool!(db, |pool| {
        sqlx::query(SQL)
            .bind(id)
            .bind(cols.user_id)
            .bind(cols.data)
            .bind(cols.expires_ms)
            .bind(now_ms)
            .bind(cols.ip)
            .bind(cols.user_agent)
            .bind(cols.password_stamp)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

pub async fn load(db: &Db, id: &str, now_ms: i64) -> Result<Option<WebSessionRow>, sqlx::Error> {
    with_pool!(db, |pool| {
        sqlx::query_as::<_, WebSessionRow>(
            "SELECT public_id, data, expires_at, last_seen_at FROM web_sessions
             WHERE id = $1 AND expires_at > $2",
        )
        .bind(id)
        .bind(now_ms)
        .fetch_optional(pool)
        .await
    })
}

pub async fn delete(db: &Db, id: &str) -> Result<(), sqlx::Error> {
    with_pool!(db, |pool| sqlx::query(
        "DELETE FROM web_sessions WHERE id = $1"
    )
    .bind(id)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn delete_expired(db: &Db, now_ms: i64) -> Result<u64, sqlx::Error> {
    with_pool!(db, |pool| {
        sqlx::query("DELETE FROM web_sessions WHERE expires_at <= $1")
            .bind(now_ms)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })
}

/// The user's live sessions (see [`LIVE`]), as the sessions page lists them.
pub async fn count_live_for_user(
    db: &Db,
    user_id: UserId,
    now_ms: i64,
) -> Result<i64, sqlx::Error> {
    let sql = format!("SELECT COUNT(*) FROM web_sessions WHERE {LIVE}");
    with_pool!(db, |pool| {
        sqlx::query_scalar::<_, i64>(&sql)
            .bind(user_id.0)
            .bind(now_ms)
            .fetch_one(pool)
            .await
    })
}

/// A live session of the user: signed in under the account's current password stamp (a
/// password change ends the others) and unexpired.
pub(super) const LIVE: &str = "user_id = $1 AND expires_at > $2
    AND password_stamp = (SELECT password_changed_at FROM users WHERE users.id = $1)";

/// Ends the user's live session `public_id`; `Ok(false)` when the user has no such session.
pub async fn delete_for_user(
    db: &Db,
    user_id: UserId,
    public_id: i64,
    now_ms: i64,
) -> Result<bool, sqlx::Error> {
    let sql = format!("DELETE FROM web_sessions WHERE {LIVE} AND public_id = $3");
    Ok(execute_ints(db, &sql, &[user_id.0, now_ms, public_id]).await? == 1)
}

/// Ends every live session of the user but `keep`; returns how many ended.
pub async fn delete_others_for_user(
    db: &Db,
    user_id: UserId,
    keep: Option<i64>,
    now_ms: i64,
) -> Result<u64, sqlx::Error> {
    let sql = format!("DELETE FROM web_sessions WHERE {LIVE} AND public_id <> $3");
    execute_ints(db, &sql, &[user_id.0, now_ms, keep.unwrap_or(0)]).await
}

/// Moves the session's last-seen time to `now_ms` unless it moved after `due_before_ms`
/// (the throttle, checked here too so concurrent requests write once). `Ok(true)` if moved.
pub async fn touch(
    db: &Db,
    public_id: i64,
    now_ms: i64,
    due_before_ms: i64,
) -> Result<bool, sqlx::Error> {
    const SQL: &str =
        "UPDATE web_sessions SET last_seen_at = $2 WHERE public_id = $1 AND last_seen_at <= $3";
    Ok(execute_ints(db, SQL, &[public_id, now_ms, due_before_ms]).await? == 1)
}
