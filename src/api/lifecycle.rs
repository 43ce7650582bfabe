//! /api/v1/admin/lifecycle-policy (admins) and /api/v1/key-templates (admins write; everyone
//! signed in reads).

use super::error::ErrorBody;
use super::extract::{ApiJson, ApiPath, ApiQuery, Client, CurrentUser};
use super::rate_limits::admin;
use crate::app::lifecycle_types::{KeyTemplate, KeyTemplatePage, LifecyclePolicy};
use crate::domain::lifecycle::{
    self, CreateTemplateInput, PolicyInput, TemplateListQuery, UpdateTemplateInput, templates,
};
use crate::error::AppError;
use crate::server::state::AppState;
use axum::{Json, extract::State, http::StatusCode};
use time::OffsetDateTime;

#[utoipa::path(get, path = "/api/v1/admin/lifecycle-policy", tag = "lifecycle", security(("bearer" = [])),
    responses(
        (status = 200, description = "The key lifecycle policy in force (global)", body = LifecyclePolicy),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ))]
pub async fn lifecycle_policy_get(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
) -> Result<Json<LifecyclePolicy>, AppError> {
    let actor = admin(caller, client)?;
    Ok(Json(lifecycle::get_policy(&state.db, &actor).await?))
}

#[utoipa::path(put, path = "/api/v1/admin/lifecycle-policy", tag = "lifecycle", security(("bearer" = [])),
    request_body = PolicyInput,
    responses(
        (status = 200, description = "Saved (audited); applies to the next key create, edit or rotation and the next scans", body = LifecyclePolicy),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 413, description = "Body over 1 MiB", body = ErrorBody),
        (status = 422, description = "Invalid fields (out of range, duplicate warning days, unknown fields or action)", body = ErrorBody),
    ))]
pub async fn lifecycle_policy_put(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    input: Result<ApiJson<PolicyInput>, AppError>,
) -> Result<Json<LifecyclePolicy>, AppError> {
    let actor = admin(caller, client)?;
    let ApiJson(input) = input?;
    Ok(Json(
        lifecycle::put_policy(&state.db, &actor, input, OffsetDateTime::now_utc()).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/key-templates", tag = "lifecycle", security(("bearer" = [])),
    params(TemplateListQuery),
    responses(
        (status = 200, description = "A page of key templates, by name", body = KeyTemplatePage),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "Invalid paging", body = ErrorBody),
    ))]
pub async fn key_templates_list(
    State(state): State<AppState>,
    _caller: CurrentUser,
    ApiQuery(query): ApiQuery<TemplateListQuery>,
) -> Result<Json<KeyTemplatePage>, AppError> {
    Ok(Json(templates::list_templates(&state.db, &query).await?))
}

#[utoipa::path(get, path = "/api/v1/key-templates/{id}", tag = "lifecycle", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Template id")),
    responses(
        (status = 200, description = "The template", body = KeyTemplate),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such template", body = ErrorBody),
    ))]
pub async fn key_templates_get(
    State(state): State<AppState>,
    _caller: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<KeyTemplate>, AppError> {
    Ok(Json(templates::get_template(&state.db, id).await?))
}

#[utoipa::path(post, path = "/api/v1/key-templates", tag = "lifecycle", security(("bearer" = [])),
    request_body = CreateTemplateInput,
    responses(
        (status = 201, description = "Created (audited)", body = KeyTemplate),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "A template with this name exists", body = ErrorBody),
        (status = 413, description = "Body over 1 MiB", body = ErrorBody),
        (status = 422, description = "Invalid fields (e.g. an unknown placeholder in name_template, or an api_id that names nothing)", body = ErrorBody),
    ))]
pub async fn key_templates_create(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    input: Result<ApiJson<CreateTemplateInput>, AppError>,
) -> Result<(StatusCode, Json<KeyTemplate>), AppError> {
    let actor = admin(caller, client)?;
    let ApiJson(input) = input?;
    let t = templates::create_template(&state.db, &actor, input, OffsetDateTime::now_utc()).await?;
    Ok((StatusCode::CREATED, Json(t)))
}

#[utoipa::path(patch, path = "/api/v1/key-templates/{id}", tag = "lifecycle", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Template id")),
    request_body = UpdateTemplateInput,
    responses(
        (status = 200, description = "Updated (audited); keys made from it keep their settings", body = KeyTemplate),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such template", body = ErrorBody),
        (status = 409, description = "A template with this name exists", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    ))]
pub async fn key_templates_update(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    ApiPath(id): ApiPath<i64>,
    input: Result<ApiJson<UpdateTemplateInput>, AppError>,
) -> Result<Json<KeyTemplate>, AppError> {
    let actor = admin(caller, client)?;
    let ApiJson(input) = input?;
    Ok(Json(
        templates::update_template(&state.db, &actor, id, input, OffsetDateTime::now_utc()).await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/key-templates/{id}", tag = "lifecycle", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Template id")),
    responses(
        (status = 204, description = "Deleted (audited); keys made from it keep their settings"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such template", body = ErrorBody),
    ))]
pub async fn key_templates_delete(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, AppError> {
    let actor = admin(caller, client)?;
    templates::delete_template(&state.db, &actor, id, OffsetDateTime::now_utc()).await?;
    Ok(StatusCode::NO_CONTENT)
}
