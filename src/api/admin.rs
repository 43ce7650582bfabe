//! /api/v1/admin/…: the running instance's figures, for admins.

use super::error::ErrorBody;
use super::extract::CurrentUser;
use crate::app::system_types::SystemSnapshot;
use crate::error::{AppError, ErrorCode};
use crate::server::state::AppState;
use axum::{Json, extract::State};

#[utoipa::path(get, path = "/api/v1/admin/system", tag = "admin", security(("bearer" = [])),
    responses(
        (status = 200, description = "This process's figures now; rates and percentiles over the last minute", body = SystemSnapshot),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ))]
pub async fn admin_system(
    State(state): State<AppState>,
    caller: CurrentUser,
) -> Result<Json<SystemSnapshot>, AppError> {
    caller.require_account_access()?;
    if !caller.user.role.is_admin() {
        return Err(AppError::new(
            ErrorCode::Forbidden,
            "Only admins can see the system's figures.",
        ));
    }
    Ok(Json(crate::server::metrics::system::snapshot(
        &state,
        time::OffsetDateTime::now_utc(),
    )))
}
