//! The fields of the create and edit forms.

use super::limits_text;
use crate::app::types::Api;
use leptos::prelude::*;

/// What the form shows: blank for a new API, the stored values when editing.
#[derive(Clone)]
pub struct ApiFieldValues {
    pub name: String,
    pub slug: String,
    pub description: String,
    pub upstream_url: String,
    pub timeout_ms: String,
    pub enabled: bool,
    /// The one-row limit editor, or None when the API has limits it cannot show (several, or
    /// one not named "default", set over REST): those are kept as they are.
    pub limit: Option<LimitRow>,
    /// The kept limits, described.
    pub kept_limits: String,
}

#[derive(Clone, Default)]
pub struct LimitRow {
    pub limit: String,
    pub window: String,
    pub burst: String,
}

impl Default for ApiFieldValues {
    fn default() -> Self {
        Self {
            name: String::new(),
            slug: String::new(),
            description: String::new(),
            upstream_url: String::new(),
            timeout_ms: "30000".into(),
            enabled: true,
            limit: Some(LimitRow {
                window: "minute".into(),
                ..Default::default()
            }),
            kept_limits: String::new(),
        }
    }
}

impl ApiFieldValues {
    pub fn of(api: &Api) -> Self {
        let limit = match api.default_rate_limits.as_slice() {
            [] => Some(LimitRow {
                window: "minute".into(),
                ..Default::default()
            }),
            [one] if one.name == "default" => Some(LimitRow {
                limit: one.limit.to_string(),
                window: one.window.as_str().into(),
                burst: one.burst.to_string(),
            }),
            _ => None,
        };
        Self {
            name: api.name.clone(),
            slug: api.slug.clone(),
            description: api.description.clone(),
            upstream_url: api.upstream_url.clone(),
            timeout_ms: api.timeout_ms.to_string(),
            enabled: api.enabled,
            limit,
            kept_limits: limits_text(&api.default_rate_limits),
        }
    }
}

#[component]
pub fn ApiFields(#[prop(optional)] values: Option<ApiFieldValues>) -> impl IntoView {
    let values = values.unwrap_or_default();
    view! {
        <div class="field">
            <label for="api-name">"Name"</label>
            <input id="api-name" name="name" type="text" required maxlength="100" value=values.name placeholder="Tickets"/>
        </div>
        <div class="field">
            <label for="api-slug">"Slug"</label>
            <input id="api-slug" name="slug" type="text" required maxlength="40" pattern="[a-z0-9]([a-z0-9\\-]{0,38}[a-z0-9])?"
                value=values.slug placeholder="tickets" aria-describedby="api-slug-hint" autocapitalize="none" spellcheck="false"/>
            <p class="hint" id="api-slug-hint">"Lowercase letters, digits and inner hyphens. Consumers call the API at "<code>"/gw/<slug>/"</code>"."</p>
        </div>
        <div class="field">
            <label for="api-upstream">"Upstream base URL"</label>
            <input id="api-upstream" name="upstream_url" type="url" required maxlength="2048" value=values.upstream_url
                placeholder="https://tickets.internal.example.com/v2" aria-describedby="api-upstream-hint"/>
            <p class="hint" id="api-upstream-hint">"http or https, without a user name, password, query or fragment. The path after the slug is appended."</p>
        </div>
        <div class="field">
            <label for="api-description">"Description"</label>
            <textarea id="api-description" name="description" maxlength="1000" rows="2">{values.description}</textarea>
        </div>
        {match values.limit {
            Some(row) => view! {
                <fieldset class="field">
                    <legend>"Default rate limit"</legend>
                    <input type="hidden" name="limit_row" value="1"/>
                    <p class="hint" id="api-limit-hint">"For keys without limits of their own. Leave the limit empty for none."</p>
                    <div class="row">
                        <label for="api-limit">"Requests"</label>
                        <input id="api-limit" name="rate_limit" type="number" min="1" max="1000000000" step="1" value=row.limit aria-describedby="api-limit-hint"/>
                        <label for="api-window">"per"</label>
                        <select id="api-window" name="rate_window">
                            {["second", "minute", "hour", "day"]
                                .into_iter()
                                .map(|w| view! { <option value=w selected=row.window == w>{w}</option> })
                                .collect_view()}
                        </select>
                        <label for="api-burst">"Burst"</label>
                        <input id="api-burst" name="rate_burst" type="number" min="0" max="1000000000" step="1" value=row.burst placeholder="0"/>
                    </div>
                </fieldset>
            }.into_any(),
            None => view! {
                <div class="field">
                    <span class="label">"Default rate limits"</span>
                    <p>{values.kept_limits}</p>
                    <p class="hint">"Several limits are set; they are kept. Change them with the REST API (PATCH /api/v1/apis/{id})."</p>
                </div>
            }.into_any(),
        }}
        <div class="field">
            <label for="api-timeout">"Upstream timeout (ms)"</label>
            <input id="api-timeout" name="timeout_ms" type="number" min="100" max="300000" step="1" value=values.timeout_ms aria-describedby="api-timeout-hint"/>
            <p class="hint" id="api-timeout-hint">"100 to 300000; empty: 30000."</p>
        </div>
        <div class="field">
            <label>
                <input name="enabled" type="checkbox" value="on" checked=values.enabled/>
                " Enabled: the gateway serves this API"
            </label>
        </div>
    }
}
