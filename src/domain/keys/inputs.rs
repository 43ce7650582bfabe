//! What clients send to create and edit keys.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A field that may be absent (keep), null (clear) or a value (set).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct CreateKeyInput {
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
    /// Organizations and APIs arrive in later releases; must be null for now.
    #[serde(default)]
    pub org_id: Option<i64>,
    #[serde(default)]
    pub api_id: Option<i64>,
    /// `[a-z0-9]{2,12}`; default `kp`.
    #[serde(default)]
    pub prefix: Option<String>,
    /// Traffic limits arrive with traffic control; must be absent or null for now.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub rate_limits: Option<Value>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub quota: Option<Value>,
    #[serde(default)]
    pub remaining: Option<i64>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub refill: Option<Value>,
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
    #[serde(default, deserialize_with = "present")]
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
}
