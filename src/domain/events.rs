//! Domain events and their fan-out. A change writes its event in its own transaction (through
//! the audit entry, or [`emit`]); an `event.dispatch` job then hands it to each recipient's
//! channels: the in-portal notification here, mail and webhooks through their modules. Every
//! step is idempotent, so a dispatch run again after a crash notifies nobody twice.

use crate::db::{self, Db, events::EventRow};
use crate::domain::{Timestamp, db_failure, from_millis, to_millis};
use crate::error::AppResult;
use crate::server::state::AppState;
use serde_json::{Value, json};

pub use crate::db::events::NewEvent;

/// The event types (also the `type` of webhook payloads and the keys of preferences).
pub mod kinds {
    pub const KEY_CREATED: &str = "key.created";
    pub const KEY_ROTATED: &str = "key.rotated";
    pub const KEY_REVOKED: &str = "key.revoked";
    pub const KEY_DISABLED: &str = "key.disabled";
    pub const KEY_EXPIRING: &str = "key.expiring";
    pub const KEY_EXPIRED: &str = "key.expired";
    pub const KEY_UNUSED: &str = "key.unused";
    pub const RATELIMIT_EXCEEDED: &str = "ratelimit.exceeded";
    pub const ALERT_TRIGGERED: &str = "alert.triggered";
    pub const BROADCAST: &str = "broadcast";
}

/// Writes `event` (and its dispatch job) and wakes the job runner; returns the event's id.
pub async fn emit(state: &AppState, event: NewEvent, now: Timestamp) -> AppResult<i64> {
    let id = db::events::insert(&state.db, &event, to_millis(now))
        .await
        .map_err(db_failure)?;
    state.wake_jobs();
    Ok(id)
}

/// What a notice about an event says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Described {
    pub title: String,
    pub body: String,
    pub link: String,
}

/// "in 3 days", "in 5 hours", "in 12 minutes": the time left, in its largest whole unit.
pub fn time_left(ms: i64) -> String {
    const MINUTE: i64 = 60_000;
    const HOUR: i64 = 60 * MINUTE;
    const DAY: i64 = 24 * HOUR;
    let (n, unit) = if ms >= DAY {
        (ms / DAY, "day")
    } else if ms >= HOUR {
        (ms / HOUR, "hour")
    } else {
        ((ms / MINUTE).max(1), "minute")
    };
    format!("in {n} {unit}{}", if n == 1 { "" } else { "s" })
}

