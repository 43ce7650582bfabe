//! /admin/users/:id: one account for admins: its figures, role, suspension, two-factor reset
//! and the latest audit records about it.

use super::admin::{StatusBadge, role_badge};
use super::audit::AuditTable;
use super::signed_in_admin;
use crate::app::admin_types::AdminUserView;
use crate::app::components::{FormError, action_error};
use crate::app::format;
use crate::app::layout::Shell;
use crate::app::pages::errors::NotFound;
use crate::app::server_fns::admin_console::{
    AdminChangeRole, AdminReactivateUser, AdminSuspendUser, admin_user_detail,
};
use crate::app::server_fns::two_factor::ResetUserTwoFactor;
use crate::app::types::{Role, User};
use crate::error::ErrorCode;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn AdminUserPage() -> impl IntoView {
    let me = match signed_in_admin() {
        Ok(user) => user,
        Err(instead) => return instead,
    };
    let Some(id) = use_params_map()
        .get_untracked()
        .get("id")
        .and_then(|s| s.parse::<i64>().ok())
    else {
        return view! { <NotFound/> }.into_any();
    };
    let query = use_query_map().get_untracked();
    let done = query
        .get("done")
        .or(query.get("reset").map(|_| "reset".into()));
    let data = Resource::new(move || id, admin_user_detail);
    let viewer = me.clone();
    view! {
        <Title text="User"/>
        <Shell user=Some(me)>
            {done.map(|d| view! { <div class="alert alert-success" role="status">{match d.as_str() {
                "role" => "Role saved.",
                "suspended" => "Account suspended: its sessions and tokens are ended and its API keys answer API_KEY_DISABLED until it is reactivated.",
                "reactivated" => "Account reactivated: its API keys verify again and the user can sign in.",
                "reset" => "Two-factor sign-in was turned off for this user.",
                _ => "Done.",
            }}</div> })}
            <Suspense fallback=|| view! { <p class="muted">"Loading the account…"</p> }>
                {move || data.get().map(|result| match result {
                    Ok(v) => view! { <UserView view=v me=viewer.clone()/> }.into_any(),
                    Err(e) if e.code == ErrorCode::NotFound => view! { <NotFound/> }.into_any(),
                    Err(e) => view! { <div class="alert alert-error" role="alert">{e.detail}</div> }.into_any(),
                })}
            </Suspense>
        </Shell>
    }
    .into_any()
}

#[component]
fn UserView(view: AdminUserView, me: User) -> impl IntoView {
    let role = ServerAction::<AdminChangeRole>::new();
    let suspend = ServerAction::<AdminSuspendUser>::new();
    let reactivate = ServerAction::<AdminReactivateUser>::new();
    let reset = ServerAction::<ResetUserTwoFactor>::new();
    let error = action_error(role.value().get_untracked())
        .or(action_error(suspend.value().get_untracked()))
        .or(action_error(reactivate.value().get_untracked()))
        .or(action_error(reset.value().get_untracked()));
    let d = view.detail;
    let u = d.user.clone();
    let id = u.id.0;
    let myself = id == me.id.0;
    // What the domain allows this admin; the domain checks it again.
    let may_manage = !myself && (u.role != Role::SuperAdmin || me.role == Role::SuperAdmin);
    let suspended = u.suspended_at.is_some();
    view! {
        <Title text=u.email.clone()/>
        <div class="page-header">
            <div>
                <h1>{u.name.clone()}" "<StatusBadge suspended=suspended/></h1>
                <p class="subtitle mono">{u.email.clone()}</p>
            </div>
            <div class="actions"><a class="btn btn-ghost" href="/admin">"← All users"</a></div>
        </div>
        <FormError error=error/>
        <section class="card" aria-labelledby="account">
            <h2 id="account">"Account"</h2>
            <dl class="kv">
                <dt>"ID"</dt><dd class="mono">{id}</dd>
                <dt>"Email"</dt><dd class="mono">{u.email.clone()}</dd>
                <dt>"Name"</dt><dd>{u.name.clone()}</dd>
                <dt>"Role"</dt><dd><span class=role_badge(u.role)>{u.role.label()}</span></dd>
                <dt>"Status"</dt><dd>{match u.suspended_at {
                    Some(at) => format!("Suspended since {}", format::datetime(at)),
                    None => "Active".to_string(),
                }}</dd>
                {suspended.then(|| view! {
                    <dt>"Suspension reason"</dt>
                    <dd>{u.suspended_reason.clone().unwrap_or_else(|| "None given".into())}</dd>
                })}
                <dt>"Created"</dt><dd>{format::datetime(u.created_at)}</dd>
                <dt>"Last sign-in"</dt><dd>{d.last_sign_in_at.map(format::datetime).unwrap_or_else(|| "Never".into())}</dd>
                <dt>"Two-factor sign-in"</dt><dd>{if d.two_factor_enabled { "On" } else { "Off" }}</dd>
                <dt>"API keys"</dt><dd>{format!("{} ({} active)", d.keys_total, d.keys_active)}</dd>
            </dl>
        </section>
        {if may_manage {
            view! {
                <RoleForm action=role user=u.clone() can_grant_super={me.role == Role::SuperAdmin}/>
                <SuspensionForm suspend=suspend reactivate=reactivate user=u.clone()/>
                {d.two_factor_enabled.then(|| view! { <ResetForm action=reset user=u.clone()/> })}
            }
            .into_any()
        } else {
            let why = if myself {
                "This is your own account: change it from your account page."
            } else {
                "Only a super admin can change a super admin's account."
            };
            view! { <p class="muted">{why}</p> }.into_any()
        }}
        <section class="card" aria-labelledby="recent">
            <h2 id="recent">"Recent audit records"</h2>
            {if view.recent.is_empty() {
                view! { <p class="muted">"No admin action has been recorded about this account."</p> }.into_any()
            } else {
                view! { <AuditTable items=view.recent/> }.into_any()
            }}
            <a class="btn btn-ghost" href=format!("/admin/audit?target=user:{id}")>"All records about this account →"</a>
        </section>
    }
}

