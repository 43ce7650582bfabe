use crate::app::components::{FormError, PageHeader, action_error};
use crate::app::layout::Shell;
use crate::app::lifecycle_types::{KeyTemplate, LifecyclePolicy};
use crate::app::org_types::OrgSwitcher;
use crate::app::pages::signed_in_user;
use crate::app::server_fns::keys::CreateKey;
use crate::app::server_fns::lifecycle::{key_templates_page, lifecycle_hint};
use crate::app::server_fns::orgs::load_org_switcher;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NewKeyPage() -> impl IntoView {
    let Some(user) = signed_in_user() else {
        return ().into_any();
    };
    let action = ServerAction::<CreateKey>::new();
    // Choosing a template is a plain GET (?template=ID) that draws the form pre-filled.
    let query = leptos_router::hooks::use_query_map().get_untracked();
    let chosen = query.get("template").and_then(|t| t.parse::<i64>().ok());
    // The org a key is for: `?org=ID` (from an org's page), else the active org.
    let asked_org = query.get("org").and_then(|t| t.parse::<i64>().ok());
    let data = Resource::new(
        move || chosen,
        |chosen| async move {
            let list = key_templates_page(1)
                .await
                .map(|p| p.items)
                .unwrap_or_default();
            let template = chosen.and_then(|id| list.iter().find(|t| t.id == id).cloned());
            let policy = lifecycle_hint().await.ok();
            let orgs = load_org_switcher().await.unwrap_or_default();
            (list, template, policy, orgs)
        },
    );
    view! {
        <Title text="Create API key"/>
        <Shell user=Some(user)>
            <PageHeader title="Create API key" subtitle="The key is shown once, right after you create it.".to_string()/>
            <section class="card">
                <FormError error=action_error(action.value().get_untracked())/>
                <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || data.get().map(|(list, template, policy, orgs)| view! {
                        <TemplatePicker list=list chosen=template.as_ref().map(|t| t.id)/>
                        {policy.map(policy_hint)}
                        <ActionForm action=action attr:class="form">
                            <OwnerPicker orgs=orgs asked=asked_org/>
                            <TemplateInputs template=template.clone()/>
                            <KeyFields
                                values=template.as_ref().map(template_values).unwrap_or_default()
                                name_optional=template.as_ref().is_some_and(|t| t.name_template.is_some())
                            />
                            <div class="form-actions">
                                <button class="btn btn-primary" type="submit">"Create key"</button>
                                <a class="btn btn-ghost" href="/keys">"Cancel"</a>
                            </div>
                        </ActionForm>
                    })}
                </Suspense>
            </section>
        </Shell>
    }
    .into_any()
}

/// Who owns the new key: the user, or one of their orgs (preselected: the asked-for org, else
/// the active one). Not shown to users without an org.
#[component]
fn OwnerPicker(orgs: OrgSwitcher, asked: Option<i64>) -> impl IntoView {
    if orgs.orgs.is_empty() {
        return ().into_any();
    }
    let selected = asked
        .filter(|id| orgs.orgs.iter().any(|o| o.id == *id))
        .or(orgs.active);
    view! {
        <div class="field">
            <label for="org_id">"Owner"</label>
            <select id="org_id" name="org_id" aria-describedby="org-hint">
                <option value="" selected=selected.is_none()>"Me (personal key)"</option>
                {orgs.orgs.into_iter().map(|o| view! {
                    <option value=o.id selected=selected == Some(o.id)>{o.label}</option>
                }).collect_view()}
            </select>
            <p class="hint" id="org-hint">"An organization's key is seen and managed by its members, by role, and stays when you leave."</p>
        </div>
    }
    .into_any()
}

/// The lifecycle rules a new key meets, in a sentence (none: nothing shown).
fn policy_hint(p: LifecyclePolicy) -> Option<impl IntoView> {
    let mut rules = Vec::new();
    if let Some(d) = p.max_lifetime_days {
        rules.push(format!("keys live at most {d} days"));
    }
    if let Some(d) = p.default_expiry_days {
        rules.push(format!(
            "without an expiry date a key expires after {d} days"
        ));
    }
    if p.expiry_required {
        rules.push("an expiry is required".to_string());
    }
    (!rules.is_empty())
        .then(|| view! { <p class="hint">{format!("Lifecycle policy: {}.", rules.join("; "))}</p> })
}

