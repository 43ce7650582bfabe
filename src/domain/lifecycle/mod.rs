//! Key lifecycle: the lifecycle policy (maximum lifetime, default expiry, "expiry required",
//! expiry warning days, the unused-key rule), key templates with naming templates, and the
//! unused-key scan. The key flows in `domain::keys` call the small hooks here
//! (`prepare_create`, `CreatePlan::expiry`, `check_new_expiry`, `expiry_for_rotate`).
//!
//! The policy is global for now: its row has `org_id` NULL, and a per-org row can be added
//! later beside it (the table's unique index allows one per org).

pub mod naming;
pub mod templates;
pub mod unused;

use super::{Timestamp, db_failure, from_millis, to_millis};
use crate::app::lifecycle_types::UnusedAction;
pub use crate::app::lifecycle_types::{LifecyclePolicy, UnusedKeyRule};
use crate::db::{self, Db, lifecycle::PolicyRow};
use crate::domain::keys::Actor;
use crate::error::{AppError, AppResult, ErrorCode, Validator};
use serde::Deserialize;
pub use templates::{CreateTemplateInput, TemplateListQuery, UpdateTemplateInput};
pub use unused::{UNUSED_SCAN_BATCH, scan_unused};

pub const DAY_MS: i64 = 24 * 3600 * 1000;
/// Ten years: the longest lifetime, default expiry or unused period a policy may name.
pub const MAX_DAYS: i64 = 3650;
pub const MAX_WARNINGS: usize = 5;

/// The body of `PUT /admin/lifecycle-policy`: the whole policy (absent optional fields are
/// cleared, absent `warning_days` is [30, 7, 1]).
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyInput {
    /// 1-3650 days; null: no maximum.
    #[serde(default)]
    #[schema(example = 365)]
    pub max_lifetime_days: Option<i64>,
    /// 1-3650 days, at most the maximum lifetime; null: keys without `expires_at` never
    /// expire (unless a maximum lifetime or their template sets an expiry).
    #[serde(default)]
    #[schema(example = 90)]
    pub default_expiry_days: Option<i64>,
    #[serde(default)]
    pub expiry_required: bool,
    /// 1-365 each, distinct, at most 5; default [30, 7, 1]; [] sends no warnings.
    #[serde(default)]
    #[schema(example = json!([30, 7, 1]))]
    pub warning_days: Option<Vec<i64>>,
    #[serde(default)]
    pub unused_keys: Option<UnusedKeyRule>,
}

fn view(row: &PolicyRow) -> LifecyclePolicy {
    let unused_keys = row.unused_days.map(|after_days| UnusedKeyRule {
        after_days,
        action: UnusedAction::parse(&row.unused_action).unwrap_or(UnusedAction::Flag),
    });
    LifecyclePolicy {
        max_lifetime_days: row.max_lifetime_days,
        default_expiry_days: row.default_expiry_days,
        expiry_required: row.expiry_required,
        warning_days: serde_json::from_str(&row.warning_days)
            .unwrap_or_else(|_| crate::app::lifecycle_types::DEFAULT_WARNING_DAYS.to_vec()),
        unused_keys,
        updated_by: row.updated_by,
        updated_at: (row.updated_at > 0).then(|| from_millis(row.updated_at)),
    }
}

/// The policy in force (the global one). The lead's expiry scan reads `warning_days`.
pub async fn current_policy(db: &Db) -> AppResult<LifecyclePolicy> {
    Ok(db::lifecycle::global(db)
        .await
        .map_err(db_failure)?
        .map(|row| view(&row))
        .unwrap_or_default())
}

/// The lifecycle policy governs everyone's keys: admins only, reading included.
pub fn require_admin(actor: &Actor) -> AppResult<()> {
    if actor.user.role.is_admin() {
        Ok(())
    } else {
        Err(AppError::new(
            ErrorCode::Forbidden,
            "Only admins can see and change the key lifecycle policy.",
        ))
    }
}

