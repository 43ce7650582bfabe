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

/// A filter field: name, label, input type, placeholder.
type Field = (&'static str, &'static str, &'static str, &'static str);

const FROM: Field = ("from", "From (UTC)", "datetime-local", "");
const TO: Field = ("to", "To (UTC)", "datetime-local", "");

/// The values of `fields` in this page's URL, in that order ("" when absent).
fn filters_of(fields: &[Field]) -> Vec<(&'static str, String)> {
    let query = use_query_map().get_untracked();
    fields
        .iter()
        .map(|(n, ..)| (*n, query.get(n).unwrap_or_default().trim().to_string()))
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

/// The GET form of a viewer's filters, filled from its URL; "Clear" drops them all.
#[component]
fn FilterForm(
    action: &'static str,
    label: &'static str,
    fields: Vec<Field>,
    filters: Vec<(&'static str, String)>,
) -> impl IntoView {
    view! {
        <form class="form" method="get" action=action role="search" aria-label=label>
            <div class="field-row">
                {fields.into_iter().map(|(name, text, kind, placeholder)| view! {
                    <div class="field">
                        <label for=name>{text}</label>
                        <input id=name name=name type=kind value=value_of(&filters, name) placeholder=placeholder maxlength="200"/>
                    </div>
                }).collect_view()}
            </div>
            <div class="form-actions">
                <button class="btn btn-secondary" type="submit">"Filter"</button>
                <a class="btn btn-ghost" href=action>"Clear"</a>
            </div>
        </form>
    }
}

/// The empty state of a filtered viewer.
#[component]
fn NoMatch(what: &'static str) -> impl IntoView {
    view! {
        <div class="empty-state">
            <h3>{format!("No {what} match")}</h3>
            <p>"Widen the time range or clear a filter."</p>
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
    let fields = vec![
        ("actor_id", "Actor (user id)", "number", ""),
        ("action", "Action", "text", "user.suspended"),
        ("target", "Target", "text", "user or user:7"),
        FROM,
        TO,
    ];
    let filters = filters_of(&fields);
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
    view! {
        <Title text="Audit log"/>
        <Shell user=Some(user)>
            <PageHeader title="Audit log" subtitle="Every change an admin or a user made, newest first. Times are UTC.".to_string()>
                <a class="btn btn-ghost" href="/admin">"Users"</a>
                <a class="btn btn-secondary" href="/admin/security">"Security events"</a>
                <a class="btn btn-secondary" href=export download="audit-log.csv">"Export CSV"</a>
            </PageHeader>
            <section class="card">
                <FilterForm action="/admin/audit" label="Filter the audit log" fields=fields filters=filters/>
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
        return view! { <NoMatch what="audit records"/> }.into_any();
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
    let fields = vec![
        ("user", "User id", "number", ""),
        ("kind", "Kind", "text", "auth.sign_in_failed"),
        FROM,
        TO,
    ];
    let filters = filters_of(&fields);
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
    view! {
        <Title text="Security events"/>
        <Shell user=Some(user)>
            <PageHeader title="Security events" subtitle="Sign-in failures, two-factor changes, suspensions and rate-limit escalations, newest first. Times are UTC.".to_string()>
                <a class="btn btn-ghost" href="/admin">"Users"</a>
                <a class="btn btn-secondary" href="/admin/audit">"Audit log"</a>
            </PageHeader>
            <section class="card">
                <FilterForm action="/admin/security" label="Filter security events" fields=fields filters=filters/>
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
        return view! { <NoMatch what="security events"/> }.into_any();
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
