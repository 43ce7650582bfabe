//! Process metrics: counted where requests pass and jobs run, read by `GET /metrics`
//! (Prometheus text format 0.0.4) and by the admin system dashboard.
//!
//! Counting is on the request path, so it is lock-free in the common case: a series is found
//! under a shared lock and bumped with atomics; only a series' first request takes the lock
//! exclusively. Series are bounded by the routes (axum's matched path, never the raw path).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Upper bounds of the latency histogram, in seconds.
pub const LATENCY_BOUNDS_S: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Debug, Default)]
struct Latency {
    /// Per bound, then +Inf; not cumulative (summed when rendered).
    buckets: [AtomicU64; LATENCY_BOUNDS_S.len() + 1],
    sum_us: AtomicU64,
    count: AtomicU64,
}

impl Latency {
    fn observe(&self, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        let i = LATENCY_BOUNDS_S.partition_point(|&b| b < secs);
        self.buckets[i].fetch_add(1, Relaxed);
        self.sum_us.fetch_add(
            u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
            Relaxed,
        );
        self.count.fetch_add(1, Relaxed);
    }
}

/// The method labels (see `middleware::method_label`), in slot order.
pub const METHODS: [&str; 8] = [
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "other",
];

fn method_slot(method: &str) -> usize {
    METHODS
        .iter()
        .position(|m| *m == method)
        .unwrap_or(METHODS.len() - 1)
}

/// One route and method: answers by status, and their latency.
#[derive(Debug, Default)]
struct MethodSeries {
    statuses: RwLock<HashMap<u16, Arc<AtomicU64>>>,
    latency: Latency,
}

impl MethodSeries {
    fn is_used(&self) -> bool {
        self.latency.count.load(Relaxed) > 0
    }
}

/// One route pattern: a series per method.
#[derive(Debug, Default)]
struct RouteSeries {
    methods: [MethodSeries; METHODS.len()],
}

/// A series looked up under a shared lock, created under an exclusive one the first time.
fn series<K, V>(map: &RwLock<HashMap<K, Arc<V>>>, key: &K) -> Option<Arc<V>>
where
    K: std::hash::Hash + Eq + Clone,
    V: Default,
{
    if let Some(found) = map.read().ok()?.get(key) {
        return Some(found.clone());
    }
    let mut map = map.write().ok()?;
    Some(map.entry(key.clone()).or_default().clone())
}

#[derive(Debug, Default)]
struct JobSeries {
    runs: AtomicU64,
    failures: AtomicU64,
    /// Epoch milliseconds of the last run's end; 0 before the first.
    last_run_ms: AtomicU64,
    last_ok: std::sync::atomic::AtomicBool,
}

/// A background job's figures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobStatus {
    pub name: String,
    pub runs: u64,
    pub failures: u64,
    pub last_run_ms: Option<i64>,
    pub last_ok: bool,
}

#[derive(Debug, Default)]
pub struct Metrics {
    routes: RwLock<HashMap<String, Arc<RouteSeries>>>,
    verifications: RwLock<HashMap<(&'static str, &'static str), Arc<AtomicU64>>>,
    jobs: RwLock<HashMap<&'static str, Arc<JobSeries>>>,
    /// Samples of the counters above, for the system dashboard's rates.
    pub window: window::SystemWindow,
}

impl Metrics {
    /// One answered HTTP request. `route` is the matched route pattern (or a fixed word for
    /// requests no route matched), so the number of series stays bounded.
    pub fn http_request(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        let Some(r) = self.route(route) else {
            return;
        };
        let s = &r.methods[method_slot(method)];
        s.latency.observe(elapsed);
        if let Some(c) = series(&s.statuses, &status) {
            c.fetch_add(1, Relaxed);
        }
    }

    /// A route's series, found without allocating (every request but the route's first).
    fn route(&self, route: &str) -> Option<Arc<RouteSeries>> {
        if let Some(found) = self.routes.read().ok()?.get(route) {
            return Some(found.clone());
        }
        let mut map = self.routes.write().ok()?;
        Some(map.entry(route.to_string()).or_default().clone())
    }

    /// Every used (route, method) series, sorted.
    fn route_series(&self) -> Vec<(String, &'static str, Arc<RouteSeries>, usize)> {
        let mut out = Vec::new();
        if let Ok(routes) = self.routes.read() {
            for (route, r) in routes.iter() {
                for (i, m) in r.methods.iter().enumerate() {
                    if m.is_used() {
                        out.push((route.clone(), METHODS[i], r.clone(), i));
                    }
                }
            }
        }
        out.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        out
    }

    /// One verification (`source` verify or gateway) answered with `code`.
    pub fn verification(&self, source: &'static str, code: &'static str) {
        if let Some(c) = series(&self.verifications, &(source, code)) {
            c.fetch_add(1, Relaxed);
        }
    }

