//! Large bulk operations in the background: the request is checked and its selection resolved
//! at once (so a bad request still answers 422), then kept with a `queued` operation that a
//! durable `keys.bulk` job runs; `GET /keys/bulk/{id}` shows its progress meanwhile.

use super::bulk::{BulkAction, BulkOutcome, Options, execute};
use super::{Actor, KeyContext, access::KeyAccess};
use crate::db::{self, jobs::NewJob};
use crate::domain::{Timestamp, db_failure, to_millis};
use crate::error::{AppError, AppResult};
use serde::{Deserialize, Serialize};

pub const JOB_KIND: &str = "keys.bulk";

/// What a queued operation will do; the key ids were resolved when it was asked.
#[derive(Debug, Serialize, Deserialize)]
struct Stored {
    action: String,
    options: Options,
    ids: Vec<i64>,
}

/// Keeps the operation as `queued` and enqueues the job that runs it.
pub(crate) async fn queue(
    ctx: &KeyContext<'_>,
    actor: &Actor,
    action: BulkAction,
    options: Options,
    ids: Vec<i64>,
    now: Timestamp,
) -> AppResult<BulkOutcome> {
    let now_ms = to_millis(now);
    let total = ids.len() as i64;
    let stored = serde_json::to_string(&Stored {
        action: action.as_str().to_string(),
        options,
        ids,
    })
    .map_err(|e| {
        tracing::error!(error = %e, "bulk request not serializable");
        AppError::internal()
    })?;
    let op_id = db::key_bulk::create_op(
        ctx.db,
        actor.user.id.0,
        action.as_str(),
        total,
        "queued",
        Some(&stored),
        now_ms,
    )
    .await
    .map_err(db_failure)?;
    let job = NewJob::new(
        JOB_KIND,
        serde_json::json!({ "operation_id": op_id }),
        now_ms,
    )
    .deduped(format!("bulk:{op_id}"))
    .created(now_ms);
    if let Err(e) = crate::jobs::queue::enqueue(ctx.db, job).await {
        // Never leave an operation queued that no job will run.
        let _ = db::key_bulk::update_op(ctx.db, op_id, 0, 0, "failed", None, Some(now_ms)).await;
        return Err(e);
    }
    ctx.jobs_wake.notify_one();
    tracing::info!(
        operation_id = op_id,
        total,
        action = action.as_str(),
        "bulk key operation queued"
    );
    Ok(BulkOutcome {
        operation_id: Some(op_id),
        dry_run: false,
        queued: true,
        results: Vec::new(),
    })
}

/// The job: runs queued operation `op_id` as its actor, with the rights the actor has now.
/// Idempotent: a finished operation is left alone; one whose runner died mid-way runs again,
/// and items the first run changed are then reported as they are found (a revoked key as
/// KEY_REVOKED, say).
pub async fn run(ctx: &KeyContext<'_>, op_id: i64, now: Timestamp) -> AppResult<()> {
    let Some(op) = db::key_bulk::find_op(ctx.db, op_id)
        .await
        .map_err(db_failure)?
    else {
        return Ok(());
    };
    if matches!(op.status.as_str(), "done" | "failed") {
        return Ok(());
    }
    let fail = |why: &str| {
        tracing::warn!(operation_id = op_id, why, "bulk operation cannot run");
        db::key_bulk::update_op(
            ctx.db,
            op_id,
            0,
            op.total,
            "failed",
            None,
            Some(to_millis(now)),
        )
    };
    let stored = op
        .request
        .as_deref()
        .and_then(|r| serde_json::from_str::<Stored>(r).ok());
    let user = match op.actor_user_id {
        Some(id) => db::users::find(ctx.db, crate::app::types::UserId(id))
            .await
            .map_err(db_failure)?,
        None => None,
    };
    let (Some(stored), Some(user)) = (stored, user) else {
        fail("its request or its actor is gone")
            .await
            .map_err(db_failure)?;
        return Ok(());
    };
    let Some(action) = BulkAction::parse(&stored.action) else {
        fail("unknown action").await.map_err(db_failure)?;
        return Ok(());
    };
    db::key_bulk::update_op(ctx.db, op_id, 0, 0, "running", None, None)
        .await
        .map_err(db_failure)?;
    let actor = Actor {
        user,
        client: Default::default(),
    };
    let access = KeyAccess::load(ctx.db, &actor).await?;
    execute(
        ctx,
        &actor,
        &access,
        action,
        &stored.options,
        &stored.ids,
        false,
        Some(op_id),
        now,
    )
    .await?;
    Ok(())
}
