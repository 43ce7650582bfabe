//! /admin/key-templates: key templates (admins), the list with a create form, and one
//! template's page with its edit form and a confirmed delete.

use super::signed_in_admin;
use crate::app::components::{FormError, PageHeader, action_error};
use crate::app::layout::Shell;
use crate::app::lifecycle_types::{KeyTemplate, KeyTemplatePage};
use crate::app::pages::errors::NotFound;
use crate::app::pages::keys::new::{TrafficFieldset, TrafficValues};
use crate::app::server_fns::lifecycle::{
    DeleteKeyTemplate, SaveKeyTemplate, key_templates_page, load_key_template,
};
use crate::error::ErrorCode;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

/// A template's traffic presets as the key form's single-row fields show them.
pub fn traffic_values(t: &KeyTemplate) -> TrafficValues {
    let mut v = TrafficValues::default();
    if let Some(limits) = &t.rate_limits {
        if let [one] = limits.as_slice() {
            v.rate_limit = one.limit.to_string();
            v.rate_window = one.window.as_str().into();
            v.rate_burst = one.burst.to_string();
        } else if limits.len() > 1 {
            v.limits_shown = false;
        }
    }
    if let Some(q) = &t.quota {
        v.quota_limit = q.limit.to_string();
        v.quota_period = q.period.as_str().into();
        v.quota_shown = q.period != crate::app::limit_types::PeriodName::Custom;
    }
    if let Some(r) = t.remaining {
        v.remaining = r.to_string();
    }
    if let Some(r) = &t.refill {
        v.refill_amount = r.amount.to_string();
        v.refill_interval = r.interval.as_str().into();
    }
    v
}

/// "deploy:write read · 30 days · prefix ci"
pub fn summary(t: &KeyTemplate) -> String {
    let mut parts = Vec::new();
    if !t.scopes.is_empty() {
        parts.push(t.scopes.join(" "));
    }
    if let Some(d) = t.expiry_days {
        parts.push(format!("expires after {d} days"));
    }
    if let Some(p) = &t.prefix {
        parts.push(format!("prefix {p}"));
    }
    if let Some(n) = &t.name_template {
        parts.push(format!("named {n}"));
    }
    if parts.is_empty() {
        "No presets".into()
    } else {
        parts.join(" · ")
    }
}

#[component]
fn TemplateFields(#[prop(optional)] template: Option<KeyTemplate>) -> impl IntoView {
    let t = template.clone();
    let text = move |f: fn(&KeyTemplate) -> String| t.as_ref().map(f).unwrap_or_default();
    let traffic = template.as_ref().map(traffic_values).unwrap_or_default();
    view! {
        {template.as_ref().map(|t| view! { <input type="hidden" name="id" value=t.id/> })}
        <div class="field">
            <label for="tpl-name">"Name"</label>
            <input id="tpl-name" name="name" type="text" required maxlength="100" value=text(|t| t.name.clone()) placeholder="CI deploy key"/>
        </div>
        <div class="field">
            <label for="tpl-description">"Description"</label>
            <textarea id="tpl-description" name="description" maxlength="1000" rows="2">{text(|t| t.description.clone())}</textarea>
        </div>
        <div class="field">
            <label for="tpl-name-template">"Naming template"</label>
            <input id="tpl-name-template" name="name_template" type="text" maxlength="100" value=text(|t| t.name_template.clone().unwrap_or_default())
                placeholder="{team}-{env}-{date}" aria-describedby="tpl-name-template-hint" autocapitalize="none" spellcheck="false"/>
            <p class="hint" id="tpl-name-template-hint">
                "Names keys created without a name. "<code>"{date}"</code>" (YYYYMMDD), "<code>"{datetime}"</code>", "<code>"{user}"</code>" (the creator), "
                <code>"{email_local}"</code>", "<code>"{seq}"</code>" (1, 2, …) are filled in; any other "<code>"{name}"</code>" is a variable the creator types."
            </p>
        </div>
        <div class="field">
            <label for="tpl-scopes">"Scopes"</label>
            <input id="tpl-scopes" name="scopes" type="text" value=text(|t| t.scopes.join(" ")) placeholder="read tickets:write"/>
        </div>
        <div class="field">
            <label for="tpl-tags">"Tags"</label>
            <input id="tpl-tags" name="tags" type="text" value=text(|t| t.tags.join(" ")) placeholder="ci"/>
        </div>
        <div class="field-row">
            <div class="field">
                <label for="tpl-expiry">"Expires after (days)"</label>
                <input id="tpl-expiry" name="expiry_days" type="number" min="1" max="3650" value=text(|t| t.expiry_days.map(|d| d.to_string()).unwrap_or_default())/>
            </div>
            <div class="field">
                <label for="tpl-prefix">"Key prefix"</label>
                <input id="tpl-prefix" name="prefix" type="text" maxlength="12" value=text(|t| t.prefix.clone().unwrap_or_default()) placeholder="kp"/>
            </div>
            <div class="field">
                <label for="tpl-api">"API id"</label>
                <input id="tpl-api" name="api_id" type="number" min="1" value=text(|t| t.api_id.map(|d| d.to_string()).unwrap_or_default()) aria-describedby="tpl-api-hint"/>
                <p class="hint" id="tpl-api-hint">"Binds keys to one API (see APIs). Empty: any."</p>
            </div>
        </div>
        <TrafficFieldset values=traffic editing=false/>
    }
}

