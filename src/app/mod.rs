//! The portal: server-rendered pages; only islands (src/app/islands) run in the browser.

pub mod admin_types;
pub mod alert_types;
pub mod bulk_types;
#[cfg(feature = "ssr")]
pub mod charts;
pub mod components;
pub mod format;
pub mod islands;
pub mod job_types;
pub mod key_filters;
pub mod layout;
pub mod lifecycle_types;
pub mod limit_types;
pub mod notification_types;
pub mod org_types;
pub mod pages;
pub mod policy_types;
#[cfg(feature = "ssr")]
pub mod qr;
pub mod server_fns;
pub mod session_types;
pub mod system_types;
pub mod types;
pub mod usage_types;
pub mod webhook_types;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::{
    SsrMode,
    components::{Route, Router, Routes},
    path,
};

/// The HTML document around every page.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                <link rel="stylesheet" href="/pkg/keyport.css"/>
                <HydrationScripts options islands=true/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title formatter=|text: String| if text.is_empty() { "Keyport".to_string() } else { format!("{text} · Keyport") }/>
        <Router>
            <Routes fallback=|| view! { <pages::errors::NotFound/> }>
                <Route path=path!("/") view=pages::home::Home ssr=SsrMode::Async/>
                <Route path=path!("/setup") view=pages::auth::SetupPage ssr=SsrMode::Async/>
                <Route path=path!("/login") view=pages::auth::LoginPage ssr=SsrMode::Async/>
                <Route path=path!("/register") view=pages::auth::RegisterPage ssr=SsrMode::Async/>
                <Route path=path!("/forgot-password") view=pages::password_reset::ForgotPasswordPage ssr=SsrMode::Async/>
                <Route path=path!("/reset-password") view=pages::password_reset::ResetPasswordPage ssr=SsrMode::Async/>
                <Route path=path!("/verify-email") view=pages::email_verification::VerifyEmailPage ssr=SsrMode::Async/>
                <Route path=path!("/account-suspended") view=pages::errors::AccountSuspended ssr=SsrMode::Async/>
                <Route path=path!("/dashboard") view=pages::dashboard::DashboardPage ssr=SsrMode::Async/>
                <Route path=path!("/account") view=pages::account::AccountPage ssr=SsrMode::Async/>
                <Route path=path!("/account/two-factor") view=pages::two_factor::TwoFactorPage ssr=SsrMode::Async/>
                <Route path=path!("/account/sessions") view=pages::sessions::SessionsPage ssr=SsrMode::Async/>
                <Route path=path!("/account/notifications") view=pages::notification_prefs::NotificationPrefsPage ssr=SsrMode::Async/>
                <Route path=path!("/keys") view=pages::keys::KeysPage ssr=SsrMode::Async/>
                <Route path=path!("/keys/new") view=pages::keys::new::NewKeyPage ssr=SsrMode::Async/>
                // Before /keys/:id: the router takes the first route that matches.
                <Route path=path!("/keys/bulk") view=pages::keys::bulk::BulkPreviewPage ssr=SsrMode::Async/>
                <Route path=path!("/keys/bulk/:id") view=pages::keys::bulk::BulkResultPage ssr=SsrMode::Async/>
                <Route path=path!("/keys/:id") view=pages::keys::detail::KeyDetailPage ssr=SsrMode::Async/>
                <Route path=path!("/usage") view=pages::usage::UsagePage ssr=SsrMode::Async/>
                <Route path=path!("/apis") view=pages::apis::ApisPage ssr=SsrMode::Async/>
                <Route path=path!("/apis/:id") view=pages::apis::detail::ApiDetailPage ssr=SsrMode::Async/>
                <Route path=path!("/docs") view=pages::docs::DocsPage ssr=SsrMode::Async/>
                <Route path=path!("/orgs") view=pages::orgs::OrgsPage ssr=SsrMode::Async/>
                <Route path=path!("/orgs/:id") view=pages::orgs::OrgDetailPage ssr=SsrMode::Async/>
                <Route path=path!("/invitations/:token") view=pages::orgs::InvitationPage ssr=SsrMode::Async/>
                <Route path=path!("/webhooks") view=pages::webhooks::WebhooksPage ssr=SsrMode::Async/>
                <Route path=path!("/webhooks/:id") view=pages::webhooks::WebhookDetailPage ssr=SsrMode::Async/>
                <Route path=path!("/notifications") view=pages::notifications::NotificationsPage ssr=SsrMode::Async/>
                <Route path=path!("/admin") view=pages::admin::AdminPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/users/:id") view=pages::admin_user::AdminUserPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/audit") view=pages::audit::AuditLogPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/security") view=pages::audit::SecurityEventsPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/system") view=pages::system::SystemPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/jobs") view=pages::jobs::JobsPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/alerts") view=pages::alerts::AlertsAdminPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/rate-limits") view=pages::policies::PoliciesPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/rate-limits/:id") view=pages::policies::detail::PolicyDetailPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/lifecycle") view=pages::lifecycle::LifecyclePage ssr=SsrMode::Async/>
                <Route path=path!("/admin/key-templates") view=pages::key_templates::KeyTemplatesPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/key-templates/:id") view=pages::key_templates::KeyTemplateDetailPage ssr=SsrMode::Async/>
            </Routes>
        </Router>
    }
}
