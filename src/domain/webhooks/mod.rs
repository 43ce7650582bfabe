//! Webhooks: endpoints per user with event-type selection, a signing secret and custom
//! headers; each event queues one delivery per subscribed endpoint, signed per Standard
//! Webhooks and retried on the documented schedule ([`deliver`]).
//!
//! Endpoints are personal: only their owner sees or changes them (another user's id, an
//! admin's included, answers 404, as the secret and the delivered payloads are the owner's).
//! Viewers may read their own but not create or change any.

pub mod deliver;
mod manage;
pub mod signing;
pub mod ssrf;
pub mod validate;

pub use deliver::{DeliverOutcome, deliver, retry_delay_ms};
pub use manage::*;

use crate::app::types::Role;
use crate::app::webhook_types::{Webhook, WebhookAttempt, WebhookDelivery};
use crate::db::{
    self,
    webhooks::{AttemptRow, DeliveryRow, EndpointRow, NewDelivery},
};
use crate::domain::keys::Actor;
use crate::domain::{Timestamp, db_failure, from_millis, to_millis};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::server::state::AppState;
use std::collections::BTreeMap;

/// Binds sealed secrets to webhook endpoints: a value copied elsewhere does not open.
const SEAL_CONTEXT: &[u8] = b"keyport/webhook-secret/v1";
/// How long the previous secret still signs after a rotation.
pub const ROTATION_OVERLAP_MS: i64 = 24 * 3_600_000;

/// An event to deliver, as the event dispatcher hands it over.
pub struct WebhookEvent<'a> {
    pub event_id: i64,
    pub kind: &'a str,
    pub user_id: Option<i64>,
    pub org_id: Option<i64>,
    pub data: &'a serde_json::Value,
    /// When the event happened: the payload's `timestamp` (the `webhook-timestamp` header is
    /// the send time, as Standard Webhooks asks).
    pub occurred_at: Timestamp,
}

/// Queues one delivery of `event` per enabled endpoint of its user subscribed to its kind;
/// an endpoint that has it queued already is skipped (so a repeated dispatch queues nothing
/// twice). Returns how many deliveries were queued.
pub async fn enqueue_for_event(
    state: &AppState,
    event: &WebhookEvent<'_>,
    now: Timestamp,
) -> AppResult<usize> {
    // Organisation endpoints arrive with organisations; today every endpoint has a user.
    let Some(user_id) = event.user_id else {
        return Ok(0);
    };
    let endpoints = db::webhooks::enabled_endpoints(&state.db, user_id)
        .await
        .map_err(db_failure)?;
    let payload = payload(event.kind, event.occurred_at, event.data);
    let now_ms = to_millis(now);
    let new: Vec<NewDelivery<'_>> = endpoints
        .iter()
        .filter(|e| validate::subscribed(&list_of(&e.event_types), event.kind))
        .map(|e| NewDelivery {
            endpoint_id: e.id,
            event_id: Some(event.event_id),
            event_type: event.kind,
            payload: &payload,
            now_ms,
        })
        .collect();
    if new.is_empty() {
        return Ok(0);
    }
    let ids = db::webhooks::insert_deliveries(&state.db, &new)
        .await
        .map_err(db_failure)?;
    if !ids.is_empty() {
        state.wake_jobs();
    }
    Ok(ids.len())
}

/// The body sent: `{"type", "timestamp", "data"}`.
fn payload(kind: &str, at: Timestamp, data: &serde_json::Value) -> String {
    let timestamp = at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    serde_json::json!({"type": kind, "timestamp": timestamp, "data": data}).to_string()
}

