//! The notifications page's server functions and the navigation's unread count: the same
//! domain calls as /api/v1/notifications.

use crate::app::alert_types::NotificationPage;
use crate::error::AppError;
use leptos::prelude::*;

pub const NOTIFICATIONS_PER_PAGE: i64 = 25;

/// The notifications page with its filters and page, as a link (what the forms return to).
pub fn notifications_href(unread_only: bool, kind: &str, page: i64) -> String {
    let mut query = Vec::new();
    if unread_only {
        query.push("unread=true".to_string());
    }
    if !kind.is_empty() {
        query.push(format!(
            "kind={}",
            crate::app::format::url_encode(kind, false)
        ));
    }
    if page > 1 {
        query.push(format!("page={page}"));
    }
    if query.is_empty() {
        "/notifications".into()
    } else {
        format!("/notifications?{}", query.join("&"))
    }
}

/// A form's hidden `unread` field (the page's filter, to come back to): set when not empty.
#[cfg(feature = "ssr")]
fn flag(value: &Option<String>) -> bool {
    value
        .as_deref()
        .is_some_and(|v| !v.trim().is_empty() && v.trim() != "false")
}

#[server(prefix = "/sfn", endpoint = "notifications_page")]
pub async fn notifications_page(
    unread_only: bool,
    kind: String,
    page: i64,
) -> Result<NotificationPage, AppError> {
    use crate::domain::notifications::{NotificationQuery, list};
    let (state, actor) = super::ctx::actor()?;
    let query = NotificationQuery {
        page: Some(page.max(1)),
        per_page: Some(NOTIFICATIONS_PER_PAGE),
        unread: Some(unread_only),
        kind: Some(kind),
    };
    list(&state.db, &actor, &query).await
}

/// The signed-in user's unread notifications, for the navigation.
#[server(prefix = "/sfn", endpoint = "unread_notifications")]
pub async fn unread_notifications() -> Result<i64, AppError> {
    let (state, actor) = super::ctx::actor()?;
    crate::domain::notifications::unread_count(&state.db, &actor).await
}

/// Marks one of the caller's notifications read and returns to the page it was on; another
/// user's notification is "not found" and stays as it was.
#[server(prefix = "/sfn", endpoint = "mark_notification_read")]
pub async fn mark_notification_read(
    id: i64,
    unread: Option<String>,
    kind: Option<String>,
    page: Option<i64>,
) -> Result<(), AppError> {
    use super::ctx;
    let (state, actor) = ctx::actor()?;
    crate::domain::notifications::mark_read(&state.db, &actor, id, ctx::now()).await?;
    state.notifications.changed(actor.user.id.0);
    // Back to a filter only if it is one (a forged field never ends up in the redirect).
    let kind = kind
        .filter(|k| crate::domain::notification_prefs::kind_filter(k).is_some())
        .unwrap_or_default();
    let back = notifications_href(flag(&unread), &kind, page.unwrap_or(1));
    let sep = if back.contains('?') { '&' } else { '?' };
    super::redirect(&format!("{back}{sep}marked=1"));
    Ok(())
}

/// Marks every notification of the caller read.
#[server(prefix = "/sfn", endpoint = "mark_all_notifications_read")]
pub async fn mark_all_notifications_read() -> Result<(), AppError> {
    use super::ctx;
    let (state, actor) = ctx::actor()?;
    let n = crate::domain::notifications::mark_all_read(&state.db, &actor, ctx::now()).await?;
    state.notifications.changed(actor.user.id.0);
    super::redirect(&format!("/notifications?marked={n}"));
    Ok(())
}

/// The signed-in user's notification preferences (the /account/notifications page).
#[server(prefix = "/sfn", endpoint = "notification_preferences")]
pub async fn notification_preferences()
-> Result<crate::app::notification_types::NotificationPreferences, AppError> {
    let (state, actor) = super::ctx::actor()?;
    crate::domain::notification_prefs::preferences(&state.db, actor.user.id.0).await
}

/// The preferences form: `pref[<event type>][<channel>]=on` for every checked box; the form
/// shows every event type, so a box not sent is off.
#[server(prefix = "/sfn", endpoint = "save_notification_preferences")]
pub async fn save_notification_preferences(
    pref: Option<std::collections::HashMap<String, std::collections::HashMap<String, String>>>,
) -> Result<(), AppError> {
    use super::ctx;
    let (state, actor) = ctx::actor()?;
    let checked: Vec<(String, String)> = pref
        .unwrap_or_default()
        .into_iter()
        .flat_map(|(kind, channels)| channels.into_keys().map(move |c| (kind.clone(), c)))
        .collect();
    crate::domain::notification_prefs::replace_from_form(
        &state.db,
        actor.user.id.0,
        &checked,
        ctx::now(),
    )
    .await?;
    super::redirect("/account/notifications?saved=1");
    Ok(())
}

/// The admin page's broadcast form.
#[server(prefix = "/sfn", endpoint = "send_broadcast")]
pub async fn send_broadcast(
    title: String,
    body: String,
    link: Option<String>,
    role: Option<String>,
) -> Result<(), AppError> {
    use super::ctx;
    let (state, actor) = ctx::actor()?;
    let input = crate::app::notification_types::BroadcastInput {
        title,
        body,
        link,
        role,
    };
    let sent = crate::domain::broadcasts::send(&state, &actor, &input, ctx::now()).await?;
    super::redirect(&format!("/admin?broadcast={}", sent.recipients));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_the_filter_and_page() {
        assert_eq!(notifications_href(false, "", 1), "/notifications");
        assert_eq!(
            notifications_href(true, "", 1),
            "/notifications?unread=true"
        );
        assert_eq!(
            notifications_href(true, "", 3),
            "/notifications?unread=true&page=3"
        );
        assert_eq!(notifications_href(false, "", 2), "/notifications?page=2");
        assert_eq!(
            notifications_href(true, "security.*", 2),
            "/notifications?unread=true&kind=security.%2A&page=2"
        );
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn the_filter_field_is_set_when_not_empty() {
        assert!(flag(&Some("true".into())) && !flag(&Some(String::new())) && !flag(&None));
        assert!(!flag(&Some("false".into())));
    }
}
