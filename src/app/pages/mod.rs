pub mod account;
pub mod admin;
pub mod admin_user;
pub mod alerts;
pub mod apis;
pub mod audit;
pub mod auth;
pub mod broadcast;
pub mod dashboard;
pub mod docs;
pub mod email_verification;
pub mod errors;
pub mod home;
pub mod jobs;
pub mod key_templates;
pub mod keys;
pub mod lifecycle;
pub mod notification_prefs;
pub mod notifications;
pub mod orgs;
pub mod password_reset;
pub mod policies;
pub mod sessions;
pub mod system;
pub mod two_factor;
pub mod usage;
pub mod usage_breakdown;
pub mod webhooks;

use super::server_fns::{current_user, redirect};
use super::types::User;
use leptos::prelude::*;
use leptos_router::hooks::use_location;

/// The `?page=` of a list page: 1 when absent or not a number.
pub fn page_param(query: &leptos_router::params::ParamsMap) -> i64 {
    query
        .get("page")
        .and_then(|p| p.parse::<i64>().ok())
        .unwrap_or(1)
        .max(1)
}

/// The signed-in user; without one, the browser is sent to sign in and back here after.
pub fn signed_in_user() -> Option<User> {
    let user = current_user();
    if user.is_none() {
        let here = use_location().pathname.get_untracked();
        redirect(&format!(
            "/login?next={}",
            crate::app::format::url_encode(&here, true)
        ));
    }
    user
}

/// The signed-in admin; otherwise what the page shows instead: nothing (the browser is sent
/// to sign in) or the "not allowed" page.
pub fn signed_in_admin() -> Result<User, AnyView> {
    use leptos::prelude::IntoAny;
    match signed_in_user() {
        None => Err(().into_any()),
        Some(user) if !user.role.is_admin() => {
            Err(leptos::view! { <crate::app::pages::errors::Forbidden/> }.into_any())
        }
        Some(user) => Ok(user),
    }
}
