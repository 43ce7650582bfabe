//! One key's traffic state and the decision for one request, in the contract's order:
//! rate limits (with penalties), then quota, then credits. Nothing is spent unless every
//! check passes, including the read-only checks that come after these in the contract.
//!
//! Quota units and credits come from leases (see `allowance`); when memory holds too few,
//! `decide` asks its caller to lease more from the database and call again, so this file
//! stays free of I/O and time is a parameter.

use super::allowance::{Held, credit_period_start, lease_size};
use super::gcra::{Bucket, Rate};
use super::penalty::{Escalation, Penalty};
use super::period::Period;
use super::shared::{SharedCharge, SubjectEscalation};

/// A key's traffic settings, as verification needs them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrafficConfig {
    pub rates: Vec<(String, Rate)>,
    /// Period and limit.
    pub quota: Option<(Period, i64)>,
    /// Credits are counted (a usage-limited key); their refill period, if any.
    pub credits: Option<Option<Period>>,
}

impl TrafficConfig {
    /// No limits, quota or credits: verification need not touch traffic state at all.
    pub fn is_empty(&self) -> bool {
        self.rates.is_empty() && self.quota.is_none() && self.credits.is_none()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateReport {
    pub name: String,
    pub limit: u32,
    pub window_seconds: i64,
    pub remaining: u64,
    pub reset_ms: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuotaReport {
    pub limit: i64,
    pub remaining: i64,
    pub reset_ms: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    RateLimited {
        retry_after_ms: i64,
    },
    QuotaExceeded {
        reset_ms: i64,
    },
    UsageExceeded,
    /// A later, read-only check failed; nothing was spent.
    LaterCheck,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    pub refused: Option<Refusal>,
    /// The tightest rate limit (fewest requests left).
    pub ratelimit: Option<RateReport>,
    pub quota: Option<QuotaReport>,
    pub remaining: Option<i64>,
    /// A penalty level this request's refusal raised on the key.
    pub escalation: Option<Escalation>,
    /// Penalties it raised on the subjects of policies (a client IP, a user, ...).
    pub subject_escalations: Vec<SubjectEscalation>,
}

/// What `decide` needs before it can answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Done,
    /// Lease quota units for the period starting at `period_start`, then call again.
    LeaseQuota {
        period_start: i64,
        want: i64,
    },
    /// Lease credits, then call again.
    LeaseCredits {
        want: i64,
    },
}

/// The database's side of quota and credits, as last seen by this instance.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stored {
    pub quota_used: i64,
    pub quota_period_start: Option<i64>,
    pub credits_remaining: i64,
}

#[derive(Clone, Debug, Default)]
pub struct KeyTraffic {
    buckets: Vec<(String, Bucket)>,
    pub penalty: Penalty,
    pub quota_held: Held,
    pub credits_held: Held,
    pub stored: Stored,
    /// The quota period for which the database had nothing left to lease.
    quota_dry: Option<i64>,
    /// The credit period (0 without refills) for which the database had nothing left.
    credits_dry: Option<i64>,
    /// Every bucket is at rest from this instant on.
    busy_until_ms: i64,
}

impl KeyTraffic {
    pub fn new(stored: Stored) -> Self {
        Self {
            stored,
            ..Self::default()
        }
    }

    fn bucket(&self, name: &str) -> Bucket {
        self.buckets
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| *b)
            .unwrap_or_default()
    }

    fn set_bucket(&mut self, name: &str, bucket: Bucket) {
        match self.buckets.iter_mut().find(|(n, _)| n == name) {
            Some((_, b)) => *b = bucket,
            None => self.buckets.push((name.to_string(), bucket)),
        }
    }

    /// Records what a lease got: the units, and the row it left in the database.
    pub fn add_quota_lease(&mut self, period_start: i64, granted: i64, stored_used: i64) {
        self.quota_held.add(period_start, granted);
        self.stored.quota_used = stored_used;
        self.stored.quota_period_start = Some(period_start);
        if granted == 0 {
            self.quota_dry = Some(period_start);
        }
    }

    pub fn add_credit_lease(&mut self, period_start: i64, granted: i64, stored_remaining: i64) {
        self.credits_held.add(period_start, granted);
        self.stored.credits_remaining = stored_remaining;
        if stored_remaining == 0 {
            self.credits_dry = Some(period_start);
        }
    }

