//! Admin broadcasts: a message from the admins to everyone, or to everyone of one role, as an
//! in-app notification (and a mail to those who opted in to broadcast mail).
//!
//! Delivery is [`deliver`], one recipient list at a time; when events land (the `broadcast`
//! event through `crate::domain::events::emit`), the admin's request only emits the event and
//! the event dispatch calls the same per-user path, so this stays the one place that knows
//! what a broadcast looks like.

use crate::app::notification_types::{BroadcastInput, BroadcastResult};
use crate::app::types::Role;
use crate::db::{self, audit::AuditEntry, notifications::NewNotification};
use crate::domain::keys::Actor;
use crate::domain::notification_prefs::channels_for;
use crate::domain::{Timestamp, db_failure, to_millis};
use crate::error::{AppError, AppResult, ErrorCode, Validator};
use crate::mail::events::{EventMail, mail_event};
use crate::server::state::AppState;

pub const KIND: &str = "broadcast";
pub const MAX_TITLE_CHARS: usize = 120;
pub const MAX_BODY_CHARS: usize = 2000;
pub const MAX_LINK_CHARS: usize = 500;

/// A broadcast whose fields were checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Broadcast {
    pub title: String,
    pub body: String,
    /// '' for none.
    pub link: String,
    pub role: Option<Role>,
}

/// A link a notification may carry: a portal path, or an https URL.
pub fn link_ok(link: &str) -> bool {
    let path = link.starts_with('/') && !link.starts_with("//");
    let https = link.starts_with("https://") && link.len() > "https://".len();
    (path || https)
        && link.chars().count() <= MAX_LINK_CHARS
        && !link
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '\\')
}

fn no_controls(text: &str, keep_newlines: bool) -> bool {
    !text
        .chars()
        .any(|c| c.is_control() && !(keep_newlines && (c == '\n' || c == '\r' || c == '\t')))
}

/// Checks `input`; every problem is named.
pub fn validate(input: &BroadcastInput) -> AppResult<Broadcast> {
    let mut v = Validator::default();
    let title = input.title.trim();
    let body = input.body.trim();
    let link = input.link.as_deref().map(str::trim).unwrap_or("");
    let title_len = title.chars().count();
    v.check(
        (1..=MAX_TITLE_CHARS).contains(&title_len),
        "body.title",
        "must be 1 to 120 characters",
    );
    v.check(
        no_controls(title, false),
        "body.title",
        "must be one line of text",
    );
    let body_len = body.chars().count();
    v.check(
        (1..=MAX_BODY_CHARS).contains(&body_len),
        "body.body",
        "must be 1 to 2000 characters",
    );
    v.check(no_controls(body, true), "body.body", "must be text");
    v.check(
        link.is_empty() || link_ok(link),
        "body.link",
        "must be a portal path (/docs) or an https URL, at most 500 characters",
    );
    let role = match input.role.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(r) => {
            let role = Role::parse(r);
            v.check(
                role.is_some(),
                "body.role",
                "must be viewer, user, admin or super_admin",
            );
            role
        }
    };
    v.finish()?;
    Ok(Broadcast {
        title: title.to_string(),
        body: body.to_string(),
        link: link.to_string(),
        role,
    })
}

fn require_admin(actor: &Actor) -> AppResult<()> {
    if actor.user.role.is_admin() {
        Ok(())
    } else {
        Err(AppError::new(
            ErrorCode::Forbidden,
            "Only admins can send broadcasts.",
        ))
    }
}

/// Sends `input` from `actor` (an admin) to its audience now.
pub async fn send(
    state: &AppState,
    actor: &Actor,
    input: &BroadcastInput,
    now: Timestamp,
) -> AppResult<BroadcastResult> {
    require_admin(actor)?;
    let b = validate(input)?;
    let audience = db::notification_prefs::audience(&state.db, b.role.map(Role::as_str))
        .await
        .map_err(db_failure)?;
    let ids: Vec<i64> = audience.iter().map(|u| u.id).collect();
    let new_values = serde_json::json!({
        "title": b.title, "link": b.link, "role": b.role.map(Role::as_str),
        "recipients": ids.len(),
    })
    .to_string();
    let audit = AuditEntry {
        actor_user_id: Some(actor.user.id.0),
        action: "broadcast.sent",
        old_values: None,
        new_values: Some(new_values),
        ip: &actor.client.ip,
        user_agent: &actor.client.user_agent,
        now_ms: to_millis(now),
    };
    deliver(state, &b, &ids, Some(&audit), None, now).await
}

