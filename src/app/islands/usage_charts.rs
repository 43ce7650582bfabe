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
/// The `<script>` that loads ECharts (the page renders it; it may finish after hydration).
pub const ECHARTS_SCRIPT_ID: &str = "echarts-script";

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
    use super::{CHARTS, ChartOptions, ECHARTS_SCRIPT_ID};
    use crate::app::usage_types::UsageLive;
    use leptos::prelude::*;
    use std::rc::Rc;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen]
    extern "C" {
        type ECharts;
        #[wasm_bindgen(catch, js_namespace = echarts, js_name = init)]
        fn init(dom: &web_sys::Element) -> Result<ECharts, JsValue>;
        #[wasm_bindgen(method, js_name = setOption)]
        fn set_option(this: &ECharts, option: &JsValue, not_merge: bool);
        #[wasm_bindgen(method)]
        fn resize(this: &ECharts);
    }

    fn echarts_loaded(window: &web_sys::Window) -> bool {
        js_sys::Reflect::get(window, &JsValue::from_str("echarts")).is_ok_and(|v| !v.is_undefined())
    }

    /// Runs `f` on `target`'s `event` for as long as the page lives (islands do not unmount:
    /// every page is a full load).
    fn listen(target: &web_sys::EventTarget, event: &str, f: impl FnMut(web_sys::Event) + 'static) {
        let closure = Closure::<dyn FnMut(web_sys::Event)>::new(f);
        let _ = target.add_event_listener_with_callback(event, closure.as_ref().unchecked_ref());
        closure.forget();
    }

    pub fn start(
        options: ChartOptions,
        live: Option<String>,
        set_drawn: WriteSignal<bool>,
        set_status: WriteSignal<String>,
    ) {
        let Some(window) = web_sys::window() else {
            return;
        };
        let run = move || {
            if let Some(charts) = draw(&options) {
                set_drawn.set(true);
                follow(charts, live.clone(), set_status);
            }
        };
        if echarts_loaded(&window) {
            run();
            return;
        }
        let script = window
            .document()
            .and_then(|d| d.get_element_by_id(ECHARTS_SCRIPT_ID));
        if let Some(script) = script {
            let mut run = Some(run);
            listen(&script, "load", move |_| {
                if let Some(run) = run.take() {
                    run();
                }
            });
        }
    }

    fn draw(options: &ChartOptions) -> Option<Rc<Vec<ECharts>>> {
        let document = web_sys::window()?.document()?;
        let mut charts = Vec::new();
        for ((id, _), option) in CHARTS.iter().zip(options.options()) {
            let el = document.get_element_by_id(id)?;
            let chart = init(&el).ok()?;
            chart.set_option(&js_sys::JSON::parse(option).ok()?, true);
            charts.push(chart);
        }
        let charts = Rc::new(charts);
        let resized = charts.clone();
        if let Some(window) = web_sys::window() {
            listen(&window, "resize", move |_| {
                resized.iter().for_each(|c| c.resize())
            });
        }
        Some(charts)
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
        let Ok(source) = web_sys::EventSource::new(&url) else {
            return;
        };
        set_status.set("Connecting to live updates…".into());
        listen(&source, "usage", move |event| {
            let Some(data) = event
                .dyn_ref::<web_sys::MessageEvent>()
                .and_then(|m| m.data().as_string())
            else {
                return;
            };
            let Ok(update) = serde_json::from_str::<UsageLive>(&data) else {
                return;
            };
            for (chart, option) in charts.iter().zip(update.charts.options()) {
                if let Ok(option) = js_sys::JSON::parse(option) {
                    chart.set_option(&option, true);
                }
            }
            set_status.set(format!(
                "Live: {} in this range ({}), as of {:02}:{:02}:{:02} UTC",
                count(update.requests, "request"),
                count(update.errors, "error"),
                update.at.hour(),
                update.at.minute(),
                update.at.second()
            ));
        });
        listen(&source, "usage-error", move |_| {
            set_status.set("Live updates stopped: reload the page to try again.".into());
        });
        let watched = source.clone();
        listen(&source, "error", move |_| {
            // CONNECTING: the browser retries by itself; CLOSED: it gave up (signed out).
            let text = if watched.ready_state() == web_sys::EventSource::CLOSED {
                "Live updates stopped: reload the page to try again."
            } else {
                "Live updates interrupted; reconnecting…"
            };
            set_status.set(text.into());
        });
    }
}
