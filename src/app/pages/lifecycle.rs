//! /admin/lifecycle: the key lifecycle policy form (admins).

use super::signed_in_admin;
use crate::app::components::{FormError, PageHeader, action_error};
use crate::app::layout::Shell;
use crate::app::lifecycle_types::{LifecyclePolicy, UnusedAction};
use crate::app::server_fns::lifecycle::{SaveLifecyclePolicy, load_lifecycle_policy};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

fn days(d: Option<i64>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

#[component]
pub fn LifecyclePage() -> impl IntoView {
    let user = match signed_in_admin() {
        Ok(user) => user,
        Err(instead) => return instead,
    };
    let saved = use_query_map().get_untracked().get("saved").is_some();
    let policy = Resource::new(|| (), |_| load_lifecycle_policy());
    let save = ServerAction::<SaveLifecyclePolicy>::new();
    let error = action_error(save.value().get_untracked());
    view! {
        <Title text="Key lifecycle policy"/>
        <Shell user=Some(user)>
            <PageHeader title="Key lifecycle policy" subtitle="How long keys may live, when they expire by default, when owners are warned, and what happens to keys nobody uses. Applies to every key created, edited or rotated from now on.".to_string()>
                <a class="btn btn-ghost" href="/admin">"Users"</a>
                <a class="btn btn-secondary" href="/admin/key-templates">"Key templates"</a>
            </PageHeader>
            {saved.then(|| view! { <div class="alert alert-success" role="status">"Policy saved. It applies from the next key change and the next scans."</div> })}
            <FormError error=error/>
            <Suspense fallback=|| view! { <p class="muted">"Loading the policy…"</p> }>
                {move || policy.get().map(|result| match result {
                    Ok(p) => view! { <PolicyForm policy=p save=save/> }.into_any(),
                    Err(e) => view! { <div class="alert alert-error" role="alert">{e.detail}</div> }.into_any(),
                })}
            </Suspense>
        </Shell>
    }
    .into_any()
}

#[component]
fn PolicyForm(policy: LifecyclePolicy, save: ServerAction<SaveLifecyclePolicy>) -> impl IntoView {
    let warnings = policy
        .warning_days
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let unused_days = days(policy.unused_keys.map(|r| r.after_days));
    let disable = policy
        .unused_keys
        .is_some_and(|r| r.action == UnusedAction::Disable);
    view! {
        <section class="card">
            <ActionForm action=save attr:class="form">
                <fieldset class="fieldset">
                    <legend>"Expiry"</legend>
                    <div class="field-row">
                        <div class="field">
                            <label for="max_lifetime_days">"Maximum key lifetime (days)"</label>
                            <input id="max_lifetime_days" name="max_lifetime_days" type="number" min="1" max="3650" value=days(policy.max_lifetime_days) aria-describedby="max-hint"/>
                            <p class="hint" id="max-hint">"From the key's creation. Empty: no maximum. Rotation gives the new key at most this long."</p>
                        </div>
                        <div class="field">
                            <label for="default_expiry_days">"Default expiry (days)"</label>
                            <input id="default_expiry_days" name="default_expiry_days" type="number" min="1" max="3650" value=days(policy.default_expiry_days) aria-describedby="default-hint"/>
                            <p class="hint" id="default-hint">"For keys created without an expiry date (a template's expiry comes first)."</p>
                        </div>
                    </div>
                    <div class="field">
                        <label>
                            <input name="expiry_required" type="checkbox" value="on" checked=policy.expiry_required/>
                            " Expiry required: refuse keys without an expiry date when no default applies"
                        </label>
                    </div>
                    <div class="field">
                        <label for="warning_days">"Warn owners this many days before expiry"</label>
                        <input id="warning_days" name="warning_days" type="text" value=warnings placeholder="30, 7, 1" aria-describedby="warn-hint"/>
                        <p class="hint" id="warn-hint">"Up to 5 different numbers of days between 1 and 365, separated by commas. Empty: no warnings."</p>
                    </div>
                </fieldset>
                <fieldset class="fieldset">
                    <legend>"Unused keys"</legend>
                    <div class="field-row">
                        <div class="field">
                            <label for="unused_days">"Unused for (days)"</label>
                            <input id="unused_days" name="unused_days" type="number" min="1" max="3650" value=unused_days aria-describedby="unused-hint"/>
                            <p class="hint" id="unused-hint">"A key never used counts from its creation. Empty: unused keys are left alone."</p>
                        </div>
                        <div class="field">
                            <label for="unused_action">"Then"</label>
                            <select id="unused_action" name="unused_action">
                                <option value="flag" selected=!disable>"Notify the owner (key.unused)"</option>
                                <option value="disable" selected=disable>"Disable the key (key.disabled)"</option>
                            </select>
                        </div>
                    </div>
                    <p class="hint">"The scan acts on a key once; only a use after that makes it count again. A disabled key can be enabled again from its page."</p>
                </fieldset>
                <div class="form-actions"><button class="btn btn-primary" type="submit">"Save policy"</button></div>
            </ActionForm>
        </section>
    }
}
