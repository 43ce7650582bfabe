//! This instance's traffic state for every key in use, and the leases that feed it.
//!
//! Each key's state sits behind its own async mutex: requests for one key are decided one at
//! a time (which is what makes a limit of L admit exactly L), while different keys never
//! wait for each other. The state is kept by key id, apart from the verification cache, so
//! an edit that refreshes the cache does not reset a key's buckets.

use super::allowance::{CreditRow, Held, QuotaRow, grant_credits, grant_quota};
use super::engine::{KeyTraffic, Step, TrafficConfig, Verdict};
use super::period::{Period, PeriodName};
use super::shared::SharedCharge;
use crate::db::{self, Db};
use crate::domain::db_failure;
use crate::error::{AppError, AppResult};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use tokio::sync::{Mutex, OwnedMutexGuard};

/// How often a compare-and-set lease is retried when another writer got there first.
const LEASE_ATTEMPTS: usize = 16;

/// What one request asks of a key's traffic state.
#[derive(Clone, Copy, Debug)]
pub struct Charge<'a> {
    /// The key's own limits, quota and credits.
    pub cfg: &'a TrafficConfig,
    /// The policy limits the request is also counted in.
    pub shared: SharedCharge<'a>,
    /// Credits the request costs.
    pub cost: i64,
    /// A read-only check after traffic control (scopes, IP) refuses the request.
    pub later_check_fails: bool,
}

impl<'a> Charge<'a> {
    /// One request of cost 1 against the key's own limits only.
    pub fn own(cfg: &'a TrafficConfig) -> Self {
        Charge {
            cfg,
            shared: SharedCharge::none(),
            cost: 1,
            later_check_fails: false,
        }
    }
}

#[derive(Debug, Default)]
pub struct TrafficTable {
    keys: RwLock<HashMap<i64, Arc<Mutex<KeyTraffic>>>>,
}

impl TrafficTable {
    fn entry(&self, key_id: i64) -> Arc<Mutex<KeyTraffic>> {
        if let Ok(map) = self.keys.read()
            && let Some(e) = map.get(&key_id)
        {
            return e.clone();
        }
        let mut map = self.keys.write().unwrap_or_else(|p| p.into_inner());
        map.entry(key_id).or_default().clone()
    }

    /// Holds one key's state; verification of that key waits meanwhile.
    pub async fn lock(&self, key_id: i64) -> OwnedMutexGuard<KeyTraffic> {
        self.entry(key_id).lock_owned().await
    }

    /// Decides one request for `key_id`, leasing quota or credits from the database when
    /// memory runs short. Nothing is spent unless every check passes.
    pub async fn decide(
        &self,
        db: &Db,
        key_id: i64,
        charge: &Charge<'_>,
        now_ms: i64,
    ) -> AppResult<Verdict> {
        let mut state = self.lock(key_id).await;
        let mut verdict = Verdict::default();
        let Charge {
            cfg,
            shared,
            cost,
            later_check_fails,
        } = *charge;
        // Each step leases at most once per kind; three rounds always settle.
        for _ in 0..3 {
            match state.decide(cfg, shared, now_ms, cost, later_check_fails, &mut verdict) {
                Step::Done => return Ok(verdict),
                Step::LeaseQuota { period_start, want } => {
                    let (granted, used) = lease_quota(db, key_id, period_start, want).await?;
                    state.add_quota_lease(period_start, granted, used);
                }
                Step::LeaseCredits { want } => {
                    let (granted, start, remaining) =
                        lease_credits(db, key_id, now_ms, want).await?;
                    state.add_credit_lease(start, granted, remaining);
                }
            }
        }
        Err(AppError::internal())
    }

    /// Hands a key's unspent units back to the database and forgets its stored counters; the
    /// caller holds `state` until its own write is done, so no lease slips in between.
    pub async fn settle(db: &Db, key_id: i64, state: &mut KeyTraffic) -> AppResult<()> {
        let (quota, credits) = state.release_allowances();
        if quota.units > 0 {
            db::key_allowance::return_quota(db, key_id, quota.period_start, quota.units)
                .await
                .map_err(db_failure)?;
        }
        if credits.units > 0 {
            db::key_allowance::return_credits(db, key_id, credits.period_start, credits.units)
                .await
                .map_err(db_failure)?;
        }
        Ok(())
    }

    /// At shutdown: every key's unspent units go back to the database.
    pub async fn settle_all(&self, db: &Db) -> usize {
        let entries: Vec<(i64, Arc<Mutex<KeyTraffic>>)> = match self.keys.read() {
            Ok(map) => map.iter().map(|(k, v)| (*k, v.clone())).collect(),
            Err(_) => return 0,
        };
        let mut failed = 0;
        for (key_id, entry) in entries {
            let mut state = entry.lock().await;
            if let Err(e) = Self::settle(db, key_id, &mut state).await {
                failed += 1;
                tracing::warn!(key_id, error = %e, "handing back leased units failed");
            }
        }
        failed
    }

    /// Drops the state of keys with nothing worth keeping; returns how many were dropped.
    pub fn evict_idle(&self, now_ms: i64) -> usize {
        let Ok(mut map) = self.keys.write() else {
            return 0;
        };
        let before = map.len();
        map.retain(|_, entry| match entry.try_lock() {
            Ok(state) => !state.is_idle(now_ms),
            Err(_) => true,
        });
        before - map.len()
    }

