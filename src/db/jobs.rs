//! The durable job queue: insert (with de-duplication), claim with a lease, finish, and what
//! the admin view reads. See migrations/*/0015_jobs_events.sql for the states.

use super::audit::{AuditEntry, write_audit};
use super::{Db, with_pool};

/// A job to insert. `dedupe_key`: at most one queued job per key; inserting a twin only moves
/// the queued one earlier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewJob {
    pub kind: &'static str,
    pub payload: String,
    pub run_at: i64,
    pub dedupe_key: Option<String>,
    pub max_attempts: i64,
    pub now_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct JobRow {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub state: String,
    pub dedupe_key: Option<String>,
    pub run_at: i64,
    /// Runs started, this one included.
    pub attempts: i64,
    pub max_attempts: i64,
    pub locked_by: Option<String>,
    pub locked_until: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub finished_at: Option<i64>,
}

/// Tries of a job unless it asks for another number.
pub const DEFAULT_MAX_ATTEMPTS: i64 = 8;

impl NewJob {
    /// A job of `kind` with `payload`, due at `run_at_ms` (also its creation time).
    pub fn new(kind: &'static str, payload: serde_json::Value, run_at_ms: i64) -> Self {
        Self {
            kind,
            payload: payload.to_string(),
            run_at: run_at_ms,
            dedupe_key: None,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            now_ms: run_at_ms,
        }
    }

    /// At most one queued job per `key`.
    pub fn deduped(mut self, key: impl Into<String>) -> Self {
        self.dedupe_key = Some(key.into());
        self
    }

    pub fn attempts(mut self, max_attempts: i64) -> Self {
        self.max_attempts = max_attempts.max(1);
        self
    }

    /// Created at `now_ms` (when it is due later).
    pub fn created(mut self, now_ms: i64) -> Self {
        self.now_ms = now_ms;
        self
    }
}

const COLUMNS: &str = "id, kind, payload, state, dedupe_key, run_at, attempts, max_attempts, locked_by, \
     locked_until, last_error, created_at, updated_at, finished_at";

pub(crate) const INSERT_SQL: &str = "INSERT INTO jobs (kind, payload, state, dedupe_key, run_at, max_attempts, created_at, updated_at)
     VALUES ($1, $2, 'queued', $3, $4, $5, $6, $6)
     ON CONFLICT (dedupe_key) WHERE state = 'queued' AND dedupe_key IS NOT NULL
     DO UPDATE SET run_at = CASE WHEN excluded.run_at < jobs.run_at THEN excluded.run_at ELSE jobs.run_at END,
                   updated_at = excluded.updated_at
     RETURNING id";

/// Inserts `$job` (a [`NewJob`]) inside the transaction `$tx`, so the job commits with the
/// change that asks for it; evaluates to the job's id (the queued twin's, when de-duplicated).
macro_rules! insert_job {
    ($tx:expr, $job:expr) => {
        sqlx::query_scalar::<_, i64>($crate::db::jobs::INSERT_SQL)
            .bind($job.kind)
            .bind(&$job.payload)
            .bind($job.dedupe_key.as_deref())
            .bind($job.run_at)
            .bind($job.max_attempts)
            .bind($job.now_ms)
            .fetch_one(&mut *$tx)
            .await
    };
}
pub(crate) use insert_job;

pub async fn insert(db: &Db, job: &NewJob) -> Result<i64, sqlx::Error> {
    with_pool!(db, |pool| async {
        let mut tx = pool.begin().await?;
        let id = insert_job!(tx, job)?;
        tx.commit().await?;
        Ok(id)
    }
    .await)
}

