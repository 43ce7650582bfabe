//! Creating, reading, changing and deleting endpoints; their secret; their deliveries, test
//! sends and redeliveries. Every change audited.

use super::*;
use crate::app::webhook_types::{
    WebhookDeliveryPage, WebhookPage, WebhookSecret, WebhookWithSecret,
};
use crate::domain::paging;
use crate::error::Validator;
use serde::Deserialize;

/// The most endpoints one user may have.
pub const MAX_ENDPOINTS: i64 = 50;

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookInput {
    /// Where deliveries are POSTed (http or https; a public address unless
    /// KEYPORT_WEBHOOK_ALLOW_PRIVATE is on).
    pub url: String,
    #[serde(default)]
    pub description: String,
    /// At least one of the known types; `*` for all, `security.*` for every security event.
    pub event_types: Vec<String>,
    /// Your own `whsec_` secret (base64 of 24 to 64 bytes); one is generated if absent.
    #[serde(default)]
    pub secret: Option<String>,
    /// Extra headers for every delivery (not hop-by-hop ones, not `webhook-*`).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// On unless false.
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// Absent fields keep their value.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhookInput {
    #[serde(default, deserialize_with = "crate::domain::patch_fields::not_null")]
    #[schema(nullable = false)]
    pub url: Option<String>,
    #[serde(default, deserialize_with = "crate::domain::patch_fields::not_null")]
    #[schema(nullable = false)]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "crate::domain::patch_fields::not_null")]
    #[schema(nullable = false)]
    pub event_types: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::domain::patch_fields::not_null")]
    #[schema(nullable = false)]
    pub headers: Option<BTreeMap<String, String>>,
    /// Turning an endpoint back on clears why it was turned off.
    #[serde(default, deserialize_with = "crate::domain::patch_fields::not_null")]
    #[schema(nullable = false)]
    pub enabled: Option<bool>,
}

/// `?page&per_page`.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WebhookListQuery {
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// Checks that the URL's host resolves only to addresses deliveries may reach (after its
/// form passed: resolving takes a moment).
async fn reachable(state: &AppState, host: &str, port: u16) -> AppResult<()> {
    let mut v = Validator::default();
    if let Err(e) = ssrf::resolve(host, port, state.config.webhook_allow_private).await {
        v.check(false, "body.url", &format!("is refused: {e}"));
    }
    v.finish()
}

pub async fn create_webhook(
    state: &AppState,
    actor: &Actor,
    input: CreateWebhookInput,
    now: Timestamp,
) -> AppResult<WebhookWithSecret> {
    require_writer(actor)?;
    let mut v = Validator::default();
    let parsed = validate::url(&mut v, &input.url);
    let description = validate::description(&mut v, &input.description);
    let event_types = validate::event_types(&mut v, &input.event_types);
    let headers = validate::headers(&mut v, &input.headers);
    let secret = match input.secret {
        Some(s) => {
            let s = s.trim().to_string();
            v.check(
                signing::secret_key(&s).is_some(),
                "body.secret",
                "must be whsec_ followed by the base64 of 24 to 64 random bytes",
            );
            s
        }
        None => signing::new_secret(),
    };
    v.finish()?;
    let (url, host, port) = parsed.ok_or_else(AppError::internal)?;
    reachable(state, &host, port).await?;
    let (_, count) = db::webhooks::list_endpoints(&state.db, actor.user.id.0, 1, 0)
        .await
        .map_err(db_failure)?;
    if count >= MAX_ENDPOINTS {
        return Err(AppError::new(
            ErrorCode::Conflict,
            "You have 50 webhook endpoints, the most allowed; delete one first.",
        ));
    }
    let now_ms = to_millis(now);
    let mut row = EndpointRow {
        id: 0,
        user_id: actor.user.id.0,
        org_id: None,
        url,
        description,
        event_types: serde_json::to_string(&event_types).map_err(|_| AppError::internal())?,
        secret_sealed: seal(state, &secret),
        previous_secret_sealed: None,
        previous_secret_expires_at: None,
        headers: serde_json::to_string(&headers).map_err(|_| AppError::internal())?,
        enabled: input.enabled.unwrap_or(true),
        disabled_reason: None,
        failing_since: None,
        created_at: now_ms,
        updated_at: now_ms,
    };
    let audit = actor.audit_entry("webhook.created", None, Some(audit_values(&row)), now_ms);
    row.id = db::webhooks::insert_endpoint(&state.db, &row, &audit)
        .await
        .map_err(db_failure)?;
    Ok(WebhookWithSecret {
        webhook: view(&row, now_ms),
        secret,
    })
}

