//! A month of demo traffic, generated an hour at a time from a seeded RNG: the same plan and
//! keys give the same events. Busy in the afternoon (UTC), quieter at weekends, growing a
//! little over the month. A third of the keys are not called at all (made and forgotten, as
//! keys are); among the others popularity follows a Zipf law, so a few keys carry most of
//! the traffic and most are called now and then. Two incidents give the charts and alerts
//! something to show: an upstream outage of one API and one key's surge into its rate limit.
//! Pure: the caller stores what it gets.

use super::catalog::{self, APIS};
use crate::domain::usage::{UsageEvent, UsageSource};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// What the generator needs to know of a stored demo key.
#[derive(Clone, Debug)]
pub struct DemoKey {
    pub id: i64,
    pub owner_user_id: i64,
    /// Index into `catalog::APIS` of the API the key is bound to.
    pub api: Option<usize>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub enabled: bool,
    pub rate_limited: bool,
    /// Calls often enough to be refused by its rate limit now and then.
    pub noisy: bool,
    /// Only calls from its own client address pass.
    pub ip_locked: bool,
    /// Never called in the window.
    pub dormant: bool,
    /// Index of the key in planning order: picks its client address and user agent.
    pub n: u64,
}

/// Keys drawn with Zipf-distributed popularity (weight 1/rank^1.1, ranks shuffled).
struct Popularity {
    order: Vec<u32>,
    cumulative: Vec<f64>,
}

impl Popularity {
    fn new(indices: Vec<u32>, rng: &mut StdRng) -> Popularity {
        let mut order = indices;
        for i in (1..order.len()).rev() {
            order.swap(i, rng.gen_range(0..=i));
        }
        let mut total = 0.0;
        let cumulative = (0..order.len())
            .map(|rank| {
                total += 1.0 / ((rank + 1) as f64).powf(1.1);
                total
            })
            .collect();
        Popularity { order, cumulative }
    }

    fn pick(&self, rng: &mut StdRng) -> Option<usize> {
        let total = *self.cumulative.last()?;
        let x = rng.r#gen::<f64>() * total;
        let rank = self
            .cumulative
            .partition_point(|&c| c <= x)
            .min(self.order.len() - 1);
        Some(self.order[rank] as usize)
    }
}

/// When the incidents happen, as hour offsets from the first hour of the window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scenario {
    /// Hours in which the surge key calls far more than usual, mostly refused.
    pub surge: (usize, usize),
    pub surge_key: Option<usize>,
    /// Hours in which the outage API answers many calls with 503.
    pub outage: (usize, usize),
    pub outage_api: usize,
}

impl Scenario {
    /// The surge eight days before the end at 10:00 UTC for three hours, the outage three
    /// days before the end at 14:00 UTC for two; windows shorter than that have neither.
    pub fn for_window(first_hour_ms: i64, hours: usize, surge_key: Option<usize>) -> Scenario {
        let end = first_hour_ms + hours as i64 * HOUR_MS;
        let at = |days_before: i64, hour_of_day: i64| -> usize {
            let day = (end - days_before * DAY_MS).div_euclid(DAY_MS) * DAY_MS;
            let h = (day + hour_of_day * HOUR_MS - first_hour_ms).div_euclid(HOUR_MS);
            usize::try_from(h).unwrap_or(usize::MAX)
        };
        let (s, o) = (at(8, 10), at(3, 14));
        Scenario {
            surge: (s, s.saturating_add(3)),
            surge_key,
            outage: (o, o.saturating_add(2)),
            outage_api: 2,
        }
    }

    fn in_surge(&self, hour: usize) -> bool {
        (self.surge.0..self.surge.1).contains(&hour)
    }

    fn in_outage(&self, hour: usize) -> bool {
        (self.outage.0..self.outage.1).contains(&hour)
    }
}

