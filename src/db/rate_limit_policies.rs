//! Rate-limit policies, and their audit records (written in the same transaction as the
//! change). A policy on an API goes when the API goes (foreign key).

use super::audit::{AuditEntry, write_audit};
use super::{Db, with_pool};

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct PolicyRow {
    pub id: i64,
    pub name: String,
    pub scope: String,
    /// User, org or key id, or IP/CIDR; null for every subject. API targets live in `api_id`.
    pub target: Option<String>,
    pub api_id: Option<i64>,
    /// The slug of `api_id` now (read, never written).
    pub api_slug: Option<String>,
    pub method: Option<String>,
    pub path_pattern: Option<String>,
    pub request_limit: i64,
    pub window_unit: String,
    pub burst: i64,
    pub enabled: bool,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

const SELECT: &str = "SELECT p.id, p.name, p.scope, p.target, p.api_id, a.slug AS api_slug, p.method, \
    p.path_pattern, p.request_limit, p.window_unit, p.burst, p.enabled, p.created_by, p.created_at, \
    p.updated_at FROM rate_limit_policies p LEFT JOIN apis a ON a.id = p.api_id";

pub async fn find(db: &Db, id: i64) -> Result<Option<PolicyRow>, sqlx::Error> {
    let sql = format!("{SELECT} WHERE p.id = $1");
    with_pool!(db, |pool| sqlx::query_as::<_, PolicyRow>(&sql)
        .bind(id)
        .fetch_optional(pool)
        .await)
}

/// Every enabled policy: what verification enforces.
pub async fn enabled(db: &Db) -> Result<Vec<PolicyRow>, sqlx::Error> {
    let sql = format!("{SELECT} WHERE p.enabled = $1 ORDER BY p.id");
    with_pool!(db, |pool| sqlx::query_as::<_, PolicyRow>(&sql)
        .bind(true)
        .fetch_all(pool)
        .await)
}

/// A page of policies (newest first) and how many there are; `scope` filters.
pub async fn list(
    db: &Db,
    scope: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<PolicyRow>, i64), sqlx::Error> {
    let (filter, next) = match scope {
        Some(_) => ("WHERE p.scope = $1", 2),
        None => ("", 1),
    };
    let list_sql = format!(
        "{SELECT} {filter} ORDER BY p.id DESC LIMIT ${next} OFFSET ${}",
        next + 1
    );
    let count_sql = format!("SELECT COUNT(*) FROM rate_limit_policies p {filter}");
    with_pool!(db, |pool| async {
        let mut list = sqlx::query_as::<_, PolicyRow>(&list_sql);
        let mut count = sqlx::query_scalar::<_, i64>(&count_sql);
        if let Some(s) = scope {
            list = list.bind(s);
            count = count.bind(s);
        }
        let rows = list.bind(limit).bind(offset).fetch_all(pool).await?;
        let total = count.fetch_one(pool).await?;
        Ok((rows, total))
    }
    .await)
}

/// Inserts a policy (fields of `row` except id, api_slug and updated_at) with its audit
/// record; returns the new id.
pub async fn insert(db: &Db, row: &PolicyRow, audit: &AuditEntry<'_>) -> Result<i64, sqlx::Error> {
    with_pool!(db, |pool| async {
        let mut tx = pool.begin().await?;
        let id = sqlx::query_scalar::<_, i64>(
            "INSERT INTO rate_limit_policies (name, scope, target, api_id, method, path_pattern,
                 request_limit, window_unit, burst, enabled, created_by, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id",
        )
        .bind(&row.name)
        .bind(&row.scope)
        .bind(&row.target)
        .bind(row.api_id)
        .bind(&row.method)
        .bind(&row.path_pattern)
        .bind(row.request_limit)
        .bind(&row.window_unit)
        .bind(row.burst)
        .bind(row.enabled)
        .bind(row.created_by)
        .bind(row.created_at)
        .fetch_one(&mut *tx)
        .await?;
        write_audit!(tx, audit, "rate_limit_policy", id)?;
        tx.commit().await?;
        Ok(id)
    }
    .await)
}

/// Writes the editable fields of `row` back, with the audit record. `Ok(false)` if gone.
pub async fn update(db: &Db, row: &PolicyRow, audit: &AuditEntry<'_>) -> Result<bool, sqlx::Error> {
    with_pool!(db, |pool| async {
        let mut tx = pool.begin().await?;
        let n = sqlx::query(
            "UPDATE rate_limit_policies SET name = $1, scope = $2, target = $3, api_id = $4,
                 method = $5, path_pattern = $6, request_limit = $7, window_unit = $8, burst = $9,
                 enabled = $10, updated_at = $11
             WHERE id = $12",
        )
        .bind(&row.name)
        .bind(&row.scope)
        .bind(&row.target)
        .bind(row.api_id)
        .bind(&row.method)
        .bind(&row.path_pattern)
        .bind(row.request_limit)
        .bind(&row.window_unit)
        .bind(row.burst)
        .bind(row.enabled)
        .bind(row.updated_at)
        .bind(row.id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        write_audit!(tx, audit, "rate_limit_policy", row.id)?;
        tx.commit().await?;
        Ok(true)
    }
    .await)
}

/// Deletes a policy with its audit record. `Ok(false)` if gone.
pub async fn delete(db: &Db, id: i64, audit: &AuditEntry<'_>) -> Result<bool, sqlx::Error> {
    super::audit::delete_audited(db, "rate_limit_policies", "rate_limit_policy", id, audit).await
}
