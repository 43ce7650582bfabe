//! Bulk key operation results, shared by the REST API, the server functions and the pages.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BulkItemResult {
    pub id: i64,
    pub ok: bool,
    /// NOT_FOUND (no such key, or not yours), FORBIDDEN (visible, not changeable),
    /// KEY_REVOKED (a revoked key cannot change), VALIDATION_ERROR (e.g. too many tags),
    /// INTERNAL_ERROR (its chunk failed to write).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error_code: Option<String>,
    /// What changes (dry run) or changed, e.g. "status: active → revoked".
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub change: Option<String>,
    /// The key's name, for previews (absent for unknown ids).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub name: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BulkOutcome {
    /// The `bulk_operations` row every item's audit record names (absent on a dry run).
    pub operation_id: Option<i64>,
    pub dry_run: bool,
    /// True when the operation was queued to run in the background (`results` is then
    /// empty: read them from `GET /keys/bulk/{operation_id}` once its status is done).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub queued: bool,
    pub results: Vec<BulkItemResult>,
}

/// A bulk operation's progress and, once done, its per-item results.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BulkOperation {
    pub id: i64,
    pub action: String,
    pub total: i64,
    pub done: i64,
    pub failed: i64,
    /// queued | running | done | failed
    pub status: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = DateTime))]
    pub created_at: time::OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option", default)]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>, format = DateTime))]
    pub finished_at: Option<time::OffsetDateTime>,
    pub results: Option<Vec<BulkItemResult>>,
}