    /// Takes the unspent quota units and credits (to hand back) and forgets what this
    /// instance knew of the stored counters, so the next request leases afresh.
    pub fn release_allowances(&mut self) -> (Held, Held) {
        let held = (self.quota_held, self.credits_held);
        self.quota_held = Held::default();
        self.credits_held = Held::default();
        self.stored = Stored::default();
        self.quota_dry = None;
        self.credits_dry = None;
        held
    }

    /// Nothing here is worth keeping at `now_ms`: buckets at rest, no penalty, no units held.
    pub fn is_idle(&self, now_ms: i64) -> bool {
        self.busy_until_ms <= now_ms
            && self.penalty.is_clear(now_ms)
            && self.quota_held.units == 0
            && self.credits_held.units == 0
    }

    /// What each rate limit has left at `now_ms`, without spending anything.
    pub fn rate_status(&self, cfg: &TrafficConfig, now_ms: i64) -> Vec<RateReport> {
        let tokens = self.penalty.tokens_per_request(now_ms);
        cfg.rates
            .iter()
            .map(|(name, rate)| {
                let bucket = self.bucket(name);
                let d = bucket.peek_tokens(rate, now_ms, tokens);
                RateReport {
                    name: name.clone(),
                    limit: rate.limit,
                    window_seconds: rate.window.seconds(),
                    remaining: if d.allowed { d.remaining + 1 } else { 0 },
                    // full again: now, for a bucket at rest
                    reset_ms: bucket.at_rest_from_ms(rate).max(now_ms),
                }
            })
            .collect()
    }

    fn quota_report(&self, limit: i64, start: i64, end: i64) -> QuotaReport {
        let used = if self.stored.quota_period_start == Some(start) {
            self.stored.quota_used
        } else {
            0
        };
        QuotaReport {
            limit,
            remaining: (limit - used + self.quota_held.available(start)).max(0),
            reset_ms: end,
        }
    }

