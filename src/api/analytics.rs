//! Usage reports: `GET /keys/{id}/usage` and `GET /analytics/usage`, answered from rollups.

use super::error::ErrorBody;
use super::extract::{ApiPath, ApiQuery, Client, CurrentUser};
use crate::app::types::KeyId;
use crate::app::usage_types::UsageReport;
use crate::domain::analytics::{
    self,
    query::{RangeQuery, UsageQuery},
};
use crate::domain::keys::Actor;
use crate::error::AppError;
use crate::server::state::AppState;
use axum::{Json, extract::State};
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
