//! Rollups against raw events on a real SQLite file: for random event streams, counted in
//! batches of random size and stored at random moments (late events included), or summed
//! again from raw events after a crash, every granularity's sums equal the raw events' for any
//! range, stored and pending together; so do the client-IP rollups (hour and day), the
//! key-less totals (all owners and each owner), and the busiest keys and clients found from
//! each bucket's busiest (`top::busiest`).

use super::pending::{CoarseSchedule, DEFAULT_MINUTE_DAYS, PendingRollups, add_totals};
use super::rollup::{Granularity, RollupSums};
use super::*;
use crate::db::rollups::{Marks, RollupFilter, totals};
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
                // a few clients, some unknown
                ip: match rng.below(9) {
                    0 => String::new(),
                    n => format!("198.51.100.{n}"),
                },
                user_agent: String::new(),
            }
        })
        .collect()
}

/// Whose events a check counts: one key's, one owner's, or everyone's.
#[derive(Clone, Copy, Debug)]
struct Who {
    key: Option<i64>,
    owner: Option<i64>,
}

impl Who {
    fn admits(self, e: &UsageEvent) -> bool {
        (self.key.is_none() || e.key_id == self.key)
            && (self.owner.is_none() || e.owner_user_id == self.owner)
    }

    fn filter(self) -> RollupFilter {
        RollupFilter {
            key_id: self.key,
            owner_user_id: self.owner,
            ..RollupFilter::default()
        }
    }
}

/// What the rollups must say, computed straight from the events.
fn expected(events: &[UsageEvent], g: Granularity, who: Who) -> BTreeMap<i64, RollupSums> {
    let mut out: BTreeMap<i64, RollupSums> = BTreeMap::new();
    for e in events.iter().filter(|e| who.admits(e)) {
        let s = out.entry(g.bucket_start(e.at_ms)).or_default();
        s.requests += 1;
        s.request_bytes += e.request_bytes;
        s.response_bytes += e.response_bytes;
        s.latency_sum_us += e.latency_us;
        s.latency.record(e.latency_us);
    }
    out
}

/// Stored plus pending sums per bucket, as a report adds them up.
async fn seen(
    db: &Db,
    pending: &PendingRollups,
    g: Granularity,
    from: i64,
    to: i64,
    filter: &RollupFilter,
) -> BTreeMap<i64, RollupSums> {
    let _reading = pending.reading().await;
    let stored = totals(db, g.as_str(), from, to, filter).await.unwrap();
    add_totals(stored, pending.totals(g, from, to, filter))
        .into_iter()
        .map(|b| (b.bucket_start, b.sums))
        .collect()
}

/// Requests and failures per client IP in `[from, to)` (buckets of `g`), from the events.
fn expected_ips(
    events: &[UsageEvent],
    g: Granularity,
    from: i64,
    to: i64,
    who: Who,
) -> BTreeMap<String, (i64, i64)> {
    let mut out: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for e in events.iter().filter(|e| who.admits(e)) {
        if (from..to).contains(&g.bucket_start(e.at_ms)) {
            let t = out.entry(e.ip.clone()).or_default();
            t.0 += 1;
            t.1 += i64::from(super::rollup::is_failure(e.code, i32::from(e.status) / 100));
        }
    }
    out
}

/// Stored plus pending client-IP sums, as the usage page's top list adds them up.
async fn seen_ips(
    db: &Db,
    pending: &PendingRollups,
    g: Granularity,
    from: i64,
    to: i64,
    filter: &RollupFilter,
) -> BTreeMap<String, (i64, i64)> {
    use crate::db::rollup_breakdown::{TopBy, top};
    let _reading = pending.reading().await;
    let stored = top(db, g.as_str(), from, to, filter, TopBy::Ip, 1_000)
        .await
        .unwrap();
    let mut out: BTreeMap<String, (i64, i64)> = stored
        .into_iter()
        .map(|t| (t.name, (t.requests, t.errors)))
        .collect();
    for (k, s) in pending.ip_rows(g, from, to, filter) {
        let t = out.entry(k.ip).or_default();
        t.0 += s.requests;
        t.1 += s.errors;
    }
    out
}

