//! Sign-in attempts: the throttle's memory, and the dashboard's sign-in history.

use super::{Db, with_pool};

pub async fn record(
    db: &Db,
    email: &str,
    ip: &str,
    succeeded: bool,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    with_pool!(db, |pool| {
        sqlx::query("INSERT INTO login_attempts (email, ip, succeeded, attempted_at) VALUES ($1, $2, $3, $4)")
            .bind(email)
            .bind(ip)
            .bind(succeeded)
            .bind(now_ms)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Times (ms) of failures for this email since `since_ms`, after its last success.
pub async fn failures_for_email(
    db: &Db,
    email: &str,
    since_ms: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    const SQL: &str = "SELECT attempted_at FROM login_attempts
                       WHERE email = $1 AND NOT succeeded AND attempted_at >= $2
                         AND attempted_at > COALESCE((SELECT MAX(attempted_at) FROM login_attempts
                                                      WHERE email = $1 AND succeeded), 0)
                       ORDER BY attempted_at";
    with_pool!(db, |pool| {
        sqlx::query_scalar::<_, i64>(SQL)
            .bind(email)
            .bind(since_ms)
            .fetch_all(pool)
            .await
    })
}

/// Times (ms) of failures from this IP since `since_ms`.
pub async fn failures_for_ip(db: &Db, ip: &str, since_ms: i64) -> Result<Vec<i64>, sqlx::Error> {
    const SQL: &str = "SELECT attempted_at FROM login_attempts
                       WHERE ip = $1 AND NOT succeeded AND attempted_at >= $2 ORDER BY attempted_at";
    with_pool!(db, |pool| {
        sqlx::query_scalar::<_, i64>(SQL)
            .bind(ip)
            .bind(since_ms)
            .fetch_all(pool)
            .await
    })
}

pub struct EmailHistory {
    pub succeeded: i64,
    pub failed: i64,
    pub last_success_ms: Option<i64>,
}

pub async fn history_for_email(
    db: &Db,
    email: &str,
    since_ms: i64,
) -> Result<EmailHistory, sqlx::Error> {
    const SQL: &str = "SELECT COALESCE(SUM(CASE WHEN succeeded THEN 1 ELSE 0 END), 0),
                              COALESCE(SUM(CASE WHEN succeeded THEN 0 ELSE 1 END), 0),
                              MAX(CASE WHEN succeeded THEN attempted_at END)
                       FROM login_attempts WHERE email = $1 AND attempted_at >= $2";
    let (succeeded, failed, last_success_ms) = with_pool!(db, |pool| {
        sqlx::query_as::<_, (i64, i64, Option<i64>)>(SQL)
            .bind(email)
            .bind(since_ms)
            .fetch_one(pool)
            .await
    })?;
    Ok(EmailHistory {
        succeeded,
        failed,
        last_success_ms,
    })
}

pub async fn failures_since(db: &Db, since_ms: i64) -> Result<i64, sqlx::Error> {
    with_pool!(db, |pool| {
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM login_attempts WHERE NOT succeeded AND attempted_at >= $1",
        )
        .bind(since_ms)
        .fetch_one(pool)
        .await
    })
}

/// Forgets attempts older than `before_ms` (the dashboard shows 30 days; throttling 15 minutes).
pub async fn delete_before(db: &Db, before_ms: i64) -> Result<u64, sqlx::Error> {
    with_pool!(db, |pool| {
        sqlx::query("DELETE FROM login_attempts WHERE attempted_at < $1")
            .bind(before_ms)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })
}
