use super::signed_in_admin;
use crate::app::components::PageHeader;
use crate::app::format;
use crate::app::layout::Shell;
use crate::app::server_fns::admin::admin_users;
use crate::app::types::{Role, UserListPage};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn AdminPage() -> impl IntoView {
    let user = match signed_in_admin() {
        Ok(user) => user,
        Err(instead) => return instead,
    };
    let query = use_query_map().get_untracked();
    let q = query.get("q").unwrap_or_default();
    let page = crate::app::pages::page_param(&query);
    let users = Resource::new(
        {
            let q = q.clone();
            move || (q.clone(), page)
        },
        |(q, page)| admin_users(q, page),
    );
    view! {
        <Title text="Admin"/>
        <Shell user=Some(user)>
            <PageHeader title="Users" subtitle="Everyone with an account on this instance.".to_string()>
                <a class="btn btn-secondary" href="/admin/system">"System"</a>
                <a class="btn btn-secondary" href="/admin/rate-limits">"Rate-limit policies"</a>
                <a class="btn btn-secondary" href="/admin/alerts">"Usage alerts"</a>
            </PageHeader>
            <section class="card">
                <form class="row" method="get" action="/admin" role="search">
                    <label class="sr-only" for="q">"Search users"</label>
                    <input id="q" name="q" type="search" placeholder="Search by name or email" value=q.clone() maxlength="200"/>
                    <button class="btn btn-secondary" type="submit">"Search"</button>
                </form>
                <Suspense fallback=|| view! { <p class="muted">"Loading users…"</p> }>
                    {move || users.get().map(|result| match result {
                        Ok(list) => view! { <UserTable list=list q=q.clone()/> }.into_any(),
                        Err(e) => view! { <div class="alert alert-error" role="alert">{e.detail}</div> }.into_any(),
                    })}
                </Suspense>
            </section>
        </Shell>
    }
    .into_any()
}

fn role_badge(role: Role) -> &'static str {
    match role {
        Role::SuperAdmin | Role::Admin => "badge badge-blue",
        Role::User => "badge badge-green",
        Role::Viewer => "badge badge-gray",
    }
}

#[component]
fn UserTable(list: UserListPage, q: String) -> impl IntoView {
    if list.items.is_empty() {
        return view! {
            <div class="empty-state">
                <h3>"No users match"</h3>
                <p>"Try another name or email."</p>
                <a class="btn btn-secondary" href="/admin">"Clear search"</a>
            </div>
        }
        .into_any();
    }
    let pages = (list.total + list.per_page - 1) / list.per_page;
    let link = move |page: i64| format!("/admin?q={}&page={page}", format::url_encode(&q, false));
    let prev = (list.page > 1).then(|| link(list.page - 1));
    let next = (list.page < pages).then(|| link(list.page + 1));
    view! {
        <div class="table-wrap">
            <table class="table">
                <thead><tr><th scope="col">"Name"</th><th scope="col">"Email"</th><th scope="col">"Role"</th><th scope="col">"Joined"</th></tr></thead>
                <tbody>
                    {list.items.into_iter().map(|u| view! {
                        <tr>
                            <td>{u.name.clone()}</td>
                            <td class="mono">{u.email.clone()}</td>
                            <td><span class=role_badge(u.role)>{u.role.label()}</span></td>
                            <td>{format::date(u.created_at)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        <nav class="row" aria-label="Pagination">
            <span class="muted">{format!("{} user{} · page {} of {}", list.total, if list.total == 1 { "" } else { "s" }, list.page, pages.max(1))}</span>
            {prev.map(|href| view! { <a class="btn btn-ghost" href=href>"← Previous"</a> })}
            {next.map(|href| view! { <a class="btn btn-ghost" href=href>"Next →"</a> })}
        </nav>
    }
    .into_any()
}
