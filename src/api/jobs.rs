//! /api/v1/admin/jobs: the durable job queue, for admins.

use super::error::ErrorBody;
use super::extract::{ApiPath, ApiQuery, Client, CurrentUser};
use super::rate_limits::admin;
use crate::app::job_types::{Job, JobPage};
use crate::domain::job_admin::{self, JobQuery};
use crate::error::AppError;
use crate::server::state::AppState;
use axum::{Json, extract::State};
use time::OffsetDateTime;

#[utoipa::path(get, path = "/api/v1/admin/jobs", tag = "admin", security(("bearer" = [])),
    params(JobQuery),
    responses(
        (status = 200, description = "A page of jobs (newest first), counts per kind and state, and the periodic jobs", body = JobPage),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 422, description = "Invalid state, kind or paging", body = ErrorBody),
    ))]
pub async fn admin_jobs_list(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    query: Result<ApiQuery<JobQuery>, AppError>,
) -> Result<Json<JobPage>, AppError> {
    let actor = admin(caller, client)?;
    let ApiQuery(query) = query?;
    Ok(Json(
        job_admin::overview(&state.db, &actor, &query, OffsetDateTime::now_utc()).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/admin/jobs/{id}/retry", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Job id")),
    responses(
        (status = 200, description = "Queued again with fresh tries", body = Job),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such job", body = ErrorBody),
        (status = 409, description = "The job was not given up", body = ErrorBody),
    ))]
pub async fn admin_jobs_retry(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Job>, AppError> {
    let actor = admin(caller, client)?;
    let job = job_admin::retry(&state.db, &actor, id, OffsetDateTime::now_utc()).await?;
    state.wake_jobs();
    Ok(Json(job))
}
