//! Notification preferences: only a user's choices that differ from the catalog's defaults.

use super::{Db, with_pool};

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct PrefRow {
    pub kind: String,
    pub channel: String,
    pub enabled: bool,
}

/// Every stored choice of `user_id`.
pub async fn list(db: &Db, user_id: i64) -> Result<Vec<PrefRow>, sqlx::Error> {
    with_pool!(db, |pool| {
        sqlx::query_as::<_, PrefRow>(
            "SELECT kind, channel, enabled FROM notification_prefs WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_all(pool)
        .await
    })
}

/// `user_id`'s stored choices for one event type (the dispatch's per-event read).
pub async fn for_kind(db: &Db, user_id: i64, kind: &str) -> Result<Vec<PrefRow>, sqlx::Error> {
    with_pool!(db, |pool| {
        sqlx::query_as::<_, PrefRow>(
            "SELECT kind, channel, enabled FROM notification_prefs WHERE user_id = $1 AND kind = $2",
        )
        .bind(user_id)
        .bind(kind)
        .fetch_all(pool)
        .await
    })
}

/// A choice to store; `enabled: None` forgets it (the default applies again).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrefChange<'a> {
    pub kind: &'a str,
    pub channel: &'a str,
    pub enabled: Option<bool>,
}

/// Applies `changes` for `user_id` in one transaction: all of them or none.
pub async fn save(
    db: &Db,
    user_id: i64,
    changes: &[PrefChange<'_>],
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    const UPSERT: &str = "INSERT INTO notification_prefs (user_id, kind, channel, enabled, updated_at)
                          VALUES ($1, $2, $3, $4, $5)
                          ON CONFLICT (user_id, kind, channel)
                          DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at";
    const DELETE: &str =
        "DELETE FROM notification_prefs WHERE user_id = $1 AND kind = $2 AND channel = $3";
    with_pool!(db, |pool| {
        async {
            let mut tx = pool.begin().await?;
            for c in changes {
                match c.enabled {
                    Some(enabled) => {
                        sqlx::query(UPSERT)
                            .bind(user_id)
                            .bind(c.kind)
                            .bind(c.channel)
                            .bind(enabled)
                            .bind(now_ms)
                            .execute(&mut *tx)
                            .await?;
                    }
                    None => {
                        sqlx::query(DELETE)
                            .bind(user_id)
                            .bind(c.kind)
                            .bind(c.channel)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
            }
            tx.commit().await
        }
        .await
    })
}

/// How many users a broadcast to `role` (or to all) reaches.
pub async fn count_audience(db: &Db, role: Option<&str>) -> Result<i64, sqlx::Error> {
    with_pool!(db, |pool| {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users WHERE $1 IS NULL OR role = $1")
            .bind(role)
            .fetch_one(pool)
            .await
    })
}