    /// One run of a background job, ending at `now_ms`.
    pub fn job_ran(&self, job: &'static str, ok: bool, now_ms: i64) {
        let Some(s) = series(&self.jobs, &job) else {
            return;
        };
        s.runs.fetch_add(1, Relaxed);
        if !ok {
            s.failures.fetch_add(1, Relaxed);
        }
        s.last_run_ms
            .store(u64::try_from(now_ms).unwrap_or(0), Relaxed);
        s.last_ok.store(ok, Relaxed);
    }

    pub fn jobs(&self) -> Vec<JobStatus> {
        let Ok(jobs) = self.jobs.read() else {
            return Vec::new();
        };
        let mut out: Vec<JobStatus> = jobs
            .iter()
            .map(|(name, s)| {
                let last = s.last_run_ms.load(Relaxed);
                JobStatus {
                    name: name.to_string(),
                    runs: s.runs.load(Relaxed),
                    failures: s.failures.load(Relaxed),
                    last_run_ms: (last > 0).then(|| i64::try_from(last).unwrap_or(i64::MAX)),
                    last_ok: s.last_ok.load(Relaxed),
                }
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// Requests answered so far and how many of them were 5xx, over every route.
    pub fn http_totals(&self) -> (u64, u64) {
        let Ok(routes) = self.routes.read() else {
            return (0, 0);
        };
        let mut all = 0;
        let mut failed = 0;
        for s in routes.values().flat_map(|r| r.methods.iter()) {
            if let Ok(statuses) = s.statuses.read() {
                for (status, n) in statuses.iter() {
                    let n = n.load(Relaxed);
                    all += n;
                    if *status >= 500 {
                        failed += n;
                    }
                }
            }
        }
        (all, failed)
    }

    /// Verifications so far, and those answered with a code other than VALID.
    pub fn verification_totals(&self) -> (u64, u64) {
        let Ok(v) = self.verifications.read() else {
            return (0, 0);
        };
        v.iter().fold((0, 0), |(all, refused), ((_, code), n)| {
            let n = n.load(Relaxed);
            (all + n, refused + if *code == "VALID" { 0 } else { n })
        })
    }

    /// Verify-endpoint latency so far: (count, histogram per bound then +Inf).
    pub fn verify_latency(&self) -> (u64, Vec<u64>) {
        let Some(r) = self
            .routes
            .read()
            .ok()
            .and_then(|r| r.get("/api/v1/keys/verify").cloned())
        else {
            return (0, vec![0; LATENCY_BOUNDS_S.len() + 1]);
        };
        let s = &r.methods[method_slot("POST")];
        (
            s.latency.count.load(Relaxed),
            s.latency.buckets.iter().map(|b| b.load(Relaxed)).collect(),
        )
    }
}

mod endpoint;
mod render;
pub mod system;
pub mod window;

pub use endpoint::{gauges, metrics_endpoint};
pub use render::{Gauges, resident_memory_bytes};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_lands_in_the_first_bucket_that_holds_it_and_renders_cumulatively() {
        let m = Metrics::default();
        m.http_request("/a", "GET", 200, Duration::from_micros(400));
        m.http_request("/a", "GET", 200, Duration::from_millis(3));
        m.http_request("/a", "GET", 503, Duration::from_secs(20));
        let text = m.render(&Gauges::default());
        assert!(text.contains(
            "keyport_http_request_duration_seconds_bucket{route=\"/a\",method=\"GET\",le=\"0.0005\"} 1"
        ));
        assert!(text.contains(
            "keyport_http_request_duration_seconds_bucket{route=\"/a\",method=\"GET\",le=\"0.005\"} 2"
        ));
        assert!(text.contains(
            "keyport_http_request_duration_seconds_bucket{route=\"/a\",method=\"GET\",le=\"10\"} 2"
        ));
        assert!(text.contains(
            "keyport_http_request_duration_seconds_bucket{route=\"/a\",method=\"GET\",le=\"+Inf\"} 3"
        ));
        assert!(
            text.contains(
                "keyport_http_requests_total{route=\"/a\",method=\"GET\",status=\"503\"} 1"
            )
        );
        assert_eq!(m.http_totals(), (3, 1));
    }

    #[test]
    fn label_values_are_escaped() {
        let m = Metrics::default();
        m.http_request("/x\"y\\z\nw", "GET", 200, Duration::ZERO);
        assert!(
            m.render(&Gauges::default())
                .contains("route=\"/x\\\"y\\\\z\\nw\"")
        );
    }

    #[test]
    fn jobs_remember_runs_failures_and_the_last_outcome() {
        let m = Metrics::default();
        m.job_ran("sweeper", true, 1_000);
        m.job_ran("sweeper", false, 2_000);
        assert_eq!(
            m.jobs(),
            vec![JobStatus {
                name: "sweeper".into(),
                runs: 2,
                failures: 1,
                last_run_ms: Some(2_000),
                last_ok: false,
            }]
        );
    }
}
