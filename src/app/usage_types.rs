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
    /// Requests per bucket, stacked by outcome code, with the error rate on a second axis.
    pub requests: String,
    /// p50, p95 and p99 latency per bucket.
    pub latency: String,
    /// The busiest keys, succeeded and failed requests.
    pub keys: String,
    /// The busiest routes, succeeded and failed requests.
    pub endpoints: String,
    /// The busiest client IPs, succeeded and failed requests.
    pub ips: String,
}

impl UsageCharts {
    /// The options in the order of the page's chart containers.
    pub fn options(&self) -> [&str; 5] {
        [
            &self.requests,
            &self.latency,
            &self.keys,
            &self.endpoints,
            &self.ips,
        ]
    }
}

/// What the usage page shows: the report and its charts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UsageView {
    pub report: UsageReport,
    pub breakdown: UsageBreakdown,
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

/// Requests of one outcome code, bucket by bucket (aligned with the report's buckets).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutcomeSeries {
    /// VALID, or the refusal's code (RATE_LIMIT_EXCEEDED, API_KEY_INVALID, …).
    pub code: String,
    pub requests: Vec<i64>,
    pub total: i64,
}

/// The top list's label for calls that named no route (verify calls without `endpoint`).
pub const NO_ROUTE: &str = "No route given";

/// The top list's label for calls whose client address was unknown.
pub const UNKNOWN_IP: &str = "Unknown address";

/// One entry of a top list: a key, a route or a client IP.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TopEntry {
    /// The key's name, the route (`GET /tickets/{id}`) or the client IP; for calls without
    /// a valid key, "No valid key".
    pub label: String,
    /// The key's id, for a link; none for routes and calls without a valid key.
    pub key_id: Option<i64>,
    pub requests: i64,
    pub errors: i64,
}

/// A report's requests by outcome over time, and its busiest keys, routes and client IPs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UsageBreakdown {
    /// VALID first, then failure codes by their total, most first.
    pub outcomes: Vec<OutcomeSeries>,
    pub top_keys: Vec<TopEntry>,
    pub top_endpoints: Vec<TopEntry>,
    pub top_ips: Vec<TopEntry>,
    /// What the client-IP list covers when that differs from the report's range (IPs are
    /// counted per whole hour, and not per route).
    pub ips_note: Option<String>,
}