#[component]
pub fn KeyTemplatesPage() -> impl IntoView {
    let user = match signed_in_admin() {
        Ok(user) => user,
        Err(instead) => return instead,
    };
    let query = use_query_map().get_untracked();
    let notice = match (query.get("created"), query.get("deleted")) {
        (Some(_), _) => Some("Template created. It is offered on the new-key form."),
        (_, Some(_)) => Some("Template deleted. Keys made from it keep their settings."),
        _ => None,
    };
    let list = Resource::new(|| (), |_| key_templates_page(1));
    let save = ServerAction::<SaveKeyTemplate>::new();
    let error = action_error(save.value().get_untracked());
    view! {
        <Title text="Key templates"/>
        <Shell user=Some(user)>
            <PageHeader title="Key templates" subtitle="Presets for new keys: scopes, tags, limits, quota, credits, expiry, prefix, API and a naming template. A key's own fields win; the lifecycle policy still applies.".to_string()>
                <a class="btn btn-ghost" href="/admin">"Users"</a>
                <a class="btn btn-secondary" href="/admin/lifecycle">"Lifecycle policy"</a>
                <a class="btn btn-primary" href="#new-template">"Add template"</a>
            </PageHeader>
            {notice.map(|n| view! { <div class="alert alert-success" role="status">{n}</div> })}
            <section class="card">
                <Suspense fallback=|| view! { <p class="muted">"Loading templates…"</p> }>
                    {move || list.get().map(|result| match result {
                        Ok(list) => view! { <TemplateTable list=list/> }.into_any(),
                        Err(e) => view! { <div class="alert alert-error" role="alert">{e.detail}</div> }.into_any(),
                    })}
                </Suspense>
            </section>
            <section class="card" aria-labelledby="new-template">
                <h2 id="new-template">"Add a template"</h2>
                <FormError error=error/>
                <ActionForm action=save attr:class="form">
                    <TemplateFields/>
                    <div class="form-actions"><button class="btn btn-primary" type="submit">"Add template"</button></div>
                </ActionForm>
            </section>
        </Shell>
    }
    .into_any()
}

#[component]
fn TemplateTable(list: KeyTemplatePage) -> impl IntoView {
    if list.items.is_empty() {
        return view! {
            <div class="empty-state">
                <h3>"No key templates yet"</h3>
                <p>"Templates let people create keys with the right scopes, limits and expiry in one step, and name them consistently."</p>
                <a class="btn btn-primary" href="#new-template">"Add your first template"</a>
            </div>
        }
        .into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="table">
                <thead><tr><th scope="col">"Name"</th><th scope="col">"Presets"</th><th scope="col">"Description"</th></tr></thead>
                <tbody>
                    {list.items.into_iter().map(|t| view! {
                        <tr>
                            <td><a href=format!("/admin/key-templates/{}", t.id)>{t.name.clone()}</a></td>
                            <td>{summary(&t)}</td>
                            <td>{t.description.clone()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        <p class="muted">{format!("{} template{}", list.total, if list.total == 1 { "" } else { "s" })}</p>
    }
    .into_any()
}

#[component]
pub fn KeyTemplateDetailPage() -> impl IntoView {
    let user = match signed_in_admin() {
        Ok(user) => user,
        Err(instead) => return instead,
    };
    let Some(id) = use_params_map()
        .get_untracked()
        .get("id")
        .and_then(|s| s.parse::<i64>().ok())
    else {
        return view! { <NotFound/> }.into_any();
    };
    let saved = use_query_map().get_untracked().get("saved").is_some();
    let template = Resource::new(move || id, load_key_template);
    view! {
        <Title text="Key template"/>
        <Shell user=Some(user)>
            <Suspense fallback=|| view! { <p class="muted">"Loading template…"</p> }>
                {move || template.get().map(|result| match result {
                    Ok(t) => view! {
                        {saved.then(|| view! { <div class="alert alert-success" role="status">"Changes saved. New keys from this template get them; existing keys keep theirs."</div> })}
                        <TemplateView template=t/>
                    }.into_any(),
                    Err(e) if e.code == ErrorCode::NotFound => view! { <NotFound/> }.into_any(),
                    Err(e) => view! { <div class="alert alert-error" role="alert">{e.detail}</div> }.into_any(),
                })}
            </Suspense>
        </Shell>
    }
    .into_any()
}

#[component]
fn TemplateView(template: KeyTemplate) -> impl IntoView {
    let save = ServerAction::<SaveKeyTemplate>::new();
    let delete = ServerAction::<DeleteKeyTemplate>::new();
    let error = action_error(save.value().get_untracked())
        .or_else(|| action_error(delete.value().get_untracked()));
    let id = template.id;
    view! {
        <Title text=template.name.clone()/>
        <div class="page-header">
            <div>
                <h1>{template.name.clone()}</h1>
                <p class="subtitle">{summary(&template)}</p>
            </div>
            <div class="actions">
                <a class="btn btn-secondary" href=format!("/keys/new?template={id}")>"Create a key from it"</a>
                <a class="btn btn-ghost" href="/admin/key-templates">"← All templates"</a>
            </div>
        </div>
        <FormError error=error/>
        <section class="card" aria-labelledby="edit">
            <h2 id="edit">"Edit"</h2>
            <ActionForm action=save attr:class="form">
                <TemplateFields template=template.clone()/>
                <div class="form-actions"><button class="btn btn-primary" type="submit">"Save changes"</button></div>
            </ActionForm>
        </section>
        <section class="card" aria-labelledby="danger">
            <h2 id="danger">"Delete"</h2>
            <details class="confirm">
                <summary class="btn btn-danger">"Delete…"</summary>
                <p>"Deleting removes the preset from the new-key form. Keys made from it keep their settings. The audit trail keeps a record."</p>
                <ActionForm action=delete>
                    <input type="hidden" name="id" value=id/>
                    <button class="btn btn-danger" type="submit">"Delete template"</button>
                </ActionForm>
            </details>
        </section>
    }
}
