use crate::app::types::UserListPage;
use crate::error::AppError;
use leptos::prelude::*;

pub const USERS_PER_PAGE: i64 = 25;

/// A page of users (admins): `q` on name or email, `role` (as stored) and `status` (`active`,
/// `suspended`); empty filters match everyone.
#[server(prefix = "/sfn", endpoint = "admin_users")]
pub async fn admin_users(
    q: String,
    role: String,
    status: String,
    page: i64,
) -> Result<UserListPage, AppError> {
    use super::ctx;
    use crate::app::types::Role;
    use crate::error::FieldError;
    let (state, actor) = ctx::actor()?;
    let bad = |field: &str, message: &str| {
        AppError::validation(vec![FieldError {
            field: format!("query.{field}"),
            message: message.into(),
        }])
    };
    let role = match role.as_str() {
        "" => None,
        r => Some(Role::parse(r).ok_or_else(|| bad("role", "is not a role"))?),
    };
    let suspended = match status.as_str() {
        "" => None,
        "active" => Some(false),
        "suspended" => Some(true),
        _ => return Err(bad("status", "must be active or suspended")),
    };
    let filter = crate::domain::admin_users::ListFilter { q, role, suspended };
    crate::domain::admin_users::list_users(&state.db, &actor, &filter, page, USERS_PER_PAGE).await
}

/// The system dashboard's figures now (admins).
#[server(prefix = "/sfn", endpoint = "system_view")]
pub async fn load_system_view() -> Result<crate::app::system_types::SystemView, AppError> {
    use super::ctx;
    let state = ctx::state()?;
    ctx::require_admin()?;
    Ok(crate::server::metrics::system::view(
        &state,
        time::OffsetDateTime::now_utc(),
    ))
}

pub const JOBS_PER_PAGE: i64 = 50;

/// The job queue's figures and a page of its jobs (admins), filtered by state.
#[server(prefix = "/sfn", endpoint = "admin_jobs")]
pub async fn load_jobs(
    state_filter: String,
    page: i64,
) -> Result<crate::app::job_types::JobPage, AppError> {
    use super::ctx;
    let (state, actor) = ctx::actor()?;
    let query = crate::domain::job_admin::JobQuery {
        state: Some(state_filter),
        kind: None,
        page: Some(page.max(1)),
        per_page: Some(JOBS_PER_PAGE),
    };
    crate::domain::job_admin::overview(&state.db, &actor, &query, ctx::now()).await
}

/// Queues a given-up job again (admins), then back to the jobs page.
#[server(prefix = "/sfn", endpoint = "retry_job")]
pub async fn retry_job(id: i64) -> Result<(), AppError> {
    use super::ctx;
    let (state, actor) = ctx::actor()?;
    crate::domain::job_admin::retry(&state.db, &actor, id, ctx::now()).await?;
    state.wake_jobs();
    super::redirect(&format!("/admin/jobs?retried={id}"));
    Ok(())
}
