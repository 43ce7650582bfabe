//! In-portal notifications: each user reads and marks only their own.

use crate::app::alert_types::{Notification, NotificationPage};
use crate::db::{self, Db};
use crate::domain::keys::Actor;
use crate::domain::notification_prefs::{KindFilter, kind_filter};
use crate::domain::{Timestamp, db_failure, from_millis, paging, to_millis};
use crate::error::{AppError, AppResult, ErrorCode, Validator};
use serde::Deserialize;

/// `?page&per_page&unread&kind` of `GET /api/v1/notifications`.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationQuery {
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    /// Only unread ones.
    pub unread: Option<bool>,
    /// Only this event type (`key.expiring`) or family (`security.*`, `key.*`).
    pub kind: Option<String>,
}

pub async fn list(db: &Db, actor: &Actor, q: &NotificationQuery) -> AppResult<NotificationPage> {
    let mut v = Validator::default();
    let (page, per_page) = paging(&mut v, q.page, q.per_page);
    let kind = q.kind.as_deref().map(str::trim).filter(|k| !k.is_empty());
    let filter = kind.map(kind_filter);
    v.check(
        !matches!(filter, Some(None)),
        "query.kind",
        "is not an event type: see GET /api/v1/notification-preferences",
    );
    v.finish()?;
    let user = actor.user.id.0;
    let (exact, prefix) = match filter.flatten() {
        Some(KindFilter::Exact(k)) => (k, String::new()),
        Some(KindFilter::Prefix(p)) => ("", p),
        None => ("", String::new()),
    };
    let filter = db::notifications::ListFilter {
        unread_only: q.unread.unwrap_or(false),
        kind: exact,
        kind_prefix: &prefix,
    };
    let (rows, total) = db::notifications::list(db, user, &filter, per_page, (page - 1) * per_page)
        .await
        .map_err(db_failure)?;
    let unread = db::notifications::unread_count(db, user)
        .await
        .map_err(db_failure)?;
    Ok(NotificationPage {
        items: rows
            .into_iter()
            .map(|r| Notification {
                id: r.id,
                kind: r.kind,
                title: r.title,
                body: r.body,
                link: r.link,
                created_at: from_millis(r.created_at),
                read_at: r.read_at.map(from_millis),
            })
            .collect(),
        total,
        page,
        per_page,
        unread,
    })
}

pub async fn unread_count(db: &Db, actor: &Actor) -> AppResult<i64> {
    db::notifications::unread_count(db, actor.user.id.0)
        .await
        .map_err(db_failure)
}

/// Marks one of the actor's notifications read; another user's is "not found", as if absent.
pub async fn mark_read(db: &Db, actor: &Actor, id: i64, now: Timestamp) -> AppResult<()> {
    let found = db::notifications::mark_read(db, actor.user.id.0, id, to_millis(now))
        .await
        .map_err(db_failure)?;
    if found {
        Ok(())
    } else {
        Err(AppError::new(
            ErrorCode::NotFound,
            "There is no such notification.",
        ))
    }
}

/// Marks all of the actor's notifications read; returns how many were unread.
pub async fn mark_all_read(db: &Db, actor: &Actor, now: Timestamp) -> AppResult<u64> {
    db::notifications::mark_all_read(db, actor.user.id.0, to_millis(now))
        .await
        .map_err(db_failure)
}
