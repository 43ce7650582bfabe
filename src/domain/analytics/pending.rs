//! Minute rows not stored yet: the usage writer adds every event it has stored, and stores
//! each minute once it has ended (plus a settling time for stragglers). Reports add these
//! rows to the stored ones, so they are current to the writer's last batch.
//!
//! The hour and day rows, client-IP rows and key totals a stored minute adds to wait here too,
//! summed by hour, and are stored every few minutes ([`COARSE_EVERY_MS`]) and as soon as an
//! hour has ended: with every key active every minute they are four of the five rows a key
//! adds per minute, and storing them once a minute cost about a second of a core per minute at
//! 10,000 active keys (bench/make_keys.py's keys under fixed-rate verify load), time the verify endpoint's latency
//! paid for on a two-core machine. Reports by the minute add the rows not stored as minutes;
//! reports by the hour or day add those and the ones not stored as hours and days.
//!
//! Why in memory: summing a minute's events where they already are and writing each row once
//! costs a small fraction of reading raw events back, which under load cost the verify
//! endpoint its latency target (see the issue 4 and 5 notes). After a crash, the events past
//! the stored mark are summed again from the raw table at start ([`super::recover`]).

use super::rollup::{
    CoarseRows, Counts, Fact, Granularity, IpKey, MinuteRows, RollupKey, RollupSums, Rows,
    is_failure,
};
use crate::db::rollups::MarkUp;
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
    /// When the hour and day rows are stored.
    schedule: CoarseSchedule,
    /// Held shared by a report while it reads stored and pending rows, and exclusively by a
    /// flush while it stores rows and forgets them: a report sees each row exactly once.
    gate: Arc<RwLock<()>>,
    /// The latest event time counted, plus one (0 before any): see [`Self::counted_before`].
    latest_end: AtomicI64,
    /// The mark of the last store of hour and day rows by this process (0 before any).
    coarse_mark: AtomicI64,
}

/// Hour and day rows are stored at least this often (and when an hour ends).
pub const COARSE_EVERY_MS: i64 = 10 * 60_000;

/// When a flush also stores the hour and day rows waiting (a final flush always does).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CoarseSchedule {
    /// Once the mark is this far past the last such store...
    pub every_ms: i64,
    /// ...or in another hour than it.
    pub at_hour_end: bool,
}

impl Default for CoarseSchedule {
    fn default() -> Self {
        Self {
            every_ms: COARSE_EVERY_MS,
            at_hour_end: true,
        }
    }
}

impl CoarseSchedule {
    fn due(self, last_ms: i64, mark_ms: i64) -> bool {
        mark_ms.saturating_sub(last_ms) >= self.every_ms
            || (self.at_hour_end
                && Granularity::Hour.bucket_start(mark_ms)
                    != Granularity::Hour.bucket_start(last_ms))
    }
}

#[derive(Debug, Default)]
struct Buffers {
    /// Minute rows still open or waiting to be stored.
    open: MinuteRows,
    /// Rows being stored right now (still counted by reports until stored).
    storing: MinuteRows,
    /// Stored as minutes, not yet as hours and days (by hour).
    coarse: CoarseRows,
    /// Hour rows being stored as hours and days right now.
    storing_coarse: CoarseRows,
}

impl Buffers {
    /// Rows reports of `granularity` add to the stored ones, each widened to it.
    fn visible(&self, granularity: Granularity) -> impl Iterator<Item = (RollupKey, &RollupSums)> {
        let unstored_hours = (granularity != Granularity::Minute).then(|| {
            self.coarse
                .usage
                .iter()
                .chain(self.storing_coarse.usage.iter())
        });
        self.open
            .usage
            .iter()
            .chain(self.storing.usage.iter())
            .chain(unstored_hours.into_iter().flatten())
            .map(move |(k, s)| (k.at(granularity), s))
    }

    /// Client-IP rows not stored yet (they are stored by the hour and day only).
    fn visible_ips(&self) -> impl Iterator<Item = (&IpKey, &Counts)> {
        self.open
            .ips
            .iter()
            .chain(self.storing.ips.iter())
            .chain(self.coarse.ips.iter())
            .chain(self.storing_coarse.ips.iter())
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
    /// Minute rows stored.
    pub minute_rows: usize,
    pub requests: i64,
    /// Hour rows stored (each also added to its day rows, IP rows and totals).
    pub hour_rows: usize,
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
        Self::with_schedule(minute_days, CoarseSchedule::default())
    }

