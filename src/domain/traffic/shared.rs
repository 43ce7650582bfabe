//! Limits shared beyond one key: the buckets of rate-limit policies, one per policy and
//! subject (everyone, an API, a user, an org, a client IP, a key).
//!
//! A request is decided against its key's own limits and every policy it matches at once:
//! the key's state is locked (see `table`), the shared buckets are peeked, and only when every
//! check passes are they spent, in one step under this table's lock. If another key's request
//! took the last token in between, the spend refuses and the request is rate limited, so a
//! shared limit of L never admits more than L (+ burst).
//!
//! Per-subject buckets carry their own penalties (progressive limiting of a client IP, a user,
//! a key); shared ones do not, since everyone would pay for one client's excess.

use super::engine::RateReport;
use super::gcra::{Bucket, Decision, Rate};
use super::penalty::{Escalation, Penalty};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// Whose bucket a request is counted in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Subject {
    /// Everyone the policy matches shares one bucket.
    Shared,
    /// A user, org, key or API id.
    Id(i64),
    /// A client IP (IPv6 clients by /64, the block one client usually holds).
    Ip(IpAddr),
}

impl Subject {
    pub fn ip(ip: IpAddr) -> Subject {
        // An IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d; it is that IPv4 address.
        let ip = ip.to_canonical();
        match ip {
            IpAddr::V4(_) => Subject::Ip(ip),
            IpAddr::V6(v6) => {
                let bits = u128::from(v6) & !((1u128 << 64) - 1);
                Subject::Ip(IpAddr::V6(bits.into()))
            }
        }
    }

    /// For security events: what the subject is, by kind.
    pub fn describe(&self) -> String {
        match self {
            Subject::Shared => "*".into(),
            Subject::Id(id) => id.to_string(),
            Subject::Ip(IpAddr::V6(v6)) => format!("{v6}/64"),
            Subject::Ip(ip) => ip.to_string(),
        }
    }
}

/// One policy bucket a request is counted in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SharedLimit {
    pub policy_id: i64,
    pub subject: Subject,
    pub rate: Rate,
    /// The subject earns penalties of its own (see the module comment).
    pub penalized: bool,
}

impl SharedLimit {
    /// The name verification answers and gateway headers use for it.
    pub fn report_name(&self) -> String {
        format!("policy-{}", self.policy_id)
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct SharedState {
    bucket: Bucket,
    penalty: Penalty,
    busy_until_ms: i64,
}

impl SharedState {
    fn decide(&self, limit: &SharedLimit, now_ms: i64) -> Decision {
        let tokens = self.penalty.tokens_per_request(now_ms);
        let mut d = self.bucket.peek_tokens(&limit.rate, now_ms, tokens);
        if let Some(until) = self.penalty.blocked_until(now_ms) {
            d.allowed = false;
            d.remaining = 0;
            d.retry_after_ms = d.retry_after_ms.max(until - now_ms);
        }
        d
    }

    fn is_idle(&self, now_ms: i64) -> bool {
        self.busy_until_ms <= now_ms && self.penalty.is_clear(now_ms)
    }
}

/// What the shared limits say of one request, without spending anything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SharedPeek {
    /// Per limit, in the order given.
    pub reports: Vec<(bool, RateReport)>,
    /// Milliseconds until the slowest refusing limit lets a request through.
    pub retry_after_ms: Option<i64>,
}

/// A penalty raised on a policy's subject, to be recorded as a security event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubjectEscalation {
    pub limit: SharedLimit,
    pub escalation: Escalation,
}

/// The policy limits one request is counted in, with the table their buckets live in.
#[derive(Clone, Copy, Debug)]
pub struct SharedCharge<'a> {
    pub buckets: &'a SharedBuckets,
    pub limits: &'a [SharedLimit],
}

