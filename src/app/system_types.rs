//! The wire shapes of the admin system dashboard (REST, the page and its live updates).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The running process's figures at one moment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SystemSnapshot {
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = DateTime))]
    pub at: OffsetDateTime,
    pub version: String,
    pub uptime_s: f64,
    pub traffic: TrafficFigures,
    pub usage_queue: UsageQueueFigures,
    pub db_pool: DbPoolFigures,
    /// Resident memory (Linux), bytes.
    pub memory_bytes: Option<u64>,
    /// Keys held in the verification cache.
    pub cached_keys: u64,
    pub jobs: Vec<JobFigures>,
    /// Per-second rates over the last five minutes, oldest first.
    pub history: Vec<SystemPoint>,
}

/// Rates and percentiles over the last `window_s` seconds (a minute; less just after start).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TrafficFigures {
    pub window_s: f64,
    /// HTTP answers per second (portal, REST and gateway).
    pub requests_per_s: f64,
    /// 5xx answers per second.
    pub server_errors_per_s: f64,
    /// 5xx answers among all answers, 0 to 1; none without requests.
    pub error_rate: Option<f64>,
    /// Key verifications per second (verify endpoint and gateway).
    pub verifications_per_s: f64,
    /// Refused verifications among all, 0 to 1; none without verifications.
    pub refusal_rate: Option<f64>,
    /// `POST /api/v1/keys/verify` latency percentiles (from histogram bins, interpolated).
    pub verify_p50_ms: Option<f64>,
    pub verify_p95_ms: Option<f64>,
    pub verify_p99_ms: Option<f64>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UsageQueueFigures {
    /// Events waiting to be written now, and the queue's capacity.
    pub queued: u64,
    pub capacity: u64,
    /// Since start: accepted, written, and lost (queue full or writes given up).
    pub recorded: u64,
    pub written: u64,
    pub dropped: u64,
    /// Lost within the window.
    pub dropped_in_window: u64,
    pub write_failures: u64,
    /// Minute rollup rows counted in memory, not stored yet.
    pub rollup_rows_pending: u64,
    pub rollup_store_failures: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DbPoolFigures {
    /// sqlite or postgres.
    pub backend: String,
    /// Connections open, of them idle and in use, and the most the pool opens.
    pub size: u64,
    pub idle: u64,
    pub in_use: u64,
    pub max: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct JobFigures {
    pub name: String,
    pub runs: u64,
    pub failures: u64,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>, format = DateTime))]
    pub last_run: Option<OffsetDateTime>,
    /// Whether the last run succeeded (false before the first).
    pub last_ok: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SystemPoint {
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = DateTime))]
    pub at: OffsetDateTime,
    pub requests_per_s: f64,
    pub server_errors_per_s: f64,
    pub refused_per_s: f64,
}

/// What the system page draws: the figures and the history chart's ECharts options.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SystemView {
    pub snapshot: SystemSnapshot,
    pub chart: String,
}
