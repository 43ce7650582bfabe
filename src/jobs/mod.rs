//! Background work: tokio tasks that stop cleanly with the server, and the durable job queue
//! (`queue`, `runner`, `handlers`) for work that must survive restarts.

pub mod handlers;
pub mod queue;
pub mod runner;

use crate::server::state::AppState;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub struct Jobs {
    stop: watch::Sender<bool>,
    handles: Vec<JoinHandle<()>>,
}

impl Jobs {
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for handle in self.handles {
            let _ = handle.await;
        }
    }
}

pub fn spawn(state: AppState) -> Jobs {
    let (stop, stopped) = watch::channel(false);
    let mut handles = vec![
        tokio::spawn(sweeper(state.clone(), stopped.clone())),
        tokio::spawn(traffic_evictor(state.clone(), stopped.clone())),
        tokio::spawn(policy_refresher(state.clone(), stopped.clone())),
        tokio::spawn(system_sampler(state.clone(), stopped.clone())),
        tokio::spawn(alert_evaluator(state.clone(), stopped.clone())),
        tokio::spawn(mail_sender(state.clone(), stopped.clone())),
        tokio::spawn(last_used_writer(state.clone(), stopped.clone())),
    ];
    if state.config.run_jobs {
        handles.push(tokio::spawn(runner::background(state, stopped)));
    }
    Jobs { stop, handles }
}

/// Every minute: forgets the traffic state of keys whose buckets are full again, with no
/// penalty and no leased units, so memory follows the keys in use rather than all keys ever
/// seen. A forgotten key starts at rest, which is where it was.
async fn traffic_evictor(state: AppState, mut stopped: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let now_ms = crate::domain::to_millis(time::OffsetDateTime::now_utc());
                let dropped = state.traffic.evict_idle(now_ms);
                state.metrics.job_ran("traffic_evictor", true, now_ms);
                if dropped > 0 {
                    tracing::debug!(keys = dropped, left = state.traffic.len(), "idle traffic state dropped");
                }
                let dropped = state.policies.buckets.evict_idle(now_ms);
                if dropped > 0 {
                    tracing::debug!(subjects = dropped, "idle policy buckets dropped");
                }
            }
            _ = stopped.changed() => break,
        }
    }
}

/// Every second: samples the request counters, from which the admin system dashboard reads
/// its rates. Not counted as a job run: it cannot fail, and a run a second would drown the
/// jobs that can.
async fn system_sampler(state: AppState, mut stopped: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let now_ms = crate::domain::to_millis(time::OffsetDateTime::now_utc());
                crate::server::metrics::system::sample(&state, now_ms);
            }
            _ = stopped.changed() => break,
        }
    }
}

/// Every minute: judges the alert rules over the minutes that have ended. Raising is
/// idempotent per subject and period, so a run repeated after a restart, or by another
/// instance, raises nothing twice.
async fn alert_evaluator(state: AppState, mut stopped: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let now_ms = crate::domain::to_millis(time::OffsetDateTime::now_utc());
                let started = std::time::Instant::now();
                let result = crate::domain::alerts::evaluate(&state.db, state.usage.pending(), now_ms).await;
                let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
                match &result {
                    Ok(n) if *n > 0 => tracing::info!(alerts = n, elapsed_ms, "usage alerts raised"),
                    Ok(_) => tracing::debug!(elapsed_ms, "usage alert rules judged"),
                    Err(e) => tracing::warn!(error = %e.detail, "judging usage alerts failed; next try in a minute"),
                }
                state.metrics.job_ran("alert_evaluator", result.is_ok(), now_ms);
            }
            _ = stopped.changed() => break,
        }
    }
}

/// Delivers the mail outbox: at once when a message is queued here (`Mailer::send` wakes it),
/// and every 30 seconds for retries that came due and messages queued by other instances.
/// A run that came back full runs again at once.
async fn mail_sender(state: AppState, mut stopped: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_secs(30));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = state.mailer.woken() => {}
            _ = stopped.changed() => break,
        }
        loop {
            let now_ms = crate::domain::to_millis(time::OffsetDateTime::now_utc());
            let result = crate::mail::outbox::deliver_due(&state.db, &state.mailer, now_ms).await;
            state.metrics.job_ran("mail_sender", result.is_ok(), now_ms);
            match result {
                Ok(run) if run.claimed as i64 >= crate::mail::outbox::BATCH => continue,
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "delivering the mail outbox failed; next try in 30 s");
                    break;
                }
            }
        }
    }
}

