//! A bulk operation's progress bar: the counts rendered on the server (so the page is right
//! without JavaScript, where a Reload link takes over), then kept current from
//! `/keys/bulk/{id}/live` (server-sent events); once the operation is over the page reloads
//! to show each key's result.

use leptos::prelude::*;

/// "120 of 10000 processed (3 failed) · running".
pub fn progress_text(total: i64, done: i64, failed: i64, status: &str) -> String {
    format!(
        "{} of {total} processed ({failed} failed) · {status}",
        done + failed
    )
}

#[island]
pub fn BulkProgress(id: i64, total: i64, done: i64, failed: i64, status: String) -> impl IntoView {
    // A finished operation's page already shows its results: nothing to follow.
    let running = status == "queued" || status == "running";
    let counts = RwSignal::new((done, failed, status));
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if running {
            browser::follow(id, counts);
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (id, running);
    let text = move || counts.with(|(d, f, s)| progress_text(total, *d, *f, s));
    view! {
        <div role="status" aria-live="polite">
            <label for="bulk-progress" data-testid="bulk-progress-text">{text}</label>
            <progress id="bulk-progress" max=total.max(1) value=move || counts.with(|(d, f, _)| d + f)></progress>
        </div>
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use crate::app::islands::echarts::listen;
    use leptos::prelude::*;
    use wasm_bindgen::JsCast;

    #[derive(serde::Deserialize)]
    struct Progress {
        done: i64,
        failed: i64,
        status: String,
    }

    pub fn follow(id: i64, counts: RwSignal<(i64, i64, String)>) {
        let Ok(source) = web_sys::EventSource::new(&format!("/keys/bulk/{id}/live")) else {
            return;
        };
        let stream = source.clone();
        listen(&source, "progress", move |e| {
            let data = e
                .dyn_ref::<web_sys::MessageEvent>()
                .and_then(|m| m.data().as_string());
            let Some(p) = data.and_then(|d| serde_json::from_str::<Progress>(&d).ok()) else {
                return;
            };
            let over = p.status == "done" || p.status == "failed";
            counts.set((p.done, p.failed, p.status));
            if over {
                stream.close();
                // The per-key results are drawn by the server: show them.
                if let Some(w) = web_sys::window() {
                    let _ = w.location().reload();
                }
            }
        });
    }
}
