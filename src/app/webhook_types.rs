//! The wire shapes of webhooks (REST and the portal).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// The event types an endpoint may subscribe to, with what they mean (for forms and docs).
/// `*` subscribes to every type, `security.*` to every security event.
pub const EVENT_TYPES: &[(&str, &str)] = &[
    ("*", "Every event"),
    ("key.created", "A key was created"),
    ("key.rotated", "A key was rotated"),
    ("key.revoked", "A key was revoked"),
    ("key.disabled", "A key was disabled"),
    ("key.expiring", "A key expires soon"),
    ("key.expired", "A key expired"),
    ("key.unused", "A key has not been used for a while"),
    ("ratelimit.exceeded", "A key hit its rate limit repeatedly"),
    ("alert.triggered", "A usage alert was raised"),
    ("security.*", "Security events of the account"),
    ("broadcast", "Announcements from the administrators"),
];

/// A webhook endpoint. The signing secret is not part of it: it is shown at creation, on
/// rotation, and by `GET /api/v1/webhooks/{id}/secret`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Webhook {
    pub id: i64,
    pub user_id: i64,
    pub org_id: Option<i64>,
    pub url: String,
    pub description: String,
    /// Event types delivered (`*` = all, `security.*` = every security event).
    pub event_types: Vec<String>,
    /// Extra headers sent with every delivery.
    pub headers: BTreeMap<String, String>,
    pub enabled: bool,
    /// Why Keyport turned the endpoint off (`gone`: it answered 410; `failing`: every
    /// delivery failed for 5 days); null when enabled or turned off by its owner.
    pub disabled_reason: Option<String>,
    /// When the current run of failed deliveries began (null while deliveries succeed).
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>, format = DateTime))]
    pub failing_since: Option<OffsetDateTime>,
    /// Until when deliveries are signed with the previous secret too (after a rotation).
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>, format = DateTime))]
    pub previous_secret_expires_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = DateTime))]
    pub updated_at: OffsetDateTime,
}

/// An endpoint with its signing secret (creation, rotation).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WebhookWithSecret {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// `whsec_` + base64 of the key; verify signatures with it.
    pub secret: String,
}

/// The signing secret of an endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WebhookSecret {
    pub secret: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WebhookPage {
    pub items: Vec<Webhook>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// One attempt to deliver a message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WebhookAttempt {
    pub id: i64,
    /// 1 for the first attempt of a delivery (a redelivery counts on).
    pub attempt: i64,
    /// The request's headers, without the signature and the endpoint's custom header values.
    pub request_headers: BTreeMap<String, String>,
    /// The receiver's status (null when no answer came).
    pub response_status: Option<i64>,
    /// The first 4 KiB of the receiver's answer.
    pub response_body: String,
    /// Why the attempt failed without an answer (connection, timeout, refused address…).
    pub error: Option<String>,
    pub duration_ms: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = DateTime))]
    pub at: OffsetDateTime,
}

/// One message to one endpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WebhookDelivery {
    pub id: i64,
    pub webhook_id: i64,
    /// The event delivered (null for test sends).
    pub event_id: Option<i64>,
    /// The `webhook-id` header: the same on every attempt.
    pub msg_id: String,
    pub event_type: String,
    /// The JSON body sent.
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub payload: serde_json::Value,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    pub attempt_count: i64,
    /// When the next attempt is due (pending deliveries).
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>, format = DateTime))]
    pub next_attempt_at: Option<OffsetDateTime>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
    /// Every attempt, oldest first.
    pub attempts: Vec<WebhookAttempt>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WebhookDeliveryPage {
    pub items: Vec<WebhookDelivery>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}
