//! Browser sessions for tower-sessions, kept in the database so they survive restarts and
//! can be listed and ended per user.

use super::{Db, with_pool};
use crate::app::types::UserId;

#[derive(sqlx::FromRow)]
pub struct WebSessionRow {
    pub data: String,
    pub expires_at: i64,
}

pub async fn upsert(
    db: &Db,
    id: &str,
    user_id: Option<i64>,
    data: &str,
    expires_ms: i64,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    const SQL: &str = "INSERT INTO web_sessions (id, user_id, data, expires_at, created_at, updated_at)
                       VALUES ($1, $2, $3, $4, $5, $5)
                       ON CONFLICT (id) DO UPDATE SET user_id = EXCLUDED.user_id, data = EXCLUDED.data,
                           expires_at = EXCLUDED.expires_at, updated_at = EXCLUDED.updated_at";
    with_pool!(db, |pool| {
        sqlx::query(SQL)
            .bind(id)
            .bind(user_id)
            .bind(data)
            .bind(expires_ms)
            .bind(now_ms)
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
    user_id: Option<i64>,
    data: &str,
    expires_ms: i64,
    now_ms: i64,
) -> Result<bool, sqlx::Error> {
    const SQL: &str =
        "INSERT INTO web_sessions (id, user_id, data, expires_at, created_at, updated_at)
                       VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (id) DO NOTHING";
    let n = with_pool!(db, |pool| {
        sqlx::query(SQL)
            .bind(id)
            .bind(user_id)
            .bind(data)
            .bind(expires_ms)
            .bind(now_ms)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

pub async fn load(db: &Db, id: &str, now_ms: i64) -> Result<Option<WebSessionRow>, sqlx::Error> {
    with_pool!(db, |pool| {
        sqlx::query_as::<_, WebSessionRow>(
            "SELECT data, expires_at FROM web_sessions WHERE id = $1 AND expires_at > $2",
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

pub async fn count_live_for_user(
    db: &Db,
    user_id: UserId,
    now_ms: i64,
) -> Result<i64, sqlx::Error> {
    with_pool!(db, |pool| {
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM web_sessions WHERE user_id = $1 AND expires_at > $2",
        )
        .bind(user_id.0)
        .bind(now_ms)
        .fetch_one(pool)
        .await
    })
}