impl SharedCharge<'_> {
    /// No policy applies.
    pub fn none() -> SharedCharge<'static> {
        static EMPTY: std::sync::LazyLock<SharedBuckets> =
            std::sync::LazyLock::new(SharedBuckets::default);
        SharedCharge {
            buckets: &EMPTY,
            limits: &[],
        }
    }

    pub fn is_empty(&self) -> bool {
        self.limits.is_empty()
    }

    pub fn peek(&self, now_ms: i64) -> SharedPeek {
        self.buckets.peek(self.limits, now_ms)
    }

    pub fn try_spend(&self, now_ms: i64) -> Result<(), i64> {
        self.buckets.try_spend(self.limits, now_ms)
    }

    pub fn strike(&self, refused: &[bool], now_ms: i64) -> Vec<SubjectEscalation> {
        if self.limits.is_empty() {
            return Vec::new();
        }
        self.buckets.strike(self.limits, refused, now_ms)
    }
}

#[derive(Debug, Default)]
pub struct SharedBuckets {
    states: Mutex<HashMap<(i64, Subject), SharedState>>,
}

fn report(limit: &SharedLimit, d: &Decision) -> RateReport {
    RateReport {
        name: limit.report_name(),
        limit: limit.rate.limit,
        window_seconds: limit.rate.window.seconds(),
        remaining: if d.allowed { d.remaining } else { 0 },
        reset_ms: d.reset_ms,
    }
}

impl SharedBuckets {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(i64, Subject), SharedState>> {
        self.states.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn peek(&self, limits: &[SharedLimit], now_ms: i64) -> SharedPeek {
        if limits.is_empty() {
            return SharedPeek::default();
        }
        let states = self.lock();
        let mut out = SharedPeek::default();
        for limit in limits {
            let state = states
                .get(&(limit.policy_id, limit.subject))
                .copied()
                .unwrap_or_default();
            let d = state.decide(limit, now_ms);
            if !d.allowed {
                out.retry_after_ms = Some(out.retry_after_ms.unwrap_or(0).max(d.retry_after_ms));
            }
            out.reports.push((d.allowed, report(limit, &d)));
        }
        out
    }

    /// Spends one request in every limit, or in none: `Err(retry_after_ms)` when one of them
    /// refuses now (another request got there first).
    pub fn try_spend(&self, limits: &[SharedLimit], now_ms: i64) -> Result<(), i64> {
        if limits.is_empty() {
            return Ok(());
        }
        let mut states = self.lock();
        let mut decisions = Vec::with_capacity(limits.len());
        for limit in limits {
            let state = states
                .get(&(limit.policy_id, limit.subject))
                .copied()
                .unwrap_or_default();
            let d = state.decide(limit, now_ms);
            if !d.allowed {
                return Err(d.retry_after_ms.max(1));
            }
            decisions.push(d);
        }
        for (limit, d) in limits.iter().zip(&decisions) {
            let state = states.entry((limit.policy_id, limit.subject)).or_default();
            state.bucket.commit(d);
            state.busy_until_ms = state
                .busy_until_ms
                .max(state.bucket.at_rest_from_ms(&limit.rate));
        }
        Ok(())
    }

    /// Counts a refusal against each penalized subject whose limit refused (`refused[i]` for
    /// `limits[i]`); returns the penalties this raised.
    pub fn strike(
        &self,
        limits: &[SharedLimit],
        refused: &[bool],
        now_ms: i64,
    ) -> Vec<SubjectEscalation> {
        let mut states = self.lock();
        let mut raised = Vec::new();
        for (limit, _) in limits
            .iter()
            .zip(refused)
            .filter(|(l, refused)| **refused && l.penalized)
        {
            let state = states.entry((limit.policy_id, limit.subject)).or_default();
            if let Some(escalation) = state.penalty.strike(now_ms) {
                raised.push(SubjectEscalation {
                    limit: limit.clone(),
                    escalation,
                });
            }
        }
        raised
    }

    /// Forgets subjects with full buckets and no penalty; returns how many.
    pub fn evict_idle(&self, now_ms: i64) -> usize {
        let mut states = self.lock();
        let before = states.len();
        states.retain(|_, s| !s.is_idle(now_ms));
        before - states.len()
    }

