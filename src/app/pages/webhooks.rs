//! `/webhooks` (the caller's endpoints and a form to add one) and `/webhooks/:id` (an
//! endpoint: its secret, test send, rotation, on/off, deletion, and the delivery log).

use super::{page_param, signed_in_user};
use crate::app::components::{FormError, PageHeader, action_error};
use crate::app::format;
use crate::app::islands::copy::CopyButton;
use crate::app::layout::Shell;
use crate::app::pages::apis::enabled_badge;
use crate::app::pages::errors::NotFound;
use crate::app::server_fns::webhooks::{
    CreateWebhook, EndpointScreen, WebhookAction, webhook_view, webhooks_page,
};
use crate::app::webhook_types::{EVENT_TYPES, Webhook, WebhookDelivery, WebhookPage};
use crate::error::ErrorCode;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

fn status_badge(status: &str) -> impl IntoView + use<> {
    let class = match status {
        "succeeded" => "badge badge-green",
        "failed" => "badge badge-red",
        _ => "badge badge-gray",
    };
    view! { <span class=class>{status.to_string()}</span> }
}

fn reason_text(w: &Webhook) -> Option<&'static str> {
    match w.disabled_reason.as_deref() {
        Some("gone") => Some("Keyport turned it off: the endpoint answered 410 Gone."),
        Some("failing") => Some("Keyport turned it off: every delivery failed for 5 days."),
        _ => None,
    }
}

#[component]
pub fn WebhooksPage() -> impl IntoView {
    let Some(user) = signed_in_user() else {
        return ().into_any();
    };
    let query = use_query_map().get_untracked();
    let page = page_param(&query);
    let deleted = query.get("deleted").is_some();
    let list = Resource::new(move || page, webhooks_page);
    let create = ServerAction::<CreateWebhook>::new();
    let error = action_error(create.value().get_untracked());
    let viewer = user.role == crate::app::types::Role::Viewer;
    view! {
        <Title text="Webhooks"/>
        <Shell user=Some(user)>
            <PageHeader title="Webhooks" subtitle="Keyport POSTs signed JSON messages (Standard Webhooks) to your endpoints when the events you choose happen, retrying failures for about a day.".to_string()/>
            {deleted.then(|| view! { <div class="alert alert-success" role="status">"Endpoint deleted."</div> })}
            <section class="card" aria-labelledby="endpoints">
                <h2 id="endpoints">"Your endpoints"</h2>
                <Suspense fallback=|| view! { <p class="muted">"Loading endpoints…"</p> }>
                    {move || list.get().map(|result| match result {
                        Ok(list) => view! { <EndpointTable list=list/> }.into_any(),
                        Err(e) => view! { <div class="alert alert-error" role="alert">{e.detail}</div> }.into_any(),
                    })}
                </Suspense>
            </section>
            {(!viewer).then(|| view! {
                <section class="card" aria-labelledby="add">
                    <h2 id="add">"Add an endpoint"</h2>
                    <FormError error=error/>
                    <ActionForm action=create attr:class="form">
                        <div class="field">
                            <label for="wh-url">"URL"</label>
                            <input id="wh-url" name="url" type="url" required maxlength="2048"
                                placeholder="https://hooks.example.com/keyport" aria-describedby="wh-url-hint"/>
                            <p class="hint" id="wh-url-hint">"http or https; private and loopback addresses are refused unless the administrator allows them."</p>
                        </div>
                        <div class="field">
                            <label for="wh-description">"Description"</label>
                            <input id="wh-description" name="description" type="text" maxlength="500"/>
                        </div>
                        <fieldset class="field">
                            <legend>"Events"</legend>
                            {EVENT_TYPES.iter().enumerate().map(|(i, (kind, label))| view! {
                                <label class="checkbox">
                                    <input type="checkbox" name=format!("event_types[{i}]") value=*kind/>
                                    " "<span class="mono">{*kind}</span>" — "{*label}
                                </label>
                            }).collect_view()}
                        </fieldset>
                        <div class="field">
                            <label for="wh-headers">"Custom headers"</label>
                            <textarea id="wh-headers" name="headers" rows="3" aria-describedby="wh-headers-hint"
                                placeholder="X-Token: your-receiver-secret"></textarea>
                            <p class="hint" id="wh-headers-hint">"One “Name: value” per line, sent with every delivery (not shown in the log)."</p>
                        </div>
                        <div class="form-actions"><button class="btn btn-primary" type="submit">"Add endpoint"</button></div>
                    </ActionForm>
                </section>
            })}
        </Shell>
    }
    .into_any()
}

