//! Usage reports: `GET /keys/{id}/usage` and `GET /analytics/usage`, answered from rollups,
//! and their streamed CSV/JSON exports.

use super::error::ErrorBody;
use super::extract::{ApiPath, ApiQuery, Client, CurrentUser};
use crate::app::types::KeyId;
use crate::app::usage_types::UsageReport;
use crate::domain::analytics::{
    self,
    query::{KeyExportQuery, RangeQuery, UsageExportQuery, UsageQuery},
};
use crate::domain::keys::Actor;
use crate::error::AppError;
use crate::server::state::AppState;
use axum::{
    Json,
    body::Body,
    extract::State,
    http::header,
    response::{IntoResponse, Response},
};
use time::OffsetDateTime;

fn actor(caller: CurrentUser, client: Client) -> Actor {
    Actor {
        user: caller.user,
        client: client.0,
    }
}

#[utoipa::path(get, path = "/api/v1/keys/{id}/usage", tag = "analytics", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Key id"), RangeQuery),
    responses(
        (status = 200, description = "The key's usage, bucket by bucket (empty buckets included)", body = UsageReport),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such key (or not yours)", body = ErrorBody),
        (status = 422, description = "Invalid range or granularity", body = ErrorBody),
    ))]
pub async fn keys_usage(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    ApiPath(id): ApiPath<i64>,
    query: Result<ApiQuery<RangeQuery>, AppError>,
) -> Result<Json<UsageReport>, AppError> {
    let ApiQuery(query) = query?;
    Ok(Json(
        analytics::key_usage(
            &state.key_ctx(),
            state.usage.pending(),
            &actor(caller, client),
            KeyId(id),
            &query,
            OffsetDateTime::now_utc(),
        )
        .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/analytics/usage", tag = "analytics", security(("bearer" = [])),
    params(UsageQuery),
    responses(
        (status = 200, description = "Usage of the caller's keys (admins: all keys), bucket by bucket", body = UsageReport),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "`key_id` names no key of yours", body = ErrorBody),
        (status = 422, description = "Invalid range, granularity or filter", body = ErrorBody),
    ))]
pub async fn analytics_usage(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    query: Result<ApiQuery<UsageQuery>, AppError>,
) -> Result<Json<UsageReport>, AppError> {
    let ApiQuery(query) = query?;
    Ok(Json(
        analytics::usage(
            &state.key_ctx(),
            state.usage.pending(),
            &actor(caller, client),
            &query,
            OffsetDateTime::now_utc(),
        )
        .await?,
    ))
}

/// The streamed answer of an export, with a file name for browsers that save it.
fn export_response(export: analytics::Export, name: &str) -> Response {
    let day = |ms: i64| {
        crate::domain::from_millis(ms)
            .date()
            .format(&time::macros::format_description!("[year]-[month]-[day]"))
            .unwrap_or_default()
    };
    let file = format!(
        "keyport-usage-{name}-{}-to-{}.{}",
        day(export.range.from_ms),
        day(export.range.to_ms - 1),
        export.format.extension()
    );
    let chunks = futures_util::stream::unfold(export.body, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    (
        [
            (
                header::CONTENT_TYPE,
                export.format.content_type().to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        Body::from_stream(chunks),
    )
        .into_response()
}

#[utoipa::path(get, path = "/api/v1/keys/{id}/usage/export", tag = "analytics", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Key id"), KeyExportQuery),
    responses(
        (status = 200, description = "The key's usage rows (bucket, endpoint, outcome code, status class), streamed as CSV with a header line, or as a JSON array", content_type = "text/csv"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such key (or not yours)", body = ErrorBody),
        (status = 422, description = "Invalid format, range or granularity", body = ErrorBody),
    ))]
pub async fn keys_usage_export(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    ApiPath(id): ApiPath<i64>,
    query: Result<ApiQuery<KeyExportQuery>, AppError>,
) -> Result<Response, AppError> {
    let ApiQuery(query) = query?;
    let export = analytics::key_export(
        &state.key_ctx(),
        state.usage.pending(),
        &actor(caller, client),
        KeyId(id),
        &query,
        OffsetDateTime::now_utc(),
    )
    .await?;
    Ok(export_response(export, &format!("key-{id}")))
}

#[utoipa::path(get, path = "/api/v1/analytics/usage/export", tag = "analytics", security(("bearer" = [])),
    params(UsageExportQuery),
    responses(
        (status = 200, description = "Usage rows of the caller's keys (admins: all), streamed as CSV with a header line, or as a JSON array", content_type = "text/csv"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "`key_id` names no key of yours", body = ErrorBody),
        (status = 422, description = "Invalid format, range, granularity or filter", body = ErrorBody),
    ))]
pub async fn analytics_usage_export(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    query: Result<ApiQuery<UsageExportQuery>, AppError>,
) -> Result<Response, AppError> {
    let ApiQuery(query) = query?;
    let name = match (query.key_id, query.api_id) {
        (Some(k), _) => format!("key-{k}"),
        (None, Some(a)) => format!("api-{a}"),
        (None, None) if caller.user.role.is_admin() => "all".to_string(),
        (None, None) => "mine".to_string(),
    };
    let export = analytics::usage_export(
        &state.key_ctx(),
        state.usage.pending(),
        &actor(caller, client),
        &query,
        OffsetDateTime::now_utc(),
    )
    .await?;
    Ok(export_response(export, &name))
}