pub async fn list_webhooks(
    state: &AppState,
    actor: &Actor,
    q: &WebhookListQuery,
    now: Timestamp,
) -> AppResult<WebhookPage> {
    let mut v = Validator::default();
    let (page, per_page) = paging(&mut v, q.page, q.per_page);
    v.finish()?;
    let (rows, total) =
        db::webhooks::list_endpoints(&state.db, actor.user.id.0, per_page, (page - 1) * per_page)
            .await
            .map_err(db_failure)?;
    let now_ms = to_millis(now);
    Ok(WebhookPage {
        items: rows.iter().map(|r| view(r, now_ms)).collect(),
        total,
        page,
        per_page,
    })
}

pub async fn get_webhook(
    state: &AppState,
    actor: &Actor,
    id: i64,
    now: Timestamp,
) -> AppResult<Webhook> {
    Ok(view(&owned(state, actor, id).await?, to_millis(now)))
}

pub async fn update_webhook(
    state: &AppState,
    actor: &Actor,
    id: i64,
    input: UpdateWebhookInput,
    now: Timestamp,
) -> AppResult<Webhook> {
    require_writer(actor)?;
    let old = owned(state, actor, id).await?;
    let mut row = old.clone();
    let mut v = Validator::default();
    if let Some(d) = &input.description {
        row.description = validate::description(&mut v, d);
    }
    if let Some(t) = &input.event_types {
        let t = validate::event_types(&mut v, t);
        row.event_types = serde_json::to_string(&t).map_err(|_| AppError::internal())?;
    }
    if let Some(h) = &input.headers {
        let h = validate::headers(&mut v, h);
        row.headers = serde_json::to_string(&h).map_err(|_| AppError::internal())?;
    }
    let parsed = input.url.as_deref().map(|u| validate::url(&mut v, u));
    v.finish()?;
    if let Some(parsed) = parsed {
        let (url, host, port) = parsed.ok_or_else(AppError::internal)?;
        reachable(state, &host, port).await?;
        row.url = url;
    }
    if let Some(enabled) = input.enabled {
        if enabled && !old.enabled {
            // Back on: a fresh start for the 5-day rule.
            row.disabled_reason = None;
            row.failing_since = None;
        }
        if !enabled {
            row.disabled_reason = None;
        }
        row.enabled = enabled;
    }
    let now_ms = to_millis(now);
    row.updated_at = now_ms;
    let action = crate::domain::toggle_action(
        old.enabled,
        row.enabled,
        ["webhook.disabled", "webhook.enabled", "webhook.updated"],
    );
    let audit = actor.audit_entry(
        action,
        Some(audit_values(&old)),
        Some(audit_values(&row)),
        now_ms,
    );
    if !db::webhooks::update_endpoint(&state.db, &row, &audit)
        .await
        .map_err(db_failure)?
    {
        return Err(not_found());
    }
    Ok(view(&row, now_ms))
}

pub async fn delete_webhook(
    state: &AppState,
    actor: &Actor,
    id: i64,
    now: Timestamp,
) -> AppResult<()> {
    require_writer(actor)?;
    let old = owned(state, actor, id).await?;
    let now_ms = to_millis(now);
    let audit = actor.audit_entry("webhook.deleted", Some(audit_values(&old)), None, now_ms);
    if !db::webhooks::delete_endpoint(&state.db, id, &audit)
        .await
        .map_err(db_failure)?
    {
        return Err(not_found());
    }
    Ok(())
}

/// The endpoint's current signing secret (its owner only).
pub async fn reveal_secret(state: &AppState, actor: &Actor, id: i64) -> AppResult<WebhookSecret> {
    let row = owned(state, actor, id).await?;
    let secret = open(state, &row.secret_sealed).ok_or_else(|| {
        tracing::error!(
            webhook_id = id,
            "a webhook secret does not open (was the server secret changed?)"
        );
        AppError::internal()
    })?;
    Ok(WebhookSecret { secret })
}

