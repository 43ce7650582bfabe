//! The usage queue: a bounded channel that request handlers push into without waiting, and
//! one writer task that stores what it holds in batches.
//!
//! Full-queue policy: the NEW event is dropped and counted. Recording must never slow down
//! or fail the API call that caused it, and memory must stay bounded; dropping the newest
//! (rather than evicting queued ones) is what a bounded channel's `try_send` gives for free.
//! The writer logs how many were dropped, at most once per batch.

use super::{UsageEvent, sanitize};
use crate::db::{self, Db};
use crate::domain::analytics::pending::PendingRollups;
use crate::domain::analytics::rollup::Granularity;
use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering::Relaxed},
};
use std::time::Duration;
use tokio::sync::{Mutex, mpsc, oneshot, watch};
use tokio::time::Instant;

/// How the queue and its writer behave.
#[derive(Clone, Debug)]
pub struct UsageSettings {
    /// Events that may wait in memory; beyond this, new ones are dropped.
    pub queue_capacity: usize,
    /// The longest an event waits before its batch is written: the most a crash can lose.
    pub flush_interval: Duration,
    /// Events per write.
    pub max_batch: usize,
    /// Write attempts after the first failure, before a batch is given up.
    pub retries: u32,
    /// The wait before the first retry; doubled for each further one.
    pub retry_backoff: Duration,
    /// A minute's rollups are stored this long after it ended, so that events recorded a
    /// little late (a slow upstream, a batch in flight) mostly land in the same write. Later
    /// ones still count: they are added with the next minute.
    pub rollup_settle: Duration,
    /// Days minute rollups are kept (hour and day rollups are kept for good).
    pub minute_rollup_days: u32,
}

impl Default for UsageSettings {
    fn default() -> Self {
        Self {
            queue_capacity: 100_000,
            flush_interval: Duration::from_millis(500),
            // Each transaction rewrites most leaf pages of the (key_id, created_at) index, so
            // fewer, larger transactions are what makes SQLite fast: 5,000 events per write
            // measured ~55,000 events/s, 50,000 ~150,000. The interval still bounds the wait.
            max_batch: 50_000,
            // 100 + 200 + 400 + 800 ms: rides out a short database hiccup while the queue
            // (100,000 events, seconds of peak traffic) absorbs what arrives meanwhile.
            retries: 4,
            retry_backoff: Duration::from_millis(100),
            rollup_settle: Duration::from_secs(5),
            minute_rollup_days: crate::domain::analytics::pending::DEFAULT_MINUTE_DAYS,
        }
    }
}

impl UsageSettings {
    pub fn from_config(config: &crate::config::Config) -> Self {
        Self {
            queue_capacity: config.usage_queue_capacity,
            flush_interval: Duration::from_millis(config.usage_flush_ms),
            minute_rollup_days: config.minute_rollup_days,
            ..Self::default()
        }
    }
}

/// Counters since start. Once the writer has shut down,
/// `recorded == written + (events given up after failed writes)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UsageStats {
    /// Accepted into the queue.
    pub recorded: u64,
    /// Stored in the database.
    pub written: u64,
    /// Lost: refused because the queue was full or shut down, or given up after failed writes.
    pub dropped: u64,
    /// Failed write attempts (each retry counts).
    pub write_failures: u64,
    /// Waiting in the queue right now.
    pub queued: u64,
    /// Rollup stores (each ended minute's rows), and those that failed (retried later).
    pub rollup_stores: u64,
    pub rollup_store_failures: u64,
}

#[derive(Debug, Default)]
struct Counters {
    recorded: AtomicU64,
    written: AtomicU64,
    dropped: AtomicU64,
    write_failures: AtomicU64,
    rollup_stores: AtomicU64,
    rollup_store_failures: AtomicU64,
}

