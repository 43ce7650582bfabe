//! A key's traffic settings between their three forms: what clients send (specs), what the
//! row stores (columns), and what verification runs on (`TrafficConfig`).

use super::engine::TrafficConfig;
use super::gcra::Rate;
use super::period::{Period, PeriodName};
use super::spec;
use crate::app::limit_types::{QuotaSpec, RateLimitSpec, RefillSpec};
use crate::db::keys::{CounterWrites, TrafficColumns};
use crate::error::Validator;

const DAY_MS: i64 = 86_400_000;

/// The settings as sent on create.
#[derive(Clone, Debug, Default)]
pub struct TrafficInput {
    pub rate_limits: Option<Vec<RateLimitSpec>>,
    pub quota: Option<QuotaSpec>,
    pub remaining: Option<i64>,
    pub refill: Option<RefillSpec>,
}

/// The settings as sent on edit: absent keeps, null clears, a value sets.
#[derive(Clone, Debug, Default)]
pub struct TrafficEdit {
    pub rate_limits: Option<Option<Vec<RateLimitSpec>>>,
    pub quota: Option<Option<QuotaSpec>>,
    pub remaining: Option<Option<i64>>,
    pub refill: Option<Option<RefillSpec>>,
}

impl TrafficEdit {
    pub fn is_empty(&self) -> bool {
        self.rate_limits.is_none()
            && self.quota.is_none()
            && self.remaining.is_none()
            && self.refill.is_none()
    }
}

pub fn rate_limits_of(cols: &TrafficColumns) -> Vec<RateLimitSpec> {
    serde_json::from_str(&cols.rate_limits).unwrap_or_default()
}

pub fn quota_of(cols: &TrafficColumns) -> Option<QuotaSpec> {
    Some(QuotaSpec {
        period: PeriodName::parse(cols.quota_period.as_deref()?)?,
        limit: cols.quota_limit?,
        period_days: cols.quota_days.and_then(|d| u32::try_from(d).ok()),
    })
}

pub fn refill_of(cols: &TrafficColumns) -> Option<RefillSpec> {
    Some(RefillSpec {
        interval: PeriodName::parse(cols.refill_interval.as_deref()?)?,
        amount: cols.refill_amount?,
    })
}

pub fn quota_period(cols: &TrafficColumns) -> Option<Period> {
    let name = PeriodName::parse(cols.quota_period.as_deref()?)?;
    let days = cols.quota_days.and_then(|d| u32::try_from(d).ok());
    Period::from_name(name, days, cols.quota_anchor_day)
}

pub fn refill_period(cols: &TrafficColumns) -> Option<Period> {
    let name = PeriodName::parse(cols.refill_interval.as_deref()?)?;
    Period::from_name(name, None, None)
}

pub fn rate_of(spec: &RateLimitSpec) -> Rate {
    Rate {
        limit: spec.limit,
        window: spec.window,
        burst: spec.burst,
    }
}

/// What verification enforces for a key with these columns.
pub fn config_of(cols: &TrafficColumns) -> TrafficConfig {
    TrafficConfig {
        rates: rate_limits_of(cols)
            .iter()
            .map(|s| (s.name.clone(), rate_of(s)))
            .collect(),
        quota: quota_period(cols).zip(cols.quota_limit),
        credits: cols.remaining.map(|_| refill_period(cols)),
    }
}

fn set_rate_limits(cols: &mut TrafficColumns, limits: &[RateLimitSpec]) {
    cols.rate_limits = serde_json::to_string(limits).unwrap_or_else(|_| "[]".into());
}

/// Sets the quota columns; a custom period is anchored on the day it is set.
fn set_quota(cols: &mut TrafficColumns, quota: Option<&QuotaSpec>, now_ms: i64) {
    cols.quota_period = quota.map(|q| q.period.as_str().to_string());
    cols.quota_limit = quota.map(|q| q.limit);
    cols.quota_days = quota
        .and_then(|q| q.period_days)
        .and_then(|d| i32::try_from(d).ok());
    cols.quota_anchor_day = quota
        .filter(|q| q.period == PeriodName::Custom)
        .map(|_| now_ms.div_euclid(DAY_MS));
}

