use super::new::{KeyFieldValues, KeyFields, TrafficValues};
use super::usage::KeyUsageCard;
use super::{masked, status_badge, when};
use crate::app::components::{FormError, action_error};
use crate::app::format;
use crate::app::islands::copy::CopyButton;
use crate::app::layout::Shell;
use crate::app::limit_types::{PeriodName, Window};
use crate::app::pages::errors::NotFound;
use crate::app::pages::signed_in_user;
use crate::app::server_fns::keys::{KeyAction, RotateKey, UpdateKey, key_detail, take_revealed};
use crate::app::server_fns::traffic_form::fits_form;
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
                        <KeyUsageCard id=id/>
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
        traffic: traffic_values(&key),
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
            <div class="actions">
                <a class="btn btn-ghost" href=format!("/usage?key={}", key.id.0)>"Usage"</a>
                <a class="btn btn-ghost" href="/keys">"← All keys"</a>
            </div>
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
            <LimitsCard key=key.clone()/>
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
                    <KeyFields values=values editing=true/>
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

fn window_label(w: Window) -> &'static str {
    match w {
        Window::Second => "second",
        Window::Minute => "minute",
        Window::Hour => "hour",
        Window::Day => "day",
    }
}

fn period_label(p: PeriodName) -> &'static str {
    match p {
        PeriodName::Day => "day",
        PeriodName::Week => "week",
        PeriodName::Month => "month",
        PeriodName::Custom => "custom period",
    }
}

/// The edit form's traffic fields, filled from the key.
fn traffic_values(key: &ApiKey) -> TrafficValues {
    let mut v = TrafficValues {
        limits_shown: fits_form(&key.rate_limits),
        ..TrafficValues::default()
    };
    if let Some(l) = key.rate_limits.first().filter(|_| v.limits_shown) {
        v.rate_limit = l.limit.to_string();
        v.rate_window = l.window.as_str().to_string();
        v.rate_burst = if l.burst == 0 {
            String::new()
        } else {
            l.burst.to_string()
        };
    }
    if let Some(q) = &key.quota {
        v.quota_shown = q.period != PeriodName::Custom;
        v.quota_limit = q.limit.to_string();
        v.quota_period = q.period.as_str().to_string();
    }
    v.remaining = key.remaining.map(|n| n.to_string()).unwrap_or_default();
    if let Some(r) = &key.refill {
        v.refill_amount = r.amount.to_string();
        v.refill_interval = r.interval.as_str().to_string();
    }
    v
}

/// The key's limits with where they stand right now.
#[component]
fn LimitsCard(key: ApiKey) -> impl IntoView {
    let nothing = key.rate_limits.is_empty() && key.quota.is_none() && key.remaining.is_none();
    let rates = key
        .rate_limit_status
        .iter()
        .zip(key.rate_limits.iter())
        .map(|(s, spec)| {
            let capacity = u64::from(s.limit) + u64::from(spec.burst);
            let used = capacity.saturating_sub(s.remaining);
            let label = format!("{} per {}", s.limit, window_label(s.window));
            let burst = (spec.burst > 0).then(|| format!(" (+{} burst)", spec.burst));
            view! {
                <dt>"Rate limit "<span class="mono">{s.name.clone()}</span></dt>
                <dd data-testid="rate-status">
                    {label}{burst}": "<strong>{format!("{} left", s.remaining)}</strong>
                    {format!(" ({used} of {capacity} used)")}
                    {(s.remaining < capacity).then(|| view! { " · full again "{format::datetime(s.resets_at)} })}
                    <meter min="0" max=capacity.to_string() value=used.to_string() aria-label=format!("{} rate limit used", s.name)></meter>
                </dd>
            }
        })
        .collect_view();
    let quota = key.quota.clone().map(|q| view! {
        <dt>"Quota"</dt>
        <dd data-testid="quota-status">
            {format!("{} per {}: ", q.limit, period_label(q.period))}<strong>{format!("{} left", q.remaining)}</strong>
            {format!(" ({} used) · resets {}", q.used, format::datetime(q.resets_at))}
            <meter min="0" max=q.limit.to_string() value=q.used.to_string() aria-label="Quota used"></meter>
        </dd>
    });
    let credits = key.remaining.map(|n| {
        let refill = key.refill.as_ref().map(|r| {
            format!(
                " · refilled to {} every {}",
                r.amount,
                period_label(r.interval)
            )
        });
        view! {
            <dt>"Credits"</dt>
            <dd data-testid="credit-status"><strong>{format!("{n} left")}</strong>{refill}</dd>
        }
    });
    view! {
        <section class="card" aria-labelledby="limits">
            <h2 id="limits">"Limits and usage"</h2>
            {if nothing {
                view! { <p class="muted">"No limits: this key is not rate limited, has no quota and no credit balance. Set them under Edit."</p> }.into_any()
            } else {
                view! { <dl class="kv">{rates}{quota}{credits}</dl> }.into_any()
            }}
        </section>
    }
}