async fn assert_matches(
    db: &Db,
    pending: &PendingRollups,
    all: &[UsageEvent],
    rng: &mut Rng,
    start: i64,
    what: &str,
) {
    for g in Granularity::ALL {
        let key = Some(1 + rng.below(5) as i64);
        let owner = Some(1 + rng.below(2) as i64);
        for who in [
            Who {
                key: None,
                owner: None,
            },
            Who { key, owner: None },
            Who { key: None, owner },
        ] {
            // a random range, aligned to the granularity, plus everything
            let a = g.bucket_start(start + rng.below(3 * 86_400_000) as i64);
            let b = a + g.millis() * (1 + rng.below(48) as i64);
            for (from, to) in [(a, b), (i64::MIN / 2, i64::MAX / 2)] {
                let filter = who.filter();
                let got = seen(db, pending, g, from, to, &filter).await;
                let want: BTreeMap<i64, RollupSums> = expected(all, g, who)
                    .into_iter()
                    .filter(|(bucket, _)| (from..to).contains(bucket))
                    .collect();
                assert_eq!(got, want, "{what}, {g:?}, {who:?}, [{from}, {to})");
                if g != Granularity::Minute {
                    assert_eq!(
                        seen_ips(db, pending, g, from, to, &filter).await,
                        expected_ips(all, g, from, to, who),
                        "client IPs: {what}, {g:?}, {who:?}, [{from}, {to})"
                    );
                }
                if g != Granularity::Minute && pending.is_empty() && who.key.is_none() {
                    assert_busiest(
                        db,
                        all,
                        who,
                        g,
                        (
                            from.max(g.bucket_start(start - 86_400_000)),
                            to.min(g.bucket_start(start + 5 * 86_400_000)),
                        ),
                        what,
                    )
                    .await;
                }
            }
        }
    }
}

/// The busiest keys and clients of `[from, to)` found bucket by bucket equal the brute
/// force over `who`'s events, for several list lengths (ties broken by id); for one owner,
/// the lists that are ranked by bucket (client IPs).
async fn assert_busiest(
    db: &Db,
    all: &[UsageEvent],
    who: Who,
    g: Granularity,
    (from, to): (i64, i64),
    what: &str,
) {
    use crate::db::rollup_breakdown::{TopBy, TopTotals, ranked_by_bucket};
    let mut keys: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    let mut ips: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for e in all
        .iter()
        .filter(|e| who.admits(e) && (from..to).contains(&g.bucket_start(e.at_ms)))
    {
        let failed = i64::from(super::rollup::is_failure(e.code, i32::from(e.status) / 100));
        for t in [
            keys.entry(e.key_id.unwrap_or(0)).or_default(),
            ips.entry(e.ip.clone()).or_default(),
        ] {
            t.0 += 1;
            t.1 += failed;
        }
    }
    let ranked = |list: Vec<TopTotals>| -> Vec<TopTotals> {
        let mut list = list;
        list.sort_by(|a, b| {
            b.requests
                .cmp(&a.requests)
                .then_with(|| (a.key_id, &a.name).cmp(&(b.key_id, &b.name)))
        });
        list
    };
    let keys = ranked(
        keys.into_iter()
            .map(|(key_id, (requests, errors))| TopTotals {
                key_id,
                name: String::new(),
                requests,
                errors,
            })
            .collect(),
    );
    let ips = ranked(
        ips.into_iter()
            .map(|(name, (requests, errors))| TopTotals {
                key_id: 0,
                name,
                requests,
                errors,
            })
            .collect(),
    );
    let filter = who.filter();
    let ranked: Vec<_> = [(TopBy::Key, &keys), (TopBy::Ip, &ips)]
        .into_iter()
        .filter(|(by, _)| ranked_by_bucket(*by, &filter, g.as_str()))
        .collect();
    assert_eq!(
        ranked.len(),
        if who.owner.is_some() { 1 } else { 2 },
        "which lists are ranked by bucket"
    );
    for k in [1, 3, 20] {
        for (by, want) in &ranked {
            let got = top::busiest(db, *by, &filter, g.as_str(), (from, to, g.millis()), k)
                .await
                .unwrap();
            let want: Vec<TopTotals> = want.iter().take(k).cloned().collect();
            assert_eq!(
                got, want,
                "busiest {by:?}: {what}, {g:?}, {who:?}, top {k}, [{from}, {to})"
            );
        }
    }
}

