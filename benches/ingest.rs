//! Usage ingestion, events/s: 500,000 events through the real recorder (default settings)
//! into a fresh database, timed from the first `record` until `shutdown` has stored the last.
//! The producer keeps the queue from overflowing (it waits while the queue is nearly full),
//! so this is the writer's sustained rate with nothing dropped. 5 rounds, median printed.
//!
//! Always SQLite (a file in a temp dir); PostgreSQL too when KEYPORT_BENCH_PG_URL is set
//! (one fresh database per round, dropped afterwards). `cargo bench --bench ingest -- NAME`
//! runs only the backends whose name contains NAME. Run by `make bench`.

use keyport::db::{Db, usage as store};
use keyport::domain::usage::{UsageEvent, UsageRecorder, UsageSettings, UsageSource};
use std::time::{Duration, Instant};

const EVENTS: usize = 500_000;
const ROUNDS: usize = 5;

fn main() {
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with("--"));
    let wanted = |name: &str| filter.as_deref().is_none_or(|f| name.contains(f));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        if wanted("sqlite") {
            let rates = rounds(|round| async move {
                let dir = std::env::temp_dir()
                    .join(format!("keyport-ingest-{}-{round}", std::process::id()));
                let _ = std::fs::remove_dir_all(&dir);
                let url = format!("sqlite://{}", dir.join("usage.db").display());
                let rate = ingest(&url).await;
                std::fs::remove_dir_all(&dir).expect("remove temp dir");
                rate
            })
            .await;
            report("sqlite", rates);
        }
        if let Ok(base) = std::env::var("KEYPORT_BENCH_PG_URL")
            && wanted("postgres")
        {
            let rates = rounds(|round| {
                let base = base.clone();
                async move {
                    let name = format!("keyport_ingest_{}_{round}", std::process::id());
                    admin(&base, &format!("CREATE DATABASE {name}")).await;
                    let (head, _) = base.rsplit_once('/').expect("database URL has a path");
                    let rate = ingest(&format!("{head}/{name}")).await;
                    admin(&base, &format!("DROP DATABASE {name} WITH (FORCE)")).await;
                    rate
                }
            })
            .await;
            report("postgres", rates);
        }
    });
}

async fn rounds<F, Fut>(mut one: F) -> Vec<f64>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = f64>,
{
    let mut rates = Vec::with_capacity(ROUNDS);
    for round in 0..ROUNDS {
        rates.push(one(round).await);
    }
    rates
}

fn report(backend: &str, mut rates: Vec<f64>) {
    rates.sort_by(|a, b| a.total_cmp(b));
    println!(
        "usage ingest {backend}: median {:.0} events/s over {ROUNDS} rounds of {EVENTS} (min {:.0}, max {:.0})",
        rates[ROUNDS / 2],
        rates[0],
        rates[ROUNDS - 1]
    );
}

/// One round into a fresh, migrated database at `url`; returns events/s.
async fn ingest(url: &str) -> f64 {
    let db = Db::connect(url).await.expect("connect");
    db.migrate().await.expect("migrate");
    let settings = UsageSettings::default();
    let capacity = settings.queue_capacity as u64;
    let recorder = UsageRecorder::start(db.clone(), settings);
    let endpoint = "POST /v1/tickets".to_string();
    let ip = "198.51.100.7".to_string();
    let user_agent = "Mozilla/5.0 (X11; Linux x86_64) bench/1.0".to_string();
    let at_ms = 1_800_000_000_000;

    let start = Instant::now();
    for i in 0..EVENTS {
        if i % 1024 == 0 {
            while recorder.stats().queued + 1024 > capacity {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        recorder.record(UsageEvent {
            at_ms: at_ms + (i / 100) as i64,
            key_id: Some((i % 10_000) as i64),
            owner_user_id: Some((i % 100) as i64),
            api_id: Some(1),
            source: UsageSource::Verify,
            endpoint: endpoint.clone(),
            code: "VALID",
            status: 200,
            latency_us: 180,
            request_bytes: 312,
            response_bytes: 95,
            ip: ip.clone(),
            user_agent: user_agent.clone(),
        });
    }
    recorder.shutdown().await;
    let elapsed = start.elapsed().as_secs_f64();

    let stats = recorder.stats();
    assert_eq!(stats.dropped, 0, "nothing dropped");
    assert_eq!(stats.recorded, EVENTS as u64, "every event recorded");
    let stored = store::count(&db).await.expect("count");
    assert_eq!(stored as u64, stats.recorded, "stored == recorded");
    db.close().await;
    EVENTS as f64 / elapsed
}

/// Runs one statement on the server's maintenance connection (databases are made and
/// dropped outside any database they concern).
async fn admin(base_url: &str, sql: &str) {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(base_url)
        .await
        .expect("connect to PostgreSQL");
    sqlx::query(sql).execute(&mut conn).await.expect(sql);
    conn.close().await.expect("close");
}
