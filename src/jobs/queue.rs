//! Queueing durable jobs. Inside a transaction of your own, use
//! `crate::db::jobs::insert_job!(tx, &job)` so the job commits with the change that asks for
//! it; then wake the runner (`AppState::wake_jobs`).

use crate::db::Db;
use crate::domain::db_failure;
use crate::error::AppResult;

pub use crate::db::jobs::{DEFAULT_MAX_ATTEMPTS, NewJob};

/// Queues `job` (or moves its queued twin earlier); returns the job's id. The runner is not
/// woken: callers with an `AppState` call `wake_jobs` (or the job waits for the next poll).
pub async fn enqueue(db: &Db, job: NewJob) -> AppResult<i64> {
    crate::db::jobs::insert(db, &job).await.map_err(db_failure)
}
