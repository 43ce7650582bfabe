//! What clients send to create, edit and list rate-limit policies.

use crate::app::limit_types::Window;
use crate::app::policy_types::PolicyScope;
use serde::Deserialize;

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePolicyInput {
    /// At most 100 characters; made up from scope and limit when absent.
    #[serde(default)]
    #[schema(example = "Per-IP ceiling")]
    pub name: Option<String>,
    pub scope: PolicyScope,
    /// Narrows the policy to one subject: an API slug (api, endpoint), a user, org or key id
    /// (string or number), an IP address or CIDR range (ip). Absent: every subject, each with
    /// its own bucket. Not used with scope global.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "203.0.113.0/24")]
    pub target: Option<serde_json::Value>,
    /// Only requests with this method (not with scopes global and api).
    #[serde(default)]
    #[schema(example = "POST")]
    pub method: Option<String>,
    /// Only requests whose path matches (not with scopes global and api); required with scope
    /// endpoint unless a method is given.
    #[serde(default)]
    #[schema(example = "/tickets/{id}/comments")]
    pub path_pattern: Option<String>,
    /// 1-1000000000 requests per window.
    #[schema(example = 100)]
    pub limit: u32,
    pub window: Window,
    /// Extra requests at once on top of `limit`.
    #[serde(default)]
    pub burst: Option<u32>,
    /// Default true.
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// Absent fields keep their value; `target`, `method` and `path_pattern` may be null to clear
/// them. The whole policy is checked again after the change.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePolicyInput {
    #[serde(default, deserialize_with = "crate::domain::patch_fields::present")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::domain::patch_fields::not_null")]
    #[schema(nullable = false)]
    pub scope: Option<PolicyScope>,
    #[serde(default, deserialize_with = "crate::domain::patch_fields::present")]
    #[schema(value_type = Option<String>)]
    pub target: Option<Option<serde_json::Value>>,
    #[serde(default, deserialize_with = "crate::domain::patch_fields::present")]
    #[schema(value_type = Option<String>)]
    pub method: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::domain::patch_fields::present")]
    #[schema(value_type = Option<String>)]
    pub path_pattern: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::domain::patch_fields::not_null")]
    #[schema(nullable = false)]
    pub limit: Option<u32>,
    #[serde(default, deserialize_with = "crate::domain::patch_fields::not_null")]
    #[schema(nullable = false)]
    pub window: Option<Window>,
    #[serde(default, deserialize_with = "crate::domain::patch_fields::not_null")]
    #[schema(nullable = false)]
    pub burst: Option<u32>,
    #[serde(default, deserialize_with = "crate::domain::patch_fields::not_null")]
    #[schema(nullable = false)]
    pub enabled: Option<bool>,
}

/// Paging and a scope filter (query string of `GET /rate-limits`).
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PolicyListQuery {
    /// 1-based page.
    pub page: Option<i64>,
    /// 1-200, default 50.
    pub per_page: Option<i64>,
    /// Only policies of this scope.
    pub scope: Option<PolicyScope>,
}
