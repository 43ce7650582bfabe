//! The portal's charts (usage page, system dashboard), built on the server with charming as
//! ECharts options (JSON) that the chart islands hand to the vendored ECharts. Built here so the page, its live updates
//! and any later chart share one definition, and the browser downloads no chart code of ours.

use crate::app::system_types::SystemPoint;
use crate::app::usage_types::{TopEntry, UsageBreakdown, UsageCharts, UsageReport};
use charming::Chart;
use charming::component::{Aria, Axis, Grid, Legend};
use charming::element::{AxisLabel, AxisType, ItemStyle, Tooltip, Trigger};
use charming::series::{Bar, Line};

const SUCCEEDED: &str = "#2e7d32";
const FAILED: &str = "#c62828";
const RATE_LINE: &str = "#6a1b9a";
/// Colours of the outcome codes that are not VALID.
const FAILURE_COLOURS: [&str; 8] = [
    "#ef8f00", "#c62828", "#8e24aa", "#1565c0", "#6d4c41", "#00838f", "#ad1457", "#546e7a",
];

/// An outcome's colour, the same on every chart and after every live update (a colour by
/// rank would move when the ranking does): VALID green, rate limiting amber, upstream
/// failures red, other codes by a hash of their name.
fn outcome_colour(code: &str) -> &'static str {
    match code {
        "VALID" => SUCCEEDED,
        "RATE_LIMIT_EXCEEDED" => FAILURE_COLOURS[0],
        "UPSTREAM_5XX" => FAILURE_COLOURS[1],
        _ => {
            // FNV-1a: stable across builds and platforms, unlike the std hasher.
            let hash = code.bytes().fold(0x811c_9dc5_u32, |h, b| {
                (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
            });
            FAILURE_COLOURS[2 + hash as usize % (FAILURE_COLOURS.len() - 2)]
        }
    }
}
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

/// What every usage chart has: an axis tooltip, a legend, a description
/// for screen readers, and no animation on updates (live data would otherwise jitter).
fn frame() -> Chart {
    Chart::new()
        .aria(Aria::new().enabled(true))
        .animation(false)
        .tooltip(Tooltip::new().trigger(Trigger::Axis))
        .legend(Legend::new().bottom(0))
}

/// A chart over time: [`frame`] with the buckets on the x axis.
fn base(labels: Vec<String>) -> Chart {
    frame()
        .grid(Grid::new().left(56).right(56).top(32).bottom(56))
        .x_axis(Axis::new().type_(AxisType::Category).data(labels))
}

/// Requests per bucket stacked by outcome: VALID, then each failure code; the error rate on a
/// second axis.
fn requests_chart(report: &UsageReport, breakdown: &UsageBreakdown, labels: Vec<String>) -> Chart {
    // No requests, no rate: a gap in the line, not a misleading 0 %.
    let error_rate: Vec<Option<f64>> = report
        .buckets
        .iter()
        .map(|b| {
            (b.requests > 0).then(|| (b.errors as f64 * 1000.0 / b.requests as f64).round() / 10.0)
        })
        .collect();
    let mut chart = base(labels)
        .y_axis(Axis::new().type_(AxisType::Value).name("Requests"))
        .y_axis(
            Axis::new()
                .type_(AxisType::Value)
                .name("Error rate")
                .min(0)
                .max(100)
                .axis_label(AxisLabel::new().formatter("{value} %")),
        );
    for s in &breakdown.outcomes {
        let colour = outcome_colour(&s.code);
        chart = chart.series(
            Bar::new()
                .name(s.code.as_str())
                .stack("requests")
                .item_style(ItemStyle::new().color(colour))
                .data(s.requests.clone()),
        );
    }
    chart.series(
        Line::new()
            .name("Error rate (%)")
            .y_axis_index(1)
            .item_style(ItemStyle::new().color(RATE_LINE))
            .data(error_rate),
    )
}

