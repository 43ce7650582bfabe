use crate::app::components::{FormError, PageHeader, action_error};
use crate::app::layout::Shell;
use crate::app::pages::signed_in_user;
use crate::app::server_fns::keys::CreateKey;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NewKeyPage() -> impl IntoView {
    let Some(user) = signed_in_user() else {
        return ().into_any();
    };
    let action = ServerAction::<CreateKey>::new();
    view! {
        <Title text="Create API key"/>
        <Shell user=Some(user)>
            <PageHeader title="Create API key" subtitle="The key is shown once, right after you create it.".to_string()/>
            <section class="card">
                <FormError error=action_error(action.value().get_untracked())/>
                <ActionForm action=action attr:class="form">
                    <KeyFields/>
                    <div class="form-actions">
                        <button class="btn btn-primary" type="submit">"Create key"</button>
                        <a class="btn btn-ghost" href="/keys">"Cancel"</a>
                    </div>
                </ActionForm>
            </section>
        </Shell>
    }
    .into_any()
}

/// Current values of an existing key, for the edit form.
#[derive(Clone, Default)]
pub struct KeyFieldValues {
    pub name: String,
    pub description: String,
    pub scopes: String,
    pub tags: String,
    pub expires_on: String,
    pub ip_allowlist: String,
    pub allowed_origins: String,
}

/// The editable fields, shared by the create and edit forms.
#[component]
pub fn KeyFields(#[prop(optional)] values: KeyFieldValues) -> impl IntoView {
    view! {
        <div class="field">
            <label for="name">"Name"</label>
            <input id="name" name="name" type="text" required maxlength="100" value=values.name placeholder="Customer portal"/>
        </div>
        <div class="field">
            <label for="description">"Description"</label>
            <textarea id="description" name="description" maxlength="1000" rows="2">{values.description}</textarea>
        </div>
        <div class="field">
            <label for="scopes">"Scopes"</label>
            <input id="scopes" name="scopes" type="text" value=values.scopes placeholder="read tickets:write" aria-describedby="scopes-hint"/>
            <p class="hint" id="scopes-hint">"Separate with spaces or commas. "<code>"name:*"</code>" grants every scope under name."</p>
        </div>
        <div class="field">
            <label for="tags">"Tags"</label>
            <input id="tags" name="tags" type="text" value=values.tags placeholder="mobile production" aria-describedby="tags-hint"/>
            <p class="hint" id="tags-hint">"Lowercase words to group and filter keys."</p>
        </div>
        <div class="field">
            <label for="expires_on">"Expires on"</label>
            <input id="expires_on" name="expires_on" type="date" value=values.expires_on aria-describedby="expires-hint"/>
            <p class="hint" id="expires-hint">"At 00:00 UTC that day. Leave empty for a key that does not expire."</p>
        </div>
        <div class="field">
            <label for="ip_allowlist">"Allowed IPs"</label>
            <textarea id="ip_allowlist" name="ip_allowlist" rows="2" placeholder="203.0.113.0/24" aria-describedby="ip-hint">{values.ip_allowlist}</textarea>
            <p class="hint" id="ip-hint">"IPv4/IPv6 addresses or CIDR ranges, one per line. Empty: any address."</p>
        </div>
        <div class="field">
            <label for="allowed_origins">"Allowed origins"</label>
            <textarea id="allowed_origins" name="allowed_origins" rows="2" placeholder="https://app.example.com">{values.allowed_origins}</textarea>
        </div>
    }
}
