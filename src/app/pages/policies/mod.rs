//! Rate-limit policies (admins): the list with a create form, and one policy's page.

pub mod detail;
pub mod form;

use super::signed_in_admin;
use crate::app::components::{FormError, PageHeader, action_error};
use crate::app::layout::Shell;
use crate::app::pages::apis::enabled_badge;
use crate::app::policy_types::{PolicyScope, RateLimitPolicy, RateLimitPolicyPage};
use crate::app::server_fns::policies::{CreatePolicy, policies_page};
use form::PolicyFields;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// "Each client IP in 203.0.113.0/24", "Everyone", "API tickets".
pub fn applies_to(p: &RateLimitPolicy) -> String {
    let target = p.target.as_deref();
    match (p.scope, target) {
        (PolicyScope::Global, _) => "All requests, together".into(),
        (PolicyScope::Api, Some(slug)) => format!("API {slug}"),
        (PolicyScope::Api, None) => "Each API".into(),
        (PolicyScope::Endpoint, Some(slug)) => format!("Matching calls to API {slug}, together"),
        (PolicyScope::Endpoint, None) => "Matching requests, together".into(),
        (PolicyScope::User, Some(id)) => format!("User {id}"),
        (PolicyScope::User, None) => "Each user".into(),
        (PolicyScope::Org, Some(id)) => format!("Organization {id}"),
        (PolicyScope::Org, None) => "Each organization".into(),
        (PolicyScope::Ip, Some(net)) => format!("Each client IP in {net}"),
        (PolicyScope::Ip, None) => "Each client IP".into(),
        (PolicyScope::Key, Some(id)) => format!("Key {id}"),
        (PolicyScope::Key, None) => "Each key".into(),
    }
}

/// "POST /tickets/**", "Any request".
pub fn requests_text(p: &RateLimitPolicy) -> String {
    match (&p.method, &p.path_pattern) {
        (None, None) => "Any request".into(),
        (Some(m), None) => format!("{m} (any path)"),
        (None, Some(path)) => format!("Any method {path}"),
        (Some(m), Some(path)) => format!("{m} {path}"),
    }
}

pub fn limit_text(p: &RateLimitPolicy) -> String {
    let burst = if p.burst > 0 {
        format!(" (+{} burst)", p.burst)
    } else {
        String::new()
    };
    format!("{} / {}{burst}", p.limit, p.window.as_str())
}

#[component]
pub fn PoliciesPage() -> impl IntoView {
    let user = match signed_in_admin() {
        Ok(user) => user,
        Err(instead) => return instead,
    };
    let query = use_query_map().get_untracked();
    let scope = query.get("scope").unwrap_or_default();
    let page = crate::app::pages::page_param(&query);
    let notice = match (query.get("created"), query.get("deleted")) {
        (Some(_), _) => Some("Policy created. It is enforced from the next request."),
        (_, Some(_)) => Some("Policy deleted."),
        _ => None,
    };
    let list = Resource::new(
        {
            let scope = scope.clone();
            move || (scope.clone(), page)
        },
        |(scope, page)| policies_page(scope, page),
    );
    let create = ServerAction::<CreatePolicy>::new();
    let create_error = action_error(create.value().get_untracked());
    view! {
        <Title text="Rate-limit policies"/>
        <Shell user=Some(user)>
            <PageHeader title="Rate-limit policies" subtitle="Limits beyond each key's own: on all traffic, an API, an endpoint, or each user, organization, client IP or key. A request must pass its key's limits and every policy it matches.".to_string()>
                <a class="btn btn-ghost" href="/admin">"Users"</a>
                <a class="btn btn-primary" href="#new-policy">"Add policy"</a>
            </PageHeader>
            {notice.map(|n| view! { <div class="alert alert-success" role="status">{n}</div> })}
            <section class="card">
                <form class="row" method="get" action="/admin/rate-limits">
                    <label for="scope-filter">"Show"</label>
                    <select id="scope-filter" name="scope">
                        <option value="" selected=scope.is_empty()>"All scopes"</option>
                        {PolicyScope::ALL.into_iter().map(|s| view! {
                            <option value=s.as_str() selected=scope == s.as_str()>{s.as_str()}</option>
                        }).collect_view()}
                    </select>
                    <button class="btn btn-secondary" type="submit">"Filter"</button>
                </form>
                <Suspense fallback=|| view! { <p class="muted">"Loading policies…"</p> }>
                    {move || list.get().map(|result| match result {
                        Ok(list) => view! { <PolicyTable list=list scope=scope.clone()/> }.into_any(),
                        Err(e) => view! { <div class="alert alert-error" role="alert">{e.detail}</div> }.into_any(),
                    })}
                </Suspense>
            </section>
            <section class="card" aria-labelledby="new-policy">
                <h2 id="new-policy">"Add a policy"</h2>
                <FormError error=create_error/>
                <ActionForm action=create attr:class="form">
                    <PolicyFields/>
                    <div class="form-actions"><button class="btn btn-primary" type="submit">"Add policy"</button></div>
                </ActionForm>
            </section>
        </Shell>
    }
    .into_any()
}

#[component]
fn PolicyTable(list: RateLimitPolicyPage, scope: String) -> impl IntoView {
    if list.items.is_empty() {
        return if scope.is_empty() {
            view! {
                <div class="empty-state">
                    <h3>"No policies yet"</h3>
                    <p>"Keys are limited only by their own limits. Add a policy to cap all traffic, an API or endpoint, or each client IP, user or key; a client that keeps exceeding an IP, user or key policy gets escalating penalties."</p>
                    <a class="btn btn-primary" href="#new-policy">"Add your first policy"</a>
                </div>
            }
            .into_any()
        } else {
            view! {
                <div class="empty-state">
                    <h3>"No policies of this scope"</h3>
                    <a class="btn btn-secondary" href="/admin/rate-limits">"Show all"</a>
                </div>
            }
            .into_any()
        };
    }
    let pages = (list.total + list.per_page - 1) / list.per_page;
    let link = move |page: i64| format!("/admin/rate-limits?scope={scope}&page={page}");
    let prev = (list.page > 1).then(|| link(list.page - 1));
    let next = (list.page < pages).then(|| link(list.page + 1));
    view! {
        <div class="table-wrap">
            <table class="table">
                <thead>
                    <tr>
                        <th scope="col">"Name"</th><th scope="col">"Applies to"</th><th scope="col">"Requests"</th>
                        <th scope="col">"Limit"</th><th scope="col">"Status"</th>
                    </tr>
                </thead>
                <tbody>
                    {list.items.into_iter().map(|p| view! {
                        <tr>
                            <td><a href=format!("/admin/rate-limits/{}", p.id)>{p.name.clone()}</a></td>
                            <td>{applies_to(&p)}</td>
                            <td class="mono">{requests_text(&p)}</td>
                            <td>{limit_text(&p)}</td>
                            <td>{enabled_badge(p.enabled)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        <nav class="row" aria-label="Pagination">
            <span class="muted">{format!("{} polic{} · page {} of {}", list.total, if list.total == 1 { "y" } else { "ies" }, list.page, pages.max(1))}</span>
            {prev.map(|href| view! { <a class="btn btn-ghost" href=href>"← Previous"</a> })}
            {next.map(|href| view! { <a class="btn btn-ghost" href=href>"Next →"</a> })}
        </nav>
    }
    .into_any()
}
