//! The key page's usage card: the last 24 hours in figures, with a way to the charts.

use crate::app::components::Stat;
use crate::app::format::{latency_ms as ms, percent};
use crate::app::server_fns::usage::key_usage_day;
use leptos::prelude::*;

#[component]
pub fn KeyUsageCard(id: i64) -> impl IntoView {
    let report = Resource::new(move || id, key_usage_day);
    view! {
        <section class="card" aria-labelledby="key-usage">
            <div class="card-header">
                <h2 id="key-usage">"Usage, last 24 hours"</h2>
                <a class="btn btn-ghost" href=format!("/usage?key={id}")>"Charts and breakdown"</a>
            </div>
            <Suspense fallback=|| view! { <p class="muted">"Loading usage…"</p> }>
                {move || report.get().map(|result| match result {
                    Ok(r) if r.total.requests == 0 => view! {
                        <p class="muted">"No calls in the last 24 hours. Verifications and gateway calls with this key show up here within a second."</p>
                    }.into_any(),
                    Ok(r) => {
                        let t = r.total;
                        let errors = format!("{} of calls", percent(t.errors, t.requests));
                        view! {
                            <div class="grid" data-testid="key-usage">
                                <Stat label="Requests" value=t.requests.to_string()/>
                                <Stat label="Errors" value=t.errors.to_string() hint=errors/>
                                <Stat label="Rate limited" value=t.rate_limited.to_string()/>
                                <Stat label="Latency p95" value=ms(t.p95_latency_ms)/>
                            </div>
                        }.into_any()
                    }
                    Err(e) => view! { <div class="alert alert-error" role="alert">{e.detail}</div> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}
