//! /api/v1/auth/sessions: the caller's live sessions (browser and REST), and signing them
//! out. A browser session is named by its public id; ids are unique per kind, so a request
//! names the kind too (`?kind=browser|api`).

use super::error::ErrorBody;
use super::extract::{ApiPath, ApiQuery, AuthMethod, CurrentUser, parse_json};
use crate::app::session_types::{RevokedSessions, SessionPage};
use crate::domain::account_sessions::{self, CurrentSession, SessionListQuery};
use crate::error::{AppError, ErrorCode};
use crate::server::{portal_auth, state::AppState};
use axum::{Json, body::Bytes, extract::State, http::StatusCode};
use serde::Deserialize;
use time::OffsetDateTime;
use tower_sessions::Session;

/// The session the caller signed in with. Keys are refused: a leaked key must not be able to
/// read where its owner signs in from, or sign them out.
async fn signed_in(caller: &CurrentUser, session: &Session) -> Result<CurrentSession, AppError> {
    match caller.method {
        AuthMethod::Token { session_id } => Ok(CurrentSession::Api(session_id)),
        AuthMethod::Cookie => Ok(portal_auth::public_session_id(session)
            .await?
            .map_or(CurrentSession::None, CurrentSession::Browser)),
        AuthMethod::ManagementKey { .. } => Err(AppError::new(
            ErrorCode::Forbidden,
            "Sessions are managed with a sign-in (an access token or the portal), not with a key.",
        )),
    }
}

#[utoipa::path(get, path = "/api/v1/auth/sessions", tag = "auth", security(("bearer" = [])),
    params(SessionListQuery),
    responses(
        (status = 200, description = "The caller's live sessions, browser and REST, most recently active first; `current` marks the one this request was made with", body = SessionPage),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "A management key (sessions need a sign-in)", body = ErrorBody),
        (status = 422, description = "Invalid paging", body = ErrorBody),
    ))]
pub async fn sessions_list(
    State(state): State<AppState>,
    caller: CurrentUser,
    session: Session,
    query: Result<ApiQuery<SessionListQuery>, AppError>,
) -> Result<Json<SessionPage>, AppError> {
    let current = signed_in(&caller, &session).await?;
    let ApiQuery(query) = query?;
    let page = account_sessions::list_sessions(
        &state.db,
        caller.user.id,
        current,
        &query,
        OffsetDateTime::now_utc(),
    )
    .await?;
    Ok(Json(page))
}

/// `?kind=` of `DELETE /api/v1/auth/sessions/{id}`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SessionKindQuery {
    /// `browser` or `api` (required: ids are unique per kind).
    pub kind: Option<String>,
}

#[utoipa::path(delete, path = "/api/v1/auth/sessions/{id}", tag = "auth", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The session's id from the list"), SessionKindQuery),
    responses(
        (status = 204, description = "Signed out: a browser is signed out on its next request; a REST session's access token fails at once and its refresh token answers INVALID_TOKEN. Naming the current session signs it out."),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "A management key (sessions need a sign-in)", body = ErrorBody),
        (status = 404, description = "The caller has no such live session (other users' sessions included)", body = ErrorBody),
        (status = 422, description = "kind missing or not browser|api", body = ErrorBody),
    ))]
pub async fn sessions_delete(
    State(state): State<AppState>,
    caller: CurrentUser,
    session: Session,
    ApiPath(id): ApiPath<i64>,
    query: Result<ApiQuery<SessionKindQuery>, AppError>,
) -> Result<StatusCode, AppError> {
    signed_in(&caller, &session).await?;
    let ApiQuery(query) = query?;
    let kind = account_sessions::parse_kind(query.kind.as_deref(), "query.kind")?;
    let now = OffsetDateTime::now_utc();
    account_sessions::end_session(&state.db, caller.user.id, kind, id, now).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The optional body of `POST /api/v1/auth/sessions/revoke-others`: nothing to send, but
/// what is sent must be a JSON object.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct RevokeOthersInput {}

#[utoipa::path(post, path = "/api/v1/auth/sessions/revoke-others", tag = "auth", security(("bearer" = [])),
    request_body(content = Option<RevokeOthersInput>, description = "Optional; `{}` or no body"),
    responses(
        (status = 200, description = "Every other session of the caller, browser and REST, is signed out", body = RevokedSessions),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "A management key (sessions need a sign-in)", body = ErrorBody),
        (status = 422, description = "A body that is not a JSON object", body = ErrorBody),
    ))]
pub async fn sessions_revoke_others(
    State(state): State<AppState>,
    caller: CurrentUser,
    session: Session,
    body: Bytes,
) -> Result<Json<RevokedSessions>, AppError> {
    let current = signed_in(&caller, &session).await?;
    if !body.trim_ascii().is_empty() {
        parse_json::<RevokeOthersInput>(&body)?;
    }
    let revoked = account_sessions::end_other_sessions(
        &state.db,
        caller.user.id,
        current,
        OffsetDateTime::now_utc(),
    )
    .await?;
    Ok(Json(RevokedSessions { revoked }))
}