    /// Hour and day rows stored on `schedule` (tests vary it).
    pub fn with_schedule(minute_days: u32, schedule: CoarseSchedule) -> Self {
        Self {
            rows: Mutex::default(),
            minute_days,
            schedule,
            gate: Arc::default(),
            latest_end: AtomicI64::default(),
            coarse_mark: AtomicI64::default(),
        }
    }

    /// Counts `facts` of events that the stored minute rows already hold, for their hour and
    /// day rows only (recovery: events between the two marks).
    pub fn add_coarse_only<'a>(&self, facts: impl IntoIterator<Item = Fact<'a>>) {
        let mut rows = MinuteRows::default();
        rows.add(facts);
        if let Ok(mut b) = self.rows.lock() {
            b.coarse.absorb(&rows);
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

    /// True when every counted event is stored at every granularity.
    pub fn is_empty(&self) -> bool {
        self.rows
            .lock()
            .map(|b| b.open.is_empty() && b.coarse.is_empty())
            .unwrap_or(true)
    }

    /// Stores every row of a minute that starts before `before_ms` (late events for old
    /// minutes included) and moves the minute mark up to `mark_ms`; then, when due (see
    /// [`COARSE_EVERY_MS`]) or when `before_ms` is `i64::MAX` (a final flush), adds every
    /// stored minute to its hour and day rows and moves both marks up to `mark_ms`. The caller
    /// has added every event before `mark_ms`. With nothing to store, does nothing. On failure
    /// the rows stay pending for the next try.
    pub async fn flush(
        &self,
        db: &Db,
        before_ms: i64,
        mark_ms: i64,
    ) -> Result<Flushed, sqlx::Error> {
        let mut flushed = self.flush_minutes(db, before_ms, mark_ms).await?;
        let last = self.coarse_mark.load(Relaxed);
        if before_ms == i64::MAX || self.schedule.due(last, mark_ms) {
            flushed.hour_rows = self.flush_hours(db, mark_ms).await?;
        }
        Ok(flushed)
    }

    async fn flush_minutes(
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
            hour_rows: 0,
        };
        // Plain CPU work on up to a minute of rows: off the runtime's threads.
        // A panic summing (a bug) is an error, so that no mark moves past these rows.
        let Ok(rows) = tokio::task::spawn_blocking(move || ready.minute_store_rows()).await else {
            self.restore();
            return Err(sqlx::Error::WorkerCrashed);
        };
        let _exclusive = self.gate.write().await;
        let stored = db::rollups::store(db, &rows, MarkUp::Minute(mark_ms)).await;
        match stored {
            Ok(()) => {
                if let Ok(mut b) = self.rows.lock() {
                    let done = std::mem::take(&mut b.storing);
                    b.coarse.absorb(&done);
                }
            }
            Err(_) => self.restore(),
        }
        stored.map(|()| flushed)
    }

    /// Stores the hour rows waiting as hours and days; returns how many.
    async fn flush_hours(&self, db: &Db, mark_ms: i64) -> Result<usize, sqlx::Error> {
        let ready = {
            let Ok(mut b) = self.rows.lock() else {
                return Ok(0);
            };
            if b.coarse.is_empty() {
                self.coarse_mark.fetch_max(mark_ms, Relaxed);
                return Ok(0);
            }
            let ready = std::mem::take(&mut b.coarse);
            b.storing_coarse = ready.clone();
            ready
        };
        let hour_rows = ready.usage.len();
        let Ok(rows) = tokio::task::spawn_blocking(move || ready.store_rows()).await else {
            self.restore();
            return Err(sqlx::Error::WorkerCrashed);
        };
        let _exclusive = self.gate.write().await;
        // Both marks may move to `mark_ms`: every event before it was added (the caller's
        // word) and its minute stored by the flush that ran just before, so it is in `ready`
        // or in hour rows stored earlier.
        let stored = db::rollups::store(db, &rows, MarkUp::All(mark_ms)).await;
        match stored {
            Ok(()) => {
                if let Ok(mut b) = self.rows.lock() {
                    b.storing_coarse = CoarseRows::default();
                }
                self.coarse_mark.fetch_max(mark_ms, Relaxed);
            }
            Err(_) => self.restore(),
        }
        stored.map(|()| hour_rows)
    }

    /// Puts rows that were being stored back among the waiting ones.
    fn restore(&self) {
        if let Ok(mut b) = self.rows.lock() {
            let storing = std::mem::take(&mut b.storing);
            b.open.merge(storing);
            let storing = std::mem::take(&mut b.storing_coarse);
            b.coarse.merge(storing);
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
        for (key, s) in b.visible(granularity) {
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
        for (k, s) in b.visible(granularity) {
            let start = k.bucket_start;
            if !(from_ms..to_ms).contains(&start) || !filter.admits(&k) {
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
