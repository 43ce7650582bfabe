//! What each job kind does, and how long a failed one waits before its next try. Handlers are
//! idempotent: a job whose runner died mid-run is run again after its lease, so running it
//! twice must do no harm.

use crate::db::jobs::JobRow;
use crate::domain::Timestamp;
use crate::server::state::AppState;
use serde::Deserialize;

pub const EVENT_DISPATCH: &str = crate::db::events::DISPATCH_KIND;
pub const EXPIRY_SCAN: &str = "keys.expiry_scan";
/// One attempt of a webhook delivery: `{"delivery_id": N}`.
pub const WEBHOOK_DELIVER: &str = crate::db::webhooks::DELIVER_JOB_KIND;
pub const UNUSED_SCAN: &str = "keys.unused_scan";
/// A large bulk key operation: `{"operation_id": N}`.
pub const BULK_KEYS: &str = crate::domain::keys::bulk_jobs::JOB_KIND;

/// Periodic jobs: (kind, every ms). Each period is queued once across all instances.
pub const SCHEDULES: &[(&str, i64)] = &[(EXPIRY_SCAN, 60_000), (UNUSED_SCAN, 3_600_000)];

/// How a run ended, as the handler sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobOutcome {
    Done,
    /// Try again: at `at_ms`, or after the kind's backoff when None.
    Retry {
        error: String,
        at_ms: Option<i64>,
    },
    /// Give up now (the input can never work).
    Fail {
        error: String,
    },
}

impl JobOutcome {
    /// A failure worth retrying, from any error that says what went wrong.
    pub fn retry(error: impl std::fmt::Display) -> Self {
        Self::Retry {
            error: error.to_string(),
            at_ms: None,
        }
    }
}

#[derive(Deserialize)]
struct EventPayload {
    event_id: i64,
}

#[derive(Deserialize)]
struct BulkPayload {
    operation_id: i64,
}

#[derive(Deserialize)]
struct DeliveryPayload {
    delivery_id: i64,
}

/// A delivery attempt's result as the queue sees it: the delivery keeps its own schedule.
fn webhook_outcome(outcome: crate::domain::webhooks::DeliverOutcome) -> JobOutcome {
    use crate::domain::webhooks::DeliverOutcome as D;
    match outcome {
        D::Succeeded | D::Skipped { retry_at: None } => JobOutcome::Done,
        D::Retry { at_ms, error } => JobOutcome::Retry {
            error,
            at_ms: Some(at_ms),
        },
        D::Skipped { retry_at: Some(at) } => JobOutcome::Retry {
            error: "the delivery is not due yet".into(),
            at_ms: Some(at),
        },
        D::Failed { error } => JobOutcome::Fail { error },
    }
}

fn payload<T: for<'de> Deserialize<'de>>(job: &JobRow) -> Result<T, JobOutcome> {
    serde_json::from_str(&job.payload).map_err(|e| JobOutcome::Fail {
        error: format!("the payload does not fit the job kind: {e}"),
    })
}

/// Runs `job` once.
pub async fn run(state: &AppState, job: &JobRow, now: Timestamp) -> JobOutcome {
    let result = match job.kind.as_str() {
        EVENT_DISPATCH => match payload::<EventPayload>(job) {
            Ok(p) => crate::domain::events::dispatch(state, p.event_id, now).await,
            Err(outcome) => return outcome,
        },
        EXPIRY_SCAN => crate::domain::expiry::scan(state, now).await.map(|_| ()),
        WEBHOOK_DELIVER => {
            return match payload::<DeliveryPayload>(job) {
                Ok(p) => webhook_outcome(
                    crate::domain::webhooks::deliver(state, p.delivery_id, now).await,
                ),
                Err(outcome) => outcome,
            };
        }
        UNUSED_SCAN => unused_scan(state, now).await,
        BULK_KEYS => match payload::<BulkPayload>(job) {
            Ok(p) => {
                crate::domain::keys::bulk_jobs::run(&state.key_ctx(), p.operation_id, now).await
            }
            Err(outcome) => return outcome,
        },
        other => {
            return JobOutcome::Fail {
                error: format!("no handler for job kind {other:?}"),
            };
        }
    };
    match result {
        Ok(()) => JobOutcome::Done,
        Err(e) => JobOutcome::retry(e.detail),
    }
}