    pub fn len(&self) -> usize {
        self.keys.read().map_or(0, |m| m.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The quota units and credits this instance holds for a key, if it can tell without
    /// waiting (a key mid-decision answers None, and callers show the stored counters).
    pub fn held(&self, key_id: i64) -> Option<(Held, Held)> {
        let entry = self.keys.read().ok()?.get(&key_id)?.clone();
        let state = entry.try_lock().ok()?;
        Some((state.quota_held, state.credits_held))
    }

    /// Each of `cfg`'s limits at `now_ms` without spending anything; a key this instance has
    /// not seen is at rest. None when the key is mid-decision (callers show nothing then).
    pub fn rate_status(
        &self,
        key_id: i64,
        cfg: &TrafficConfig,
        now_ms: i64,
    ) -> Option<Vec<super::engine::RateReport>> {
        let entry = self.keys.read().ok()?.get(&key_id).cloned();
        match entry {
            None => Some(KeyTraffic::default().rate_status(cfg, now_ms)),
            Some(e) => Some(e.try_lock().ok()?.rate_status(cfg, now_ms)),
        }
    }

    /// A copy of a key's state, if this instance holds any (for status pages).
    pub async fn snapshot(&self, key_id: i64) -> Option<KeyTraffic> {
        let entry = self.keys.read().ok()?.get(&key_id)?.clone();
        let state = entry.lock().await;
        Some(state.clone())
    }
}

/// Leases up to `want` quota units for the period starting `period_start`. Returns the units
/// granted and the stored usage after the lease.
async fn lease_quota(db: &Db, key_id: i64, period_start: i64, want: i64) -> AppResult<(i64, i64)> {
    for _ in 0..LEASE_ATTEMPTS {
        let Some(seen) = db::key_allowance::quota_counters(db, key_id)
            .await
            .map_err(db_failure)?
        else {
            return Ok((0, 0));
        };
        let Some(limit) = seen.quota_limit else {
            return Ok((0, 0));
        };
        let row = QuotaRow {
            limit,
            used: seen.quota_used,
            period_start: seen.quota_period_start,
        };
        let (granted, next) = grant_quota(row, period_start, want);
        if next == row {
            return Ok((granted, next.used));
        }
        if db::key_allowance::swap_quota(db, key_id, seen, next.used, period_start)
            .await
            .map_err(db_failure)?
        {
            return Ok((granted, next.used));
        }
    }
    tracing::warn!(key_id, "quota lease kept losing to other writers");
    Err(AppError::internal())
}

/// Leases up to `want` credits at `now_ms`, refilling first if a refill is due. Returns the
/// credits granted, the refill period they belong to (0 without refills) and the stored
/// balance after the lease.
async fn lease_credits(db: &Db, key_id: i64, now_ms: i64, want: i64) -> AppResult<(i64, i64, i64)> {
    for _ in 0..LEASE_ATTEMPTS {
        let Some(seen) = db::key_allowance::credit_counters(db, key_id)
            .await
            .map_err(db_failure)?
        else {
            return Ok((0, 0, 0));
        };
        let Some(remaining) = seen.remaining else {
            return Ok((0, 0, 0));
        };
        let refill = seen
            .refill_interval
            .as_deref()
            .and_then(PeriodName::parse)
            .and_then(|name| Period::from_name(name, None, None))
            .zip(seen.refill_amount);
        let row = CreditRow {
            remaining,
            refill,
            refilled_start: seen.refilled_period_start,
        };
        let (granted, next) = grant_credits(row, now_ms, want);
        let start = next.period_start(now_ms);
        if next == row {
            return Ok((granted, start, next.remaining));
        }
        if db::key_allowance::swap_credits(db, key_id, &seen, next.remaining, next.refilled_start)
            .await
            .map_err(db_failure)?
        {
            return Ok((granted, start, next.remaining));
        }
    }
    tracing::warn!(key_id, "credit lease kept losing to other writers");
    Err(AppError::internal())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::limit_types::Window;
    use crate::domain::traffic::gcra::Rate;

    #[tokio::test]
    async fn idle_keys_are_forgotten_busy_ones_kept() {
        let db = Db::connect("sqlite::memory:").await.unwrap();
        let table = TrafficTable::default();
        let cfg = TrafficConfig {
            rates: vec![(
                "default".into(),
                Rate {
                    limit: 2,
                    window: Window::Minute,
                    burst: 0,
                },
            )],
            ..TrafficConfig::default()
        };
        let t0 = 1_000_000;
        for _ in 0..2 {
            let v = table.decide(&db, 7, &Charge::own(&cfg), t0).await.unwrap();
            assert!(v.refused.is_none());
        }
        assert!(
            table
                .decide(&db, 7, &Charge::own(&cfg), t0)
                .await
                .unwrap()
                .refused
                .is_some()
        );
        assert_eq!(
            table.evict_idle(t0 + 59_999),
            0,
            "the bucket is not full yet"
        );
        assert_eq!(table.len(), 1);
        assert_eq!(table.evict_idle(t0 + 60_000), 1);
        assert!(table.is_empty());
        let again = table
            .decide(&db, 7, &Charge::own(&cfg), t0 + 60_000)
            .await
            .unwrap();
        assert_eq!(
            again.ratelimit.unwrap().remaining,
            1,
            "a forgotten key starts full"
        );
    }
}