/// The handle request handlers hold (cloned into every request's state: one Arc).
#[derive(Clone, Debug)]
pub struct UsageRecorder {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    tx: mpsc::Sender<UsageEvent>,
    // The writer task holds its own Arc of these, not of `Inner`: `tx` lives here, and the
    // channel must close when the last recorder goes.
    counters: Arc<Counters>,
    pending: Arc<PendingRollups>,
    /// Taken by the first `shutdown`; its lock makes later callers wait for that one.
    stop: Mutex<Option<(oneshot::Sender<()>, oneshot::Receiver<()>)>>,
    /// Asks the writer to store what is queued now; it answers on the sender.
    sync: mpsc::UnboundedSender<oneshot::Sender<()>>,
    changes: Arc<watch::Sender<u64>>,
}

/// The writer's half, until [`UsageWriter::start`] spawns it.
#[derive(Debug)]
pub struct UsageWriter {
    rx: mpsc::Receiver<UsageEvent>,
    stop: oneshot::Receiver<()>,
    sync: mpsc::UnboundedReceiver<oneshot::Sender<()>>,
    done: oneshot::Sender<()>,
    counters: Arc<Counters>,
    pending: Arc<PendingRollups>,
    changes: Arc<watch::Sender<u64>>,
    settings: UsageSettings,
}

impl UsageRecorder {
    /// A recorder whose writer is already running against `db`.
    pub fn start(db: Db, settings: UsageSettings) -> Self {
        let (recorder, writer) = Self::new(settings);
        writer.start(db);
        recorder
    }

    /// A recorder and its writer, not started: events queue up (to capacity) until it is.
    pub fn new(settings: UsageSettings) -> (Self, UsageWriter) {
        let (tx, rx) = mpsc::channel(settings.queue_capacity.max(1));
        let (sync_tx, sync_rx) = mpsc::unbounded_channel();
        let (stop_tx, stop_rx) = oneshot::channel();
        let (done_tx, done_rx) = oneshot::channel();
        let counters = Arc::new(Counters::default());
        let pending = Arc::new(PendingRollups::new(settings.minute_rollup_days));
        let changes = Arc::new(watch::Sender::new(0));
        let recorder = Self {
            inner: Arc::new(Inner {
                tx,
                counters: counters.clone(),
                pending: pending.clone(),
                stop: Mutex::new(Some((stop_tx, done_rx))),
                sync: sync_tx,
                changes: changes.clone(),
            }),
        };
        let writer = UsageWriter {
            rx,
            stop: stop_rx,
            sync: sync_rx,
            done: done_tx,
            counters,
            pending,
            changes,
            settings,
        };
        (recorder, writer)
    }

    /// Queues `event` for writing; never blocks, never fails the caller. When the queue is
    /// full or shut down the event is dropped and counted.
    pub fn record(&self, event: UsageEvent) {
        let counters = &self.inner.counters;
        // Counted before the send, so `written` can never run ahead of `recorded`.
        counters.recorded.fetch_add(1, Relaxed);
        if self.inner.tx.try_send(event).is_err() {
            counters.recorded.fetch_sub(1, Relaxed);
            counters.dropped.fetch_add(1, Relaxed);
        }
    }

    /// Returns once every event recorded before the call is stored (or given up), without
    /// waiting for the flush interval: for reports that must include a caller's own requests,
    /// and for tests. Returns at once when the writer has stopped.
    pub async fn sync(&self) {
        let (ack, done) = oneshot::channel();
        if self.inner.sync.send(ack).is_ok() {
            let _ = done.await;
        }
    }

