//! The usage page's charts: draws the server-built ECharts options with the vendored ECharts
//! and, for a rolling range, keeps them current from `/usage/live` (server-sent events)
//! without a reload. Without JavaScript the page's table carries the same figures.

use leptos::prelude::*;

use crate::app::usage_types::UsageCharts as ChartOptions;

/// The chart containers: id and caption, in the order of [`ChartOptions::options`].
const CHARTS: [(&str, &str); 5] = [
    ("chart-requests", "Requests by outcome, and error rate"),
    ("chart-latency", "Latency percentiles"),
    ("chart-keys", "Busiest keys"),
    ("chart-endpoints", "Busiest routes"),
    ("chart-ips", "Busiest client IPs"),
];

#[island]
pub fn UsageCharts(
    charts: ChartOptions,
    /// The live updates' URL; none for a range that has ended.
    live: Option<String>,
) -> impl IntoView {
    let (drawn, set_drawn) = signal(false);
    let (status, set_status) = signal(String::new());
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| browser::start(charts.clone(), live.clone(), set_drawn, set_status));
    #[cfg(not(feature = "hydrate"))]
    let _ = (&charts, &live, set_drawn, set_status);
    let fallback = move || {
        (!drawn.get()).then(|| {
            view! { <p class="chart-fallback muted">"Charts need JavaScript; the table below has the same figures."</p> }
        })
    };
    view! {
        <div class="charts">
            {CHARTS.iter().map(|(id, caption)| {
                let caption_id = format!("{id}-caption");
                view! {
                    <figure class="chart-figure">
                        <figcaption id=caption_id.clone()>{*caption}</figcaption>
                        <div id=*id class="chart" role="img" aria-labelledby=caption_id>{fallback}</div>
                    </figure>
                }
            }).collect_view()}
            <p class="muted live-status" aria-live="polite" data-testid="live-status">{status}</p>
        </div>
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use super::{CHARTS, ChartOptions};
    use crate::app::islands::echarts::{
        ECharts, clock, draw, follow as follow_stream, listen, when_loaded,
    };
    use crate::app::usage_types::UsageLive;
    use leptos::prelude::*;
    use std::rc::Rc;

    pub fn start(
        options: ChartOptions,
        live: Option<String>,
        set_drawn: WriteSignal<bool>,
        set_status: WriteSignal<String>,
    ) {
        when_loaded(move || {
            let ids = CHARTS.iter().map(|(id, _)| *id);
            if let Some(charts) = draw(ids.zip(options.options())) {
                set_drawn.set(true);
                follow(charts, live, set_status);
            }
        });
    }

    fn count(n: i64, noun: &str) -> String {
        if n == 1 {
            format!("1 {noun}")
        } else {
            format!("{n} {noun}s")
        }
    }

    /// Applies each live update to the charts; says in the status line how current they are.
    fn follow(charts: Rc<Vec<ECharts>>, live: Option<String>, set_status: WriteSignal<String>) {
        let Some(url) = live else { return };
        let source = follow_stream(&url, "usage", set_status, move |data| {
            let Ok(update) = serde_json::from_str::<UsageLive>(&data) else {
                return;
            };
            for (chart, option) in charts.iter().zip(update.charts.options()) {
                chart.show(option);
            }
            set_status.set(format!(
                "Live: {} in this range ({}), as of {} UTC",
                count(update.requests, "request"),
                count(update.errors, "error"),
                clock(update.at)
            ));
        });
        if let Some(source) = source {
            listen(&source, "usage-error", move |_| {
                set_status.set("Live updates stopped: reload the page to try again.".into());
            });
        }
    }
}
