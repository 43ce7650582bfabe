//! Expiry notices: warnings some days before a key expires (30, 7 and 1 by default) and a
//! notice once it has. A key stops verifying at its expiry instant by itself
//! (`keys::status_of`); this only tells people. Each notice is marked in the transaction of
//! its event, so across restarts and instances none is sent twice; one missed while the
//! server was down is sent at the next scan, unless a closer one is due by then (a stale
//! "30 days left" at 6 days left would mislead).

use crate::db::{self, Db, events::NewEvent, key_expiry::ExpiringKey};
use crate::domain::events::kinds;
use crate::domain::{Timestamp, db_failure, to_millis};
use crate::error::AppResult;
use crate::server::state::AppState;
use serde_json::json;

pub const DAY_MS: i64 = 24 * 3600 * 1000;
/// Warning days unless the lifecycle policy sets others.
pub const DEFAULT_WARNING_DAYS: [i64; 3] = [30, 7, 1];
/// A key that expired longer ago than this (say, while the server was off for a week) gets
/// no "expired" notice any more.
pub const EXPIRED_NOTICE_WINDOW_MS: i64 = 3 * DAY_MS;
/// Keys read per query.
const PAGE: i64 = 500;

/// The notice due now for a key expiring at `expires_at`: the number of days before expiry
/// it stands for (0 = "has expired"), or None. `closest_sent` is the closest notice already
/// sent for this expiry.
pub fn due_notice(
    expires_at: i64,
    now_ms: i64,
    warning_days: &[i64],
    closest_sent: Option<i64>,
) -> Option<i64> {
    if now_ms >= expires_at {
        let recent = now_ms - expires_at < EXPIRED_NOTICE_WINDOW_MS;
        return (recent && closest_sent != Some(0)).then_some(0);
    }
    // The tightest warning window we are in.
    let due = warning_days
        .iter()
        .copied()
        .filter(|d| *d > 0 && expires_at - now_ms <= d * DAY_MS)
        .min()?;
    match closest_sent {
        Some(sent) if sent <= due => None,
        _ => Some(due),
    }
}

/// The warning days in force (the lifecycle policy's).
pub async fn warning_days(_db: &Db) -> AppResult<Vec<i64>> {
    Ok(DEFAULT_WARNING_DAYS.to_vec())
}

fn event_of(key: &ExpiringKey, days_before: i64) -> NewEvent {
    NewEvent {
        kind: if days_before == 0 {
            kinds::KEY_EXPIRED
        } else {
            kinds::KEY_EXPIRING
        },
        user_id: Some(key.owner_user_id),
        org_id: key.org_id,
        subject_type: "api_key",
        subject_id: Some(key.id),
        data: json!({
            "name": key.name, "prefix": key.prefix, "last4": key.last4,
            "expires_at": key.expires_at, "days_before": days_before,
        }),
    }
}

/// Sends the notices due at `now` for keys expiring between `from_ms` and `until_ms`;
/// returns how many.
async fn scan_window(
    db: &Db,
    days: &[i64],
    from_ms: i64,
    until_ms: i64,
    now_ms: i64,
) -> AppResult<usize> {
    let mut sent = 0;
    let mut after = 0;
    loop {
        let page = db::key_expiry::in_window(db, from_ms, until_ms, now_ms, after, PAGE)
            .await
            .map_err(db_failure)?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for key in &page {
            let Some(days_before) = due_notice(key.expires_at, now_ms, days, key.closest_sent)
            else {
                continue;
            };
            let written = db::events::insert_once(
                db,
                db::key_expiry::MARK_SENT_SQL,
                &[key.id, key.expires_at, days_before, now_ms],
                &event_of(key, days_before),
                now_ms,
            )
            .await
            .map_err(db_failure)?;
            if written.is_some() {
                sent += 1;
            }
        }
    }
    Ok(sent)
}

/// Sends every expiry notice due at `now`; returns how many.
pub async fn scan(state: &AppState, now: Timestamp) -> AppResult<usize> {
    let now_ms = to_millis(now);
    let days = warning_days(&state.db).await?;
    let furthest = days.iter().copied().max().unwrap_or(0).max(0);
    let upcoming =
        scan_window(&state.db, &days, now_ms, now_ms + furthest * DAY_MS, now_ms).await?;
    let expired = scan_window(
        &state.db,
        &days,
        now_ms - EXPIRED_NOTICE_WINDOW_MS,
        now_ms,
        now_ms,
    )
    .await?;
    let sent = upcoming + expired;
    if sent > 0 {
        tracing::info!(notices = sent, "key expiry notices sent");
        state.wake_jobs();
    }
    Ok(sent)
}

