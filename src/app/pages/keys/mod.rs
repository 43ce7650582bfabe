//! The keys pages: list, create, detail.

pub mod bulk;
pub mod detail;
pub mod new;
pub mod usage;

use super::signed_in_user;
use crate::app::components::PageHeader;
use crate::app::format;
use crate::app::layout::Shell;
use crate::app::server_fns::keys::{KeyFilters, KeyListPage, keys_page};
use crate::app::types::{ApiKey, KeyStatus};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

pub fn status_badge(status: KeyStatus) -> impl IntoView {
    let (class, label) = match status {
        KeyStatus::Active => ("badge badge-green", "Active"),
        KeyStatus::Revoked => ("badge badge-red", "Revoked"),
        KeyStatus::Expired => ("badge badge-amber", "Expired"),
        KeyStatus::Disabled => ("badge badge-gray", "Disabled"),
    };
    view! { <span class=class>{label}</span> }
}

pub fn masked(key: &ApiKey) -> String {
    format!("{}_…{}", key.prefix, key.last4)
}

pub fn when(t: Option<time::OffsetDateTime>, none: &'static str) -> String {
    t.map(format::datetime).unwrap_or_else(|| none.to_string())
}

#[component]
pub fn KeysPage() -> impl IntoView {
    let Some(user) = signed_in_user() else {
        return ().into_any();
    };
    let query = use_query_map().get_untracked();
    let filters = KeyFilters {
        q: query.get("q").unwrap_or_default(),
        status: query.get("status").unwrap_or_default(),
        tag: query.get("tag").unwrap_or_default(),
        sort: query.get("sort").unwrap_or_default(),
        expires_within: query.get("expires_within").unwrap_or_default(),
        never_used: query.get("never_used").unwrap_or_default(),
        page: query.get("page").and_then(|p| p.parse().ok()).unwrap_or(1),
    };
    let deleted = query.get("deleted").is_some();
    let keys = Resource::new(
        {
            let f = filters.clone();
            move || f.clone()
        },
        keys_page,
    );
    let can_create = user.role != crate::app::types::Role::Viewer;
    let f = filters.clone();
    view! {
        <Title text="API keys"/>
        <Shell user=Some(user)>
            <PageHeader title="API keys" subtitle="Keys your applications use to call APIs behind Keyport.".to_string()>
                {can_create.then(|| view! { <a class="btn btn-primary" href="/keys/new">"Create key"</a> })}
            </PageHeader>
            {deleted.then(|| view! { <div class="alert alert-success" role="status">"Key deleted."</div> })}
            <section class="card">
                <form class="row filters" method="get" action="/keys" role="search">
                    <div class="field">
                        <label for="q">"Search"</label>
                        <input id="q" name="q" type="search" placeholder="Name, prefix or last 4" value=f.q.clone() maxlength="200"/>
                    </div>
                    <div class="field">
                        <label for="status">"Status"</label>
                        <select id="status" name="status">
                            {[("", "Any"), ("active", "Active"), ("disabled", "Disabled"), ("expired", "Expired"), ("revoked", "Revoked")]
                                .into_iter()
                                .map(|(v, l)| view! { <option value=v selected=f.status == v>{l}</option> })
                                .collect_view()}
                        </select>
                    </div>
                    <div class="field">
                        <label for="tag">"Tag"</label>
                        <input id="tag" name="tag" type="text" value=f.tag.clone() maxlength="50"/>
                    </div>
                    <div class="field">
                        <label for="sort">"Sort"</label>
                        <select id="sort" name="sort">
                            {[("-created_at", "Newest"), ("created_at", "Oldest"), ("name", "Name"), ("expires_at", "Expiring soonest"), ("-expires_at", "Expiring latest"), ("-last_used_at", "Recently used"), ("last_used_at", "Least recently used")]
                                .into_iter()
                                .map(|(v, l)| view! { <option value=v selected=f.sort == v>{l}</option> })
                                .collect_view()}
                        </select>
                    </div>
                    <div class="field">
                        <label for="expires_within">"Expires within"</label>
                        <select id="expires_within" name="expires_within">
                            {[("", "Any time"), ("1d", "1 day"), ("7d", "7 days"), ("30d", "30 days")]
                                .into_iter()
                                .map(|(v, l)| view! { <option value=v selected=f.expires_within == v>{l}</option> })
                                .collect_view()}
                        </select>
                    </div>
                    <div class="field">
                        <label><input type="checkbox" name="never_used" value="true" checked=f.never_used == "true"/>" Never used"</label>
                    </div>
                    <div class="form-actions"><button class="btn btn-secondary" type="submit">"Apply"</button></div>
                </form>
                <Suspense fallback=|| view! { <p class="muted">"Loading keys…"</p> }>
                    {move || keys.get().map(|result| match result {
                        Ok(page) => view! { <KeyTable page=page filters=filters.clone() can_create=can_create/> }.into_any(),
                        Err(e) => view! { <div class="alert alert-error" role="alert">{e.detail}</div> }.into_any(),
                    })}
                </Suspense>
            </section>
        </Shell>
    }
    .into_any()
}

