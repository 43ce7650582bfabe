//! Input rules for a key's traffic settings; every problem is reported at once, per field.

use crate::app::limit_types::{PeriodName, QuotaSpec, RateLimitSpec, RefillSpec};
use crate::error::Validator;

pub const MAX_RATE_LIMITS: usize = 10;
pub const MAX_LIMIT: u32 = 1_000_000_000;
/// Quotas and credit balances: up to a trillion units.
pub const MAX_UNITS: i64 = 1_000_000_000_000;
pub const MAX_PERIOD_DAYS: u32 = 366;

fn is_limit_name(s: &str) -> bool {
    (1..=32).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-'))
}

pub fn rate_limits(v: &mut Validator, field: &str, limits: &[RateLimitSpec]) {
    v.check(
        limits.len() <= MAX_RATE_LIMITS,
        field,
        "must have at most 10 entries",
    );
    for (i, l) in limits.iter().enumerate() {
        let at = |name: &str| format!("{field}[{i}].{name}");
        v.check(
            is_limit_name(&l.name),
            &at("name"),
            "must be 1-32 characters of a-z, 0-9, _ and -",
        );
        v.check(
            !limits[..i].iter().any(|o| o.name == l.name),
            &at("name"),
            "must be unique among the key's limits",
        );
        v.check(
            (1..=MAX_LIMIT).contains(&l.limit),
            &at("limit"),
            "must be between 1 and 1000000000",
        );
        v.check(
            l.burst <= MAX_LIMIT,
            &at("burst"),
            "must be between 0 and 1000000000",
        );
    }
}

pub fn quota(v: &mut Validator, field: &str, quota: &QuotaSpec) {
    v.check(
        (1..=MAX_UNITS).contains(&quota.limit),
        &format!("{field}.limit"),
        "must be between 1 and 1000000000000",
    );
    let custom = quota.period == PeriodName::Custom;
    match quota.period_days {
        Some(_) if !custom => {
            v.check(
                false,
                &format!("{field}.period_days"),
                "is only used with period \"custom\"",
            );
        }
        Some(days) => {
            v.check(
                (1..=MAX_PERIOD_DAYS).contains(&days),
                &format!("{field}.period_days"),
                "must be between 1 and 366",
            );
        }
        None => {
            v.check(
                !custom,
                &format!("{field}.period_days"),
                "is required with period \"custom\"",
            );
        }
    }
}

pub fn credits(v: &mut Validator, remaining: Option<i64>, refill: Option<&RefillSpec>) {
    if let Some(n) = remaining {
        v.check(
            (0..=MAX_UNITS).contains(&n),
            "body.remaining",
            "must be between 0 and 1000000000000",
        );
    }
    if let Some(r) = refill {
        v.check(
            r.interval != PeriodName::Custom,
            "body.refill.interval",
            "must be day, week or month",
        );
        v.check(
            (1..=MAX_UNITS).contains(&r.amount),
            "body.refill.amount",
            "must be between 1 and 1000000000000",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::limit_types::Window;

    fn errors(f: impl FnOnce(&mut Validator)) -> Vec<String> {
        let mut v = Validator::default();
        f(&mut v);
        match v.finish() {
            Ok(()) => vec![],
            Err(e) => e.errors.into_iter().map(|e| e.field).collect(),
        }
    }

    fn limit(name: &str, limit: u32) -> RateLimitSpec {
        RateLimitSpec {
            name: name.into(),
            limit,
            window: Window::Minute,
            burst: 0,
        }
    }

    #[test]
    fn rate_limit_rules() {
        assert!(errors(|v| rate_limits(v, "body.rate_limits", &[limit("default", 3)])).is_empty());
        assert_eq!(
            errors(|v| rate_limits(
                v,
                "body.rate_limits",
                &[limit("a", 1), limit("a", 0), limit("Bad Name", 1)]
            )),
            vec![
                "body.rate_limits[1].name",
                "body.rate_limits[1].limit",
                "body.rate_limits[2].name"
            ]
        );
        let many: Vec<_> = (0..11).map(|i| limit(&format!("l{i}"), 1)).collect();
        assert_eq!(
            errors(|v| rate_limits(v, "body.rate_limits", &many)),
            vec!["body.rate_limits"]
        );
    }

    #[test]
    fn quota_rules() {
        let q = |period, limit, period_days| QuotaSpec {
            period,
            limit,
            period_days,
        };
        assert!(errors(|v| quota(v, "body.quota", &q(PeriodName::Month, 10, None))).is_empty());
        assert!(
            errors(|v| quota(v, "body.quota", &q(PeriodName::Custom, 10, Some(14)))).is_empty()
        );
        assert_eq!(
            errors(|v| quota(v, "body.quota", &q(PeriodName::Custom, 0, None))),
            vec!["body.quota.limit", "body.quota.period_days"]
        );
        assert_eq!(
            errors(|v| quota(v, "body.quota", &q(PeriodName::Day, 5, Some(4)))),
            vec!["body.quota.period_days"]
        );
        assert_eq!(
            errors(|v| quota(v, "body.quota", &q(PeriodName::Custom, 5, Some(400)))),
            vec!["body.quota.period_days"]
        );
    }

    #[test]
    fn credit_rules() {
        let refill = |interval, amount| RefillSpec { interval, amount };
        assert!(errors(|v| credits(v, Some(0), Some(&refill(PeriodName::Day, 5)))).is_empty());
        assert_eq!(
            errors(|v| credits(v, Some(-1), Some(&refill(PeriodName::Custom, 0)))),
            vec![
                "body.remaining",
                "body.refill.interval",
                "body.refill.amount"
            ]
        );
    }
}