/// The share of the window's traffic in each hour: the daily curve, weekends, growth, the
/// surge, and ±8 % noise.
fn hour_weight(hour_start_ms: i64, progress: f64, surge: bool, noise: f64) -> f64 {
    let hour_of_day = hour_start_ms.rem_euclid(DAY_MS) / HOUR_MS;
    let phase = (hour_of_day as f64 - 3.0) / 24.0 * std::f64::consts::TAU;
    let daily = 0.35 + 0.65 * (0.5 - 0.5 * phase.cos());
    // 1970-01-01 was a Thursday: day 2 and 3 of the week counted from Thursday are Sat, Sun.
    let weekday = hour_start_ms.div_euclid(DAY_MS).rem_euclid(7);
    let weekly = if matches!(weekday, 2 | 3) { 0.7 } else { 1.0 };
    let growth = 0.85 + 0.3 * progress;
    let surge = if surge { 2.0 } else { 1.0 };
    daily * weekly * growth * surge * (1.0 + noise)
}

/// How many of `total` events fall in each of `hours` hours from `first_hour_ms`; the counts
/// add up to `total` exactly (largest remainders).
pub fn hourly_counts(
    total: u64,
    first_hour_ms: i64,
    hours: usize,
    scenario: &Scenario,
    seed: u64,
) -> Vec<u64> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x686f_7572);
    let weights: Vec<f64> = (0..hours)
        .map(|h| {
            let noise = rng.gen_range(-0.08..0.08);
            hour_weight(
                first_hour_ms + h as i64 * HOUR_MS,
                h as f64 / hours.max(1) as f64,
                scenario.in_surge(h),
                noise,
            )
        })
        .collect();
    let sum: f64 = weights.iter().sum();
    if sum <= 0.0 {
        return vec![0; hours];
    }
    let exact: Vec<f64> = weights.iter().map(|w| w / sum * total as f64).collect();
    let mut counts: Vec<u64> = exact.iter().map(|e| e.floor() as u64).collect();
    let short = total.saturating_sub(counts.iter().sum());
    let mut by_remainder: Vec<usize> = (0..hours).collect();
    by_remainder.sort_by(|&a, &b| {
        let (ra, rb) = (exact[a] - exact[a].floor(), exact[b] - exact[b].floor());
        rb.total_cmp(&ra).then(a.cmp(&b))
    });
    for &h in by_remainder.iter().cycle().take(short as usize) {
        counts[h] += 1;
    }
    counts
}

/// A log-normal draw with the given median and spread (Box-Muller).
fn log_normal(rng: &mut StdRng, median: f64, sigma: f64) -> f64 {
    let u1: f64 = rng.gen_range(f64::MIN_POSITIVE..1.0);
    let u2: f64 = rng.r#gen();
    let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
    median * (sigma * z).exp()
}

/// Share of calls made with a key that does not exist.
const INVALID_SHARE: f64 = 0.015;

pub struct TrafficGenerator {
    keys: Vec<DemoKey>,
    api_ids: Vec<i64>,
    everyone: Popularity,
    /// The demo developer's keys, and the share of all calls they make.
    demo: Popularity,
    demo_share: f64,
    scanners: Popularity,
    scenario: Scenario,
    rng: StdRng,
}

impl TrafficGenerator {
    /// `keys` with the demo developer's among them (`demo_owner`); `api_ids` in catalog order.
    pub fn new(
        keys: Vec<DemoKey>,
        demo_owner: i64,
        api_ids: Vec<i64>,
        scenario: Scenario,
        seed: u64,
    ) -> TrafficGenerator {
        let mut rng = StdRng::seed_from_u64(seed);
        let all: Vec<u32> = (0..keys.len() as u32)
            .filter(|&i| !keys[i as usize].dormant)
            .collect();
        let demo: Vec<u32> = all
            .iter()
            .copied()
            .filter(|&i| keys[i as usize].owner_user_id == demo_owner)
            .collect();
        TrafficGenerator {
            everyone: Popularity::new(all, &mut rng),
            demo: Popularity::new(demo, &mut rng),
            demo_share: 0.05,
            scanners: Popularity::new((0..40).collect(), &mut rng),
            keys,
            api_ids,
            scenario,
            rng,
        }
    }

