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
