//! /api/v1/auth/2fa: the caller's two-factor sign-in (enroll, turn on, turn off).

use super::error::ErrorBody;
use super::extract::{ApiJson, Client, CurrentUser};
use crate::domain::accounts;
use crate::domain::two_factor::{self, RecoveryCodes, TotpSetup};
use crate::error::AppError;
use crate::server::state::AppState;
use axum::{Json, extract::State, http::StatusCode};
use serde::Deserialize;
use time::OffsetDateTime;

#[utoipa::path(post, path = "/api/v1/auth/2fa/setup", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A new secret, not active until enabled with a code", body = TotpSetup),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 409, description = "CONFLICT: two-factor sign-in is on already", body = ErrorBody),
    ))]
pub async fn two_factor_setup(
    State(state): State<AppState>,
    caller: CurrentUser,
) -> Result<Json<TotpSetup>, AppError> {
    caller.require_account_access()?;
    let setup = two_factor::setup(
        &state.db,
        &state.crypto,
        caller.user.id.0,
        &caller.user.email,
        OffsetDateTime::now_utc(),
    )
    .await?;
    Ok(Json(setup))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct EnableInput {
    /// The current 6-digit code from the authenticator app.
    #[schema(example = "123456")]
    pub code: String,
}

#[utoipa::path(post, path = "/api/v1/auth/2fa/enable", tag = "auth",
    security(("bearer" = [])),
    request_body = EnableInput,
    responses(
        (status = 200, description = "On; ten one-time recovery codes, shown only now", body = RecoveryCodes),
        (status = 401, description = "Not signed in, or TOTP_INVALID", body = ErrorBody),
        (status = 409, description = "CONFLICT: no setup waiting for a code", body = ErrorBody),
    ))]
pub async fn two_factor_enable(
    State(state): State<AppState>,
    caller: CurrentUser,
    Client(client): Client,
    ApiJson(input): ApiJson<EnableInput>,
) -> Result<Json<RecoveryCodes>, AppError> {
    caller.require_account_access()?;
    let codes = two_factor::enable(
        &state.db,
        &state.crypto,
        &state.mailer,
        &caller.user,
        &input.code,
        &client,
        OffsetDateTime::now_utc(),
    )
    .await?;
    Ok(Json(codes))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct DisableInput {
    pub password: String,
    /// The current code, or an unused recovery code.
    pub code: String,
}

#[utoipa::path(post, path = "/api/v1/auth/2fa/disable", tag = "auth",
    security(("bearer" = [])),
    request_body = DisableInput,
    responses(
        (status = 204, description = "Off; the secret and recovery codes are deleted"),
        (status = 401, description = "Not signed in, or TOTP_INVALID", body = ErrorBody),
        (status = 409, description = "CONFLICT: two-factor sign-in is off", body = ErrorBody),
        (status = 422, description = "Password incorrect", body = ErrorBody),
    ))]
pub async fn two_factor_disable(
    State(state): State<AppState>,
    caller: CurrentUser,
    Client(client): Client,
    ApiJson(input): ApiJson<DisableInput>,
) -> Result<StatusCode, AppError> {
    caller.require_account_access()?;
    accounts::disable_two_factor(
        &state.db,
        &state.crypto,
        &state.mailer,
        caller.user.id,
        &input.password,
        Some(&input.code),
        &client,
        OffsetDateTime::now_utc(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
