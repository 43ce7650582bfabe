//! Two-factor sign-in state: a user's sealed TOTP secret, the last step a code was accepted
//! in, and the hashes of their one-time recovery codes.

use super::{Db, with_pool};

/// Inserts the hashes of new recovery codes inside the transaction `$tx`.
macro_rules! insert_recovery_codes {
    ($tx:expr, $user_id:expr, $code_hashes:expr, $now_ms:expr) => {
        async {
            for hash in $code_hashes {
                sqlx::query(
                    "INSERT INTO user_recovery_codes (user_id, code_hash, used_at, created_at) \
                     VALUES ($1, $2, NULL, $3)",
                )
                .bind($user_id)
                .bind(hash)
                .bind($now_ms)
                .execute(&mut *$tx)
                .await?;
            }
            Ok::<(), sqlx::Error>(())
        }
        .await
    };
}

/// A user's TOTP row.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct TotpRow {
    pub secret_sealed: String,
    pub enabled_at: Option<i64>,
    pub last_used_step: Option<i64>,
}

pub async fn get(db: &Db, user_id: i64) -> Result<Option<TotpRow>, sqlx::Error> {
    const SQL: &str =
        "SELECT secret_sealed, enabled_at, last_used_step FROM user_totp WHERE user_id = $1";
    with_pool!(db, |pool| sqlx::query_as(SQL)
        .bind(user_id)
        .fetch_optional(pool)
        .await)
}

/// Starts (or restarts) enrollment with a new secret, not enabled yet; `false` when two-factor
/// sign-in is enabled already (a running setup never replaces an active secret).
pub async fn start_setup(
    db: &Db,
    user_id: i64,
    secret_sealed: &str,
    now_ms: i64,
) -> Result<bool, sqlx::Error> {
    const SQL: &str =
        "INSERT INTO user_totp (user_id, secret_sealed, enabled_at, last_used_step, created_at)
        VALUES ($1, $2, NULL, NULL, $3)
        ON CONFLICT (user_id) DO UPDATE SET secret_sealed = excluded.secret_sealed,
            last_used_step = NULL, created_at = excluded.created_at
        WHERE user_totp.enabled_at IS NULL";
    with_pool!(db, |pool| sqlx::query(SQL)
        .bind(user_id)
        .bind(secret_sealed)
        .bind(now_ms)
        .execute(pool)
        .await
        .map(|r| r.rows_affected() == 1))
}