    /// Decides one request costing `cost` credits at `now_ms`, counted in the key's own limits
    /// and in the policy limits of `shared`. `later_check_fails` says whether a read-only check
    /// after these (scopes, IP) refuses it. On `Step::Done` the verdict is in `out`; otherwise
    /// lease what the step asks for and call again.
    pub fn decide(
        &mut self,
        cfg: &TrafficConfig,
        shared: SharedCharge<'_>,
        now_ms: i64,
        cost: i64,
        later_check_fails: bool,
        out: &mut Verdict,
    ) -> Step {
        *out = Verdict::default();
        // 1. Rate limits, the key's under any penalty in force, and the policies'.
        let tokens = self.penalty.tokens_per_request(now_ms);
        let decisions: Vec<_> = cfg
            .rates
            .iter()
            .map(|(name, rate)| self.bucket(name).peek_tokens(rate, now_ms, tokens))
            .collect();
        let shared_peek = shared.peek(now_ms);
        // Report the limit that refuses, else the one with the fewest requests left.
        let own = (0..decisions.len())
            .min_by_key(|&i| (decisions[i].allowed, decisions[i].remaining))
            .map(|i| (decisions[i].allowed, decisions[i].remaining, i));
        let policy = (0..shared_peek.reports.len())
            .min_by_key(|&i| {
                let (allowed, r) = &shared_peek.reports[i];
                (*allowed, r.remaining)
            })
            .map(|i| {
                (
                    shared_peek.reports[i].0,
                    shared_peek.reports[i].1.remaining,
                    i,
                )
            });
        out.ratelimit = match (own, policy) {
            (Some((a, r, i)), p) if p.is_none_or(|(pa, pr, _)| (a, r) <= (pa, pr)) => {
                let (name, rate) = &cfg.rates[i];
                Some(RateReport {
                    name: name.clone(),
                    limit: rate.limit,
                    window_seconds: rate.window.seconds(),
                    remaining: decisions[i].remaining,
                    reset_ms: decisions[i].reset_ms,
                })
            }
            (_, Some((_, _, i))) => Some(shared_peek.reports[i].1.clone()),
            _ => None,
        };
        let blocked = self.penalty.blocked_until(now_ms);
        let refused_for = decisions
            .iter()
            .filter(|d| !d.allowed)
            .map(|d| d.retry_after_ms)
            .max();
        let own_refused = blocked.is_some() || refused_for.is_some();
        if own_refused || shared_peek.retry_after_ms.is_some() {
            let wait = blocked.map_or(0, |until| until - now_ms);
            let retry = wait
                .max(refused_for.unwrap_or(0))
                .max(shared_peek.retry_after_ms.unwrap_or(0));
            out.refused = Some(Refusal::RateLimited {
                retry_after_ms: retry.max(1),
            });
            if own_refused {
                out.escalation = self.penalty.strike(now_ms);
            }
            let refused: Vec<bool> = shared_peek.reports.iter().map(|(ok, _)| !ok).collect();
            out.subject_escalations = shared.strike(&refused, now_ms);
            if let Some(r) = out.ratelimit.as_mut() {
                r.remaining = 0;
            }
            return Step::Done;
        }

        // 2. Quota: one unit per request.
        let mut quota_start = None;
        if let Some((period, limit)) = cfg.quota {
            let (start, end) = period.bounds(now_ms);
            if self.quota_held.available(start) < 1 {
                if self.quota_dry != Some(start) {
                    return Step::LeaseQuota {
                        period_start: start,
                        want: lease_size(limit, 1),
                    };
                }
                let mut report = self.quota_report(limit, start, end);
                report.remaining = 0;
                out.quota = Some(report);
                out.refused = Some(Refusal::QuotaExceeded { reset_ms: end });
                return Step::Done;
            }
            out.quota = Some(self.quota_report(limit, start, end));
            quota_start = Some(start);
        }

        // 3. Credits: `cost` per request.
        let mut credit_start = None;
        if let Some(refill) = cfg.credits {
            let start = credit_period_start(refill, now_ms);
            let held = self.credits_held.available(start);
            if held < cost {
                if self.credits_dry != Some(start) {
                    let total = self.stored.credits_remaining + held;
                    return Step::LeaseCredits {
                        want: lease_size(total, cost - held),
                    };
                }
                out.remaining = Some(self.stored.credits_remaining + held);
                out.refused = Some(Refusal::UsageExceeded);
                return Step::Done;
            }
            out.remaining = Some(self.stored.credits_remaining + held);
            credit_start = Some(start);
        }

        // 4. Spend only when nothing refuses.
        if later_check_fails {
            out.refused = Some(Refusal::LaterCheck);
            return Step::Done;
        }
        // The policies' buckets are shared with other keys' requests: spend there first, all
        // or nothing, and count this request refused if one of them ran dry meanwhile.
        if let Err(retry_after_ms) = shared.try_spend(now_ms) {
            out.refused = Some(Refusal::RateLimited { retry_after_ms });
            if let Some(r) = out.ratelimit.as_mut() {
                r.remaining = 0;
            }
            return Step::Done;
        }
        for ((name, rate), decision) in cfg.rates.iter().zip(&decisions) {
            let mut bucket = self.bucket(name);
            bucket.commit(decision);
            self.busy_until_ms = self.busy_until_ms.max(bucket.at_rest_from_ms(rate));
            self.set_bucket(name, bucket);
        }
        if let Some(start) = quota_start {
            self.quota_held.spend(start, 1);
            if let Some(q) = out.quota.as_mut() {
                q.remaining -= 1;
            }
        }
        if let Some(start) = credit_start {
            self.credits_held.spend(start, cost);
            out.remaining = out.remaining.map(|r| r - cost);
        }
        Step::Done
    }
}

#[cfg(test)]
mod tests {
    use super::super::allowance::{CreditRow, QuotaRow, grant_credits, grant_quota};
    use super::*;
    use crate::app::limit_types::Window;

    const DAY: i64 = 86_400_000;

    /// A stand-in for the database row, with the same grant rules the SQL applies.
    struct Row {
        quota: QuotaRow,
        credits: CreditRow,
    }

    fn run(
        t: &mut KeyTraffic,
        row: &mut Row,
        cfg: &TrafficConfig,
        now: i64,
        cost: i64,
        later_fails: bool,
    ) -> Verdict {
        run_shared(t, row, cfg, SharedCharge::none(), now, cost, later_fails)
    }

