//! The admin console's shapes: a user's detail, audit records and security events, shared by
//! REST, server functions and pages.

use super::types::User;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// One account as the admin console shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AdminUserDetail {
    #[serde(flatten)]
    pub user: User,
    pub two_factor_enabled: bool,
    /// Keys the user owns, in any state.
    pub keys_total: i64,
    /// Of those, the ones that verify (not revoked, expired or disabled).
    pub keys_active: i64,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>, format = DateTime))]
    pub last_sign_in_at: Option<OffsetDateTime>,
}

/// One audit record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditRecord {
    pub id: i64,
    pub actor_id: Option<i64>,
    #[cfg_attr(feature = "ssr", schema(example = "user.suspended"))]
    pub action: String,
    #[cfg_attr(feature = "ssr", schema(example = "user"))]
    pub target_type: String,
    pub target_id: Option<i64>,
    /// JSON text of the values before (never secrets).
    pub old_values: Option<String>,
    pub new_values: Option<String>,
    pub ip: String,
    pub user_agent: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditPage {
    pub items: Vec<AuditRecord>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// One security event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SecurityEventView {
    pub id: i64,
    #[cfg_attr(feature = "ssr", schema(example = "auth.sign_in_failed"))]
    pub kind: String,
    pub subject_type: String,
    pub subject: String,
    pub user_id: Option<i64>,
    /// JSON text with the particulars.
    pub detail: String,
    pub ip: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SecurityEventPage {
    pub items: Vec<SecurityEventView>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// The admin console's user page: the account, its figures and the latest audit records
/// about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminUserView {
    pub detail: AdminUserDetail,
    pub recent: Vec<AuditRecord>,
}
