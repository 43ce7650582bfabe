//! The wire shapes of the admin's view of the job queue (REST and the portal).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// One durable job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Job {
    pub id: i64,
    /// What it does, e.g. `event.dispatch`, `keys.expiry_scan`.
    pub kind: String,
    /// queued, running, done or dead (given up).
    pub state: String,
    /// Runs started so far, and how many are allowed.
    pub attempts: i64,
    pub max_attempts: i64,
    /// When it is due (queued), or was last due.
    #[serde(with = "time::serde::rfc3339")]
    pub run_at: OffsetDateTime,
    /// The instance running it, while it runs.
    pub locked_by: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub locked_until: Option<OffsetDateTime>,
    /// Why the last try failed.
    pub last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
}

/// How many jobs of a kind are in a state (`due`: queued ones whose time has come).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct JobCount {
    pub kind: String,
    pub state: String,
    pub count: i64,
    pub due: i64,
}

/// A periodic job and when it is queued next.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct JobSchedule {
    pub kind: String,
    #[serde(with = "time::serde::rfc3339")]
    pub next_run_at: OffsetDateTime,
    pub last_job_id: Option<i64>,
}

/// `GET /api/v1/admin/jobs`: a page of jobs (newest first) and the queue's figures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct JobPage {
    pub items: Vec<Job>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
    pub counts: Vec<JobCount>,
    pub schedules: Vec<JobSchedule>,
}

/// The states a job may be in, in the order the admin view shows them.
pub const JOB_STATES: [&str; 4] = ["queued", "running", "done", "dead"];
