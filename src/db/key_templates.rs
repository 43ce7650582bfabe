//! Key templates and their audit records (written in the same transaction as the change).
//! `name_seq` is the naming template's `{seq}` counter: only `next_seq` moves it.

use super::audit::{AuditEntry, write_audit};
use super::{Db, with_pool};

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct TemplateRow {
    pub id: i64,
    pub name: String,
    pub description: String,
    /// JSON arrays.
    pub scopes: String,
    pub tags: String,
    /// JSON `[RateLimitSpec]`, `QuotaSpec`, `RefillSpec`; null: not preset.
    pub rate_limits: Option<String>,
    pub quota: Option<String>,
    pub remaining: Option<i64>,
    pub refill: Option<String>,
    pub expiry_days: Option<i64>,
    pub prefix: Option<String>,
    pub api_id: Option<i64>,
    pub name_template: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

const SELECT: &str = "SELECT id, name, description, scopes, tags, rate_limits, quota, remaining, refill, \
    expiry_days, prefix, api_id, name_template, created_by, created_at, updated_at FROM key_templates";

pub async fn find(db: &Db, id: i64) -> Result<Option<TemplateRow>, sqlx::Error> {
    let sql = format!("{SELECT} WHERE id = $1");
    with_pool!(db, |pool| sqlx::query_as::<_, TemplateRow>(&sql)
        .bind(id)
        .fetch_optional(pool)
        .await)
}

/// A page of templates by name, and how many there are.
pub async fn list(
    db: &Db,
    limit: i64,
    offset: i64,
) -> Result<(Vec<TemplateRow>, i64), sqlx::Error> {
    let sql = format!("{SELECT} ORDER BY LOWER(name), id LIMIT $1 OFFSET $2");
    with_pool!(db, |pool| async {
        let rows = sqlx::query_as::<_, TemplateRow>(&sql)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?;
        let total = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM key_templates")
            .fetch_one(pool)
            .await?;
        Ok((rows, total))
    }
    .await)
}

/// Inserts a template (fields of `row` except id and updated_at) with its audit record. A
/// taken name fails with a unique violation.
pub async fn insert(
    db: &Db,
    row: &TemplateRow,
    audit: &AuditEntry<'_>,
) -> Result<i64, sqlx::Error> {
    with_pool!(db, |pool| {
        async {
        let mut tx = pool.begin().await?;
        let id = sqlx::query_scalar::<_, i64>(
            "INSERT INTO key_templates (name, description, scopes, tags, rate_limits, quota, remaining,
                 refill, expiry_days, prefix, api_id, name_template, created_by, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14) RETURNING id",
        )
        .bind(&row.name)
        .bind(&row.description)
        .bind(&row.scopes)
        .bind(&row.tags)
        .bind(&row.rate_limits)
        .bind(&row.quota)
        .bind(row.remaining)
        .bind(&row.refill)
        .bind(row.expiry_days)
        .bind(&row.prefix)
        .bind(row.api_id)
        .bind(&row.name_template)
        .bind(row.created_by)
        .bind(row.created_at)
        .fetch_one(&mut *tx)
        .await?;
        write_audit!(tx, audit, "key_template", id)?;
        tx.commit().await?;
        Ok(id)
    }
    .await
    })
}

/// Writes the editable fields back, with the audit record. `Ok(false)` if gone.
pub async fn update(
    db: &Db,
    row: &TemplateRow,
    audit: &AuditEntry<'_>,
) -> Result<bool, sqlx::Error> {
    with_pool!(db, |pool| async {
        let mut tx = pool.begin().await?;
        let n = sqlx::query(
            "UPDATE key_templates SET name = $1, description = $2, scopes = $3, tags = $4,
                 rate_limits = $5, quota = $6, remaining = $7, refill = $8, expiry_days = $9,
                 prefix = $10, api_id = $11, name_template = $12, updated_at = $13
             WHERE id = $14",
        )
        .bind(&row.name)
        .bind(&row.description)
        .bind(&row.scopes)
        .bind(&row.tags)
        .bind(&row.rate_limits)
        .bind(&row.quota)
        .bind(row.remaining)
        .bind(&row.refill)
        .bind(row.expiry_days)
        .bind(&row.prefix)
        .bind(row.api_id)
        .bind(&row.name_template)
        .bind(row.updated_at)
        .bind(row.id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        write_audit!(tx, audit, "key_template", row.id)?;
        tx.commit().await?;
        Ok(true)
    }
    .await)
}

pub async fn delete(db: &Db, id: i64, audit: &AuditEntry<'_>) -> Result<bool, sqlx::Error> {
    super::audit::delete_audited(db, "key_templates", "key_template", id, audit).await
}

/// Takes the next `{seq}` of template `id` (1, 2, …); None if the template is gone. A key
/// create that fails afterwards leaves a gap, as a database sequence would.
pub async fn next_seq(db: &Db, id: i64) -> Result<Option<i64>, sqlx::Error> {
    with_pool!(db, |pool| sqlx::query_scalar::<_, i64>(
        "UPDATE key_templates SET name_seq = name_seq + 1 WHERE id = $1 RETURNING name_seq"
    )
    .bind(id)
    .fetch_optional(pool)
    .await)
}