#[tokio::test]
async fn rollup_totals_equal_raw_totals_for_every_range_and_granularity() {
    for seed in 1..=6u64 {
        let t = TempDb::new().await;
        // Hour and day rows stored with every minute, only at the end, or in between.
        let schedule = match seed % 3 {
            0 => CoarseSchedule {
                every_ms: 0,
                at_hour_end: true,
            },
            1 => NEVER_BEFORE_THE_END,
            _ => CoarseSchedule {
                every_ms: 20 * 3_600_000,
                at_hour_end: false,
            },
        };
        let pending = PendingRollups::with_schedule(DEFAULT_MINUTE_DAYS, schedule);
        let mut rng = Rng(seed * 0x9E37_79B9_7F4A_7C15);
        let start = 1_800_000_000_000;
        let mut all = Vec::new();
        // Batches as the writer stores them, with flushes at random moments in between: events
        // for minutes already flushed (late ones) are added to the stored rows.
        for _ in 0..5 {
            let n = 200 + rng.below(800) as usize;
            let batch = random_events(&mut rng, n, start);
            crate::db::usage::insert_batch(&t.db, &batch).await.unwrap();
            pending.add(batch.iter().map(Into::into));
            all.extend(batch);
            let before = start + rng.below(3 * 86_400_000) as i64;
            pending.flush(&t.db, before, before).await.unwrap();
            assert_matches(
                &t.db,
                &pending,
                &all,
                &mut rng,
                start,
                &format!("seed {seed}, pending"),
            )
            .await;
        }
        pending.flush(&t.db, i64::MAX, i64::MAX).await.unwrap();
        assert!(pending.is_empty());
        assert_matches(
            &t.db,
            &pending,
            &all,
            &mut rng,
            start,
            &format!("seed {seed}, stored"),
        )
        .await;
    }
}

/// Hour and day rows stored by a final flush only.
const NEVER_BEFORE_THE_END: CoarseSchedule = CoarseSchedule {
    every_ms: i64::MAX,
    at_hour_end: false,
};

#[tokio::test]
async fn a_crashed_writers_events_are_summed_again_at_start_and_only_once() {
    crashed_writer(CoarseSchedule::default()).await;
}

#[tokio::test]
async fn a_writer_that_crashed_before_storing_hours_and_days_has_them_summed_at_start() {
    crashed_writer(NEVER_BEFORE_THE_END).await;
}

async fn crashed_writer(schedule: CoarseSchedule) {
    let t = TempDb::new().await;
    let mut rng = Rng(11);
    let start = 1_800_000_000_000;
    let mut events = random_events(&mut rng, 3_000, start);
    events.sort_by_key(|e| e.at_ms);
    // A writer stored every event, and the rollups of the first 1,000 (up to their mark).
    crate::db::usage::insert_batch(&t.db, &events)
        .await
        .unwrap();
    let mark = Granularity::Minute.bucket_start(events[1_000].at_ms);
    let before: Vec<_> = events.iter().filter(|e| e.at_ms < mark).cloned().collect();
    let written = PendingRollups::with_schedule(DEFAULT_MINUTE_DAYS, schedule);
    written.add(before.iter().map(Into::into));
    written.flush(&t.db, mark, mark).await.unwrap();
    let stored_hours = written.is_empty();
    assert_eq!(
        crate::db::rollups::rolled_up_to(&t.db).await.unwrap(),
        Marks {
            minute: mark,
            coarse: if stored_hours { mark } else { 0 },
        }
    );
    // ...then crashed. The next start counts the rest, in chunks (and the hours and days of
    // the minutes stored), and moves both marks on.
    let until = start + 4 * 86_400_000;
    let counted = if stored_hours {
        3_000 - before.len()
    } else {
        3_000
    };
    assert_eq!(recover(&t.db, until).await.unwrap(), counted);
    assert_eq!(
        crate::db::rollups::rolled_up_to(&t.db).await.unwrap(),
        Marks {
            minute: until,
            coarse: until
        }
    );
    let none = PendingRollups::default();
    assert_matches(&t.db, &none, &events, &mut rng, start, "recovered").await;
    assert_eq!(recover(&t.db, until).await.unwrap(), 0, "nothing twice");
    assert_matches(&t.db, &none, &events, &mut rng, start, "again").await;
}

