use super::signed_in_admin;
use crate::app::components::{FormError, PageHeader, action_error};
use crate::app::format;
use crate::app::layout::Shell;
use crate::app::server_fns::admin::admin_users;
use crate::app::server_fns::two_factor::ResetUserTwoFactor;
use crate::app::types::{Role, UserListPage, UserSummary};
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
    let role = query.get("role").unwrap_or_default();
    let status = query.get("status").unwrap_or_default();
    let page = crate::app::pages::page_param(&query);
    let reset_done = query.get("reset").is_some();
    let broadcast_sent = query.get("broadcast").and_then(|n| n.parse::<i64>().ok());
    let reset = ServerAction::<ResetUserTwoFactor>::new();
    let filters = ListFilters {
        q: q.clone(),
        role: role.clone(),
        status: status.clone(),
    };
    let back = filters.href(page);
    let users = Resource::new(
        {
            let f = filters.clone();
            move || (f.clone(), page)
        },
        |(f, page)| admin_users(f.q, f.role, f.status, page),
    );
    let me = user.id.0;
    let can_reset_super = user.role == Role::SuperAdmin;
    view! {
        <Title text="Admin"/>
        <Shell user=Some(user)>
            <PageHeader title="Users" subtitle="Everyone with an account on this instance.".to_string()>
                <a class="btn btn-secondary" href="/admin/audit">"Audit log"</a>
                <a class="btn btn-secondary" href="/admin/security">"Security events"</a>
                <a class="btn btn-secondary" href="/admin/system">"System"</a>
                <a class="btn btn-secondary" href="/admin/jobs">"Jobs"</a>
                <a class="btn btn-secondary" href="/admin/rate-limits">"Rate-limit policies"</a>
                <a class="btn btn-secondary" href="/admin/alerts">"Usage alerts"</a>
                <a class="btn btn-secondary" href="/admin/lifecycle">"Key lifecycle"</a>
                <a class="btn btn-secondary" href="/admin/key-templates">"Key templates"</a>
            </PageHeader>
            {reset_done.then(|| view! {
                <div class="alert alert-success" role="status">"Two-factor sign-in was turned off for that user. They sign in with their password and can set it up again."</div>
            })}
            <FormError error=action_error(reset.value().get_untracked())/>
            <section class="card">
                <form class="row" method="get" action="/admin" role="search">
                    <label class="sr-only" for="q">"Search users"</label>
                    <input id="q" name="q" type="search" placeholder="Search by name or email" value=q.clone() maxlength="200"/>
                    <label for="role">"Role"</label>
                    <select id="role" name="role">
                        {[("", "Any role"), ("super_admin", "Super admin"), ("admin", "Admin"), ("user", "User"), ("viewer", "Viewer")]
                            .into_iter()
                            .map(|(value, label)| view! { <option value=value selected={role == value}>{label}</option> })
                            .collect_view()}
                    </select>
                    <label for="status">"Status"</label>
                    <select id="status" name="status">
                        {[("", "Any status"), ("active", "Active"), ("suspended", "Suspended")]
                            .into_iter()
                            .map(|(value, label)| view! { <option value=value selected={status == value}>{label}</option> })
                            .collect_view()}
                    </select>
                    <button class="btn btn-secondary" type="submit">"Search"</button>
                </form>
                <Suspense fallback=|| view! { <p class="muted">"Loading users…"</p> }>
                    {move || users.get().map(|result| match result {
                        Ok(list) => view! { <UserTable list=list filters=filters.clone() me=me can_reset_super=can_reset_super back=back.clone() reset=reset/> }.into_any(),
                        Err(e) => view! { <div class="alert alert-error" role="alert">{e.detail}</div> }.into_any(),
                    })}
                </Suspense>
            </section>
            <crate::app::pages::broadcast::BroadcastForm sent=broadcast_sent/>
        </Shell>
    }
    .into_any()
}

/// The users list's filters, as its URL has them.
#[derive(Clone, Debug, PartialEq)]
struct ListFilters {
    q: String,
    role: String,
    status: String,
}

