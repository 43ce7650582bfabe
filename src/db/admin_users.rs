//! Admin changes to accounts (suspension, role) with their audit records, and the filtered
//! user list and detail figures of the admin console.

use super::audit::{AuditEntry, write_audit};
use super::{Db, escape_like, with_pool};
use crate::app::types::{Role, UserId};

/// Whether `user_id` is suspended (false for an unknown id: a key's owner always exists).
pub async fn is_suspended(db: &Db, user_id: i64) -> Result<bool, sqlx::Error> {
    let found = with_pool!(db, |pool| {
        sqlx::query_scalar::<_, Option<i64>>("SELECT suspended_at FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(pool)
            .await
    })?;
    Ok(matches!(found, Some(Some(_))))
}

/// Suspends `id` and revokes its REST sessions (so reactivation does not revive them), with
/// the audit record, in one transaction. `Ok(false)` when it was already suspended or gone.
pub async fn suspend(
    db: &Db,
    id: UserId,
    reason: Option<&str>,
    audit: &AuditEntry<'_>,
) -> Result<bool, sqlx::Error> {
    with_pool!(db, |pool| async {
        let mut tx = pool.begin().await?;
        let n = sqlx::query(
            "UPDATE users SET suspended_at = $1, suspended_reason = $2, updated_at = $1
             WHERE id = $3 AND suspended_at IS NULL",
        )
        .bind(audit.now_ms)
        .bind(reason)
        .bind(id.0)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query(
            "UPDATE auth_sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
        )
        .bind(audit.now_ms)
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
        write_audit!(tx, audit, "user", id.0)?;
        tx.commit().await?;
        Ok(true)
    }
    .await)
}

/// Lifts the suspension of `id`. Browser sessions left from before are deleted: the user signs
/// in again. `Ok(false)` when it was not suspended or is gone.
pub async fn reactivate(db: &Db, id: UserId, audit: &AuditEntry<'_>) -> Result<bool, sqlx::Error> {
    with_pool!(db, |pool| async {
        let mut tx = pool.begin().await?;
        let n = sqlx::query(
            "UPDATE users SET suspended_at = NULL, suspended_reason = NULL, updated_at = $1
             WHERE id = $2 AND suspended_at IS NOT NULL",
        )
        .bind(audit.now_ms)
        .bind(id.0)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query("DELETE FROM web_sessions WHERE user_id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        write_audit!(tx, audit, "user", id.0)?;
        tx.commit().await?;
        Ok(true)
    }
    .await)
}

pub enum RoleChange {
    Done,
    NotFound,
    /// It would leave no super admin.
    LastSuperAdmin,
}

/// Sets `id`'s role; refused (rolled back) when no super admin would remain.
pub async fn set_role(
    db: &Db,
    id: UserId,
    role: Role,
    audit: &AuditEntry<'_>,
) -> Result<RoleChange, sqlx::Error> {
    with_pool!(db, |pool| async {
        let mut tx = pool.begin().await?;
        let n = sqlx::query("UPDATE users SET role = $1, updated_at = $2 WHERE id = $3")
            .bind(role.as_str())
            .bind(audit.now_ms)
            .bind(id.0)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n != 1 {
            tx.rollback().await?;
            return Ok(RoleChange::NotFound);
        }
        let supers = sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM users WHERE role = 'super_admin' AND suspended_at IS NULL",
        )
        .fetch_one(&mut *tx)
        .await?;
        if supers == 0 {
            tx.rollback().await?;
            return Ok(RoleChange::LastSuperAdmin);
        }
        write_audit!(tx, audit, "user", id.0)?;
        tx.commit().await?;
        Ok(RoleChange::Done)
    }
    .await)
}

/// The admin list's filters: `q` on email or name, a role (as stored) and a status
/// (`active` / `suspended`); empty strings match everything.
pub struct UserFilter<'a> {
    pub q: &'a str,
    pub role: &'a str,
    pub status: &'a str,
}

/// Ids of the matching users, newest first, and how many match.
pub async fn filtered_ids(
    db: &Db,
    f: &UserFilter<'_>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<i64>, i64), sqlx::Error> {
    let pattern = format!("%{}%", escape_like(&f.q.to_lowercase()));
    const WHERE: &str =
        "WHERE (LOWER(email) LIKE $1 ESCAPE '\\' OR LOWER(name) LIKE $1 ESCAPE '\\')
          AND ($2 = '' OR role = $2)
          AND ($3 = '' OR ($3 = 'suspended' AND suspended_at IS NOT NULL)
                       OR ($3 = 'active' AND suspended_at IS NULL))";
    let list_sql = format!("SELECT id FROM users {WHERE} ORDER BY id DESC LIMIT $4 OFFSET $5");
    let count_sql = format!("SELECT COUNT(*) FROM users {WHERE}");
    with_pool!(db, |pool| {
        let ids = sqlx::query_scalar::<_, i64>(&list_sql)
            .bind(&pattern)
            .bind(f.role)
            .bind(f.status)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?;
        let total = sqlx::query_scalar::<_, i64>(&count_sql)
            .bind(&pattern)
            .bind(f.role)
            .bind(f.status)
            .fetch_one(pool)
            .await?;
        Ok::<_, sqlx::Error>((ids, total))
    })
}

/// What the detail page shows besides the account: key counts and the last sign-in.
pub struct UserFigures {
    pub keys_total: i64,
    pub keys_active: i64,
    pub last_sign_in_ms: Option<i64>,
}

pub async fn figures(
    db: &Db,
    id: UserId,
    email: &str,
    now_ms: i64,
) -> Result<UserFigures, sqlx::Error> {
    with_pool!(db, |pool| {
        let (keys_total, keys_active) = sqlx::query_as::<_, (i64, i64)>(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN revoked_at IS NULL AND enabled
                 AND (expires_at IS NULL OR expires_at > $2) THEN 1 ELSE 0 END), 0)
             FROM api_keys WHERE owner_user_id = $1",
        )
        .bind(id.0)
        .bind(now_ms)
        .fetch_one(pool)
        .await?;
        let last_sign_in_ms = sqlx::query_scalar::<_, Option<i64>>(
            "SELECT MAX(attempted_at) FROM login_attempts WHERE email = $1 AND succeeded",
        )
        .bind(email)
        .fetch_one(pool)
        .await?;
        Ok::<_, sqlx::Error>(UserFigures {
            keys_total,
            keys_active,
            last_sign_in_ms,
        })
    })
}
