//! `keyport seed-demo`: fills a database with demo data at scale (by default 1,000
//! developers, 100,000 keys and 10,000,000 usage events over the last 30 days) so the usage
//! pages, reports and benchmarks have something realistic to chew on.
//!
//! Events are generated in time order, an hour at a time, and written the way the usage
//! writer writes them: raw events first, then the minute, hour and day rollups they add up
//! to with the mark moved past them in one transaction. A seed cut short therefore leaves a
//! database the server's start-up recovery completes, never one whose rollups disagree with
//! its raw events.

pub mod catalog;
pub mod keys;
pub mod traffic;

use crate::app::types::Role;
use crate::db::{self, Db, apis::ApiRow, audit::AuditEntry, demo::DemoUser};
use crate::domain::analytics::pending::minutes_kept_since;
use crate::domain::analytics::rollup::{Fact, Granularity, MinuteRows};
use crate::domain::crypto::Keys;
use crate::domain::{Timestamp, db_failure, to_millis};
use crate::error::{AppError, AppResult, ErrorCode};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use traffic::{HOUR_MS, Scenario, TrafficGenerator};

pub const DEMO_DEVELOPER: &str = "demo@keyport.test";
pub const DEMO_ADMIN: &str = "demo-admin@keyport.test";
/// Both demo accounts and every generated developer sign in with this password.
pub const DEMO_PASSWORD: &str = "keyport-demo";

/// How much to make.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DemoPlan {
    pub developers: u64,
    pub keys: u64,
    pub events: u64,
    pub days: u32,
    /// Minute rollups are written for the last this many days only, as the sweeper would
    /// have deleted older ones (KEYPORT_MINUTE_ROLLUP_DAYS).
    pub minute_days: u32,
    /// Same seed, same data (apart from key material and ids).
    pub seed: u64,
}

impl Default for DemoPlan {
    fn default() -> Self {
        DemoPlan {
            developers: 1_000,
            keys: 100_000,
            events: 10_000_000,
            days: 30,
            minute_days: crate::domain::analytics::pending::DEFAULT_MINUTE_DAYS,
            seed: 42,
        }
    }
}

/// What was made and how long each part took.
#[derive(Clone, Debug, Default)]
pub struct DemoReport {
    pub users: usize,
    pub keys: usize,
    pub events: u64,
    pub users_and_keys: Duration,
    pub traffic: Duration,
    pub total: Duration,
}

/// Events written per transaction (and rolled up per store).
const EVENTS_PER_WRITE: usize = 200_000;

/// Seeds `db` with `plan` for a window ending at the start of `now`'s hour. Refuses a
/// database that has demo data already. `progress` hears about each finished day.
pub async fn seed(
    db: &Db,
    crypto: &Keys,
    plan: DemoPlan,
    now: Timestamp,
    mut progress: impl FnMut(String),
) -> AppResult<DemoReport> {
    let started = Instant::now();
    let now_ms = to_millis(now);
    if db::users::credentials_by_email(db, DEMO_DEVELOPER)
        .await
        .map_err(db_failure)?
        .is_some()
    {
        return Err(AppError::new(
            ErrorCode::Conflict,
            format!("This database has demo data already ({DEMO_DEVELOPER} exists)."),
        ));
    }
    let password_hash = crate::domain::passwords::hash_password(DEMO_PASSWORD.into()).await?;
    let mut users = vec![
        DemoUser {
            email: DEMO_ADMIN.into(),
            name: "Demo Admin".into(),
            role: Role::Admin,
        },
        DemoUser {
            email: DEMO_DEVELOPER.into(),
            name: "Demo Developer".into(),
            role: Role::User,
        },
    ];
    users.extend((1..=plan.developers).map(|i| DemoUser {
        email: format!("dev{i:05}@demo.keyport.test"),
        name: format!("Developer {i}"),
        role: Role::User,
    }));
    let ids: HashMap<String, i64> = db::demo::insert_users(db, &users, &password_hash, now_ms)
        .await
        .map_err(db_failure)?
        .into_iter()
        .collect();
    let id_of = |email: &str| ids.get(email).copied().ok_or_else(AppError::internal);
    let (admin, developer) = (id_of(DEMO_ADMIN)?, id_of(DEMO_DEVELOPER)?);
    let developers: Vec<i64> = users[2..]
        .iter()
        .map(|u| id_of(&u.email))
        .collect::<AppResult<_>>()?;
    let api_ids = demo_apis(db, admin, now_ms).await?;

    let end_ms = Granularity::Hour.bucket_start(now_ms);
    let window_start = end_ms - i64::from(plan.days) * 24 * HOUR_MS;
    let owners = keys::Owners {
        demo_developer: developer,
        demo_keys: (plan.keys / 300).clamp(1, 300),
        developers: &developers,
    };
    let planned = keys::plan(
        plan.keys, &owners, &api_ids, crypto, end_ms, plan.days, plan.seed,
    );
    let rows: Vec<_> = planned.iter().map(|p| p.row.clone()).collect();
    let stored: HashMap<String, i64> = db::demo::insert_keys(db, &rows)
        .await
        .map_err(db_failure)?
        .into_iter()
        .collect();
    let mut demo_keys = Vec::with_capacity(planned.len());
    for p in planned {
        let id = stored
            .get(&p.row.key_hash)
            .copied()
            .ok_or_else(AppError::internal)?;
        demo_keys.push(traffic::DemoKey { id, ..p.demo });
    }
    let users_and_keys = started.elapsed();
    progress(format!(
        "{} users and {} keys in {:.1} s",
        users.len(),
        demo_keys.len(),
        users_and_keys.as_secs_f64()
    ));

    let hours = plan.days as usize * 24;
    let surge = keys::surge_key(&demo_keys, developer, window_start);
    let scenario = Scenario::for_window(window_start, hours, surge);
    let counts = traffic::hourly_counts(plan.events, window_start, hours, &scenario, plan.seed);
    let mut generator = TrafficGenerator::new(demo_keys, developer, api_ids, scenario, plan.seed);
    let traffic_started = Instant::now();
    let minutes_since = minutes_kept_since(end_ms, plan.minute_days);
    let mut report = write_traffic(
        db,
        &mut generator,
        (window_start, minutes_since),
        &counts,
        &mut progress,
    )
    .await?;
    report.users = users.len();
    report.keys = generator.keys().len();
    report.users_and_keys = users_and_keys;
    report.traffic = traffic_started.elapsed();
    report.total = started.elapsed();
    Ok(report)
}

