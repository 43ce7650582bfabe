//! Admin broadcasts: a message from the admins to everyone, or to everyone of one role. The
//! request records a `broadcast` event; the event dispatch (`crate::domain::events::dispatch`)
//! delivers it as an in-app notification, and a mail to those who opted in to announcement
//! mail, durably and at most once per user.

use crate::app::notification_types::{BroadcastInput, BroadcastResult};
use crate::app::types::Role;
use crate::db::{self, audit::AuditEntry};
use crate::domain::events::{NewEvent, kinds};
use crate::domain::keys::Actor;
use crate::domain::{Timestamp, db_failure, to_millis};
use crate::error::{AppError, AppResult, ErrorCode, Validator};
use crate::server::state::AppState;
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

/// Sends `input` from `actor` (an admin): records the `broadcast` event with its audit
/// record; the event's dispatch job delivers it to every recipient on the channels each chose
/// (in-app, email), durably and at most once per user.
pub async fn send(
    state: &AppState,
    actor: &Actor,
    input: &BroadcastInput,
    now: Timestamp,
) -> AppResult<BroadcastResult> {
    require_admin(actor)?;
    let b = validate(input)?;
    let role = b.role.map(Role::as_str);
    let recipients = db::notification_prefs::count_audience(&state.db, role)
        .await
        .map_err(db_failure)?;
    let data = serde_json::json!({
        "title": b.title, "body": b.body, "link": b.link, "role": role,
    });
    let event = NewEvent {
        kind: kinds::BROADCAST,
        user_id: None,
        org_id: None,
        subject_type: "broadcast",
        subject_id: None,
        data: data.clone(),
    };
    let audit = AuditEntry {
        actor_user_id: Some(actor.user.id.0),
        action: "broadcast.sent",
        old_values: None,
        new_values: Some(data.to_string()),
        ip: &actor.client.ip,
        user_agent: &actor.client.user_agent,
        now_ms: to_millis(now),
        event: None,
    };
    let event_id = db::notifications::record_broadcast(&state.db, &event, &audit)
        .await
        .map_err(db_failure)?;
    state.wake_jobs();
    tracing::info!(event_id, recipients, role, "broadcast queued");
    Ok(BroadcastResult {
        event_id,
        recipients,
    })
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
