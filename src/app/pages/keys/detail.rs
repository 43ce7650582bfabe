use super::new::{KeyFieldValues, KeyFields};
use super::{masked, status_badge, when};
use crate::app::components::{FormError, action_error};
use crate::app::format;
use crate::app::islands::copy::CopyButton;
use crate::app::layout::Shell;
use crate::app::pages::errors::NotFound;
use crate::app::pages::signed_in_user;
use crate::app::server_fns::keys::{KeyAction, RotateKey, UpdateKey, key_detail, take_revealed};
use crate::app::types::{ApiKey, KeyStatus, Role};
use crate::error::ErrorCode;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn KeyDetailPage() -> impl IntoView {
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
    let revealed = query
        .get("reveal")
        .and_then(|token| take_revealed(&token, id));
    let had_reveal = query.get("reveal").is_some();
    let previous = query.get("from").and_then(|s| s.parse::<i64>().ok());
    let notice = match (query.get("saved"), query.get("done").as_deref()) {
        (Some(_), _) => Some("Changes saved.".to_string()),
        (_, Some("revoke")) => {
            Some("Key revoked. Verification answers API_KEY_REVOKED from now on.".to_string())
        }
        (_, Some("disable")) => Some("Key disabled.".to_string()),
        (_, Some("enable")) => Some("Key enabled.".to_string()),
        _ => None,
    };
    let key = Resource::new(move || id, key_detail);
    let old = Resource::new(
        move || previous,
        |p| async move {
            match p {
                Some(p) => key_detail(p).await.ok(),
                None => None,
            }
        },
    );
    let writable = user.role != Role::Viewer;
    view! {
        <Title text="API key"/>
        <Shell user=Some(user)>
            <Suspense fallback=|| view! { <p class="muted">"Loading key…"</p> }>
                {move || key.get().map(|result| match result {
                    Ok(k) => view! {
                        <Reveal plaintext=revealed.clone() shown_before=had_reveal previous=old.get().flatten()/>
                        {notice.clone().map(|n| view! { <div class="alert alert-success" role="status">{n}</div> })}
                        <KeyView key=k writable=writable/>
                    }.into_any(),
                    Err(e) if e.code == ErrorCode::NotFound => view! { <NotFound/> }.into_any(),
                    Err(e) => view! { <div class="alert alert-error" role="alert">{e.detail}</div> }.into_any(),
                })}
            </Suspense>
        </Shell>
    }
    .into_any()
}

/// The one showing of a new key.
#[component]
fn Reveal(
    plaintext: Option<String>,
    shown_before: bool,
    previous: Option<ApiKey>,
) -> impl IntoView {
    match plaintext {
        Some(secret) => view! {
            <dialog open class="card reveal" aria-labelledby="reveal-title">
                <h2 id="reveal-title">"Your new API key"</h2>
                <p>"Copy it now and keep it somewhere safe. For your security it will not be shown again."</p>
                <div class="row">
                    <label class="sr-only" for="new-key">"Your new API key"</label>
                    <input id="new-key" class="mono" type="text" readonly value=secret size="44"/>
                    <CopyButton target="new-key"/>
                </div>
                {previous.and_then(|p| p.revoked_at).map(|t| view! {
                    <p class="alert alert-info" role="status">"The previous key keeps working until "{format::datetime(t)}"."</p>
                })}
                <form method="dialog"><button class="btn btn-primary" type="submit">"I have saved it"</button></form>
            </dialog>
        }
        .into_any(),
        None if shown_before => view! {
            <div class="alert alert-warning" role="status">"This key was already shown once and cannot be shown again. If you lost it, rotate the key."</div>
        }
        .into_any(),
        None => ().into_any(),
    }
}