/// A few batches of the unused-key scan; what is left waits for the next hour.
async fn unused_scan(state: &AppState, now: Timestamp) -> crate::error::AppResult<()> {
    use crate::domain::lifecycle::{UNUSED_SCAN_BATCH, scan_unused};
    for _ in 0..10 {
        if (scan_unused(state, now).await? as i64) < UNUSED_SCAN_BATCH {
            break;
        }
    }
    Ok(())
}

/// How long try `attempt` (1 = the first) of a `kind` job waits after failing, before
/// `jitter` (a factor around 1, e.g. 0.9..1.1, so retries of many jobs spread out).
pub fn retry_delay_ms(kind: &str, attempt: i64, jitter: f64) -> i64 {
    let base = match kind {
        // Periodic scans run again at their next period anyway: retry soon, then not at all.
        EXPIRY_SCAN => exponential_ms(attempt, 5_000, 60_000),
        // Deliveries name their next attempt themselves; this is for runs cut short (timeouts).
        WEBHOOK_DELIVER => crate::domain::webhooks::retry_delay_ms(attempt, 0.0),
        UNUSED_SCAN => exponential_ms(attempt, 30_000, 3_600_000),
        _ => exponential_ms(attempt, 10_000, 3_600_000),
    };
    spread_by(base, jitter)
}

/// `first` doubled for each try after the first, capped at `cap`.
pub fn exponential_ms(attempt: i64, first: i64, cap: i64) -> i64 {
    let doublings = u32::try_from((attempt - 1).clamp(0, 30)).unwrap_or(30);
    first.saturating_mul(1_i64 << doublings).min(cap)
}

/// `ms` times `jitter`, with the factor kept within 0.5..=1.5.
pub fn spread_by(ms: i64, jitter: f64) -> i64 {
    (ms as f64 * jitter.clamp(0.5, 1.5)).round() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_backoff_doubles_from_ten_seconds_and_caps_at_an_hour() {
        let delays: Vec<i64> = (1..=11).map(|n| retry_delay_ms("x", n, 1.0)).collect();
        assert_eq!(
            delays,
            [
                10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 640_000, 1_280_000, 2_560_000,
                3_600_000, 3_600_000
            ]
        );
        assert_eq!(retry_delay_ms("x", 500, 1.0), 3_600_000);
    }

    #[test]
    fn jitter_spreads_within_ten_percent_and_is_clamped() {
        assert_eq!(retry_delay_ms("x", 1, 0.9), 9_000);
        assert_eq!(retry_delay_ms("x", 1, 1.1), 11_000);
        assert_eq!(spread_by(1000, 9.0), 1500);
        assert_eq!(spread_by(1000, -1.0), 500);
    }

    #[test]
    fn webhook_deliveries_follow_their_own_schedule() {
        assert_eq!(retry_delay_ms(WEBHOOK_DELIVER, 1, 1.0), 5_000);
        assert_eq!(retry_delay_ms(WEBHOOK_DELIVER, 2, 0.9), 270_000);
        use crate::domain::webhooks::DeliverOutcome as D;
        assert_eq!(
            webhook_outcome(D::Retry {
                at_ms: 7,
                error: "500".into()
            }),
            JobOutcome::Retry {
                error: "500".into(),
                at_ms: Some(7)
            }
        );
        assert_eq!(webhook_outcome(D::Succeeded), JobOutcome::Done);
        assert_eq!(
            webhook_outcome(D::Skipped { retry_at: None }),
            JobOutcome::Done
        );
    }

    #[test]
    fn scans_retry_soon_and_never_later_than_their_period() {
        assert_eq!(retry_delay_ms(EXPIRY_SCAN, 1, 1.0), 5_000);
        assert_eq!(retry_delay_ms(EXPIRY_SCAN, 9, 1.0), 60_000);
    }
}