    fn run_shared(
        t: &mut KeyTraffic,
        row: &mut Row,
        cfg: &TrafficConfig,
        shared: SharedCharge<'_>,
        now: i64,
        cost: i64,
        later_fails: bool,
    ) -> Verdict {
        let mut out = Verdict::default();
        for _ in 0..4 {
            match t.decide(cfg, shared, now, cost, later_fails, &mut out) {
                Step::Done => return out,
                Step::LeaseQuota { period_start, want } => {
                    let (granted, next) = grant_quota(row.quota, period_start, want);
                    row.quota = next;
                    t.add_quota_lease(period_start, granted, next.used);
                }
                Step::LeaseCredits { want } => {
                    let (granted, next) = grant_credits(row.credits, now, want);
                    row.credits = next;
                    t.add_credit_lease(next.period_start(now), granted, next.remaining);
                }
            }
        }
        panic!("decide did not settle");
    }

    fn row(quota_limit: i64, credits: i64) -> Row {
        Row {
            quota: QuotaRow {
                limit: quota_limit,
                used: 0,
                period_start: None,
            },
            credits: CreditRow {
                remaining: credits,
                refill: None,
                refilled_start: None,
            },
        }
    }

    fn rate(limit: u32) -> (String, Rate) {
        (
            "default".into(),
            Rate {
                limit,
                window: Window::Minute,
                burst: 0,
            },
        )
    }

    #[test]
    fn order_rate_then_quota_then_credits() {
        let cfg = TrafficConfig {
            rates: vec![rate(2)],
            quota: Some((Period::Day, 3)),
            credits: Some(None),
        };
        let mut t = KeyTraffic::default();
        let mut r = row(3, 10);
        let v = run(&mut t, &mut r, &cfg, 0, 1, false);
        assert_eq!(v.refused, None);
        assert_eq!(v.ratelimit.as_ref().unwrap().remaining, 1);
        assert_eq!(v.quota.unwrap().remaining, 2);
        assert_eq!(v.remaining, Some(9));
        run(&mut t, &mut r, &cfg, 0, 1, false);
        let v = run(&mut t, &mut r, &cfg, 0, 1, false);
        assert!(matches!(
            v.refused,
            Some(Refusal::RateLimited {
                retry_after_ms: 30_000
            })
        ));
        // the rate limit refills; the quota (3/day) is next to refuse
        let v = run(&mut t, &mut r, &cfg, 60_000, 1, false);
        assert_eq!(v.refused, None);
        assert_eq!(v.quota.unwrap().remaining, 0);
        let v = run(&mut t, &mut r, &cfg, 120_000, 1, false);
        assert_eq!(v.refused, Some(Refusal::QuotaExceeded { reset_ms: DAY }));
        // next day: quota back; credits 10 - 3 = 7 left, and a call costing 8 is refused
        let v = run(&mut t, &mut r, &cfg, DAY, 8, false);
        assert_eq!(v.refused, Some(Refusal::UsageExceeded));
        assert_eq!(v.remaining, Some(7));
        let v = run(&mut t, &mut r, &cfg, DAY, 7, false);
        assert_eq!((v.refused, v.remaining), (None, Some(0)));
    }

    #[test]
    fn a_refusal_by_a_later_check_spends_nothing() {
        let cfg = TrafficConfig {
            rates: vec![rate(1)],
            quota: Some((Period::Day, 1)),
            credits: Some(None),
        };
        let mut t = KeyTraffic::default();
        let mut r = row(1, 1);
        for _ in 0..5 {
            let v = run(&mut t, &mut r, &cfg, 0, 1, true);
            assert_eq!(v.refused, Some(Refusal::LaterCheck));
        }
        let v = run(&mut t, &mut r, &cfg, 0, 1, false);
        assert_eq!(v.refused, None, "everything was still there");
        // and a rate-limit refusal spends no quota or credit either
        let v = run(&mut t, &mut r, &cfg, 1, 1, false);
        assert!(matches!(v.refused, Some(Refusal::RateLimited { .. })));
        assert_eq!(t.quota_held.units + t.credits_held.units, 0);
        assert_eq!((r.quota.used, r.credits.remaining), (1, 0));
    }