fn set_refill(cols: &mut TrafficColumns, refill: Option<&RefillSpec>, now_ms: i64) {
    cols.refill_interval = refill.map(|r| r.interval.as_str().to_string());
    cols.refill_amount = refill.map(|r| r.amount);
    // The balance as set stands until the next refill boundary.
    cols.refilled_period_start = refill_period(cols).map(|p| p.bounds(now_ms).0);
}

fn check_refill_has_balance(v: &mut Validator, refill: bool, remaining: bool) {
    v.check(
        !refill || remaining,
        "body.refill",
        "needs a credit balance: set remaining too",
    );
}

/// Validates the settings of a new key and returns its columns. A refill without a starting
/// balance starts at the refill amount.
pub fn for_create(v: &mut Validator, input: &TrafficInput, now_ms: i64) -> TrafficColumns {
    let mut cols = TrafficColumns {
        rate_limits: "[]".into(),
        ..TrafficColumns::default()
    };
    if let Some(limits) = &input.rate_limits {
        spec::rate_limits(v, "body.rate_limits", limits);
        set_rate_limits(&mut cols, limits);
    }
    if let Some(q) = &input.quota {
        spec::quota(v, "body.quota", q);
        set_quota(&mut cols, Some(q), now_ms);
    }
    spec::credits(v, input.remaining, input.refill.as_ref());
    cols.remaining = input
        .remaining
        .or_else(|| input.refill.as_ref().map(|r| r.amount));
    set_refill(&mut cols, input.refill.as_ref(), now_ms);
    cols
}

