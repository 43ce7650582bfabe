use super::form::{PolicyFieldValues, PolicyFields};
use super::{applies_to, limit_text, requests_text};
use crate::app::components::{FormError, action_error};
use crate::app::format;
use crate::app::layout::Shell;
use crate::app::pages::apis::enabled_badge;
use crate::app::pages::errors::NotFound;
use crate::app::pages::signed_in_admin;
use crate::app::policy_types::RateLimitPolicy;
use crate::app::server_fns::policies::{DeletePolicy, UpdatePolicy, policy_detail};
use crate::error::ErrorCode;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn PolicyDetailPage() -> impl IntoView {
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
    let policy = Resource::new(move || id, policy_detail);
    view! {
        <Title text="Rate-limit policy"/>
        <Shell user=Some(user)>
            <Suspense fallback=|| view! { <p class="muted">"Loading policy…"</p> }>
                {move || policy.get().map(|result| match result {
                    Ok(p) => view! {
                        {saved.then(|| view! { <div class="alert alert-success" role="status">"Changes saved. They apply from the next request."</div> })}
                        <PolicyView policy=p/>
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
fn PolicyView(policy: RateLimitPolicy) -> impl IntoView {
    let update = ServerAction::<UpdatePolicy>::new();
    let delete = ServerAction::<DeletePolicy>::new();
    let error = action_error(update.value().get_untracked())
        .or_else(|| action_error(delete.value().get_untracked()));
    let id = policy.id;
    let values = PolicyFieldValues::of(&policy);
    view! {
        <Title text=policy.name.clone()/>
        <div class="page-header">
            <div>
                <h1>{policy.name.clone()}" "{enabled_badge(policy.enabled)}</h1>
                <p class="subtitle">{format!("{} · {} · {}", applies_to(&policy), requests_text(&policy), limit_text(&policy))}</p>
            </div>
            <div class="actions"><a class="btn btn-ghost" href="/admin/rate-limits">"← All policies"</a></div>
        </div>
        <FormError error=error/>
        <section class="card" aria-labelledby="details">
            <h2 id="details">"Details"</h2>
            <dl class="kv">
                <dt>"ID"</dt><dd class="mono">{id}</dd>
                <dt>"Scope"</dt><dd>{policy.scope.as_str()}</dd>
                <dt>"Applies to"</dt><dd>{applies_to(&policy)}</dd>
                <dt>"Requests"</dt><dd class="mono">{requests_text(&policy)}</dd>
                <dt>"Limit"</dt><dd>{limit_text(&policy)}</dd>
                <dt>"Reported as"</dt><dd class="mono">{format!("policy-{id}")}</dd>
                <dt>"Created"</dt><dd>{format::datetime(policy.created_at)}</dd>
                <dt>"Updated"</dt><dd>{format::datetime(policy.updated_at)}</dd>
            </dl>
        </section>
        <section class="card" aria-labelledby="edit">
            <h2 id="edit">"Edit"</h2>
            <ActionForm action=update attr:class="form">
                <input type="hidden" name="id" value=id/>
                <PolicyFields values=values/>
                <div class="form-actions"><button class="btn btn-primary" type="submit">"Save changes"</button></div>
            </ActionForm>
        </section>
        <section class="card" aria-labelledby="danger">
            <h2 id="danger">"Delete"</h2>
            <details class="confirm">
                <summary class="btn btn-danger">"Delete…"</summary>
                <p>"Deleting stops enforcing the policy at once; the counts it kept are forgotten. The audit trail keeps a record."</p>
                <ActionForm action=delete>
                    <input type="hidden" name="id" value=id/>
                    <button class="btn btn-danger" type="submit">"Delete policy"</button>
                </ActionForm>
            </details>
        </section>
    }
}
