//! What the chart islands share in the browser: the vendored ECharts (loaded by a deferred
//! `<script>` that may finish after hydration), drawing server-built options into
//! containers, and following a server-sent event stream.

use leptos::prelude::*;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use super::ECHARTS_SCRIPT_ID;
#[wasm_bindgen]
extern "C" {
    pub type ECharts;
    #[wasm_bindgen(catch, js_namespace = echarts, js_name = init)]
    fn init(dom: &web_sys::Element) -> Result<ECharts, JsValue>;
    #[wasm_bindgen(method, js_name = setOption)]
    fn set_option(this: &ECharts, option: &JsValue, not_merge: bool);
    #[wasm_bindgen(method)]
    fn resize(this: &ECharts);
}

impl ECharts {
    /// Replaces the chart's options with `json` (an ECharts option object).
    pub fn show(&self, json: &str) {
        if let Ok(option) = js_sys::JSON::parse(json) {
            self.set_option(&option, true);
        }
    }
}

fn echarts_loaded(window: &web_sys::Window) -> bool {
    js_sys::Reflect::get(window, &JsValue::from_str("echarts")).is_ok_and(|v| !v.is_undefined())
}

/// Runs `f` on `target`'s `event` for as long as the page lives (islands do not unmount:
/// every page is a full load).
pub fn listen(target: &web_sys::EventTarget, event: &str, f: impl FnMut(web_sys::Event) + 'static) {
    let closure = Closure::<dyn FnMut(web_sys::Event)>::new(f);
    let _ = target.add_event_listener_with_callback(event, closure.as_ref().unchecked_ref());
    closure.forget();
}

/// Runs `run` once ECharts is there: now, or when its script has loaded.
pub fn when_loaded(run: impl FnOnce() + 'static) {
    let Some(window) = web_sys::window() else {
        return;
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

/// Draws each `(container id, options JSON)`; resizes them with the window. None if a
/// container is missing or ECharts refuses one.
pub fn draw<'a>(charts: impl IntoIterator<Item = (&'a str, &'a str)>) -> Option<Rc<Vec<ECharts>>> {
    let document = web_sys::window()?.document()?;
    let mut drawn = Vec::new();
    for (id, option) in charts {
        let chart = init(&document.get_element_by_id(id)?).ok()?;
        chart.show(option);
        drawn.push(chart);
    }
    let drawn = Rc::new(drawn);
    let resized = drawn.clone();
    if let Some(window) = web_sys::window() {
        listen(&window, "resize", move |_| {
            resized.iter().for_each(|c| c.resize())
        });
    }
    Some(drawn)
}

/// Opens a server-sent event stream at `url` and hands each `event`'s data to `on_data`;
/// `set_status` hears when the stream is interrupted (the browser reconnects) or closed.
/// Returns the stream, for more listeners.
pub fn follow(
    url: &str,
    event: &str,
    set_status: WriteSignal<String>,
    mut on_data: impl FnMut(String) + 'static,
) -> Option<web_sys::EventSource> {
    let source = web_sys::EventSource::new(url).ok()?;
    set_status.set("Connecting to live updates…".into());
    listen(&source, event, move |e| {
        if let Some(data) = e
            .dyn_ref::<web_sys::MessageEvent>()
            .and_then(|m| m.data().as_string())
        {
            on_data(data);
        }
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
    Some(source)
}

/// `HH:MM:SS` of a UTC time, for status lines.
pub fn clock(t: time::OffsetDateTime) -> String {
    format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
}
