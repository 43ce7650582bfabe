//! The usage page's charts, built on the server with charming as ECharts options (JSON) that
//! the chart island hands to the vendored ECharts. Built here so the page, its live updates
//! and any later chart share one definition, and the browser downloads no chart code of ours.

use crate::app::usage_types::{UsageCharts, UsageReport};
use charming::Chart;
use charming::component::{Aria, Axis, Grid, Legend};
use charming::element::{AxisLabel, AxisType, ItemStyle, Tooltip, Trigger};
use charming::series::{Bar, Line};

const SUCCEEDED: &str = "#2e7d32";
const RATE_LIMITED: &str = "#ef8f00";
const FAILED: &str = "#c62828";
const RATE_LINE: &str = "#6a1b9a";
const P50: &str = "#1565c0";
const P95: &str = "#ef8f00";
const P99: &str = "#c62828";

/// A bucket's label on the time axis: the date for days, else month, day and time (UTC).
fn label(granularity: &str, start: time::OffsetDateTime) -> String {
    let t = start.to_offset(time::UtcOffset::UTC);
    if granularity == "day" {
        format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
    } else {
        format!(
            "{:02}-{:02} {:02}:{:02}",
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute()
        )
    }
}

/// What every usage chart has: an axis tooltip, a legend, room for labels, a description
/// for screen readers, and no animation on updates (live data would otherwise jitter).
fn base(labels: Vec<String>) -> Chart {
    Chart::new()
        .aria(Aria::new().enabled(true))
        .animation(false)
        .tooltip(Tooltip::new().trigger(Trigger::Axis))
        .legend(Legend::new().bottom(0))
        .grid(Grid::new().left(56).right(56).top(32).bottom(56))
        .x_axis(Axis::new().type_(AxisType::Category).data(labels))
}

fn requests_chart(report: &UsageReport, labels: Vec<String>) -> Chart {
    let b = &report.buckets;
    let succeeded: Vec<i64> = b.iter().map(|b| b.requests - b.errors).collect();
    let limited: Vec<i64> = b.iter().map(|b| b.rate_limited).collect();
    let failed: Vec<i64> = b.iter().map(|b| b.errors - b.rate_limited).collect();
    // No requests, no rate: a gap in the line, not a misleading 0 %.
    let error_rate: Vec<Option<f64>> = b
        .iter()
        .map(|b| {
            (b.requests > 0).then(|| (b.errors as f64 * 1000.0 / b.requests as f64).round() / 10.0)
        })
        .collect();
    base(labels)
        .y_axis(Axis::new().type_(AxisType::Value).name("Requests"))
        .y_axis(
            Axis::new()
                .type_(AxisType::Value)
                .name("Error rate")
                .min(0)
                .max(100)
                .axis_label(AxisLabel::new().formatter("{value} %")),
        )
        .series(
            Bar::new()
                .name("Succeeded")
                .stack("requests")
                .item_style(ItemStyle::new().color(SUCCEEDED))
                .data(succeeded),
        )
        .series(
            Bar::new()
                .name("Rate limited")
                .stack("requests")
                .item_style(ItemStyle::new().color(RATE_LIMITED))
                .data(limited),
        )
        .series(
            Bar::new()
                .name("Refused or failed")
                .stack("requests")
                .item_style(ItemStyle::new().color(FAILED))
                .data(failed),
        )
        .series(
            Line::new()
                .name("Error rate (%)")
                .y_axis_index(1)
                .item_style(ItemStyle::new().color(RATE_LINE))
                .data(error_rate),
        )
}

fn latency_chart(report: &UsageReport, labels: Vec<String>) -> Chart {
    let b = &report.buckets;
    let series = |name: &str,
                  color: &str,
                  pick: fn(&crate::app::usage_types::UsageBucket) -> Option<f64>| {
        Line::new()
            .name(name)
            .item_style(ItemStyle::new().color(color))
            .data(b.iter().map(pick).collect::<Vec<Option<f64>>>())
    };
    base(labels)
        .y_axis(
            Axis::new()
                .type_(AxisType::Value)
                .name("Latency")
                .axis_label(AxisLabel::new().formatter("{value} ms")),
        )
        .series(series("p50", P50, |b| b.p50_latency_ms))
        .series(series("p95", P95, |b| b.p95_latency_ms))
        .series(series("p99", P99, |b| b.p99_latency_ms))
}

/// The page's charts for `report`.
pub fn usage_charts(report: &UsageReport) -> UsageCharts {
    let labels: Vec<String> = report
        .buckets
        .iter()
        .map(|b| label(&report.granularity, b.start))
        .collect();
    let json = |chart: Chart| serde_json::to_string(&chart).unwrap_or_default();
    UsageCharts {
        requests: json(requests_chart(report, labels.clone())),
        latency: json(latency_chart(report, labels)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::usage_types::UsageBucket;
    use serde_json::Value;

    fn bucket(minute: i64, requests: i64, errors: i64, limited: i64) -> UsageBucket {
        UsageBucket {
            start: time::OffsetDateTime::UNIX_EPOCH + time::Duration::minutes(minute),
            requests,
            errors,
            rate_limited: limited,
            request_bytes: 0,
            response_bytes: 0,
            mean_latency_ms: None,
            p50_latency_ms: (requests > 0).then_some(1.5),
            p95_latency_ms: (requests > 0).then_some(3.0),
            p99_latency_ms: (requests > 0).then_some(9.0),
        }
    }

    fn report() -> UsageReport {
        let buckets = vec![bucket(0, 10, 3, 1), bucket(1, 0, 0, 0)];
        UsageReport {
            from: buckets[0].start,
            to: buckets[1].start + time::Duration::minutes(1),
            granularity: "minute".into(),
            total: bucket(0, 10, 3, 1),
            buckets,
        }
    }

    #[test]
    fn requests_stack_by_outcome_and_an_empty_bucket_has_no_error_rate() {
        let charts = usage_charts(&report());
        let v: Value = serde_json::from_str(&charts.requests).unwrap();
        assert_eq!(
            v["xAxis"]["data"],
            serde_json::json!(["01-01 00:00", "01-01 00:01"])
        );
        let data = |i: usize| v["series"][i]["data"].clone();
        assert_eq!(v["series"][0]["name"], "Succeeded");
        assert_eq!(data(0), serde_json::json!([7, 0]));
        assert_eq!(data(1), serde_json::json!([1, 0]));
        assert_eq!(data(2), serde_json::json!([2, 0]));
        assert_eq!(data(3), serde_json::json!([30.0, null]));
        assert_eq!(v["series"][3]["yAxisIndex"], 1.0);
        assert_eq!(v["aria"]["enabled"], true);
    }

    #[test]
    fn latency_has_three_percentiles_with_gaps_for_empty_buckets() {
        let charts = usage_charts(&report());
        let v: Value = serde_json::from_str(&charts.latency).unwrap();
        let names: Vec<&str> = (0..3)
            .map(|i| v["series"][i]["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["p50", "p95", "p99"]);
        assert_eq!(v["series"][2]["data"], serde_json::json!([9.0, null]));
    }

    #[test]
    fn days_are_labelled_by_date() {
        let t = time::macros::datetime!(2026-11-23 00:00 UTC);
        assert_eq!(label("day", t), "2026-11-23");
        assert_eq!(label("hour", t), "11-23 00:00");
    }
}