#[tokio::test]
async fn the_mark_only_moves_forward() {
    let t = TempDb::new().await;
    let pending = PendingRollups::default();
    let mut rng = Rng(8);
    let events = random_events(&mut rng, 2, 0);
    pending.add(events[..1].iter().map(Into::into));
    pending.flush(&t.db, i64::MAX, 5_000).await.unwrap();
    pending.add(events[1..].iter().map(Into::into));
    pending.flush(&t.db, i64::MAX, 3_000).await.unwrap();
    assert_eq!(
        crate::db::rollups::rolled_up_to(&t.db).await.unwrap(),
        Marks {
            minute: 5_000,
            coarse: 5_000
        }
    );
}

#[tokio::test]
async fn minutes_are_stored_when_they_end_and_their_hours_and_days_on_schedule() {
    let t = TempDb::new().await;
    let schedule = CoarseSchedule {
        every_ms: 10 * 60_000,
        at_hour_end: true,
    };
    let pending = PendingRollups::with_schedule(DEFAULT_MINUTE_DAYS, schedule);
    let mut rng = Rng(21);
    let hour = Granularity::Hour.bucket_start(1_800_000_000_000);
    // From 10 past one hour to 5 past the next.
    let mut events = random_events(&mut rng, 2_000, 0);
    for e in &mut events {
        e.at_ms = hour + 10 * 60_000 + e.at_ms % (55 * 60_000);
    }
    events.sort_by_key(|e| e.at_ms);
    let stored = |g: Granularity| {
        let db = t.db.clone();
        async move {
            let all = RollupFilter::default();
            totals(&db, g.as_str(), hour - 86_400_000, hour + 86_400_000, &all)
                .await
                .unwrap()
                .iter()
                .map(|b| b.sums.requests)
                .sum::<i64>()
        }
    };
    let before = |ms: i64| events.iter().filter(|e| e.at_ms < ms).count() as i64;
    // When the hours are due: 10 minutes after the last time they were, or in a new hour.
    let mut last = 0;
    let mut hours_at = 0;
    let mut due = Vec::new();
    let mut behind = 0;
    let mut added = 0;
    for minute in 1..=70 {
        let mark = hour + minute * 60_000;
        let batch: Vec<_> = events[added..]
            .iter()
            .take_while(|e| e.at_ms < mark)
            .cloned()
            .collect();
        added += batch.len();
        pending.add(batch.iter().map(Into::into));
        pending.flush(&t.db, mark, mark).await.unwrap();
        if mark - last >= 10 * 60_000 || mark - mark % 3_600_000 != last - last % 3_600_000 {
            last = mark;
            hours_at = mark;
            due.push(minute);
        }
        let what = format!("minute {minute}");
        assert_eq!(stored(Granularity::Minute).await, before(mark), "{what}");
        assert_eq!(stored(Granularity::Hour).await, before(hours_at), "{what}");
        assert_eq!(stored(Granularity::Day).await, before(hours_at), "{what}");
        behind += i64::from(before(hours_at) < before(mark));
        assert_matches(&t.db, &pending, &events[..added], &mut rng, hour, &what).await;
    }
    assert!(
        behind > 40,
        "hours waited for their schedule: {behind} minutes"
    );
    // The model's schedule: the first flush, every ten minutes, and when the next hour began.
    assert_eq!(due, [1, 11, 21, 31, 41, 51, 60, 70]);
}