/// Asks for a scan now (after a key's expiry changed), instead of at the next period: the
/// scan job is de-duplicated, so a queued one only moves earlier.
pub async fn check_soon(db: &Db, now: Timestamp) -> AppResult<()> {
    let job = crate::jobs::queue::NewJob::new(
        crate::jobs::handlers::EXPIRY_SCAN,
        json!({}),
        to_millis(now),
    )
    .deduped(crate::jobs::handlers::EXPIRY_SCAN)
    .attempts(3);
    crate::jobs::queue::enqueue(db, job).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAYS: [i64; 3] = [30, 7, 1];
    const EXPIRES: i64 = 1_800_000_000_000;

    fn at_days_before(d: f64) -> i64 {
        EXPIRES - (d * DAY_MS as f64) as i64
    }

    #[test]
    fn nothing_is_due_before_the_first_window() {
        assert_eq!(due_notice(EXPIRES, at_days_before(30.5), &DAYS, None), None);
    }

    #[test]
    fn each_window_opens_at_its_exact_instant() {
        assert_eq!(
            due_notice(EXPIRES, EXPIRES - 30 * DAY_MS - 1, &DAYS, None),
            None
        );
        assert_eq!(
            due_notice(EXPIRES, EXPIRES - 30 * DAY_MS, &DAYS, None),
            Some(30)
        );
        assert_eq!(
            due_notice(EXPIRES, EXPIRES - 7 * DAY_MS - 1, &DAYS, Some(30)),
            None
        );
        assert_eq!(
            due_notice(EXPIRES, EXPIRES - 7 * DAY_MS, &DAYS, Some(30)),
            Some(7)
        );
        assert_eq!(
            due_notice(EXPIRES, EXPIRES - DAY_MS, &DAYS, Some(7)),
            Some(1)
        );
    }

    #[test]
    fn expiry_is_due_at_the_exact_instant() {
        assert_eq!(due_notice(EXPIRES, EXPIRES - 1, &DAYS, Some(1)), None);
        assert_eq!(due_notice(EXPIRES, EXPIRES, &DAYS, Some(1)), Some(0));
    }

    #[test]
    fn a_sent_notice_is_never_due_again() {
        for now in [at_days_before(29.0), at_days_before(8.0)] {
            assert_eq!(due_notice(EXPIRES, now, &DAYS, Some(30)), None);
        }
        assert_eq!(
            due_notice(EXPIRES, at_days_before(0.5), &DAYS, Some(1)),
            None
        );
        assert_eq!(due_notice(EXPIRES, EXPIRES + 1, &DAYS, Some(0)), None);
    }

    #[test]
    fn a_scan_missed_while_down_sends_only_the_closest_notice() {
        // Down from 31 days before until 5 days before: the 30-day warning is stale.
        assert_eq!(
            due_notice(EXPIRES, at_days_before(5.0), &DAYS, None),
            Some(7)
        );
        // Down across the expiry: only the expired notice.
        assert_eq!(
            due_notice(EXPIRES, EXPIRES + DAY_MS, &DAYS, Some(7)),
            Some(0)
        );
    }

    #[test]
    fn every_notice_is_sent_once_when_scanned_each_minute() {
        let mut sent: Vec<i64> = Vec::new();
        let mut now = at_days_before(40.0);
        while now < EXPIRES + 4 * DAY_MS {
            if let Some(d) = due_notice(EXPIRES, now, &DAYS, sent.iter().copied().min()) {
                sent.push(d);
            }
            now += 60_000;
        }
        assert_eq!(sent, [30, 7, 1, 0]);
    }

    #[test]
    fn the_expired_notice_lapses_after_its_window() {
        assert_eq!(
            due_notice(EXPIRES, EXPIRES + EXPIRED_NOTICE_WINDOW_MS, &DAYS, Some(1)),
            None
        );
    }

    #[test]
    fn configured_days_in_any_order() {
        assert_eq!(
            due_notice(EXPIRES, at_days_before(2.0), &[3, 14], None),
            Some(3)
        );
        assert_eq!(due_notice(EXPIRES, at_days_before(2.0), &[], None), None);
    }
}
