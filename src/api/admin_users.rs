//! /api/v1/admin/users…, /api/v1/audit-log… and /api/v1/admin/security-events: the admin
//! console over REST. Each handler authenticates, then calls the domain, which checks the role.

use super::error::ErrorBody;
use super::extract::{ApiJson, ApiPath, ApiQuery, Client, CurrentUser};
use crate::app::admin_types::{AdminUserDetail, AuditPage, SecurityEventPage};
use crate::app::types::{Role, User, UserId, UserListPage};
use crate::domain::admin_users::{self, ListFilter};
use crate::domain::audit_log::{self, AuditQuery, SecurityQuery};
use crate::domain::keys::Actor;
use crate::error::AppError;
use crate::server::state::AppState;
use axum::{
    Json,
    extract::State,
    http::header,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use time::OffsetDateTime;

fn actor(caller: CurrentUser, client: Client) -> Result<Actor, AppError> {
    caller.require_account_access()?;
    Ok(Actor {
        user: caller.user,
        client: client.0,
    })
}

#[derive(Clone, Copy, Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    Active,
    Suspended,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserListQuery {
    /// Part of the email or name (case-insensitive).
    pub q: Option<String>,
    pub role: Option<Role>,
    pub status: Option<UserStatus>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/admin/users", tag = "admin", security(("bearer" = [])),
    params(UserListQuery),
    responses(
        (status = 200, description = "Users, newest first", body = UserListPage),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin (or ACCOUNT_SUSPENDED)", body = ErrorBody),
        (status = 422, description = "Unknown role or status", body = ErrorBody),
    ))]
pub async fn admin_users_list(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    query: Result<ApiQuery<UserListQuery>, AppError>,
) -> Result<Json<UserListPage>, AppError> {
    let actor = actor(caller, client)?;
    let ApiQuery(q) = query?;
    let filter = ListFilter {
        q: q.q.unwrap_or_default(),
        role: q.role,
        suspended: q.status.map(|s| matches!(s, UserStatus::Suspended)),
    };
    let page = admin_users::list_users(
        &state.db,
        &actor,
        &filter,
        q.page.unwrap_or(1),
        q.per_page.unwrap_or(50),
    )
    .await?;
    Ok(Json(page))
}

#[utoipa::path(get, path = "/api/v1/admin/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id")),
    responses(
        (status = 200, description = "The account with its key counts and last sign-in", body = AdminUserDetail),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    ))]
pub async fn admin_users_get(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<AdminUserDetail>, AppError> {
    let actor = actor(caller, client)?;
    let now = OffsetDateTime::now_utc();
    Ok(Json(
        admin_users::user_detail(&state.db, &actor, UserId(id), now).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleInput {
    pub role: Role,
}

#[utoipa::path(patch, path = "/api/v1/admin/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id")), request_body = RoleInput,
    responses(
        (status = 200, description = "The user with the new role; audited (user.role_changed)", body = User),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin; or a super admin's role, or granting super_admin, without being one", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 409, description = "LAST_SUPER_ADMIN: no active super admin would remain", body = ErrorBody),
        (status = 422, description = "Unknown role", body = ErrorBody),
    ))]
pub async fn admin_users_update(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    ApiPath(id): ApiPath<i64>,
    body: Result<ApiJson<RoleInput>, AppError>,
) -> Result<Json<User>, AppError> {
    let actor = actor(caller, client)?;
    let ApiJson(input) = body?;
    let now = OffsetDateTime::now_utc();
    Ok(Json(
        admin_users::change_role(&state.db, &actor, UserId(id), input.role, now).await?,
    ))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuspendInput {
    /// A note for admins, at most 500 characters.
    pub reason: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/admin/users/{id}/suspend", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id")), request_body(content = Option<SuspendInput>),
    responses(
        (status = 200, description = "Suspended at once: the user's sessions, tokens and management keys answer 403 ACCOUNT_SUSPENDED; their keys verify as API_KEY_DISABLED with reason OWNER_SUSPENDED", body = User),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin; your own account; a super admin (unless you are one)", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 409, description = "Already suspended", body = ErrorBody),
        (status = 422, description = "Reason too long or with control characters", body = ErrorBody),
    ))]
pub async fn admin_users_suspend(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    ApiPath(id): ApiPath<i64>,
    body: Result<ApiJson<SuspendInput>, AppError>,
) -> Result<Json<User>, AppError> {
    let actor = actor(caller, client)?;
    // The body is optional; one that is sent must be well formed.
    let input = match body {
        Ok(ApiJson(input)) => input,
        Err(e) if e.code == crate::error::ErrorCode::UnsupportedMediaType => {
            SuspendInput::default()
        }
        Err(e) => return Err(e),
    };
    let now = OffsetDateTime::now_utc();
    let user = admin_users::suspend_user(
        &state.db,
        &state.key_cache,
        &actor,
        UserId(id),
        input.reason.as_deref(),
        now,
    )
    .await?;
    Ok(Json(user))
}

#[utoipa::path(post, path = "/api/v1/admin/users/{id}/reactivate", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id")),
    responses(
        (status = 200, description = "Reactivated: keys verify again; old sessions stay ended", body = User),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin; a super admin (unless you are one)", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 409, description = "Not suspended", body = ErrorBody),
    ))]
pub async fn admin_users_reactivate(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<User>, AppError> {
    let actor = actor(caller, client)?;
    let now = OffsetDateTime::now_utc();
    let user =
        admin_users::reactivate_user(&state.db, &state.key_cache, &actor, UserId(id), now).await?;
    Ok(Json(user))
}

#[utoipa::path(get, path = "/api/v1/audit-log", tag = "admin", security(("bearer" = [])),
    params(AuditQuery),
    responses(
        (status = 200, description = "Audit records, newest first", body = AuditPage),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 422, description = "A filter of the wrong form (times are RFC 3339)", body = ErrorBody),
    ))]
pub async fn audit_log_list(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    query: Result<ApiQuery<AuditQuery>, AppError>,
) -> Result<Json<AuditPage>, AppError> {
    let actor = actor(caller, client)?;
    let ApiQuery(q) = query?;
    Ok(Json(audit_log::list_audit(&state.db, &actor, &q).await?))
}

#[utoipa::path(get, path = "/api/v1/audit-log/export.csv", tag = "admin", security(("bearer" = [])),
    params(AuditQuery),
    responses(
        (status = 200, description = "The filtered records as CSV with a header line (at most 10,000; cells that a spreadsheet would run as formulas start with an apostrophe)", content_type = "text/csv"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 422, description = "A filter of the wrong form", body = ErrorBody),
    ))]
pub async fn audit_log_export(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    query: Result<ApiQuery<AuditQuery>, AppError>,
) -> Result<Response, AppError> {
    let actor = actor(caller, client)?;
    let ApiQuery(q) = query?;
    let csv = audit_log::export_audit_csv(&state.db, &actor, &q).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"audit-log.csv\"",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        csv,
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/v1/admin/security-events", tag = "admin", security(("bearer" = [])),
    params(SecurityQuery),
    responses(
        (status = 200, description = "Security events, newest first", body = SecurityEventPage),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 422, description = "A filter of the wrong form", body = ErrorBody),
    ))]
pub async fn admin_security_events(
    State(state): State<AppState>,
    caller: CurrentUser,
    client: Client,
    query: Result<ApiQuery<SecurityQuery>, AppError>,
) -> Result<Json<SecurityEventPage>, AppError> {
    let actor = actor(caller, client)?;
    let ApiQuery(q) = query?;
    Ok(Json(
        audit_log::list_security_events(&state.db, &actor, &q).await?,
    ))
}
