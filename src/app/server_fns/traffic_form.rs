//! The key forms' traffic fields: one rate limit, a quota and a credit balance with its
//! refill, as plain inputs. Blank means none; the domain checks ranges as it does for REST.

use crate::app::limit_types::{PeriodName, QuotaSpec, RateLimitSpec, RefillSpec, Window};
use crate::error::{AppError, FieldError};

/// What the form posts, as text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrafficFields {
    pub rate_limit: String,
    pub rate_window: String,
    pub rate_burst: String,
    pub quota_limit: String,
    pub quota_period: String,
    pub remaining: String,
    pub refill_amount: String,
    pub refill_interval: String,
}

/// The settings the form describes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrafficChoice {
    pub rate_limits: Vec<RateLimitSpec>,
    pub quota: Option<QuotaSpec>,
    pub remaining: Option<i64>,
    pub refill: Option<RefillSpec>,
}

fn number<T: std::str::FromStr>(
    text: &str,
    field: &str,
    errors: &mut Vec<FieldError>,
) -> Option<T> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    match text.parse() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.push(FieldError {
                field: format!("body.{field}"),
                message: "must be a whole number".into(),
            });
            None
        }
    }
}

fn period(text: &str, field: &str, errors: &mut Vec<FieldError>) -> PeriodName {
    PeriodName::parse(text.trim()).unwrap_or_else(|| {
        errors.push(FieldError {
            field: format!("body.{field}"),
            message: "must be day, week or month".into(),
        });
        PeriodName::Day
    })
}

pub fn parse(f: &TrafficFields) -> Result<TrafficChoice, AppError> {
    let mut errors = Vec::new();
    let mut choice = TrafficChoice::default();
    if let Some(limit) = number::<u32>(&f.rate_limit, "rate_limit", &mut errors) {
        let window = Window::parse(f.rate_window.trim()).unwrap_or_else(|| {
            errors.push(FieldError {
                field: "body.rate_window".into(),
                message: "must be second, minute, hour or day".into(),
            });
            Window::Minute
        });
        let burst = number::<u32>(&f.rate_burst, "rate_burst", &mut errors).unwrap_or(0);
        choice.rate_limits.push(RateLimitSpec {
            name: "default".into(),
            limit,
            window,
            burst,
        });
    }
    if let Some(limit) = number::<i64>(&f.quota_limit, "quota_limit", &mut errors) {
        choice.quota = Some(QuotaSpec {
            period: period(&f.quota_period, "quota_period", &mut errors),
            limit,
            period_days: None,
        });
    }
    choice.remaining = number::<i64>(&f.remaining, "remaining", &mut errors);
    if let Some(amount) = number::<i64>(&f.refill_amount, "refill_amount", &mut errors) {
        choice.refill = Some(RefillSpec {
            interval: period(&f.refill_interval, "refill_interval", &mut errors),
            amount,
        });
    }
    if errors.is_empty() {
        Ok(choice)
    } else {
        Err(AppError::validation(errors))
    }
}

/// The form can show a key's limits when they are at most one, named `default`; otherwise
/// (set over REST) the form leaves them alone.
pub fn fits_form(limits: &[RateLimitSpec]) -> bool {
    match limits {
        [] => true,
        [one] => one.name == "default",
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_means_none_and_numbers_must_be_numbers() {
        assert_eq!(
            parse(&TrafficFields::default()).unwrap(),
            TrafficChoice::default()
        );
        let full = TrafficFields {
            rate_limit: "3".into(),
            rate_window: "minute".into(),
            rate_burst: "".into(),
            quota_limit: "1000".into(),
            quota_period: "month".into(),
            remaining: "50".into(),
            refill_amount: "50".into(),
            refill_interval: "day".into(),
        };
        let c = parse(&full).unwrap();
        assert_eq!(c.rate_limits[0].limit, 3);
        assert_eq!(c.rate_limits[0].burst, 0);
        assert_eq!(c.quota.unwrap().period, PeriodName::Month);
        assert_eq!(c.remaining, Some(50));
        assert_eq!(c.refill.unwrap().interval, PeriodName::Day);
        let bad = TrafficFields {
            rate_limit: "three".into(),
            remaining: "-".into(),
            ..TrafficFields::default()
        };
        let err = parse(&bad).unwrap_err();
        let fields: Vec<_> = err.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["body.rate_limit", "body.remaining"]);
    }
}
