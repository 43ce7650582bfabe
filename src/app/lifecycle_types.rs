//! The wire shapes of key lifecycle policies and key templates (REST and portal alike).

use crate::app::limit_types::{QuotaSpec, RateLimitSpec, RefillSpec};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// What the unused-key scan does to a key unused for `after_days`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum UnusedAction {
    /// Emit a `key.unused` notice only.
    Flag,
    /// Disable the key (audited as done by the system) and emit `key.disabled`.
    Disable,
}

impl UnusedAction {
    pub fn as_str(self) -> &'static str {
        match self {
            UnusedAction::Flag => "flag",
            UnusedAction::Disable => "disable",
        }
    }

    pub fn parse(text: &str) -> Option<UnusedAction> {
        match text {
            "flag" => Some(UnusedAction::Flag),
            "disable" => Some(UnusedAction::Disable),
            _ => None,
        }
    }
}

/// The unused-key rule: a key not used for `after_days` (never used: counted from its
/// creation) is flagged or disabled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UnusedKeyRule {
    /// 1-3650.
    #[cfg_attr(feature = "ssr", schema(example = 90))]
    pub after_days: i64,
    pub action: UnusedAction,
}

/// The lifecycle policy in force (global until organizations exist).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LifecyclePolicy {
    /// No key may live longer than this many days from its creation; null: no limit.
    #[cfg_attr(feature = "ssr", schema(example = 365))]
    pub max_lifetime_days: Option<i64>,
    /// Applied when a key is created without `expires_at` (and its template sets none).
    #[cfg_attr(feature = "ssr", schema(example = 90))]
    pub default_expiry_days: Option<i64>,
    /// A key must have an expiry: a create without one and without a default is refused.
    pub expiry_required: bool,
    /// Days before expiry at which owners are warned (1-365, distinct, at most 5).
    #[cfg_attr(feature = "ssr", schema(example = json!([30, 7, 1])))]
    pub warning_days: Vec<i64>,
    /// Null: unused keys are left alone.
    pub unused_keys: Option<UnusedKeyRule>,
    /// Who last changed it (null: never changed, or by the system).
    pub updated_by: Option<i64>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>, format = DateTime))]
    pub updated_at: Option<OffsetDateTime>,
}

pub const DEFAULT_WARNING_DAYS: [i64; 3] = [30, 7, 1];

impl Default for LifecyclePolicy {
    fn default() -> Self {
        Self {
            max_lifetime_days: None,
            default_expiry_days: None,
            expiry_required: false,
            warning_days: DEFAULT_WARNING_DAYS.to_vec(),
            unused_keys: None,
            updated_by: None,
            updated_at: None,
        }
    }
}

/// A key template: presets a new key takes for whatever its request leaves out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct KeyTemplate {
    #[cfg_attr(feature = "ssr", schema(example = 1))]
    pub id: i64,
    #[cfg_attr(feature = "ssr", schema(example = "CI deploy key"))]
    pub name: String,
    pub description: String,
    pub scopes: Vec<String>,
    pub tags: Vec<String>,
    pub rate_limits: Option<Vec<RateLimitSpec>>,
    pub quota: Option<QuotaSpec>,
    pub remaining: Option<i64>,
    pub refill: Option<RefillSpec>,
    /// Keys created from the template expire this many days after creation.
    pub expiry_days: Option<i64>,
    pub prefix: Option<String>,
    pub api_id: Option<i64>,
    /// E.g. `{team}-{env}-{date}`: the name of a key created without one.
    #[cfg_attr(feature = "ssr", schema(example = "{team}-{env}-{date}"))]
    pub name_template: Option<String>,
    /// The free variables of `name_template` a create must send in `name_vars`.
    pub name_vars: Vec<String>,
    pub created_by: Option<i64>,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = DateTime))]
    pub updated_at: OffsetDateTime,
}

/// A page of templates (`GET /key-templates`), by name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct KeyTemplatePage {
    pub items: Vec<KeyTemplate>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}
