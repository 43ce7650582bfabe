//! Sign-in, registration and the one-time setup: plain forms posting to server functions.

use crate::app::components::{FormError, action_error};
use crate::app::islands::password::PasswordField;
use crate::app::server_fns::auth::{CompleteSetup, Login, Register};
use crate::app::server_fns::{current_user, redirect, setup_done};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn AuthCard(title: &'static str, subtitle: &'static str, children: Children) -> impl IntoView {
    view! {
        <main class="auth-page" id="main">
            <div class="auth-card">
                <a href="/" class="auth-logo" aria-label="Keyport home">
                    <img src="/logo.svg" alt="" width="40" height="40"/>
                </a>
                <h1>{title}</h1>
                <p class="subtitle">{subtitle}</p>
                {children()}
            </div>
        </main>
    }
}

#[component]
pub fn EmailField() -> impl IntoView {
    view! {
        <div class="field">
            <label for="email">"Email"</label>
            <input id="email" name="email" type="email" autocomplete="username" required maxlength="254"/>
        </div>
    }
}

#[component]
fn NameField() -> impl IntoView {
    view! {
        <div class="field">
            <label for="name">"Name"</label>
            <input id="name" name="name" type="text" autocomplete="name" required maxlength="100"/>
        </div>
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    if !setup_done() {
        redirect("/setup");
    } else if current_user().is_some() {
        redirect("/dashboard");
    }
    let action = ServerAction::<Login>::new();
    let query = use_query_map().get_untracked();
    let next = query.get("next");
    let reset = query.get("reset").is_some();
    let verified = query.get("verified").is_some();
    view! {
        <Title text="Sign in"/>
        <AuthCard title="Sign in to Keyport" subtitle="Manage your API keys and usage.">
            {verified.then(|| view! {
                <div class="alert alert-success" role="status"><p>"Your email address is confirmed. Sign in to continue."</p></div>
            })}
            {reset.then(|| view! {
                <div class="alert alert-success" role="status"><p>"Your password was changed. Sign in with the new one."</p></div>
            })}
            <FormError error=action_error(action.value().get_untracked())/>
            <ActionForm action=action attr:class="form">
                {next.map(|n| view! { <input type="hidden" name="next" value=n/> })}
                <EmailField/>
                <PasswordField id="password" name="password" label="Password" autocomplete="current-password" strength=false/>
                <p class="hint"><a href="/forgot-password">"Forgot your password?"</a></p>
                <div class="field">
                    <label for="code">"Authentication code " <span class="muted">"(if two-factor sign-in is on)"</span></label>
                    <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" maxlength="32" aria-describedby="code-hint"/>
                    <p class="hint" id="code-hint">"The 6-digit code from your authenticator app, or one of your recovery codes."</p>
                </div>
                <div class="form-actions">
                    <button class="btn btn-primary btn-block" type="submit">"Sign in"</button>
                </div>
            </ActionForm>
            <p class="auth-switch">"New to Keyport? "<a href="/register">"Create an account"</a></p>
        </AuthCard>
    }
}

#[component]
pub fn RegisterPage() -> impl IntoView {
    if !setup_done() {
        redirect("/setup");
    } else if current_user().is_some() {
        redirect("/dashboard");
    }
    let action = ServerAction::<Register>::new();
    view! {
        <Title text="Create account"/>
        <AuthCard title="Create your account" subtitle="Issue and manage API keys in minutes.">
            <FormError error=action_error(action.value().get_untracked())/>
            <ActionForm action=action attr:class="form">
                <NameField/>
                <EmailField/>
                <PasswordField id="password" name="password" label="Password" autocomplete="new-password" strength=true
                    hint="At least 10 characters. A few unrelated words make a strong password."/>
                <div class="form-actions">
                    <button class="btn btn-primary btn-block" type="submit">"Create account"</button>
                </div>
            </ActionForm>
            <p class="auth-switch">"Already have an account? "<a href="/login">"Sign in"</a></p>
        </AuthCard>
    }
}

#[component]
pub fn SetupPage() -> impl IntoView {
    if setup_done() {
        redirect("/login");
    }
    let action = ServerAction::<CompleteSetup>::new();
    view! {
        <Title text="Setup"/>
        <AuthCard title="Welcome to Keyport" subtitle="Create the administrator account. This page is available only until the first account exists.">
            <FormError error=action_error(action.value().get_untracked())/>
            <ActionForm action=action attr:class="form">
                <NameField/>
                <EmailField/>
                <PasswordField id="password" name="password" label="Password" autocomplete="new-password" strength=true
                    hint="At least 10 characters."/>
                <div class="form-actions">
                    <button class="btn btn-primary btn-block" type="submit">"Create administrator"</button>
                </div>
            </ActionForm>
        </AuthCard>
    }
}
