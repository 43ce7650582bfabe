//! In-portal notifications: a user's list, unread count, and marking read.

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

/// A page of `user_id`'s notifications (only unread ones if asked), newest first, and how
/// many match.
pub async fn list(
    db: &Db,
    user_id: i64,
    unread_only: bool,
    limit: i64,
    offset: i64,
) -> Result<(Vec<NotificationRow>, i64), sqlx::Error> {
    let filter = "WHERE user_id = $1 AND ($2 = FALSE OR read_at IS NULL)";
    let list_sql = format!(
        "SELECT id, kind, title, body, link, created_at, read_at FROM notifications {filter} \
         ORDER BY id DESC LIMIT $3 OFFSET $4"
    );
    let count_sql = format!("SELECT COUNT(*) FROM notifications {filter}");
    with_pool!(db, |pool| async {
        let rows = sqlx::query_as::<_, NotificationRow>(&list_sql)
            .bind(user_id)
            .bind(unread_only)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?;
        let total = sqlx::query_scalar::<_, i64>(&count_sql)
            .bind(user_id)
            .bind(unread_only)
            .fetch_one(pool)
            .await?;
        Ok((rows, total))
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
