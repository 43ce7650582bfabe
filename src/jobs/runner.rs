//! The job runner: claims due jobs with a lease, runs them side by side, records how each
//! ended (done, retry after backoff, or given up), and queues periodic jobs. Any number of
//! instances may run it on one database: a claim belongs to one runner, and a runner that
//! dies leaves its jobs to be claimed again once the lease runs out.

use super::handlers::{self, JobOutcome};
use crate::db::jobs::{self, Finish, JobRow};
use crate::domain::{Timestamp, to_millis};
use crate::server::state::AppState;
use std::time::Duration;
use tokio::sync::watch;

/// How long a claim lasts. Longer than `RUN_TIMEOUT`, so a live runner always finishes (or
/// times out) a run before anyone else may claim the job.
pub const LEASE_MS: i64 = 5 * 60_000;
/// A run that takes longer is stopped and counted as failed.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(120);
/// Jobs claimed at once.
pub const BATCH: i64 = 16;
/// How often the runner looks for due jobs when nobody wakes it.
pub const POLL: Duration = Duration::from_secs(5);

/// What one pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunReport {
    pub claimed: usize,
    pub done: usize,
    pub retrying: usize,
    pub dead: usize,
    /// Runs whose lease another runner took meanwhile (their results were dropped).
    pub lost: usize,
}

/// The record of `outcome` for `job`: retries wait for the kind's backoff (with `jitter`)
/// until the tries are used up.
pub fn finish_of(job: &JobRow, outcome: JobOutcome, now_ms: i64, jitter: f64) -> Finish {
    match outcome {
        JobOutcome::Done => Finish::Done,
        JobOutcome::Fail { error } => Finish::Dead { error },
        JobOutcome::Retry { error, .. } if job.attempts >= job.max_attempts => Finish::Dead {
            error: format!("{error} (gave up after {} tries)", job.attempts),
        },
        JobOutcome::Retry { error, at_ms } => Finish::Retry {
            at_ms: at_ms.unwrap_or_else(|| {
                now_ms + handlers::retry_delay_ms(&job.kind, job.attempts, jitter)
            }),
            error,
        },
    }
}

fn jitter() -> f64 {
    use rand::Rng;
    rand::thread_rng().gen_range(0.9..=1.1)
}

/// Claims the jobs due at `now` (up to `BATCH`), runs them side by side and records how each
/// ended. Tests call this with a chosen `now` instead of waiting for the background runner.
pub async fn run_due(state: &AppState, now: Timestamp) -> RunReport {
    let now_ms = to_millis(now);
    let runner = state.instance_id.as_ref();
    let claimed = match jobs::claim_due(&state.db, runner, now_ms, now_ms + LEASE_MS, BATCH).await {
        Ok(claimed) => claimed,
        Err(e) => {
            tracing::warn!(error = %e, "claiming due jobs failed");
            return RunReport::default();
        }
    };
    let mut report = RunReport {
        claimed: claimed.len(),
        ..Default::default()
    };
    let mut running = Vec::with_capacity(claimed.len());
    for job in claimed {
        let task_state = state.clone();
        let task_job = job.clone();
        let handle = tokio::spawn(async move {
            match tokio::time::timeout(RUN_TIMEOUT, handlers::run(&task_state, &task_job, now))
                .await
            {
                Ok(outcome) => outcome,
                Err(_) => JobOutcome::retry(format!(
                    "the run took longer than {} s",
                    RUN_TIMEOUT.as_secs()
                )),
            }
        });
        running.push((job, handle));
    }
    for (job, handle) in running {
        // A panicking handler is a failed try, not a dead runner.
        let outcome = handle
            .await
            .unwrap_or_else(|_| JobOutcome::retry("the handler panicked"));
        let how = finish_of(&job, outcome, now_ms, jitter());
        match &how {
            Finish::Done => report.done += 1,
            Finish::Retry { error, .. } => {
                report.retrying += 1;
                tracing::info!(job_id = job.id, kind = %job.kind, attempt = job.attempts, error = %error, "job failed; will retry");
            }
            Finish::Dead { error } => {
                report.dead += 1;
                tracing::warn!(job_id = job.id, kind = %job.kind, attempt = job.attempts, error = %error, "job given up");
            }
        }
        match jobs::finish(&state.db, runner, &job, &how, now_ms).await {
            Ok(true) => {}
            Ok(false) => report.lost += 1,
            Err(e) => {
                tracing::warn!(job_id = job.id, error = %e, "recording a job's end failed; it runs again after its lease")
            }
        }
    }
    report
}

