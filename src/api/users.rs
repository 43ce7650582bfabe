//! /api/v1/users/me: the caller's own account.

use super::error::ErrorBody;
use super::extract::{ApiJson, AuthMethod, Client, CurrentUser};
use crate::app::types::User;
use crate::domain::accounts;
use crate::error::AppError;
use crate::server::state::AppState;
use axum::{Json, extract::State, http::StatusCode};
use serde::Deserialize;
use time::OffsetDateTime;
use tower_sessions::Session;

#[utoipa::path(get, path = "/api/v1/users/me", tag = "users",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = User),
        (status = 401, description = "UNAUTHORIZED or INVALID_TOKEN", body = ErrorBody),
    ))]
pub async fn users_me(caller: CurrentUser) -> Json<User> {
    // Any credential may ask who it acts for, management keys included.
    Json(caller.user)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct UpdateMeInput {
    #[schema(example = "Ada King")]
    pub name: String,
}

#[utoipa::path(patch, path = "/api/v1/users/me", tag = "users",
    security(("bearer" = [])),
    request_body = UpdateMeInput,
    responses(
        (status = 200, description = "Updated", body = User),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "Invalid name", body = ErrorBody),
    ))]
pub async fn users_me_update(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiJson(input): ApiJson<UpdateMeInput>,
) -> Result<Json<User>, AppError> {
    caller.require_account_access()?;
    let user = accounts::update_name(
        &state.db,
        caller.user.id,
        &input.name,
        OffsetDateTime::now_utc(),
    )
    .await?;
    Ok(Json(user))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ChangePasswordInput {
    pub current_password: String,
    /// At least 10 characters.
    pub new_password: String,
}

#[utoipa::path(post, path = "/api/v1/users/me/password", tag = "users",
    security(("bearer" = [])),
    request_body = ChangePasswordInput,
    responses(
        (status = 204, description = "Changed; every other session of the user is signed out"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "Current password incorrect or new one too weak", body = ErrorBody),
    ))]
pub async fn users_me_password(
    State(state): State<AppState>,
    caller: CurrentUser,
    session: Session,
    Client(client): Client,
    ApiJson(input): ApiJson<ChangePasswordInput>,
) -> Result<StatusCode, AppError> {
    caller.require_account_access()?;
    let keep = match caller.method {
        AuthMethod::Token { session_id } => Some(session_id),
        AuthMethod::Cookie | AuthMethod::ManagementKey { .. } => None,
    };
    let stamp = accounts::change_password(
        &state.db,
        &state.mailer,
        caller.user.id,
        &input.current_password,
        &input.new_password,
        keep,
        &client,
        OffsetDateTime::now_utc(),
    )
    .await?;
    if matches!(caller.method, AuthMethod::Cookie) {
        crate::server::portal_auth::refresh_password_stamp(&session, stamp).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}
