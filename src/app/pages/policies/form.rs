//! The fields of the policy create and edit forms.

use crate::app::policy_types::{PolicyScope, RateLimitPolicy};
use leptos::prelude::*;

/// What the form shows: blank for a new policy, the stored values when editing.
#[derive(Clone)]
pub struct PolicyFieldValues {
    pub name: String,
    pub scope: PolicyScope,
    pub target: String,
    pub method: String,
    pub path_pattern: String,
    pub limit: String,
    pub window: String,
    pub burst: String,
    pub enabled: bool,
}

impl Default for PolicyFieldValues {
    fn default() -> Self {
        Self {
            name: String::new(),
            scope: PolicyScope::Ip,
            target: String::new(),
            method: String::new(),
            path_pattern: String::new(),
            limit: String::new(),
            window: "minute".into(),
            burst: String::new(),
            enabled: true,
        }
    }
}

impl PolicyFieldValues {
    pub fn of(p: &RateLimitPolicy) -> Self {
        Self {
            name: p.name.clone(),
            scope: p.scope,
            target: p.target.clone().unwrap_or_default(),
            method: p.method.clone().unwrap_or_default(),
            path_pattern: p.path_pattern.clone().unwrap_or_default(),
            limit: p.limit.to_string(),
            window: p.window.as_str().into(),
            burst: p.burst.to_string(),
            enabled: p.enabled,
        }
    }
}

fn scope_label(scope: PolicyScope) -> &'static str {
    match scope {
        PolicyScope::Global => "Global: all requests share one bucket",
        PolicyScope::Api => "API: each API (or the target API) has one bucket",
        PolicyScope::Endpoint => "Endpoint: requests matching method/path share one bucket",
        PolicyScope::User => "User: each key owner has a bucket",
        PolicyScope::Org => "Organization: each org has a bucket",
        PolicyScope::Ip => "Client IP: each address (IPv6: each /64) has a bucket",
        PolicyScope::Key => "Key: each key has a bucket",
    }
}

#[component]
pub fn PolicyFields(#[prop(optional)] values: Option<PolicyFieldValues>) -> impl IntoView {
    let v = values.unwrap_or_default();
    let scope = v.scope;
    let method = v.method.clone();
    let window = v.window.clone();
    view! {
        <div class="field">
            <label for="policy-name">"Name"</label>
            <input id="policy-name" name="name" type="text" maxlength="100" value=v.name placeholder="Per-IP ceiling" aria-describedby="policy-name-hint"/>
            <p class="hint" id="policy-name-hint">"Optional; made up from scope and limit when empty."</p>
        </div>
        <div class="field">
            <label for="policy-scope">"Scope"</label>
            <select id="policy-scope" name="scope">
                {PolicyScope::ALL
                    .into_iter()
                    .map(|s| view! { <option value=s.as_str() selected=s == scope>{scope_label(s)}</option> })
                    .collect_view()}
            </select>
        </div>
        <div class="field">
            <label for="policy-target">"Target"</label>
            <input id="policy-target" name="target" type="text" maxlength="100" value=v.target
                placeholder="203.0.113.0/24" aria-describedby="policy-target-hint" autocapitalize="none" spellcheck="false"/>
            <p class="hint" id="policy-target-hint">
                "Optional: limit the policy to one subject: an API slug (API, endpoint), a user, org or key id, or an IP address or CIDR range (client IP; each address in the range still has its own bucket). Empty: every subject."
            </p>
        </div>
        <fieldset class="field">
            <legend>"Which requests"</legend>
            <div class="row">
                <div class="field">
                    <label for="policy-method">"Method"</label>
                    <select id="policy-method" name="method">
                        <option value="" selected=method.is_empty()>"Any"</option>
                        {crate::app::policy_types::METHODS
                            .into_iter()
                            .map(|m| view! { <option value=m selected=method == m>{m}</option> })
                            .collect_view()}
                    </select>
                </div>
                <div class="field grow">
                    <label for="policy-path">"Path pattern"</label>
                    <input id="policy-path" name="path_pattern" type="text" maxlength="200" value=v.path_pattern
                        placeholder="/tickets/{id}/comments" aria-describedby="policy-path-hint" autocapitalize="none" spellcheck="false"/>
                </div>
            </div>
            <p class="hint" id="policy-path-hint">
                "Optional for user, org, IP and key policies; an endpoint policy needs one or both. Not used with global and API policies. In a pattern, "<code>"*"</code>" or "<code>"{name}"</code>
                " matches one segment and a final "<code>"/**"</code>" the rest. Verification matches the "<code>"endpoint"</code>
                " it is sent; the gateway, the path after "<code>"/gw/<slug>"</code>"."
            </p>
        </fieldset>
        <fieldset class="field">
            <legend>"Limit"</legend>
            <div class="row">
                <label for="policy-limit">"Requests"</label>
                <input id="policy-limit" name="limit" type="number" required min="1" max="1000000000" step="1" value=v.limit/>
                <label for="policy-window">"per"</label>
                <select id="policy-window" name="window">
                    {["second", "minute", "hour", "day"]
                        .into_iter()
                        .map(|w| view! { <option value=w selected=window == w>{w}</option> })
                        .collect_view()}
                </select>
                <label for="policy-burst">"Burst"</label>
                <input id="policy-burst" name="burst" type="number" min="0" max="1000000000" step="1" value=v.burst placeholder="0"/>
            </div>
        </fieldset>
        <div class="field">
            <label>
                <input name="enabled" type="checkbox" value="on" checked=v.enabled/>
                " Enabled: enforced on every verification and gateway call it matches"
            </label>
        </div>
    }
}
