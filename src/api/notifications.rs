//! /api/v1/notification-preferences (the caller's) and /api/v1/admin/broadcasts (admins).

use super::error::ErrorBody;
use super::extract::{ApiJson, Client, CurrentUser};
use crate::app::notification_types::{
    BroadcastInput, BroadcastResult, NotificationPreferences, UpdateNotificationPreferences,
};
use crate::domain::keys::Actor;
use crate::domain::{broadcasts, notification_prefs};
use crate::error::AppError;
use crate::server::state::AppState;
use axum::{Json, extract::State, http::StatusCode};
use time::OffsetDateTime;

fn account(caller: CurrentUser, client: Client) -> Result<Actor, AppError> {
    caller.require_account_access()?;
    Ok(Actor {
        user: caller.user,
        client: client.0,
    })
}

#[utoipa::path(get, path = "/api/v1/notification-preferences", tag = "notifications", security(("bearer" = [])),
    responses(
        (status = 200, description = "Every event type with the channels the caller hears it on, the defaults and what cannot be turned off", body = NotificationPreferences),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn preferences_get(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
) -> Result<Json<NotificationPreferences>, AppError> {
    let actor = account(caller, client)?;
    Ok(Json(
        notification_prefs::preferences(&state.db, actor.user.id.0).await?,
    ))
}

#[utoipa::path(put, path = "/api/v1/notification-preferences", tag = "notifications", security(("bearer" = [])),
    request_body(content = UpdateNotificationPreferences,
        description = "Only what changes: event type → channel (in_app, email, webhook) → on/off. A choice equal to the default is forgotten (the default applies from then on)."),
    responses(
        (status = 200, description = "Saved; the whole matrix", body = NotificationPreferences),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 413, description = "Body over 1 MiB", body = ErrorBody),
        (status = 422, description = "Unknown event type or channel, a value that is not true/false, or turning off a security mail; nothing is saved", body = ErrorBody),
    ))]
pub async fn preferences_update(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    input: Result<ApiJson<UpdateNotificationPreferences>, AppError>,
) -> Result<Json<NotificationPreferences>, AppError> {
    let actor = account(caller, client)?;
    let ApiJson(input) = input?;
    Ok(Json(
        notification_prefs::update(
            &state.db,
            actor.user.id.0,
            &input,
            OffsetDateTime::now_utc(),
        )
        .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/admin/broadcasts", tag = "admin", security(("bearer" = [])),
    request_body = BroadcastInput,
    responses(
        (status = 202, description = "Accepted: the broadcast event's dispatch job delivers it within moments as in-app notifications (and mail to those who opted in)", body = BroadcastResult),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    ))]
pub async fn broadcasts_create(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    input: Result<ApiJson<BroadcastInput>, AppError>,
) -> Result<(StatusCode, Json<BroadcastResult>), AppError> {
    let actor = account(caller, client)?;
    // Refused before the body is read: a non-admin learns nothing from a 422.
    if !actor.user.role.is_admin() {
        return Err(AppError::new(
            crate::error::ErrorCode::Forbidden,
            "Only admins can send broadcasts.",
        ));
    }
    let ApiJson(input) = input?;
    let result = broadcasts::send(&state, &actor, &input, OffsetDateTime::now_utc()).await?;
    Ok((StatusCode::ACCEPTED, Json(result)))
}