/// Enables the pending secret after a first valid code of `step`, and replaces the recovery
/// codes, in one transaction; `false` when there was no pending setup (or it was enabled by a
/// racing request).
pub async fn enable(
    db: &Db,
    user_id: i64,
    step: i64,
    code_hashes: &[String],
    now_ms: i64,
) -> Result<bool, sqlx::Error> {
    with_pool!(db, |pool| async {
        let mut tx = pool.begin().await?;
        let enabled = sqlx::query(
            "UPDATE user_totp SET enabled_at = $1, last_used_step = $2 \
             WHERE user_id = $3 AND enabled_at IS NULL",
        )
        .bind(now_ms)
        .bind(step)
        .bind(user_id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !enabled {
            return Ok(false);
        }
        sqlx::query("DELETE FROM user_recovery_codes WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        insert_recovery_codes!(tx, user_id, code_hashes, now_ms)?;
        tx.commit().await?;
        Ok(true)
    }
    .await)
}

/// Records a code of `step` as used, unless that step or a later one was used already (the
/// replay check, atomic against a racing sign-in); `true` when recorded.
pub async fn use_step(db: &Db, user_id: i64, step: i64) -> Result<bool, sqlx::Error> {
    const SQL: &str = "UPDATE user_totp SET last_used_step = $1 \
        WHERE user_id = $2 AND enabled_at IS NOT NULL \
        AND (last_used_step IS NULL OR last_used_step < $1)";
    with_pool!(db, |pool| sqlx::query(SQL)
        .bind(step)
        .bind(user_id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected() == 1))
}

/// Marks an unused recovery code as used; `true` when it was one of the user's and unused.
pub async fn use_recovery_code(
    db: &Db,
    user_id: i64,
    code_hash: &str,
    now_ms: i64,
) -> Result<bool, sqlx::Error> {
    const SQL: &str = "UPDATE user_recovery_codes SET used_at = $1 \
        WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL";
    with_pool!(db, |pool| sqlx::query(SQL)
        .bind(now_ms)
        .bind(user_id)
        .bind(code_hash)
        .execute(pool)
        .await
        .map(|r| r.rows_affected() == 1))
}

/// Unused recovery codes left.
pub async fn recovery_codes_left(db: &Db, user_id: i64) -> Result<i64, sqlx::Error> {
    const SQL: &str =
        "SELECT COUNT(*) FROM user_recovery_codes WHERE user_id = $1 AND used_at IS NULL";
    with_pool!(db, |pool| sqlx::query_scalar(SQL)
        .bind(user_id)
        .fetch_one(pool)
        .await)
}

/// Turns two-factor sign-in off: the secret and every recovery code go.
pub async fn remove(db: &Db, user_id: i64) -> Result<(), sqlx::Error> {
    with_pool!(db, |pool| async {
        let mut tx = pool.begin().await?;
        sqlx::query("DELETE FROM user_recovery_codes WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM user_totp WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }
    .await)
}

/// Drops an enrollment still waiting for its first code; an enabled secret stays.
pub async fn cancel_setup(db: &Db, user_id: i64) -> Result<bool, sqlx::Error> {
    const SQL: &str = "DELETE FROM user_totp WHERE user_id = $1 AND enabled_at IS NULL";
    with_pool!(db, |pool| sqlx::query(SQL)
        .bind(user_id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected() == 1))
}

/// Replaces every recovery code of a user who has two-factor sign-in on, in one transaction;
/// `false` (nothing changed) when it is off.
pub async fn replace_recovery_codes(
    db: &Db,
    user_id: i64,
    code_hashes: &[String],
    now_ms: i64,
) -> Result<bool, sqlx::Error> {
    with_pool!(db, |pool| async {
        let mut tx = pool.begin().await?;
        let on: Option<i64> = sqlx::query_scalar(
            "SELECT user_id FROM user_totp WHERE user_id = $1 AND enabled_at IS NOT NULL",
        )
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?;
        if on.is_none() {
            return Ok(false);
        }
        sqlx::query("DELETE FROM user_recovery_codes WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        insert_recovery_codes!(tx, user_id, code_hashes, now_ms)?;
        tx.commit().await?;
        Ok(true)
    }
    .await)
}

/// Turns a user's two-factor sign-in off for an admin, with the audit record, in one
/// transaction; `false` (nothing written) when there was nothing to reset.
pub async fn reset_audited(
    db: &Db,
    user_id: i64,
    audit: &super::audit::AuditEntry<'_>,
) -> Result<bool, sqlx::Error> {
    with_pool!(db, |pool| async {
        let mut tx = pool.begin().await?;
        sqlx::query("DELETE FROM user_recovery_codes WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        let removed = sqlx::query("DELETE FROM user_totp WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if removed == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        super::audit::write_audit!(tx, audit, "user", user_id)?;
        tx.commit().await?;
        Ok(true)
    }
    .await)
}

/// Of `user_ids`, those with two-factor sign-in on (for lists of users).
pub async fn enabled_among(db: &Db, user_ids: &[i64]) -> Result<Vec<i64>, sqlx::Error> {
    if user_ids.is_empty() {
        return Ok(Vec::new());
    }
    // Ids are numbers we hold, bound one by one; a page of users is at most 200.
    let marks: Vec<String> = (1..=user_ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT user_id FROM user_totp WHERE enabled_at IS NOT NULL AND user_id IN ({})",
        marks.join(", ")
    );
    with_pool!(db, |pool| {
        let mut query = sqlx::query_scalar::<_, i64>(&sql);
        for id in user_ids {
            query = query.bind(*id);
        }
        query.fetch_all(pool).await
    })
}
