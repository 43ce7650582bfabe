//! The Prometheus text exposition format (0.0.4) of the metrics and gauges.

use super::{JobStatus, LATENCY_BOUNDS_S, Metrics};
use std::fmt::Write as _;
use std::sync::atomic::Ordering::Relaxed;

/// Figures read from elsewhere when rendering.
#[derive(Clone, Debug, Default)]
pub struct Gauges {
    pub usage: crate::domain::usage::UsageStats,
    pub usage_queue_capacity: u64,
    pub rollup_rows_pending: u64,
    pub db_backend: &'static str,
    pub db_pool_size: u64,
    pub db_pool_idle: u64,
    pub db_pool_max: u64,
    pub resident_memory_bytes: Option<u64>,
    pub start_time_s: f64,
    pub uptime_s: f64,
    pub cached_keys: u64,
}

/// The resident set size of this process (Linux), in bytes.
pub fn resident_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// A label value as the text format wants it: backslash, quote and newline escaped.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

impl Metrics {
    /// Everything, in the Prometheus text exposition format, series sorted for stable output.
    pub fn render(&self, g: &Gauges) -> String {
        let mut out = String::with_capacity(16 * 1024);
        let routes = self.route_series();
        header(
            &mut out,
            "keyport_http_requests_total",
            "counter",
            "HTTP requests answered, by route pattern, method and status.",
        );
        for (route, method, r, slot) in &routes {
            let s = &r.methods[*slot];
            let mut statuses: Vec<(u16, u64)> = s
                .statuses
                .read()
                .map(|m| m.iter().map(|(k, v)| (*k, v.load(Relaxed))).collect())
                .unwrap_or_default();
            statuses.sort();
            for (status, n) in statuses {
                let _ = writeln!(
                    out,
                    "keyport_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{status}\"}} {n}",
                    label(route),
                    label(method)
                );
            }
        }
        header(
            &mut out,
            "keyport_http_request_duration_seconds",
            "histogram",
            "Time to answer HTTP requests, by route pattern and method.",
        );
        for (route, method, r, slot) in &routes {
            let s = &r.methods[*slot];
            let labels = format!("route=\"{}\",method=\"{}\"", label(route), label(method));
            let mut cumulative = 0;
            for (i, bound) in LATENCY_BOUNDS_S.iter().enumerate() {
                cumulative += s.latency.buckets[i].load(Relaxed);
                let _ = writeln!(
                    out,
                    "keyport_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}"
                );
            }
            let count = s.latency.count.load(Relaxed);
            let _ = writeln!(
                out,
                "keyport_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {count}"
            );
            let sum = s.latency.sum_us.load(Relaxed) as f64 / 1e6;
            let _ = writeln!(
                out,
                "keyport_http_request_duration_seconds_sum{{{labels}}} {sum}"
            );
            let _ = writeln!(
                out,
                "keyport_http_request_duration_seconds_count{{{labels}}} {count}"
            );
        }
        header(
            &mut out,
            "keyport_verifications_total",
            "counter",
            "Key checks answered, by where they came from (verify or gateway) and outcome code.",
        );
        let mut verifications: Vec<((&str, &str), u64)> = self
            .verifications
            .read()
            .map(|m| m.iter().map(|(k, v)| (*k, v.load(Relaxed))).collect())
            .unwrap_or_default();
        verifications.sort();
        for ((source, code), n) in verifications {
            let _ = writeln!(
                out,
                "keyport_verifications_total{{source=\"{source}\",code=\"{code}\"}} {n}"
            );
        }
        let u = &g.usage;
        let counters: [(&str, &str, u64); 4] = [
            (
                "keyport_usage_events_recorded_total",
                "Usage events accepted into the queue.",
                u.recorded,
            ),
            (
                "keyport_usage_events_written_total",
                "Usage events stored.",
                u.written,
            ),
            (
                "keyport_usage_events_dropped_total",
                "Usage events lost: queue full or shut down, or given up after failed writes.",
                u.dropped,
            ),
            (
                "keyport_usage_write_failures_total",
                "Failed usage write attempts (each retry counts).",
                u.write_failures,
            ),
        ];
        for (name, help, value) in counters {
            header(&mut out, name, "counter", help);
            let _ = writeln!(out, "{name} {value}");
        }
        let gauges: [(&str, &str, u64); 5] = [
            (
                "keyport_usage_queue_depth",
                "Usage events waiting to be written.",
                u.queued,
            ),
            (
                "keyport_usage_queue_capacity",
                "Usage events that may wait before new ones are dropped.",
                g.usage_queue_capacity,
            ),
            (
                "keyport_usage_rollup_rows_pending",
                "Minute rollup rows summed in memory and not stored yet.",
                g.rollup_rows_pending,
            ),
            (
                "keyport_db_pool_max_connections",
                "The database pool's size limit.",
                g.db_pool_max,
            ),
            (
                "keyport_keys_cached",
                "API keys held in the verification cache.",
                g.cached_keys,
            ),
        ];
        for (name, help, value) in gauges {
            header(&mut out, name, "gauge", help);
            let _ = writeln!(out, "{name} {value}");
        }
        header(
            &mut out,
            "keyport_db_pool_connections",
            "gauge",
            "Open database connections, by state.",
        );
        let in_use = g.db_pool_size.saturating_sub(g.db_pool_idle);
        let _ = writeln!(
            out,
            "keyport_db_pool_connections{{backend=\"{}\",state=\"idle\"}} {}",
            g.db_backend, g.db_pool_idle
        );
        let _ = writeln!(
            out,
            "keyport_db_pool_connections{{backend=\"{}\",state=\"in_use\"}} {in_use}",
            g.db_backend
        );
        let mut jobs = self.jobs();
        // The usage writer stores rollups as part of its own loop; shown as a job.
        jobs.push(JobStatus {
            name: "usage_rollups".into(),
            runs: u.rollup_stores,
            failures: u.rollup_store_failures,
            last_run_ms: None,
            last_ok: true,
        });
        jobs.sort_by(|a, b| a.name.cmp(&b.name));
        header(
            &mut out,
            "keyport_job_runs_total",
            "counter",
            "Background job runs, by job.",
        );
        for j in &jobs {
            let _ = writeln!(
                out,
                "keyport_job_runs_total{{job=\"{}\"}} {}",
                j.name, j.runs
            );
        }
        header(
            &mut out,
            "keyport_job_failures_total",
            "counter",
            "Background job runs that failed, by job.",
        );
        for j in &jobs {
            let _ = writeln!(
                out,
                "keyport_job_failures_total{{job=\"{}\"}} {}",
                j.name, j.failures
            );
        }
        header(
            &mut out,
            "keyport_job_last_run_timestamp_seconds",
            "gauge",
            "When each background job last finished (Unix time).",
        );
        for j in jobs.iter().filter(|j| j.last_run_ms.is_some()) {
            let at = j.last_run_ms.unwrap_or(0) as f64 / 1000.0;
            let _ = writeln!(
                out,
                "keyport_job_last_run_timestamp_seconds{{job=\"{}\"}} {at}",
                j.name
            );
        }
        if let Some(rss) = g.resident_memory_bytes {
            header(
                &mut out,
                "process_resident_memory_bytes",
                "gauge",
                "Resident memory size in bytes.",
            );
            let _ = writeln!(out, "process_resident_memory_bytes {rss}");
        }
        header(
            &mut out,
            "process_start_time_seconds",
            "gauge",
            "Start time of the process since the Unix epoch in seconds.",
        );
        let _ = writeln!(out, "process_start_time_seconds {}", g.start_time_s);
        header(
            &mut out,
            "keyport_uptime_seconds",
            "gauge",
            "Seconds since this process started serving.",
        );
        let _ = writeln!(out, "keyport_uptime_seconds {}", g.uptime_s);
        out
    }
}