/// A GET form: choosing a template reloads the page with the form filled from it.
#[component]
fn TemplatePicker(list: Vec<KeyTemplate>, chosen: Option<i64>) -> impl IntoView {
    if list.is_empty() {
        return ().into_any();
    }
    view! {
        <form class="row" method="get" action="/keys/new">
            <label for="template">"Start from a template"</label>
            <select id="template" name="template">
                <option value="" selected=chosen.is_none()>"No template"</option>
                {list.into_iter().map(|t| view! {
                    <option value=t.id selected=chosen == Some(t.id)>{t.name.clone()}</option>
                }).collect_view()}
            </select>
            <button class="btn btn-secondary" type="submit">"Use template"</button>
        </form>
    }
    .into_any()
}

/// The chosen template's id, and its naming variables when it has a naming template.
#[component]
fn TemplateInputs(template: Option<KeyTemplate>) -> impl IntoView {
    template.map(template_inputs)
}

fn template_inputs(t: KeyTemplate) -> impl IntoView {
    let vars = t.name_vars.clone();
    let placeholder = vars
        .iter()
        .map(|v| format!("{v}=…"))
        .collect::<Vec<_>>()
        .join(" ");
    let naming = t.name_template.clone().map(|pattern| {
        view! {
            <p class="hint">{format!("Leave the name empty to name the key {pattern}.")}</p>
            {(!vars.is_empty()).then(|| view! {
                <div class="field">
                    <label for="name_vars">"Name variables"</label>
                    <input id="name_vars" name="name_vars" type="text" maxlength="500" placeholder=placeholder aria-describedby="name-vars-hint" autocapitalize="none" spellcheck="false"/>
                    <p class="hint" id="name-vars-hint">{format!("Needed when the name is empty: {}, written as name=value separated by spaces.", vars.join(", "))}</p>
                </div>
            })}
        }
    });
    let expiry = t
        .expiry_days
        .map(|d| view! { <p class="hint">{format!("Without an expiry date the key expires after {d} days (template).")}</p> });
    view! {
        <input type="hidden" name="template_id" value=t.id/>
        <p class="hint">{format!("Template {}: empty fields take its values.", t.name)}</p>
        {naming}
        {expiry}
    }
}

fn template_values(t: &KeyTemplate) -> KeyFieldValues {
    KeyFieldValues {
        scopes: t.scopes.join(" "),
        tags: t.tags.join(" "),
        traffic: crate::app::pages::key_templates::traffic_values(t),
        ..Default::default()
    }
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
    pub traffic: TrafficValues,
}

/// The traffic fields' current values; for a new key, all blank and all shown.
#[derive(Clone)]
pub struct TrafficValues {
    pub rate_limit: String,
    pub rate_window: String,
    pub rate_burst: String,
    /// False when the key has limits the single-row form cannot show (set over REST).
    pub limits_shown: bool,
    pub quota_limit: String,
    pub quota_period: String,
    /// False for a custom-period quota (set over REST).
    pub quota_shown: bool,
    pub remaining: String,
    pub refill_amount: String,
    pub refill_interval: String,
}

impl Default for TrafficValues {
    fn default() -> Self {
        Self {
            rate_limit: String::new(),
            rate_window: "minute".into(),
            rate_burst: String::new(),
            limits_shown: true,
            quota_limit: String::new(),
            quota_period: "month".into(),
            quota_shown: true,
            remaining: String::new(),
            refill_amount: String::new(),
            refill_interval: "month".into(),
        }
    }
}

fn options(choices: &[(&'static str, &'static str)], selected: String) -> impl IntoView {
    choices
        .iter()
        .map(|(value, label)| {
            let on = *value == selected;
            view! { <option value=*value selected=on>{*label}</option> }
        })
        .collect_view()
}

const WINDOWS: [(&str, &str); 4] = [
    ("second", "per second"),
    ("minute", "per minute"),
    ("hour", "per hour"),
    ("day", "per day"),
];
const PERIODS: [(&str, &str); 3] = [
    ("day", "per day"),
    ("week", "per week"),
    ("month", "per month"),
];
const INTERVALS: [(&str, &str); 3] = [
    ("day", "every day"),
    ("week", "every week"),
    ("month", "every month"),
];

