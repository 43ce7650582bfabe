//! A sliding window over the process's counters, for the admin system dashboard: the
//! counters only ever grow, so the figures of the last minute are the differences between
//! samples taken a second apart (by `jobs::system_sampler`; time is the caller's).

use super::{LATENCY_BOUNDS_S, Metrics};
use crate::app::system_types::TrafficFigures;
use std::collections::VecDeque;
use std::sync::Mutex;

/// How far back samples are kept: the dashboard's history chart.
pub const KEEP_MS: i64 = 5 * 60_000;
/// The span the headline figures (rates, percentiles) cover.
pub const RATE_SPAN_MS: i64 = 60_000;

/// The counters at one instant.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sample {
    pub at_ms: i64,
    pub http: u64,
    pub http_5xx: u64,
    pub verifications: u64,
    pub refused: u64,
    /// The verify endpoint's latency histogram (per bound of `LATENCY_BOUNDS_S`, then +Inf).
    pub verify_latency: Vec<u64>,
    pub usage_dropped: u64,
}

impl Sample {
    /// The counters of `metrics` now; `usage_dropped` is the usage queue's loss so far.
    pub fn of(metrics: &Metrics, at_ms: i64, usage_dropped: u64) -> Sample {
        let (http, http_5xx) = metrics.http_totals();
        let (verifications, refused) = metrics.verification_totals();
        Sample {
            at_ms,
            http,
            http_5xx,
            verifications,
            refused,
            verify_latency: metrics.verify_latency().1,
            usage_dropped,
        }
    }
}

/// One point of the history chart: rates between two consecutive samples.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    pub at_ms: i64,
    pub requests_per_s: f64,
    pub server_errors_per_s: f64,
    pub refused_per_s: f64,
}

#[derive(Debug, Default)]
pub struct SystemWindow {
    samples: Mutex<VecDeque<Sample>>,
}

/// The `q` quantile of a histogram with upper bounds `bounds` (seconds) and one more
/// overflow count, in milliseconds, interpolated inside its bucket. The overflow bucket has
/// no upper bound: a quantile there is reported as the last bound.
pub fn quantile_ms(bounds: &[f64], counts: &[u64], q: f64) -> Option<f64> {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return None;
    }
    let rank = q * total as f64;
    let mut seen = 0.0;
    for (i, &n) in counts.iter().enumerate() {
        let next = seen + n as f64;
        if n > 0 && next >= rank {
            let Some(&upper) = bounds.get(i) else {
                return bounds.last().map(|b| b * 1000.0);
            };
            let lower = if i == 0 { 0.0 } else { bounds[i - 1] };
            let within = ((rank - seen) / n as f64).clamp(0.0, 1.0);
            return Some((lower + (upper - lower) * within) * 1000.0);
        }
        seen = next;
    }
    bounds.last().map(|b| b * 1000.0)
}

fn per_s(more: u64, less: u64, span_s: f64) -> f64 {
    if span_s <= 0.0 {
        0.0
    } else {
        more.saturating_sub(less) as f64 / span_s
    }
}

fn share(part: u64, all: u64) -> Option<f64> {
    (all > 0).then(|| part as f64 / all as f64)
}

impl SystemWindow {
    /// Adds a sample, forgetting those older than [`KEEP_MS`] before it. A sample older than
    /// the newest (a clock stepped back) replaces nothing and is dropped.
    pub fn push(&self, sample: Sample) {
        let Ok(mut samples) = self.samples.lock() else {
            return;
        };
        if samples
            .back()
            .is_some_and(|last| last.at_ms >= sample.at_ms)
        {
            return;
        }
        let cutoff = sample.at_ms - KEEP_MS;
        while samples.front().is_some_and(|s| s.at_ms < cutoff) {
            samples.pop_front();
        }
        samples.push_back(sample);
    }

    /// The figures over the last `span_ms` up to `now`, and the usage events dropped in it.
    pub fn rates(&self, now: &Sample, span_ms: i64) -> (TrafficFigures, u64) {
        let Ok(samples) = self.samples.lock() else {
            return Default::default();
        };
        let from = now.at_ms - span_ms;
        // The oldest sample inside the span; the figures since start when there is none.
        let base = samples
            .iter()
            .find(|s| s.at_ms >= from && s.at_ms < now.at_ms)
            .cloned()
            .unwrap_or_else(|| Sample {
                at_ms: now.at_ms,
                verify_latency: vec![0; now.verify_latency.len()],
                ..Sample::default()
            });
        let span_s = (now.at_ms - base.at_ms) as f64 / 1000.0;
        let latency: Vec<u64> = now
            .verify_latency
            .iter()
            .enumerate()
            .map(|(i, n)| n.saturating_sub(base.verify_latency.get(i).copied().unwrap_or(0)))
            .collect();
        let q = |q| quantile_ms(&LATENCY_BOUNDS_S, &latency, q);
        let figures = TrafficFigures {
            window_s: span_s,
            requests_per_s: per_s(now.http, base.http, span_s),
            server_errors_per_s: per_s(now.http_5xx, base.http_5xx, span_s),
            error_rate: share(
                now.http_5xx.saturating_sub(base.http_5xx),
                now.http.saturating_sub(base.http),
            ),
            verifications_per_s: per_s(now.verifications, base.verifications, span_s),
            refusal_rate: share(
                now.refused.saturating_sub(base.refused),
                now.verifications.saturating_sub(base.verifications),
            ),
            verify_p50_ms: q(0.50),
            verify_p95_ms: q(0.95),
            verify_p99_ms: q(0.99),
        };
        (
            figures,
            now.usage_dropped.saturating_sub(base.usage_dropped),
        )
    }

