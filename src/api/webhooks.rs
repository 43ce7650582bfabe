//! /api/v1/webhooks: the caller's webhook endpoints, their secret, deliveries, test sends
//! and redeliveries.

use super::error::ErrorBody;
use super::extract::{ApiJson, ApiPath, ApiQuery, Client, CurrentUser};
use crate::app::webhook_types::{
    Webhook, WebhookDelivery, WebhookDeliveryPage, WebhookPage, WebhookSecret, WebhookWithSecret,
};
use crate::domain::keys::Actor;
use crate::domain::webhooks::{self, CreateWebhookInput, UpdateWebhookInput, WebhookListQuery};
use crate::error::AppError;
use crate::server::state::AppState;
use axum::{Json, extract::State, http::StatusCode};
use time::OffsetDateTime;

/// The signed-in caller (management keys manage keys, not webhooks).
fn account(caller: CurrentUser, client: Client) -> Result<Actor, AppError> {
    caller.require_account_access()?;
    Ok(Actor {
        user: caller.user,
        client: client.0,
    })
}

#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks", security(("bearer" = [])),
    params(WebhookListQuery),
    responses(
        (status = 200, description = "The caller's endpoints, oldest first", body = WebhookPage),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "Invalid paging", body = ErrorBody),
    ))]
pub async fn webhooks_list(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    query: Result<ApiQuery<WebhookListQuery>, AppError>,
) -> Result<Json<WebhookPage>, AppError> {
    let actor = account(caller, client)?;
    let ApiQuery(query) = query?;
    Ok(Json(
        webhooks::list_webhooks(&state, &actor, &query, OffsetDateTime::now_utc()).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", security(("bearer" = [])),
    request_body = CreateWebhookInput,
    responses(
        (status = 201, description = "Created; `secret` signs every delivery (also at GET /webhooks/{id}/secret)", body = WebhookWithSecret),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Viewers cannot create webhooks", body = ErrorBody),
        (status = 409, description = "The caller has the most endpoints allowed (50)", body = ErrorBody),
        (status = 413, description = "Body over 1 MiB", body = ErrorBody),
        (status = 422, description = "Invalid fields, or a URL whose host is private or loopback", body = ErrorBody),
    ))]
pub async fn webhooks_create(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    input: Result<ApiJson<CreateWebhookInput>, AppError>,
) -> Result<(StatusCode, Json<WebhookWithSecret>), AppError> {
    let actor = account(caller, client)?;
    let ApiJson(input) = input?;
    let created =
        webhooks::create_webhook(&state, &actor, input, OffsetDateTime::now_utc()).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[utoipa::path(get, path = "/api/v1/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Webhook id")),
    responses(
        (status = 200, description = "The endpoint", body = Webhook),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "The caller has no such endpoint", body = ErrorBody),
    ))]
pub async fn webhooks_get(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Webhook>, AppError> {
    let actor = account(caller, client)?;
    Ok(Json(
        webhooks::get_webhook(&state, &actor, id, OffsetDateTime::now_utc()).await?,
    ))
}

#[utoipa::path(patch, path = "/api/v1/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Webhook id")),
    request_body = UpdateWebhookInput,
    responses(
        (status = 200, description = "Updated", body = Webhook),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Viewers cannot change webhooks", body = ErrorBody),
        (status = 404, description = "The caller has no such endpoint", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    ))]
pub async fn webhooks_update(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    ApiPath(id): ApiPath<i64>,
    input: Result<ApiJson<UpdateWebhookInput>, AppError>,
) -> Result<Json<Webhook>, AppError> {
    let actor = account(caller, client)?;
    let ApiJson(input) = input?;
    Ok(Json(
        webhooks::update_webhook(&state, &actor, id, input, OffsetDateTime::now_utc()).await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Webhook id")),
    responses(
        (status = 204, description = "Deleted with its deliveries"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Viewers cannot delete webhooks", body = ErrorBody),
        (status = 404, description = "The caller has no such endpoint", body = ErrorBody),
    ))]
pub async fn webhooks_delete(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, AppError> {
    let actor = account(caller, client)?;
    webhooks::delete_webhook(&state, &actor, id, OffsetDateTime::now_utc()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/webhooks/{id}/secret", tag = "webhooks", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Webhook id")),
    responses(
        (status = 200, description = "The current signing secret", body = WebhookSecret),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "The caller has no such endpoint", body = ErrorBody),
    ))]
