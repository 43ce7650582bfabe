//! Reading and changing alert rules (admins; every change audited).

use crate::app::alert_types::{AlertKind, AlertRule};
use crate::db::{self, alerts::RuleRow};
use crate::domain::keys::Actor;
use crate::domain::policies::require_admin;
use crate::domain::{Timestamp, db_failure, from_millis, to_millis};
use crate::error::{AppError, AppResult, ErrorCode, Validator};
use serde::Deserialize;

/// Absent fields keep their value.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAlertRuleInput {
    #[serde(default, deserialize_with = "crate::domain::patch_fields::not_null")]
    #[schema(nullable = false)]
    pub enabled: Option<bool>,
    #[serde(default, deserialize_with = "crate::domain::patch_fields::not_null")]
    #[schema(nullable = false)]
    pub threshold: Option<f64>,
    #[serde(default, deserialize_with = "crate::domain::patch_fields::not_null")]
    #[schema(nullable = false)]
    pub window_minutes: Option<i64>,
    #[serde(default, deserialize_with = "crate::domain::patch_fields::not_null")]
    #[schema(nullable = false)]
    pub min_requests: Option<i64>,
}

fn view(row: &RuleRow) -> Option<AlertRule> {
    Some(AlertRule {
        kind: AlertKind::parse(&row.kind)?,
        enabled: row.enabled,
        threshold: row.threshold,
        window_minutes: row.window_minutes,
        min_requests: row.min_requests,
        updated_at: from_millis(row.updated_at),
    })
}

pub async fn list_rules(db: &db::Db, actor: &Actor) -> AppResult<Vec<AlertRule>> {
    require_admin(actor)?;
    let rows = db::alerts::rules(db).await.map_err(db_failure)?;
    Ok(rows.iter().filter_map(view).collect())
}

/// The threshold's allowed range per kind.
fn threshold_range(kind: AlertKind) -> (f64, f64, &'static str) {
    match kind {
        AlertKind::ErrorRate => (0.01, 1.0, "must be between 0.01 and 1 (a share of calls)"),
        AlertKind::TrafficSpike => (1.5, 1000.0, "must be between 1.5 and 1000 (a factor)"),
        AlertKind::RateLimited | AlertKind::FailedIp => (
            1.0,
            1_000_000_000.0,
            "must be between 1 and 1000000000 (a count)",
        ),
    }
}

/// Checks a rule after `input` is applied to it.
fn apply(v: &mut Validator, kind: AlertKind, row: &mut RuleRow, input: &UpdateAlertRuleInput) {
    if let Some(enabled) = input.enabled {
        row.enabled = enabled;
    }
    if let Some(t) = input.threshold {
        let (low, high, message) = threshold_range(kind);
        v.check(
            t.is_finite() && (low..=high).contains(&t),
            "body.threshold",
            message,
        );
        row.threshold = t;
    }
    if let Some(w) = input.window_minutes {
        if kind.has_window() {
            v.check(
                (1..=1440).contains(&w),
                "body.window_minutes",
                "must be between 1 and 1440",
            );
        } else {
            v.check(
                w == 60,
                "body.window_minutes",
                "is a clock hour (60) for this rule",
            );
        }
        row.window_minutes = w;
    }
    if let Some(m) = input.min_requests {
        v.check(
            (0..=1_000_000_000).contains(&m),
            "body.min_requests",
            "must be between 0 and 1000000000",
        );
        row.min_requests = m;
    }
}

fn audit_values(row: &RuleRow) -> String {
    serde_json::json!({
        "kind": row.kind,
        "enabled": row.enabled,
        "threshold": row.threshold,
        "window_minutes": row.window_minutes,
        "min_requests": row.min_requests,
    })
    .to_string()
}

pub async fn update_rule(
    db: &db::Db,
    actor: &Actor,
    kind: &str,
    input: UpdateAlertRuleInput,
    now: Timestamp,
) -> AppResult<AlertRule> {
    require_admin(actor)?;
    let not_found = || AppError::new(ErrorCode::NotFound, "There is no such alert rule.");
    let kind = AlertKind::parse(kind).ok_or_else(not_found)?;
    let rows = db::alerts::rules(db).await.map_err(db_failure)?;
    let old = rows
        .into_iter()
        .find(|r| r.kind == kind.as_str())
        .ok_or_else(not_found)?;
    let mut row = old.clone();
    let mut v = Validator::default();
    apply(&mut v, kind, &mut row, &input);
    v.finish()?;
    let now_ms = to_millis(now);
    row.updated_at = now_ms;
    let action = crate::domain::toggle_action(
        old.enabled,
        row.enabled,
        [
            "alert_rule.disabled",
            "alert_rule.enabled",
            "alert_rule.updated",
        ],
    );
    let audit = actor.audit_entry(
        action,
        Some(audit_values(&old)),
        Some(audit_values(&row)),
        now_ms,
    );
    if !db::alerts::update_rule(db, &row, &audit)
        .await
        .map_err(db_failure)?
    {
        return Err(not_found());
    }
    view(&row).ok_or_else(AppError::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(kind: &str) -> RuleRow {
        RuleRow {
            kind: kind.into(),
            enabled: true,
            threshold: 0.25,
            window_minutes: 15,
            min_requests: 20,
            updated_at: 0,
        }
    }

    fn fields(kind: AlertKind, input: UpdateAlertRuleInput) -> Vec<String> {
        let mut v = Validator::default();
        apply(&mut v, kind, &mut row(kind.as_str()), &input);
        match v.finish() {
            Ok(()) => Vec::new(),
            Err(e) => e.errors.into_iter().map(|f| f.field).collect(),
        }
    }

    #[test]
    fn thresholds_fit_their_kind() {
        let t = |threshold: f64| UpdateAlertRuleInput {
            threshold: Some(threshold),
            ..Default::default()
        };
        assert!(fields(AlertKind::ErrorRate, t(0.5)).is_empty());
        assert_eq!(fields(AlertKind::ErrorRate, t(25.0)), ["body.threshold"]);
        assert_eq!(
            fields(AlertKind::ErrorRate, t(f64::NAN)),
            ["body.threshold"]
        );
        assert!(fields(AlertKind::RateLimited, t(25.0)).is_empty());
        assert_eq!(fields(AlertKind::RateLimited, t(0.5)), ["body.threshold"]);
        assert_eq!(fields(AlertKind::TrafficSpike, t(1.0)), ["body.threshold"]);
    }

    #[test]
    fn windows_and_minimums_are_bounded() {
        let w = |m: i64| UpdateAlertRuleInput {
            window_minutes: Some(m),
            min_requests: Some(-1),
            ..Default::default()
        };
        assert_eq!(
            fields(AlertKind::ErrorRate, w(0)),
            ["body.window_minutes", "body.min_requests"]
        );
        assert_eq!(
            fields(AlertKind::FailedIp, w(15)),
            ["body.window_minutes", "body.min_requests"]
        );
        let ok = UpdateAlertRuleInput {
            window_minutes: Some(60),
            ..Default::default()
        };
        assert!(fields(AlertKind::FailedIp, ok).is_empty());
    }
}
