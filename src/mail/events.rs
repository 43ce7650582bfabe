//! Mail about events (a key expiring, an admin's broadcast, …) to users who opted in to that
//! event type's email channel. The event dispatch decides who (through
//! `crate::domain::notification_prefs::channels_for`); this renders the notification's title,
//! text and link through the one [`super::Mailer::send`] path and queues it at most once per
//! (event, user), because a dispatch may run again after a crash.

use super::{EventNotice, Mail, Recipient};
use crate::app::types::UserId;
use crate::domain::{Timestamp, db_failure};
use crate::error::AppResult;
use crate::server::state::AppState;

/// An event as a mail: what the in-app notification shows.
#[derive(Clone, Copy, Debug)]
pub struct EventMail<'a> {
    pub event_id: i64,
    pub kind: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    /// A portal path (`/keys/12`) or an https URL; '' for none.
    pub link: &'a str,
}

/// The outbox key that keeps a second run from mailing the same event to the same user.
pub fn dedupe_key(event_id: i64, user_id: i64) -> String {
    format!("event:{event_id}:{user_id}")
}

/// Queues `mail` for `user_id`, once: calling it again for the same (event, user) queues
/// nothing. A user who no longer exists gets nothing (the event outlived the account).
pub async fn mail_event(
    state: &AppState,
    user_id: i64,
    mail: &EventMail<'_>,
    now: Timestamp,
) -> AppResult<()> {
    let Some(user) = crate::db::users::find(&state.db, UserId(user_id))
        .await
        .map_err(db_failure)?
    else {
        return Ok(());
    };
    let to = Recipient {
        email: user.email,
        name: user.name,
    };
    let message = Mail::Event(EventNotice {
        kind: mail.kind.to_string(),
        title: mail.title.to_string(),
        body: mail.body.to_string(),
        link: mail.link.to_string(),
    });
    let key = dedupe_key(mail.event_id, user_id);
    state
        .mailer
        .send_once(&state.db, &to, Some(user_id), &message, &key, now)
        .await?;
    Ok(())
}