/// Rate limit, quota and credits; blank fields mean no limit of that kind.
#[component]
pub fn TrafficFieldset(values: TrafficValues, editing: bool) -> impl IntoView {
    let refill_was = format!("{} {}", values.refill_amount, values.refill_interval)
        .trim()
        .to_string();
    let refill_was = if values.refill_amount.is_empty() {
        String::new()
    } else {
        refill_was
    };
    view! {
        <fieldset class="fieldset">
            <legend>"Limits"</legend>
            <p class="hint">"Leave a field empty for no limit of that kind. Limits apply to verification and to gateway calls."</p>
            {if values.limits_shown {
                view! {
                    {editing.then(|| view! { <input type="hidden" name="limits_shown" value="1"/> })}
                    <div class="field-row">
                        <div class="field">
                            <label for="rate_limit">"Rate limit (requests)"</label>
                            <input id="rate_limit" name="rate_limit" type="number" min="1" max="1000000000" value=values.rate_limit placeholder="100"/>
                        </div>
                        <div class="field">
                            <label for="rate_window">"Window"</label>
                            <select id="rate_window" name="rate_window">{options(&WINDOWS, values.rate_window)}</select>
                        </div>
                        <div class="field">
                            <label for="rate_burst">"Burst"</label>
                            <input id="rate_burst" name="rate_burst" type="number" min="0" max="1000000000" value=values.rate_burst placeholder="0" aria-describedby="burst-hint"/>
                        </div>
                    </div>
                    <p class="hint" id="burst-hint">"Extra requests allowed at once on top of the limit; the sustained rate stays the limit."</p>
                }.into_any()
            } else {
                view! { <p class="hint">"This key has several rate limits (set over the API); edit them there."</p> }.into_any()
            }}
            {if values.quota_shown {
                view! {
                    {editing.then(|| view! { <input type="hidden" name="quota_shown" value="1"/> })}
                    <div class="field-row">
                        <div class="field">
                            <label for="quota_limit">"Quota (requests)"</label>
                            <input id="quota_limit" name="quota_limit" type="number" min="1" value=values.quota_limit placeholder="10000"/>
                        </div>
                        <div class="field">
                            <label for="quota_period">"Period"</label>
                            <select id="quota_period" name="quota_period">{options(&PERIODS, values.quota_period)}</select>
                        </div>
                    </div>
                }.into_any()
            } else {
                view! { <p class="hint">"This key's quota has a custom period (set over the API); edit it there."</p> }.into_any()
            }}
            <div class="field-row">
                <div class="field">
                    <label for="remaining">"Credits left"</label>
                    <input id="remaining" name="remaining" type="number" min="0" value=values.remaining.clone() placeholder="5000" aria-describedby="credits-hint"/>
                </div>
                <div class="field">
                    <label for="refill_amount">"Refill to"</label>
                    <input id="refill_amount" name="refill_amount" type="number" min="1" value=values.refill_amount placeholder="5000"/>
                </div>
                <div class="field">
                    <label for="refill_interval">"Refill"</label>
                    <select id="refill_interval" name="refill_interval">{options(&INTERVALS, values.refill_interval)}</select>
                </div>
            </div>
            <p class="hint" id="credits-hint">"Each call spends its cost (default 1) from the credits; at zero, calls answer USAGE_EXCEEDED."</p>
            {editing.then(|| view! {
                <input type="hidden" name="remaining_was" value=values.remaining/>
                <input type="hidden" name="refill_was" value=refill_was/>
            })}
        </fieldset>
    }
}

/// The editable fields, shared by the create and edit forms.
#[component]
pub fn KeyFields(
    #[prop(optional)] values: KeyFieldValues,
    #[prop(optional)] editing: bool,
    /// A template names the key when the field is left empty.
    #[prop(optional)]
    name_optional: bool,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for="name">"Name"</label>
            <input id="name" name="name" type="text" required=!name_optional maxlength="100" value=values.name placeholder="Customer portal"/>
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
        <TrafficFieldset values=values.traffic editing=editing/>
    }
}
