use super::signed_in_user;
use crate::app::components::{FormError, PageHeader, action_error};
use crate::app::format;
use crate::app::islands::password::PasswordField;
use crate::app::layout::Shell;
use crate::app::server_fns::account::{ChangePassword, UpdateProfile};
use crate::app::server_fns::two_factor::{PAGE as TWO_FACTOR_PAGE, two_factor_status};
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
    let two_factor = Resource::new(|| (), |_| two_factor_status());
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
                <section class="card" aria-labelledby="two-factor-heading">
                    <h2 id="two-factor-heading">"Two-factor sign-in"</h2>
                    <p>"A code from an authenticator app on top of your password."</p>
                    <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                        {move || two_factor.get().map(|result| match result {
                            Ok(status) if status.enabled => view! {
                                <p><span class="badge badge-green">"On"</span>" "{format!("{} of 10 recovery codes left", status.recovery_codes_left)}</p>
                                <a class="btn btn-secondary" href=TWO_FACTOR_PAGE>"Manage two-factor sign-in"</a>
                            }.into_any(),
                            Ok(_) => view! {
                                <p><span class="badge badge-gray">"Off"</span></p>
                                <a class="btn btn-primary" href=TWO_FACTOR_PAGE>"Set up two-factor sign-in"</a>
                            }.into_any(),
                            Err(e) => view! { <div class="alert alert-error" role="alert">{e.detail}</div> }.into_any(),
                        })}
                    </Suspense>
                </section>
                <section class="card" aria-labelledby="sessions-heading">
                    <h2 id="sessions-heading">"Sessions"</h2>
                    <p>"See every browser and script signed in to your account, with its device, IP address and last activity, and sign out the ones you do not use."</p>
                    <div class="form-actions">
                        <a class="btn btn-secondary" href="/account/sessions">"Manage sessions"</a>
                    </div>
                </section>
                <section class="card" aria-labelledby="notifications-heading">
                    <h2 id="notifications-heading">"Notifications"</h2>
                    <p>"Choose which events reach you in the portal, by email and through your webhooks: keys created, expiring or revoked, usage alerts, security notices, announcements."</p>
                    <div class="form-actions">
                        <a class="btn btn-secondary" href="/account/notifications">"Notification preferences"</a>
                    </div>
                </section>
            </div>
        </Shell>
    }
    .into_any()
}