impl ListFilters {
    fn href(&self, page: i64) -> String {
        format!(
            "/admin?q={}&role={}&status={}&page={page}",
            format::url_encode(&self.q, false),
            format::url_encode(&self.role, false),
            format::url_encode(&self.status, false)
        )
    }
}

pub fn role_badge(role: Role) -> &'static str {
    match role {
        Role::SuperAdmin | Role::Admin => "badge badge-blue",
        Role::User => "badge badge-green",
        Role::Viewer => "badge badge-gray",
    }
}

#[component]
fn UserTable(
    list: UserListPage,
    filters: ListFilters,
    /// The admin looking (their own two-factor sign-in is changed on the account page).
    me: i64,
    can_reset_super: bool,
    /// This page of the list, to come back to after a reset.
    back: String,
    reset: ServerAction<ResetUserTwoFactor>,
) -> impl IntoView {
    if list.items.is_empty() {
        return view! {
            <div class="empty-state">
                <h3>"No users match"</h3>
                <p>"Try another name, email, role or status."</p>
                <a class="btn btn-secondary" href="/admin">"Clear search"</a>
            </div>
        }
        .into_any();
    }
    let pages = (list.total + list.per_page - 1) / list.per_page;
    let link = move |page: i64| filters.href(page);
    let prev = (list.page > 1).then(|| link(list.page - 1));
    let next = (list.page < pages).then(|| link(list.page + 1));
    view! {
        <div class="table-wrap">
            <table class="table">
                <thead><tr><th scope="col">"Name"</th><th scope="col">"Email"</th><th scope="col">"Role"</th><th scope="col">"Status"</th><th scope="col">"Two-factor"</th><th scope="col">"Joined"</th></tr></thead>
                <tbody>
                    {list.items.into_iter().map(|row| {
                        let may_reset = row.two_factor_enabled
                            && row.user.id.0 != me
                            && (row.user.role != Role::SuperAdmin || can_reset_super);
                        view! {
                            <tr>
                                <td><a href=format!("/admin/users/{}", row.user.id.0)>{row.user.name.clone()}</a></td>
                                <td class="mono">{row.user.email.clone()}</td>
                                <td><span class=role_badge(row.user.role)>{row.user.role.label()}</span></td>
                                <td><StatusBadge suspended=row.user.suspended_at.is_some()/></td>
                                <td><TwoFactorCell row=row.clone() may_reset=may_reset back=back.clone() reset=reset/></td>
                                <td>{format::date(row.user.created_at)}</td>
                            </tr>
                        }
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

/// Whether a user has two-factor sign-in on, and the admin's reset, confirmed before it acts.
#[component]
fn TwoFactorCell(
    row: UserSummary,
    may_reset: bool,
    back: String,
    reset: ServerAction<ResetUserTwoFactor>,
) -> impl IntoView {
    if !row.two_factor_enabled {
        return view! { <span class="badge badge-gray">"Off"</span> }.into_any();
    }
    let name = row.user.name.clone();
    view! {
        <span class="badge badge-green">"On"</span>
        {may_reset.then(|| view! {
            <details class="confirm">
                <summary class="btn btn-ghost" aria-label=format!("Reset two-factor sign-in of {name}")>"Reset…"</summary>
                <p>{format!("Turn off two-factor sign-in for {}? Do this only when you have confirmed who is asking: they lost their device and their recovery codes. It is recorded in the audit log.", row.user.name)}</p>
                <ActionForm action=reset>
                    <input type="hidden" name="user_id" value=row.user.id.0/>
                    <input type="hidden" name="back" value=back/>
                    <button class="btn btn-danger" type="submit">"Reset two-factor sign-in"</button>
                </ActionForm>
            </details>
        })}
    }
    .into_any()
}

/// "Active" or "Suspended", for the users list and a user's page.
#[component]
pub fn StatusBadge(suspended: bool) -> impl IntoView {
    if suspended {
        view! { <span class="badge badge-red">"Suspended"</span> }.into_any()
    } else {
        view! { <span class="badge badge-green">"Active"</span> }.into_any()
    }
}
