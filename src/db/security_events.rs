//! Security events: who or what tripped an alarm, when and from where.

use super::{Db, with_pool};

pub struct NewSecurityEvent<'a> {
    pub kind: &'a str,
    /// What the event is about: `api_key`, `ip`, `user`.
    pub subject_type: &'a str,
    pub subject: &'a str,
    pub user_id: Option<i64>,
    /// JSON object with the particulars (never secrets).
    pub detail: &'a str,
    pub ip: &'a str,
    pub user_agent: &'a str,
    pub at_ms: i64,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SecurityEventRow {
    pub id: i64,
    pub kind: String,
    pub subject_type: String,
    pub subject: String,
    pub user_id: Option<i64>,
    pub detail: String,
    pub ip: String,
    pub user_agent: String,
    pub created_at: i64,
}

pub async fn insert(db: &Db, e: &NewSecurityEvent<'_>) -> Result<(), sqlx::Error> {
    with_pool!(db, |pool| {
        sqlx::query(
        "INSERT INTO security_events (kind, subject_type, subject, user_id, detail, ip, user_agent, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    )
    .bind(e.kind)
    .bind(e.subject_type)
    .bind(e.subject)
    .bind(e.user_id)
    .bind(e.detail)
    .bind(e.ip)
    .bind(e.user_agent)
    .bind(e.at_ms)
    .execute(pool)
    .await
    .map(|_| ())
    })
}

/// The newest events about one subject, newest first.
pub async fn for_subject(
    db: &Db,
    subject_type: &str,
    subject: &str,
    limit: i64,
) -> Result<Vec<SecurityEventRow>, sqlx::Error> {
    with_pool!(db, |pool| sqlx::query_as::<_, SecurityEventRow>(
        "SELECT id, kind, subject_type, subject, user_id, detail, ip, user_agent, created_at
         FROM security_events WHERE subject_type = $1 AND subject = $2 ORDER BY id DESC LIMIT $3"
    )
    .bind(subject_type)
    .bind(subject)
    .bind(limit)
    .fetch_all(pool)
    .await)
}
