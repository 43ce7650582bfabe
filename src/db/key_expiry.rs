//! Keys whose expiry is near or just past, and the notices sent about them.

use super::{Db, with_pool};

/// A key with an expiry in the window the scan reads, and the closest notice already sent
/// for that expiry (days before it; 0 = the expired notice).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ExpiringKey {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub last4: String,
    pub owner_user_id: i64,
    pub org_id: Option<i64>,
    pub expires_at: i64,
    pub closest_sent: Option<i64>,
}

/// Keys that are not revoked (by `now_ms`), with `from_ms < expires_at <= until_ms`, after
/// key id `after_id`, in id order.
pub async fn in_window(
    db: &Db,
    from_ms: i64,
    until_ms: i64,
    now_ms: i64,
    after_id: i64,
    limit: i64,
) -> Result<Vec<ExpiringKey>, sqlx::Error> {
    with_pool!(db, |pool| sqlx::query_as::<_, ExpiringKey>(
        "SELECT k.id, k.name, k.prefix, k.last4, k.owner_user_id, k.org_id, k.expires_at,
                (SELECT MIN(n.days_before) FROM key_expiry_notices n
                  WHERE n.key_id = k.id AND n.expires_at = k.expires_at) AS closest_sent
         FROM api_keys k
         WHERE k.expires_at > $1 AND k.expires_at <= $2
           AND (k.revoked_at IS NULL OR k.revoked_at > $3)
           AND k.id > $4
         ORDER BY k.id LIMIT $5"
    )
    .bind(from_ms)
    .bind(until_ms)
    .bind(now_ms)
    .bind(after_id)
    .bind(limit)
    .fetch_all(pool)
    .await)
}

/// The marker of one notice: `$1` key id, `$2` expires_at, `$3` days before, `$4` now. For
/// [`super::events::insert_once`].
pub const MARK_SENT_SQL: &str =
    "INSERT INTO key_expiry_notices (key_id, expires_at, days_before, sent_at)
     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";

/// The notices sent about `key_id`'s expiry `expires_at`, as days before it.
pub async fn sent(db: &Db, key_id: i64, expires_at: i64) -> Result<Vec<i64>, sqlx::Error> {
    with_pool!(db, |pool| {
        sqlx::query_scalar::<_, i64>(
        "SELECT days_before FROM key_expiry_notices WHERE key_id = $1 AND expires_at = $2 ORDER BY days_before DESC"
    )
    .bind(key_id)
    .bind(expires_at)
    .fetch_all(pool)
    .await
    })
}