#[component]
fn KeyTable(page: KeyListPage, filters: KeyFilters, can_create: bool) -> impl IntoView {
    let filtered = !(filters.q.is_empty() && filters.status.is_empty() && filters.tag.is_empty());
    if page.items.is_empty() {
        return if filtered {
            view! {
                <div class="empty-state">
                    <h3>"No keys match these filters"</h3>
                    <a class="btn btn-secondary" href="/keys">"Clear filters"</a>
                </div>
            }
            .into_any()
        } else {
            view! {
                <div class="empty-state">
                    <h3>"No API keys yet"</h3>
                    <p>"Create a key for each application that calls your APIs, so you can limit and revoke them one by one."</p>
                    {can_create.then(|| view! { <a class="btn btn-primary" href="/keys/new">"Create your first key"</a> })}
                </div>
            }
            .into_any()
        };
    }
    let pages = (page.total + page.per_page - 1) / page.per_page;
    let link = {
        let f = filters.clone();
        move |p: i64| format!("/keys?{}&page={p}", filter_query(&f))
    };
    let filter = filter_query(&filters);
    let total = page.total;
    let prev = (page.page > 1).then(|| link(page.page - 1));
    let next = (page.page < pages).then(|| link(page.page + 1));
    view! {
        <form method="get" action="/keys/bulk" aria-label="Change selected keys">
        {can_create.then(|| view! {
            <div class="row filters">
                <input type="hidden" name="filter" value=filter.clone()/>
                <div class="field">
                    <label><input type="checkbox" name="all" value="1"/>{format!(" Select all {total} matching this filter")}</label>
                </div>
                <div class="field">
                    <label for="bulk-action">"Action"</label>
                    <select id="bulk-action" name="action">
                        {[("revoke", "Revoke"), ("disable", "Disable"), ("enable", "Enable"), ("extend", "Extend expiry"), ("tag", "Add tag"), ("untag", "Remove tag"), ("delete", "Delete")]
                            .into_iter()
                            .map(|(v, l)| view! { <option value=v>{l}</option> })
                            .collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="bulk-expires">"New expiry (extend)"</label>
                    <input id="bulk-expires" name="expires_at" type="date"/>
                </div>
                <div class="field">
                    <label for="bulk-tags">"Tags (add/remove)"</label>
                    <input id="bulk-tags" name="tags" type="text" maxlength="200"/>
                </div>
                <div class="form-actions"><button class="btn btn-secondary" type="submit">"Preview change"</button></div>
            </div>
        })}
        <div class="table-wrap">
            <table class="table">
                <thead>
                    <tr>
                        {can_create.then(|| view! { <th scope="col"><span class="sr-only">"Select"</span></th> })}
                        <th scope="col">"Name"</th><th scope="col">"Key"</th><th scope="col">"Status"</th>
                        <th scope="col">"Scopes"</th><th scope="col">"Tags"</th><th scope="col">"Expires"</th><th scope="col">"Last used"</th>
                    </tr>
                </thead>
                <tbody>
                    {page.items.into_iter().map(|k| {
                        let href = format!("/keys/{}", k.id.0);
                        view! {
                            <tr>
                                {can_create.then(|| view! { <td><input type="checkbox" name="ids" value=k.id.0.to_string() aria-label=format!("Select {}", k.name)/></td> })}
                                <td><a href=href>{k.name.clone()}</a></td>
                                <td class="mono">{masked(&k)}</td>
                                <td>{status_badge(k.status)}</td>
                                <td>{k.scopes.iter().map(|s| view! { <span class="badge badge-gray">{s.clone()}</span>" " }).collect_view()}</td>
                                <td>{k.tags.iter().map(|t| view! { <span class="badge badge-blue">{t.clone()}</span>" " }).collect_view()}</td>
                                <td>{when(k.expires_at, "Never")}</td>
                                <td>{when(k.last_used_at, "Never")}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        </form>
        <nav class="row" aria-label="Pagination">
            <span class="muted">{format!("{} key{} · page {} of {}", page.total, if page.total == 1 { "" } else { "s" }, page.page, pages.max(1))}</span>
            {prev.map(|href| view! { <a class="btn btn-ghost" href=href>"← Previous"</a> })}
            {next.map(|href| view! { <a class="btn btn-ghost" href=href>"Next →"</a> })}
        </nav>
    }
    .into_any()
}

/// The list's filters as a query string (paging left out), for links and bulk selections.
fn filter_query(f: &KeyFilters) -> String {
    let enc = |s: &str| format::url_encode(s, false);
    format!(
        "q={}&status={}&tag={}&sort={}&expires_within={}&never_used={}",
        enc(&f.q),
        enc(&f.status),
        enc(&f.tag),
        enc(&f.sort),
        enc(&f.expires_within),
        enc(&f.never_used)
    )
}
