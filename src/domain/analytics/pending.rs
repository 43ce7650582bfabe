//! Minute rows not stored yet: the usage writer adds every event it has stored, and stores
//! each minute once it has ended (plus a settling time for stragglers). Reports add these
//! rows to the stored ones, so they are current to the writer's last batch.
//!
//! Why in memory: summing a minute's events where they already are and writing each row once
//! costs a small fraction of reading raw events back, which under load cost the verify
//! endpoint its latency target (see the issue 4 and 5 notes). After a crash, the events past
//! the stored mark are summed again from the raw table at start ([`super::recover`]).

use super::rollup::{
    Counts, Fact, Granularity, IpKey, MinuteRows, RollupKey, RollupSums, Rows, is_failure,
};
use crate::db::rollups::{BucketTotals, RollupFilter};
use crate::db::{self, Db};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedRwLockReadGuard, RwLock, RwLockReadGuard};

#[derive(Debug)]
pub struct PendingRollups {
    rows: Mutex<Buffers>,
    /// Days minute rows are kept (the sweeper deletes older ones; hour and day rows stay).
    minute_days: u32,
    /// Held shared by a report while it reads stored and pending rows, and exclusively by a
    /// flush while it stores rows and forgets them: a report sees each row exactly once.
    gate: Arc<RwLock<()>>,
    /// The latest event time counted, plus one (0 before any): see [`Self::counted_before`].
    latest_end: AtomicI64,
}

#[derive(Debug, Default)]
struct Buffers {
    /// Minute rows still open or waiting to be stored.
    open: MinuteRows,
    /// Rows being stored right now (still counted by reports until stored).
    storing: MinuteRows,
}

impl Buffers {
    fn visible(&self) -> impl Iterator<Item = (&RollupKey, &RollupSums)> {
        self.open.usage.iter().chain(self.storing.usage.iter())
    }

    fn visible_ips(&self) -> impl Iterator<Item = (&IpKey, &Counts)> {
        self.open.ips.iter().chain(self.storing.ips.iter())
    }
}

/// Minute rows are kept this many days unless configured (KEYPORT_MINUTE_ROLLUP_DAYS).
pub const DEFAULT_MINUTE_DAYS: u32 = 7;

impl Default for PendingRollups {
    fn default() -> Self {
        Self::new(DEFAULT_MINUTE_DAYS)
    }
}

/// The start of the oldest minute still kept at `now_ms` when minute rows are kept `days`.
pub fn minutes_kept_since(now_ms: i64, days: u32) -> i64 {
    Granularity::Minute.bucket_start(now_ms - i64::from(days) * 86_400_000)
}

/// What a flush stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flushed {
    /// Minute rows stored (each also added to its hour and day rows).
    pub minute_rows: usize,
    pub requests: i64,
}