    /// Moves on each time stored events are counted in the rollups (a batch, not an event):
    /// live views wait on it instead of polling.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.inner.changes.subscribe()
    }

    /// Rollup rows of stored events not stored themselves yet (reports add them).
    pub fn pending(&self) -> &PendingRollups {
        &self.inner.pending
    }

    pub fn stats(&self) -> UsageStats {
        let c = &self.inner.counters;
        UsageStats {
            recorded: c.recorded.load(Relaxed),
            written: c.written.load(Relaxed),
            dropped: c.dropped.load(Relaxed),
            write_failures: c.write_failures.load(Relaxed),
            queued: (self.inner.tx.max_capacity() - self.inner.tx.capacity()) as u64,
            rollup_stores: c.rollup_stores.load(Relaxed),
            rollup_store_failures: c.rollup_store_failures.load(Relaxed),
        }
    }

    /// Closes intake (later events count as dropped), writes every queued event and returns
    /// once they are stored or given up. Any clone may call it; later calls wait for the
    /// first to finish. Call it after the server has finished its last request.
    pub async fn shutdown(&self) {
        let mut stop = self.inner.stop.lock().await;
        if let Some((stop_tx, done_rx)) = stop.take() {
            let _ = stop_tx.send(());
            // Err only if the writer was dropped without running: nothing more to wait for.
            let _ = done_rx.await;
        }
    }
}

impl UsageWriter {
    /// Spawns the writer task on the current runtime.
    pub fn start(self, db: Db) {
        tokio::spawn(self.run(db));
    }

    async fn run(self, db: Db) {
        let Self {
            mut rx,
            mut stop,
            mut sync,
            done,
            counters,
            pending,
            changes,
            settings,
        } = self;
        let out = Output {
            db: &db,
            counters: &counters,
            pending: &pending,
            changes: &changes,
            settings: &settings,
        };
        let mut rollup_tick = tokio::time::interval(Duration::from_secs(1));
        rollup_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let max_batch = settings.max_batch.max(1);
        let mut batch = Vec::with_capacity(max_batch);
        let mut deadline: Option<Instant> = None;
        // When a write ends with events already queued, they arrived while it ran: their
        // interval started with the write, not when we get to them.
        let mut waiting_since: Option<Instant> = None;
        let mut stopping = false;
        let mut dropped_seen = 0;
        loop {
            let room = max_batch - batch.len();
            tokio::select! {
                biased;
                // Closing the receiver refuses new sends but keeps what is queued for us.
                _ = &mut stop, if !stopping => {
                    stopping = true;
                    rx.close();
                }
                received = rx.recv_many(&mut batch, room) => {
                    if received == 0 {
                        break; // closed and drained
                    }
                    if deadline.is_none() {
                        let since = waiting_since.take().unwrap_or_else(Instant::now);
                        deadline = Some(since + settings.flush_interval);
                    }
                    if batch.len() >= max_batch {
                        waiting_since = out.write(&mut batch, &rx).await;
                        deadline = None;
                        report_drops(&counters, &mut dropped_seen);
                    }
                }
                _ = sleep_until(deadline), if deadline.is_some() => {
                    waiting_since = out.write(&mut batch, &rx).await;
                    deadline = None;
                    report_drops(&counters, &mut dropped_seen);
                }
                _ = rollup_tick.tick() => out.store_ended_minutes(wall_clock_ms()).await,
                Some(ack) = sync.recv() => {
                    // Everything queued before the request, whatever the batch size.
                    while let Ok(event) = rx.try_recv() {
                        batch.push(event);
                    }
                    waiting_since = out.write(&mut batch, &rx).await;
                    deadline = None;
                    let _ = ack.send(());
                }
            }
        }
        out.write(&mut batch, &rx).await;
        report_drops(&counters, &mut dropped_seen);
        // Everything counted so far, open minutes included: the next start begins after it.
        out.store_rollups(i64::MAX, pending.counted_before(wall_clock_ms()))
            .await;
        tracing::info!(
            recorded = counters.recorded.load(Relaxed),
            written = counters.written.load(Relaxed),
            dropped = counters.dropped.load(Relaxed),
            "usage writer stopped"
        );
        let _ = done.send(());
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    if let Some(at) = deadline {
        tokio::time::sleep_until(at).await;
    }
}

/// The current time for rollup decisions (the writer is an edge, like a request handler).
fn wall_clock_ms() -> i64 {
    crate::domain::to_millis(time::OffsetDateTime::now_utc())
}

/// Where the writer's work goes.
struct Output<'a> {
    db: &'a Db,
    counters: &'a Counters,
    pending: &'a Arc<PendingRollups>,
    changes: &'a watch::Sender<u64>,
    settings: &'a UsageSettings,
}