#[component]
fn KeyView(key: ApiKey, writable: bool) -> impl IntoView {
    let update = ServerAction::<UpdateKey>::new();
    let action = ServerAction::<KeyAction>::new();
    let rotate = ServerAction::<RotateKey>::new();
    let id = key.id.0;
    let live = key.status != KeyStatus::Revoked;
    let values = KeyFieldValues {
        name: key.name.clone(),
        description: key.description.clone(),
        scopes: key.scopes.join(" "),
        tags: key.tags.join(" "),
        expires_on: key.expires_at.map(format::date).unwrap_or_default(),
        ip_allowlist: key.ip_allowlist.join("\n"),
        allowed_origins: key.allowed_origins.join("\n"),
    };
    let error = action_error(update.value().get_untracked())
        .or_else(|| action_error(action.value().get_untracked()))
        .or_else(|| action_error(rotate.value().get_untracked()));
    let revoke_label = match key.revoked_at {
        Some(_) if live => "Revokes at",
        _ => "Revoked",
    };
    view! {
        <div class="page-header">
            <div>
                <h1>{key.name.clone()}" "{status_badge(key.status)}</h1>
                <p class="subtitle mono">{masked(&key)}</p>
            </div>
            <div class="actions"><a class="btn btn-ghost" href="/keys">"← All keys"</a></div>
        </div>
        <FormError error=error/>
        <div class="grid">
            <section class="card" aria-labelledby="details">
                <h2 id="details">"Details"</h2>
                <dl class="kv">
                    <dt>"ID"</dt><dd class="mono">{id}</dd>
                    <dt>"Created"</dt><dd>{format::datetime(key.created_at)}</dd>
                    <dt>"Expires"</dt><dd>{when(key.expires_at, "Never")}</dd>
                    <dt>"Last used"</dt><dd>{when(key.last_used_at, "Never")}</dd>
                    {key.revoked_at.map(|t| view! { <dt>{revoke_label}</dt><dd>{format::datetime(t)}</dd> })}
                    {key.rotated_to_id.map(|n| view! { <dt>"Replaced by"</dt><dd><a href=format!("/keys/{}", n.0)>{format!("key {}", n.0)}</a></dd> })}
                    <dt>"Scopes"</dt><dd>{if key.scopes.is_empty() { "None".to_string() } else { key.scopes.join(", ") }}</dd>
                    <dt>"Tags"</dt><dd>{if key.tags.is_empty() { "None".to_string() } else { key.tags.join(", ") }}</dd>
                    <dt>"Allowed IPs"</dt><dd>{if key.ip_allowlist.is_empty() { "Any".to_string() } else { key.ip_allowlist.join(", ") }}</dd>
                    <dt>"Allowed origins"</dt><dd>{if key.allowed_origins.is_empty() { "Any".to_string() } else { key.allowed_origins.join(", ") }}</dd>
                </dl>
            </section>
            {(writable && live).then(|| view! {
                <section class="card" aria-labelledby="actions">
                    <h2 id="actions">"Actions"</h2>
                    <div class="stack">
                        <ActionForm action=action>
                            <input type="hidden" name="id" value=id/>
                            <input type="hidden" name="action" value=if key.enabled { "disable" } else { "enable" }/>
                            <button class="btn btn-secondary" type="submit">{if key.enabled { "Disable key" } else { "Enable key" }}</button>
                        </ActionForm>
                        {key.rotated_to_id.is_none().then(|| view! {
                            <details class="confirm">
                                <summary class="btn btn-secondary">"Rotate…"</summary>
                                <ActionForm action=rotate attr:class="form">
                                    <input type="hidden" name="id" value=id/>
                                    <div class="field">
                                        <label for="grace">"Keep the old key working for"</label>
                                        <select id="grace" name="grace_period_seconds">
                                            <option value="0">"No time: stop it now"</option>
                                            <option value="3600">"1 hour"</option>
                                            <option value="86400" selected>"24 hours"</option>
                                            <option value="604800">"7 days"</option>
                                        </select>
                                    </div>
                                    <button class="btn btn-primary" type="submit">"Rotate key"</button>
                                </ActionForm>
                            </details>
                        })}
                        <details class="confirm">
                            <summary class="btn btn-danger">"Revoke…"</summary>
                            <p>"Revoking stops the key at once and cannot be undone."</p>
                            <ActionForm action=action>
                                <input type="hidden" name="id" value=id/>
                                <input type="hidden" name="action" value="revoke"/>
                                <button class="btn btn-danger" type="submit">"Revoke key"</button>
                            </ActionForm>
                        </details>
                    </div>
                </section>
            })}
        </div>
        {(writable && live).then(|| view! {
            <section class="card" aria-labelledby="edit">
                <h2 id="edit">"Edit"</h2>
                <ActionForm action=update attr:class="form">
                    <input type="hidden" name="id" value=id/>
                    <KeyFields values=values/>
                    <div class="form-actions"><button class="btn btn-primary" type="submit">"Save changes"</button></div>
                </ActionForm>
            </section>
        })}
        {writable.then(|| view! {
            <section class="card" aria-labelledby="danger">
                <h2 id="danger">"Delete"</h2>
                <details class="confirm">
                    <summary class="btn btn-danger">"Delete…"</summary>
                    <p>"Deleting removes the key and its settings for good; verification will answer API_KEY_INVALID. The audit trail keeps a record."</p>
                    <ActionForm action=action>
                        <input type="hidden" name="id" value=id/>
                        <input type="hidden" name="action" value="delete"/>
                        <button class="btn btn-danger" type="submit">"Delete key"</button>
                    </ActionForm>
                </details>
            </section>
        })}
    }
}
