//! /api/v1/rate-limits: rate-limit policies beyond a key's own. Admins only.

use super::error::ErrorBody;
use super::extract::{ApiJson, ApiPath, ApiQuery, Client, CurrentUser};
use crate::app::policy_types::{RateLimitPolicy, RateLimitPolicyPage};
use crate::domain::keys::Actor;
use crate::domain::policies::{
    self, CreatePolicyInput, PolicyListQuery, UpdatePolicyInput, require_admin,
};
use crate::error::AppError;
use crate::server::state::AppState;
use axum::{Json, extract::State, http::StatusCode};
use time::OffsetDateTime;

/// The acting admin, checked before the body is read so that others get 403 whatever they send.
pub(super) fn admin(caller: CurrentUser, client: Client) -> Result<Actor, AppError> {
    caller.require_account_access()?;
    let actor = Actor {
        user: caller.user,
        client: client.0,
    };
    require_admin(&actor)?;
    Ok(actor)
}

#[utoipa::path(get, path = "/api/v1/rate-limits", tag = "rate-limits", security(("bearer" = [])),
    params(PolicyListQuery),
    responses(
        (status = 200, description = "A page of policies, newest first", body = RateLimitPolicyPage),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 422, description = "Invalid paging or scope", body = ErrorBody),
    ))]
pub async fn rate_limits_list(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    query: Result<ApiQuery<PolicyListQuery>, AppError>,
) -> Result<Json<RateLimitPolicyPage>, AppError> {
    let actor = admin(caller, client)?;
    let ApiQuery(query) = query?;
    Ok(Json(
        policies::list_policies(&state.policy_ctx(), &actor, &query).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/rate-limits", tag = "rate-limits", security(("bearer" = [])),
    request_body = CreatePolicyInput,
    responses(
        (status = 201, description = "Created and in force at once", body = RateLimitPolicy),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 422, description = "Invalid fields, or a target that names nothing", body = ErrorBody),
    ))]
pub async fn rate_limits_create(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    input: Result<ApiJson<CreatePolicyInput>, AppError>,
) -> Result<(StatusCode, Json<RateLimitPolicy>), AppError> {
    let actor = admin(caller, client)?;
    let ApiJson(input) = input?;
    let policy = policies::create_policy(
        &state.policy_ctx(),
        &actor,
        input,
        OffsetDateTime::now_utc(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(policy)))
}

#[utoipa::path(get, path = "/api/v1/rate-limits/{id}", tag = "rate-limits", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Policy id")),
    responses(
        (status = 200, description = "The policy", body = RateLimitPolicy),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such policy", body = ErrorBody),
    ))]
pub async fn rate_limits_get(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<RateLimitPolicy>, AppError> {
    let actor = admin(caller, client)?;
    Ok(Json(
        policies::get_policy(&state.policy_ctx(), &actor, id).await?,
    ))
}

#[utoipa::path(patch, path = "/api/v1/rate-limits/{id}", tag = "rate-limits", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Policy id")),
    request_body = UpdatePolicyInput,
    responses(
        (status = 200, description = "Updated and in force at once", body = RateLimitPolicy),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such policy", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    ))]
pub async fn rate_limits_update(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    ApiPath(id): ApiPath<i64>,
    input: Result<ApiJson<UpdatePolicyInput>, AppError>,
) -> Result<Json<RateLimitPolicy>, AppError> {
    let actor = admin(caller, client)?;
    let ApiJson(input) = input?;
    Ok(Json(
        policies::update_policy(
            &state.policy_ctx(),
            &actor,
            id,
            input,
            OffsetDateTime::now_utc(),
        )
        .await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/rate-limits/{id}", tag = "rate-limits", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Policy id")),
    responses(
        (status = 204, description = "Deleted; no longer enforced"),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such policy", body = ErrorBody),
    ))]
pub async fn rate_limits_delete(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, AppError> {
    let actor = admin(caller, client)?;
    policies::delete_policy(&state.policy_ctx(), &actor, id, OffsetDateTime::now_utc()).await?;
    Ok(StatusCode::NO_CONTENT)
}
