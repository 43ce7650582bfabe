//! The rules. Plain functions over `Db` that take `now` as a parameter; REST handlers and
//! server functions both call these and nothing else.

pub mod account_sessions;
pub mod accounts;
pub mod alerts;
pub mod analytics;
pub mod apis;
pub mod broadcasts;
pub mod crypto;
pub mod demo;
pub mod devices;
pub mod email_verification;
pub mod events;
pub mod expiry;
pub mod job_admin;
pub mod keys;
pub mod lifecycle;
pub mod notification_prefs;
pub mod notifications;
pub mod orgs;
pub mod password_reset;
pub mod passwords;
pub mod patch_fields;
pub mod policies;
pub mod security_log;
pub mod sessions;
pub mod setup;
pub mod stats;
pub mod throttle;
pub mod tokens;
pub mod totp;
pub mod traffic;
pub mod two_factor;
pub mod usage;
pub mod webhooks;
// Admin console
pub mod admin_users;
pub mod audit_log;

use crate::error::AppError;
use time::OffsetDateTime;

pub use crate::app::types::{Role, UserId};

pub type Timestamp = OffsetDateTime;

/// Stored times are Unix epoch milliseconds.
pub fn to_millis(t: Timestamp) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

pub fn from_millis(ms: i64) -> Timestamp {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Checks `?page` (from 1) and `?per_page` (1-200, default 50) of a list and returns them.
pub fn paging(
    v: &mut crate::error::Validator,
    page: Option<i64>,
    per_page: Option<i64>,
) -> (i64, i64) {
    let page = page.unwrap_or(1);
    let per_page = per_page.unwrap_or(50);
    v.check(
        (1..=1_000_000).contains(&page),
        "query.page",
        "must be 1 or more",
    );
    v.check(
        (1..=200).contains(&per_page),
        "query.per_page",
        "must be between 1 and 200",
    );
    (page, per_page)
}

/// The audit action of an edit that may switch `enabled`: `[disabled, enabled, updated]`.
pub fn toggle_action(was: bool, is: bool, actions: [&'static str; 3]) -> &'static str {
    match (was, is) {
        (true, false) => actions[0],
        (false, true) => actions[1],
        _ => actions[2],
    }
}

/// Logs a database failure with its cause and answers a generic 500 to the caller.
pub fn db_failure(err: sqlx::Error) -> AppError {
    tracing::error!(error = %err, "database error");
    AppError::internal()
}

/// Who is acting, from where; recorded with sign-ins and sessions.
#[derive(Clone, Debug, Default)]
pub struct ClientInfo {
    pub ip: String,
    pub user_agent: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_round_trip() {
        let t = time::macros::datetime!(2026-11-23 10:11:12.345 UTC);
        assert_eq!(to_millis(t), 1_795_428_672_345);
        assert_eq!(from_millis(to_millis(t)), t);
    }
}
