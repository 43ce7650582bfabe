//! The usage pipeline on the server's own database (SQLite, or PostgreSQL when
//! KEYPORT_TEST_DATABASE_URL is set): a graceful stop stores every recorded event.

use crate::harness::*;
use keyport::db::{Db, usage as store};
use keyport::domain::usage::{UsageEvent, UsageSource, purge_older_than};

fn event(i: usize, at_ms: i64) -> UsageEvent {
    UsageEvent {
        at_ms,
        key_id: (!i.is_multiple_of(3)).then_some(i as i64),
        owner_user_id: Some(1),
        api_id: i.is_multiple_of(2).then_some(5),
        source: if i.is_multiple_of(2) {
            UsageSource::Gateway
        } else {
            UsageSource::Verify
        },
        // NUL is refused by PostgreSQL text; the writer makes it safe first.
        endpoint: format!("GET /items/{i}\0'\"é"),
        code: "VALID",
        status: 200,
        latency_us: i as i64,
        request_bytes: 10,
        response_bytes: 20,
        ip: "203.0.113.9".into(),
        user_agent: "ua 🚀".repeat(100),
    }
}

#[tokio::test]
async fn a_graceful_stop_stores_every_recorded_usage_event() {
    // Our own data dir: the server's would go with it, and the database must outlive it.
    let dir = std::env::temp_dir().join(format!("keyport-usage-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let data_dir = dir.display().to_string();
    let server = TestServer::start_with(&[
        ("KEYPORT_DATA_DIR", data_dir.as_str()),
        ("KEYPORT_ADMIN_EMAIL", ADMIN_EMAIL),
        ("KEYPORT_ADMIN_PASSWORD", ADMIN_PASSWORD),
    ])
    .await;
    let url = server.state.config.database_url.clone();
    let usage = server.state.usage.clone();
    let n = 12_001;
    let now = keyport::domain::to_millis(time::OffsetDateTime::now_utc());
    for i in 0..n {
        usage.record(event(i, now));
    }
    server.stop().await;

    let stats = usage.stats();
    assert_eq!(
        (stats.recorded, stats.written, stats.dropped),
        (n as u64, n as u64, 0)
    );
    let db = Db::connect(&url).await.unwrap();
    assert_eq!(store::count(&db).await.unwrap(), n as i64);
    db.close().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn usage_retention_purges_only_events_past_it() {
    let server = TestServer::start().await;
    let db = &server.state.db;
    const DAY_MS: i64 = 24 * 3600 * 1000;
    let now = 1_800_000_000_000;
    let mut events: Vec<UsageEvent> = (0..10_005).map(|i| event(i, now - 31 * DAY_MS)).collect();
    events.extend((0..3).map(|i| event(i, now - 30 * DAY_MS + i as i64)));
    events.iter_mut().for_each(keyport::domain::usage::sanitize);
    store::insert_batch(db, &events).await.unwrap();
    assert_eq!(store::count(db).await.unwrap(), 10_008);

    assert_eq!(purge_older_than(db, now, 30).await.unwrap(), 10_005);
    assert_eq!(store::count(db).await.unwrap(), 3);
    server.stop().await;
}
