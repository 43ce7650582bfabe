//! The frame around signed-in pages: top bar, navigation, account menu, footer.

use super::islands::bell::NotificationBell;
use super::server_fns::auth::Logout;
use super::server_fns::email_verification::ResendVerification;
use super::server_fns::notifications::unread_notifications;
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
                            <NavLink href="/docs" label="Docs"/>
                            <NotificationsLink/>
                            <NavLink href="/account" label="Account"/>
                            {user.role.is_admin().then(|| view! { <NavLink href="/admin" label="Admin"/> })}
                        </ul>
                    </nav>
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