    pub fn keys(&self) -> &[DemoKey] {
        &self.keys
    }

    /// `count` events in hour number `hour` of the window (starting `hour_start_ms`), in
    /// time order; each names the index of its key in `keys()` when it has one.
    pub fn hour(
        &mut self,
        hour: usize,
        hour_start_ms: i64,
        count: u64,
    ) -> Vec<(Option<usize>, UsageEvent)> {
        let mut times: Vec<i64> = (0..count)
            .map(|_| hour_start_ms + self.rng.gen_range(0..HOUR_MS))
            .collect();
        times.sort_unstable();
        times.into_iter().map(|at| self.event(hour, at)).collect()
    }

    fn pick_key(&mut self, hour: usize, at_ms: i64) -> Option<usize> {
        if self.scenario.in_surge(hour) && self.rng.gen_bool(0.5) {
            return self.scenario.surge_key;
        }
        if self.rng.gen_bool(INVALID_SHARE) {
            return None;
        }
        let pool = if self.rng.gen_bool(self.demo_share) {
            &self.demo
        } else {
            &self.everyone
        };
        // A key created later than this call was not called yet: one more draw, then a
        // call with no valid key.
        for _ in 0..2 {
            let i = pool.pick(&mut self.rng)?;
            if self.keys[i].created_at <= at_ms {
                return Some(i);
            }
        }
        None
    }

    fn event(&mut self, hour: usize, at_ms: i64) -> (Option<usize>, UsageEvent) {
        let key = self.pick_key(hour, at_ms);
        let k = key.map(|i| self.keys[i].clone());
        let api = match k.as_ref().and_then(|k| k.api) {
            Some(a) => Some(a),
            None => self
                .rng
                .gen_bool(0.6)
                .then(|| self.rng.gen_range(0..APIS.len())),
        };
        let source = match (&k, api) {
            (Some(k), Some(_)) if k.api.is_some() && self.rng.gen_bool(0.75) => {
                UsageSource::Gateway
            }
            (None, Some(_)) if self.rng.gen_bool(0.5) => UsageSource::Gateway,
            _ => UsageSource::Verify,
        };
        let endpoint = api.map(|a| self.endpoint(a)).unwrap_or_default();
        let variant = if self.rng.gen_bool(0.9) {
            0
        } else {
            self.rng.gen_range(1..3)
        };
        let ip = match &k {
            Some(k) if self.rng.gen_bool(0.97) => catalog::client_ip(k.n, variant),
            Some(_) => catalog::client_ip(self.rng.r#gen(), 0),
            None => {
                let rank = self.scanners.pick(&mut self.rng).unwrap_or(0);
                catalog::scanner_ip(rank)
            }
        };
        let code = match &k {
            None => "API_KEY_INVALID",
            Some(k) => self.check(k, hour, at_ms, variant != 0),
        };
        let valid = code == "VALID";
        let gateway = source == UsageSource::Gateway;
        let outage =
            gateway && api == Some(self.scenario.outage_api) && self.scenario.in_outage(hour);
        let status: u16 = match (gateway, code) {
            (false, _) => 200,
            (true, "VALID") => self.upstream_status(&endpoint, outage),
            (true, "RATE_LIMIT_EXCEEDED" | "QUOTA_EXCEEDED" | "USAGE_EXCEEDED") => 429,
            (true, "PERMISSION_DENIED" | "IP_NOT_ALLOWED") => 403,
            (true, _) => 401,
        };
        let latency_us = if gateway && valid {
            let median = if outage && status == 503 {
                1_500.0
            } else {
                api.map_or(30.0, |a| APIS[a].median_ms)
            };
            log_normal(&mut self.rng, median * 1000.0, 0.6)
        } else {
            log_normal(&mut self.rng, 350.0, 0.5)
        };
        let request_bytes = if !gateway {
            self.rng.gen_range(60..220)
        } else if endpoint.starts_with("POST") || endpoint.starts_with("PATCH") {
            self.rng.gen_range(200..3_000)
        } else {
            0
        };
        let response_bytes = if gateway && valid && status < 400 {
            log_normal(&mut self.rng, 2_400.0, 0.9) as i64
        } else {
            self.rng.gen_range(110..260)
        };
        let user_agent = catalog::USER_AGENTS[(catalog::mix(k.as_ref().map_or(7, |k| k.n))
            % catalog::USER_AGENTS.len() as u64)
            as usize];
        let event = UsageEvent {
            at_ms,
            key_id: k.as_ref().map(|k| k.id),
            owner_user_id: k.as_ref().map(|k| k.owner_user_id),
            api_id: if gateway {
                api.map(|a| self.api_ids[a])
            } else {
                None
            },
            source,
            endpoint,
            code,
            status,
            latency_us: latency_us.round().max(1.0) as i64,
            request_bytes,
            response_bytes,
            ip,
            user_agent: user_agent.to_string(),
        };
        (key, event)
    }

    /// The outcome of a call with key `k` (from another of its client's machines when
    /// `elsewhere`).
    fn check(&mut self, k: &DemoKey, hour: usize, at_ms: i64, elsewhere: bool) -> &'static str {
        if k.revoked_at.is_some_and(|t| t <= at_ms) {
            return "API_KEY_REVOKED";
        }
        if k.expires_at.is_some_and(|t| t <= at_ms) {
            return "API_KEY_EXPIRED";
        }
        if !k.enabled {
            return "API_KEY_DISABLED";
        }
        if k.ip_locked && elsewhere {
            return "IP_NOT_ALLOWED";
        }
        let surge = self.scenario.in_surge(hour)
            && self
                .scenario
                .surge_key
                .is_some_and(|s| self.keys[s].id == k.id);
        let limited_share = match (k.rate_limited, k.noisy || surge) {
            (true, true) if surge => 0.6,
            (true, true) => 0.12,
            (true, false) => 0.004,
            (false, _) => 0.0,
        };
        if self.rng.gen_bool(limited_share) {
            return "RATE_LIMIT_EXCEEDED";
        }
        if self.rng.gen_bool(0.004) {
            return "PERMISSION_DENIED";
        }
        "VALID"
    }

