//! The wire shapes of usage reports (REST, and the portal's charts).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// One time bucket of usage; latencies in milliseconds, absent without requests.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UsageBucket {
    /// The bucket's start (UTC).
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = DateTime))]
    pub start: OffsetDateTime,
    pub requests: i64,
    /// Refused by a check (any code but VALID), or answered 5xx by the upstream.
    pub errors: i64,
    /// Refused with RATE_LIMIT_EXCEEDED.
    pub rate_limited: i64,
    pub request_bytes: i64,
    pub response_bytes: i64,
    pub mean_latency_ms: Option<f64>,
    /// Percentiles from a histogram with about ±20 % resolution.
    pub p50_latency_ms: Option<f64>,
    pub p95_latency_ms: Option<f64>,
    pub p99_latency_ms: Option<f64>,
}

/// Usage over a range, bucket by bucket (empty buckets included) and in total.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UsageReport {
    /// The range covered: whole buckets from `from` up to (not including) `to`.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = DateTime))]
    pub from: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = DateTime))]
    pub to: OffsetDateTime,
    /// minute, hour or day.
    #[cfg_attr(feature = "ssr", schema(example = "hour"))]
    pub granularity: String,
    pub buckets: Vec<UsageBucket>,
    /// All buckets together (its `start` is `from`).
    pub total: UsageBucket,
}

/// The usage page's charts as ECharts options (JSON, built on the server with charming).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UsageCharts {
    /// Requests per bucket, stacked by outcome, with the error rate on a second axis.
    pub requests: String,
    /// p50, p95 and p99 latency per bucket.
    pub latency: String,
}

/// What the usage page shows: the report and its charts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UsageView {
    pub report: UsageReport,
    pub charts: UsageCharts,
}

/// One live update of the usage page's charts (a server-sent event).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UsageLive {
    pub charts: UsageCharts,
    pub requests: i64,
    pub errors: i64,
    /// When the figures were read (UTC).
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}