/// Every 10 seconds: reads the rate-limit policies again, so a change made through another
/// instance is in force here within that time (changes made here are in force at once).
async fn policy_refresher(state: AppState, mut stopped: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_secs(10));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let result = state.policies.reload(&state.db).await;
                if let Err(e) = &result {
                    tracing::warn!(error = %e, "reading rate-limit policies failed; the previous ones stay in force");
                }
                state.metrics.job_ran("policy_refresher", result.is_ok(), crate::domain::to_millis(time::OffsetDateTime::now_utc()));
            }
            _ = stopped.changed() => break,
        }
    }
}

/// Once an hour: removes expired browser sessions, REST sessions that ended over 30 days ago,
/// sign-in attempts older than 90 days, mail finished over 30 days ago, mailed links a day
/// past their end, finished jobs (done: 7 days, given up: 30), events older than 90 days,
/// usage events and minute rollups past their retention, so these tables stay small.
async fn sweeper(state: AppState, mut stopped: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let now_ms = crate::domain::to_millis(time::OffsetDateTime::now_utc());
                let swept = sweep(&state.db, now_ms).await;
                let purged = purge_usage(&state.db, now_ms, state.config.usage_retention_days).await;
                let minutes = purge_minute_rollups(&state.db, now_ms, state.config.minute_rollup_days).await;
                state.metrics.job_ran("sweeper", swept && purged && minutes, now_ms);
            }
            _ = stopped.changed() => break,
        }
    }
}

/// Whether it worked (a failure is logged).
async fn purge_usage(db: &crate::db::Db, now_ms: i64, retention_days: u32) -> bool {
    match crate::domain::usage::purge_older_than(db, now_ms, retention_days).await {
        Ok(0) => true,
        Ok(n) => {
            tracing::info!(deleted = n, retention_days, "purged old usage events");
            true
        }
        Err(e) => {
            tracing::warn!(error = %e, "purging old usage events failed");
            false
        }
    }
}

/// Whether it worked (a failure is logged).
async fn purge_minute_rollups(db: &crate::db::Db, now_ms: i64, days: u32) -> bool {
    match crate::domain::analytics::purge_minute_rows(db, now_ms, days).await {
        Ok(0) => true,
        Ok(n) => {
            tracing::info!(deleted = n, days, "purged old minute rollups");
            true
        }
        Err(_) => false,
    }
}

/// Every few seconds, and once more at shutdown: stores key last-used times gathered in
/// memory by verification (so verification itself never writes).
async fn last_used_writer(state: AppState, mut stopped: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    loop {
        let stopping = tokio::select! {
            _ = tick.tick() => false,
            _ = stopped.changed() => true,
        };
        let result = crate::domain::keys::flush_last_used(&state.db, &state.key_cache).await;
        if let Err(e) = &result {
            tracing::warn!(error = %e, "storing key last-used times failed");
        }
        let now_ms = crate::domain::to_millis(time::OffsetDateTime::now_utc());
        state
            .metrics
            .job_ran("last_used_writer", result.is_ok(), now_ms);
        if stopping {
            break;
        }
    }
}

const DAY_MS: i64 = 24 * 3600 * 1000;

/// Whether every part worked (failures are logged).
pub async fn sweep(db: &crate::db::Db, now_ms: i64) -> bool {
    use crate::db::{attempts, auth_sessions, email_tokens, mail_outbox, web_sessions};
    let results = [
        (
            "browser sessions",
            web_sessions::delete_expired(db, now_ms).await,
        ),
        (
            "REST sessions",
            auth_sessions::delete_ended_before(db, now_ms - 30 * DAY_MS).await,
        ),
        (
            "sign-in attempts",
            attempts::delete_before(db, now_ms - 90 * DAY_MS).await,
        ),
        (
            "mail sent or given up",
            mail_outbox::delete_finished_before(db, now_ms - 30 * DAY_MS).await,
        ),
        (
            "mailed links and their requests",
            email_tokens::delete_before(db, now_ms - DAY_MS).await,
        ),
        (
            "jobs done over 7 days or given up over 30 days ago",
            crate::db::jobs::delete_finished(db, now_ms - 7 * DAY_MS, now_ms - 30 * DAY_MS).await,
        ),
        (
            "events over 90 days old",
            crate::db::events::delete_before(db, now_ms - 90 * DAY_MS).await,
        ),
    ];
    let mut ok = true;
    for (what, result) in results {
        match result {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "swept old {what}"),
            Err(e) => {
                ok = false;
                tracing::warn!(error = %e, "sweeping {what} failed");
            }
        }
    }
    ok
}
