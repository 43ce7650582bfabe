use crate::app::types::DashboardStats;
use crate::error::AppError;
use leptos::prelude::*;

#[server(prefix = "/sfn", endpoint = "dashboard_stats")]
pub async fn load_dashboard() -> Result<DashboardStats, AppError> {
    use super::ctx;
    let state = ctx::state()?;
    let user = ctx::require_user()?;
    crate::domain::stats::dashboard(&state.db, &user, time::OffsetDateTime::now_utc()).await
}
