//! /api/v1/keys: management (session, access token or management key) and verification
//! (the key itself is the credential).

use super::error::ErrorBody;
use super::extract::{ApiJson, ApiPath, ApiQuery, Client, CurrentUser};
use crate::app::types::{ApiKey, IssuedKey, KeyId};
use crate::domain::keys::{
    self, Actor, CreateKeyInput, KeyListQuery, KeyPage, UpdateKeyInput, verify,
};
use crate::domain::to_millis;
use crate::domain::usage::{UsageEvent, UsageSource};
use crate::error::{AppError, Validator};
use crate::server::state::AppState;
use axum::{Json, extract::State, http::StatusCode, response::IntoResponse};
use serde::Deserialize;
use time::OffsetDateTime;

fn actor(caller: CurrentUser, client: Client) -> Actor {
    Actor {
        user: caller.user,
        client: client.0,
    }
}

#[utoipa::path(post, path = "/api/v1/keys", tag = "keys", security(("bearer" = [])),
    request_body = CreateKeyInput,
    responses(
        (status = 201, description = "Created; `key` is shown only now", body = IssuedKey),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Viewers cannot create keys; EMAIL_NOT_VERIFIED under KEYPORT_REQUIRE_VERIFIED_EMAIL until the address is confirmed", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    ))]
pub async fn keys_create(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    ApiJson(input): ApiJson<CreateKeyInput>,
) -> Result<(StatusCode, Json<IssuedKey>), AppError> {
    crate::domain::email_verification::require_verified(
        state.config.require_verified_email,
        &caller.user,
    )?;
    let issued = keys::create_key(
        &state.key_ctx(),
        &actor(caller, client),
        input,
        OffsetDateTime::now_utc(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

#[utoipa::path(get, path = "/api/v1/keys", tag = "keys", security(("bearer" = [])),
    params(KeyListQuery),
    responses(
        (status = 200, description = "A page of keys (your own; admins: everyone's)", body = KeyPage),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "Invalid filter", body = ErrorBody),
    ))]
pub async fn keys_list(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    ApiQuery(query): ApiQuery<KeyListQuery>,
) -> Result<Json<KeyPage>, AppError> {
    Ok(Json(
        keys::list_keys(
            &state.key_ctx(),
            &actor(caller, client),
            &query,
            OffsetDateTime::now_utc(),
        )
        .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/keys/{id}", tag = "keys", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Key id")),
    responses(
        (status = 200, description = "The key", body = ApiKey),
        (status = 404, description = "No such key (or not yours)", body = ErrorBody),
    ))]
pub async fn keys_get(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ApiKey>, AppError> {
    Ok(Json(
        keys::get_key(
            &state.key_ctx(),
            &actor(caller, client),
            KeyId(id),
            OffsetDateTime::now_utc(),
        )
        .await?,
    ))
}

#[utoipa::path(patch, path = "/api/v1/keys/{id}", tag = "keys", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Key id")),
    request_body = UpdateKeyInput,
    responses(
        (status = 200, description = "Updated", body = ApiKey),
        (status = 403, description = "You may see the key but not change it (a viewer, or an org role without write access)", body = ErrorBody),
        (status = 404, description = "No such key (or not yours)", body = ErrorBody),
        (status = 409, description = "The key is revoked", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    ))]
pub async fn keys_update(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<UpdateKeyInput>,
) -> Result<Json<ApiKey>, AppError> {
    Ok(Json(
        keys::update_key(
            &state.key_ctx(),
            &actor(caller, client),
            KeyId(id),
            input,
            OffsetDateTime::now_utc(),
        )
        .await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/keys/{id}", tag = "keys", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Key id")),
    responses(
        (status = 204, description = "Deleted; verifying it answers API_KEY_INVALID"),
        (status = 404, description = "No such key (or not yours)", body = ErrorBody),
    ))]
