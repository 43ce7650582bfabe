//! The admin's view of the job queue: figures per kind and state, the jobs themselves, and
//! running a given-up job again.

use crate::app::job_types::{JOB_STATES, Job, JobCount, JobPage, JobSchedule};
use crate::db::{self, Db, jobs::JobRow, jobs::Requeued};
use crate::domain::keys::Actor;
use crate::domain::{Timestamp, db_failure, from_millis, paging, to_millis};
use crate::error::{AppError, AppResult, ErrorCode, Validator};
use serde::Deserialize;

/// `?state&kind&page&per_page` of `GET /api/v1/admin/jobs`.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobQuery {
    /// queued, running, done or dead.
    pub state: Option<String>,
    /// A job kind, e.g. event.dispatch.
    pub kind: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

fn require_admin(actor: &Actor) -> AppResult<()> {
    if actor.user.role.is_admin() {
        Ok(())
    } else {
        Err(AppError::new(
            ErrorCode::Forbidden,
            "Only admins can see the job queue.",
        ))
    }
}

pub fn view(row: JobRow) -> Job {
    Job {
        id: row.id,
        kind: row.kind,
        state: row.state,
        attempts: row.attempts,
        max_attempts: row.max_attempts,
        run_at: from_millis(row.run_at),
        locked_by: row.locked_by,
        locked_until: row.locked_until.map(from_millis),
        last_error: row.last_error,
        created_at: from_millis(row.created_at),
        finished_at: row.finished_at.map(from_millis),
    }
}

pub async fn overview(db: &Db, actor: &Actor, q: &JobQuery, now: Timestamp) -> AppResult<JobPage> {
    require_admin(actor)?;
    let mut v = Validator::default();
    let (page, per_page) = paging(&mut v, q.page, q.per_page);
    let state = q.state.as_deref().filter(|s| !s.is_empty());
    v.check(
        state.is_none_or(|s| JOB_STATES.contains(&s)),
        "query.state",
        "must be one of queued, running, done, dead",
    );
    let kind = q.kind.as_deref().filter(|k| !k.is_empty());
    v.check(
        kind.is_none_or(|k| k.len() <= 64),
        "query.kind",
        "must be at most 64 characters",
    );
    v.finish()?;
    let (rows, total) = db::jobs::list(db, state, kind, per_page, (page - 1) * per_page)
        .await
        .map_err(db_failure)?;
    let counts = db::jobs::counts(db, to_millis(now))
        .await
        .map_err(db_failure)?
        .into_iter()
        .map(|c| JobCount {
            kind: c.kind,
            state: c.state,
            count: c.count,
            due: c.due,
        })
        .collect();
    let schedules = db::jobs::schedules(db)
        .await
        .map_err(db_failure)?
        .into_iter()
        .map(|(kind, next, last)| JobSchedule {
            kind,
            next_run_at: from_millis(next),
            last_job_id: last,
        })
        .collect();
    Ok(JobPage {
        items: rows.into_iter().map(view).collect(),
        total,
        page,
        per_page,
        counts,
        schedules,
    })
}

/// Queues a given-up job again with fresh tries (audited as `job.retried`).
pub async fn retry(db: &Db, actor: &Actor, id: i64, now: Timestamp) -> AppResult<Job> {
    require_admin(actor)?;
    let entry = actor.audit_entry("job.retried", None, None, to_millis(now));
    match db::jobs::requeue_dead(db, id, &entry)
        .await
        .map_err(db_failure)?
    {
        Requeued::Missing => return Err(AppError::not_found("Job")),
        Requeued::NotDead => {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "Only a job that was given up can be run again.",
            ));
        }
        Requeued::Yes => {}
    }
    let row = db::jobs::find(db, id)
        .await
        .map_err(db_failure)?
        .ok_or_else(|| AppError::not_found("Job"))?;
    tracing::info!(job_id = id, kind = %row.kind, "given-up job queued again by an admin");
    Ok(view(row))
}
