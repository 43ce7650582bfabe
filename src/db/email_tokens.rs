//! One-time links sent by mail (password reset, email verification) and the requests that
//! send them (the throttle's memory).

use super::{Db, with_pool};
use crate::app::types::UserId;

/// Stores a new token and deletes the user's older unused ones of the same purpose, so only
/// the newest link works.
pub async fn replace(
    db: &Db,
    user_id: UserId,
    purpose: &str,
    token_hash: &str,
    email: &str,
    now_ms: i64,
    expires_ms: i64,
) -> Result<(), sqlx::Error> {
    with_pool!(db, |pool| {
        async {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "DELETE FROM email_tokens WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL",
            )
            .bind(user_id.0)
            .bind(purpose)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO email_tokens (user_id, purpose, token_hash, email, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(user_id.0)
            .bind(purpose)
            .bind(token_hash)
            .bind(email)
            .bind(now_ms)
            .bind(expires_ms)
            .execute(&mut *tx)
            .await?;
            tx.commit().await
        }
        .await
    })
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct TokenRow {
    pub user_id: i64,
    pub email: String,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

pub async fn find(
    db: &Db,
    purpose: &str,
    token_hash: &str,
) -> Result<Option<TokenRow>, sqlx::Error> {
    with_pool!(db, |pool| {
        sqlx::query_as::<_, TokenRow>(
            "SELECT user_id, email, expires_at, used_at FROM email_tokens WHERE token_hash = $1 AND purpose = $2",
        )
        .bind(token_hash)
        .bind(purpose)
        .fetch_optional(pool)
        .await
    })
}

const CONSUME_SQL: &str = "UPDATE email_tokens SET used_at = $1
                           WHERE token_hash = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1
                           RETURNING user_id";

/// Uses a token of `purpose` up, once: `(user_id, email it was sent to)`, or `None` when it is
/// unknown, used or expired.
pub async fn consume(
    db: &Db,
    purpose: &str,
    token_hash: &str,
    now_ms: i64,
) -> Result<Option<(i64, String)>, sqlx::Error> {
    with_pool!(db, |pool| {
        sqlx::query_as::<_, (i64, String)>(
            "UPDATE email_tokens SET used_at = $1
             WHERE token_hash = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1
             RETURNING user_id, email",
        )
        .bind(now_ms)
        .bind(token_hash)
        .bind(purpose)
        .fetch_optional(pool)
        .await
    })
}

/// A password reset in one transaction: uses the token up (once: a racing request finds it
/// used), sets the password (the stamp moves, so signed-in browsers sign out), deletes the
/// user's browser sessions and revokes every REST session with its refresh tokens. `None`
/// when the token is unknown, used or expired, and then nothing changed.
pub async fn reset_password(
    db: &Db,
    token_hash: &str,
    password_hash: &str,
    now_ms: i64,
) -> Result<Option<UserId>, sqlx::Error> {
    with_pool!(db, |pool| {
        async {
            let mut tx = pool.begin().await?;
            let user_id = sqlx::query_scalar::<_, i64>(CONSUME_SQL)
                .bind(now_ms)
                .bind(token_hash)
                .bind("password_reset")
                .fetch_optional(&mut *tx)
                .await?;
            let Some(user_id) = user_id else {
                tx.rollback().await?;
                return Ok(None);
            };
            sqlx::query(
                "UPDATE users SET password_hash = $1, password_changed_at = $2, updated_at = $2 WHERE id = $3",
            )
            .bind(password_hash)
            .bind(now_ms)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM web_sessions WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "UPDATE auth_sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
            )
            .bind(now_ms)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
            // Any other reset link of the user is void now too.
            sqlx::query(
                "DELETE FROM email_tokens WHERE user_id = $1 AND purpose = 'password_reset' AND used_at IS NULL",
            )
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(Some(UserId(user_id)))
        }
        .await
    })
}

pub async fn record_request(
    db: &Db,
    purpose: &str,
    email: &str,
    ip: &str,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    with_pool!(db, |pool| {
        sqlx::query(
            "INSERT INTO email_requests (purpose, email, ip, requested_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(purpose)
        .bind(email)
        .bind(ip)
        .bind(now_ms)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Whose requests to count.
#[derive(Clone, Copy, Debug)]
pub enum RequestsBy<'a> {
    Email(&'a str),
    Ip(&'a str),
}

/// Times (ms, ascending) of requests of `purpose` by one address or client IP since `since_ms`.
pub async fn requests_since(
    db: &Db,
    purpose: &str,
    by: RequestsBy<'_>,
    since_ms: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    let (sql, value) = match by {
        RequestsBy::Email(email) => (
            "SELECT requested_at FROM email_requests WHERE purpose = $1 AND email = $2 AND requested_at >= $3
             ORDER BY requested_at",
            email,
        ),
        RequestsBy::Ip(ip) => (
            "SELECT requested_at FROM email_requests WHERE purpose = $1 AND ip = $2 AND requested_at >= $3
             ORDER BY requested_at",
            ip,
        ),
    };
    with_pool!(db, |pool| {
        sqlx::query_scalar::<_, i64>(sql)
            .bind(purpose)
            .bind(value)
            .bind(since_ms)
            .fetch_all(pool)
            .await
    })
}

/// Forgets expired or used tokens and requests older than `before_ms`.
pub async fn delete_before(db: &Db, before_ms: i64) -> Result<u64, sqlx::Error> {
    with_pool!(db, |pool| {
        async {
            let tokens =
                sqlx::query("DELETE FROM email_tokens WHERE expires_at < $1 OR used_at < $1")
                    .bind(before_ms)
                    .execute(pool)
                    .await?
                    .rows_affected();
            let requests = sqlx::query("DELETE FROM email_requests WHERE requested_at < $1")
                .bind(before_ms)
                .execute(pool)
                .await?
                .rows_affected();
            Ok(tokens + requests)
        }
        .await
    })
}
