//! Usage: requests, errors and latency of the caller's keys (admins: all) over a range kept
//! in the URL, as figures and a table that need no JavaScript.

use super::signed_in_user;
use crate::app::components::{PageHeader, Stat};
use crate::app::format::{self, latency_ms as ms, percent};
use crate::app::islands::ECHARTS_SCRIPT_ID;
use crate::app::islands::usage_charts::UsageCharts;
use crate::app::layout::Shell;
use crate::app::pages::usage_breakdown::BreakdownTables;
use crate::app::server_fns::usage::{PRESETS, load_usage};
use crate::app::usage_types::{UsageBucket, UsageView};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// What the URL asks for.
#[derive(Clone, Debug, Default, PartialEq)]
struct Selection {
    range: String,
    from: String,
    to: String,
    key: Option<i64>,
}

impl Selection {
    fn is_custom(&self) -> bool {
        !self.from.trim().is_empty()
    }

    /// The page's URL for a preset, keeping the key filter.
    fn preset_href(&self, preset: &str) -> String {
        match self.key {
            Some(k) => format!("/usage?range={preset}&key={k}"),
            None => format!("/usage?range={preset}"),
        }
    }

    /// Live updates are for ranges that end now (the presets); a custom range has ended, or
    /// will be read again on reload.
    fn live_url(&self) -> Option<String> {
        if self.is_custom() {
            return None;
        }
        let range = format::url_encode(&self.range, false);
        Some(match self.key {
            Some(k) => format!("/usage/live?range={range}&key={k}"),
            None => format!("/usage/live?range={range}"),
        })
    }
}

#[component]
pub fn UsagePage() -> impl IntoView {
    let Some(user) = signed_in_user() else {
        return ().into_any();
    };
    let q = use_query_map().get_untracked();
    let sel = Selection {
        range: q.get("range").unwrap_or_else(|| "24h".to_string()),
        from: q.get("from").unwrap_or_default(),
        to: q.get("to").unwrap_or_default(),
        key: q.get("key").and_then(|k| k.trim().parse().ok()),
    };
    let load = sel.clone();
    let report = Resource::new(
        move || load.clone(),
        |s| load_usage(s.range, s.from, s.to, s.key),
    );
    let subtitle = match (sel.key, user.role.is_admin()) {
        (Some(k), _) => format!("Key #{k}"),
        (None, true) => "Every key on this instance".to_string(),
        (None, false) => "All of your keys".to_string(),
    };
    view! {
        <Title text="Usage"/>
        <Shell user=Some(user)>
            <PageHeader title="Usage" subtitle=subtitle/>
            <RangePicker sel=sel.clone()/>
            <script id=ECHARTS_SCRIPT_ID src="/vendor/echarts/echarts.min.js" defer></script>
            <Suspense fallback=|| view! { <p class="muted">"Loading usage…"</p> }>
                {move || report.get().map(|result| match result {
                    Ok(data) => view! { <UsageBody data live=sel.live_url()/> }.into_any(),
                    Err(e) => view! { <div class="alert alert-error" role="alert">{e.detail}</div> }.into_any(),
                })}
            </Suspense>
        </Shell>
    }
    .into_any()
}

#[component]
fn RangePicker(sel: Selection) -> impl IntoView {
    let custom = sel.is_custom();
    let key = sel.key.map(|k| k.to_string());
    view! {
        <nav class="card range-picker" aria-label="Time range">
            <ul class="tabs">
                {PRESETS.iter().map(|(id, label)| {
                    let current = !custom && sel.range == *id;
                    view! {
                        <li><a href=sel.preset_href(id) aria-current=current.then_some("page")>{*label}</a></li>
                    }
                }).collect_view()}
            </ul>
            <form method="get" action="/usage" class="inline-form">
                {key.map(|k| view! { <input type="hidden" name="key" value=k/> })}
                <label for="usage-from">"From (UTC)"</label>
                <input id="usage-from" name="from" type="datetime-local" value=sel.from.clone() required/>
                <label for="usage-to">"To (UTC)"</label>
                <input id="usage-to" name="to" type="datetime-local" value=sel.to.clone()/>
                <button type="submit" class="btn btn-ghost">"Show range"</button>
            </form>
        </nav>
    }
}

#[component]
fn UsageBody(data: UsageView, live: Option<String>) -> impl IntoView {
    let UsageView {
        report,
        breakdown,
        charts,
    } = data;
    let t = report.total.clone();
    let range = format!(
        "{} – {} (by {})",
        format::datetime(report.from),
        format::datetime(report.to),
        report.granularity
    );
    let busy: Vec<UsageBucket> = report
        .buckets
        .iter()
        .filter(|b| b.requests > 0)
        .cloned()
        .collect();
    view! {
        <section class="card" aria-labelledby="usage-totals">
            <h2 id="usage-totals">"In this range"</h2>
            <p class="muted">{range}</p>
            <div class="grid">
                <Stat label="Requests" value=t.requests.to_string()/>
                <Stat label="Errors" value=t.errors.to_string() hint=percent(t.errors, t.requests)/>
                <Stat label="Rate limited" value=t.rate_limited.to_string()/>
                <Stat label="Latency p95" value=ms(t.p95_latency_ms) hint=format!("p50 {}, p99 {}", ms(t.p50_latency_ms), ms(t.p99_latency_ms))/>
            </div>
        </section>
        <section class="card" aria-labelledby="usage-charts">
            <h2 id="usage-charts">"Charts"</h2>
            <UsageCharts charts live/>
        </section>
        <section class="card" aria-labelledby="usage-buckets">
            <h2 id="usage-buckets">"Over time"</h2>
            {if busy.is_empty() {
                view! {
                    <div class="empty-state"><h3>"No requests in this range"</h3><p>"Calls to "<code>"POST /api/v1/keys/verify"</code>" and through the gateway show up here within a second."</p></div>
                }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table class="table">
                            <caption class="sr-only">"Requests per bucket (buckets without requests are left out)"</caption>
                            <thead><tr>
                                <th scope="col">"From (UTC)"</th>
                                <th scope="col" class="num">"Requests"</th>
                                <th scope="col" class="num">"Errors"</th>
                                <th scope="col" class="num">"Rate limited"</th>
                                <th scope="col" class="num">"p50"</th>
                                <th scope="col" class="num">"p95"</th>
                                <th scope="col" class="num">"p99"</th>
                            </tr></thead>
                            <tbody>
                                {busy.into_iter().map(|b| view! {
                                    <tr>
                                        <td>{format::datetime(b.start)}</td>
                                        <td class="num">{b.requests}</td>
                                        <td class="num">{b.errors}</td>
                                        <td class="num">{b.rate_limited}</td>
                                        <td class="num">{ms(b.p50_latency_ms)}</td>
                                        <td class="num">{ms(b.p95_latency_ms)}</td>
                                        <td class="num">{ms(b.p99_latency_ms)}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        </section>
        <BreakdownTables breakdown total=t.requests/>
    }
}