pub async fn get_policy(db: &Db, actor: &Actor) -> AppResult<LifecyclePolicy> {
    require_admin(actor)?;
    current_policy(db).await
}

fn days_ok(d: Option<i64>) -> bool {
    d.is_none_or(|d| (1..=MAX_DAYS).contains(&d))
}

/// Checks a policy; warning days come back sorted, longest first.
pub fn validate_policy(v: &mut Validator, input: &PolicyInput) -> Vec<i64> {
    v.check(
        days_ok(input.max_lifetime_days),
        "body.max_lifetime_days",
        "must be between 1 and 3650 days, or null",
    );
    v.check(
        days_ok(input.default_expiry_days),
        "body.default_expiry_days",
        "must be between 1 and 3650 days, or null",
    );
    if let (Some(default), Some(max)) = (input.default_expiry_days, input.max_lifetime_days) {
        v.check(
            default <= max,
            "body.default_expiry_days",
            "must not be longer than max_lifetime_days",
        );
    }
    let mut warnings = input
        .warning_days
        .clone()
        .unwrap_or_else(|| crate::app::lifecycle_types::DEFAULT_WARNING_DAYS.to_vec());
    v.check(
        warnings.len() <= MAX_WARNINGS,
        "body.warning_days",
        "must have at most 5 entries",
    );
    v.check(
        warnings.iter().all(|d| (1..=365).contains(d)),
        "body.warning_days",
        "entries must be between 1 and 365 days",
    );
    warnings.sort_unstable_by(|a, b| b.cmp(a));
    let before = warnings.len();
    warnings.dedup();
    v.check(
        warnings.len() == before,
        "body.warning_days",
        "entries must be distinct",
    );
    if let Some(rule) = &input.unused_keys {
        v.check(
            (1..=MAX_DAYS).contains(&rule.after_days),
            "body.unused_keys.after_days",
            "must be between 1 and 3650 days",
        );
    }
    warnings
}

pub async fn put_policy(
    db: &Db,
    actor: &Actor,
    input: PolicyInput,
    now: Timestamp,
) -> AppResult<LifecyclePolicy> {
    require_admin(actor)?;
    let mut v = Validator::default();
    let warnings = validate_policy(&mut v, &input);
    v.finish()?;
    let old = db::lifecycle::global(db).await.map_err(db_failure)?;
    let now_ms = to_millis(now);
    let row = PolicyRow {
        id: old.as_ref().map_or(0, |r| r.id),
        max_lifetime_days: input.max_lifetime_days,
        default_expiry_days: input.default_expiry_days,
        expiry_required: input.expiry_required,
        warning_days: serde_json::to_string(&warnings).unwrap_or_else(|_| "[]".into()),
        unused_days: input.unused_keys.map(|r| r.after_days),
        unused_action: input
            .unused_keys
            .map_or(UnusedAction::Flag, |r| r.action)
            .as_str()
            .into(),
        updated_by: Some(actor.user.id.0),
        updated_at: now_ms,
    };
    let audit_of = |r: &PolicyRow| serde_json::to_string(&view(r)).unwrap_or_default();
    let entry = actor.audit_entry(
        "lifecycle_policy.updated",
        old.as_ref().map(audit_of),
        Some(audit_of(&row)),
        now_ms,
    );
    db::lifecycle::save_global(db, &row, &entry)
        .await
        .map_err(db_failure)?;
    tracing::info!(
        max_lifetime_days = ?row.max_lifetime_days,
        expiry_required = row.expiry_required,
        "lifecycle policy changed"
    );
    Ok(view(&row))
}

// ---- Hooks for the key flows ----

/// What a create needs from the lifecycle rules: the policy, and the template's expiry.
pub struct CreatePlan {
    pub policy: LifecyclePolicy,
    /// From the key's template; wins over the policy's default.
    pub template_expiry_days: Option<i64>,
}

