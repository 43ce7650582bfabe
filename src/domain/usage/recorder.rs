//! The usage queue: a bounded channel that request handlers push into without waiting, and
//! one writer task that stores what it holds in batches.
//!
//! Full-queue policy: the NEW event is dropped and counted. Recording must never slow down
//! or fail the API call that caused it, and memory must stay bounded; dropping the newest
//! (rather than evicting queued ones) is what a bounded channel's `try_send` gives for free.
//! The writer logs how many were dropped, at most once per batch.

use super::{UsageEvent, sanitize};
use crate::db::{self, Db};
use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering::Relaxed},
};
use std::time::Duration;
use tokio::sync::{Mutex, mpsc, oneshot};
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
        }
    }
}

impl UsageSettings {
    pub fn from_config(config: &crate::config::Config) -> Self {
        Self {
            queue_capacity: config.usage_queue_capacity,
            flush_interval: Duration::from_millis(config.usage_flush_ms),
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
}

#[derive(Debug, Default)]
struct Counters {
    recorded: AtomicU64,
    written: AtomicU64,
    dropped: AtomicU64,
    write_failures: AtomicU64,
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
    /// Taken by the first `shutdown`; its lock makes later callers wait for that one.
    stop: Mutex<Option<(oneshot::Sender<()>, oneshot::Receiver<()>)>>,
}

/// The writer's half, until [`UsageWriter::start`] spawns it.
#[derive(Debug)]
pub struct UsageWriter {
    rx: mpsc::Receiver<UsageEvent>,
    stop: oneshot::Receiver<()>,
    done: oneshot::Sender<()>,
    counters: Arc<Counters>,
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
        let (stop_tx, stop_rx) = oneshot::channel();
        let (done_tx, done_rx) = oneshot::channel();
        let counters = Arc::new(Counters::default());
        let recorder = Self {
            inner: Arc::new(Inner {
                tx,
                counters: counters.clone(),
                stop: Mutex::new(Some((stop_tx, done_rx))),
            }),
        };
        let writer = UsageWriter {
            rx,
            stop: stop_rx,
            done: done_tx,
            counters,
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

    pub fn stats(&self) -> UsageStats {
        let c = &self.inner.counters;
        UsageStats {
            recorded: c.recorded.load(Relaxed),
            written: c.written.load(Relaxed),
            dropped: c.dropped.load(Relaxed),
            write_failures: c.write_failures.load(Relaxed),
            queued: (self.inner.tx.max_capacity() - self.inner.tx.capacity()) as u64,
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
            done,
            counters,
            settings,
        } = self;
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
                        waiting_since = write(&db, &mut batch, &counters, &settings, &rx).await;
                        deadline = None;
                        report_drops(&counters, &mut dropped_seen);
                    }
                }
                _ = sleep_until(deadline), if deadline.is_some() => {
                    waiting_since = write(&db, &mut batch, &counters, &settings, &rx).await;
                    deadline = None;
                    report_drops(&counters, &mut dropped_seen);
                }
            }
        }
        write(&db, &mut batch, &counters, &settings, &rx).await;
        report_drops(&counters, &mut dropped_seen);
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

/// Stores `batch` (then empties it), retrying with backoff; a batch that still fails is
/// dropped and counted, so a database outage cannot grow memory without bound. Returns when
/// it started if events queued up meanwhile.
async fn write(
    db: &Db,
    batch: &mut Vec<UsageEvent>,
    counters: &Counters,
    settings: &UsageSettings,
    rx: &mpsc::Receiver<UsageEvent>,
) -> Option<Instant> {
    if batch.is_empty() {
        return None;
    }
    let started = Instant::now();
    batch.iter_mut().for_each(sanitize);
    let mut backoff = settings.retry_backoff;
    let mut attempt = 0;
    loop {
        match db::usage::insert_batch(db, batch).await {
            Ok(()) => {
                counters.written.fetch_add(batch.len() as u64, Relaxed);
                break;
            }
            Err(e) => {
                counters.write_failures.fetch_add(1, Relaxed);
                if attempt >= settings.retries {
                    counters.dropped.fetch_add(batch.len() as u64, Relaxed);
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
