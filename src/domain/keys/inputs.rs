//! What clients send to create and edit keys.

use crate::app::limit_types::{QuotaSpec, RateLimitSpec, RefillSpec};
use serde::Deserialize;
use serde_json::Value;

#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct CreateKeyInput {
    /// Required, unless `template_id` names a template with a naming template.
    #[serde(default)]
    #[schema(example = "Customer portal")]
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    #[schema(example = json!(["read", "tickets:write"]))]
    pub scopes: Vec<String>,
    /// RFC 3339; in the future. Null or absent: never expires.
    #[serde(default)]
    #[schema(example = "2027-01-01T00:00:00Z")]
    pub expires_at: Option<String>,
    #[serde(default)]
    #[schema(example = json!(["mobile"]))]
    pub tags: Vec<String>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
    /// IPv4/IPv6 addresses or CIDR ranges allowed to use the key; empty: any.
    #[serde(default)]
    #[schema(example = json!(["203.0.113.0/24"]))]
    pub ip_allowlist: Vec<String>,
    #[serde(default)]
    #[schema(example = json!(["https://app.example.com"]))]
    pub allowed_origins: Vec<String>,
    /// Admins only: issue the key for another user.
    #[serde(default)]
    pub owner_user_id: Option<i64>,
    /// Organizations arrive in a later release; must be null for now.
    #[serde(default)]
    pub org_id: Option<i64>,
    /// Binds the key to one API: the gateway refuses it on any other (PERMISSION_DENIED).
    #[serde(default)]
    pub api_id: Option<i64>,
    /// `[a-z0-9]{2,12}`; default `kp`.
    #[serde(default)]
    pub prefix: Option<String>,
    /// Named rate limits (at most 10); every one must pass.
    #[serde(default)]
    pub rate_limits: Option<Vec<RateLimitSpec>>,
    /// At most `limit` requests per day, week, month or custom period (UTC boundaries).
    #[serde(default)]
    pub quota: Option<QuotaSpec>,
    /// Makes the key usage-limited: each verification spends its `cost` (default 1) from
    /// this balance.
    #[serde(default)]
    #[schema(example = 5000)]
    pub remaining: Option<i64>,
    /// Sets `remaining` back to `amount` every interval; alone, the balance starts full.
    #[serde(default)]
    pub refill: Option<RefillSpec>,
    /// A key template (`GET /key-templates`): its values fill whatever this request leaves
    /// absent (an empty list counts as absent); fields sent here win.
    #[serde(default)]
    pub template_id: Option<i64>,
    /// Values of the template's naming-template variables, e.g. `{"team": "core"}`; used
    /// when `name` is absent.
    #[serde(default)]
    #[schema(example = json!({"team": "core", "env": "prod"}))]
    pub name_vars: Option<std::collections::BTreeMap<String, String>>,
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct UpdateKeyInput {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    /// RFC 3339 in the future, or null to never expire.
    #[serde(default, deserialize_with = "crate::domain::patch_fields::present")]
    #[schema(value_type = Option<String>)]
    pub expires_at: Option<Option<String>>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
    #[serde(default)]
    pub ip_allowlist: Option<Vec<String>>,
    #[serde(default)]
    pub allowed_origins: Option<Vec<String>>,
    /// false disables the key (verification answers API_KEY_DISABLED); true enables it.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Replaces every rate limit; null or [] removes them.
    #[serde(default, deserialize_with = "crate::domain::patch_fields::present")]
    pub rate_limits: Option<Option<Vec<RateLimitSpec>>>,
    /// A new limit in the same period keeps this period's usage; another period (or null,
    /// which removes the quota) starts counting again.
    #[serde(default, deserialize_with = "crate::domain::patch_fields::present")]
    pub quota: Option<Option<QuotaSpec>>,
    /// Sets the credit balance; null makes the key unlimited (and drops its refill).
    #[serde(default, deserialize_with = "crate::domain::patch_fields::present")]
    #[schema(value_type = Option<i64>)]
    pub remaining: Option<Option<i64>>,
    #[serde(default, deserialize_with = "crate::domain::patch_fields::present")]
    pub refill: Option<Option<RefillSpec>>,
}
