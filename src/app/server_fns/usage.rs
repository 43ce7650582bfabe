//! The usage page's server function: the same domain call as GET /api/v1/analytics/usage.

use crate::app::usage_types::UsageView;
use crate::error::AppError;
use leptos::prelude::*;

/// The range presets of the page's picker, as `?range=`.
pub const PRESETS: [(&str, &str); 4] = [
    ("1h", "Last hour"),
    ("24h", "24 hours"),
    ("7d", "7 days"),
    ("30d", "30 days"),
];

#[cfg(feature = "ssr")]
pub mod edge {
    pub use crate::app::server_fns::ctx::{actor, now};
    use crate::domain::analytics::query::UsageQuery;

    /// The page's `?range=&from=&to=&key=` as the domain's query (the live updates read the
    /// same): a custom `from` wins over the preset.
    pub fn page_query(
        range: &str,
        from: &str,
        to: &str,
        key: Option<i64>,
        now: time::OffsetDateTime,
    ) -> UsageQuery {
        let custom = custom_time(from);
        UsageQuery {
            from: custom.clone().or_else(|| Some(preset_from(range, now))),
            to: custom.and_then(|_| custom_time(to)),
            granularity: None,
            key_id: key,
            ..UsageQuery::default()
        }
    }

    /// `?range=` preset → RFC 3339 `from`; unknown presets are the default (24 hours).
    pub fn preset_from(range: &str, now: time::OffsetDateTime) -> String {
        let back = match range {
            "1h" => time::Duration::hours(1),
            "7d" => time::Duration::days(7),
            "30d" => time::Duration::days(30),
            _ => time::Duration::hours(24),
        };
        (now - back)
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    }

    /// A `datetime-local` field (`2026-11-23T10:00`, read as UTC) or RFC 3339 → RFC 3339;
    /// anything else is passed on for the domain to refuse with a field error.
    pub fn custom_time(text: &str) -> Option<String> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        let local = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
        match time::PrimitiveDateTime::parse(text, &local) {
            Ok(t) => t
                .assume_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .ok(),
            Err(_) => Some(text.to_string()),
        }
    }
}

/// Usage of the caller's keys (admins: all) over a preset range, or `from`–`to` when given,
/// optionally of one key, with its charts.
#[server(prefix = "/sfn", endpoint = "load_usage")]
pub async fn load_usage(
    range: String,
    from: String,
    to: String,
    key: Option<i64>,
) -> Result<UsageView, AppError> {
    let (state, actor) = edge::actor()?;
    let now = edge::now();
    let query = edge::page_query(&range, &from, &to, key, now);
    let (report, breakdown) = crate::domain::analytics::usage_with_breakdown(
        &state.key_ctx(),
        state.usage.pending(),
        &actor,
        &query,
        now,
    )
    .await?;
    Ok(UsageView {
        charts: crate::app::charts::usage_charts(&report, &breakdown),
        report,
        breakdown,
    })
}

/// One key's usage over the last 24 hours, by hour (the key's page).
#[server(prefix = "/sfn", endpoint = "key_usage_day")]
pub async fn key_usage_day(id: i64) -> Result<crate::app::usage_types::UsageReport, AppError> {
    let (state, actor) = edge::actor()?;
    let query = crate::domain::analytics::query::RangeQuery::default();
    crate::domain::analytics::key_usage(
        &state.key_ctx(),
        state.usage.pending(),
        &actor,
        crate::app::types::KeyId(id),
        &query,
        edge::now(),
    )
    .await
}
