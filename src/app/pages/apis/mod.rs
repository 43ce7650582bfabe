//! The APIs pages: the registry for everyone signed in; create, edit and delete for admins.

pub mod detail;
pub mod form;

use super::signed_in_user;
use crate::app::components::{FormError, PageHeader, action_error};
use crate::app::format;
use crate::app::layout::Shell;
use crate::app::limit_types::RateLimitSpec;
use crate::app::server_fns::apis::{CreateApi, apis_page};
use crate::app::types::ApiPage;
use form::ApiFields;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// "100 / minute (+20 burst), 5000 / day"; "None" without limits.
pub fn limits_text(limits: &[RateLimitSpec]) -> String {
    if limits.is_empty() {
        return "None".into();
    }
    limits
        .iter()
        .map(|l| {
            let burst = if l.burst > 0 {
                format!(" (+{} burst)", l.burst)
            } else {
                String::new()
            };
            format!("{} / {}{burst}", l.limit, l.window.as_str())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn enabled_badge(enabled: bool) -> impl IntoView {
    let (class, label) = if enabled {
        ("badge badge-green", "Enabled")
    } else {
        ("badge badge-gray", "Disabled")
    };
    view! { <span class=class>{label}</span> }
}

#[component]
pub fn ApisPage() -> impl IntoView {
    let Some(user) = signed_in_user() else {
        return ().into_any();
    };
    let query = use_query_map().get_untracked();
    let q = query.get("q").unwrap_or_default();
    let page = crate::app::pages::page_param(&query);
    let notice = match (query.get("created"), query.get("deleted")) {
        (Some(_), _) => Some("API added. The gateway serves it from now on."),
        (_, Some(_)) => Some("API deleted."),
        _ => None,
    };
    let apis = Resource::new(
        {
            let q = q.clone();
            move || (q.clone(), page)
        },
        |(q, page)| apis_page(q, page),
    );
    let is_admin = user.role.is_admin();
    let create = ServerAction::<CreateApi>::new();
    let create_error = action_error(create.value().get_untracked());
    view! {
        <Title text="APIs"/>
        <Shell user=Some(user)>
            <PageHeader title="APIs" subtitle="The APIs behind the gateway. Applications call each one at its gateway path with an API key.".to_string()>
                {is_admin.then(|| view! { <a class="btn btn-primary" href="#new-api">"Add API"</a> })}
            </PageHeader>
            {notice.map(|n| view! { <div class="alert alert-success" role="status">{n}</div> })}
            <section class="card">
                <form class="row" method="get" action="/apis" role="search">
                    <label class="sr-only" for="q">"Search APIs"</label>
                    <input id="q" name="q" type="search" placeholder="Search by name or slug" value=q.clone() maxlength="200"/>
                    <button class="btn btn-secondary" type="submit">"Search"</button>
                </form>
                <Suspense fallback=|| view! { <p class="muted">"Loading APIs…"</p> }>
                    {move || apis.get().map(|result| match result {
                        Ok(list) => view! { <ApiTable list=list q=q.clone() is_admin=is_admin/> }.into_any(),
                        Err(e) => view! { <div class="alert alert-error" role="alert">{e.detail}</div> }.into_any(),
                    })}
                </Suspense>
            </section>
            {is_admin.then(|| view! {
                <section class="card" aria-labelledby="new-api">
                    <h2 id="new-api">"Add an API"</h2>
                    <FormError error=create_error/>
                    <ActionForm action=create attr:class="form">
                        <ApiFields/>
                        <div class="form-actions"><button class="btn btn-primary" type="submit">"Add API"</button></div>
                    </ActionForm>
                </section>
            })}
        </Shell>
    }
    .into_any()
}

#[component]
fn ApiTable(list: ApiPage, q: String, is_admin: bool) -> impl IntoView {
    if list.items.is_empty() {
        return if q.is_empty() {
            view! {
                <div class="empty-state">
                    <h3>"No APIs yet"</h3>
                    {if is_admin {
                        view! {
                            <p>"Register an API with its upstream URL; the gateway then checks keys and limits before forwarding each call."</p>
                            <a class="btn btn-primary" href="#new-api">"Add your first API"</a>
                        }.into_any()
                    } else {
                        view! { <p>"An admin registers the APIs behind the gateway; they will be listed here."</p> }.into_any()
                    }}
                </div>
            }
            .into_any()
        } else {
            view! {
                <div class="empty-state">
                    <h3>"No APIs match"</h3>
                    <p>"Try another name or slug."</p>
                    <a class="btn btn-secondary" href="/apis">"Clear search"</a>
                </div>
            }
            .into_any()
        };
    }
    let pages = (list.total + list.per_page - 1) / list.per_page;
    let link = move |page: i64| format!("/apis?q={}&page={page}", format::url_encode(&q, false));
    let prev = (list.page > 1).then(|| link(list.page - 1));
    let next = (list.page < pages).then(|| link(list.page + 1));
    view! {
        <div class="table-wrap">
            <table class="table">
                <thead>
                    <tr>
                        <th scope="col">"Name"</th><th scope="col">"Slug"</th><th scope="col">"Upstream"</th>
                        <th scope="col">"Gateway path"</th><th scope="col">"Default limits"</th><th scope="col">"Status"</th>
                    </tr>
                </thead>
                <tbody>
                    {list.items.into_iter().map(|a| view! {
                        <tr>
                            <td><a href=format!("/apis/{}", a.id.0)>{a.name.clone()}</a></td>
                            <td class="mono">{a.slug.clone()}</td>
                            <td class="mono">{a.upstream_url.clone()}</td>
                            <td class="mono">{a.gateway_path.clone()}</td>
                            <td>{limits_text(&a.default_rate_limits)}</td>
                            <td>{enabled_badge(a.enabled)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        <nav class="row" aria-label="Pagination">
            <span class="muted">{format!("{} API{} · page {} of {}", list.total, if list.total == 1 { "" } else { "s" }, list.page, pages.max(1))}</span>
            {prev.map(|href| view! { <a class="btn btn-ghost" href=href>"← Previous"</a> })}
            {next.map(|href| view! { <a class="btn btn-ghost" href=href>"Next →"</a> })}
        </nav>
    }
    .into_any()
}
