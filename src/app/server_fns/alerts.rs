//! The usage alerts admin page's server functions: the same domain calls as
//! /api/v1/alert-rules and /api/v1/alerts.

use crate::app::alert_types::{AlertKind, AlertPage, AlertRule};
use crate::error::AppError;
use leptos::prelude::*;

pub const ALERTS_PER_PAGE: i64 = 25;

/// What an error of one rule's form starts with, so the page shows it at that form (every
/// form posts to the same server function, and a form post's error comes back in the URL
/// without saying which form sent it).
pub fn rule_error_prefix(kind: AlertKind) -> String {
    format!("{}: ", kind.label())
}

/// Whether `error` came from the form of `kind`'s rule.
pub fn is_rule_error(kind: AlertKind, error: &AppError) -> bool {
    error.detail.starts_with(&rule_error_prefix(kind))
}

#[cfg(feature = "ssr")]
mod edge {
    use crate::app::alert_types::AlertKind;
    use crate::app::components::field_label;
    use crate::domain::alerts::UpdateAlertRuleInput;
    use crate::error::{AppError, AppResult, Validator};

    /// A blank field is "unchanged"; anything else must be a number of the right kind.
    fn number<T: std::str::FromStr>(
        v: &mut Validator,
        text: Option<&str>,
        field: &str,
        message: &str,
    ) -> Option<T> {
        let text = text.map(str::trim).filter(|t| !t.is_empty())?;
        let parsed = text.parse::<T>().ok();
        v.check(parsed.is_some(), field, message);
        parsed
    }

    /// The form's text fields as the domain's input; ranges are the domain's to check. An
    /// unchecked checkbox is not sent at all: `enabled` absent is "off".
    pub fn input(
        enabled: bool,
        threshold: &str,
        window_minutes: Option<&str>,
        min_requests: Option<&str>,
    ) -> AppResult<UpdateAlertRuleInput> {
        let mut v = Validator::default();
        let threshold = threshold
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|t| t.is_finite());
        v.check(threshold.is_some(), "body.threshold", "must be a number");
        let window_minutes = number::<i64>(
            &mut v,
            window_minutes,
            "body.window_minutes",
            "must be a whole number of minutes",
        );
        let min_requests = number::<i64>(
            &mut v,
            min_requests,
            "body.min_requests",
            "must be a whole number",
        );
        v.finish()?;
        Ok(UpdateAlertRuleInput {
            enabled: Some(enabled),
            threshold,
            window_minutes,
            min_requests,
        })
    }

    /// Names the rule in the error, and says what is wrong in words: "Error rate of a key:
    /// Threshold must be between 0.01 and 1 (a share of calls)."
    pub fn for_rule(kind: AlertKind, mut e: AppError) -> AppError {
        let what = if e.errors.is_empty() {
            e.detail.clone()
        } else {
            let parts: Vec<String> = e
                .errors
                .iter()
                .map(|f| format!("{} {}", field_label(&f.field), f.message))
                .collect();
            format!("{}.", parts.join("; "))
        };
        e.detail = format!("{}{what}", super::rule_error_prefix(kind));
        e
    }
}

#[server(prefix = "/sfn", endpoint = "alert_rules")]
pub async fn alert_rules() -> Result<Vec<AlertRule>, AppError> {
    let (state, actor) = super::ctx::actor()?;
    crate::domain::alerts::list_rules(&state.db, &actor).await
}

/// Recent alerts, newest first (admins: every alert).
#[server(prefix = "/sfn", endpoint = "alerts_page")]
pub async fn alerts_page(page: i64) -> Result<AlertPage, AppError> {
    use crate::domain::alerts::{AlertListQuery, list_alerts};
    let (state, actor) = super::ctx::actor()?;
    let query = AlertListQuery {
        page: Some(page.max(1)),
        per_page: Some(ALERTS_PER_PAGE),
    };
    list_alerts(&state.db, &actor, &query).await
}

// One argument per form field: plain HTML forms post flat fields. Fields a rule does not use
// (the IP rule's window, the count rules' minimum) are not in its form and stay as they are.
#[server(prefix = "/sfn", endpoint = "update_alert_rule")]
pub async fn update_alert_rule(
    kind: String,
    enabled: Option<String>,
    threshold: String,
    window_minutes: Option<String>,
    min_requests: Option<String>,
) -> Result<(), AppError> {
    use super::ctx;
    let (state, actor) = ctx::actor()?;
    crate::domain::policies::require_admin(&actor)?;
    let Some(rule) = AlertKind::parse(kind.trim()) else {
        return Err(AppError::new(
            crate::error::ErrorCode::NotFound,
            "There is no such alert rule.",
        ));
    };
    let input = edge::input(
        enabled.is_some(),
        &threshold,
        window_minutes.as_deref(),
        min_requests.as_deref(),
    )
    .map_err(|e| edge::for_rule(rule, e))?;
    crate::domain::alerts::update_rule(&state.db, &actor, rule.as_str(), input, ctx::now())
        .await
        .map_err(|e| edge::for_rule(rule, e))?;
    super::redirect(&format!(
        "/admin/alerts?saved={}#rule-{}",
        rule.as_str(),
        rule.as_str()
    ));
    Ok(())
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn form_numbers_are_read_and_blank_is_unchanged() {
        let ok = edge::input(false, " 0.5 ", Some("30"), Some("")).unwrap();
        assert_eq!(
            (ok.enabled, ok.threshold, ok.window_minutes, ok.min_requests),
            (Some(false), Some(0.5), Some(30), None)
        );
        let e = edge::input(true, "lots", Some("1.5"), Some("x")).unwrap_err();
        let fields: Vec<_> = e.errors.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            ["body.threshold", "body.window_minutes", "body.min_requests"]
        );
        assert!(edge::input(true, "NaN", None, None).is_err());
    }

    #[test]
    fn errors_name_their_rule() {
        let e = edge::input(true, "lots", None, None).unwrap_err();
        let e = edge::for_rule(AlertKind::ErrorRate, e);
        assert!(is_rule_error(AlertKind::ErrorRate, &e), "{}", e.detail);
        assert!(!is_rule_error(AlertKind::FailedIp, &e));
        assert_eq!(e.detail, "Error rate of a key: Threshold must be a number.");
        assert_eq!(
            e.errors[0].field, "body.threshold",
            "the contract's field name"
        );
    }
}
