//! The wire shapes of notification preferences and admin broadcasts (REST and the portal).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where an event reaches its user: the portal's notification center, email, webhooks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Channels {
    pub in_app: bool,
    pub email: bool,
    pub webhook: bool,
}

/// The channels' names, as the REST body and the portal's form spell them.
pub const CHANNELS: [&str; 3] = ["in_app", "email", "webhook"];

impl Channels {
    pub fn get(&self, channel: &str) -> Option<bool> {
        match channel {
            "in_app" => Some(self.in_app),
            "email" => Some(self.email),
            "webhook" => Some(self.webhook),
            _ => None,
        }
    }

    /// Sets `channel`; false when there is no such channel.
    pub fn set(&mut self, channel: &str, on: bool) -> bool {
        match channel {
            "in_app" => self.in_app = on,
            "email" => self.email = on,
            "webhook" => self.webhook = on,
            _ => return false,
        }
        true
    }
}

/// An event type users can hear of.
#[derive(Clone, Copy, Debug)]
pub struct EventType {
    pub kind: &'static str,
    pub label: &'static str,
    pub description: &'static str,
    pub group: &'static str,
    pub defaults: Channels,
    /// Security notices are mailed by the account-security code at the moment of the change
    /// (with the IP and device), whatever the preferences say: the email channel shows as on
    /// and cannot be turned off.
    pub email_locked: bool,
}

const fn on(email: bool) -> Channels {
    Channels {
        in_app: true,
        email,
        webhook: true,
    }
}

const fn event(
    kind: &'static str,
    label: &'static str,
    description: &'static str,
    group: &'static str,
    email: bool,
) -> EventType {
    EventType {
        kind,
        label,
        description,
        group,
        defaults: on(email),
        email_locked: false,
    }
}

const fn security(kind: &'static str, label: &'static str, description: &'static str) -> EventType {
    EventType {
        email_locked: true,
        ..event(kind, label, description, "security", true)
    }
}

/// Every event type, in the order the preferences page shows them. In-app and webhooks are on
/// for all by default; email only where missing it costs something (a key about to stop
/// working, a key that stopped, the account's security): the rest would be noise.
pub const CATALOG: &[EventType] = &[
    event(
        "key.created",
        "Key created",
        "A key was created for you.",
        "keys",
        false,
    ),
    event(
        "key.rotated",
        "Key rotated",
        "One of your keys was rotated; the old one works until its grace period ends.",
        "keys",
        false,
    ),
    event(
        "key.revoked",
        "Key revoked",
        "One of your keys was revoked.",
        "keys",
        false,
    ),
    event(
        "key.disabled",
        "Key disabled",
        "One of your keys was disabled (by you, an admin or the unused-key policy).",
        "keys",
        false,
    ),
    event(
        "key.expiring",
        "Key expiring soon",
        "One of your keys expires in a few days.",
        "keys",
        true,
    ),
    event(
        "key.expired",
        "Key expired",
        "One of your keys expired and no longer verifies.",
        "keys",
        true,
    ),
    event(
        "key.unused",
        "Key unused",
        "One of your keys has not been used for a long time.",
        "keys",
        false,
    ),
    event(
        "ratelimit.exceeded",
        "Rate-limit abuse",
        "A key of yours keeps exceeding its rate limits and was penalised.",
        "traffic",
        false,
    ),
    event(
        "alert.triggered",
        "Usage alert",
        "A usage alert fired for one of your keys (error rate, refusals, traffic spike).",
        "traffic",
        false,
    ),
    security(
        "security.password_changed",
        "Password changed",
        "Your password was changed or reset.",
    ),
    security(
        "security.2fa_changed",
        "Two-factor sign-in changed",
        "Two-factor sign-in was turned on or off (also by an admin).",
    ),
    security(
        "security.recovery_codes",
        "Recovery codes",
        "New recovery codes were made, or one was used to sign in.",
    ),
    event(
        "broadcast",
        "Announcements",
        "Messages from the admins of this Keyport instance.",
        "announcements",
        false,
    ),
];

/// Families the notification list also filters by (`?kind=key.*`).
pub const FAMILIES: [(&str, &str); 2] = [
    ("key.*", "Any key event"),
    ("security.*", "Any security event"),
];

pub fn event_type(kind: &str) -> Option<&'static EventType> {
    CATALOG.iter().find(|e| e.kind == kind)
}

/// One event type's row of the matrix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NotificationPreference {
    /// The event type, e.g. `key.expiring`.
    pub kind: String,
    pub label: String,
    pub description: String,
    /// `keys`, `traffic`, `security` or `announcements`.
    pub group: String,
    /// What the user gets now (their choice, else the default).
    pub channels: Channels,
    /// What a user who never chose gets.
    pub defaults: Channels,
    /// Channels that cannot be turned off (security notices are always mailed).
    pub locked: Vec<String>,
}

/// `GET /api/v1/notification-preferences`: every event type with its channels.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NotificationPreferences {
    pub items: Vec<NotificationPreference>,
}

/// `PUT /api/v1/notification-preferences`: only the event types and channels to change,
/// e.g. `{"preferences": {"key.created": {"email": true}, "broadcast": {"webhook": false}}}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UpdateNotificationPreferences {
    /// Event type → channel (`in_app`, `email`, `webhook`) → on or off.
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub preferences: BTreeMap<String, BTreeMap<String, bool>>,
}

/// `POST /api/v1/admin/broadcasts`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BroadcastInput {
    /// 1–120 characters.
    pub title: String,
    /// 1–2000 characters.
    pub body: String,
    /// A portal path (`/docs`) or an https URL to follow up.
    #[serde(default)]
    pub link: Option<String>,
    /// Only users of this role (`viewer`, `user`, `admin`, `super_admin`); everyone when absent.
    #[serde(default)]
    pub role: Option<String>,
}

/// A broadcast accepted for delivery (by the `event.dispatch` job, within moments).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BroadcastResult {
    /// The `broadcast` event that carries it.
    pub event_id: i64,
    /// Users it is meant for (of the role, or all), as of now.
    pub recipients: i64,
}
