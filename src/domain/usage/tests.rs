//! The pipeline against a real SQLite file: what is recorded is what is stored.

use super::*;
use crate::db::usage::{self as store, StoredEvent};
use std::time::Duration;

use crate::db::temp::TempDb;

fn event(i: usize) -> UsageEvent {
    UsageEvent {
        at_ms: 1_800_000_000_000 + i as i64,
        key_id: Some(i as i64),
        owner_user_id: Some(7),
        api_id: None,
        source: UsageSource::Verify,
        endpoint: format!("GET /items/{i}"),
        code: "VALID",
        status: 200,
        latency_us: 42,
        request_bytes: 100,
        response_bytes: 250,
        ip: "198.51.100.7".into(),
        user_agent: "curl/8.0".into(),
    }
}

fn settings() -> UsageSettings {
    UsageSettings {
        retry_backoff: Duration::from_millis(1),
        ..UsageSettings::default()
    }
}

async fn count(db: &Db) -> i64 {
    store::count(db).await.unwrap()
}

/// Waits until the writer has counted `want` events as written, then checks the table holds
/// exactly that many. The counter moves after the insert commits (the rollups are summed in
/// between), so waiting on the table alone would race the counter.
async fn wait_for_written(recorder: &UsageRecorder, db: &Db, want: u64) {
    let mut changes = recorder.changes();
    let reached = tokio::time::timeout(Duration::from_secs(5), async {
        while recorder.stats().written < want {
            if changes.changed().await.is_err() {
                break;
            }
        }
    })
    .await;
    assert!(
        reached.is_ok(),
        "expected {want} written, have {:?}",
        recorder.stats()
    );
    assert_eq!(recorder.stats().written, want);
    assert_eq!(count(db).await, want as i64);
}

