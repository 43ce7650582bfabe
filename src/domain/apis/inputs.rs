//! What clients send to register, edit and list APIs.

use crate::app::limit_types::RateLimitSpec;
use serde::Deserialize;

#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct CreateApiInput {
    /// 1-100 characters.
    #[schema(example = "Tickets")]
    pub name: String,
    /// 1-40 characters of a-z and 0-9, hyphens only inside; the gateway serves the API at
    /// `/gw/{slug}/`. Unique.
    #[schema(example = "tickets")]
    pub slug: String,
    /// At most 1000 characters.
    #[serde(default)]
    pub description: Option<String>,
    /// Absolute http(s) URL with a host; no user name or password, query or fragment.
    #[schema(example = "https://tickets.internal.example.com/v2")]
    pub upstream_url: String,
    /// Limits for keys that have none of their own (at most 10).
    #[serde(default)]
    pub default_rate_limits: Option<Vec<RateLimitSpec>>,
    /// 100-300000; default 30000.
    #[serde(default)]
    #[schema(example = 30000)]
    pub timeout_ms: Option<i64>,
    /// Default true.
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// Absent fields keep their value; `description` and `default_rate_limits` may be null to
/// clear them.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct UpdateApiInput {
    #[serde(default, deserialize_with = "crate::domain::patch_fields::not_null")]
    #[schema(nullable = false)]
    pub name: Option<String>,
    /// Changing it moves the API's gateway path.
    #[serde(default, deserialize_with = "crate::domain::patch_fields::not_null")]
    #[schema(nullable = false)]
    pub slug: Option<String>,
    #[serde(default, deserialize_with = "crate::domain::patch_fields::present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::domain::patch_fields::not_null")]
    #[schema(nullable = false)]
    pub upstream_url: Option<String>,
    /// Replaces every default limit; null or [] removes them.
    #[serde(default, deserialize_with = "crate::domain::patch_fields::present")]
    pub default_rate_limits: Option<Option<Vec<RateLimitSpec>>>,
    #[serde(default, deserialize_with = "crate::domain::patch_fields::not_null")]
    #[schema(nullable = false)]
    pub timeout_ms: Option<i64>,
    #[serde(default, deserialize_with = "crate::domain::patch_fields::not_null")]
    #[schema(nullable = false)]
    pub enabled: Option<bool>,
}

/// Paging and search (query string of `GET /apis`).
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApiListQuery {
    /// 1-based page.
    pub page: Option<i64>,
    /// 1-200, default 50.
    pub per_page: Option<i64>,
    /// Matches name or slug (substring, any case).
    pub q: Option<String>,
}