/// Claims up to `limit` due jobs for `runner` until `lease_until`: queued ones whose time has
/// come, and running ones whose runner let the lease run out (it stopped mid-run). A job
/// whose lease ran out on its last allowed try is given up instead.
pub async fn claim_due(
    db: &Db,
    runner: &str,
    now_ms: i64,
    lease_until: i64,
    limit: i64,
) -> Result<Vec<JobRow>, sqlx::Error> {
    const GIVE_UP: &str = "UPDATE jobs SET state = 'dead', finished_at = $1, updated_at = $1, locked_by = NULL, locked_until = NULL,
            last_error = 'the runner stopped during the last allowed try'
         WHERE state = 'running' AND locked_until < $1 AND attempts >= max_attempts";
    let claim = |lock: &str| {
        format!(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_by = $1, locked_until = $2, updated_at = $3
             WHERE id IN (SELECT id FROM jobs
                          WHERE (state = 'queued' AND run_at <= $3) OR (state = 'running' AND locked_until < $3)
                          ORDER BY run_at, id LIMIT $4 {lock})
             RETURNING {COLUMNS}"
        )
    };
    match db {
        Db::Sqlite(pool) => {
            // SQLite runs one writer at a time, so the UPDATE … WHERE id IN (SELECT …) is
            // atomic by itself.
            sqlx::query(GIVE_UP).bind(now_ms).execute(pool).await?;
            sqlx::query_as::<_, JobRow>(&claim(""))
                .bind(runner)
                .bind(lease_until)
                .bind(now_ms)
                .bind(limit)
                .fetch_all(pool)
                .await
        }
        Db::Postgres(pool) => {
            sqlx::query(GIVE_UP).bind(now_ms).execute(pool).await?;
            // SKIP LOCKED: two runners claiming at once take different jobs instead of
            // waiting for each other.
            sqlx::query_as::<_, JobRow>(&claim("FOR UPDATE SKIP LOCKED"))
                .bind(runner)
                .bind(lease_until)
                .bind(now_ms)
                .bind(limit)
                .fetch_all(pool)
                .await
        }
    }
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finish {
    Done,
    Retry { at_ms: i64, error: String },
    Dead { error: String },
}

/// Records how `job`'s run (as claimed by `runner`) ended. `Ok(false)` when the lease was
/// lost meanwhile (another runner claimed the job again): this run's result is dropped.
pub async fn finish(
    db: &Db,
    runner: &str,
    job: &JobRow,
    how: &Finish,
    now_ms: i64,
) -> Result<bool, sqlx::Error> {
    match record(db, runner, job, how, now_ms).await {
        Ok(n) => Ok(n == 1),
        // A retry whose twin was queued meanwhile (same dedupe key): the twin will do the
        // work, so this one is done.
        Err(e) if super::is_unique_violation(&e) => {
            Ok(record(db, runner, job, &Finish::Done, now_ms).await? == 1)
        }
        Err(e) => Err(e),
    }
}

async fn record(
    db: &Db,
    runner: &str,
    job: &JobRow,
    how: &Finish,
    now_ms: i64,
) -> Result<u64, sqlx::Error> {
    const MINE: &str = "id = $1 AND state = 'running' AND locked_by = $2 AND attempts = $3";
    let (sql, error, run_at) = match how {
        Finish::Done => (
            format!(
                "UPDATE jobs SET state = 'done', finished_at = $4, updated_at = $4, locked_by = NULL, locked_until = NULL, last_error = $5
                 WHERE {MINE} AND $6 = $6"
            ),
            None,
            0,
        ),
        Finish::Retry { at_ms, error } => (
            format!(
                "UPDATE jobs SET state = 'queued', run_at = $6, updated_at = $4, locked_by = NULL, locked_until = NULL, last_error = $5
                 WHERE {MINE}"
            ),
            Some(error.as_str()),
            *at_ms,
        ),
        Finish::Dead { error } => (
            format!(
                "UPDATE jobs SET state = 'dead', finished_at = $4, updated_at = $4, locked_by = NULL, locked_until = NULL, last_error = $5
                 WHERE {MINE} AND $6 = $6"
            ),
            Some(error.as_str()),
            0,
        ),
    };
    with_pool!(db, |pool| sqlx::query(&sql)
        .bind(job.id)
        .bind(runner)
        .bind(job.attempts)
        .bind(now_ms)
        .bind(error)
        .bind(run_at)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))
}

