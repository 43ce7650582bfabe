//! /api/v1/auth/password-reset: ask for a reset link by mail, then set a new password with it;
//! /api/v1/auth/verify-email: confirm an address with the link mailed at registration.

use super::error::ErrorBody;
use super::extract::{ApiJson, Client};
use crate::domain::{email_verification, password_reset};
use crate::error::AppError;
use crate::server::state::AppState;
use axum::{extract::State, http::StatusCode};
use serde::Deserialize;
use time::OffsetDateTime;

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ResetRequestInput {
    #[schema(example = "ada@example.com")]
    pub email: String,
}

#[utoipa::path(post, path = "/api/v1/auth/password-reset/request", tag = "auth",
    request_body = ResetRequestInput,
    responses(
        (status = 202, description = "Accepted, whether or not the address has an account: if it has, a reset link valid for an hour is mailed to it (at most 3 a quarter hour per address)"),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 413, description = "Body over 1 MiB", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "Not an email address", body = ErrorBody),
        (status = 429, description = "TOO_MANY_ATTEMPTS: over 10 requests a quarter hour from this client IP, with Retry-After", body = ErrorBody),
    ))]
pub async fn password_reset_request(
    State(state): State<AppState>,
    Client(client): Client,
    ApiJson(input): ApiJson<ResetRequestInput>,
) -> Result<StatusCode, AppError> {
    password_reset::request(
        &state.db,
        &state.crypto,
        &state.mailer,
        &input.email,
        &client,
        OffsetDateTime::now_utc(),
    )
    .await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ResetConfirmInput {
    /// The `token` of the mailed link.
    pub token: String,
    /// At least 10 characters.
    #[schema(
        example = "correct horse battery staple",
        min_length = 10,
        max_length = 256
    )]
    pub new_password: String,
}

#[utoipa::path(post, path = "/api/v1/auth/password-reset/confirm", tag = "auth",
    request_body = ResetConfirmInput,
    responses(
        (status = 204, description = "Password set; every browser session, REST session and refresh token of the account is signed out, and the user is told by mail"),
        (status = 400, description = "EMAIL_TOKEN_INVALID: the link is unknown, used, replaced by a newer one or expired; or malformed JSON", body = ErrorBody),
        (status = 422, description = "The new password is too short or too long", body = ErrorBody),
    ))]
pub async fn password_reset_confirm(
    State(state): State<AppState>,
    Client(client): Client,
    ApiJson(input): ApiJson<ResetConfirmInput>,
) -> Result<StatusCode, AppError> {
    password_reset::confirm(
        &state.db,
        &state.crypto,
        &state.mailer,
        &input.token,
        &input.new_password,
        &client,
        OffsetDateTime::now_utc(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct VerifyEmailInput {
    /// The `token` of the link mailed at registration.
    pub token: String,
}

#[utoipa::path(post, path = "/api/v1/auth/verify-email", tag = "auth",
    request_body = VerifyEmailInput,
    responses(
        (status = 204, description = "The address is confirmed (`email_verified` in GET /users/me)"),
        (status = 400, description = "EMAIL_TOKEN_INVALID: the link is unknown, used, replaced by a newer one or expired; or malformed JSON", body = ErrorBody),
        (status = 422, description = "Wrong types", body = ErrorBody),
    ))]
pub async fn verify_email(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<VerifyEmailInput>,
) -> Result<StatusCode, AppError> {
    email_verification::verify(
        &state.db,
        &state.crypto,
        &input.token,
        OffsetDateTime::now_utc(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
