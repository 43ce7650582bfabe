//! Reading the audit trail and the security events for the admin console, filtered and paged.

use super::{Db, with_pool};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub actor_user_id: Option<i64>,
    pub action: String,
    pub target_type: String,
    pub target_id: Option<i64>,
    pub old_values: Option<String>,
    pub new_values: Option<String>,
    pub ip: String,
    pub user_agent: String,
    pub created_at: i64,
}

/// Audit filters; `None` matches everything. `target` is a target type (`api_key`) or
/// `type:id` (`user:7`), split by the domain.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub actor_id: Option<i64>,
    pub action: Option<String>,
    pub target_type: Option<String>,
    pub target_id: Option<i64>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
}

// Every filter is a fixed parameter that may be NULL, so the statement is one text.
const AUDIT_WHERE: &str = "WHERE ($1 IS NULL OR actor_user_id = $1)
      AND ($2 IS NULL OR action = $2)
      AND ($3 IS NULL OR target_type = $3)
      AND ($4 IS NULL OR target_id = $4)
      AND ($5 IS NULL OR created_at >= $5)
      AND ($6 IS NULL OR created_at < $6)";

macro_rules! bind_audit {
    ($q:expr, $f:expr) => {
        $q.bind($f.actor_id)
            .bind($f.action.as_deref())
            .bind($f.target_type.as_deref())
            .bind($f.target_id)
            .bind($f.from_ms)
            .bind($f.to_ms)
    };
}

/// Newest first.
pub async fn list_audit(
    db: &Db,
    f: &AuditFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<AuditRow>, i64), sqlx::Error> {
    let list_sql = format!(
        "SELECT id, actor_user_id, action, target_type, target_id, old_values, new_values, ip, user_agent, created_at
         FROM audit_log {AUDIT_WHERE} ORDER BY created_at DESC, id DESC LIMIT $7 OFFSET $8"
    );
    let count_sql = format!("SELECT COUNT(*) FROM audit_log {AUDIT_WHERE}");
    with_pool!(db, |pool| {
        let rows = bind_audit!(sqlx::query_as::<_, AuditRow>(&list_sql), f)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?;
        let total = bind_audit!(sqlx::query_scalar::<_, i64>(&count_sql), f)
            .fetch_one(pool)
            .await?;
        Ok::<_, sqlx::Error>((rows, total))
    })
}

#[derive(Clone, Debug, Default)]
pub struct SecurityFilter {
    pub user_id: Option<i64>,
    pub kind: Option<String>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
}

const SECURITY_WHERE: &str = "WHERE ($1 IS NULL OR user_id = $1)
      AND ($2 IS NULL OR kind = $2)
      AND ($3 IS NULL OR created_at >= $3)
      AND ($4 IS NULL OR created_at < $4)";

/// Newest first.
pub async fn list_security_events(
    db: &Db,
    f: &SecurityFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<super::security_events::SecurityEventRow>, i64), sqlx::Error> {
    let list_sql = format!(
        "SELECT id, kind, subject_type, subject, user_id, detail, ip, user_agent, created_at
         FROM security_events {SECURITY_WHERE} ORDER BY created_at DESC, id DESC LIMIT $5 OFFSET $6"
    );
    let count_sql = format!("SELECT COUNT(*) FROM security_events {SECURITY_WHERE}");
    with_pool!(db, |pool| {
        let rows = sqlx::query_as::<_, super::security_events::SecurityEventRow>(&list_sql)
            .bind(f.user_id)
            .bind(f.kind.as_deref())
            .bind(f.from_ms)
            .bind(f.to_ms)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?;
        let total = sqlx::query_scalar::<_, i64>(&count_sql)
            .bind(f.user_id)
            .bind(f.kind.as_deref())
            .bind(f.from_ms)
            .bind(f.to_ms)
            .fetch_one(pool)
            .await?;
        Ok::<_, sqlx::Error>((rows, total))
    })
}