pub async fn keys_delete(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, AppError> {
    keys::delete_key(
        &state.key_ctx(),
        &actor(caller, client),
        KeyId(id),
        OffsetDateTime::now_utc(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/keys/{id}/revoke", tag = "keys", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Key id")),
    responses(
        (status = 200, description = "Revoked; verification answers API_KEY_REVOKED at once", body = ApiKey),
        (status = 404, description = "No such key (or not yours)", body = ErrorBody),
    ))]
pub async fn keys_revoke(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ApiKey>, AppError> {
    Ok(Json(
        keys::revoke_key(
            &state.key_ctx(),
            &actor(caller, client),
            KeyId(id),
            OffsetDateTime::now_utc(),
        )
        .await?,
    ))
}

#[derive(Default, Deserialize, utoipa::ToSchema)]
pub struct RotateInput {
    /// How long the old key keeps working (0-2592000; default 86400).
    #[serde(default)]
    #[schema(example = 86400)]
    pub grace_period_seconds: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/keys/{id}/rotate", tag = "keys", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Key id")),
    request_body = RotateInput,
    responses(
        (status = 201, description = "The successor, with `key` shown only now; the old key answers VALID with rotated=true until its revoked_at", body = IssuedKey),
        (status = 404, description = "No such key (or not yours)", body = ErrorBody),
        (status = 409, description = "Revoked or already rotated", body = ErrorBody),
    ))]
pub async fn keys_rotate(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<RotateInput>,
) -> Result<(StatusCode, Json<IssuedKey>), AppError> {
    let issued = keys::rotate_key(
        &state.key_ctx(),
        &actor(caller, client),
        KeyId(id),
        input.grace_period_seconds,
        OffsetDateTime::now_utc(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

#[utoipa::path(post, path = "/api/v1/keys/verify", tag = "verification",
    request_body = verify::VerifyRequest,
    responses(
        (status = 200, description = "The verdict; `valid` false with a code for every refusal", body = verify::VerifyResponse),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 422, description = "Invalid fields (e.g. an unparseable ip)", body = ErrorBody),
    ))]
pub async fn keys_verify(
    State(state): State<AppState>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    headers: axum::http::HeaderMap,
    ApiJson(req): ApiJson<verify::VerifyRequest>,
) -> Result<axum::response::Response, AppError> {
    let started = std::time::Instant::now();
    let mut v = Validator::default();
    v.check(
        req.ip
            .as_deref()
            .is_none_or(|ip| ip.parse::<std::net::IpAddr>().is_ok()),
        "body.ip",
        "must be an IPv4 or IPv6 address",
    );
    v.check(
        req.scopes.len() <= 100,
        "body.scopes",
        "must have at most 100 entries",
    );
    v.check(
        req.scopes.iter().all(|s| s.len() <= 100),
        "body.scopes",
        "entries must be at most 100 characters",
    );
    v.check(
        req.endpoint.as_ref().is_none_or(|e| e.len() <= 512),
        "body.endpoint",
        "must be at most 512 characters",
    );
    v.check(
        req.cost.is_none_or(|c| (0..=1_000_000).contains(&c)),
        "body.cost",
        "must be between 0 and 1000000",
    );
    v.finish()?;
    let now_ms = to_millis(OffsetDateTime::now_utc());
    let answer = verify::verify_key(&state.key_ctx(), &req, Some(peer.ip()), now_ms)
        .await?
        .response;
    // Serialized here rather than by `Json`, so the usage record has the answer's size.
    let body = serde_json::to_vec(&answer).map_err(|_| AppError::internal())?;
    state.metrics.verification("verify", answer.code.as_str());
    state.usage.record(UsageEvent {
        at_ms: now_ms,
        key_id: answer.key_id,
        owner_user_id: answer.owner_user_id,
        api_id: None,
        source: UsageSource::Verify,
        endpoint: req.endpoint.clone().unwrap_or_default(),
        code: answer.code.as_str(),
        status: 200,
        latency_us: i64::try_from(started.elapsed().as_micros()).unwrap_or(i64::MAX),
        request_bytes: headers
            .get(axum::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
        response_bytes: body.len() as i64,
        // The consumer's address when the caller names it (a gateway verifying for them).
        // Canonical, so one client is one entry however its address was written.
        ip: req
            .ip
            .as_deref()
            .and_then(|ip| ip.parse::<std::net::IpAddr>().ok())
            .unwrap_or(peer.ip())
            .to_canonical()
            .to_string(),
        user_agent: headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string(),
    });
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response())
}

