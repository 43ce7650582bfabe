//! /api/v1/auth/2fa: the caller's two-factor sign-in (enroll, turn on, turn off, new
//! recovery codes), and an admin's reset of another user's.

use super::error::ErrorBody;
use super::extract::{ApiJson, ApiPath, Client, CurrentUser};
use crate::app::types::{TwoFactorStatus, UserId};
use crate::domain::accounts;
use crate::domain::keys::Actor;
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

/// The password and a current code (or an unused recovery code): what turning two-factor
/// sign-in off and replacing the recovery codes ask for.
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

#[utoipa::path(get, path = "/api/v1/auth/2fa", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Whether two-factor sign-in is on, and recovery codes left", body = TwoFactorStatus),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn two_factor_status(
    State(state): State<AppState>,
    caller: CurrentUser,
) -> Result<Json<TwoFactorStatus>, AppError> {
    caller.require_account_access()?;
    Ok(Json(two_factor::status(&state.db, caller.user.id.0).await?))
}

#[utoipa::path(post, path = "/api/v1/auth/2fa/recovery-codes", tag = "auth",
    security(("bearer" = [])),
    request_body = DisableInput,
    responses(
        (status = 200, description = "Ten new recovery codes, shown only now; the old ones stop working", body = RecoveryCodes),
        (status = 401, description = "Not signed in, TOTP_REQUIRED or TOTP_INVALID", body = ErrorBody),
        (status = 409, description = "CONFLICT: two-factor sign-in is off", body = ErrorBody),
        (status = 422, description = "Password incorrect", body = ErrorBody),
    ))]
pub async fn two_factor_recovery_codes(
    State(state): State<AppState>,
    caller: CurrentUser,
    Client(client): Client,
    ApiJson(input): ApiJson<DisableInput>,
) -> Result<Json<RecoveryCodes>, AppError> {
    caller.require_account_access()?;
    let codes = accounts::regenerate_recovery_codes(
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
    Ok(Json(codes))
}

#[utoipa::path(post, path = "/api/v1/admin/users/{id}/2fa/reset", tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id")),
    responses(
        (status = 204, description = "Off for that user: the secret and recovery codes are deleted; audited"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin, your own account, or a super admin's (unless you are one)", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 409, description = "CONFLICT: that user has no two-factor sign-in", body = ErrorBody),
    ))]
pub async fn admin_two_factor_reset(
    State(state): State<AppState>,
    caller: CurrentUser,
    Client(client): Client,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, AppError> {
    caller.require_account_access()?;
    let actor = Actor {
        user: caller.user,
        client,
    };
    let now = OffsetDateTime::now_utc();
    two_factor::reset_by_admin(&state.db, &state.mailer, &actor, UserId(id), now).await?;
    Ok(StatusCode::NO_CONTENT)
}
