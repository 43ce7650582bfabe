//! The wire shapes of a key's traffic settings (rate limits, quota, credits), shared by the
//! REST API, the portal and the browser islands.

use serde::{Deserialize, Serialize};

/// The unit a rate limit counts over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Window {
    Second,
    Minute,
    Hour,
    Day,
}

impl Window {
    pub fn seconds(self) -> i64 {
        match self {
            Window::Second => 1,
            Window::Minute => 60,
            Window::Hour => 3_600,
            Window::Day => 86_400,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Window::Second => "second",
            Window::Minute => "minute",
            Window::Hour => "hour",
            Window::Day => "day",
        }
    }

    pub fn parse(text: &str) -> Option<Window> {
        [Window::Second, Window::Minute, Window::Hour, Window::Day]
            .into_iter()
            .find(|w| w.as_str() == text)
    }
}

/// One named limit: `limit` requests per `window`, plus `burst` extra at once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RateLimitSpec {
    /// Unique per key; `[a-z0-9_-]{1,32}`.
    #[cfg_attr(feature = "ssr", schema(example = "default"))]
    pub name: String,
    #[cfg_attr(feature = "ssr", schema(example = 100, minimum = 1))]
    pub limit: u32,
    pub window: Window,
    /// Extra requests allowed at once on top of `limit`; the sustained rate stays
    /// `limit / window`.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(example = 20))]
    pub burst: u32,
}

/// Quota and refill periods, on UTC boundaries (weeks start on Monday).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum PeriodName {
    Day,
    Week,
    Month,
    /// Every `period_days` days from the day the quota was set (quotas only).
    Custom,
}

impl PeriodName {
    pub fn as_str(self) -> &'static str {
        match self {
            PeriodName::Day => "day",
            PeriodName::Week => "week",
            PeriodName::Month => "month",
            PeriodName::Custom => "custom",
        }
    }

    pub fn parse(text: &str) -> Option<PeriodName> {
        [
            PeriodName::Day,
            PeriodName::Week,
            PeriodName::Month,
            PeriodName::Custom,
        ]
        .into_iter()
        .find(|p| p.as_str() == text)
    }
}

/// At most `limit` requests per period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct QuotaSpec {
    pub period: PeriodName,
    #[cfg_attr(feature = "ssr", schema(example = 10000, minimum = 1))]
    pub limit: i64,
    /// Required with `period: custom`: its length in days (1-366).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_days: Option<u32>,
}

/// Sets the credit balance back to `amount` at the start of every interval.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RefillSpec {
    /// `day`, `week` or `month`.
    pub interval: PeriodName,
    #[cfg_attr(feature = "ssr", schema(example = 5000, minimum = 1))]
    pub amount: i64,
}

/// A key's quota as shown: the setting, and this period's usage.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct KeyQuota {
    pub period: PeriodName,
    pub limit: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_days: Option<u32>,
    /// Requests counted in the current period.
    pub used: i64,
    pub remaining: i64,
    /// When the current period ends (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = DateTime))]
    pub resets_at: time::OffsetDateTime,
}

/// A rate limit's state right now, as this server sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RateLimitStatus {
    pub name: String,
    pub limit: u32,
    pub window: Window,
    /// Requests that would pass right now.
    pub remaining: u64,
    /// When the limit is full again (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = DateTime))]
    pub resets_at: time::OffsetDateTime,
}
