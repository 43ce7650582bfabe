use crate::app::server_fns::{current_user, redirect, setup_done};
use leptos::prelude::*;

/// `/` sends people where they belong: setup, sign-in or their dashboard.
#[component]
pub fn Home() -> impl IntoView {
    let target = if !setup_done() {
        "/setup"
    } else if current_user().is_some() {
        "/dashboard"
    } else {
        "/login"
    };
    redirect(target);
    view! { <p><a href=target>"Continue"</a></p> }
}