    /// Rates between consecutive samples, oldest first.
    pub fn history(&self) -> Vec<Point> {
        let Ok(samples) = self.samples.lock() else {
            return Vec::new();
        };
        samples
            .iter()
            .zip(samples.iter().skip(1))
            .map(|(a, b)| {
                let span_s = (b.at_ms - a.at_ms) as f64 / 1000.0;
                Point {
                    at_ms: b.at_ms,
                    requests_per_s: per_s(b.http, a.http, span_s),
                    server_errors_per_s: per_s(b.http_5xx, a.http_5xx, span_s),
                    refused_per_s: per_s(b.refused, a.refused, span_s),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(at_ms: i64, http: u64, http_5xx: u64, verify_fast: u64) -> Sample {
        let mut latency = vec![0; LATENCY_BOUNDS_S.len() + 1];
        latency[1] = verify_fast; // (0.5 ms, 1 ms]
        Sample {
            at_ms,
            http,
            http_5xx,
            verifications: verify_fast,
            refused: verify_fast / 4,
            verify_latency: latency,
            usage_dropped: 0,
        }
    }

    #[test]
    fn rates_are_differences_over_the_span_that_has_samples() {
        let w = SystemWindow::default();
        for s in 0..=120 {
            // 10 requests a second, one of them 5xx every other second
            w.push(sample(s * 1_000, 10 * s as u64, s as u64 / 2, 8 * s as u64));
        }
        let now = sample(120_000, 1_200, 60, 960);
        let (r, _) = w.rates(&now, RATE_SPAN_MS);
        assert_eq!(r.window_s, 60.0);
        assert_eq!(r.requests_per_s, 10.0);
        assert_eq!(r.server_errors_per_s, 0.5);
        assert_eq!(r.error_rate, Some(0.05));
        assert_eq!(r.verifications_per_s, 8.0);
        assert_eq!(r.refusal_rate, Some(0.25));
        let p50 = r.verify_p50_ms.unwrap();
        assert!((0.5..=1.0).contains(&p50), "{p50}");
        assert_eq!(
            w.history().len(),
            120,
            "five minutes are kept, two have passed"
        );
        assert_eq!(w.history()[5].requests_per_s, 10.0);
    }

    #[test]
    fn just_after_start_the_figures_cover_the_time_since() {
        let w = SystemWindow::default();
        w.push(sample(1_000, 0, 0, 0));
        let (r, _) = w.rates(&sample(3_000, 40, 0, 0), RATE_SPAN_MS);
        assert_eq!((r.window_s, r.requests_per_s), (2.0, 20.0));
        assert_eq!(r.error_rate, Some(0.0));
        assert_eq!(r.refusal_rate, None, "no verifications: no rate");
        assert_eq!(r.verify_p99_ms, None);
        let (empty, _) = SystemWindow::default().rates(&sample(5_000, 0, 0, 0), RATE_SPAN_MS);
        assert_eq!((empty.window_s, empty.requests_per_s), (0.0, 0.0));
    }

    #[test]
    fn old_samples_go_and_a_clock_stepping_back_is_ignored() {
        let w = SystemWindow::default();
        for s in 0..=400 {
            w.push(sample(s * 1_000, s as u64, 0, 0));
        }
        w.push(sample(10_000, 0, 0, 0));
        let history = w.history();
        assert_eq!(history.len(), 300);
        assert_eq!(history[0].at_ms, 101_000);
        assert_eq!(history.last().unwrap().at_ms, 400_000);
    }

    #[test]
    fn quantiles_interpolate_and_overflow_reports_the_last_bound() {
        let bounds = [0.001, 0.01];
        assert_eq!(quantile_ms(&bounds, &[0, 0, 0], 0.5), None);
        let near = |got: Option<f64>, want: f64| got.is_some_and(|g| (g - want).abs() < 1e-9);
        assert!(near(quantile_ms(&bounds, &[10, 0, 0], 0.5), 0.5));
        assert!(near(quantile_ms(&bounds, &[0, 10, 0], 0.5), 5.5));
        assert!(near(quantile_ms(&bounds, &[1, 0, 99], 0.99), 10.0));
    }
}
