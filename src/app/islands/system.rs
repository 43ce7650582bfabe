//! The admin system dashboard's figures and history chart: rendered on the server with the
//! figures at load time, then kept current from `/admin/system/live` (server-sent events,
//! every two seconds) without a reload.

use crate::app::format::{bytes, datetime, duration_s, latency_ms, per_second, share};
use crate::app::system_types::{SystemSnapshot, SystemView};
use leptos::prelude::*;

/// The history chart's container.
const CHART_ID: &str = "chart-system";
/// The live stream's URL.
pub const LIVE_URL: &str = "/admin/system/live";

/// A figure that follows the snapshot.
#[component]
fn Figure(
    label: &'static str,
    testid: &'static str,
    snap: RwSignal<SystemSnapshot>,
    value: fn(&SystemSnapshot) -> String,
    #[prop(optional)] hint: Option<fn(&SystemSnapshot) -> String>,
) -> impl IntoView {
    view! {
        <div class="stat">
            <span class="stat-label">{label}</span>
            <span class="stat-value" data-testid=testid>{move || snap.with(value)}</span>
            {hint.map(|h| view! { <span class="stat-hint">{move || snap.with(h)}</span> })}
        </div>
    }
}

fn job_result(ok: bool, runs: u64) -> (&'static str, &'static str) {
    match (runs, ok) {
        (0, _) => ("badge badge-gray", "Not run yet"),
        (_, true) => ("badge badge-green", "Succeeded"),
        (_, false) => ("badge badge-red", "Failed"),
    }
}

