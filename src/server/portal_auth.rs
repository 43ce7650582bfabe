//! Browser sign-in state: who the session belongs to, checked against the account on every
//! request so a password change or a deleted account ends other sessions at once.

use super::session_store::USER_ID_KEY;
use super::state::AppState;
use crate::app::types::{User, UserId};
use crate::db;
use crate::domain::accounts::SignedIn;
use crate::error::{AppError, AppResult};
use axum::{
    extract::{Request, State},
    middleware::Next,
    response::Response,
};
use tower_sessions::Session;

const PASSWORD_STAMP_KEY: &str = "pwv";

/// The signed-in user of a portal request, if any (request extension).
#[derive(Clone, Debug)]
pub struct PortalUser(pub Option<User>);

fn session_failure(err: tower_sessions::session::Error) -> AppError {
    tracing::error!(error = %err, "session store error");
    AppError::internal()
}

/// Starts a signed-in session under a fresh id (so a planted id is useless after sign-in).
pub async fn sign_in(session: &Session, signed_in: &SignedIn) -> AppResult<()> {
    session.cycle_id().await.map_err(session_failure)?;
    session
        .insert(USER_ID_KEY, signed_in.user.id.0)
        .await
        .map_err(session_failure)?;
    session
        .insert(PASSWORD_STAMP_KEY, signed_in.password_stamp)
        .await
        .map_err(session_failure)?;
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
    // A store failure was logged already; the page then renders signed out.
    let user = session_user(&state, &session).await.unwrap_or_default();
    req.extensions_mut().insert(PortalUser(user));
    next.run(req).await
}