impl Output<'_> {
    /// Stores `batch` (then empties it), retrying with backoff, and counts the stored events
    /// in the pending rollups; a batch that still fails is dropped and counted, so a database
    /// outage cannot grow memory without bound. Returns when it started if events queued up
    /// meanwhile.
    async fn write(
        &self,
        batch: &mut Vec<UsageEvent>,
        rx: &mpsc::Receiver<UsageEvent>,
    ) -> Option<Instant> {
        if batch.is_empty() {
            return None;
        }
        let started = Instant::now();
        batch.iter_mut().for_each(sanitize);
        let mut backoff = self.settings.retry_backoff;
        let mut attempt = 0;
        loop {
            match db::usage::insert_batch(self.db, batch).await {
                Ok(()) => {
                    let stored = batch.len() as u64;
                    // Summing is CPU work: off the runtime's threads, which serve requests.
                    let pending = Arc::clone(self.pending);
                    let events = std::mem::take(batch);
                    let summed = tokio::task::spawn_blocking(move || {
                        pending.add(events.iter().map(Into::into));
                        events
                    })
                    .await;
                    match summed {
                        Ok(events) => *batch = events,
                        // Only a panic in summing gets here; the events are stored regardless.
                        Err(e) => {
                            tracing::error!(error = %e, "counting usage events in rollups failed")
                        }
                    }
                    self.counters.written.fetch_add(stored, Relaxed);
                    self.changes.send_modify(|n| *n = n.wrapping_add(1));
                    break;
                }
                Err(e) => {
                    self.counters.write_failures.fetch_add(1, Relaxed);
                    if attempt >= self.settings.retries {
                        self.counters.dropped.fetch_add(batch.len() as u64, Relaxed);
                        tracing::warn!(error = %e, events = batch.len(), "writing usage events failed; dropped them");
                        break;
                    }
                    attempt += 1;
                    tracing::warn!(error = %e, attempt, "writing usage events failed; will retry");
                    tokio::time::sleep(backoff).await;
                    backoff = backoff.saturating_mul(2);
                }
            }
        }
        batch.clear();
        (!rx.is_empty()).then_some(started)
    }

    /// Stores the rollups of every minute that ended at least the settling time before
    /// `now_ms`.
    async fn store_ended_minutes(&self, now_ms: i64) {
        let settle = i64::try_from(self.settings.rollup_settle.as_millis()).unwrap_or(i64::MAX);
        let before = Granularity::Minute.bucket_start(now_ms.saturating_sub(settle));
        self.store_rollups(before, before).await;
    }

    /// Stores pending rows of minutes before `before_ms`, moving the mark to `mark_ms`; a
    /// failure leaves them pending for the next tick.
    async fn store_rollups(&self, before_ms: i64, mark_ms: i64) {
        if self.pending.is_empty() {
            return;
        }
        let started = Instant::now();
        let flushed = self.pending.flush(self.db, before_ms, mark_ms).await;
        self.counters.rollup_stores.fetch_add(1, Relaxed);
        if flushed.is_err() {
            self.counters.rollup_store_failures.fetch_add(1, Relaxed);
        }
        match flushed {
            Ok(f) if f.minute_rows > 0 || f.hour_rows > 0 => {
                let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
                tracing::debug!(
                    rows = f.minute_rows,
                    hour_rows = f.hour_rows,
                    requests = f.requests,
                    elapsed_ms,
                    "usage rollups stored"
                )
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "storing usage rollups failed; will retry"),
        }
    }
}

/// One log line per write at most, however many events were lost meanwhile.
fn report_drops(counters: &Counters, seen: &mut u64) {
    let dropped = counters.dropped.load(Relaxed);
    if dropped > *seen {
        tracing::warn!(
            dropped = dropped - *seen,
            total = dropped,
            "usage events dropped"
        );
        *seen = dropped;
    }
}
