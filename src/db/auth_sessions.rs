//! REST sign-in sessions and their rotating refresh tokens.

use super::{Db, execute_ints, with_pool};
use crate::app::types::UserId;

pub struct NewAuthSession<'a> {
    pub user_id: UserId,
    pub ip: &'a str,
    pub user_agent: &'a str,
    pub now_ms: i64,
    pub expires_ms: i64,
    pub refresh_hash: &'a str,
    pub refresh_expires_ms: i64,
}

/// Creates the session and its first refresh token in one transaction; returns the session id.
pub async fn create(db: &Db, new: &NewAuthSession<'_>) -> Result<i64, sqlx::Error> {
    with_pool!(db, |pool| {
        async {
        let mut tx = pool.begin().await?;
        let id = sqlx::query_scalar::<_, i64>(
            "INSERT INTO auth_sessions (user_id, created_at, last_used_at, expires_at, ip, user_agent)
             VALUES ($1, $2, $2, $3, $4, $5) RETURNING id",
        )
        .bind(new.user_id.0)
        .bind(new.now_ms)
        .bind(new.expires_ms)
        .bind(new.ip)
        .bind(new.user_agent)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO refresh_tokens (auth_session_id, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(new.refresh_hash)
        .bind(new.now_ms)
        .bind(new.refresh_expires_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }
    .await
    })
}

/// A refresh token with the state of its session.
#[derive(sqlx::FromRow)]
pub struct RefreshTokenState {
    pub token_id: i64,
    pub auth_session_id: i64,
    pub user_id: i64,
    pub token_expires_at: i64,
    pub used_at: Option<i64>,
    pub session_expires_at: i64,
    pub session_revoked_at: Option<i64>,
}

pub async fn find_refresh_token(
    db: &Db,
    hash: &str,
) -> Result<Option<RefreshTokenState>, sqlx::Error> {
    const SQL: &str = "SELECT t.id AS token_id, t.auth_session_id, s.user_id, t.expires_at AS token_expires_at,
                              t.used_at, s.expires_at AS session_expires_at, s.revoked_at AS session_revoked_at
                       FROM refresh_tokens t JOIN auth_sessions s ON s.id = t.auth_session_id
                       WHERE t.token_hash = $1";
    with_pool!(db, |pool| {
        sqlx::query_as::<_, RefreshTokenState>(SQL)
            .bind(hash)
            .fetch_optional(pool)
            .await
    })
}

/// Marks `token_id` used and stores its successor, atomically. `Ok(false)` when another
/// request used the token first (so each refresh token yields exactly one new pair).
pub async fn rotate_refresh_token(
    db: &Db,
    token_id: i64,
    auth_session_id: i64,
    new_hash: &str,
    now_ms: i64,
    new_expires_ms: i64,
) -> Result<bool, sqlx::Error> {
    with_pool!(db, |pool| {
        async {
        let mut tx = pool.begin().await?;
        let claimed = sqlx::query("UPDATE refresh_tokens SET used_at = $1 WHERE id = $2 AND used_at IS NULL")
            .bind(now_ms)
            .bind(token_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if claimed != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO refresh_tokens (auth_session_id, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(auth_session_id)
        .bind(new_hash)
        .bind(now_ms)
        .bind(new_expires_ms)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE auth_sessions SET last_used_at = $1 WHERE id = $2")
            .bind(now_ms)
            .bind(auth_session_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }
    .await
    })
}

pub async fn revoke(db: &Db, auth_session_id: i64, now_ms: i64) -> Result<(), sqlx::Error> {
    with_pool!(db, |pool| {
        sqlx::query("UPDATE auth_sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now_ms)
            .bind(auth_session_id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Revokes every live session of the user except `keep` (the caller's own, if any); returns
/// how many were revoked.
pub async fn revoke_all_for_user(
    db: &Db,
    user_id: UserId,
    keep: Option<i64>,
    now_ms: i64,
) -> Result<u64, sqlx::Error> {
    const SQL: &str = "UPDATE auth_sessions SET revoked_at = $1
                       WHERE user_id = $2 AND revoked_at IS NULL AND expires_at > $1 AND id <> $3";
    execute_ints(db, SQL, &[now_ms, user_id.0, keep.unwrap_or(0)]).await
}

/// Revokes the user's live session `id`; `Ok(false)` when the user has no such session.
pub async fn revoke_for_user(
    db: &Db,
    user_id: UserId,
    id: i64,
    now_ms: i64,
) -> Result<bool, sqlx::Error> {
    const SQL: &str = "UPDATE auth_sessions SET revoked_at = $1
                       WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL AND expires_at > $1";
    Ok(execute_ints(db, SQL, &[now_ms, id, user_id.0]).await? == 1)
}

/// The session's last-used time when it exists, belongs to `user_id`, is unrevoked and
/// unexpired; `None` otherwise.
pub async fn live_last_used(
    db: &Db,
    auth_session_id: i64,
    user_id: UserId,
    now_ms: i64,
) -> Result<Option<i64>, sqlx::Error> {
    const SQL: &str = "SELECT last_used_at FROM auth_sessions
                       WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL AND expires_at > $3";
    with_pool!(db, |pool| {
        sqlx::query_scalar::<_, i64>(SQL)
            .bind(auth_session_id)
            .bind(user_id.0)
            .bind(now_ms)
            .fetch_optional(pool)
            .await
    })
}

/// Moves the session's last-used time to `now_ms` unless it moved after `due_before_ms`.
pub async fn touch(
    db: &Db,
    auth_session_id: i64,
    now_ms: i64,
    due_before_ms: i64,
) -> Result<bool, sqlx::Error> {
    const SQL: &str =
        "UPDATE auth_sessions SET last_used_at = $2 WHERE id = $1 AND last_used_at <= $3";
    Ok(execute_ints(db, SQL, &[auth_session_id, now_ms, due_before_ms]).await? == 1)
}

pub async fn count_live_for_user(
    db: &Db,
    user_id: UserId,
    now_ms: i64,
) -> Result<i64, sqlx::Error> {
    const SQL: &str = "SELECT COUNT(*) FROM auth_sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2";
    with_pool!(db, |pool| {
        sqlx::query_scalar::<_, i64>(SQL)
            .bind(user_id.0)
            .bind(now_ms)
            .fetch_one(pool)
            .await
    })
}

/// Deletes REST sessions (and, by cascade, their refresh tokens) that ended before `before_ms`.
pub async fn delete_ended_before(db: &Db, before_ms: i64) -> Result<u64, sqlx::Error> {
    with_pool!(db, |pool| {
        sqlx::query("DELETE FROM auth_sessions WHERE expires_at < $1 OR revoked_at < $1")
            .bind(before_ms)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })
}