#[component]
fn RoleForm(
    action: ServerAction<AdminChangeRole>,
    user: User,
    can_grant_super: bool,
) -> impl IntoView {
    let roles = [Role::Viewer, Role::User, Role::Admin, Role::SuperAdmin];
    view! {
        <section class="card" aria-labelledby="role-title">
            <h2 id="role-title">"Role"</h2>
            <ActionForm action=action attr:class="row">
                <input type="hidden" name="id" value=user.id.0/>
                <label for="role">"Role"</label>
                <select id="role" name="role">
                    {roles
                        .into_iter()
                        .filter(|r| *r != Role::SuperAdmin || can_grant_super || user.role == Role::SuperAdmin)
                        .map(|r| view! { <option value=r.as_str() selected={r == user.role}>{r.label()}</option> })
                        .collect_view()}
                </select>
                <button class="btn btn-primary" type="submit">"Save role"</button>
            </ActionForm>
            <p class="hint">"Admins manage users, policies and the instance; viewers only read. The change is recorded in the audit log."</p>
        </section>
    }
}

/// Suspend (a reason, then a confirmation step) or reactivate.
#[component]
fn SuspensionForm(
    suspend: ServerAction<AdminSuspendUser>,
    reactivate: ServerAction<AdminReactivateUser>,
    user: User,
) -> impl IntoView {
    let id = user.id.0;
    let body = if user.suspended_at.is_some() {
        view! {
            <p>"While suspended, this account cannot sign in and its API keys answer API_KEY_DISABLED. Reactivating makes its keys verify again; the user signs in again."</p>
            <ActionForm action=reactivate>
                <input type="hidden" name="id" value=id/>
                <button class="btn btn-primary" type="submit">"Reactivate account"</button>
            </ActionForm>
        }
        .into_any()
    } else {
        view! {
            <p>"Suspending ends the user's sessions and tokens at once, refuses their management keys, and makes their API keys answer API_KEY_DISABLED (reason OWNER_SUSPENDED) until you reactivate the account."</p>
            <details class="confirm">
                <summary class="btn btn-danger">"Suspend…"</summary>
                <ActionForm action=suspend attr:class="form">
                    <input type="hidden" name="id" value=id/>
                    <div class="field">
                        <label for="reason">"Reason (for admins; optional)"</label>
                        <textarea id="reason" name="reason" maxlength="500" rows="2" aria-describedby="reason-hint"></textarea>
                        <p class="hint" id="reason-hint">"At most 500 characters. Shown to admins only, and recorded in the audit log."</p>
                    </div>
                    <p>{format!("Suspend {}? Their API keys stop working immediately.", user.email)}</p>
                    <button class="btn btn-danger" type="submit">"Yes, suspend this account"</button>
                </ActionForm>
            </details>
        }
        .into_any()
    };
    view! {
        <section class="card" aria-labelledby="suspension">
            <h2 id="suspension">"Suspension"</h2>
            {body}
        </section>
    }
}

#[component]
fn ResetForm(action: ServerAction<ResetUserTwoFactor>, user: User) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="two-factor">
            <h2 id="two-factor">"Two-factor sign-in"</h2>
            <details class="confirm">
                <summary class="btn btn-ghost">"Reset two-factor sign-in…"</summary>
                <p>{format!("Turn off two-factor sign-in for {}? Do this only when you have confirmed who is asking: they lost their device and their recovery codes. It is recorded in the audit log.", user.name)}</p>
                <ActionForm action=action>
                    <input type="hidden" name="user_id" value=user.id.0/>
                    <input type="hidden" name="back" value=format!("/admin/users/{}", user.id.0)/>
                    <button class="btn btn-danger" type="submit">"Reset two-factor sign-in"</button>
                </ActionForm>
            </details>
        </section>
    }
}