#[utoipa::path(post, path = "/api/v1/keys/bulk", tag = "keys", security(("bearer" = [])),
    request_body = crate::domain::keys::bulk::BulkRequest,
    responses(
        (status = 200, description = "Per-item results (`dry_run`: what would change, nothing written); one bad id never aborts the others. Item codes: NOT_FOUND, FORBIDDEN, KEY_REVOKED, VALIDATION_ERROR", body = crate::domain::keys::bulk::BulkOutcome),
        (status = 202, description = "`background` and more than 500 keys: queued as a durable job (`queued: true`, no results yet); follow GET /api/v1/keys/bulk/{operation_id}", body = crate::domain::keys::bulk::BulkOutcome),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Viewers cannot change keys", body = ErrorBody),
        (status = 422, description = "Unknown action, ids and filter both or neither, more than 10000 items, missing expires_at/tags, wrong types", body = ErrorBody),
    ))]
pub async fn keys_bulk(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    ApiJson(req): ApiJson<crate::domain::keys::bulk::BulkRequest>,
) -> Result<(StatusCode, Json<crate::domain::keys::bulk::BulkOutcome>), AppError> {
    let out = keys::bulk::bulk_keys(
        &state.key_ctx(),
        &actor(caller, client),
        &req,
        OffsetDateTime::now_utc(),
    )
    .await?;
    let status = if out.queued {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(out)))
}

#[utoipa::path(get, path = "/api/v1/keys/saved-filters", tag = "keys", security(("bearer" = [])),
    responses(
        (status = 200, description = "Your saved key filters, by name", body = [crate::domain::keys::saved_filters::SavedFilter]),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn saved_filters_list(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
) -> Result<Json<Vec<crate::domain::keys::saved_filters::SavedFilter>>, AppError> {
    Ok(Json(
        keys::saved_filters::list_saved_filters(&state.db, &actor(caller, client)).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/keys/saved-filters", tag = "keys", security(("bearer" = [])),
    request_body = crate::domain::keys::saved_filters::NewSavedFilter,
    responses(
        (status = 201, description = "Saved", body = crate::domain::keys::saved_filters::SavedFilter),
        (status = 409, description = "You already have a filter of that name (CONFLICT)", body = ErrorBody),
        (status = 422, description = "Name empty or too long; query not a valid key filter", body = ErrorBody),
    ))]
pub async fn saved_filters_create(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    ApiJson(input): ApiJson<crate::domain::keys::saved_filters::NewSavedFilter>,
) -> Result<
    (
        StatusCode,
        Json<crate::domain::keys::saved_filters::SavedFilter>,
    ),
    AppError,
> {
    let saved = keys::saved_filters::save_filter(
        &state.db,
        &actor(caller, client),
        input,
        OffsetDateTime::now_utc(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(saved)))
}

#[utoipa::path(delete, path = "/api/v1/keys/saved-filters/{id}", tag = "keys", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Saved filter id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such filter of yours", body = ErrorBody),
    ))]
pub async fn saved_filters_delete(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, AppError> {
    keys::saved_filters::delete_saved_filter(&state.db, &actor(caller, client), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/keys/bulk/{id}", tag = "keys", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Bulk operation id")),
    responses(
        (status = 200, description = "Progress and, once done, per-item results", body = crate::app::bulk_types::BulkOperation),
        (status = 404, description = "No such operation of yours", body = ErrorBody),
    ))]
pub async fn keys_bulk_get(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<crate::app::bulk_types::BulkOperation>, AppError> {
    Ok(Json(
        keys::bulk_ops::get_bulk_operation(&state.db, &actor(caller, client), id).await?,
    ))
}
