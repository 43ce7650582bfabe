pub mod account;
pub mod admin;
pub mod apis;
pub mod auth;
pub mod dashboard;
pub mod docs;
pub mod errors;
pub mod home;
pub mod keys;
pub mod policies;

use super::server_fns::{current_user, redirect};
use super::types::User;
use leptos::prelude::*;
use leptos_router::hooks::use_location;

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