#[tokio::test]
async fn every_recorded_event_is_stored_by_shutdown() {
    let t = TempDb::new().await;
    let recorder = UsageRecorder::start(
        t.db.clone(),
        UsageSettings {
            max_batch: 5_000,
            ..settings()
        },
    );
    let n = 12_345; // two full batches and a partial one
    for i in 0..n {
        recorder.record(event(i));
    }
    recorder.shutdown().await;
    assert_eq!(count(&t.db).await, n as i64);
    let stats = recorder.stats();
    assert_eq!(
        (stats.recorded, stats.written, stats.dropped, stats.queued),
        (n as u64, n as u64, 0, 0)
    );
    // After shutdown intake is closed: a late event is counted, not lost silently.
    recorder.record(event(0));
    assert_eq!(recorder.stats().dropped, 1);
    recorder.shutdown().await; // a second call returns at once
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn events_racing_shutdown_are_either_stored_or_counted_as_dropped() {
    let t = TempDb::new().await;
    let recorder = UsageRecorder::start(
        t.db.clone(),
        UsageSettings {
            max_batch: 1_000,
            ..settings()
        },
    );
    let per_task = 20_000;
    let producers: Vec<_> = (0..4)
        .map(|_| {
            let recorder = recorder.clone();
            tokio::spawn(async move {
                for i in 0..per_task {
                    recorder.record(event(i));
                    if i % 500 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
            })
        })
        .collect();
    // Shut down mid-stream: some events are in, some still to come.
    while recorder.stats().recorded < 20_000 {
        tokio::task::yield_now().await;
    }
    recorder.shutdown().await;
    for p in producers {
        p.await.unwrap();
    }
    let stats = recorder.stats();
    assert_eq!(stats.recorded + stats.dropped, 4 * per_task as u64);
    assert_eq!(stats.written, stats.recorded);
    assert_eq!(count(&t.db).await as u64, stats.recorded);
}

#[tokio::test]
async fn batches_around_the_sqlite_parameter_limit_store_every_row() {
    let t = TempDb::new().await;
    // 2,520 rows of 13 columns fit in one SQLite statement, 2,521 do not.
    let mut total = 0;
    for n in [0, 1, 2, 2047, 2048, 2049, 2520, 2521, 5000, 2 * 2048 + 1] {
        let events: Vec<UsageEvent> = (0..n).map(event).collect();
        store::insert_batch(&t.db, &events).await.unwrap();
        total += n as i64;
        assert_eq!(count(&t.db).await, total, "after a batch of {n}");
    }
    let rows = store::all(&t.db).await.unwrap();
    assert_eq!(
        rows[0],
        StoredEvent {
            created_at: 1_800_000_000_000,
            key_id: Some(0),
            owner_user_id: Some(7),
            api_id: None,
            source: "verify".into(),
            endpoint: "GET /items/0".into(),
            code: "VALID".into(),
            status: 200,
            latency_us: 42,
            request_bytes: 100,
            response_bytes: 250,
            ip: "198.51.100.7".into(),
            user_agent: "curl/8.0".into(),
        }
    );
    // Rows keep their order within a batch across chunks.
    let last: Vec<String> = rows[rows.len() - 4097..]
        .iter()
        .map(|r| r.endpoint.clone())
        .collect();
    let want: Vec<String> = (0..4097).map(|i| format!("GET /items/{i}")).collect();
    assert_eq!(last, want);
}

#[tokio::test]
async fn a_full_queue_drops_the_newest_events_and_counts_them() {
    let t = TempDb::new().await;
    let (recorder, writer) = UsageRecorder::new(UsageSettings {
        queue_capacity: 4,
        ..settings()
    });
    for i in 0..10 {
        recorder.record(event(i));
    }
    let stats = recorder.stats();
    assert_eq!((stats.recorded, stats.dropped, stats.queued), (4, 6, 4));
    writer.start(t.db.clone());
    recorder.shutdown().await;
    let endpoints: Vec<String> = store::all(&t.db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.endpoint)
        .collect();
    assert_eq!(
        endpoints,
        [
            "GET /items/0",
            "GET /items/1",
            "GET /items/2",
            "GET /items/3"
        ]
    );
    assert_eq!(recorder.stats().written, 4);
}

#[tokio::test]
async fn a_full_batch_is_written_at_once_and_the_rest_waits_for_its_interval() {
    let t = TempDb::new().await;
    let recorder = UsageRecorder::start(
        t.db.clone(),
        UsageSettings {
            max_batch: 10,
            flush_interval: Duration::from_secs(3600),
            ..settings()
        },
    );
    for i in 0..25 {
        recorder.record(event(i));
    }
    wait_for_written(&recorder, &t.db, 20).await;
    // The last 5 are not a full batch and their hour is not up: only shutdown writes them.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(count(&t.db).await, 20);
    recorder.shutdown().await;
    assert_eq!(count(&t.db).await, 25);
}

#[tokio::test]
async fn a_partial_batch_is_written_when_its_interval_ends() {
    let t = TempDb::new().await;
    let recorder = UsageRecorder::start(
        t.db.clone(),
        UsageSettings {
            flush_interval: Duration::from_millis(20),
            ..settings()
        },
    );
    for i in 0..3 {
        recorder.record(event(i));
    }
    wait_for_written(&recorder, &t.db, 3).await;
    // A second, later burst gets its own interval.
    recorder.record(event(3));
    wait_for_written(&recorder, &t.db, 4).await;
    recorder.shutdown().await;
}

#[tokio::test]
async fn a_batch_that_cannot_be_written_is_retried_then_dropped_and_counted() {
    let t = TempDb::new().await;
    let recorder = UsageRecorder::start(
        t.db.clone(),
        UsageSettings {
            retries: 2,
            ..settings()
        },
    );
    t.db.close().await; // every write now fails
    for i in 0..3 {
        recorder.record(event(i));
    }
    recorder.shutdown().await;
    let stats = recorder.stats();
    assert_eq!(
        (
            stats.recorded,
            stats.written,
            stats.dropped,
            stats.write_failures
        ),
        (3, 0, 3, 3)
    );
}

#[tokio::test]
async fn retention_deletes_only_older_events() {
    let t = TempDb::new().await;
    let day = 24 * 3600 * 1000;
    let now = 1_800_000_000_000;
    let at = |at_ms: i64, i: usize| UsageEvent { at_ms, ..event(i) };
    // More old rows than one purge chunk, one exactly at the cutoff, a few recent ones.
    let mut events: Vec<UsageEvent> = (0..25_000).map(|i| at(now - 91 * day, i)).collect();
    events.push(at(now - 90 * day, 1));
    events.extend((0..5).map(|i| at(now - i as i64, i)));
    store::insert_batch(&t.db, &events).await.unwrap();

    assert_eq!(purge_older_than(&t.db, now, 90).await.unwrap(), 25_000);
    let left: Vec<i64> = store::all(&t.db)
        .await
        .unwrap()
        .iter()
        .map(|r| r.created_at)
        .collect();
    assert_eq!(
        left,
        [now - 90 * day, now, now - 1, now - 2, now - 3, now - 4]
    );
    assert_eq!(purge_older_than(&t.db, now, 90).await.unwrap(), 0);
}

#[test]
fn sanitize_replaces_nul_and_cuts_at_a_character_boundary() {
    let mut e = event(0);
    e.endpoint = format!("GET /{}", "é".repeat(200)); // 405 bytes
    e.ip = "1.2.3.4\0".into();
    e.user_agent = format!("{}é", "a".repeat(511)); // 513 bytes, 'é' straddles the limit
    sanitize(&mut e);
    assert_eq!(e.ip, "1.2.3.4\u{FFFD}");
    assert_eq!(e.user_agent, "a".repeat(511));
    assert!(e.endpoint.len() <= ENDPOINT_MAX_BYTES && e.endpoint.len() >= ENDPOINT_MAX_BYTES - 1);
    assert!(e.endpoint.starts_with("GET /é"));
}

#[tokio::test]
async fn hostile_strings_are_stored_verbatim_or_made_safe() {
    let t = TempDb::new().await;
    let recorder = UsageRecorder::start(t.db.clone(), settings());
    let quoted = "x'); DROP TABLE usage_events; --\"\\%_";
    let unicode = "Ünïcødé 🚀 \u{202E}rtl";
    recorder.record(UsageEvent {
        endpoint: quoted.into(),
        ip: "::1".into(),
        user_agent: unicode.into(),
        source: UsageSource::Gateway,
        code: "RATE_LIMIT_EXCEEDED",
        status: 429,
        ..event(0)
    });
    recorder.record(UsageEvent {
        endpoint: "GET /a\0b".into(),
        ip: "\0".into(),
        user_agent: format!("{}🚀", "u".repeat(510)),
        ..event(1)
    });
    recorder.shutdown().await;
    let rows = store::all(&t.db).await.unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (
            rows[0].endpoint.as_str(),
            rows[0].user_agent.as_str(),
            rows[0].source.as_str(),
            rows[0].code.as_str(),
            rows[0].status
        ),
        (quoted, unicode, "gateway", "RATE_LIMIT_EXCEEDED", 429)
    );
    assert_eq!(rows[1].endpoint, "GET /a\u{FFFD}b");
    assert_eq!(rows[1].ip, "\u{FFFD}");
    assert_eq!(rows[1].user_agent, "u".repeat(510));
}

/// Rollup rows of every granularity, as `(granularity, requests)` sums.
async fn stored_requests(db: &Db) -> Vec<(String, i64)> {
    use crate::domain::analytics::rollup::Granularity;
    let mut out = Vec::new();
    for g in [Granularity::Minute, Granularity::Hour, Granularity::Day] {
        let rows = crate::db::rollups::totals(
            db,
            g.as_str(),
            i64::MIN / 2,
            i64::MAX / 2,
            &Default::default(),
        )
        .await
        .unwrap();
        out.push((
            g.as_str().to_string(),
            rows.iter().map(|b| b.sums.requests).sum(),
        ));
    }
    out
}

#[tokio::test]
async fn after_a_graceful_stop_the_next_start_counts_nothing_again() {
    let t = TempDb::new().await;
    let recorder = UsageRecorder::start(t.db.clone(), settings());
    // Stamped later than the stop's clock reads: the latest case of an event stamped in the
    // stop's own millisecond (the mark is exclusive; recovery sums events at or after it).
    for i in 0..40 {
        recorder.record(event(i));
    }
    recorder.shutdown().await;
    let once: Vec<(String, i64)> = ["minute", "hour", "day"]
        .iter()
        .map(|g| (g.to_string(), 40))
        .collect();
    assert_eq!(stored_requests(&t.db).await, once);
    let next_start = 1_800_000_000_000 + 60_000;
    let recounted = crate::domain::analytics::recover(&t.db, next_start)
        .await
        .unwrap();
    assert_eq!(recounted, 0);
    assert_eq!(stored_requests(&t.db).await, once);
}