    fn upstream_status(&mut self, endpoint: &str, outage: bool) -> u16 {
        if outage && self.rng.gen_bool(0.35) {
            return 503;
        }
        let r: f64 = self.rng.r#gen();
        if r < 0.003 {
            500
        } else if r < 0.018 {
            404
        } else if r < 0.023 {
            422
        } else if endpoint.starts_with("POST") {
            201
        } else {
            200
        }
    }

    fn endpoint(&mut self, api: usize) -> String {
        let routes = APIS[api].routes;
        let total: u32 = routes.iter().map(|(_, w)| w).sum();
        let mut x = self.rng.gen_range(0..total.max(1));
        let route = routes
            .iter()
            .find(|(_, w)| {
                if x < *w {
                    true
                } else {
                    x -= w;
                    false
                }
            })
            .map_or("GET /", |(r, _)| r);
        let rng = &mut self.rng;
        catalog::concrete_path(route, || rng.gen_range(1..100_000))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const START: i64 = 1_793_491_200_000; // 2026-11-01 00:00 UTC, a Sunday

    fn key(id: i64, owner: i64) -> DemoKey {
        DemoKey {
            id,
            owner_user_id: owner,
            api: Some((id % 4) as usize),
            created_at: 0,
            revoked_at: None,
            expires_at: None,
            enabled: true,
            rate_limited: id % 2 == 0,
            noisy: id % 4 == 0,
            ip_locked: false,
            dormant: id % 10 == 9,
            n: id as u64,
        }
    }

    fn generator(seed: u64) -> TrafficGenerator {
        let keys = (1..=200)
            .map(|i| key(i, if i <= 20 { 1 } else { 2 }))
            .collect();
        let scenario = Scenario::for_window(START, 7 * 24, Some(0));
        TrafficGenerator::new(keys, 1, vec![11, 12, 13, 14], scenario, seed)
    }

    #[test]
    fn hourly_counts_add_up_exactly_and_follow_the_day() {
        let scenario = Scenario::for_window(START, 30 * 24, None);
        let counts = hourly_counts(1_000_003, START, 30 * 24, &scenario, 7);
        assert_eq!(counts.len(), 720);
        assert_eq!(counts.iter().sum::<u64>(), 1_000_003);
        // Tuesday 2026-11-03: 15:00 UTC is busier than 03:00 UTC.
        let tuesday = 2 * 24;
        assert!(counts[tuesday + 15] > 2 * counts[tuesday + 3]);
        assert_eq!(
            counts,
            hourly_counts(1_000_003, START, 30 * 24, &scenario, 7)
        );
        assert_eq!(
            hourly_counts(5, START, 3, &scenario, 1).iter().sum::<u64>(),
            5
        );
    }

    #[test]
    fn the_incidents_fall_inside_the_window() {
        let s = Scenario::for_window(START, 30 * 24, None);
        assert_eq!(
            s.surge,
            (22 * 24 + 10, 22 * 24 + 13),
            "eight days before the end, 10:00"
        );
        assert_eq!(
            s.outage,
            (27 * 24 + 14, 27 * 24 + 16),
            "three days before the end, 14:00"
        );
    }

    #[test]
    fn an_hour_of_events_is_in_order_inside_the_hour_and_repeatable() {
        let hour = 40;
        let start = START + hour as i64 * HOUR_MS;
        let events = generator(3).hour(hour, start, 5_000);
        assert_eq!(events.len(), 5_000);
        assert!(events.windows(2).all(|w| w[0].1.at_ms <= w[1].1.at_ms));
        assert!(
            events
                .iter()
                .all(|(_, e)| (start..start + HOUR_MS).contains(&e.at_ms))
        );
        let again = generator(3).hour(hour, start, 5_000);
        assert_eq!(events, again, "same seed, same events");
        let g = generator(3);
        for (k, e) in &events {
            match k {
                Some(i) => {
                    let key = &g.keys()[*i];
                    assert_eq!(e.key_id, Some(key.id));
                    assert_eq!(e.owner_user_id, Some(key.owner_user_id));
                    assert!(!key.dormant, "dormant keys are never called");
                }
                None => {
                    assert_eq!((e.key_id, e.code), (None, "API_KEY_INVALID"));
                }
            }
            if e.source == UsageSource::Gateway {
                assert!(e.api_id.is_some() && e.endpoint.contains(' '));
            } else {
                assert_eq!((e.api_id, e.status), (None, 200));
            }
            assert!(e.latency_us > 0 && e.response_bytes > 0);
        }
        let valid = events.iter().filter(|(_, e)| e.code == "VALID").count();
        assert!(valid > 4_000, "mostly valid calls: {valid}");
        let demo = events
            .iter()
            .filter(|(_, e)| e.owner_user_id == Some(1))
            .count();
        assert!(demo > 100, "the demo developer's keys are called: {demo}");
    }

    #[test]
    fn revoked_and_expired_keys_are_refused_after_the_fact() {
        let mut keys = vec![key(1, 1), key(2, 1)];
        keys[0].revoked_at = Some(START);
        keys[1].expires_at = Some(START);
        for k in &mut keys {
            k.dormant = false;
        }
        let scenario = Scenario::for_window(START, 24, None);
        let mut g = TrafficGenerator::new(keys, 1, vec![1, 2, 3, 4], scenario, 5);
        let events = g.hour(1, START + HOUR_MS, 500);
        for (k, e) in events.iter().filter(|(k, _)| k.is_some()) {
            let want = if *k == Some(0) {
                "API_KEY_REVOKED"
            } else {
                "API_KEY_EXPIRED"
            };
            assert_eq!(e.code, want);
        }
    }
}
