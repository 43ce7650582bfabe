//! The usage page's breakdown tables: requests by outcome, and the busiest keys, routes and
//! client IPs.
//! They are the charts' figures for browsers without JavaScript and for screen readers.

use crate::app::format::percent as share;
use crate::app::usage_types::{NO_ROUTE, TopEntry, UNKNOWN_IP, UsageBreakdown};
use leptos::prelude::*;

#[component]
pub fn BreakdownTables(breakdown: UsageBreakdown, total: i64) -> impl IntoView {
    if breakdown.outcomes.is_empty() {
        return ().into_any();
    }
    view! {
        <section class="card" aria-labelledby="usage-breakdown">
            <h2 id="usage-breakdown">"Breakdown"</h2>
            <div class="breakdown">
                <div class="table-wrap">
                    <table class="table">
                        <caption>"By outcome"</caption>
                        <thead><tr>
                            <th scope="col">"Outcome"</th>
                            <th scope="col" class="num">"Requests"</th>
                            <th scope="col" class="num">"Share"</th>
                        </tr></thead>
                        <tbody>
                            {breakdown.outcomes.into_iter().map(|o| view! {
                                <tr>
                                    <td><code>{o.code}</code></td>
                                    <td class="num">{o.total}</td>
                                    <td class="num">{share(o.total, total)}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
                <TopTable caption="Busiest keys" what="Key" entries=breakdown.top_keys/>
                <TopTable caption="Busiest routes" what="Route" entries=breakdown.top_endpoints/>
                <TopTable caption="Busiest client IPs" what="Client IP" entries=breakdown.top_ips/>
            </div>
            {breakdown.ips_note.map(|note| view! { <p class="muted" data-testid="ips-note">{note}</p> })}
        </section>
    }
    .into_any()
}

#[component]
fn TopTable(caption: &'static str, what: &'static str, entries: Vec<TopEntry>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="table">
                <caption>{caption}</caption>
                <thead><tr>
                    <th scope="col">{what}</th>
                    <th scope="col" class="num">"Requests"</th>
                    <th scope="col" class="num">"Errors"</th>
                </tr></thead>
                <tbody>
                    {entries.into_iter().map(|e| {
                        let label = match e.key_id {
                            Some(id) => view! { <a href=format!("/keys/{id}")>{e.label}</a> }.into_any(),
                            None if what != "Key" && e.label != NO_ROUTE && e.label != UNKNOWN_IP => view! { <code>{e.label}</code> }.into_any(),
                            None => view! { <span class="muted">{e.label}</span> }.into_any(),
                        };
                        view! {
                            <tr>
                                <td>{label}</td>
                                <td class="num">{e.requests}</td>
                                <td class="num">{e.errors}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
