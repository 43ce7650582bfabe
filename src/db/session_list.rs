//! A user's live sessions of both kinds, browser (web_sessions) and REST (auth_sessions), in
//! one list ordered by last activity.

use super::{Db, with_pool};
use crate::app::types::UserId;

#[derive(sqlx::FromRow)]
pub struct SessionRow {
    /// `browser` or `api`.
    pub kind: String,
    /// The browser session's public id, or the REST session's id.
    pub id: i64,
    pub ip: String,
    pub user_agent: String,
    pub created_at: i64,
    pub last_seen_at: i64,
}

const LIVE_API: &str = "user_id = $1 AND revoked_at IS NULL AND expires_at > $2";

/// One page of the user's live sessions, most recently active first, and how many there are.
pub async fn list_live(
    db: &Db,
    user_id: UserId,
    now_ms: i64,
    limit: i64,
    offset: i64,
) -> Result<(Vec<SessionRow>, i64), sqlx::Error> {
    let browser = super::web_sessions::LIVE;
    let list = format!(
        "SELECT kind, id, ip, user_agent, created_at, last_seen_at FROM (
             SELECT 'browser' AS kind, public_id AS id, ip, user_agent, created_at, last_seen_at
             FROM web_sessions WHERE {browser}
             UNION ALL
             SELECT 'api' AS kind, id, ip, user_agent, created_at, last_used_at AS last_seen_at
             FROM auth_sessions WHERE {LIVE_API}
         ) s ORDER BY last_seen_at DESC, created_at DESC, kind, id DESC LIMIT $3 OFFSET $4"
    );
    let count = format!(
        "SELECT (SELECT COUNT(*) FROM web_sessions WHERE {browser})
              + (SELECT COUNT(*) FROM auth_sessions WHERE {LIVE_API})"
    );
    with_pool!(db, |pool| {
        async {
            let rows = sqlx::query_as::<_, SessionRow>(&list)
                .bind(user_id.0)
                .bind(now_ms)
                .bind(limit)
                .bind(offset)
                .fetch_all(pool)
                .await?;
            let total = sqlx::query_scalar::<_, i64>(&count)
                .bind(user_id.0)
                .bind(now_ms)
                .fetch_one(pool)
                .await?;
            Ok((rows, total))
        }
        .await
    })
}