pub async fn webhooks_secret(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<WebhookSecret>, AppError> {
    let actor = account(caller, client)?;
    Ok(Json(webhooks::reveal_secret(&state, &actor, id).await?))
}

#[utoipa::path(post, path = "/api/v1/webhooks/{id}/rotate-secret", tag = "webhooks", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Webhook id")),
    responses(
        (status = 200, description = "A new secret; for 24 hours deliveries carry a signature with each", body = WebhookWithSecret),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Viewers cannot rotate secrets", body = ErrorBody),
        (status = 404, description = "The caller has no such endpoint", body = ErrorBody),
    ))]
pub async fn webhooks_rotate_secret(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<WebhookWithSecret>, AppError> {
    let actor = account(caller, client)?;
    Ok(Json(
        webhooks::rotate_secret(&state, &actor, id, OffsetDateTime::now_utc()).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/webhooks/{id}/test", tag = "webhooks", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Webhook id")),
    responses(
        (status = 202, description = "A `webhook.test` message, sent once already (see its attempts); failures are retried", body = WebhookDelivery),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Viewers cannot send tests", body = ErrorBody),
        (status = 404, description = "The caller has no such endpoint", body = ErrorBody),
        (status = 409, description = "The endpoint is disabled", body = ErrorBody),
    ))]
pub async fn webhooks_test(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    ApiPath(id): ApiPath<i64>,
) -> Result<(StatusCode, Json<WebhookDelivery>), AppError> {
    let actor = account(caller, client)?;
    let d = webhooks::test_webhook(&state, &actor, id, OffsetDateTime::now_utc()).await?;
    Ok((StatusCode::ACCEPTED, Json(d)))
}

#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Webhook id"), WebhookListQuery),
    responses(
        (status = 200, description = "Deliveries, newest first, each with its attempts", body = WebhookDeliveryPage),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "The caller has no such endpoint", body = ErrorBody),
        (status = 422, description = "Invalid paging", body = ErrorBody),
    ))]
pub async fn webhooks_deliveries(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    ApiPath(id): ApiPath<i64>,
    query: Result<ApiQuery<WebhookListQuery>, AppError>,
) -> Result<Json<WebhookDeliveryPage>, AppError> {
    let actor = account(caller, client)?;
    let ApiQuery(query) = query?;
    Ok(Json(
        webhooks::list_deliveries(&state, &actor, id, &query).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries/{delivery_id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Webhook id"), ("delivery_id" = i64, Path, description = "Delivery id")),
    responses(
        (status = 200, description = "The delivery with its attempts", body = WebhookDelivery),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such endpoint of the caller's, or no such delivery of it", body = ErrorBody),
    ))]
pub async fn webhooks_delivery(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    ApiPath((id, delivery_id)): ApiPath<(i64, i64)>,
) -> Result<Json<WebhookDelivery>, AppError> {
    let actor = account(caller, client)?;
    Ok(Json(
        webhooks::get_delivery(&state, &actor, id, delivery_id).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver", tag = "webhooks", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Webhook id"), ("delivery_id" = i64, Path, description = "Delivery id")),
    responses(
        (status = 202, description = "Sent again now with a fresh retry budget and the same webhook-id", body = WebhookDelivery),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Viewers cannot redeliver", body = ErrorBody),
        (status = 404, description = "No such endpoint of the caller's, or no such delivery of it", body = ErrorBody),
        (status = 409, description = "The endpoint is disabled, or an attempt is in flight", body = ErrorBody),
    ))]
pub async fn webhooks_redeliver(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    ApiPath((id, delivery_id)): ApiPath<(i64, i64)>,
) -> Result<(StatusCode, Json<WebhookDelivery>), AppError> {
    let actor = account(caller, client)?;
    let d = webhooks::redeliver(&state, &actor, id, delivery_id, OffsetDateTime::now_utc()).await?;
    Ok((StatusCode::ACCEPTED, Json(d)))
}
