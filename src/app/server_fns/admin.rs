use crate::app::types::UserListPage;
use crate::error::AppError;
use leptos::prelude::*;

pub const USERS_PER_PAGE: i64 = 25;

#[server(prefix = "/sfn", endpoint = "admin_users")]
pub async fn admin_users(q: String, page: i64) -> Result<UserListPage, AppError> {
    use super::ctx;
    let state = ctx::state()?;
    ctx::require_admin()?;
    crate::domain::accounts::list_users(&state.db, &q, page, USERS_PER_PAGE).await
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
