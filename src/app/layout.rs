//! The frame around signed-in pages: top bar, navigation, account menu, footer.

use super::islands::bell::NotificationBell;
use super::server_fns::auth::Logout;
use super::server_fns::email_verification::ResendVerification;
use super::server_fns::notifications::unread_notifications;
use super::server_fns::orgs::{SwitchOrg, load_org_switcher};
use super::types::User;
use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_location};

#[component]
fn NavLink(href: &'static str, label: &'static str) -> impl IntoView {
    let path = use_location().pathname.get_untracked();
    let current = path == href || path.starts_with(&format!("{href}/"));
    view! {
        <li><a href=href aria-current=current.then_some("page")>{label}</a></li>
    }
}

/// "Notifications" with the signed-in user's unread count as of this page load (a badge, and
/// "Notifications, 3 unread" to screen readers), kept current by the bell island.
#[component]
fn NotificationsLink() -> impl IntoView {
    let path = use_location().pathname.get_untracked();
    let current = path == "/notifications";
    let unread = Resource::new(|| (), |_| unread_notifications());
    view! {
        <li>
            <Suspense fallback=move || view! { <NotificationBell unread=0 current=current/> }>
                {move || unread.get().map(|n| view! { <NotificationBell unread=n.unwrap_or(0) current=current/> })}
            </Suspense>
        </li>
    }
}

#[component]
pub fn TopBar(user: Option<User>) -> impl IntoView {
    view! {
        <header class="topbar">
            <a class="brand" href="/">
                <img src="/logo.svg" alt="" width="28" height="28"/>
                <span>"Keyport"</span>
            </a>
            {match user {
                Some(user) => view! {
                    <nav class="mainnav" aria-label="Main">
                        <ul>
                            <NavLink href="/dashboard" label="Dashboard"/>
                            <NavLink href="/keys" label="API keys"/>
                            <NavLink href="/usage" label="Usage"/>
                            <NavLink href="/apis" label="APIs"/>
                            <NavLink href="/webhooks" label="Webhooks"/>
                            <NavLink href="/orgs" label="Organizations"/>
                            <NavLink href="/docs" label="Docs"/>
                            <NotificationsLink/>
                            <NavLink href="/account" label="Account"/>
                            {user.role.is_admin().then(|| view! { <NavLink href="/admin" label="Admin"/> })}
                        </ul>
                    </nav>
                    <OrgSwitch/>
                    <AccountMenu user=user/>
                }.into_any(),
                None => view! {
                    <nav class="mainnav" aria-label="Main">
                        <ul><NavLink href="/docs" label="Docs"/></ul>
                    </nav>
                    <div class="row">
                        <A href="/login" attr:class="btn btn-ghost">"Sign in"</A>
                        <A href="/register" attr:class="btn btn-primary">"Create account"</A>
                    </div>
                }.into_any(),
            }}
        </header>
    }
}

/// The active organization: lists and new keys start from it. A plain form (no JavaScript
/// needed), shown once the user belongs to an organization.
#[component]
fn OrgSwitch() -> impl IntoView {
    let switch = ServerAction::<SwitchOrg>::new();
    let location = use_location();
    let here = format!(
        "{}{}",
        location.pathname.get_untracked(),
        location.search.get_untracked()
    );
    // Back to the list, not to a page filtered by the org being switched away from.
    let next = if here.starts_with("/keys?") {
        "/keys".to_string()
    } else {
        here
    };
    let data = Resource::new(|| (), |_| load_org_switcher());
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let next = next.clone();
                data.get().and_then(Result::ok).filter(|s| !s.orgs.is_empty()).map(move |s| view! {
                <ActionForm action=switch attr:class="org-switch inline-form">
                    <input type="hidden" name="next" value=next.clone()/>
                    <label class="sr-only" for="active-org">"Active organization"</label>
                    <select id="active-org" name="org_id">
                        <option value="" selected=s.active.is_none()>"All my keys"</option>
                        {s.orgs.into_iter().map(|o| view! {
                            <option value=o.id selected=s.active == Some(o.id)>{o.label}</option>
                        }).collect_view()}
                    </select>
                    <button class="btn btn-ghost" type="submit">"Switch"</button>
                </ActionForm>
            })}}
        </Suspense>
    }
}

#[component]
fn AccountMenu(user: User) -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    view! {
        <div class="account-menu">
            <details>
                <summary aria-label="Account menu">
                    <span class="avatar" aria-hidden="true">{user.initials()}</span>
                    <span class="account-name">{user.name.clone()}</span>
                </summary>
                <div class="menu">
                    <div class="menu-header">
                        <strong>{user.name.clone()}</strong>
                        <small>{user.email.clone()}</small>
                        <span class="badge badge-blue">{user.role.label()}</span>
                    </div>
                    <a class="menu-item" href="/account">"Account settings"</a>
                    <a class="menu-item" href="/account/sessions">"Sessions"</a>
                    <a class="menu-item" href="/account/notifications">"Notification preferences"</a>
                    <ActionForm action=logout>
                        <button type="submit" class="menu-item">"Sign out"</button>
                    </ActionForm>
                </div>
            </details>
        </div>
    }
}

/// Until the account's address is confirmed: a reminder, and a button for a new link.
#[component]
fn VerifyBanner(email: String) -> impl IntoView {
    let resend = ServerAction::<ResendVerification>::new();
    view! {
        <div class="alert alert-warning" role="status">
            <p>"Confirm your email address: open the link we sent to "<strong>{email}</strong>"."</p>
            <ActionForm action=resend>
                <button type="submit" class="btn btn-ghost">"Send the link again"</button>
            </ActionForm>
        </div>
    }
}

/// A signed-in page: top bar, main content, footer.
#[component]
pub fn Shell(user: Option<User>, children: Children) -> impl IntoView {
    let unverified = user
        .as_ref()
        .filter(|u| !u.email_verified)
        .map(|u| u.email.clone());
    view! {
        <TopBar user=user/>
        <main class="page" id="main">
            {unverified.map(|email| view! { <VerifyBanner email=email/> })}
            {children()}
        </main>
        <footer class="footer">
            <span>"Keyport — self-hosted API keys"</span>
            <a href="/api/v1/openapi.json">"OpenAPI"</a>
        </footer>
    }
}
