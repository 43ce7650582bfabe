//! In-portal notifications: a user's list, unread count, and marking read.

use super::audit::{AuditEntry, write_audit};
use super::events::{NewEvent, write_event};
use super::{Db, with_pool};

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct NotificationRow {
    pub id: i64,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub link: String,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

/// Which of a user's notifications a list shows.
#[derive(Clone, Debug, Default)]
pub struct ListFilter<'a> {
    pub unread_only: bool,
    /// Only this kind ('' for any).
    pub kind: &'a str,
    /// Only kinds starting with this ('' for any; a catalog family such as `security.`, so
    /// it holds no LIKE wildcards).
    pub kind_prefix: &'a str,
}

/// A page of `user_id`'s notifications matching `filter`, newest first, and how many match.
pub async fn list(
    db: &Db,
    user_id: i64,
    filter: &ListFilter<'_>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<NotificationRow>, i64), sqlx::Error> {
    let filter_sql = "WHERE user_id = $1 AND ($2 = FALSE OR read_at IS NULL) \
                      AND ($3 = '' OR kind = $3) AND ($4 = '' OR kind LIKE $4)";
    let list_sql = format!(
        "SELECT id, kind, title, body, link, created_at, read_at FROM notifications {filter_sql} \
         ORDER BY id DESC LIMIT $5 OFFSET $6"
    );
    let count_sql = format!("SELECT COUNT(*) FROM notifications {filter_sql}");
    let prefix = if filter.kind_prefix.is_empty() {
        String::new()
    } else {
        format!("{}%", filter.kind_prefix)
    };
    with_pool!(db, |pool| async {
        let rows = sqlx::query_as::<_, NotificationRow>(&list_sql)
            .bind(user_id)
            .bind(filter.unread_only)
            .bind(filter.kind)
            .bind(&prefix)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?;
        let total = sqlx::query_scalar::<_, i64>(&count_sql)
            .bind(user_id)
            .bind(filter.unread_only)
            .bind(filter.kind)
            .bind(&prefix)
            .fetch_one(pool)
            .await?;
        Ok((rows, total))
    }
    .await)
}

/// Records an admin's broadcast: the `broadcast` event (and its dispatch job, which
/// delivers it) with the audit record about it, in one transaction. Returns the event's id.
pub async fn record_broadcast(
    db: &Db,
    event: &NewEvent,
    audit: &AuditEntry<'_>,
) -> Result<i64, sqlx::Error> {
    with_pool!(db, |pool| async {
        let mut tx = pool.begin().await?;
        let id = write_event!(tx, event, None, audit.now_ms).await?;
        write_audit!(tx, audit, "event", id)?;
        tx.commit().await?;
        Ok(id)
    }
    .await)
}

pub async fn unread_count(db: &Db, user_id: i64) -> Result<i64, sqlx::Error> {
    with_pool!(db, |pool| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL"
    )
    .bind(user_id)
    .fetch_one(pool)
    .await)
}

/// Marks one of `user_id`'s notifications read (kept as it was if read before). `Ok(false)`
/// when the user has no such notification.
pub async fn mark_read(db: &Db, user_id: i64, id: i64, now_ms: i64) -> Result<bool, sqlx::Error> {
    let n = with_pool!(db, |pool| {
        sqlx::query(
        "UPDATE notifications SET read_at = COALESCE(read_at, $1) WHERE id = $2 AND user_id = $3"
    )
    .bind(now_ms)
    .bind(id)
    .bind(user_id)
    .execute(pool)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

/// Marks every unread notification of `user_id` read; returns how many were.
pub async fn mark_all_read(db: &Db, user_id: i64, now_ms: i64) -> Result<u64, sqlx::Error> {
    with_pool!(db, |pool| sqlx::query(
        "UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL"
    )
    .bind(now_ms)
    .bind(user_id)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))
}
