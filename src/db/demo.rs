//! Bulk inserts for `keyport seed-demo`: users and keys by the thousand, in multi-row
//! statements. The portal's own paths insert one row per transaction with its audit record;
//! demo data is written once, by the operator, so it carries no audit trail per row.

use super::keys::KeyRow;
use super::{Db, with_pool};
use crate::app::types::Role;
use sqlx::QueryBuilder;

/// Rows per statement: keys have 22 columns, so 1,000 rows stay under both backends' bind
/// limits (SQLite 32,766, PostgreSQL 65,535).
const ROWS_PER_STATEMENT: usize = 1_000;

/// A user to insert; every demo user shares one password hash.
pub struct DemoUser {
    pub email: String,
    pub name: String,
    pub role: Role,
}

/// Inserts `users` (with `password_hash`, created at `now_ms`) in one transaction; returns
/// each one's (email, id).
pub async fn insert_users(
    db: &Db,
    users: &[DemoUser],
    password_hash: &str,
    now_ms: i64,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    with_pool!(db, |pool| async {
        let mut tx = pool.begin().await?;
        let mut out = Vec::with_capacity(users.len());
        for chunk in users.chunks(ROWS_PER_STATEMENT) {
            let mut q = QueryBuilder::new(
                "INSERT INTO users (email, name, password_hash, role, created_at, updated_at, \
                 password_changed_at) ",
            );
            q.push_values(chunk, |mut b, u| {
                b.push_bind(u.email.as_str())
                    .push_bind(u.name.as_str())
                    .push_bind(password_hash)
                    .push_bind(u.role.as_str())
                    .push_bind(now_ms)
                    .push_bind(now_ms)
                    .push_bind(now_ms);
            });
            q.push(" RETURNING email, id");
            out.extend(
                q.build_query_as::<(String, i64)>()
                    .fetch_all(&mut *tx)
                    .await?,
            );
        }
        tx.commit().await?;
        Ok(out)
    }
    .await)
}

/// Inserts `keys` (all fields but `id`) in one transaction; returns each one's
/// (key_hash, id).
pub async fn insert_keys(db: &Db, keys: &[KeyRow]) -> Result<Vec<(String, i64)>, sqlx::Error> {
    with_pool!(db, |pool| async {
        let mut tx = pool.begin().await?;
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(ROWS_PER_STATEMENT) {
            let mut q = QueryBuilder::new(
                "INSERT INTO api_keys (key_hash, prefix, last4, name, description, scopes, tags, \
                 metadata, ip_allowlist, allowed_origins, owner_user_id, api_id, created_by, \
                 enabled, created_at, updated_at, expires_at, revoked_at, last_used_at, \
                 rate_limits, quota_used) ",
            );
            q.push_values(chunk, |mut b, k| {
                b.push_bind(k.key_hash.as_str())
                    .push_bind(k.prefix.as_str())
                    .push_bind(k.last4.as_str())
                    .push_bind(k.name.as_str())
                    .push_bind(k.description.as_str())
                    .push_bind(k.scopes.as_str())
                    .push_bind(k.tags.as_str())
                    .push_bind(k.metadata.as_str())
                    .push_bind(k.ip_allowlist.as_str())
                    .push_bind(k.allowed_origins.as_str())
                    .push_bind(k.owner_user_id)
                    .push_bind(k.api_id)
                    .push_bind(k.created_by)
                    .push_bind(k.enabled)
                    .push_bind(k.created_at)
                    .push_bind(k.updated_at)
                    .push_bind(k.expires_at)
                    .push_bind(k.revoked_at)
                    .push_bind(k.last_used_at)
                    .push_bind(k.traffic.rate_limits.as_str())
                    .push_bind(k.traffic.quota_used);
            });
            q.push(" RETURNING key_hash, id");
            out.extend(
                q.build_query_as::<(String, i64)>()
                    .fetch_all(&mut *tx)
                    .await?,
            );
        }
        tx.commit().await?;
        Ok(out)
    }
    .await)
}
