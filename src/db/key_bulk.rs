//! Bulk key operations: many keys read in few queries, changed in chunked transactions (each
//! item's change with its audit record), and the `bulk_operations` row that names them.

use super::audit::{AuditEntry, write_audit};
use super::keys::KeyRow;
use super::{Db, with_pool};

/// Ids per `IN (...)` read; well under SQLite's and PostgreSQL's bind limits.
const READ_CHUNK: usize = 500;

/// The keys among `ids` that exist (any order).
pub async fn find_many(db: &Db, ids: &[i64]) -> Result<Vec<KeyRow>, sqlx::Error> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(READ_CHUNK) {
        let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT {} FROM api_keys WHERE id IN ({})",
            super::keys::COLUMNS,
            marks.join(", ")
        );
        let rows = with_pool!(db, |pool| async {
            let mut q = sqlx::query_as::<_, KeyRow>(&sql);
            for id in chunk {
                q = q.bind(*id);
            }
            q.fetch_all(pool).await
        }
        .await)?;
        out.extend(rows);
    }
    Ok(out)
}

/// One item's write: `row` is the key after the change, or `None` to delete key `id`.
pub struct ItemWrite<'a> {
    pub id: i64,
    pub row: Option<KeyRow>,
    pub audit: AuditEntry<'a>,
}

/// Applies `items` in one transaction, each change with its audit record; an item whose key
/// vanished meanwhile writes nothing and answers `false`. A database error rolls back the
/// whole chunk, so no item is ever half-written.
pub async fn apply_chunk(db: &Db, items: &[ItemWrite<'_>]) -> Result<Vec<bool>, sqlx::Error> {
    with_pool!(db, |pool| {
        async {
        let mut tx = pool.begin().await?;
        let mut applied = Vec::with_capacity(items.len());
        for item in items {
            let n = match &item.row {
                Some(row) => sqlx::query(
                    "UPDATE api_keys SET tags = $1, enabled = $2, expires_at = $3, revoked_at = $4, updated_at = $5
                     WHERE id = $6",
                )
                .bind(&row.tags)
                .bind(row.enabled)
                .bind(row.expires_at)
                .bind(row.revoked_at)
                .bind(row.updated_at)
                .bind(item.id)
                .execute(&mut *tx)
                .await?
                .rows_affected(),
                None => {
                    // Successors keep working; only the link to this key goes.
                    sqlx::query("UPDATE api_keys SET rotated_to_id = NULL WHERE rotated_to_id = $1")
                        .bind(item.id)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("DELETE FROM api_keys WHERE id = $1")
                        .bind(item.id)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected()
                }
            };
            if n == 1 {
                write_audit!(tx, item.audit, "api_key", item.id)?;
            }
            applied.push(n == 1);
        }
        tx.commit().await?;
        Ok(applied)
    }
    .await
    })
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct BulkOpRow {
    pub id: i64,
    pub actor_user_id: Option<i64>,
    pub action: String,
    pub total: i64,
    pub done: i64,
    pub failed: i64,
    pub status: String,
    /// JSON array of per-item results, once finished.
    pub results: Option<String>,
    pub created_at: i64,
    pub finished_at: Option<i64>,
    /// What a background operation was asked (JSON), until its job runs it.
    pub request: Option<String>,
}

pub async fn create_op(
    db: &Db,
    actor_user_id: i64,
    action: &str,
    total: i64,
    status: &str,
    request: Option<&str>,
    now_ms: i64,
) -> Result<i64, sqlx::Error> {
    with_pool!(db, |pool| sqlx::query_scalar::<_, i64>(
        "INSERT INTO bulk_operations (actor_user_id, action, total, status, request, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id"
    )
    .bind(actor_user_id)
    .bind(action)
    .bind(total)
    .bind(status)
    .bind(request)
    .bind(now_ms)
    .fetch_one(pool)
    .await)
}

/// Records progress; `results` and `finished_at` once the operation is over.
pub async fn update_op(
    db: &Db,
    id: i64,
    done: i64,
    failed: i64,
    status: &str,
    results: Option<&str>,
    finished_at: Option<i64>,
) -> Result<(), sqlx::Error> {
    with_pool!(db, |pool| sqlx::query(
        "UPDATE bulk_operations SET done = $1, failed = $2, status = $3,
             results = COALESCE($4, results), finished_at = COALESCE($5, finished_at)
         WHERE id = $6"
    )
    .bind(done)
    .bind(failed)
    .bind(status)
    .bind(results)
    .bind(finished_at)
    .bind(id)
    .execute(pool)
    .await
    .map(|_| ()))
}

pub async fn find_op(db: &Db, id: i64) -> Result<Option<BulkOpRow>, sqlx::Error> {
    with_pool!(db, |pool| {
        sqlx::query_as::<_, BulkOpRow>(
        "SELECT id, actor_user_id, action, total, done, failed, status, results, created_at, finished_at,
                request
         FROM bulk_operations WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(pool)
    .await
    })
}
