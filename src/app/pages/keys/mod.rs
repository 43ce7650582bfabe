//! The keys pages: list, create, detail.

pub mod bulk;
pub mod detail;
pub mod new;
pub mod usage;

use super::signed_in_user;
use crate::app::components::{FormError, PageHeader, action_error};
use crate::app::format;
use crate::app::key_filters::SavedFilterLink;
use crate::app::layout::Shell;
use crate::app::server_fns::keys::{
    DeleteKeyFilter, KeyFilters, KeyListPage, SaveKeyFilter, keys_page,
};
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

fn options(pairs: &[(&'static str, &'static str)], current: &str) -> impl IntoView + use<> {
    let current = current.to_string();
    pairs
        .iter()
        .map(|(v, l)| view! { <option value=*v selected=current == *v>{*l}</option> })
        .collect_view()
}

#[component]
pub fn KeysPage() -> impl IntoView {
    let Some(user) = signed_in_user() else {
        return ().into_any();
    };
    let query = use_query_map().get_untracked();
    let filters = KeyFilters::from_params(&query);
    let notice = if query.get("deleted").is_some() {
        Some("Key deleted.")
    } else if query.get("saved").is_some() {
        Some("Filter saved: open it any time from “Saved filters”.")
    } else if query.get("filter_deleted").is_some() {
        Some("Saved filter deleted.")
    } else {
        None
    };
    let keys = Resource::new(
        {
            let f = filters.clone();
            move || f.clone()
        },
        keys_page,
    );
    let can_create = user.role != crate::app::types::Role::Viewer;
    let save = ServerAction::<SaveKeyFilter>::new();
    let forget = ServerAction::<DeleteKeyFilter>::new();
    let error = action_error(save.value().get_untracked())
        .or_else(|| action_error(forget.value().get_untracked()));
    view! {
        <Title text="API keys"/>
        <Shell user=Some(user)>
            <PageHeader title="API keys" subtitle="Keys your applications use to call APIs behind Keyport.".to_string()>
                {can_create.then(|| view! { <a class="btn btn-primary" href="/keys/new">"Create key"</a> })}
            </PageHeader>
            {notice.map(|n| view! { <div class="alert alert-success" role="status">{n}</div> })}
            <FormError error=error/>
            <section class="card">
                <Suspense fallback=|| view! { <p class="muted">"Loading keys…"</p> }>
                    {move || keys.get().map(|result| match result {
                        Ok(page) => view! {
                            <SavedFilters saved=page.saved.clone() filters=filters.clone() save=save forget=forget/>
                            <FilterForm f=filters.clone() page=page.clone()/>
                            <KeyTable page=page filters=filters.clone() can_create=can_create/>
                        }.into_any(),
                        Err(e) => view! {
                            <div class="alert alert-error" role="alert">{e.detail}</div>
                            <a class="btn btn-secondary" href="/keys">"Clear filters"</a>
                        }.into_any(),
                    })}
                </Suspense>
            </section>
        </Shell>
    }
    .into_any()
}