impl PendingRollups {
    /// Counts `facts` (events already stored in the raw table).
    pub fn add<'a>(&self, facts: impl IntoIterator<Item = Fact<'a>>) {
        // Keys are built outside the lock: route folding allocates.
        let mut rows = MinuteRows::default();
        let mut latest = i64::MIN;
        rows.add(facts.into_iter().inspect(|f| latest = latest.max(f.at_ms)));
        if let Ok(mut b) = self.rows.lock() {
            b.open.merge(rows);
        }
        self.latest_end.fetch_max(latest.saturating_add(1), Relaxed);
    }

    pub fn new(minute_days: u32) -> Self {
        Self {
            rows: Mutex::default(),
            minute_days,
            gate: Arc::default(),
            latest_end: AtomicI64::default(),
        }
    }

    /// The oldest instant minute rows still cover at `now_ms`: reports by the minute must
    /// start here or later.
    pub fn minutes_since(&self, now_ms: i64) -> i64 {
        minutes_kept_since(now_ms, self.minute_days)
    }

    /// A mark for a writer that stops: every event it counted is before it, and so is every
    /// event before `now_ms` (the writer stores all it was given). The stored mark is
    /// exclusive (recovery sums events at or after it), so an event stamped in the very
    /// millisecond the writer stops must be before the mark, not on it, or the next start
    /// would count it a second time.
    pub fn counted_before(&self, now_ms: i64) -> i64 {
        now_ms.saturating_add(1).max(self.latest_end.load(Relaxed))
    }

    /// Minute rows waiting (for the system dashboard and tests).
    pub fn len(&self) -> usize {
        self.rows.lock().map(|b| b.open.usage.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Stores every row of a minute that starts before `before_ms` (late events for old
    /// minutes included) and moves the stored mark up to `mark_ms`; with no such rows, does
    /// nothing. On failure the rows stay pending for the next try.
    pub async fn flush(
        &self,
        db: &Db,
        before_ms: i64,
        mark_ms: i64,
    ) -> Result<Flushed, sqlx::Error> {
        let ready = {
            let Ok(mut b) = self.rows.lock() else {
                return Ok(Flushed::default());
            };
            let ready = b.open.take_before(before_ms);
            if ready.is_empty() {
                // Nothing ended: no write (the writer asks every second). The mark stays where
                // the last stored minute put it, which is still true.
                return Ok(Flushed::default());
            }
            b.storing = ready.clone();
            ready
        };
        let flushed = Flushed {
            minute_rows: ready.usage.len(),
            requests: ready.usage.values().map(|s| s.requests).sum(),
        };
        // Plain CPU work on up to a minute of rows: off the runtime's threads.
        let rows = match tokio::task::spawn_blocking(move || ready.with_coarser()).await {
            Ok(rows) => rows,
            Err(_) => {
                self.restore();
                return Ok(Flushed::default());
            }
        };
        let _exclusive = self.gate.write().await;
        let stored = db::rollups::store(db, &rows, mark_ms).await;
        match stored {
            Ok(()) => {
                if let Ok(mut b) = self.rows.lock() {
                    b.storing = MinuteRows::default();
                }
            }
            Err(_) => self.restore(),
        }
        stored.map(|()| flushed)
    }

    /// Puts rows that were being stored back among the open ones.
    fn restore(&self) {
        if let Ok(mut b) = self.rows.lock() {
            let storing = std::mem::take(&mut b.storing);
            b.open.merge(storing);
        }
    }

    /// Holds flushes off while a report reads stored rows and then [`Self::totals`].
    pub async fn reading(&self) -> RwLockReadGuard<'_, ()> {
        self.gate.read().await
    }

    /// [`Self::reading`] for a task that outlives the borrow (a streamed export).
    pub async fn reading_owned(&self) -> OwnedRwLockReadGuard<()> {
        self.gate.clone().read_owned().await
    }

    /// Pending rows in `[from_ms, to_ms)` that `filter` admits, widened to `granularity`, in
    /// key order (the order of `db::rollups::export_rows`).
    pub fn rows(
        &self,
        granularity: Granularity,
        from_ms: i64,
        to_ms: i64,
        filter: &RollupFilter,
    ) -> Vec<(RollupKey, RollupSums)> {
        let Ok(b) = self.rows.lock() else {
            return Vec::new();
        };
        let mut out: Rows = BTreeMap::new();
        for (k, s) in b.visible() {
            let key = k.at(granularity);
            if (from_ms..to_ms).contains(&key.bucket_start) && filter.admits(&key) {
                out.entry(key).or_default().add(s);
            }
        }
        out.into_iter().collect()
    }

    /// Pending client-IP sums in `[from_ms, to_ms)` that `filter` admits (its endpoint
    /// aside: IP rows have none), widened to `granularity`.
    pub fn ip_rows(
        &self,
        granularity: Granularity,
        from_ms: i64,
        to_ms: i64,
        filter: &RollupFilter,
    ) -> Vec<(IpKey, Counts)> {
        let Ok(b) = self.rows.lock() else {
            return Vec::new();
        };
        let mut out: BTreeMap<IpKey, Counts> = BTreeMap::new();
        for (k, s) in b.visible_ips() {
            let key = k.at(granularity);
            if (from_ms..to_ms).contains(&key.bucket_start) && filter.admits_ip(&key) {
                out.entry(key).or_default().add(s);
            }
        }
        out.into_iter().collect()
    }

    /// Pending sums per bucket of `granularity` in `[from_ms, to_ms)`, as
    /// `db::rollups::totals` answers for stored rows.
    pub fn totals(
        &self,
        granularity: Granularity,
        from_ms: i64,
        to_ms: i64,
        filter: &RollupFilter,
    ) -> Vec<BucketTotals> {
        let Ok(b) = self.rows.lock() else {
            return Vec::new();
        };
        let mut buckets: BTreeMap<i64, BucketTotals> = BTreeMap::new();
        for (k, s) in b.visible() {
            let start = granularity.bucket_start(k.bucket_start);
            if !(from_ms..to_ms).contains(&start) || !filter.admits(k) {
                continue;
            }
            let t = buckets.entry(start).or_insert_with(|| BucketTotals {
                bucket_start: start,
                ..BucketTotals::default()
            });
            t.sums.add(s);
            if is_failure(&k.code, k.status_class) {
                t.errors += s.requests;
            }
            if k.code == "RATE_LIMIT_EXCEEDED" {
                t.rate_limited += s.requests;
            }
        }
        buckets.into_values().collect()
    }
}

/// Adds `more` bucket totals into `into` (both oldest first), keeping the order.
pub fn add_totals(into: Vec<BucketTotals>, more: Vec<BucketTotals>) -> Vec<BucketTotals> {
    let mut by_start: BTreeMap<i64, BucketTotals> =
        into.into_iter().map(|t| (t.bucket_start, t)).collect();
    for t in more {
        let e = by_start
            .entry(t.bucket_start)
            .or_insert_with(|| BucketTotals {
                bucket_start: t.bucket_start,
                ..BucketTotals::default()
            });
        e.sums.add(&t.sums);
        e.errors += t.errors;
        e.rate_limited += t.rate_limited;
    }
    by_start.into_values().collect()
}
