//! The page a confirmation link opens. It asks for a click (a plain form): mail scanners
//! fetch links, and a GET must not use the link up.

use super::auth::AuthCard;
use crate::app::components::{FormError, action_error};
use crate::app::server_fns::email_verification::VerifyEmail;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let action = ServerAction::<VerifyEmail>::new();
    let token = use_query_map()
        .get_untracked()
        .get("token")
        .unwrap_or_default();
    view! {
        <Title text="Confirm your email address"/>
        <AuthCard title="Confirm your email address" subtitle="One click confirms that this address belongs to your Keyport account.">
            <FormError error=action_error(action.value().get_untracked())/>
            <ActionForm action=action attr:class="form">
                <input type="hidden" name="token" value=token/>
                <div class="form-actions">
                    <button class="btn btn-primary btn-block" type="submit">"Confirm my address"</button>
                </div>
            </ActionForm>
            <p class="auth-switch"><a href="/login">"Back to sign in"</a></p>
        </AuthCard>
    }
}
