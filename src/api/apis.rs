//! /api/v1/apis: the API registry. Anyone signed in reads it; admins change it.

use super::error::ErrorBody;
use super::extract::{ApiJson, ApiPath, ApiQuery, Client, CurrentUser};
use crate::app::types::{Api, ApiId, ApiPage};
use crate::domain::apis::{self, ApiListQuery, CreateApiInput, UpdateApiInput};
use crate::domain::keys::Actor;
use crate::error::AppError;
use crate::server::state::AppState;
use axum::{Json, extract::State, http::StatusCode};
use time::OffsetDateTime;

/// The acting admin, checked before the body is read so that others get 403 whatever they
/// send. A `manage:keys` management key may read the registry (to pick an API for a key) but
/// not change it.
fn writer(caller: CurrentUser, client: Client) -> Result<Actor, AppError> {
    caller.require_account_access()?;
    let actor = Actor {
        user: caller.user,
        client: client.0,
    };
    apis::require_admin(&actor)?;
    Ok(actor)
}

#[utoipa::path(get, path = "/api/v1/apis", tag = "apis", security(("bearer" = [])),
    params(ApiListQuery),
    responses(
        (status = 200, description = "A page of APIs, by name", body = ApiPage),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "Invalid paging or search", body = ErrorBody),
    ))]
pub async fn apis_list(
    State(state): State<AppState>,
    _caller: CurrentUser,
    ApiQuery(query): ApiQuery<ApiListQuery>,
) -> Result<Json<ApiPage>, AppError> {
    Ok(Json(apis::list_apis(&state.api_ctx(), &query).await?))
}

#[utoipa::path(post, path = "/api/v1/apis", tag = "apis", security(("bearer" = [])),
    request_body = CreateApiInput,
    responses(
        (status = 201, description = "Registered; the gateway serves it at `gateway_path`", body = Api),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "SLUG_TAKEN", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    ))]
pub async fn apis_create(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    input: Result<ApiJson<CreateApiInput>, AppError>,
) -> Result<(StatusCode, Json<Api>), AppError> {
    let actor = writer(caller, client)?;
    let ApiJson(input) = input?;
    let api = apis::create_api(&state.api_ctx(), &actor, input, OffsetDateTime::now_utc()).await?;
    Ok((StatusCode::CREATED, Json(api)))
}

#[utoipa::path(get, path = "/api/v1/apis/{id}", tag = "apis", security(("bearer" = [])),
    params(("id" = i64, Path, description = "API id")),
    responses(
        (status = 200, description = "The API", body = Api),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such API", body = ErrorBody),
    ))]
pub async fn apis_get(
    State(state): State<AppState>,
    _caller: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Api>, AppError> {
    Ok(Json(apis::get_api(&state.api_ctx(), ApiId(id)).await?))
}

#[utoipa::path(patch, path = "/api/v1/apis/{id}", tag = "apis", security(("bearer" = [])),
    params(("id" = i64, Path, description = "API id")),
    request_body = UpdateApiInput,
    responses(
        (status = 200, description = "Updated", body = Api),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such API", body = ErrorBody),
        (status = 409, description = "SLUG_TAKEN", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    ))]
pub async fn apis_update(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    ApiPath(id): ApiPath<i64>,
    input: Result<ApiJson<UpdateApiInput>, AppError>,
) -> Result<Json<Api>, AppError> {
    let actor = writer(caller, client)?;
    let ApiJson(input) = input?;
    Ok(Json(
        apis::update_api(
            &state.api_ctx(),
            &actor,
            ApiId(id),
            input,
            OffsetDateTime::now_utc(),
        )
        .await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/apis/{id}", tag = "apis", security(("bearer" = [])),
    params(("id" = i64, Path, description = "API id")),
    responses(
        (status = 204, description = "Deleted; its gateway path answers 404 from now on"),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such API", body = ErrorBody),
    ))]
pub async fn apis_delete(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, AppError> {
    apis::delete_api(
        &state.api_ctx(),
        &writer(caller, client)?,
        ApiId(id),
        OffsetDateTime::now_utc(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