/// Delivers `b` to `user_ids` on the channels each chose for broadcasts: the in-app
/// notifications (with `audit`, when given) in one transaction, then the mails. `event_id`
/// (once broadcasts are events) makes the mails idempotent per (event, user).
pub async fn deliver(
    state: &AppState,
    b: &Broadcast,
    user_ids: &[i64],
    audit: Option<&AuditEntry<'_>>,
    event_id: Option<i64>,
    now: Timestamp,
) -> AppResult<BroadcastResult> {
    let mut in_app = Vec::new();
    let mut email = Vec::new();
    for &id in user_ids {
        let channels = channels_for(&state.db, id, KIND).await?;
        if channels.in_app {
            in_app.push(id);
        }
        if channels.email {
            email.push(id);
        }
    }
    let notification = NewNotification {
        kind: KIND,
        title: &b.title,
        body: &b.body,
        link: &b.link,
        now_ms: to_millis(now),
    };
    db::notifications::insert_for(
        &state.db,
        &in_app,
        &notification,
        audit.map(|a| (a, "broadcast")),
    )
    .await
    .map_err(db_failure)?;
    for &id in &in_app {
        state.notifications.changed(id);
    }
    let mut mailed = 0;
    for &id in &email {
        let result = match event_id {
            Some(event_id) => {
                let mail = EventMail {
                    event_id,
                    kind: KIND,
                    title: &b.title,
                    body: &b.body,
                    link: &b.link,
                };
                mail_event(state, id, &mail, now).await
            }
            None => mail_once_unkeyed(state, id, b, now).await,
        };
        // One address the outbox refuses never stops the others (nor the notifications).
        match result {
            Ok(()) => mailed += 1,
            Err(e) => tracing::warn!(user_id = id, error = %e, "queueing a broadcast mail failed"),
        }
    }
    Ok(BroadcastResult {
        recipients: i64::try_from(user_ids.len()).unwrap_or(i64::MAX),
        notified: i64::try_from(in_app.len()).unwrap_or(i64::MAX),
        mailed,
    })
}

/// A broadcast's mail before broadcasts are events: sent by the admin's own request, which
/// runs once, so no dedupe key is needed.
async fn mail_once_unkeyed(
    state: &AppState,
    user_id: i64,
    b: &Broadcast,
    now: Timestamp,
) -> AppResult<()> {
    let Some(user) = db::users::find(&state.db, crate::app::types::UserId(user_id))
        .await
        .map_err(db_failure)?
    else {
        return Ok(());
    };
    let to = crate::mail::Recipient {
        email: user.email,
        name: user.name,
    };
    let mail = crate::mail::Mail::Event(crate::mail::EventNotice {
        kind: KIND.into(),
        title: b.title.clone(),
        body: b.body.clone(),
        link: b.link.clone(),
    });
    state
        .mailer
        .send(&state.db, &to, Some(user_id), &mail, now)
        .await
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(title: &str, body: &str, link: Option<&str>, role: Option<&str>) -> BroadcastInput {
        BroadcastInput {
            title: title.into(),
            body: body.into(),
            link: link.map(Into::into),
            role: role.map(Into::into),
        }
    }

    #[test]
    fn fields_are_checked() {
        let ok = validate(&input(
            " Maintenance ",
            "Tonight 22:00.\nBack by 23:00.",
            Some("/docs"),
            Some("admin"),
        ))
        .unwrap();
        assert_eq!(ok.title, "Maintenance");
        assert_eq!(ok.role, Some(Role::Admin));
        let err = validate(&input(
            "",
            &"x".repeat(2001),
            Some("javascript:alert(1)"),
            Some("god"),
        ))
        .unwrap_err();
        let fields: Vec<_> = err.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["body.title", "body.body", "body.link", "body.role"]
        );
        assert!(validate(&input("a\r\nBcc: x", "b", None, None)).is_err());
        for bad in [
            "//evil.example",
            "http://x.example",
            "https://",
            "/a b",
            "/a\\b",
        ] {
            assert!(!link_ok(bad), "{bad}");
        }
        for good in ["/docs", "/keys/12?tab=usage", "https://status.example.com/"] {
            assert!(link_ok(good), "{good}");
        }
    }
}