#[component]
fn EndpointTable(list: WebhookPage) -> impl IntoView {
    if list.items.is_empty() {
        return view! {
            <div class="empty-state">
                <h3>"No endpoints yet"</h3>
                <p class="muted">"Add one below to hear about key changes, expiry and alerts as they happen."</p>
            </div>
        }
        .into_any();
    }
    view! {
        <table class="table">
            <thead><tr><th scope="col">"URL"</th><th scope="col">"Events"</th><th scope="col">"Status"</th><th scope="col">"Created"</th></tr></thead>
            <tbody>
                {list.items.into_iter().map(|w| view! {
                    <tr>
                        <td class="mono"><a href=format!("/webhooks/{}", w.id)>{w.url.clone()}</a>
                            {(!w.description.is_empty()).then(|| view! { <div class="muted">{w.description.clone()}</div> })}</td>
                        <td class="mono">{w.event_types.join(", ")}</td>
                        <td>{enabled_badge(w.enabled)}</td>
                        <td>{format::datetime(w.created_at)}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
pub fn WebhookDetailPage() -> impl IntoView {
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
    let query = use_query_map().get_untracked();
    let reveal = query.get("reveal").is_some();
    let page = page_param(&query);
    let done = query.get("done");
    let created = query.get("created").is_some();
    let data = Resource::new(
        move || (id, reveal, page),
        |(id, reveal, page)| webhook_view(id, reveal, page),
    );
    view! {
        <Title text="Webhook"/>
        <Shell user=Some(user)>
            {created.then(|| view! { <div class="alert alert-success" role="status">"Endpoint added. Verify deliveries with its signing secret below."</div> })}
            {done.map(|d| view! { <div class="alert alert-success" role="status">{match d.as_str() {
                "test" => "Test message queued; it is sent within moments (reload to see the attempt).",
                "rotated" => "New secret below. For 24 hours deliveries carry a signature with the old secret too.",
                "enabled" => "Endpoint enabled.",
                "disabled" => "Endpoint disabled: no deliveries until it is enabled again.",
                "redelivered" => "Delivery queued again.",
                _ => "Done.",
            }}</div> })}
            <Suspense fallback=|| view! { <p class="muted">"Loading endpoint…"</p> }>
                {move || data.get().map(|result| match result {
                    Ok(v) => view! { <EndpointView view=v/> }.into_any(),
                    Err(e) if e.code == ErrorCode::NotFound => view! { <NotFound/> }.into_any(),
                    Err(e) => view! { <div class="alert alert-error" role="alert">{e.detail}</div> }.into_any(),
                })}
            </Suspense>
        </Shell>
    }
    .into_any()
}

/// A button posting one action of the endpoint's page.
#[component]
fn ActionButton(
    action: ServerAction<WebhookAction>,
    id: i64,
    name: &'static str,
    label: &'static str,
    #[prop(optional)] delivery_id: Option<i64>,
    #[prop(optional)] danger: bool,
) -> impl IntoView {
    view! {
        <ActionForm action=action attr:class="inline-form">
            <input type="hidden" name="id" value=id/>
            <input type="hidden" name="action" value=name/>
            {delivery_id.map(|d| view! { <input type="hidden" name="delivery_id" value=d/> })}
            <button class=if danger { "btn btn-danger" } else { "btn btn-secondary" } type="submit">{label}</button>
        </ActionForm>
    }
}

#[component]
fn EndpointView(view: EndpointScreen) -> impl IntoView {
    let act = ServerAction::<WebhookAction>::new();
    let error = action_error(act.value().get_untracked());
    let w = view.webhook;
    let id = w.id;
    let reason = reason_text(&w);
    let headers = if w.headers.is_empty() {
        "None".to_string()
    } else {
        w.headers.keys().cloned().collect::<Vec<_>>().join(", ")
    };
    view! {
        <Title text=w.url.clone()/>
        <div class="page-header">
            <div>
                <h1 class="mono">{w.url.clone()}" "{enabled_badge(w.enabled)}</h1>
                {(!w.description.is_empty()).then(|| view! { <p class="subtitle">{w.description.clone()}</p> })}
            </div>
            <div class="actions"><a class="btn btn-ghost" href="/webhooks">"← All webhooks"</a></div>
        </div>
        <FormError error=error/>
        {reason.map(|r| view! { <div class="alert alert-error" role="alert">{r}</div> })}
        <section class="card" aria-labelledby="details">
            <h2 id="details">"Details"</h2>
            <dl class="kv">
                <dt>"ID"</dt><dd class="mono">{id}</dd>
                <dt>"Events"</dt><dd class="mono">{w.event_types.join(", ")}</dd>
                <dt>"Custom headers"</dt><dd class="mono">{headers}</dd>
                <dt>"Failing since"</dt><dd>{w.failing_since.map(format::datetime).unwrap_or_else(|| "—".into())}</dd>
                <dt>"Created"</dt><dd>{format::datetime(w.created_at)}</dd>
            </dl>
        </section>
        <section class="card" aria-labelledby="secret">
            <h2 id="secret">"Signing secret"</h2>
            {match view.secret {
                Some(secret) => view! {
                    <div class="field">
                        <label for="wh-secret">"Secret"</label>
                        <input id="wh-secret" class="mono" type="text" readonly value=secret/>
                        <CopyButton target="wh-secret" what="Secret"/>
                    </div>
                }.into_any(),
                None => view! { <a class="btn btn-secondary" href=format!("/webhooks/{id}?reveal=1")>"Show secret"</a> }.into_any(),
            }}
            {w.previous_secret_expires_at.map(|t| view! {
                <p class="hint">{format!("The previous secret also signs until {}.", format::datetime(t))}</p>
            })}
            <details class="confirm">
                <summary class="btn btn-secondary">"Rotate secret…"</summary>
                <p>"A new secret is made at once; for 24 hours deliveries are signed with both, so your receiver can switch over."</p>
                <ActionButton action=act id=id name="rotate" label="Rotate secret"/>
            </details>
        </section>
        <section class="card" aria-labelledby="manage">
            <h2 id="manage">"Manage"</h2>
            <div class="form-actions">
                {w.enabled.then(|| view! { <ActionButton action=act id=id name="test" label="Send test message"/> })}
                {if w.enabled {
                    view! { <ActionButton action=act id=id name="disable" label="Disable"/> }.into_any()
                } else {
                    view! { <ActionButton action=act id=id name="enable" label="Enable"/> }.into_any()
                }}
            </div>
            <details class="confirm">
                <summary class="btn btn-danger">"Delete…"</summary>
                <p>"Deleting removes the endpoint and its delivery log; nothing more is sent to it."</p>
                <ActionButton action=act id=id name="delete" label="Delete endpoint" danger=true/>
            </details>
        </section>
        <section class="card" aria-labelledby="log">
            <h2 id="log">"Deliveries"</h2>
            {if view.deliveries.items.is_empty() {
                view! { <div class="empty-state"><p class="muted">"Nothing delivered yet. Send a test message to try the endpoint."</p></div> }.into_any()
            } else {
                view! {
                    <table class="table">
                        <thead><tr><th scope="col">"Event"</th><th scope="col">"Status"</th><th scope="col">"Attempts"</th><th scope="col">"Queued"</th><th scope="col">""</th></tr></thead>
                        <tbody>
                            {view.deliveries.items.into_iter().map(|d| view! { <DeliveryRow d=d act=act id=id/> }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn DeliveryRow(d: WebhookDelivery, act: ServerAction<WebhookAction>, id: i64) -> impl IntoView {
    let next = d
        .next_attempt_at
        .map(|t| format!("next attempt {}", format::datetime(t)));
    view! {
        <tr>
            <td class="mono">{d.event_type.clone()}<div class="muted">{d.msg_id.clone()}</div></td>
            <td>{status_badge(&d.status)}{next.map(|n| view! { <div class="muted">{n}</div> })}</td>
            <td>
                <details>
                    <summary>{format!("{} attempt(s)", d.attempt_count)}</summary>
                    <ol>
                        {d.attempts.into_iter().map(|a| view! {
                            <li>
                                {format!("{} — {} — {} ms", format::datetime(a.at),
                                    a.response_status.map(|s| s.to_string()).unwrap_or_else(|| "no answer".into()),
                                    a.duration_ms)}
                                {a.error.map(|e| view! { <div class="muted">{e}</div> })}
                                {(!a.response_body.is_empty()).then(|| view! { <pre class="mono">{a.response_body.clone()}</pre> })}
                            </li>
                        }).collect_view()}
                    </ol>
                </details>
            </td>
            <td>{format::datetime(d.created_at)}</td>
            <td><ActionButton action=act id=id name="redeliver" label="Redeliver" delivery_id=d.id/></td>
        </tr>
    }
}
