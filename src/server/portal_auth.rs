//! Browser sign-in state: who the session belongs to, checked against the account on every
//! request so a password change or a deleted account ends other sessions at once.

use super::session_store::{
    CLIENT_IP_KEY, CLIENT_UA_KEY, LAST_SEEN_KEY, PASSWORD_STAMP_KEY, PUBLIC_ID_KEY, USER_ID_KEY,
};
use super::state::AppState;
use crate::app::types::{User, UserId};
use crate::db;
use crate::domain::{account_sessions, accounts::SignedIn};
use crate::error::{AppError, AppResult};
use axum::{
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use tower_sessions::Session;

/// The signed-in user of a portal request, if any (request extension).
#[derive(Clone, Debug)]
pub struct PortalUser(pub Option<User>);

fn session_failure(err: tower_sessions::session::Error) -> AppError {
    tracing::error!(error = %err, "session store error");
    AppError::internal()
}

/// Starts a signed-in session under a fresh id (so a planted id is useless after sign-in),
/// remembering the client it came from for the sessions page.
pub async fn sign_in(session: &Session, signed_in: &SignedIn) -> AppResult<()> {
    session.cycle_id().await.map_err(session_failure)?;
    let client = &signed_in.client;
    let fields = [
        (USER_ID_KEY, serde_json::Value::from(signed_in.user.id.0)),
        (PASSWORD_STAMP_KEY, signed_in.password_stamp.into()),
        (CLIENT_IP_KEY, client.ip.clone().into()),
        (CLIENT_UA_KEY, client.user_agent.clone().into()),
    ];
    for (key, value) in fields {
        session.insert(key, value).await.map_err(session_failure)?;
    }
    Ok(())
}

/// The public id of this browser session (what the sessions page names it by), if stored.
pub async fn public_session_id(session: &Session) -> AppResult<Option<i64>> {
    session
        .get::<i64>(PUBLIC_ID_KEY)
        .await
        .map_err(session_failure)
}

/// Moves this session's last-seen time when the throttle lets it (about once a minute). The
/// loaded record carries the stored time, so requests in between cost nothing.
async fn note_activity(state: &AppState, session: &Session) -> AppResult<()> {
    let public_id = public_session_id(session).await?;
    let seen = session
        .get::<i64>(LAST_SEEN_KEY)
        .await
        .map_err(session_failure)?;
    if let (Some(public_id), Some(seen)) = (public_id, seen) {
        let now = time::OffsetDateTime::now_utc();
        if account_sessions::last_seen_due(seen, crate::domain::to_millis(now)) {
            account_sessions::touch_browser_session(&state.db, public_id, now).await?;
        }
    }
    Ok(())
}

/// Keeps this session signed in after its own password change moved the stamp.
pub async fn refresh_password_stamp(session: &Session, stamp: i64) -> AppResult<()> {
    session
        .insert(PASSWORD_STAMP_KEY, stamp)
        .await
        .map_err(session_failure)
}

pub async fn sign_out(session: &Session) -> AppResult<()> {
    session.flush().await.map_err(session_failure)
}

/// Resolves the session's user; a stale session (password changed elsewhere, account gone)
/// is ended.
pub async fn session_user(state: &AppState, session: &Session) -> AppResult<Option<User>> {
    let Some(uid) = session
        .get::<i64>(USER_ID_KEY)
        .await
        .map_err(session_failure)?
    else {
        return Ok(None);
    };
    let stamp = session
        .get::<i64>(PASSWORD_STAMP_KEY)
        .await
        .map_err(session_failure)?;
    let creds = db::users::credentials_by_id(&state.db, UserId(uid))
        .await
        .map_err(crate::domain::db_failure)?;
    match creds {
        Some(c) if c.user.suspended_at.is_some() => {
            // Signed out for good: reactivation does not bring this session back.
            sign_out(session).await?;
            Err(AppError::account_suspended())
        }
        Some(c) if Some(c.password_changed_at) == stamp => Ok(Some(c.user)),
        _ => {
            sign_out(session).await?;
            Ok(None)
        }
    }
}

/// Middleware for portal pages and server functions: puts `PortalUser` in the request.
pub async fn load_portal_user(
    State(state): State<AppState>,
    session: Session,
    mut req: Request,
    next: Next,
) -> Response {
    // A store failure was logged already; the page then renders signed out. A suspended
    // account's page request lands on a page that says so (its session is gone already).
    let user = match session_user(&state, &session).await {
        Ok(user) => user,
        Err(e) if e.code == crate::error::ErrorCode::AccountSuspended => {
            // Page loads and plain form posts (a browser without JavaScript) go to the page;
            // scripts and islands get the error body.
            let wants_html = req
                .headers()
                .get(axum::http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("text/html"));
            if req.method() == axum::http::Method::GET || wants_html {
                return axum::response::Redirect::to("/account-suspended").into_response();
            }
            return e.into_response();
        }
        Err(_) => None,
    };
    if user.is_some() {
        // Logged already; a missed last-seen update is no reason to fail the page.
        let _ = note_activity(&state, &session).await;
    }
    req.extensions_mut().insert(PortalUser(user));
    next.run(req).await
}
