//! Reading a bulk operation back: its progress and per-item results, for its actor (and
//! admins) only; anyone else is told it does not exist.

use super::Actor;
use crate::app::bulk_types::BulkOperation;
use crate::db;
use crate::domain::{db_failure, from_millis};
use crate::error::{AppError, AppResult};

pub async fn get_bulk_operation(db: &db::Db, actor: &Actor, id: i64) -> AppResult<BulkOperation> {
    let row = db::key_bulk::find_op(db, id)
        .await
        .map_err(db_failure)?
        .filter(|r| actor.user.role.is_admin() || r.actor_user_id == Some(actor.user.id.0))
        .ok_or_else(|| AppError::not_found("Bulk operation"))?;
    Ok(BulkOperation {
        id: row.id,
        action: row.action,
        total: row.total,
        done: row.done,
        failed: row.failed,
        status: row.status,
        created_at: from_millis(row.created_at),
        finished_at: row.finished_at.map(from_millis),
        results: row
            .results
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok()),
    })
}