/// The catalog's APIs, created by the demo admin (an API whose slug exists already is used
/// as it is); their ids in catalog order.
async fn demo_apis(db: &Db, admin: i64, now_ms: i64) -> AppResult<Vec<i64>> {
    let mut ids = Vec::new();
    for spec in &catalog::APIS {
        if let Some(found) = db::apis::find_by_slug(db, spec.slug)
            .await
            .map_err(db_failure)?
        {
            ids.push(found.id);
            continue;
        }
        let row = ApiRow {
            id: 0,
            name: spec.name.into(),
            slug: spec.slug.into(),
            description: spec.description.into(),
            // The discard port: demo APIs have no upstream, calls through them fail cleanly.
            upstream_url: format!("http://127.0.0.1:9/{}", spec.slug),
            default_rate_limits: "[]".into(),
            timeout_ms: 10_000,
            enabled: true,
            created_by: Some(admin),
            created_at: now_ms,
            updated_at: now_ms,
        };
        let audit = AuditEntry {
            actor_user_id: Some(admin),
            action: "api.created",
            old_values: None,
            new_values: Some(format!("{{\"slug\":\"{}\",\"demo\":true}}", spec.slug)),
            ip: "",
            user_agent: "keyport seed-demo",
            now_ms,
            event: None,
        };
        ids.push(
            db::apis::insert(db, &row, &audit)
                .await
                .map_err(db_failure)?,
        );
    }
    Ok(ids)
}

/// Generates and stores every hour's events with their rollups; records last use per key.
async fn write_traffic(
    db: &Db,
    generator: &mut TrafficGenerator,
    (window_start, minutes_since): (i64, i64),
    counts: &[u64],
    progress: &mut impl FnMut(String),
) -> AppResult<DemoReport> {
    let mut report = DemoReport::default();
    let mut last_used: HashMap<usize, i64> = HashMap::new();
    let mut batch = Vec::with_capacity(EVENTS_PER_WRITE + 100_000);
    let mut minutes = MinuteRows::default();
    let day_started = Instant::now();
    for (hour, &count) in counts.iter().enumerate() {
        let hour_start = window_start + hour as i64 * HOUR_MS;
        for (key, event) in generator.hour(hour, hour_start, count) {
            if let (Some(k), "VALID") = (key, event.code) {
                last_used.insert(k, event.at_ms);
            }
            batch.push(event);
        }
        let last = hour + 1 == counts.len();
        if batch.len() >= EVENTS_PER_WRITE || last {
            minutes.add(batch.iter().map(Fact::from));
            db::usage::insert_batch(db, &batch)
                .await
                .map_err(db_failure)?;
            let mut rows = std::mem::take(&mut minutes).with_coarser();
            let kept =
                |g: Granularity, start: i64| g != Granularity::Minute || start >= minutes_since;
            rows.usage
                .retain(|k, _| kept(k.granularity, k.bucket_start));
            rows.totals
                .retain(|k, _| kept(k.granularity, k.bucket_start));
            // Every event before the next hour is stored and counted.
            db::rollups::store(db, &rows, db::rollups::MarkUp::All(hour_start + HOUR_MS))
                .await
                .map_err(db_failure)?;
            report.events += batch.len() as u64;
            batch.clear();
        }
        if (hour + 1) % 24 == 0 || last {
            progress(format!(
                "day {}/{}: {} events so far ({:.0} events/s)",
                (hour + 1).div_ceil(24),
                counts.len().div_ceil(24),
                report.events,
                report.events as f64 / day_started.elapsed().as_secs_f64().max(1e-9)
            ));
        }
    }
    let keys = generator.keys();
    let updates: Vec<(i64, i64)> = last_used
        .into_iter()
        .map(|(k, at)| (keys[k].id, at))
        .collect();
    db::keys::store_last_used(db, &updates)
        .await
        .map_err(db_failure)?;
    Ok(report)
}
