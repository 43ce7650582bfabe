//! Rollups against raw events on a real SQLite file: for random event streams, rolled up in
//! passes of random size, every granularity's sums equal the raw events' for any range.

use super::rollup::{Granularity, RollupSums};
use super::*;
use crate::db::rollups::{RollupFilter, totals};
use crate::db::temp::TempDb;
use crate::domain::usage::{UsageEvent, UsageSource};
use std::collections::BTreeMap;

/// xorshift64*: a small deterministic generator, so a failing seed can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const CODES: [&str; 4] = [
    "VALID",
    "RATE_LIMIT_EXCEEDED",
    "API_KEY_INVALID",
    "QUOTA_EXCEEDED",
];

fn random_events(rng: &mut Rng, n: usize, start_ms: i64) -> Vec<UsageEvent> {
    (0..n)
        .map(|_| {
            let code = CODES[rng.below(4) as usize];
            UsageEvent {
                // three days, out of order within a few minutes, as several writers produce
                at_ms: start_ms + rng.below(3 * 86_400_000) as i64,
                key_id: (code != "API_KEY_INVALID").then(|| 1 + rng.below(5) as i64),
                owner_user_id: Some(1 + rng.below(2) as i64),
                api_id: (rng.below(2) == 0).then_some(3),
                source: UsageSource::Verify,
                endpoint: format!("GET /t/{}", rng.below(1000)),
                code,
                status: if code == "VALID" { 200 } else { 429 },
                latency_us: rng.below(2_000_000) as i64,
                request_bytes: rng.below(5_000) as i64,
                response_bytes: rng.below(50_000) as i64,
                ip: String::new(),
                user_agent: String::new(),
            }
        })
        .collect()
}

/// What the rollups must say, computed straight from the events.
fn expected(events: &[UsageEvent], g: Granularity, key: Option<i64>) -> BTreeMap<i64, RollupSums> {
    let mut out: BTreeMap<i64, RollupSums> = BTreeMap::new();
    for e in events.iter().filter(|e| key.is_none() || e.key_id == key) {
        let s = out.entry(g.bucket_start(e.at_ms)).or_default();
        s.requests += 1;
        s.request_bytes += e.request_bytes;
        s.response_bytes += e.response_bytes;
        s.latency_sum_us += e.latency_us;
        s.latency.record(e.latency_us);
    }
    out
}

#[tokio::test]
async fn rollup_totals_equal_raw_totals_for_every_range_and_granularity() {
    for seed in 1..=6u64 {
        let t = TempDb::new().await;
        let mut rng = Rng(seed * 0x9E37_79B9_7F4A_7C15);
        let start = 1_800_000_000_000;
        let mut all = Vec::new();
        // Events arrive in a few writes, with roll-up passes of random size in between.
        for _ in 0..4 {
            let n = 200 + rng.below(800) as usize;
            let batch = random_events(&mut rng, n, start);
            crate::db::usage::insert_batch(&t.db, &batch).await.unwrap();
            all.extend(batch);
            let s = RollupSettings {
                chunk: 1 + rng.below(700) as i64,
                max_events: 1 + rng.below(2_000) as usize,
                ..RollupSettings::immediate()
            };
            catch_up(&t.db, start + 10 * 86_400_000, s).await.unwrap();
        }
        assert_eq!(
            crate::db::rollups::progress(&t.db).await.unwrap(),
            all.len() as i64,
            "every event counted (ids 1..=n)"
        );
        for g in Granularity::ALL {
            for key in [None, Some(1 + rng.below(5) as i64)] {
                // a random range, aligned to the granularity, plus everything
                let a = g.bucket_start(start + rng.below(3 * 86_400_000) as i64);
                let b = a + g.millis() * (1 + rng.below(48) as i64);
                for (from, to) in [(a, b), (i64::MIN / 2, i64::MAX / 2)] {
                    let filter = RollupFilter {
                        key_id: key,
                        ..RollupFilter::default()
                    };
                    let got: BTreeMap<i64, RollupSums> =
                        totals(&t.db, g.as_str(), from, to, &filter)
                            .await
                            .unwrap()
                            .into_iter()
                            .map(|b| (b.bucket_start, b.sums))
                            .collect();
                    let want: BTreeMap<i64, RollupSums> = expected(&all, g, key)
                        .into_iter()
                        .filter(|(bucket, _)| (from..to).contains(bucket))
                        .collect();
                    assert_eq!(got, want, "seed {seed}, {g:?}, key {key:?}, [{from}, {to})");
                }
            }
        }
    }
}

