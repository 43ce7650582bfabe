//! Dashboard figures, straight from the database.

use super::{Timestamp, db_failure, to_millis};
use crate::app::types::{AdminStats, DashboardStats, User};
use crate::db::{self, Db};
use crate::error::AppResult;

const DAY_MS: i64 = 24 * 3600 * 1000;

pub async fn dashboard(db: &Db, user: &User, now: Timestamp) -> AppResult<DashboardStats> {
    let now_ms = to_millis(now);
    let history = db::attempts::history_for_email(db, &user.email, now_ms - 30 * DAY_MS)
        .await
        .map_err(db_failure)?;
    let api_sessions = db::auth_sessions::count_live_for_user(db, user.id, now_ms)
        .await
        .map_err(db_failure)?;
    let browser_sessions = db::web_sessions::count_live_for_user(db, user.id, now_ms)
        .await
        .map_err(db_failure)?;
    let admin = if user.role.is_admin() {
        let counts = db::users::counts(db, now_ms - 7 * DAY_MS)
            .await
            .map_err(db_failure)?;
        let failed = db::attempts::failures_since(db, now_ms - DAY_MS)
            .await
            .map_err(db_failure)?;
        Some(AdminStats {
            users_total: counts.total,
            users_new_7d: counts.created_since,
            admins: counts.admins,
            viewers: counts.viewers,
            failed_signins_24h: failed,
        })
    } else {
        None
    };
    Ok(DashboardStats {
        signins_30d: history.succeeded,
        failed_signins_30d: history.failed,
        api_sessions_active: api_sessions,
        browser_sessions_active: browser_sessions,
        last_signin: history
            .last_success_ms
            .map(|ms| crate::app::format::datetime(super::from_millis(ms))),
        admin,
    })
}
