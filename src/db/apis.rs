//! The APIs behind the gateway, and their audit records (written in the same transaction as
//! the change).

/// An API change's audit record has the same shape as a key's.
use super::audit::AuditEntry;
use super::audit::write_audit;
use super::{Db, escape_like, with_pool};

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ApiRow {
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub upstream_url: String,
    /// JSON array of `RateLimitSpec`.
    pub default_rate_limits: String,
    pub timeout_ms: i64,
    pub enabled: bool,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

pub(crate) const COLUMNS: &str = "id, name, slug, description, upstream_url, default_rate_limits, timeout_ms, \
    enabled, created_by, created_at, updated_at";

pub async fn find(db: &Db, id: i64) -> Result<Option<ApiRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM apis WHERE id = $1");
    with_pool!(db, |pool| sqlx::query_as::<_, ApiRow>(&sql)
        .bind(id)
        .fetch_optional(pool)
        .await)
}

pub async fn find_by_slug(db: &Db, slug: &str) -> Result<Option<ApiRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM apis WHERE slug = $1");
    with_pool!(db, |pool| sqlx::query_as::<_, ApiRow>(&sql)
        .bind(slug)
        .fetch_optional(pool)
        .await)
}

/// Inserts an API (fields of `row` except id and updated_at) with its audit record; returns
/// the new id. A taken slug fails with a unique violation (`db::is_unique_violation`).
pub async fn insert(db: &Db, row: &ApiRow, audit: &AuditEntry<'_>) -> Result<i64, sqlx::Error> {
    with_pool!(db, |pool| {
        async {
        let mut tx = pool.begin().await?;
        let id = sqlx::query_scalar::<_, i64>(
            "INSERT INTO apis (name, slug, description, upstream_url, default_rate_limits, timeout_ms, enabled,
                 created_by, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
        )
        .bind(&row.name)
        .bind(&row.slug)
        .bind(&row.description)
        .bind(&row.upstream_url)
        .bind(&row.default_rate_limits)
        .bind(row.timeout_ms)
        .bind(row.enabled)
        .bind(row.created_by)
        .bind(row.created_at)
        .fetch_one(&mut *tx)
        .await?;
        write_audit!(tx, audit, "api", id)?;
        tx.commit().await?;
        Ok(id)
    }
    .await
    })
}

/// Writes the editable fields of `row` back, with the audit record. `Ok(false)` if gone; a
/// taken slug fails with a unique violation.
pub async fn update(db: &Db, row: &ApiRow, audit: &AuditEntry<'_>) -> Result<bool, sqlx::Error> {
    with_pool!(db, |pool| {
        async {
        let mut tx = pool.begin().await?;
        let n = sqlx::query(
            "UPDATE apis SET name = $1, slug = $2, description = $3, upstream_url = $4, default_rate_limits = $5,
                 timeout_ms = $6, enabled = $7, updated_at = $8
             WHERE id = $9",
        )
        .bind(&row.name)
        .bind(&row.slug)
        .bind(&row.description)
        .bind(&row.upstream_url)
        .bind(&row.default_rate_limits)
        .bind(row.timeout_ms)
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
        write_audit!(tx, audit, "api", row.id)?;
        tx.commit().await?;
        Ok(true)
    }
    .await
    })
}

/// Deletes an API (its rate-limit policies go with it, by foreign key). `Ok(false)` if gone.
pub async fn delete(db: &Db, id: i64, audit: &AuditEntry<'_>) -> Result<bool, sqlx::Error> {
    super::audit::delete_audited(db, "apis", "api", id, audit).await
}

/// A page of APIs by name, and how many match. `q` matches name or slug (literal substring,
/// case-insensitive).
pub async fn list(
    db: &Db,
    q: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<ApiRow>, i64), sqlx::Error> {
    let pattern = q
        .filter(|q| !q.is_empty())
        .map(|q| format!("%{}%", escape_like(&q.to_lowercase())));
    let (filter, next) = if pattern.is_some() {
        (
            "WHERE (LOWER(name) LIKE $1 ESCAPE '\\' OR LOWER(slug) LIKE $1 ESCAPE '\\')",
            2,
        )
    } else {
        ("", 1)
    };
    let list_sql = format!(
        "SELECT {COLUMNS} FROM apis {filter} ORDER BY LOWER(name) ASC, id ASC LIMIT ${next} OFFSET ${}",
        next + 1
    );
    let count_sql = format!("SELECT COUNT(*) FROM apis {filter}");
    with_pool!(db, |pool| async {
        let mut list = sqlx::query_as::<_, ApiRow>(&list_sql);
        let mut count = sqlx::query_scalar::<_, i64>(&count_sql);
        if let Some(p) = &pattern {
            list = list.bind(p.clone());
            count = count.bind(p.clone());
        }
        let rows = list.bind(limit).bind(offset).fetch_all(pool).await?;
        let total = count.fetch_one(pool).await?;
        Ok((rows, total))
    }
    .await)
}
