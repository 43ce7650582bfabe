//! /api/v1/alert-rules (admins), /api/v1/alerts and /api/v1/notifications (the caller's).

use super::error::ErrorBody;
use super::extract::{ApiJson, ApiPath, ApiQuery, Client, CurrentUser};
use super::rate_limits::admin;
use crate::app::alert_types::{AlertPage, AlertRule, NotificationPage};
use crate::domain::alerts::{self, AlertListQuery, UpdateAlertRuleInput};
use crate::domain::keys::Actor;
use crate::domain::notifications::{self, NotificationQuery};
use crate::error::AppError;
use crate::server::state::AppState;
use axum::{Json, extract::State, http::StatusCode};
use time::OffsetDateTime;

/// The signed-in caller (not a key-managing management key).
fn account(caller: CurrentUser, client: Client) -> Result<Actor, AppError> {
    caller.require_account_access()?;
    Ok(Actor {
        user: caller.user,
        client: client.0,
    })
}

#[utoipa::path(get, path = "/api/v1/alert-rules", tag = "alerts", security(("bearer" = [])),
    responses(
        (status = 200, description = "Every alert rule", body = Vec<AlertRule>),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ))]
pub async fn alert_rules_list(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
) -> Result<Json<Vec<AlertRule>>, AppError> {
    let actor = admin(caller, client)?;
    Ok(Json(alerts::list_rules(&state.db, &actor).await?))
}

#[utoipa::path(patch, path = "/api/v1/alert-rules/{kind}", tag = "alerts", security(("bearer" = [])),
    params(("kind" = String, Path, description = "error_rate, rate_limited, traffic_spike or failed_ip")),
    request_body = UpdateAlertRuleInput,
    responses(
        (status = 200, description = "Updated; judged from the next evaluation (within a minute)", body = AlertRule),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such rule", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    ))]
pub async fn alert_rules_update(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    ApiPath(kind): ApiPath<String>,
    input: Result<ApiJson<UpdateAlertRuleInput>, AppError>,
) -> Result<Json<AlertRule>, AppError> {
    let actor = admin(caller, client)?;
    let ApiJson(input) = input?;
    Ok(Json(
        alerts::update_rule(&state.db, &actor, &kind, input, OffsetDateTime::now_utc()).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/alerts", tag = "alerts", security(("bearer" = [])),
    params(AlertListQuery),
    responses(
        (status = 200, description = "Alerts about the caller's keys (admins: every alert), newest first", body = AlertPage),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "Invalid paging", body = ErrorBody),
    ))]
pub async fn alerts_list(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    query: Result<ApiQuery<AlertListQuery>, AppError>,
) -> Result<Json<AlertPage>, AppError> {
    let actor = account(caller, client)?;
    let ApiQuery(query) = query?;
    Ok(Json(alerts::list_alerts(&state.db, &actor, &query).await?))
}

#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications", security(("bearer" = [])),
    params(NotificationQuery),
    responses(
        (status = 200, description = "The caller's notifications, newest first, with the unread count", body = NotificationPage),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "Invalid paging, or a kind that is no event type", body = ErrorBody),
    ))]
pub async fn notifications_list(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    query: Result<ApiQuery<NotificationQuery>, AppError>,
) -> Result<Json<NotificationPage>, AppError> {
    let actor = account(caller, client)?;
    let ApiQuery(query) = query?;
    Ok(Json(notifications::list(&state.db, &actor, &query).await?))
}

#[utoipa::path(post, path = "/api/v1/notifications/{id}/read", tag = "notifications", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Notification id")),
    responses(
        (status = 204, description = "Read (a notification read before stays as it was)"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "The caller has no such notification", body = ErrorBody),
    ))]
pub async fn notifications_read(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, AppError> {
    let actor = account(caller, client)?;
    notifications::mark_read(&state.db, &actor, id, OffsetDateTime::now_utc()).await?;
    state.notifications.changed(actor.user.id.0);
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/notifications/read-all", tag = "notifications", security(("bearer" = [])),
    responses(
        (status = 204, description = "Every notification of the caller is read"),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn notifications_read_all(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
) -> Result<StatusCode, AppError> {
    let actor = account(caller, client)?;
    notifications::mark_all_read(&state.db, &actor, OffsetDateTime::now_utc()).await?;
    state.notifications.changed(actor.user.id.0);
    Ok(StatusCode::NO_CONTENT)
}