/// Puts the jobs `runner` holds back in the queue, as if their runs had not started (at
/// shutdown, so nobody waits for the lease). Returns how many.
pub async fn release(db: &Db, runner: &str, now_ms: i64) -> Result<u64, sqlx::Error> {
    let held: Vec<JobRow> = with_pool!(db, |pool| sqlx::query_as::<_, JobRow>(&format!(
        "SELECT {COLUMNS} FROM jobs WHERE state = 'running' AND locked_by = $1"
    ))
    .bind(runner)
    .fetch_all(pool)
    .await)?;
    let mut released = 0;
    for job in held {
        let sql = "UPDATE jobs SET state = 'queued', attempts = attempts - 1, run_at = $4, updated_at = $4, locked_by = NULL, locked_until = NULL
                   WHERE id = $1 AND state = 'running' AND locked_by = $2 AND attempts = $3";
        let result = with_pool!(db, |pool| sqlx::query(sql)
            .bind(job.id)
            .bind(runner)
            .bind(job.attempts)
            .bind(now_ms)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()));
        match result {
            Ok(n) => released += n,
            Err(e) if super::is_unique_violation(&e) => {
                finish(db, runner, &job, &Finish::Done, now_ms).await?;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(released)
}

pub async fn find(db: &Db, id: i64) -> Result<Option<JobRow>, sqlx::Error> {
    with_pool!(db, |pool| sqlx::query_as::<_, JobRow>(&format!(
        "SELECT {COLUMNS} FROM jobs WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await)
}

/// A page of jobs, newest first, optionally of one state and/or kind, and how many match.
pub async fn list(
    db: &Db,
    state: Option<&str>,
    kind: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<JobRow>, i64), sqlx::Error> {
    let filter = "WHERE ($1 IS NULL OR state = $1) AND ($2 IS NULL OR kind = $2)";
    let list_sql =
        format!("SELECT {COLUMNS} FROM jobs {filter} ORDER BY id DESC LIMIT $3 OFFSET $4");
    let count_sql = format!("SELECT COUNT(*) FROM jobs {filter}");
    with_pool!(db, |pool| async {
        let rows = sqlx::query_as::<_, JobRow>(&list_sql)
            .bind(state)
            .bind(kind)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?;
        let total = sqlx::query_scalar::<_, i64>(&count_sql)
            .bind(state)
            .bind(kind)
            .fetch_one(pool)
            .await?;
        Ok((rows, total))
    }
    .await)
}

/// How many jobs of a kind are in a state, and (for queued ones) how many are due now.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct KindCount {
    pub kind: String,
    pub state: String,
    pub count: i64,
    pub due: i64,
}

pub async fn counts(db: &Db, now_ms: i64) -> Result<Vec<KindCount>, sqlx::Error> {
    with_pool!(db, |pool| sqlx::query_as::<_, KindCount>(
        "SELECT kind, state, COUNT(*) AS count,
                SUM(CASE WHEN state = 'queued' AND run_at <= $1 THEN 1 ELSE 0 END) AS due
         FROM jobs GROUP BY kind, state ORDER BY kind, state"
    )
    .bind(now_ms)
    .fetch_all(pool)
    .await)
}

/// What asking to run a given-up job again found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Requeued {
    Yes,
    NotDead,
    Missing,
}

/// Queues a dead job again with fresh tries, audited, in one transaction.
pub async fn requeue_dead(
    db: &Db,
    id: i64,
    audit: &AuditEntry<'_>,
) -> Result<Requeued, sqlx::Error> {
    with_pool!(db, |pool| {
        async {
        let mut tx = pool.begin().await?;
        let state: Option<String> = sqlx::query_scalar("SELECT state FROM jobs WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        match state.as_deref() {
            None => return Ok(Requeued::Missing),
            Some("dead") => {}
            Some(_) => return Ok(Requeued::NotDead),
        }
        let n = sqlx::query(
            "UPDATE jobs SET state = 'queued', attempts = 0, run_at = $2, updated_at = $2, finished_at = NULL
             WHERE id = $1 AND state = 'dead'",
        )
        .bind(id)
        .bind(audit.now_ms)
        .execute(&mut *tx)
        .await;
        match n {
            Ok(r) if r.rows_affected() == 1 => {}
            Ok(_) => return Ok(Requeued::NotDead),
            // A twin with the same dedupe key is queued already: it will do this work.
            Err(e) if super::is_unique_violation(&e) => return Ok(Requeued::NotDead),
            Err(e) => return Err(e),
        }
        write_audit!(tx, audit, "job", id)?;
        tx.commit().await?;
        Ok(Requeued::Yes)
    }
    .await
    })
}

/// Deletes jobs done before `done_before` and given up before `dead_before`.
pub async fn delete_finished(
    db: &Db,
    done_before: i64,
    dead_before: i64,
) -> Result<u64, sqlx::Error> {
    super::execute_ints(
        db,
        "DELETE FROM jobs WHERE (state = 'done' AND finished_at < $1) OR (state = 'dead' AND finished_at < $2)",
        &[done_before, dead_before],
    )
    .await
}

/// Takes the current run of the periodic job `kind` (due at `now_ms` or before) for this
/// instance: moves the next run `every_ms` on and queues `job` in the same transaction.
/// `Ok(None)` when the run is not due or another instance took it.
pub async fn take_schedule_slot(
    db: &Db,
    job: &NewJob,
    every_ms: i64,
) -> Result<Option<i64>, sqlx::Error> {
    let now_ms = job.now_ms;
    with_pool!(db, |pool| {
        async {
        let mut tx = pool.begin().await?;
        sqlx::query(
            "INSERT INTO job_schedules (kind, next_run_at) VALUES ($1, $2) ON CONFLICT (kind) DO NOTHING",
        )
        .bind(job.kind)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        let n = sqlx::query(
            "UPDATE job_schedules SET next_run_at = $2 WHERE kind = $1 AND next_run_at <= $3",
        )
        .bind(job.kind)
        .bind(now_ms + every_ms)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 {
            tx.rollback().await?;
            return Ok(None);
        }
        let id = insert_job!(tx, job)?;
        sqlx::query("UPDATE job_schedules SET last_job_id = $2 WHERE kind = $1")
            .bind(job.kind)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(id))
    }
    .await
    })
}

/// The periodic jobs and when each runs next: `(kind, next_run_at, last_job_id)`.
pub async fn schedules(db: &Db) -> Result<Vec<(String, i64, Option<i64>)>, sqlx::Error> {
    with_pool!(db, |pool| sqlx::query_as::<_, (String, i64, Option<i64>)>(
        "SELECT kind, next_run_at, last_job_id FROM job_schedules ORDER BY kind"
    )
    .fetch_all(pool)
    .await)
}
