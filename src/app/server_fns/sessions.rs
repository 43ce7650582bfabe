//! The sessions page's server functions: the same domain calls as /api/v1/auth/sessions.

use crate::app::session_types::SessionPage;
use crate::error::AppError;
use leptos::prelude::*;

/// As many sessions as the page lists (most recently active first).
pub const SESSIONS_SHOWN: i64 = 200;

/// This browser session's public id (the current one on the page).
#[cfg(feature = "ssr")]
async fn current() -> Result<crate::domain::account_sessions::CurrentSession, AppError> {
    use crate::domain::account_sessions::CurrentSession;
    let session = super::ctx::session().await?;
    Ok(crate::server::portal_auth::public_session_id(&session)
        .await?
        .map_or(CurrentSession::None, CurrentSession::Browser))
}

#[server(prefix = "/sfn", endpoint = "my_sessions")]
pub async fn my_sessions() -> Result<SessionPage, AppError> {
    use super::ctx;
    use crate::domain::account_sessions::{SessionListQuery, list_sessions};
    let state = ctx::state()?;
    let user = ctx::require_user()?;
    let query = SessionListQuery {
        page: Some(1),
        per_page: Some(SESSIONS_SHOWN),
    };
    list_sessions(&state.db, user.id, current().await?, &query, ctx::now()).await
}

/// Signs out one of the user's sessions (`kind` browser or api); another user's session is
/// "not found" and stays signed in.
#[server(prefix = "/sfn", endpoint = "end_session")]
pub async fn end_session(kind: String, id: String) -> Result<(), AppError> {
    use super::ctx;
    use crate::domain::account_sessions::{end_session, parse_kind};
    let state = ctx::state()?;
    let user = ctx::require_user()?;
    let kind = parse_kind(Some(&kind), "kind")?;
    let id = id
        .trim()
        .parse::<i64>()
        .map_err(|_| AppError::not_found("Session"))?;
    end_session(&state.db, user.id, kind, id, ctx::now()).await?;
    super::redirect(&format!("/account/sessions?signed_out={}", kind.as_str()));
    Ok(())
}

/// Signs out every session of the user but this one, browser and REST.
#[server(prefix = "/sfn", endpoint = "end_other_sessions")]
pub async fn end_other_sessions() -> Result<(), AppError> {
    use super::ctx;
    let state = ctx::state()?;
    let user = ctx::require_user()?;
    let current = current().await?;
    let n = crate::domain::account_sessions::end_other_sessions(
        &state.db,
        user.id,
        current,
        ctx::now(),
    )
    .await?;
    super::redirect(&format!("/account/sessions?signed_out_others={n}"));
    Ok(())
}