fn cap_ms(policy: &LifecyclePolicy, from_ms: i64) -> Option<i64> {
    policy
        .max_lifetime_days
        .map(|d| from_ms.saturating_add(d.saturating_mul(DAY_MS)))
}

fn lifetime_message(days: i64) -> String {
    format!(
        "must be at most {days} days after the key's creation (the lifecycle policy's maximum key lifetime)"
    )
}

impl CreatePlan {
    /// The new key's expiry. `sent` says whether the request named one (then `parsed` is it,
    /// or None if it did not parse and `v` already says so). Without one: the template's
    /// expiry, else the policy's default, else the maximum lifetime; each capped by the
    /// maximum. Still none while the policy requires one: a field error.
    pub fn expiry(
        &self,
        v: &mut Validator,
        sent: bool,
        parsed: Option<i64>,
        now_ms: i64,
    ) -> Option<i64> {
        let cap = cap_ms(&self.policy, now_ms);
        if sent {
            if let (Some(at), Some(cap), Some(days)) = (parsed, cap, self.policy.max_lifetime_days)
            {
                v.check(at <= cap, "body.expires_at", &lifetime_message(days));
            }
            return parsed;
        }
        let default = self
            .template_expiry_days
            .or(self.policy.default_expiry_days)
            .map(|d| now_ms.saturating_add(d.saturating_mul(DAY_MS)));
        let at = match (default, cap) {
            (Some(d), Some(c)) => Some(d.min(c)),
            (d, c) => d.or(c),
        };
        v.check(
            at.is_some() || !self.policy.expiry_required,
            "body.expires_at",
            "is required: the lifecycle policy requires keys to expire, and sets no default expiry",
        );
        at
    }
}

/// Checks an edited expiry (PATCH `expires_at`) of a key created at `created_ms`.
pub async fn check_new_expiry(
    db: &Db,
    v: &mut Validator,
    created_ms: i64,
    expires_at: Option<i64>,
) -> AppResult<()> {
    let policy = current_policy(db).await?;
    match (
        expires_at,
        cap_ms(&policy, created_ms),
        policy.max_lifetime_days,
    ) {
        (Some(at), Some(cap), Some(days)) => {
            v.check(at <= cap, "body.expires_at", &lifetime_message(days));
        }
        (None, _, Some(days)) => {
            v.check(
                false,
                "body.expires_at",
                &format!("must not be null: the lifecycle policy limits keys to {days} days"),
            );
        }
        (None, _, None) => {
            v.check(
                !policy.expiry_required,
                "body.expires_at",
                "must not be null: the lifecycle policy requires keys to expire",
            );
        }
        _ => {}
    }
    Ok(())
}

/// A rotated key's successor expires when its predecessor does, but never later than the
/// maximum lifetime from now; a predecessor without expiry gives the policy's default (or
/// the maximum). Under "expiry required" with neither, rotating is refused until the key is
/// given an expiry.
pub async fn expiry_for_rotate(
    db: &Db,
    old_expires_at: Option<i64>,
    now_ms: i64,
) -> AppResult<Option<i64>> {
    let plan = CreatePlan {
        policy: current_policy(db).await?,
        template_expiry_days: None,
    };
    let mut v = Validator::default();
    let at = match old_expires_at {
        Some(at) => Some(cap_ms(&plan.policy, now_ms).map_or(at, |cap| at.min(cap))),
        None => plan.expiry(&mut v, false, None, now_ms),
    };
    if v.finish().is_err() {
        return Err(AppError::validation(vec![crate::error::FieldError {
            field: "body.expires_at".into(),
            message: "the key has no expiry and the lifecycle policy requires one: set expires_at on the key (PATCH) before rotating it".into(),
        }]));
    }
    Ok(at)
}