/// A top list as horizontal bars, busiest on top: succeeded and failed requests stacked.
fn top_chart(entries: &[TopEntry], what: &str) -> Chart {
    let shown: Vec<&TopEntry> = entries.iter().rev().collect();
    let succeeded: Vec<i64> = shown.iter().map(|e| e.requests - e.errors).collect();
    let failed: Vec<i64> = shown.iter().map(|e| e.errors).collect();
    frame()
        .grid(
            Grid::new()
                .left(8)
                .right(24)
                .top(8)
                .bottom(40)
                .contain_label(true),
        )
        .x_axis(Axis::new().type_(AxisType::Value))
        .y_axis(
            Axis::new()
                .type_(AxisType::Category)
                .name(what)
                .data(shown.iter().map(|e| e.label.clone()).collect()),
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
                .name("Refused or failed")
                .stack("requests")
                .item_style(ItemStyle::new().color(FAILED))
                .data(failed),
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

/// The page's charts for `report` and its breakdown.
pub fn usage_charts(report: &UsageReport, breakdown: &UsageBreakdown) -> UsageCharts {
    let labels: Vec<String> = report
        .buckets
        .iter()
        .map(|b| label(&report.granularity, b.start))
        .collect();
    let json = |chart: Chart| serde_json::to_string(&chart).unwrap_or_default();
    UsageCharts {
        requests: json(requests_chart(report, breakdown, labels.clone())),
        latency: json(latency_chart(report, labels)),
        keys: json(top_chart(&breakdown.top_keys, "Key")),
        endpoints: json(top_chart(&breakdown.top_endpoints, "Route")),
        ips: json(top_chart(&breakdown.top_ips, "Client IP")),
    }
}

/// The system dashboard's history: requests, 5xx answers and refused verifications per
/// second over the last minutes.
pub fn system_chart(points: &[SystemPoint]) -> String {
    let labels = points
        .iter()
        .map(|p| {
            let t = p.at.to_offset(time::UtcOffset::UTC);
            format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
        })
        .collect();
    let line = |name: &str, colour: &str, pick: fn(&SystemPoint) -> f64| {
        Line::new()
            .name(name)
            .show_symbol(false)
            .item_style(ItemStyle::new().color(colour))
            .data(
                points
                    .iter()
                    .map(|p| (pick(p) * 10.0).round() / 10.0)
                    .collect::<Vec<f64>>(),
            )
    };
    let chart = base(labels)
        .y_axis(Axis::new().type_(AxisType::Value).name("per second"))
        .series(line("Requests", P50, |p| p.requests_per_s))
        .series(line("5xx answers", FAILED, |p| p.server_errors_per_s))
        .series(line("Refused verifications", FAILURE_COLOURS[0], |p| {
            p.refused_per_s
        }));
    serde_json::to_string(&chart).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::usage_types::{OutcomeSeries, UsageBucket};
    use serde_json::{Value, json};

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

    fn breakdown() -> UsageBreakdown {
        let series = |code: &str, requests: Vec<i64>| OutcomeSeries {
            code: code.into(),
            total: requests.iter().sum(),
            requests,
        };
        let entry = |label: &str, requests, errors| TopEntry {
            label: label.into(),
            key_id: None,
            requests,
            errors,
        };
        UsageBreakdown {
            outcomes: vec![
                series("VALID", vec![7, 0]),
                series("RATE_LIMIT_EXCEEDED", vec![1, 0]),
                series("API_KEY_INVALID", vec![2, 0]),
            ],
            top_keys: vec![entry("busy", 9, 2), entry("quiet", 1, 1)],
            top_endpoints: vec![entry("GET /a", 10, 3)],
            top_ips: vec![entry("192.0.2.7", 8, 0), entry("2001:db8::1", 2, 2)],
            ips_note: None,
        }
    }

    #[test]
    fn requests_stack_by_outcome_code_and_an_empty_bucket_has_no_error_rate() {
        let charts = usage_charts(&report(), &breakdown());
        let v: Value = serde_json::from_str(&charts.requests).unwrap();
        assert_eq!(
            v["xAxis"]["data"],
            serde_json::json!(["01-01 00:00", "01-01 00:01"])
        );
        let named = |i: usize| {
            (
                v["series"][i]["name"].clone(),
                v["series"][i]["data"].clone(),
            )
        };
        assert_eq!(named(0), (json!("VALID"), json!([7, 0])));
        assert_eq!(named(1), (json!("RATE_LIMIT_EXCEEDED"), json!([1, 0])));
        assert_eq!(named(2), (json!("API_KEY_INVALID"), json!([2, 0])));
        assert_eq!(named(3), (json!("Error rate (%)"), json!([30.0, null])));
        assert_eq!(v["series"][0]["stack"], v["series"][2]["stack"]);
        assert_eq!(v["series"][3]["yAxisIndex"], 1.0);
        assert_eq!(v["aria"]["enabled"], true);
    }

    #[test]
    fn an_outcome_keeps_its_colour_whatever_its_rank() {
        let mut b = breakdown();
        let colours = |b: &UsageBreakdown| -> Vec<(String, String)> {
            let v: Value = serde_json::from_str(&usage_charts(&report(), b).requests).unwrap();
            let mut c: Vec<(String, String)> = v["series"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| (s["name"].to_string(), s["itemStyle"]["color"].to_string()))
                .collect();
            c.sort();
            c
        };
        let before = colours(&b);
        b.outcomes.swap(1, 2);
        assert_eq!(colours(&b), before);
        assert_ne!(outcome_colour("API_KEY_INVALID"), SUCCEEDED);
    }

    #[test]
    fn top_lists_put_the_busiest_on_top() {
        let charts = usage_charts(&report(), &breakdown());
        let v: Value = serde_json::from_str(&charts.keys).unwrap();
        // ECharts draws a category axis from the bottom up.
        assert_eq!(v["yAxis"]["data"], json!(["quiet", "busy"]));
        assert_eq!(v["series"][0]["data"], json!([0, 7]));
        assert_eq!(v["series"][1]["data"], json!([1, 2]));
        let v: Value = serde_json::from_str(&charts.endpoints).unwrap();
        assert_eq!(v["yAxis"]["data"], json!(["GET /a"]));
        let v: Value = serde_json::from_str(&charts.ips).unwrap();
        assert_eq!(v["yAxis"]["data"], json!(["2001:db8::1", "192.0.2.7"]));
        assert_eq!(v["series"][1]["data"], json!([2, 0]));
    }

    #[test]
    fn latency_has_three_percentiles_with_gaps_for_empty_buckets() {
        let charts = usage_charts(&report(), &breakdown());
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