#[tokio::test]
async fn the_purge_deletes_old_minute_rows_of_every_table_and_keeps_the_rest() {
    let t = TempDb::new().await;
    let pending = PendingRollups::default();
    let mut rng = Rng(31);
    let start = Granularity::Day.bucket_start(1_800_000_000_000);
    let events = random_events(&mut rng, 3_000, start);
    pending.add(events.iter().map(Into::into));
    pending.flush(&t.db, i64::MAX, i64::MAX).await.unwrap();
    let last = events.iter().map(|e| e.at_ms).max().unwrap();
    // Minute rows are kept one day: `now` is a day and a half after the first event.
    let now = start + 36 * 3_600_000;
    let cutoff = pending::minutes_kept_since(now, 1);
    assert!(
        start < cutoff && cutoff < last,
        "the purge cuts through the events"
    );
    let counts = db::rollups::minute_rows_before(&t.db, cutoff)
        .await
        .unwrap();
    assert!(counts.iter().all(|(_, n)| *n > 0), "{counts:?}");

    let deleted = purge_minute_rows(&t.db, now, 1).await.unwrap();
    assert_eq!(deleted, counts.iter().map(|(_, n)| *n as u64).sum::<u64>());
    let left = db::rollups::minute_rows_before(&t.db, cutoff)
        .await
        .unwrap();
    assert!(left.iter().all(|(_, n)| *n == 0), "{left:?}");
    let everyone = Who {
        key: None,
        owner: None,
    };
    let (from, to) = (i64::MIN / 2, i64::MAX / 2);
    for (g, kept_from) in [
        (Granularity::Minute, cutoff),
        (Granularity::Hour, from),
        (Granularity::Day, from),
    ] {
        for filter in [
            everyone.filter(),
            Who {
                key: Some(1),
                owner: None,
            }
            .filter(),
        ] {
            let got = seen(&t.db, &pending, g, from, to, &filter).await;
            let who = Who {
                key: filter.key_id,
                owner: None,
            };
            let want: BTreeMap<i64, RollupSums> = expected(&events, g, who)
                .into_iter()
                .filter(|(bucket, _)| *bucket >= kept_from)
                .collect();
            assert_eq!(got, want, "{g:?}, {who:?}");
        }
    }
    assert_eq!(purge_minute_rows(&t.db, now, 1).await.unwrap(), 0, "again");
}

#[tokio::test]
async fn rows_a_failed_store_leaves_stay_counted_and_pending() {
    let t = TempDb::new().await;
    let pending = PendingRollups::default();
    let mut rng = Rng(5);
    let events = random_events(&mut rng, 100, 1_800_000_000_000);
    pending.add(events.iter().map(Into::into));
    let rows = pending.len();
    t.db.close().await;
    assert!(pending.flush(&t.db, i64::MAX, i64::MAX).await.is_err());
    assert_eq!(pending.len(), rows, "kept for the next try");
    let all = pending.totals(
        Granularity::Day,
        i64::MIN / 2,
        i64::MAX / 2,
        &RollupFilter::default(),
    );
    assert_eq!(all.iter().map(|b| b.sums.requests).sum::<i64>(), 100);
}

#[test]
fn pending_failures_and_rate_limits_are_counted_like_stored_ones() {
    let pending = PendingRollups::default();
    let mut rng = Rng(3);
    let mut events = random_events(&mut rng, 4, 0);
    events[0].code = "VALID";
    events[1].code = "RATE_LIMIT_EXCEEDED";
    events[2].code = "PREFLIGHT";
    events[3].code = "VALID";
    events[3].status = 503;
    events.iter_mut().for_each(|e| e.at_ms = 1_000);
    pending.add(events.iter().map(Into::into));
    let t = pending.totals(
        Granularity::Day,
        i64::MIN / 2,
        i64::MAX / 2,
        &RollupFilter::default(),
    );
    assert_eq!(
        (t[0].sums.requests, t[0].errors, t[0].rate_limited),
        (4, 2, 1)
    );
}

#[tokio::test]
async fn the_busiest_of_many_keys_are_found_bucket_by_bucket_exactly() {
    // 400 keys and clients: more than a first page per bucket, so the search stops on its
    // threshold (skewed traffic) or reads on in growing pages (even traffic).
    for (seed, skewed) in [(11u64, true), (12, false), (13, true)] {
        let t = TempDb::new().await;
        let pending = PendingRollups::default();
        let mut rng = Rng(seed * 0x9E37_79B9_7F4A_7C15);
        let start = 1_800_000_000_000;
        let mut events = random_events(&mut rng, 6_000, start);
        for e in &mut events {
            let n = if skewed {
                let spread = rng.below(400) + 1;
                rng.below(spread)
            } else {
                rng.below(400)
            } as i64;
            e.key_id = Some(1 + n);
            e.ip = format!("198.51.{}.{}", n / 200, n % 200);
        }
        pending.add(events.iter().map(Into::into));
        pending.flush(&t.db, i64::MAX, i64::MAX).await.unwrap();
        for g in [Granularity::Hour, Granularity::Day] {
            let from = g.bucket_start(start);
            let to = g.bucket_start(start + 3 * 86_400_000) + g.millis();
            for owner in [None, Some(1)] {
                let who = Who { key: None, owner };
                assert_busiest(&t.db, &events, who, g, (from, to), &format!("seed {seed}")).await;
            }
        }
    }
}