/// Resolves `template_id` (filling what the request left absent and generating the name) and
/// loads the policy for `CreatePlan::expiry`.
pub async fn prepare_create(
    db: &Db,
    actor: &Actor,
    input: &mut crate::domain::keys::CreateKeyInput,
    now: Timestamp,
) -> AppResult<CreatePlan> {
    let template_expiry_days = templates::apply(db, actor, input, now).await?;
    Ok(CreatePlan {
        policy: current_policy(db).await?,
        template_expiry_days,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(
        max: Option<i64>,
        default: Option<i64>,
        required: bool,
        tpl: Option<i64>,
    ) -> CreatePlan {
        CreatePlan {
            policy: LifecyclePolicy {
                max_lifetime_days: max,
                default_expiry_days: default,
                expiry_required: required,
                ..Default::default()
            },
            template_expiry_days: tpl,
        }
    }

    const NOW: i64 = 1_800_000_000_000;

    fn expiry(p: &CreatePlan, sent: Option<i64>) -> Result<Option<i64>, Vec<String>> {
        let mut v = Validator::default();
        let at = p.expiry(&mut v, sent.is_some(), sent, NOW);
        v.finish()
            .map(|_| at)
            .map_err(|e| e.errors.into_iter().map(|f| f.field).collect())
    }

    #[test]
    fn defaults_caps_and_required() {
        let days = |d: i64| Some(NOW + d * DAY_MS);
        assert_eq!(expiry(&plan(None, None, false, None), None), Ok(None));
        assert_eq!(
            expiry(&plan(None, Some(30), false, None), None),
            Ok(days(30))
        );
        assert_eq!(
            expiry(&plan(None, Some(30), false, Some(7)), None),
            Ok(days(7)),
            "template wins"
        );
        assert_eq!(
            expiry(&plan(Some(10), Some(30), false, Some(60)), None),
            Ok(days(10)),
            "capped"
        );
        assert_eq!(
            expiry(&plan(Some(10), None, false, None), None),
            Ok(days(10)),
            "max as default"
        );
        assert_eq!(
            expiry(&plan(None, None, true, None), None),
            Err(vec!["body.expires_at".to_string()])
        );
        assert_eq!(expiry(&plan(None, Some(5), true, None), None), Ok(days(5)));
        // Sent explicitly: kept, and refused beyond the maximum (exactly the maximum is fine).
        assert_eq!(
            expiry(&plan(Some(10), Some(3), true, None), days(10)),
            Ok(days(10))
        );
        assert_eq!(
            expiry(
                &plan(Some(10), None, false, None),
                Some(NOW + 10 * DAY_MS + 1)
            ),
            Err(vec!["body.expires_at".to_string()])
        );
    }

    #[test]
    fn policy_validation() {
        let fields = |input: PolicyInput| -> Vec<String> {
            let mut v = Validator::default();
            validate_policy(&mut v, &input);
            v.finish()
                .err()
                .map(|e| e.errors.into_iter().map(|f| f.field).collect())
                .unwrap_or_default()
        };
        assert!(fields(PolicyInput::default()).is_empty());
        let mut v = Validator::default();
        let w = validate_policy(
            &mut v,
            &PolicyInput {
                warning_days: Some(vec![1, 30, 7]),
                ..Default::default()
            },
        );
        assert_eq!(w, [30, 7, 1]);
        assert_eq!(
            fields(PolicyInput {
                max_lifetime_days: Some(0),
                default_expiry_days: Some(3651),
                warning_days: Some(vec![1, 1, 400, 2, 3, 4]),
                unused_keys: Some(UnusedKeyRule {
                    after_days: -1,
                    action: UnusedAction::Disable
                }),
                ..Default::default()
            }),
            [
                "body.max_lifetime_days",
                "body.default_expiry_days",
                "body.default_expiry_days",
                "body.warning_days",
                "body.warning_days",
                "body.warning_days",
                "body.unused_keys.after_days"
            ]
        );
    }
}