fn text(data: &Value, field: &str) -> String {
    data.get(field)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// The title, body and portal link of a notice about `event` (as of `now_ms`).
pub fn describe(event: &EventRow, now_ms: i64) -> Described {
    let data: Value = serde_json::from_str(&event.data).unwrap_or(Value::Null);
    let name = text(&data, "name");
    let shown = format!(
        "{name} ({}…{})",
        text(&data, "prefix"),
        text(&data, "last4")
    );
    let key_link = event
        .subject_id
        .map(|id| format!("/keys/{id}"))
        .unwrap_or_else(|| "/keys".into());
    let expires = data.get("expires_at").and_then(Value::as_i64);
    let (title, body, link) = match event.kind.as_str() {
        kinds::KEY_CREATED => (
            format!("Key {name} created"),
            format!("The API key {shown} was created."),
            key_link,
        ),
        kinds::KEY_ROTATED => (
            format!("Key {name} rotated"),
            match data.get("grace_ends_at").and_then(Value::as_i64) {
                Some(end) if end > now_ms => format!(
                    "The API key {shown} was rotated; the old key keeps working until {}.",
                    rfc3339(end)
                ),
                _ => format!("The API key {shown} was rotated; the old key no longer works."),
            },
            data.get("rotated_to_id")
                .and_then(Value::as_i64)
                .map(|id| format!("/keys/{id}"))
                .unwrap_or(key_link),
        ),
        kinds::KEY_REVOKED => (
            format!("Key {name} revoked"),
            format!("The API key {shown} was revoked; calls with it are refused."),
            key_link,
        ),
        kinds::KEY_DISABLED => (
            format!("Key {name} disabled"),
            match text(&data, "reason").as_str() {
                "" => format!("The API key {shown} was disabled; calls with it are refused."),
                reason => format!("The API key {shown} was disabled: {reason}."),
            },
            key_link,
        ),
        kinds::KEY_EXPIRING => (
            format!("Key {name} expires soon"),
            format!(
                "The API key {shown} expires {} ({}). Rotate it or extend its expiry to keep calls working.",
                expires.map_or_else(|| "soon".into(), |t| time_left(t - now_ms)),
                expires.map(rfc3339).unwrap_or_default()
            ),
            key_link,
        ),
        kinds::KEY_EXPIRED => (
            format!("Key {name} expired"),
            format!(
                "The API key {shown} expired at {}; calls with it are refused.",
                expires.map(rfc3339).unwrap_or_default()
            ),
            key_link,
        ),
        kinds::KEY_UNUSED => (
            format!("Key {name} is unused"),
            format!(
                "The API key {shown} has not been used for {} days.",
                data.get("days").and_then(Value::as_i64).unwrap_or_default()
            ),
            key_link,
        ),
        _ => (
            match text(&data, "title").as_str() {
                "" => event.kind.clone(),
                t => t.to_string(),
            },
            text(&data, "body"),
            text(&data, "link"),
        ),
    };
    Described { title, body, link }
}

pub fn rfc3339(ms: i64) -> String {
    from_millis(ms)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The body webhook receivers get: `{"type", "timestamp", "data"}` (Standard Webhooks), with
/// the event's id and subject in `data`.
pub fn payload(event: &EventRow) -> Value {
    let mut data: Value = serde_json::from_str(&event.data).unwrap_or_else(|_| json!({}));
    if let Value::Object(map) = &mut data {
        map.insert("event_id".into(), json!(event.id));
        map.insert("subject_type".into(), json!(event.subject_type));
        if let Some(id) = event.subject_id {
            map.insert("subject_id".into(), json!(id));
        }
    }
    json!({
        "type": event.kind,
        "timestamp": rfc3339(event.created_at),
        "data": data,
    })
}

/// How many users one broadcast dispatch reads at a time.
const RECIPIENTS_PAGE: i64 = 500;

/// Who hears of `event`: its user, or for a broadcast every user (of the role it names).
async fn recipients(db: &Db, event: &EventRow) -> AppResult<Vec<i64>> {
    if event.kind != kinds::BROADCAST {
        return Ok(event.user_id.into_iter().collect());
    }
    let data: Value = serde_json::from_str(&event.data).unwrap_or(Value::Null);
    let role = data.get("role").and_then(Value::as_str);
    let mut all = Vec::new();
    let mut after = 0;
    loop {
        let page = db::events::recipients_page(db, role, after, RECIPIENTS_PAGE)
            .await
            .map_err(db_failure)?;
        let Some(&last) = page.last() else { break };
        after = last;
        all.extend(page);
    }
    Ok(all)
}

/// Hands event `event_id` to its recipients' channels. A missing event (swept, or its user
/// deleted with it) is nothing to do.
pub async fn dispatch(state: &AppState, event_id: i64, now: Timestamp) -> AppResult<()> {
    let Some(event) = db::events::find(&state.db, event_id)
        .await
        .map_err(db_failure)?
    else {
        return Ok(());
    };
    let now_ms = to_millis(now);
    let described = describe(&event, now_ms);
    for user_id in recipients(&state.db, &event).await? {
        // Each recipient's own choice per channel (crate::domain::notification_prefs).
        let channels =
            crate::domain::notification_prefs::channels_for(&state.db, user_id, &event.kind)
                .await?;
        if channels.in_app {
            let fresh = db::events::insert_notification(
                &state.db,
                &db::events::EventNotification {
                    event_id: event.id,
                    user_id,
                    kind: &event.kind,
                    title: &described.title,
                    body: &described.body,
                    link: &described.link,
                    // When it happened, not when the notice was written.
                    now_ms: event.created_at,
                },
            )
            .await
            .map_err(db_failure)?;
            if fresh {
                state.notifications_changed(user_id);
            }
        }
        if channels.email {
            let mail = crate::mail::events::EventMail {
                event_id: event.id,
                kind: &event.kind,
                title: &described.title,
                body: &described.body,
                link: &described.link,
            };
            crate::mail::events::mail_event(state, user_id, &mail, now).await?;
        }
        // The owner's webhook endpoints subscribed to this type (broadcasts stay in the
        // portal and mail). Deliveries are unique per endpoint and event, so a dispatch run
        // again queues none twice.
        if channels.webhook && event.kind != kinds::BROADCAST && event.user_id == Some(user_id) {
            let mut body = payload(&event);
            let data = body.get_mut("data").map(Value::take).unwrap_or_default();
            let hook = crate::domain::webhooks::WebhookEvent {
                event_id: event.id,
                kind: &event.kind,
                user_id: event.user_id,
                org_id: event.org_id,
                data: &data,
                occurred_at: from_millis(event.created_at),
            };
            crate::domain::webhooks::enqueue_for_event(state, &hook, now).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str, data: Value) -> EventRow {
        EventRow {
            id: 9,
            kind: kind.into(),
            user_id: Some(1),
            org_id: None,
            subject_type: "api_key".into(),
            subject_id: Some(4),
            data: data.to_string(),
            created_at: 1_795_428_672_000,
        }
    }

    #[test]
    fn time_left_uses_the_largest_whole_unit() {
        assert_eq!(time_left(3 * 86_400_000 + 5), "in 3 days");
        assert_eq!(time_left(86_400_000), "in 1 day");
        assert_eq!(time_left(5 * 3_600_000), "in 5 hours");
        assert_eq!(time_left(90_000), "in 1 minute");
        assert_eq!(time_left(10), "in 1 minute");
    }

    #[test]
    fn expiring_notice_names_the_key_and_the_time_left() {
        let now = 1_795_428_672_000;
        let e = event(
            kinds::KEY_EXPIRING,
            json!({"name": "ci", "prefix": "kp", "last4": "abcd", "expires_at": now + 7 * 86_400_000}),
        );
        let d = describe(&e, now);
        assert_eq!(d.title, "Key ci expires soon");
        assert!(
            d.body.contains("ci (kp…abcd) expires in 7 days"),
            "{}",
            d.body
        );
        assert_eq!(d.link, "/keys/4");
    }

    #[test]
    fn rotation_links_to_the_successor() {
        let e = event(
            kinds::KEY_ROTATED,
            json!({"name": "ci", "rotated_to_id": 12}),
        );
        assert_eq!(describe(&e, 0).link, "/keys/12");
    }

    #[test]
    fn payload_has_type_timestamp_and_data_with_the_event_id() {
        let p = payload(&event(kinds::KEY_REVOKED, json!({"name": "ci"})));
        assert_eq!(p["type"], "key.revoked");
        assert_eq!(p["timestamp"], "2026-11-23T10:11:12Z");
        assert_eq!(p["data"]["name"], "ci");
        assert_eq!(p["data"]["event_id"], 9);
        assert_eq!(p["data"]["subject_id"], 4);
    }
}
