//! The sessions page and `/api/v1/auth/sessions`: a user's live sessions of both kinds
//! (browser cookies and REST token pairs) with a readable device, and signing them out.
//! Browser sessions are named by their public id, never by the cookie's value.

use super::{Timestamp, db_failure, devices, from_millis, paging, to_millis};
use crate::app::session_types::{SessionInfo, SessionKind, SessionPage};
use crate::app::types::UserId;
use crate::db::{self, Db};
use crate::error::{AppError, AppResult, Validator};
use serde::Deserialize;

/// Last-seen times move at most this often per session: a write a minute, not a request.
pub const LAST_SEEN_INTERVAL_MS: i64 = 60_000;

/// Whether a session last seen at `last_seen_ms` should be marked seen at `now_ms`.
pub fn last_seen_due(last_seen_ms: i64, now_ms: i64) -> bool {
    now_ms - last_seen_ms >= LAST_SEEN_INTERVAL_MS
}

/// Marks the browser session seen at `now` unless it was within the interval; `true` when
/// the time moved. The condition is in the update, so concurrent requests move it once.
pub async fn touch_browser_session(db: &Db, public_id: i64, now: Timestamp) -> AppResult<bool> {
    let now_ms = to_millis(now);
    db::web_sessions::touch(db, public_id, now_ms, now_ms - LAST_SEEN_INTERVAL_MS)
        .await
        .map_err(db_failure)
}

/// Marks the REST session used at `now` when its last use (`last_used_ms`, as just read)
/// is older than the interval.
pub async fn touch_api_session(
    db: &Db,
    id: i64,
    last_used_ms: i64,
    now: Timestamp,
) -> AppResult<bool> {
    let now_ms = to_millis(now);
    if !last_seen_due(last_used_ms, now_ms) {
        return Ok(false);
    }
    db::auth_sessions::touch(db, id, now_ms, now_ms - LAST_SEEN_INTERVAL_MS)
        .await
        .map_err(db_failure)
}

/// The session a request was made with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CurrentSession {
    Browser(i64),
    Api(i64),
    /// A management key: no session of its own.
    #[default]
    None,
}

impl CurrentSession {
    fn is(self, kind: SessionKind, id: i64) -> bool {
        match self {
            CurrentSession::Browser(b) => kind == SessionKind::Browser && b == id,
            CurrentSession::Api(a) => kind == SessionKind::Api && a == id,
            CurrentSession::None => false,
        }
    }
}

/// `?page&per_page` of `GET /api/v1/auth/sessions`.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SessionListQuery {
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// The user's live sessions, most recently active first.
pub async fn list_sessions(
    db: &Db,
    user_id: UserId,
    current: CurrentSession,
    q: &SessionListQuery,
    now: Timestamp,
) -> AppResult<SessionPage> {
    let mut v = Validator::default();
    let (page, per_page) = paging(&mut v, q.page, q.per_page);
    v.finish()?;
    let (rows, total) =
        db::session_list::list_live(db, user_id, to_millis(now), per_page, (page - 1) * per_page)
            .await
            .map_err(db_failure)?;
    let items = rows
        .into_iter()
        .filter_map(|row| {
            let kind = SessionKind::parse(&row.kind)?;
            Some(SessionInfo {
                id: row.id,
                kind,
                device: devices::device_label(&row.user_agent),
                current: current.is(kind, row.id),
                user_agent: row.user_agent,
                ip: row.ip,
                created_at: from_millis(row.created_at),
                last_seen_at: from_millis(row.last_seen_at),
            })
        })
        .collect();
    Ok(SessionPage {
        items,
        total,
        page,
        per_page,
    })
}

/// Reads `kind` as given in a request: `browser` or `api`.
pub fn parse_kind(kind: Option<&str>, field: &str) -> AppResult<SessionKind> {
    let kind = kind.map(str::trim).unwrap_or("");
    SessionKind::parse(kind).ok_or_else(|| {
        let message = if kind.is_empty() {
            "is required: browser or api"
        } else {
            "must be browser or api"
        };
        AppError::validation(vec![crate::error::FieldError {
            field: field.into(),
            message: message.into(),
        }])
    })
}

fn no_such_session() -> AppError {
    AppError::not_found("Session")
}

/// Signs out one of the user's sessions (the current one too: that is signing out). Another
/// user's session, an ended one or an unknown id answer 404 and change nothing. A REST
/// session's refresh tokens stop working and its access token fails at once.
pub async fn end_session(
    db: &Db,
    user_id: UserId,
    kind: SessionKind,
    id: i64,
    now: Timestamp,
) -> AppResult<()> {
    let now_ms = to_millis(now);
    let ended = match kind {
        SessionKind::Browser => db::web_sessions::delete_for_user(db, user_id, id, now_ms).await,
        SessionKind::Api => db::auth_sessions::revoke_for_user(db, user_id, id, now_ms).await,
    }
    .map_err(db_failure)?;
    if !ended {
        return Err(no_such_session());
    }
    tracing::info!(
        user_id = user_id.0,
        kind = kind.as_str(),
        session = id,
        "session signed out"
    );
    Ok(())
}

/// Signs out every session of the user, browser and REST, but `current`; returns how many.
pub async fn end_other_sessions(
    db: &Db,
    user_id: UserId,
    current: CurrentSession,
    now: Timestamp,
) -> AppResult<u64> {
    let now_ms = to_millis(now);
    let (keep_browser, keep_api) = match current {
        CurrentSession::Browser(id) => (Some(id), None),
        CurrentSession::Api(id) => (None, Some(id)),
        CurrentSession::None => (None, None),
    };
    let browser = db::web_sessions::delete_others_for_user(db, user_id, keep_browser, now_ms)
        .await
        .map_err(db_failure)?;
    let api = db::auth_sessions::revoke_all_for_user(db, user_id, keep_api, now_ms)
        .await
        .map_err(db_failure)?;
    tracing::info!(
        user_id = user_id.0,
        browser,
        api,
        "other sessions signed out"
    );
    Ok(browser + api)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_seen_moves_once_a_minute() {
        let seen = 1_795_428_672_345;
        assert!(!last_seen_due(seen, seen));
        assert!(!last_seen_due(seen, seen + 1));
        assert!(!last_seen_due(seen, seen + LAST_SEEN_INTERVAL_MS - 1));
        assert!(last_seen_due(seen, seen + LAST_SEEN_INTERVAL_MS));
        assert!(last_seen_due(seen, seen + 3_600_000));
        // A clock that stepped back never writes.
        assert!(!last_seen_due(seen, seen - 5_000));
    }

    #[test]
    fn kinds_are_named_exactly() {
        assert_eq!(
            parse_kind(Some("browser"), "query.kind").ok(),
            Some(SessionKind::Browser)
        );
        assert_eq!(
            parse_kind(Some("api"), "query.kind").ok(),
            Some(SessionKind::Api)
        );
        for bad in [
            None,
            Some(""),
            Some("Browser"),
            Some("web"),
            Some("api;drop"),
        ] {
            let err = parse_kind(bad, "query.kind").unwrap_err();
            assert_eq!(
                err.code,
                crate::error::ErrorCode::ValidationError,
                "{bad:?}"
            );
            assert_eq!(err.errors[0].field, "query.kind");
        }
    }

    #[test]
    fn current_names_one_kind() {
        assert!(CurrentSession::Browser(3).is(SessionKind::Browser, 3));
        assert!(!CurrentSession::Browser(3).is(SessionKind::Api, 3));
        assert!(CurrentSession::Api(3).is(SessionKind::Api, 3));
        assert!(!CurrentSession::None.is(SessionKind::Browser, 0));
    }
}
