use super::signed_in_user;
use crate::app::components::{FormError, PageHeader, action_error};
use crate::app::format;
use crate::app::islands::password::PasswordField;
use crate::app::layout::Shell;
use crate::app::server_fns::account::{ChangePassword, UpdateProfile};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn AccountPage() -> impl IntoView {
    let Some(user) = signed_in_user() else {
        return ().into_any();
    };
    let profile = ServerAction::<UpdateProfile>::new();
    let password = ServerAction::<ChangePassword>::new();
    let saved = use_query_map().get_untracked().get("saved");
    let notice = match saved.as_deref() {
        Some("profile") => Some("Profile saved."),
        Some("password") => Some("Password changed. Other sessions have been signed out."),
        Some("verification") => Some("We sent a new confirmation link to your email address."),
        _ => None,
    };
    view! {
        <Title text="Account"/>
        <Shell user=Some(user.clone())>
            <PageHeader title="Account" subtitle="Your profile and sign-in settings.".to_string()/>
            {notice.map(|n| view! { <div class="alert alert-success" role="status">{n}</div> })}
            <div class="grid">
                <section class="card" aria-labelledby="profile">
                    <h2 id="profile">"Profile"</h2>
                    <FormError error=action_error(profile.value().get_untracked())/>
                    <ActionForm action=profile attr:class="form">
                        <div class="field">
                            <label for="name">"Name"</label>
                            <input id="name" name="name" type="text" autocomplete="name" required maxlength="100" value=user.name.clone()/>
                        </div>
                        <div class="form-actions">
                            <button class="btn btn-primary" type="submit">"Save"</button>
                        </div>
                    </ActionForm>
                    <dl class="kv">
                        <dt>"Email"</dt><dd>{user.email.clone()}</dd>
                        <dt>"Role"</dt><dd><span class="badge badge-blue">{user.role.label()}</span></dd>
                        <dt>"Member since"</dt><dd>{format::date(user.created_at)}</dd>
                    </dl>
                </section>
                <section class="card" aria-labelledby="password-heading">
                    <h2 id="password-heading">"Password"</h2>
                    <FormError error=action_error(password.value().get_untracked())/>
                    <ActionForm action=password attr:class="form">
                        <PasswordField id="current_password" name="current_password" label="Current password" autocomplete="current-password" strength=false/>
                        <PasswordField id="new_password" name="new_password" label="New password" autocomplete="new-password" strength=true
                            hint="At least 10 characters. Changing it signs out your other sessions."/>
                        <div class="form-actions">
                            <button class="btn btn-primary" type="submit">"Change password"</button>
                        </div>
                    </ActionForm>
                </section>
            </div>
        </Shell>
    }
    .into_any()
}