fn list_of(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

fn map_of(text: &str) -> BTreeMap<String, String> {
    serde_json::from_str(text).unwrap_or_default()
}

fn seal(state: &AppState, secret: &str) -> String {
    state.crypto.seal(secret.as_bytes(), SEAL_CONTEXT)
}

fn open(state: &AppState, sealed: &str) -> Option<String> {
    String::from_utf8(state.crypto.open(sealed, SEAL_CONTEXT)?).ok()
}

/// The keys deliveries are signed with at `now_ms`: the current secret's, then the previous
/// one's while the rotation overlap lasts. Empty if the current secret does not open.
fn signing_keys(state: &AppState, e: &EndpointRow, now_ms: i64) -> Vec<Vec<u8>> {
    let mut keys = Vec::new();
    let Some(current) = open(state, &e.secret_sealed).and_then(|s| signing::secret_key(&s)) else {
        return keys;
    };
    keys.push(current);
    if let (Some(prev), Some(until)) = (&e.previous_secret_sealed, e.previous_secret_expires_at)
        && until > now_ms
        && let Some(key) = open(state, prev).and_then(|s| signing::secret_key(&s))
    {
        keys.push(key);
    }
    keys
}

fn view(e: &EndpointRow, now_ms: i64) -> Webhook {
    Webhook {
        id: e.id,
        user_id: e.user_id,
        org_id: e.org_id,
        url: e.url.clone(),
        description: e.description.clone(),
        event_types: list_of(&e.event_types),
        headers: map_of(&e.headers),
        enabled: e.enabled,
        disabled_reason: e.disabled_reason.clone(),
        failing_since: e.failing_since.map(from_millis),
        previous_secret_expires_at: e
            .previous_secret_expires_at
            .filter(|t| *t > now_ms)
            .map(from_millis),
        created_at: from_millis(e.created_at),
        updated_at: from_millis(e.updated_at),
    }
}

fn delivery_view(d: DeliveryRow, attempts: &[AttemptRow]) -> WebhookDelivery {
    WebhookDelivery {
        id: d.id,
        webhook_id: d.endpoint_id,
        event_id: d.event_id,
        msg_id: d.msg_id,
        event_type: d.event_type,
        payload: serde_json::from_str(&d.payload).unwrap_or_default(),
        status: d.status.clone(),
        attempt_count: attempts.iter().filter(|a| a.delivery_id == d.id).count() as i64,
        next_attempt_at: d
            .next_attempt_at
            .filter(|_| d.status == "pending")
            .map(from_millis),
        last_status: d.last_status,
        last_error: d.last_error,
        created_at: from_millis(d.created_at),
        attempts: attempts
            .iter()
            .filter(|a| a.delivery_id == d.id)
            .map(|a| WebhookAttempt {
                id: a.id,
                attempt: a.attempt,
                request_headers: map_of(&a.request_headers),
                response_status: a.response_status,
                response_body: a.response_body.clone(),
                error: a.error.clone(),
                duration_ms: a.duration_ms,
                at: from_millis(a.created_at),
            })
            .collect(),
    }
}

fn not_found() -> AppError {
    AppError::new(ErrorCode::NotFound, "Webhook not found.")
}

/// The actor's own endpoint `id` (anyone else's reads as missing).
async fn owned(state: &AppState, actor: &Actor, id: i64) -> AppResult<EndpointRow> {
    match db::webhooks::get_endpoint(&state.db, id)
        .await
        .map_err(db_failure)?
    {
        Some(e) if e.user_id == actor.user.id.0 => Ok(e),
        _ => Err(not_found()),
    }
}

fn require_writer(actor: &Actor) -> AppResult<()> {
    if actor.user.role == Role::Viewer {
        return Err(AppError::new(
            ErrorCode::Forbidden,
            "Viewers cannot create or change webhooks.",
        ));
    }
    Ok(())
}

/// An endpoint's settings for the audit trail (never the secret or header values).
fn audit_values(e: &EndpointRow) -> String {
    serde_json::json!({
        "url": e.url,
        "description": e.description,
        "event_types": list_of(&e.event_types),
        "header_names": map_of(&e.headers).keys().collect::<Vec<_>>(),
        "enabled": e.enabled,
        "disabled_reason": e.disabled_reason,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_have_type_timestamp_and_data() {
        let t = time::macros::datetime!(2026-12-05 08:00:00 UTC);
        let p: serde_json::Value = serde_json::from_str(&payload(
            "key.created",
            t,
            &serde_json::json!({"key_id": 3}),
        ))
        .unwrap();
        assert_eq!(
            p,
            serde_json::json!({"type": "key.created", "timestamp": "2026-12-05T08:00:00Z",
                "data": {"key_id": 3}})
        );
    }
}
