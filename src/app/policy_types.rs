//! The wire shapes of rate-limit policies: limits beyond a single key's own, set by admins.

use crate::app::limit_types::Window;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The methods a policy may be narrowed to.
pub const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// Who a policy counts. Global, API and endpoint policies share one bucket among all the
/// requests they match; user, org, IP and key policies give each subject its own bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum PolicyScope {
    Global,
    Api,
    Endpoint,
    User,
    Org,
    Ip,
    Key,
}

impl PolicyScope {
    pub const ALL: [PolicyScope; 7] = [
        PolicyScope::Global,
        PolicyScope::Api,
        PolicyScope::Endpoint,
        PolicyScope::User,
        PolicyScope::Org,
        PolicyScope::Ip,
        PolicyScope::Key,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PolicyScope::Global => "global",
            PolicyScope::Api => "api",
            PolicyScope::Endpoint => "endpoint",
            PolicyScope::User => "user",
            PolicyScope::Org => "org",
            PolicyScope::Ip => "ip",
            PolicyScope::Key => "key",
        }
    }

    pub fn parse(text: &str) -> Option<PolicyScope> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Each subject (user, org, client IP, key) has its own bucket and its own penalties.
    pub fn per_subject(self) -> bool {
        matches!(
            self,
            PolicyScope::User | PolicyScope::Org | PolicyScope::Ip | PolicyScope::Key
        )
    }

    /// What `target` names for this scope, for forms and messages.
    pub fn target_hint(self) -> &'static str {
        match self {
            PolicyScope::Global => "none",
            PolicyScope::Api | PolicyScope::Endpoint => "an API slug",
            PolicyScope::User => "a user id",
            PolicyScope::Org => "an organization id",
            PolicyScope::Ip => "an IP address or CIDR range",
            PolicyScope::Key => "a key id",
        }
    }
}

/// A rate-limit policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RateLimitPolicy {
    #[cfg_attr(feature = "ssr", schema(example = 1))]
    pub id: i64,
    #[cfg_attr(feature = "ssr", schema(example = "Per-IP ceiling"))]
    pub name: String,
    pub scope: PolicyScope,
    /// The one subject the policy applies to (API slug, user id, org id, IP or CIDR, key id);
    /// null: every subject of the scope, each with its own bucket.
    #[cfg_attr(feature = "ssr", schema(example = "203.0.113.0/24"))]
    pub target: Option<String>,
    /// The API a target slug names (api and endpoint scopes).
    pub api_id: Option<i64>,
    /// Only requests with this HTTP method.
    #[cfg_attr(feature = "ssr", schema(example = "POST"))]
    pub method: Option<String>,
    /// Only requests whose path matches: literal segments, `*` or `{name}` for one segment,
    /// a final `**` for the rest.
    #[cfg_attr(feature = "ssr", schema(example = "/tickets/{id}/comments"))]
    pub path_pattern: Option<String>,
    #[cfg_attr(feature = "ssr", schema(example = 100))]
    pub limit: u32,
    pub window: Window,
    pub burst: u32,
    pub enabled: bool,
    pub created_by: Option<i64>,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = DateTime))]
    pub updated_at: OffsetDateTime,
}

/// A page of policies (`GET /rate-limits`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RateLimitPolicyPage {
    pub items: Vec<RateLimitPolicy>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}
