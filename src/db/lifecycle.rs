//! The lifecycle policy (one global row, `org_id IS NULL`, until organizations exist) and the
//! unused-key scan's reads and writes. Changes are written with their audit records in one
//! transaction.

use super::audit::{AuditEntry, write_audit};
use super::{Db, with_pool};

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct PolicyRow {
    pub id: i64,
    pub max_lifetime_days: Option<i64>,
    pub default_expiry_days: Option<i64>,
    pub expiry_required: bool,
    /// JSON array of days.
    pub warning_days: String,
    pub unused_days: Option<i64>,
    pub unused_action: String,
    pub updated_by: Option<i64>,
    pub updated_at: i64,
}

const SELECT: &str = "SELECT id, max_lifetime_days, default_expiry_days, expiry_required, warning_days, \
    unused_days, unused_action, updated_by, updated_at FROM lifecycle_policies";

/// The global policy; None only if its row was removed by hand (the caller uses defaults).
pub async fn global(db: &Db) -> Result<Option<PolicyRow>, sqlx::Error> {
    let sql = format!("{SELECT} WHERE org_id IS NULL");
    with_pool!(db, |pool| sqlx::query_as::<_, PolicyRow>(&sql)
        .fetch_optional(pool)
        .await)
}

/// Writes the global policy (inserting its row if it is missing), with the audit record.
pub async fn save_global(
    db: &Db,
    row: &PolicyRow,
    audit: &AuditEntry<'_>,
) -> Result<i64, sqlx::Error> {
    with_pool!(db, |pool| {
        async {
        let mut tx = pool.begin().await?;
        let id = sqlx::query_scalar::<_, i64>(
            "UPDATE lifecycle_policies SET max_lifetime_days = $1, default_expiry_days = $2,
                 expiry_required = $3, warning_days = $4, unused_days = $5, unused_action = $6,
                 updated_by = $7, updated_at = $8
             WHERE org_id IS NULL RETURNING id",
        )
        .bind(row.max_lifetime_days)
        .bind(row.default_expiry_days)
        .bind(row.expiry_required)
        .bind(&row.warning_days)
        .bind(row.unused_days)
        .bind(&row.unused_action)
        .bind(row.updated_by)
        .bind(row.updated_at)
        .fetch_optional(&mut *tx)
        .await?;
        let id = match id {
            Some(id) => id,
            None => {
                sqlx::query_scalar::<_, i64>(
                    "INSERT INTO lifecycle_policies (org_id, max_lifetime_days, default_expiry_days,
                         expiry_required, warning_days, unused_days, unused_action, updated_by, updated_at)
                     VALUES (NULL, $1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                )
                .bind(row.max_lifetime_days)
                .bind(row.default_expiry_days)
                .bind(row.expiry_required)
                .bind(&row.warning_days)
                .bind(row.unused_days)
                .bind(&row.unused_action)
                .bind(row.updated_by)
                .bind(row.updated_at)
                .fetch_one(&mut *tx)
                .await?
            }
        };
        write_audit!(tx, audit, "lifecycle_policy", id)?;
        tx.commit().await?;
        Ok(id)
    }
    .await
    })
}

/// A key the unused-key scan may act on.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct UnusedKey {
    pub id: i64,
    pub key_hash: String,
    pub name: String,
    pub prefix: String,
    pub last4: String,
    pub owner_user_id: i64,
    pub org_id: Option<i64>,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// Live (enabled, not revoked, not expired, not on its way out after a rotation), unused since
/// `cutoff_ms` (never used: created before it), and not acted on since it was last used.
const UNUSED_WHERE: &str = "enabled = $1 AND rotated_to_id IS NULL
    AND (revoked_at IS NULL OR revoked_at > $2) AND (expires_at IS NULL OR expires_at > $2)
    AND COALESCE(last_used_at, created_at) <= $3
    AND (unused_flagged_at IS NULL OR (last_used_at IS NOT NULL AND last_used_at > unused_flagged_at))";

/// Up to `limit` keys the scan should act on at `now_ms`, oldest id first.
pub async fn unused_keys(
    db: &Db,
    now_ms: i64,
    cutoff_ms: i64,
    limit: i64,
) -> Result<Vec<UnusedKey>, sqlx::Error> {
    let sql = format!(
        "SELECT id, key_hash, name, prefix, last4, owner_user_id, org_id, created_at, last_used_at FROM api_keys
         WHERE {UNUSED_WHERE} ORDER BY id LIMIT $4"
    );
    with_pool!(db, |pool| sqlx::query_as::<_, UnusedKey>(&sql)
        .bind(true)
        .bind(now_ms)
        .bind(cutoff_ms)
        .bind(limit)
        .fetch_all(pool)
        .await)
}

/// Marks key `id` as acted on (and disables it when `disable`), with the audit record, only if
/// it still qualifies: a use recorded meanwhile, or another instance's scan, wins. Returns
/// whether this call acted.
pub async fn mark_unused(
    db: &Db,
    id: i64,
    disable: bool,
    now_ms: i64,
    cutoff_ms: i64,
    audit: &AuditEntry<'_>,
) -> Result<bool, sqlx::Error> {
    let sql = format!(
        "UPDATE api_keys SET unused_flagged_at = $4,
             enabled = CASE WHEN $5 THEN FALSE ELSE enabled END,
             updated_at = CASE WHEN $5 THEN $4 ELSE updated_at END
         WHERE id = $6 AND {UNUSED_WHERE}"
    );
    with_pool!(db, |pool| async {
        let mut tx = pool.begin().await?;
        let n = sqlx::query(&sql)
            .bind(true)
            .bind(now_ms)
            .bind(cutoff_ms)
            .bind(now_ms)
            .bind(disable)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        write_audit!(tx, audit, "api_key", id)?;
        tx.commit().await?;
        Ok(true)
    }
    .await)
}