    #[test]
    fn leases_are_few_and_the_database_is_not_asked_when_dry() {
        let cfg = TrafficConfig {
            rates: vec![],
            quota: Some((Period::Day, 1_000)),
            credits: None,
        };
        let mut t = KeyTraffic::default();
        let mut r = row(1_000, 0);
        let mut leases = 0;
        let mut out = Verdict::default();
        let mut served = 0;
        for _ in 0..1_500 {
            loop {
                match t.decide(&cfg, SharedCharge::none(), 5, 1, false, &mut out) {
                    Step::Done => break,
                    Step::LeaseQuota { period_start, want } => {
                        leases += 1;
                        let (g, next) = grant_quota(r.quota, period_start, want);
                        r.quota = next;
                        t.add_quota_lease(period_start, g, next.used);
                    }
                    Step::LeaseCredits { .. } => unreachable!(),
                }
            }
            if out.refused.is_none() {
                served += 1;
            }
        }
        assert_eq!(served, 1_000);
        // 100 leases of 10 units, then one that came back empty; none after that
        assert_eq!(leases, 101);
    }

    #[test]
    fn penalties_escalate_on_repeated_refusals() {
        let cfg = TrafficConfig {
            rates: vec![rate(1)],
            ..TrafficConfig::default()
        };
        let mut t = KeyTraffic::default();
        let mut r = row(0, 0);
        run(&mut t, &mut r, &cfg, 0, 1, false);
        let escalations: Vec<_> = (0..super::super::penalty::STRIKES_TO_ESCALATE)
            .filter_map(|_| run(&mut t, &mut r, &cfg, 1, 1, false).escalation)
            .collect();
        assert_eq!(escalations.len(), 1);
        // at level 1 each request is charged two tokens: one request per two minutes
        assert_eq!(run(&mut t, &mut r, &cfg, 60_000, 1, false).refused, None);
        let v = run(&mut t, &mut r, &cfg, 120_000, 1, false);
        assert!(v.refused.is_some(), "half the rate under penalty");
        assert_eq!(run(&mut t, &mut r, &cfg, 180_000, 1, false).refused, None);
    }

    #[test]
    fn policies_and_the_key_spend_together_or_not_at_all() {
        use super::super::shared::{SharedBuckets, SharedLimit, Subject};
        let buckets = SharedBuckets::default();
        let policy = [SharedLimit {
            policy_id: 9,
            subject: Subject::Shared,
            rate: Rate {
                limit: 2,
                window: Window::Minute,
                burst: 0,
            },
            penalized: false,
        }];
        let shared = SharedCharge {
            buckets: &buckets,
            limits: &policy,
        };
        let cfg = TrafficConfig {
            rates: vec![rate(3)],
            quota: Some((Period::Day, 100)),
            credits: None,
        };
        let mut t = KeyTraffic::default();
        let mut r = row(100, 0);
        let now = 10 * DAY;
        // A later check refuses: neither the key nor the policy spends.
        let v = run_shared(&mut t, &mut r, &cfg, shared, now, 1, true);
        assert_eq!(v.refused, Some(Refusal::LaterCheck));
        let first = run_shared(&mut t, &mut r, &cfg, shared, now, 1, false);
        assert!(first.refused.is_none());
        let tightest = first.ratelimit.unwrap();
        assert_eq!(
            (tightest.name.as_str(), tightest.remaining),
            ("policy-9", 1)
        );
        assert_eq!(first.quota.unwrap().remaining, 99);
        assert!(
            run_shared(&mut t, &mut r, &cfg, shared, now, 1, false)
                .refused
                .is_none()
        );
        // The policy is spent: refused, and the key's bucket and quota keep their units.
        let third = run_shared(&mut t, &mut r, &cfg, shared, now, 1, false);
        assert_eq!(
            third.refused,
            Some(Refusal::RateLimited {
                retry_after_ms: 30_000
            })
        );
        assert_eq!(
            third.escalation, None,
            "the key broke none of its own limits"
        );
        let own = t.rate_status(&cfg, now);
        assert_eq!(own[0].remaining, 1, "3 - 2 spent");
        assert_eq!(
            run(&mut t, &mut r, &cfg, now, 1, false)
                .quota
                .unwrap()
                .remaining,
            97
        );
    }
}