    /// Forgets every bucket of a policy (deleted, or its subjects changed meaning).
    pub fn forget_policy(&self, policy_id: i64) {
        self.lock().retain(|(id, _), _| *id != policy_id);
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::limit_types::Window;
    use crate::domain::traffic::penalty::STRIKES_TO_ESCALATE;

    fn limit(policy_id: i64, subject: Subject, n: u32, penalized: bool) -> SharedLimit {
        SharedLimit {
            policy_id,
            subject,
            rate: Rate {
                limit: n,
                window: Window::Minute,
                burst: 0,
            },
            penalized,
        }
    }

    #[test]
    fn all_or_nothing_spend() {
        let b = SharedBuckets::default();
        let t = 1_000_000;
        let wide = limit(1, Subject::Shared, 10, false);
        let narrow = limit(2, Subject::Id(7), 2, true);
        let both = [wide.clone(), narrow.clone()];
        assert!(b.try_spend(&both, t).is_ok());
        assert!(b.try_spend(&both, t).is_ok());
        let retry = b.try_spend(&both, t).unwrap_err();
        assert_eq!(retry, 30_000, "one token back after window / limit");
        // the refused spend took nothing from the wide limit: 8 are left there
        let peek = b.peek(std::slice::from_ref(&wide), t);
        assert_eq!(
            peek.reports[0].1.remaining, 7,
            "after this request: 10 - 2 - 1"
        );
        assert!(peek.retry_after_ms.is_none());
        // another subject of the same policy has its own bucket
        assert!(b.try_spend(&[limit(2, Subject::Id(8), 2, true)], t).is_ok());
    }

    #[test]
    fn peek_reports_each_limit_and_the_longest_wait() {
        let b = SharedBuckets::default();
        let t = 0;
        let one = limit(1, Subject::Shared, 1, false);
        b.try_spend(std::slice::from_ref(&one), t).unwrap();
        let peek = b.peek(&[one, limit(2, Subject::Shared, 5, false)], t);
        assert_eq!(
            peek.reports
                .iter()
                .map(|(ok, r)| (*ok, r.name.as_str(), r.remaining))
                .collect::<Vec<_>>(),
            vec![(false, "policy-1", 0), (true, "policy-2", 4)]
        );
        assert_eq!(peek.retry_after_ms, Some(60_000));
    }

    #[test]
    fn penalized_subjects_escalate_shared_ones_never() {
        let b = SharedBuckets::default();
        let t = 5_000;
        let ip = limit(3, Subject::ip("198.51.100.7".parse().unwrap()), 1, true);
        let everyone = limit(4, Subject::Shared, 1, false);
        let both = [ip.clone(), everyone];
        let mut raised = Vec::new();
        for _ in 0..STRIKES_TO_ESCALATE {
            raised.extend(b.strike(&both, &[true, true], t));
        }
        assert_eq!(raised.len(), 1);
        assert_eq!(raised[0].limit, ip);
        assert_eq!(raised[0].escalation.level, 1);
        // level 1: each request costs two tokens, so one a minute becomes one per two
        let only = std::slice::from_ref(&ip);
        assert!(b.try_spend(only, t + 60_000).is_ok());
        assert!(b.try_spend(only, t + 120_000).is_err(), "half rate");
        assert!(b.try_spend(only, t + 180_000).is_ok());
    }

    #[test]
    fn ipv6_clients_share_their_64() {
        let a = Subject::ip("2001:db8:1:2::1".parse().unwrap());
        let b = Subject::ip("2001:db8:1:2:ffff::9".parse().unwrap());
        let c = Subject::ip("2001:db8:1:3::1".parse().unwrap());
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.describe(), "2001:db8:1:2::/64");
        let mapped = Subject::ip("::ffff:198.51.100.7".parse().unwrap());
        assert_eq!(
            mapped,
            Subject::Ip("198.51.100.7".parse().unwrap()),
            "not one bucket for all IPv4"
        );
    }

    #[test]
    fn idle_subjects_are_forgotten() {
        let b = SharedBuckets::default();
        let l = limit(1, Subject::Id(1), 2, true);
        let t = 1_000_000;
        b.try_spend(std::slice::from_ref(&l), t).unwrap();
        assert_eq!(b.evict_idle(t + 29_999), 0);
        assert_eq!(b.evict_idle(t + 30_000), 1);
        assert!(b.is_empty());
        b.try_spend(std::slice::from_ref(&l), 0).unwrap();
        b.forget_policy(1);
        assert!(b.is_empty());
    }
}
