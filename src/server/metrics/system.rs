//! The admin system dashboard's figures: the process's gauges now, and rates over the last
//! minute from the sampled counters.

use super::window::{RATE_SPAN_MS, Sample};
use crate::app::system_types::{
    DbPoolFigures, JobFigures, SystemPoint, SystemSnapshot, SystemView, UsageQueueFigures,
};
use crate::domain::{from_millis, to_millis};
use crate::server::state::AppState;
use time::OffsetDateTime;

/// Takes a sample of the counters at `at_ms` (the sampler job does, once a second).
pub fn sample(state: &AppState, at_ms: i64) {
    let dropped = state.usage.stats().dropped;
    state
        .metrics
        .window
        .push(Sample::of(&state.metrics, at_ms, dropped));
}

/// The figures at `now`.
pub fn snapshot(state: &AppState, now: OffsetDateTime) -> SystemSnapshot {
    let g = super::gauges(state);
    let now_ms = to_millis(now);
    let current = Sample::of(&state.metrics, now_ms, g.usage.dropped);
    let (traffic, dropped_in_window) = state.metrics.window.rates(&current, RATE_SPAN_MS);
    SystemSnapshot {
        at: now,
        version: env!("CARGO_PKG_VERSION").to_string(),
        uptime_s: g.uptime_s,
        traffic,
        usage_queue: UsageQueueFigures {
            queued: g.usage.queued,
            capacity: g.usage_queue_capacity,
            recorded: g.usage.recorded,
            written: g.usage.written,
            dropped: g.usage.dropped,
            dropped_in_window,
            write_failures: g.usage.write_failures,
            rollup_rows_pending: g.rollup_rows_pending,
            rollup_store_failures: g.usage.rollup_store_failures,
        },
        db_pool: DbPoolFigures {
            backend: g.db_backend.to_string(),
            size: g.db_pool_size,
            idle: g.db_pool_idle,
            in_use: g.db_pool_size.saturating_sub(g.db_pool_idle),
            max: g.db_pool_max,
        },
        memory_bytes: g.resident_memory_bytes,
        cached_keys: g.cached_keys,
        jobs: state
            .metrics
            .jobs()
            .into_iter()
            .map(|j| JobFigures {
                name: j.name,
                runs: j.runs,
                failures: j.failures,
                last_run: j.last_run_ms.map(from_millis),
                last_ok: j.last_ok,
            })
            .collect(),
        history: state
            .metrics
            .window
            .history()
            .into_iter()
            .map(|p| SystemPoint {
                at: from_millis(p.at_ms),
                requests_per_s: p.requests_per_s,
                server_errors_per_s: p.server_errors_per_s,
                refused_per_s: p.refused_per_s,
            })
            .collect(),
    }
}

/// The figures at `now` with the history chart.
pub fn view(state: &AppState, now: OffsetDateTime) -> SystemView {
    let snapshot = snapshot(state, now);
    SystemView {
        chart: crate::app::charts::system_chart(&snapshot.history),
        snapshot,
    }
}
