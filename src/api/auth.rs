//! /api/v1/auth: register, login, refresh, logout.

use super::error::ErrorBody;
use super::extract::{ApiJson, AuthMethod, Client, CurrentUser};
use crate::app::types::{Role, User};
use crate::domain::{accounts, email_verification, sessions};
use crate::error::AppError;
use crate::server::{portal_auth, state::AppState};
use axum::{Json, extract::State, http::StatusCode};
use serde::Deserialize;
use time::OffsetDateTime;
use tower_sessions::Session;

#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth",
    request_body = accounts::RegisterInput,
    responses(
        (status = 201, description = "Account created (email_verified false); a link to confirm the address is mailed to it, valid 48 hours", body = User),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 409, description = "EMAIL_TAKEN, or SETUP_REQUIRED before the one-time setup", body = ErrorBody),
        (status = 413, description = "Body over 1 MiB", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "Invalid fields (e.g. password under 10 characters)", body = ErrorBody),
    ))]
pub async fn auth_register(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<accounts::RegisterInput>,
) -> Result<(StatusCode, Json<User>), AppError> {
    let now = OffsetDateTime::now_utc();
    let user = accounts::register(&state.db, input, Role::User, false, now).await?;
    email_verification::send_link(&state.db, &state.crypto, &state.mailer, &user, now).await;
    Ok((StatusCode::CREATED, Json(user)))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginInput {
    #[schema(example = "ada@example.com")]
    pub email: String,
    #[schema(example = "correct horse battery staple")]
    pub password: String,
    /// Needed once two-factor sign-in is enabled: the current code, or an unused recovery code.
    #[serde(default)]
    pub totp_code: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginInput,
    responses(
        (status = 200, description = "Signed in", body = sessions::TokenPair),
        (status = 401, description = "INVALID_CREDENTIALS (also for unknown emails); TOTP_REQUIRED or TOTP_INVALID when two-factor sign-in is on (a recovery code may stand in for totp_code, once)", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
        (status = 429, description = "TOO_MANY_ATTEMPTS, with Retry-After", body = ErrorBody),
    ))]
pub async fn auth_login(
    State(state): State<AppState>,
    Client(client): Client,
    ApiJson(input): ApiJson<LoginInput>,
) -> Result<Json<sessions::TokenPair>, AppError> {
    let now = OffsetDateTime::now_utc();
    let signed_in = accounts::sign_in(
        &state.db,
        &state.crypto,
        &state.mailer,
        &input.email,
        &input.password,
        input.totp_code.as_deref(),
        &client,
        now,
    )
    .await?;
    let pair = sessions::open(&state.db, &state.crypto, signed_in.user.id, &client, now).await?;
    Ok(Json(pair))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RefreshInput {
    pub refresh_token: String,
}

#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth",
    request_body = RefreshInput,
    responses(
        (status = 200, description = "A new token pair; the presented refresh token stops working", body = sessions::TokenPair),
        (status = 401, description = "INVALID_TOKEN: unknown, expired, revoked or already used", body = ErrorBody),
    ))]
pub async fn auth_refresh(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<RefreshInput>,
) -> Result<Json<sessions::TokenPair>, AppError> {
    let pair = sessions::refresh(
        &state.db,
        &state.crypto,
        &input.refresh_token,
        OffsetDateTime::now_utc(),
    )
    .await?;
    Ok(Json(pair))
}

#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The session and its refresh token are revoked"),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn auth_logout(
    State(state): State<AppState>,
    caller: CurrentUser,
    session: Session,
) -> Result<StatusCode, AppError> {
    match caller.method {
        AuthMethod::Token { session_id } => {
            sessions::close(&state.db, session_id, OffsetDateTime::now_utc()).await?
        }
        AuthMethod::Cookie => portal_auth::sign_out(&session).await?,
        AuthMethod::ManagementKey { .. } => {
            return Err(AppError::new(
                crate::error::ErrorCode::BadRequest,
                "A management key has no session to end; revoke the key instead.",
            ));
        }
    }
    Ok(StatusCode::NO_CONTENT)
}
