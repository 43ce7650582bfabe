use super::form::{ApiFieldValues, ApiFields};
use super::{enabled_badge, limits_text};
use crate::app::components::{FormError, action_error};
use crate::app::format;
use crate::app::layout::Shell;
use crate::app::pages::errors::NotFound;
use crate::app::pages::signed_in_user;
use crate::app::server_fns::apis::{DeleteApi, UpdateApi, api_detail};
use crate::app::types::Api;
use crate::error::ErrorCode;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn ApiDetailPage() -> impl IntoView {
    let Some(user) = signed_in_user() else {
        return ().into_any();
    };
    let Some(id) = use_params_map()
        .get_untracked()
        .get("id")
        .and_then(|s| s.parse::<i64>().ok())
    else {
        return view! { <NotFound/> }.into_any();
    };
    let saved = use_query_map().get_untracked().get("saved").is_some();
    let api = Resource::new(move || id, api_detail);
    let is_admin = user.role.is_admin();
    view! {
        <Title text="API"/>
        <Shell user=Some(user)>
            <Suspense fallback=|| view! { <p class="muted">"Loading API…"</p> }>
                {move || api.get().map(|result| match result {
                    Ok(a) => view! {
                        {saved.then(|| view! { <div class="alert alert-success" role="status">"Changes saved. The gateway uses them from the next call."</div> })}
                        <ApiView api=a is_admin=is_admin/>
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
fn ApiView(api: Api, is_admin: bool) -> impl IntoView {
    let update = ServerAction::<UpdateApi>::new();
    let delete = ServerAction::<DeleteApi>::new();
    let error = action_error(update.value().get_untracked())
        .or_else(|| action_error(delete.value().get_untracked()));
    let id = api.id.0;
    let values = ApiFieldValues::of(&api);
    view! {
        <Title text=api.name.clone()/>
        <div class="page-header">
            <div>
                <h1>{api.name.clone()}" "{enabled_badge(api.enabled)}</h1>
                <p class="subtitle mono">{api.gateway_path.clone()}</p>
            </div>
            <div class="actions"><a class="btn btn-ghost" href="/apis">"← All APIs"</a></div>
        </div>
        <FormError error=error/>
        <section class="card" aria-labelledby="details">
            <h2 id="details">"Details"</h2>
            <dl class="kv">
                <dt>"ID"</dt><dd class="mono">{id}</dd>
                <dt>"Slug"</dt><dd class="mono">{api.slug.clone()}</dd>
                <dt>"Gateway path"</dt><dd class="mono">{api.gateway_path.clone()}</dd>
                <dt>"Upstream"</dt><dd class="mono">{api.upstream_url.clone()}</dd>
                <dt>"Default limits"</dt><dd>{limits_text(&api.default_rate_limits)}</dd>
                <dt>"Timeout"</dt><dd>{format!("{} ms", api.timeout_ms)}</dd>
                <dt>"Description"</dt><dd>{if api.description.is_empty() { "None".to_string() } else { api.description.clone() }}</dd>
                <dt>"Created"</dt><dd>{format::datetime(api.created_at)}</dd>
                <dt>"Updated"</dt><dd>{format::datetime(api.updated_at)}</dd>
            </dl>
        </section>
        {is_admin.then(|| view! {
            <section class="card" aria-labelledby="edit">
                <h2 id="edit">"Edit"</h2>
                <ActionForm action=update attr:class="form">
                    <input type="hidden" name="id" value=id/>
                    <ApiFields values=values/>
                    <div class="form-actions"><button class="btn btn-primary" type="submit">"Save changes"</button></div>
                </ActionForm>
            </section>
            <section class="card" aria-labelledby="danger">
                <h2 id="danger">"Delete"</h2>
                <details class="confirm">
                    <summary class="btn btn-danger">"Delete…"</summary>
                    <p>{format!("Deleting removes the API from the gateway at once: calls to {} answer 404. Its rate-limit policies go with it; the audit trail keeps a record.", api.gateway_path)}</p>
                    <ActionForm action=delete>
                        <input type="hidden" name="id" value=id/>
                        <button class="btn btn-danger" type="submit">"Delete API"</button>
                    </ActionForm>
                </details>
            </section>
        })}
    }
}
