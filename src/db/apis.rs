//! The APIs behind the gateway.

use super::{Db, with_pool};

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
