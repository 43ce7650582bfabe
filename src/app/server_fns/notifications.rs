//! The notifications page's server functions and the navigation's unread count: the same
//! domain calls as /api/v1/notifications.

use crate::app::alert_types::NotificationPage;
use crate::error::AppError;
use leptos::prelude::*;

pub const NOTIFICATIONS_PER_PAGE: i64 = 25;

/// The notifications page with its filter and page, as a link (what the forms return to).
pub fn notifications_href(unread_only: bool, page: i64) -> String {
    let mut query = Vec::new();
    if unread_only {
        query.push("unread=true".to_string());
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
    page: i64,
) -> Result<NotificationPage, AppError> {
    use crate::domain::notifications::{NotificationQuery, list};
    let (state, actor) = super::ctx::actor()?;
    let query = NotificationQuery {
        page: Some(page.max(1)),
        per_page: Some(NOTIFICATIONS_PER_PAGE),
        unread: Some(unread_only),
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
    page: Option<i64>,
) -> Result<(), AppError> {
    use super::ctx;
    let (state, actor) = ctx::actor()?;
    crate::domain::notifications::mark_read(&state.db, &actor, id, ctx::now()).await?;
    let back = notifications_href(flag(&unread), page.unwrap_or(1));
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
    super::redirect(&format!("/notifications?marked={n}"));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_the_filter_and_page() {
        assert_eq!(notifications_href(false, 1), "/notifications");
        assert_eq!(notifications_href(true, 1), "/notifications?unread=true");
        assert_eq!(
            notifications_href(true, 3),
            "/notifications?unread=true&page=3"
        );
        assert_eq!(notifications_href(false, 2), "/notifications?page=2");
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn the_filter_field_is_set_when_not_empty() {
        assert!(flag(&Some("true".into())) && !flag(&Some(String::new())) && !flag(&None));
        assert!(!flag(&Some("false".into())));
    }
}
