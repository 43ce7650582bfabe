//! The wire shapes of usage alerts and notifications (REST and the portal).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// What an alert watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// A key's refused or failed calls among its calls over the window (threshold 0–1).
    ErrorRate,
    /// A key's RATE_LIMIT_EXCEEDED refusals over the window (threshold: a count).
    RateLimited,
    /// A key's calls over the window against its mean over the 7 days before (threshold: a
    /// factor).
    TrafficSpike,
    /// Refused or failed calls from one client IP in a clock hour (threshold: a count).
    FailedIp,
}

impl AlertKind {
    pub const ALL: [AlertKind; 4] = [
        AlertKind::ErrorRate,
        AlertKind::RateLimited,
        AlertKind::TrafficSpike,
        AlertKind::FailedIp,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::ErrorRate => "error_rate",
            AlertKind::RateLimited => "rate_limited",
            AlertKind::TrafficSpike => "traffic_spike",
            AlertKind::FailedIp => "failed_ip",
        }
    }

    pub fn parse(text: &str) -> Option<AlertKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            AlertKind::ErrorRate => "Error rate of a key",
            AlertKind::RateLimited => "Rate-limit refusals of a key",
            AlertKind::TrafficSpike => "Traffic spike of a key",
            AlertKind::FailedIp => "Failed calls from one client IP",
        }
    }

    /// What the threshold is, for forms.
    pub fn threshold_hint(self) -> &'static str {
        match self {
            AlertKind::ErrorRate => "share of calls, 0.01 to 1 (0.25 = 25 %)",
            AlertKind::RateLimited => "refusals in the window",
            AlertKind::TrafficSpike => {
                "times the key's mean for such a window over the 7 days before"
            }
            AlertKind::FailedIp => "refused or failed calls in a clock hour",
        }
    }

    /// Whether the rule's window is the admin's to set (the IP rule counts clock hours).
    pub fn has_window(self) -> bool {
        self != AlertKind::FailedIp
    }

    /// Whether the rule judges only keys with `min_requests` calls or more in the window
    /// (the count rules ignore it).
    pub fn has_min_requests(self) -> bool {
        matches!(self, AlertKind::ErrorRate | AlertKind::TrafficSpike)
    }
}

/// An alert rule: when it raises alerts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AlertRule {
    pub kind: AlertKind,
    pub enabled: bool,
    pub threshold: f64,
    /// The span judged, in minutes (the failed-IP rule counts clock hours: always 60).
    pub window_minutes: i64,
    /// Calls a key must have made in the window before its error rate or spike counts.
    pub min_requests: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = DateTime))]
    pub updated_at: OffsetDateTime,
}

/// One alert raised.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Alert {
    pub id: i64,
    pub kind: AlertKind,
    /// `api_key` or `ip`.
    pub subject_type: String,
    /// The key's id or the client's address.
    pub subject: String,
    pub key_id: Option<i64>,
    /// The figure that crossed the threshold, and the threshold.
    pub value: f64,
    pub threshold: f64,
    /// The start of the period the alert is for (one alert per subject and period).
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = DateTime))]
    pub period_start: OffsetDateTime,
    /// The figures judged (calls, errors, baseline…).
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub detail: serde_json::Value,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AlertPage {
    pub items: Vec<Alert>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Notification {
    pub id: i64,
    /// The event type, e.g. `key.expiring` or `alert.triggered` (see the preferences catalog).
    pub kind: String,
    pub title: String,
    pub body: String,
    /// A portal path to follow up ('' for none).
    pub link: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>, format = DateTime))]
    pub read_at: Option<OffsetDateTime>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NotificationPage {
    pub items: Vec<Notification>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
    /// The caller's unread notifications in all.
    pub unread: i64,
}