/// Links to the user's saved filters, each deletable, and a form saving the current one.
#[component]
fn SavedFilters(
    saved: Vec<SavedFilterLink>,
    filters: KeyFilters,
    save: ServerAction<SaveKeyFilter>,
    forget: ServerAction<DeleteKeyFilter>,
) -> impl IntoView {
    let current = filters.query_string();
    view! {
        <div class="saved-filters" aria-label="Saved filters" role="region">
            <strong>"Saved filters"</strong>
            {if saved.is_empty() {
                view! { <span class="muted">" None yet: filter the list, then save it under a name."</span> }.into_any()
            } else {
                view! {
                    <ul class="chips">
                        {saved.into_iter().map(|f| {
                            let here = f.query == current;
                            view! {
                                <li>
                                    <a href=format!("/keys?{}", f.query) aria-current=here.then_some("true")>{f.name.clone()}</a>
                                    <ActionForm action=forget attr:class="inline-form">
                                        <input type="hidden" name="id" value=f.id/>
                                        <button class="btn btn-ghost btn-small" type="submit" aria-label=format!("Delete saved filter {}", f.name)>"×"</button>
                                    </ActionForm>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            {(!current.is_empty()).then(|| view! {
                <ActionForm action=save attr:class="inline-form row">
                    <input type="hidden" name="query" value=current.clone()/>
                    <label class="sr-only" for="saved-name">"Name for this filter"</label>
                    <input id="saved-name" name="name" type="text" required maxlength="100" placeholder="Name this filter"/>
                    <button class="btn btn-secondary" type="submit">"Save filter"</button>
                </ActionForm>
            })}
        </div>
    }
}

/// The filter form: a plain GET to /keys, so filters live in the URL and links can be shared.
#[component]
fn FilterForm(f: KeyFilters, page: KeyListPage) -> impl IntoView {
    let advanced = [
        &f.scope,
        &f.owner,
        &f.api,
        &f.created_from,
        &f.created_to,
        &f.last_used_before,
    ]
    .iter()
    .any(|v| !v.is_empty());
    let org_selected = if page.org.is_empty() {
        "all".to_string()
    } else {
        page.org.clone()
    };
    view! {
        <form class="filters" method="get" action="/keys" role="search">
            <div class="row">
                <div class="field">
                    <label for="q">"Search"</label>
                    <input id="q" name="q" type="search" placeholder="Name, prefix or last 4" value=f.q.clone() maxlength="200"/>
                </div>
                <div class="field">
                    <label for="status">"Status"</label>
                    <select id="status" name="status">
                        {options(&[("", "Any"), ("active", "Active"), ("disabled", "Disabled"), ("expired", "Expired"), ("revoked", "Revoked")], &f.status)}
                    </select>
                </div>
                <div class="field">
                    <label for="tag">"Tags"</label>
                    <input id="tag" name="tag" type="text" value=f.tag.clone() maxlength="200" placeholder="mobile,prod" aria-describedby="tag-hint"/>
                    <span class="hint" id="tag-hint">"Comma-separated: keys with every one."</span>
                </div>
                {(!page.orgs.is_empty()).then(|| view! {
                    <div class="field">
                        <label for="org">"Organization"</label>
                        <select id="org" name="org">
                            <option value="all" selected=org_selected == "all">"All (personal and organizations)"</option>
                            {page.orgs.iter().map(|o| view! {
                                <option value=o.id selected=org_selected == o.id.to_string()>{o.label.clone()}</option>
                            }).collect_view()}
                        </select>
                    </div>
                })}
                <div class="field">
                    <label for="expires_within">"Expires within"</label>
                    <select id="expires_within" name="expires_within">
                        {options(&[("", "Any time"), ("1d", "1 day"), ("7d", "7 days"), ("30d", "30 days"), ("90d", "90 days")], &f.expires_within)}
                    </select>
                </div>
                <div class="field">
                    <label for="sort">"Sort"</label>
                    <select id="sort" name="sort">
                        {options(&[("-created_at", "Newest"), ("created_at", "Oldest"), ("name", "Name A–Z"), ("-name", "Name Z–A"), ("expires_at", "Expiring soonest"), ("-expires_at", "Expiring latest"), ("-last_used_at", "Recently used"), ("last_used_at", "Least recently used")], &f.sort)}
                    </select>
                </div>
                <div class="field">
                    <label><input type="checkbox" name="never_used" value="true" checked=f.never_used == "true"/>" Never used"</label>
                </div>
            </div>
            <details class="more-filters" open=advanced>
                <summary>"More filters"</summary>
                <div class="row">
                    <div class="field">
                        <label for="scope">"Scope"</label>
                        <input id="scope" name="scope" type="text" value=f.scope.clone() maxlength="100" placeholder="tickets:write"/>
                    </div>
                    <div class="field">
                        <label for="owner">"Owner email"</label>
                        <input id="owner" name="owner" type="email" value=f.owner.clone() maxlength="254"/>
                    </div>
                    {(!page.apis.is_empty()).then(|| view! {
                        <div class="field">
                            <label for="api">"API"</label>
                            <select id="api" name="api">
                                <option value="" selected=f.api.is_empty()>"Any"</option>
                                {page.apis.iter().map(|a| view! {
                                    <option value=a.id selected=f.api == a.id.to_string()>{a.label.clone()}</option>
                                }).collect_view()}
                            </select>
                        </div>
                    })}
                    <div class="field">
                        <label for="created_from">"Created from"</label>
                        <input id="created_from" name="created_from" type="date" value=f.created_from.clone()/>
                    </div>
                    <div class="field">
                        <label for="created_to">"Created before"</label>
                        <input id="created_to" name="created_to" type="date" value=f.created_to.clone()/>
                    </div>
                    <div class="field">
                        <label for="last_used_before">"Last used before"</label>
                        <input id="last_used_before" name="last_used_before" type="date" value=f.last_used_before.clone()/>
                    </div>
                </div>
            </details>
            <div class="form-actions">
                <button class="btn btn-secondary" type="submit">"Apply"</button>
                <a class="btn btn-ghost" href="/keys">"Clear"</a>
            </div>
        </form>
    }
}

#[component]
fn KeyTable(page: KeyListPage, filters: KeyFilters, can_create: bool) -> impl IntoView {
    let filtered = filters.narrows();
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
        move |p: i64| format!("/keys?{}&page={p}", f.query_string())
    };
    // "All matching" must mean the org in force, even when it came from the active org.
    let filter = KeyFilters {
        org: if page.org.is_empty() {
            "all".into()
        } else {
            page.org.clone()
        },
        ..filters.clone()
    }
    .query_string();
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