/// Queues the runs of periodic jobs that are due at `now` (each once across instances);
/// returns how many this instance queued.
pub async fn queue_scheduled(state: &AppState, now: Timestamp) -> usize {
    let now_ms = to_millis(now);
    let mut queued = 0;
    for (kind, every_ms) in handlers::SCHEDULES {
        let job = jobs::NewJob::new(kind, serde_json::json!({}), now_ms)
            .deduped(*kind)
            .attempts(3);
        match jobs::take_schedule_slot(&state.db, &job, *every_ms).await {
            Ok(Some(_)) => queued += 1,
            Ok(None) => {}
            Err(e) => tracing::warn!(kind, error = %e, "queueing a periodic job failed"),
        }
    }
    queued
}

/// The background runner: queues periodic jobs and runs due ones, when woken
/// (`AppState::wake_jobs`) or every `POLL`; at shutdown it puts the jobs it holds back.
pub async fn background(state: AppState, mut stopped: watch::Receiver<bool>) {
    loop {
        let now = time::OffsetDateTime::now_utc();
        queue_scheduled(&state, now).await;
        loop {
            let pass = tokio::select! {
                report = run_due(&state, time::OffsetDateTime::now_utc()) => Some(report),
                _ = stopped.changed() => None,
            };
            let Some(report) = pass else {
                release(&state).await;
                return;
            };
            let now_ms = to_millis(time::OffsetDateTime::now_utc());
            state.metrics.job_ran("job_runner", true, now_ms);
            if report.claimed < BATCH as usize {
                break;
            }
        }
        tokio::select! {
            _ = state.jobs_wake.notified() => {}
            _ = tokio::time::sleep(POLL) => {}
            _ = stopped.changed() => {
                release(&state).await;
                return;
            }
        }
    }
}

async fn release(state: &AppState) {
    let now_ms = to_millis(time::OffsetDateTime::now_utc());
    match jobs::release(&state.db, &state.instance_id, now_ms).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(jobs = n, "jobs put back in the queue at shutdown"),
        Err(e) => {
            tracing::warn!(error = %e, "putting jobs back at shutdown failed; they run again after their lease")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(attempts: i64, max_attempts: i64) -> JobRow {
        JobRow {
            id: 1,
            kind: "x".into(),
            payload: "{}".into(),
            state: "running".into(),
            dedupe_key: None,
            run_at: 0,
            attempts,
            max_attempts,
            locked_by: Some("r".into()),
            locked_until: Some(1),
            last_error: None,
            created_at: 0,
            updated_at: 0,
            finished_at: None,
        }
    }

    #[test]
    fn a_failed_try_waits_for_the_backoff_until_the_tries_are_used_up() {
        let retry = || JobOutcome::retry("boom");
        assert_eq!(
            finish_of(&job(1, 3), retry(), 1_000, 1.0),
            Finish::Retry {
                at_ms: 11_000,
                error: "boom".into()
            }
        );
        assert_eq!(
            finish_of(&job(2, 3), retry(), 1_000, 1.0),
            Finish::Retry {
                at_ms: 21_000,
                error: "boom".into()
            }
        );
        assert_eq!(
            finish_of(&job(3, 3), retry(), 1_000, 1.0),
            Finish::Dead {
                error: "boom (gave up after 3 tries)".into()
            }
        );
    }

    #[test]
    fn a_retry_may_name_its_own_time_and_a_failure_dies_at_once() {
        let at = JobOutcome::Retry {
            error: "later".into(),
            at_ms: Some(77),
        };
        assert_eq!(
            finish_of(&job(1, 3), at, 1_000, 1.0),
            Finish::Retry {
                at_ms: 77,
                error: "later".into()
            }
        );
        let fail = JobOutcome::Fail {
            error: "bad".into(),
        };
        assert_eq!(
            finish_of(&job(1, 3), fail, 1_000, 1.0),
            Finish::Dead {
                error: "bad".into()
            }
        );
    }
}
