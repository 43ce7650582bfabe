//! Quotas and credits that survive restarts without a database write per request.
//!
//! An instance leases units from the database in small blocks and spends them from memory.
//! The database row counts leased units as spent (quota `used` goes up, credit `remaining`
//! goes down) in the same atomic update that hands them out, so:
//! - concurrent requests and several instances can never spend a unit twice;
//! - a crash can only lose unspent leased units (under-serving by at most one lease), never
//!   over-serve; a graceful shutdown hands unspent units back.
//!
//! A lease is 1% of the quota or balance, at least 1 and at most `MAX_LEASE` units.

use super::period::Period;

pub const MAX_LEASE: i64 = 1_000;

/// How many units to ask for when memory runs out, for a quota limit or a credit balance.
pub fn lease_size(total: i64, need: i64) -> i64 {
    (total / 100).clamp(1, MAX_LEASE).max(need)
}

/// Units this instance holds for one period. Units held for an earlier period are void.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Held {
    pub period_start: i64,
    pub units: i64,
}

impl Held {
    pub fn available(&self, period_start: i64) -> i64 {
        if self.period_start == period_start {
            self.units
        } else {
            0
        }
    }

    pub fn add(&mut self, period_start: i64, units: i64) {
        if self.period_start != period_start {
            *self = Held {
                period_start,
                units: 0,
            };
        }
        self.units += units;
    }

    /// Spends `units` if held for `period_start`; false (and nothing spent) otherwise.
    pub fn spend(&mut self, period_start: i64, units: i64) -> bool {
        if self.available(period_start) >= units {
            self.units -= units;
            true
        } else {
            false
        }
    }
}

/// A quota row as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuotaRow {
    pub limit: i64,
    pub used: i64,
    pub period_start: Option<i64>,
}

/// Hands out up to `want` units of the quota for the period starting `current_start`; a new
/// period starts from zero. Returns the units granted and the row to store.
pub fn grant_quota(row: QuotaRow, current_start: i64, want: i64) -> (i64, QuotaRow) {
    let used = if row.period_start == Some(current_start) {
        row.used
    } else {
        0
    };
    let granted = want.min(row.limit - used).max(0);
    (
        granted,
        QuotaRow {
            limit: row.limit,
            used: used + granted,
            period_start: Some(current_start),
        },
    )
}

/// A credit balance as stored; `refilled_start` is the refill period last applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CreditRow {
    pub remaining: i64,
    pub refill: Option<(Period, i64)>,
    pub refilled_start: Option<i64>,
}

/// The refill period in force at `now_ms` (0 without refills), which credit leases are tied to.
pub fn credit_period_start(refill: Option<Period>, now_ms: i64) -> i64 {
    refill.map_or(0, |p| p.bounds(now_ms).0)
}

impl CreditRow {
    pub fn period_start(&self, now_ms: i64) -> i64 {
        credit_period_start(self.refill.map(|(p, _)| p), now_ms)
    }
}

/// Hands out up to `want` credits at `now_ms`, first refilling the balance to the refill
/// amount if a refill period began since the last one applied.
pub fn grant_credits(row: CreditRow, now_ms: i64, want: i64) -> (i64, CreditRow) {
    let mut next = row;
    if let Some((period, amount)) = row.refill {
        let start = period.bounds(now_ms).0;
        if row.refilled_start.is_none_or(|done| done < start) {
            next.remaining = amount;
            next.refilled_start = Some(start);
        }
    }
    let granted = want.min(next.remaining).max(0);
    next.remaining -= granted;
    (granted, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    #[test]
    fn lease_sizes() {
        assert_eq!(lease_size(3, 1), 1);
        assert_eq!(lease_size(10_000, 1), 100);
        assert_eq!(lease_size(10_000_000, 1), MAX_LEASE);
        assert_eq!(
            lease_size(10_000, 250),
            250,
            "a costly request gets what it needs"
        );
    }

    #[test]
    fn quota_grants_stop_at_the_limit_and_reset_each_period() {
        let row = QuotaRow {
            limit: 10,
            used: 0,
            period_start: None,
        };
        let (g, row) = grant_quota(row, 0, 4);
        assert_eq!((g, row.used), (4, 4));
        let (g, row) = grant_quota(row, 0, 100);
        assert_eq!((g, row.used), (6, 10));
        let (g, row) = grant_quota(row, 0, 1);
        assert_eq!((g, row.used), (0, 10));
        let (g, row) = grant_quota(row, DAY, 3);
        assert_eq!((g, row.used, row.period_start), (3, 3, Some(DAY)));
    }

    #[test]
    fn credits_refill_to_the_amount_once_per_period() {
        let row = CreditRow {
            remaining: 2,
            refill: Some((Period::Day, 100)),
            refilled_start: Some(0),
        };
        let (g, row) = grant_credits(row, 10, 5);
        assert_eq!((g, row.remaining), (2, 0), "no refill within the period");
        let (g, row) = grant_credits(row, DAY + 1, 30);
        assert_eq!((g, row.remaining, row.refilled_start), (30, 70, Some(DAY)));
        let (g, row) = grant_credits(row, DAY + 2, 1);
        assert_eq!(
            (g, row.remaining),
            (1, 69),
            "refilled once, not on every grant"
        );
        assert_eq!(row.period_start(DAY + 2), DAY);
    }

    #[test]
    fn credits_without_refill_run_out() {
        let row = CreditRow {
            remaining: 1,
            refill: None,
            refilled_start: None,
        };
        let (g, row) = grant_credits(row, 0, 1);
        assert_eq!((g, row.remaining), (1, 0));
        assert_eq!(grant_credits(row, DAY * 400, 1).0, 0);
    }

    #[test]
    fn held_units_belong_to_their_period() {
        let mut h = Held::default();
        h.add(DAY, 5);
        assert!(h.spend(DAY, 3));
        assert!(!h.spend(DAY, 3), "only two left");
        assert_eq!(h.available(2 * DAY), 0, "last period's units are void");
        h.add(2 * DAY, 1);
        assert_eq!(h.available(2 * DAY), 1);
    }
}