#[tokio::test]
async fn a_second_roller_with_a_stale_mark_writes_nothing() {
    let t = TempDb::new().await;
    let mut rng = Rng(42);
    let events = random_events(&mut rng, 50, 1_800_000_000_000);
    crate::db::usage::insert_batch(&t.db, &events)
        .await
        .unwrap();
    let read = crate::db::rollups::events_after(&t.db, 0, 100)
        .await
        .unwrap();
    let rows = rollup::aggregate(&read);
    let list: Vec<_> = rows.iter().collect();
    assert!(
        crate::db::rollups::apply(&t.db, &list, 0, 50)
            .await
            .unwrap()
    );
    assert!(
        !crate::db::rollups::apply(&t.db, &list, 0, 50)
            .await
            .unwrap(),
        "the mark moved: the same events are not added twice"
    );
    let sums = totals(
        &t.db,
        "day",
        i64::MIN / 2,
        i64::MAX / 2,
        &RollupFilter::default(),
    )
    .await
    .unwrap();
    assert_eq!(sums.iter().map(|b| b.sums.requests).sum::<i64>(), 50);
}

#[tokio::test]
async fn only_whole_minutes_are_rolled_up_and_late_events_still_count() {
    let t = TempDb::new().await;
    let minute = 60_000;
    let now = 1_800_000_000_000 - 1_800_000_000_000 % minute + 30_000; // half a minute in
    let mut rng = Rng(9);
    let mut events = random_events(&mut rng, 3, 0);
    events[0].at_ms = now - minute; // the previous minute: ready
    events[1].at_ms = now - 1_000; // this minute: waits
    events[2].at_ms = now - 2 * minute; // late for an old minute, but behind a waiting one
    crate::db::usage::insert_batch(&t.db, &events)
        .await
        .unwrap();
    let s = RollupSettings {
        settle_ms: 2_000,
        ..RollupSettings::immediate()
    };
    assert_eq!(catch_up(&t.db, now, s).await.unwrap(), 1);
    assert_eq!(
        catch_up(&t.db, now + minute, s).await.unwrap(),
        2,
        "the minute ended"
    );
    let all = totals(&t.db, "minute", 0, i64::MAX / 2, &RollupFilter::default())
        .await
        .unwrap();
    assert_eq!(all.iter().map(|b| b.sums.requests).sum::<i64>(), 3);
}

#[tokio::test]
async fn young_events_wait_for_the_lag() {
    let t = TempDb::new().await;
    let now = 1_800_000_000_000;
    let mut rng = Rng(7);
    let mut events = random_events(&mut rng, 10, 0);
    for (i, e) in events.iter_mut().enumerate() {
        e.at_ms = now - 86_400_000 + i as i64;
    }
    events[4].at_ms = now - 1_000; // still young: it and everything after it wait
    crate::db::usage::insert_batch(&t.db, &events)
        .await
        .unwrap();
    let s = RollupSettings {
        chunk: 100,
        lag_ms: 60_000,
        ..RollupSettings::immediate()
    };
    assert_eq!(catch_up(&t.db, now, s).await.unwrap(), 4);
    assert_eq!(catch_up(&t.db, now + 60_000, s).await.unwrap(), 6);
}
