//! "Forgot your password?" and the page a reset link opens: plain forms posting to server
//! functions, working without JavaScript.

use super::auth::{AuthCard, EmailField};
use crate::app::components::{FormError, action_error};
use crate::app::islands::password::PasswordField;
use crate::app::server_fns::password_reset::{ForgotPassword, ResetPassword, check_reset_token};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let action = ServerAction::<ForgotPassword>::new();
    let sent = use_query_map().get_untracked().get("sent").is_some();
    view! {
        <Title text="Forgot password"/>
        <AuthCard title="Reset your password" subtitle="Enter the email address of your account and we will mail you a link to choose a new password.">
            {sent.then(|| view! {
                <div class="alert alert-success" role="status">
                    <p>"If an account exists for that address, we sent a link to it. It works once, for an hour. Check your spam folder if it does not arrive within a few minutes."</p>
                </div>
            })}
            <FormError error=action_error(action.value().get_untracked())/>
            <ActionForm action=action attr:class="form">
                <EmailField/>
                <div class="form-actions">
                    <button class="btn btn-primary btn-block" type="submit">"Send reset link"</button>
                </div>
            </ActionForm>
            <p class="auth-switch">"Remembered it? "<a href="/login">"Sign in"</a></p>
        </AuthCard>
    }
}

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let action = ServerAction::<ResetPassword>::new();
    let token = use_query_map()
        .get_untracked()
        .get("token")
        .unwrap_or_default();
    let checked = Resource::new(
        {
            let token = token.clone();
            move || token.clone()
        },
        check_reset_token,
    );
    let error = action_error(action.value().get_untracked());
    view! {
        <Title text="Choose a new password"/>
        <AuthCard title="Choose a new password" subtitle="Setting it signs your account out everywhere.">
            <Suspense fallback=|| view! { <p class="muted">"Checking your link…"</p> }>
                {move || {
                    let (token, error) = (token.clone(), error.clone());
                    checked.get().map(move |result| match result {
                    Err(e) => view! {
                        <div class="alert alert-error" role="alert"><p>{e.detail}</p></div>
                        <p><a class="btn btn-primary btn-block" href="/forgot-password">"Get a new link"</a></p>
                    }.into_any(),
                    Ok(()) => view! {
                        <FormError error=error/>
                        <ActionForm action=action attr:class="form">
                            <input type="hidden" name="token" value=token/>
                            <PasswordField id="new_password" name="new_password" label="New password" autocomplete="new-password" strength=true
                                hint="At least 10 characters. A few unrelated words make a strong password."/>
                            <div class="form-actions">
                                <button class="btn btn-primary btn-block" type="submit">"Set new password"</button>
                            </div>
                        </ActionForm>
                    }.into_any(),
                    })
                }}
            </Suspense>
            <p class="auth-switch"><a href="/login">"Back to sign in"</a></p>
        </AuthCard>
    }
}