#[island]
pub fn SystemDashboard(view: SystemView) -> impl IntoView {
    let snap = RwSignal::new(view.snapshot);
    let (drawn, set_drawn) = signal(false);
    let (status, set_status) = signal(String::new());
    #[cfg(feature = "hydrate")]
    {
        let chart = view.chart;
        Effect::new(move |_| browser::start(chart.clone(), snap, set_drawn, set_status));
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (&view.chart, set_drawn, set_status);
    let window = move || {
        snap.with(|s| {
            format!(
                "Rates over the last {}; figures as of {}.",
                duration_s(s.traffic.window_s),
                datetime(s.at)
            )
        })
    };
    let fallback = move || {
        (!drawn.get()).then(|| {
            view! { <p class="chart-fallback muted">"The chart needs JavaScript; the figures above are as of the page's load."</p> }
        })
    };
    view! {
        <div class="system-live">
            <p class="muted live-status" aria-live="polite" data-testid="system-status">{status}</p>
            <section class="card" aria-labelledby="system-traffic">
                <h2 id="system-traffic">"Traffic"</h2>
                <p class="muted">{window}</p>
                <div class="grid">
                    <Figure label="Requests" testid="sys-requests" snap value=|s| per_second(s.traffic.requests_per_s)
                        hint=|s| format!("5xx: {}", per_second(s.traffic.server_errors_per_s))/>
                    <Figure label="Error rate (5xx)" testid="sys-error-rate" snap value=|s| share(s.traffic.error_rate)/>
                    <Figure label="Verifications" testid="sys-verifications" snap value=|s| per_second(s.traffic.verifications_per_s)
                        hint=|s| format!("refused: {}", share(s.traffic.refusal_rate))/>
                    <Figure label="Verify latency p95" testid="sys-verify-p95" snap value=|s| latency_ms(s.traffic.verify_p95_ms)
                        hint=|s| format!("p50 {}, p99 {}", latency_ms(s.traffic.verify_p50_ms), latency_ms(s.traffic.verify_p99_ms))/>
                </div>
                <figure class="chart-figure">
                    <figcaption id="chart-system-caption">"Per second, last five minutes"</figcaption>
                    <div id=CHART_ID class="chart" role="img" aria-labelledby="chart-system-caption">{fallback}</div>
                </figure>
            </section>
            <section class="card" aria-labelledby="system-process">
                <h2 id="system-process">"Process"</h2>
                <div class="grid">
                    <Figure label="Uptime" testid="sys-uptime" snap value=|s| duration_s(s.uptime_s)
                        hint=|s| format!("version {}", s.version)/>
                    <Figure label="Memory (resident)" testid="sys-memory" snap value=|s| bytes(s.memory_bytes)/>
                    <Figure label="Database connections in use" testid="sys-db-in-use" snap value=|s| s.db_pool.in_use.to_string()
                        hint=|s| format!("{} open, at most {} ({})", s.db_pool.size, s.db_pool.max, s.db_pool.backend)/>
                    <Figure label="Keys cached" testid="sys-cached-keys" snap value=|s| s.cached_keys.to_string()/>
                </div>
            </section>
            <section class="card" aria-labelledby="system-usage">
                <h2 id="system-usage">"Usage queue"</h2>
                <div class="grid">
                    <Figure label="Waiting" testid="sys-queued" snap value=|s| s.usage_queue.queued.to_string()
                        hint=|s| format!("of {}", s.usage_queue.capacity)/>
                    <Figure label="Written" testid="sys-written" snap value=|s| s.usage_queue.written.to_string()
                        hint=|s| format!("{} write failures", s.usage_queue.write_failures)/>
                    <Figure label="Dropped" testid="sys-dropped" snap value=|s| s.usage_queue.dropped.to_string()
                        hint=|s| format!("{} in the last minute", s.usage_queue.dropped_in_window)/>
                    <Figure label="Rollup rows pending" testid="sys-rollups" snap value=|s| s.usage_queue.rollup_rows_pending.to_string()
                        hint=|s| format!("{} failed stores", s.usage_queue.rollup_store_failures)/>
                </div>
            </section>
            <section class="card" aria-labelledby="system-jobs">
                <h2 id="system-jobs">"Background jobs"</h2>
                {move || {
                    let jobs = snap.with(|s| s.jobs.clone());
                    if jobs.is_empty() {
                        return view! {
                            <div class="empty-state"><h3>"No job has run yet"</h3><p>"Jobs start with the server; the first runs within a minute."</p></div>
                        }.into_any();
                    }
                    view! {
                        <div class="table-wrap">
                            <table class="table" data-testid="sys-jobs">
                                <thead><tr>
                                    <th scope="col">"Job"</th>
                                    <th scope="col" class="num">"Runs"</th>
                                    <th scope="col" class="num">"Failures"</th>
                                    <th scope="col">"Last run"</th>
                                    <th scope="col">"Last result"</th>
                                </tr></thead>
                                <tbody>
                                    {jobs.into_iter().map(|j| {
                                        let (class, text) = job_result(j.last_ok, j.runs);
                                        view! {
                                            <tr>
                                                <td><code>{j.name}</code></td>
                                                <td class="num">{j.runs}</td>
                                                <td class="num">{j.failures}</td>
                                                <td>{j.last_run.map(datetime).unwrap_or_else(|| "—".into())}</td>
                                                <td><span class=class>{text}</span></td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any()
                }}
            </section>
        </div>
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use super::{CHART_ID, LIVE_URL};
    use crate::app::islands::echarts::{clock, draw, follow, when_loaded};
    use crate::app::system_types::{SystemSnapshot, SystemView};
    use leptos::prelude::*;

    pub fn start(
        chart: String,
        snap: RwSignal<SystemSnapshot>,
        set_drawn: WriteSignal<bool>,
        set_status: WriteSignal<String>,
    ) {
        when_loaded(move || {
            let Some(charts) = draw([(CHART_ID, chart.as_str())]) else {
                return;
            };
            set_drawn.set(true);
            follow(LIVE_URL, "system", set_status, move |data| {
                let Ok(update) = serde_json::from_str::<SystemView>(&data) else {
                    return;
                };
                if let Some(c) = charts.first() {
                    c.show(&update.chart);
                }
                let at = clock(update.snapshot.at);
                snap.set(update.snapshot);
                set_status.set(format!("Live: updated every 2 s, as of {at} UTC"));
            });
        });
    }
}