/// A new secret; the old one keeps signing (a second signature) for 24 hours.
pub async fn rotate_secret(
    state: &AppState,
    actor: &Actor,
    id: i64,
    now: Timestamp,
) -> AppResult<WebhookWithSecret> {
    require_writer(actor)?;
    let old = owned(state, actor, id).await?;
    let now_ms = to_millis(now);
    let secret = signing::new_secret();
    let mut row = old.clone();
    row.previous_secret_sealed = Some(old.secret_sealed.clone());
    row.previous_secret_expires_at = Some(now_ms + ROTATION_OVERLAP_MS);
    row.secret_sealed = seal(state, &secret);
    row.updated_at = now_ms;
    let audit = actor.audit_entry(
        "webhook.secret_rotated",
        None,
        Some(
            serde_json::json!({"previous_secret_expires_at": now_ms + ROTATION_OVERLAP_MS})
                .to_string(),
        ),
        now_ms,
    );
    if !db::webhooks::update_endpoint(&state.db, &row, &audit)
        .await
        .map_err(db_failure)?
    {
        return Err(not_found());
    }
    Ok(WebhookWithSecret {
        webhook: view(&row, now_ms),
        secret,
    })
}

pub async fn list_deliveries(
    state: &AppState,
    actor: &Actor,
    id: i64,
    q: &WebhookListQuery,
) -> AppResult<WebhookDeliveryPage> {
    let mut v = Validator::default();
    let (page, per_page) = paging(&mut v, q.page, q.per_page);
    v.finish()?;
    owned(state, actor, id).await?;
    let (rows, total) =
        db::webhooks::list_deliveries(&state.db, id, per_page, (page - 1) * per_page)
            .await
            .map_err(db_failure)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let attempts = db::webhooks::attempts_of(&state.db, &ids)
        .await
        .map_err(db_failure)?;
    Ok(WebhookDeliveryPage {
        items: rows
            .into_iter()
            .map(|r| delivery_view(r, &attempts))
            .collect(),
        total,
        page,
        per_page,
    })
}

pub async fn get_delivery(
    state: &AppState,
    actor: &Actor,
    id: i64,
    delivery_id: i64,
) -> AppResult<WebhookDelivery> {
    owned(state, actor, id).await?;
    match db::webhooks::get_delivery(&state.db, delivery_id)
        .await
        .map_err(db_failure)?
    {
        Some(d) if d.endpoint_id == id => {
            let attempts = db::webhooks::attempts_of(&state.db, &[d.id])
                .await
                .map_err(db_failure)?;
            Ok(delivery_view(d, &attempts))
        }
        _ => Err(AppError::new(ErrorCode::NotFound, "Delivery not found.")),
    }
}

/// Queues a `webhook.test` message to the (enabled) endpoint, sent within moments by the job
/// runner and retried on the usual schedule; answers the pending delivery.
pub async fn test_webhook(
    state: &AppState,
    actor: &Actor,
    id: i64,
    now: Timestamp,
) -> AppResult<WebhookDelivery> {
    require_writer(actor)?;
    let row = owned(state, actor, id).await?;
    if !row.enabled {
        return Err(AppError::new(
            ErrorCode::Conflict,
            "The endpoint is disabled; enable it before sending a test.",
        ));
    }
    let data = serde_json::json!({
        "webhook_id": id,
        "message": "A test message from Keyport.",
    });
    let body = payload("webhook.test", now, &data);
    let now_ms = to_millis(now);
    let ids = db::webhooks::insert_deliveries(
        &state.db,
        &[NewDelivery {
            endpoint_id: id,
            event_id: None,
            event_type: "webhook.test",
            payload: &body,
            now_ms,
        }],
    )
    .await
    .map_err(db_failure)?;
    let delivery_id = ids.first().copied().ok_or_else(AppError::internal)?;
    state.wake_jobs();
    get_delivery(state, actor, id, delivery_id).await
}

/// Queues a delivery again now (whatever its state) with a fresh retry budget; the same
/// `webhook-id`, so a receiver that handled it already can tell.
pub async fn redeliver(
    state: &AppState,
    actor: &Actor,
    id: i64,
    delivery_id: i64,
    now: Timestamp,
) -> AppResult<WebhookDelivery> {
    require_writer(actor)?;
    let row = owned(state, actor, id).await?;
    get_delivery(state, actor, id, delivery_id).await?;
    if !row.enabled {
        return Err(AppError::new(
            ErrorCode::Conflict,
            "The endpoint is disabled; enable it before redelivering.",
        ));
    }
    let now_ms = to_millis(now);
    let audit = actor.audit_entry(
        "webhook.redelivered",
        None,
        Some(serde_json::json!({"webhook_id": id}).to_string()),
        now_ms,
    );
    if !db::webhooks::redeliver(&state.db, delivery_id, now_ms, &audit)
        .await
        .map_err(db_failure)?
    {
        return Err(AppError::new(
            ErrorCode::Conflict,
            "An attempt of this delivery is in progress; try again in a minute.",
        ));
    }
    state.wake_jobs();
    get_delivery(state, actor, id, delivery_id).await
}
