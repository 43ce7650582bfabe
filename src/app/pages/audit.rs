//! /admin/audit and /admin/security: the audit log and security events viewers (admins), with
//! their filters in the URL (plain GET forms), pagination and the audit log's CSV export.

use super::{page_param, signed_in_admin};
use crate::app::admin_types::{AuditPage, AuditRecord, SecurityEventPage};
use crate::app::components::PageHeader;
use crate::app::format;
use crate::app::layout::Shell;
use crate::app::server_fns::admin_console::{admin_audit_log, admin_security_events};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// `?a=1&b=2` of the non-empty pairs ("" when none).
pub fn query_string(pairs: &[(&str, String)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", format::url_encode(v, false)))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

/// The values of `names` in this page's URL, in that order ("" when absent).
fn filters_of<const N: usize>(names: [&'static str; N]) -> Vec<(&'static str, String)> {
    let query = use_query_map().get_untracked();
    names
        .into_iter()
        .map(|n| (n, query.get(n).unwrap_or_default().trim().to_string()))
        .collect()
}

/// "N records · page x of y" with previous/next links that keep the filters.
#[component]
fn Pager(
    base: &'static str,
    filters: Vec<(&'static str, String)>,
    total: i64,
    page: i64,
    per_page: i64,
    noun: &'static str,
) -> impl IntoView {
    let pages = ((total + per_page - 1) / per_page).max(1);
    let link = move |p: i64| {
        let mut pairs = filters.clone();
        pairs.push(("page", p.to_string()));
        format!("{base}{}", query_string(&pairs))
    };
    let prev = (page > 1).then(|| link(page - 1));
    let next = (page < pages).then(|| link(page + 1));
    view! {
        <nav class="row" aria-label="Pagination">
            <span class="muted">{format!("{total} {noun}{} · page {page} of {pages}", if total == 1 { "" } else { "s" })}</span>
            {prev.map(|href| view! { <a class="btn btn-ghost" href=href>"← Previous"</a> })}
            {next.map(|href| view! { <a class="btn btn-ghost" href=href>"Next →"</a> })}
        </nav>
    }
}

/// One labelled filter field of a GET form.
#[component]
fn FilterField(
    name: &'static str,
    label: &'static str,
    value: String,
    #[prop(optional)] kind: Option<&'static str>,
    #[prop(optional)] placeholder: &'static str,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=name>{label}</label>
            <input id=name name=name type=kind.unwrap_or("text") value=value placeholder=placeholder maxlength="200"/>
        </div>
    }
}

fn value_of(filters: &[(&'static str, String)], name: &str) -> String {
    filters
        .iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

/// Audit records as a table (the viewer and a user's page).
#[component]
pub fn AuditTable(items: Vec<AuditRecord>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="table">
                <thead><tr><th scope="col">"When"</th><th scope="col">"Actor"</th><th scope="col">"Action"</th><th scope="col">"Target"</th><th scope="col">"Before"</th><th scope="col">"After"</th><th scope="col">"From"</th></tr></thead>
                <tbody>
                    {items.into_iter().map(|r| {
                        let target = match r.target_id {
                            Some(id) => format!("{}:{id}", r.target_type),
                            None => r.target_type.clone(),
                        };
                        let actor = r.actor_id.map(|a| view! { <a href=format!("/admin/users/{a}")>{format!("#{a}")}</a> }.into_any())
                            .unwrap_or_else(|| view! { <span class="muted">"system"</span> }.into_any());
                        view! {
                            <tr>
                                <td>{format::datetime(r.created_at)}</td>
                                <td>{actor}</td>
                                <td class="mono">{r.action}</td>
                                <td class="mono">{target}</td>
                                <td class="mono">{r.old_values.unwrap_or_default()}</td>
                                <td class="mono">{r.new_values.unwrap_or_default()}</td>
                                <td class="mono" title=r.user_agent>{r.ip}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
pub fn AuditLogPage() -> impl IntoView {
    let user = match signed_in_admin() {
        Ok(user) => user,
        Err(instead) => return instead,
    };
    let filters = filters_of(["actor_id", "action", "target", "from", "to"]);
    let page = page_param(&use_query_map().get_untracked());
    let export = format!("/api/v1/audit-log/export.csv{}", query_string(&filters));
    let data = Resource::new(
        {
            let f = filters.clone();
            move || (f.clone(), page)
        },
        |(f, page)| {
            let v = |n: &str| value_of(&f, n);
            admin_audit_log(
                v("actor_id"),
                v("action"),
                v("target"),
                v("from"),
                v("to"),
                page,
            )
        },
    );
    let shown = filters.clone();
    let v = move |n: &str| value_of(&filters, n);
    view! {
        <Title text="Audit log"/>
        <Shell user=Some(user)>
            <PageHeader title="Audit log" subtitle="Every change an admin or a user made, newest first. Times are UTC.".to_string()>
                <a class="btn btn-ghost" href="/admin">"Users"</a>
                <a class="btn btn-secondary" href="/admin/security">"Security events"</a>
                <a class="btn btn-secondary" href=export download="audit-log.csv">"Export CSV"</a>
            </PageHeader>
            <section class="card">
                <form class="form" method="get" action="/admin/audit" role="search" aria-label="Filter the audit log">
                    <div class="field-row">
                        <FilterField name="actor_id" label="Actor (user id)" value=v("actor_id") kind="number"/>
                        <FilterField name="action" label="Action" value=v("action") placeholder="user.suspended"/>
                        <FilterField name="target" label="Target" value=v("target") placeholder="user or user:7"/>
                        <FilterField name="from" label="From (UTC)" value=v("from") kind="datetime-local"/>
                        <FilterField name="to" label="To (UTC)" value=v("to") kind="datetime-local"/>
                    </div>
                    <div class="form-actions">
                        <button class="btn btn-secondary" type="submit">"Filter"</button>
                        <a class="btn btn-ghost" href="/admin/audit">"Clear"</a>
                    </div>
                </form>
                <Suspense fallback=|| view! { <p class="muted">"Loading the audit log…"</p> }>
                    {move || data.get().map(|result| match result {
                        Ok(list) => view! { <AuditResults list=list filters=shown.clone()/> }.into_any(),
                        Err(e) => view! { <div class="alert alert-error" role="alert">{e.detail}</div> }.into_any(),
                    })}
                </Suspense>
            </section>
        </Shell>
    }
    .into_any()
}

#[component]
fn AuditResults(list: AuditPage, filters: Vec<(&'static str, String)>) -> impl IntoView {
    if list.items.is_empty() {
        return view! {
            <div class="empty-state">
                <h3>"No audit records match"</h3>
                <p>"Widen the time range or clear a filter."</p>
            </div>
        }
        .into_any();
    }
    view! {
        <AuditTable items=list.items/>
        <Pager base="/admin/audit" filters=filters total=list.total page=list.page per_page=list.per_page noun="record"/>
    }
    .into_any()
}

#[component]
pub fn SecurityEventsPage() -> impl IntoView {
    let user = match signed_in_admin() {
        Ok(user) => user,
        Err(instead) => return instead,
    };
    let filters = filters_of(["user", "kind", "from", "to"]);
    let page = page_param(&use_query_map().get_untracked());
    let data = Resource::new(
        {
            let f = filters.clone();
            move || (f.clone(), page)
        },
        |(f, page)| {
            let v = |n: &str| value_of(&f, n);
            admin_security_events(v("user"), v("kind"), v("from"), v("to"), page)
        },
    );
    let shown = filters.clone();
    let v = move |n: &str| value_of(&filters, n);
    view! {
        <Title text="Security events"/>
        <Shell user=Some(user)>
            <PageHeader title="Security events" subtitle="Sign-in failures, two-factor changes, suspensions and rate-limit escalations, newest first. Times are UTC.".to_string()>
                <a class="btn btn-ghost" href="/admin">"Users"</a>
                <a class="btn btn-secondary" href="/admin/audit">"Audit log"</a>
            </PageHeader>
            <section class="card">
                <form class="form" method="get" action="/admin/security" role="search" aria-label="Filter security events">
                    <div class="field-row">
                        <FilterField name="user" label="User id" value=v("user") kind="number"/>
                        <FilterField name="kind" label="Kind" value=v("kind") placeholder="auth.sign_in_failed"/>
                        <FilterField name="from" label="From (UTC)" value=v("from") kind="datetime-local"/>
                        <FilterField name="to" label="To (UTC)" value=v("to") kind="datetime-local"/>
                    </div>
                    <div class="form-actions">
                        <button class="btn btn-secondary" type="submit">"Filter"</button>
                        <a class="btn btn-ghost" href="/admin/security">"Clear"</a>
                    </div>
                </form>
                <Suspense fallback=|| view! { <p class="muted">"Loading security events…"</p> }>
                    {move || data.get().map(|result| match result {
                        Ok(list) => view! { <SecurityResults list=list filters=shown.clone()/> }.into_any(),
                        Err(e) => view! { <div class="alert alert-error" role="alert">{e.detail}</div> }.into_any(),
                    })}
                </Suspense>
            </section>
        </Shell>
    }
    .into_any()
}

#[component]
fn SecurityResults(list: SecurityEventPage, filters: Vec<(&'static str, String)>) -> impl IntoView {
    if list.items.is_empty() {
        return view! {
            <div class="empty-state">
                <h3>"No security events match"</h3>
                <p>"Widen the time range or clear a filter."</p>
            </div>
        }
        .into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="table">
                <thead><tr><th scope="col">"When"</th><th scope="col">"Kind"</th><th scope="col">"Subject"</th><th scope="col">"User"</th><th scope="col">"Detail"</th><th scope="col">"IP"</th></tr></thead>
                <tbody>
                    {list.items.into_iter().map(|e| view! {
                        <tr>
                            <td>{format::datetime(e.created_at)}</td>
                            <td class="mono">{e.kind}</td>
                            <td class="mono">{format!("{}: {}", e.subject_type, e.subject)}</td>
                            <td>{e.user_id.map(|u| view! { <a href=format!("/admin/users/{u}")>{format!("#{u}")}</a> })}</td>
                            <td class="mono">{e.detail}</td>
                            <td class="mono">{e.ip}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        <Pager base="/admin/security" filters=filters total=list.total page=list.page per_page=list.per_page noun="event"/>
    }
    .into_any()
}