/// Applies an edit to `cols`, validating it, and says which stored counters it overwrites.
pub fn apply_edit(
    v: &mut Validator,
    cols: &mut TrafficColumns,
    edit: &TrafficEdit,
    now_ms: i64,
) -> CounterWrites {
    let mut writes = CounterWrites::default();
    if let Some(limits) = &edit.rate_limits {
        let limits = limits.as_deref().unwrap_or_default();
        spec::rate_limits(v, "body.rate_limits", limits);
        set_rate_limits(cols, limits);
    }
    if let Some(quota) = &edit.quota {
        if let Some(q) = quota {
            spec::quota(v, "body.quota", q);
        }
        let before = quota_of(cols);
        let same_period = matches!((&before, quota),
            (Some(b), Some(q)) if b.period == q.period && b.period_days == q.period_days);
        if same_period {
            // Only the limit changes: usage so far in this period still counts.
            cols.quota_limit = quota.as_ref().map(|q| q.limit);
        } else {
            set_quota(cols, quota.as_ref(), now_ms);
            writes.reset_quota = true;
        }
    }
    if let Some(remaining) = edit.remaining {
        spec::credits(v, remaining, None);
        cols.remaining = remaining;
        writes.set_remaining = true;
        if remaining.is_none() {
            // No balance, nothing to refill.
            set_refill(cols, None, now_ms);
            writes.set_refilled_start = true;
        }
    }
    if let Some(refill) = &edit.refill {
        spec::credits(v, None, refill.as_ref());
        set_refill(cols, refill.as_ref(), now_ms);
        writes.set_refilled_start = true;
    }
    if writes.set_remaining && !writes.set_refilled_start {
        // A balance set by hand stands until the next refill boundary.
        cols.refilled_period_start = refill_period(cols).map(|p| p.bounds(now_ms).0);
        writes.set_refilled_start = true;
    }
    check_refill_has_balance(v, cols.refill_interval.is_some(), cols.remaining.is_some());
    writes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::limit_types::Window;

    const NOW: i64 = 1_800_000_000_000;

    fn errors(mut v: Validator) -> Vec<String> {
        match v.finish() {
            Ok(()) => vec![],
            Err(e) => e.errors.into_iter().map(|e| e.field).collect(),
        }
    }

    fn limit(n: u32) -> RateLimitSpec {
        RateLimitSpec {
            name: "default".into(),
            limit: n,
            window: Window::Minute,
            burst: 2,
        }
    }

    #[test]
    fn create_round_trips_through_the_columns() {
        let mut v = Validator::default();
        let input = TrafficInput {
            rate_limits: Some(vec![limit(3)]),
            quota: Some(QuotaSpec {
                period: PeriodName::Custom,
                limit: 100,
                period_days: Some(14),
            }),
            remaining: None,
            refill: Some(RefillSpec {
                interval: PeriodName::Day,
                amount: 50,
            }),
        };
        let cols = for_create(&mut v, &input, NOW);
        assert!(errors(v).is_empty());
        assert_eq!(rate_limits_of(&cols), vec![limit(3)]);
        assert_eq!(quota_of(&cols), input.quota);
        assert_eq!(refill_of(&cols), input.refill);
        assert_eq!(cols.remaining, Some(50), "a refill alone starts full");
        assert_eq!(cols.quota_anchor_day, Some(NOW / DAY_MS));
        assert_eq!(
            cols.refilled_period_start,
            Some(NOW / DAY_MS * DAY_MS),
            "no refill due until tomorrow"
        );
        let cfg = config_of(&cols);
        assert_eq!(cfg.rates.len(), 1);
        assert_eq!(cfg.rates[0].1.capacity(), 5);
        assert!(matches!(
            cfg.quota,
            Some((Period::Days { days: 14, .. }, 100))
        ));
        assert_eq!(cfg.credits, Some(Some(Period::Day)));
    }

    #[test]
    fn plain_key_has_no_traffic_config() {
        let mut v = Validator::default();
        let cols = for_create(&mut v, &TrafficInput::default(), NOW);
        assert_eq!(config_of(&cols), TrafficConfig::default());
        assert_eq!(cols.rate_limits, "[]");
    }

    #[test]
    fn edits_say_which_counters_they_overwrite() {
        let mut v = Validator::default();
        let mut cols = for_create(
            &mut v,
            &TrafficInput {
                quota: Some(QuotaSpec {
                    period: PeriodName::Month,
                    limit: 10,
                    period_days: None,
                }),
                ..TrafficInput::default()
            },
            NOW,
        );
        // a new limit in the same period keeps the usage
        let w = apply_edit(
            &mut v,
            &mut cols,
            &TrafficEdit {
                quota: Some(Some(QuotaSpec {
                    period: PeriodName::Month,
                    limit: 20,
                    period_days: None,
                })),
                ..TrafficEdit::default()
            },
            NOW,
        );
        assert_eq!(w, CounterWrites::default());
        assert_eq!(cols.quota_limit, Some(20));
        // another period starts over
        let w = apply_edit(
            &mut v,
            &mut cols,
            &TrafficEdit {
                quota: Some(Some(QuotaSpec {
                    period: PeriodName::Day,
                    limit: 20,
                    period_days: None,
                })),
                ..TrafficEdit::default()
            },
            NOW,
        );
        assert!(w.reset_quota);
        // a balance set by hand
        let w = apply_edit(
            &mut v,
            &mut cols,
            &TrafficEdit {
                remaining: Some(Some(7)),
                ..TrafficEdit::default()
            },
            NOW,
        );
        assert!(w.set_remaining && w.set_refilled_start && !w.reset_quota);
        assert_eq!(cols.remaining, Some(7));
        // clearing the balance clears the refill too
        cols.refill_interval = Some("day".into());
        cols.refill_amount = Some(5);
        apply_edit(
            &mut v,
            &mut cols,
            &TrafficEdit {
                remaining: Some(None),
                ..TrafficEdit::default()
            },
            NOW,
        );
        assert_eq!((cols.remaining, refill_of(&cols)), (None, None));
        assert!(errors(v).is_empty());
    }

    #[test]
    fn a_refill_needs_a_balance() {
        let mut v = Validator::default();
        let mut cols = for_create(&mut v, &TrafficInput::default(), NOW);
        apply_edit(
            &mut v,
            &mut cols,
            &TrafficEdit {
                refill: Some(Some(RefillSpec {
                    interval: PeriodName::Month,
                    amount: 5,
                })),
                ..TrafficEdit::default()
            },
            NOW,
        );
        assert_eq!(errors(v), vec!["body.refill"]);
    }
}
