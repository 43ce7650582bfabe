//! Rollups: minute, hour and day sums of usage events by key, API, owner, endpoint, outcome
//! code and status class, each with a latency histogram. The usage writer sums the events it
//! stores into minute rows in memory ([`super::pending`]) and adds each ended minute, with the
//! hour and day rows it adds up to, to the stored rows (`db::rollups`): any range is answered
//! by adding rows, and rollups outlive the raw events' retention.
//!
//! Client IPs are counted apart ([`IpKey`]): as a dimension of every row they would multiply
//! the rows by the number of clients. Their rows are hourly and daily only, since a minute
//! row per client is about as large as the raw events it sums.

use super::histogram::Histogram;
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Granularity {
    Minute,
    Hour,
    Day,
}

impl Granularity {
    pub const ALL: [Granularity; 3] = [Granularity::Minute, Granularity::Hour, Granularity::Day];

    pub fn millis(self) -> i64 {
        match self {
            Granularity::Minute => 60_000,
            Granularity::Hour => 3_600_000,
            Granularity::Day => 86_400_000,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Granularity::Minute => "minute",
            Granularity::Hour => "hour",
            Granularity::Day => "day",
        }
    }

    pub fn parse(text: &str) -> Option<Granularity> {
        Self::ALL.into_iter().find(|g| g.as_str() == text)
    }

    /// The start of the bucket holding `at_ms` (UTC; days start at midnight).
    pub fn bucket_start(self, at_ms: i64) -> i64 {
        at_ms - at_ms.rem_euclid(self.millis())
    }
}

/// What one raw event contributes, as read back from `usage_events`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawEvent {
    pub id: i64,
    pub at_ms: i64,
    pub key_id: Option<i64>,
    pub owner_user_id: Option<i64>,
    pub api_id: Option<i64>,
    pub endpoint: String,
    pub code: String,
    pub status: i32,
    pub latency_us: i64,
    pub request_bytes: i64,
    pub response_bytes: i64,
    pub ip: String,
}

/// The dimensions of a rollup row; absent ids are 0 (ids start at 1).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RollupKey {
    pub granularity: Granularity,
    pub bucket_start: i64,
    pub key_id: i64,
    pub api_id: i64,
    pub owner_user_id: i64,
    pub endpoint: String,
    pub code: String,
    /// 2 for 2xx … 5 for 5xx; 0 when there was no HTTP status.
    pub status_class: i32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RollupSums {
    pub requests: i64,
    pub request_bytes: i64,
    pub response_bytes: i64,
    pub latency_sum_us: i64,
    pub latency: Histogram,
}

impl RollupSums {
    pub fn add(&mut self, other: &RollupSums) {
        self.requests += other.requests;
        self.request_bytes += other.request_bytes;
        self.response_bytes += other.response_bytes;
        self.latency_sum_us += other.latency_sum_us;
        self.latency.add(&other.latency);
    }

    fn record(&mut self, e: &Fact) {
        self.requests += 1;
        self.request_bytes += e.request_bytes.max(0);
        self.response_bytes += e.response_bytes.max(0);
        let latency = e.latency_us.max(0);
        self.latency_sum_us += latency;
        self.latency.record(latency);
    }
}

pub const ENDPOINT_MAX_CHARS: usize = 128;

/// A path segment that names one thing rather than a route: numbers, UUIDs, long hex.
fn is_identifier(segment: &str) -> bool {
    let hexish = segment.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    let digits = segment.chars().filter(char::is_ascii_digit).count();
    (!segment.is_empty() && segment.chars().all(|c| c.is_ascii_digit()))
        || (hexish && segment.len() >= 16 && digits > 0)
}

/// `GET /tickets/123/comments?x=1` → `GET /tickets/{id}/comments`: rollups count routes, not
/// every id ever called, so their size follows the API's shape rather than its data.
pub fn route_of(endpoint: &str) -> String {
    let endpoint = endpoint.trim();
    let (method, path) = match endpoint.split_once(' ') {
        Some((m, p)) => (Some(m), p.trim()),
        None => (None, endpoint),
    };
    let path = path.split(['?', '#']).next().unwrap_or("");
    let route = path
        .split('/')
        .map(|s| if is_identifier(s) { "{id}" } else { s })
        .collect::<Vec<_>>()
        .join("/");
    let mut out = match method {
        Some(m) => format!("{m} {route}"),
        None => route,
    };
    if out.chars().count() > ENDPOINT_MAX_CHARS {
        out = out.chars().take(ENDPOINT_MAX_CHARS).collect();
    }
    out
}

/// What one usage event contributes, borrowed from a live event or a stored one.
#[derive(Clone, Copy, Debug)]
pub struct Fact<'a> {
    pub at_ms: i64,
    pub key_id: Option<i64>,
    pub api_id: Option<i64>,
    pub owner_user_id: Option<i64>,
    pub endpoint: &'a str,
    pub code: &'a str,
    pub status: i32,
    pub latency_us: i64,
    pub request_bytes: i64,
    pub response_bytes: i64,
    /// The client's address as the edge saw it ('' when unknown).
    pub ip: &'a str,
}

impl RawEvent {
    pub fn fact(&self) -> Fact<'_> {
        Fact {
            at_ms: self.at_ms,
            key_id: self.key_id,
            api_id: self.api_id,
            owner_user_id: self.owner_user_id,
            endpoint: &self.endpoint,
            code: &self.code,
            status: self.status,
            latency_us: self.latency_us,
            request_bytes: self.request_bytes,
            response_bytes: self.response_bytes,
            ip: &self.ip,
        }
    }
}

impl<'a> From<&'a crate::domain::usage::UsageEvent> for Fact<'a> {
    fn from(e: &'a crate::domain::usage::UsageEvent) -> Self {
        Fact {
            at_ms: e.at_ms,
            key_id: e.key_id,
            api_id: e.api_id,
            owner_user_id: e.owner_user_id,
            endpoint: &e.endpoint,
            code: e.code,
            status: i32::from(e.status),
            latency_us: e.latency_us,
            request_bytes: e.request_bytes,
            response_bytes: e.response_bytes,
            ip: &e.ip,
        }
    }
}

/// 2 for 2xx … 5 for 5xx; 0 when there was no HTTP status.
fn status_class(status: i32) -> i32 {
    if (100..600).contains(&status) {
        status / 100
    } else {
        0
    }
}

/// Whether a row's requests count as errors: refused by a check (anything but VALID or a CORS
/// preflight) or answered 5xx by the upstream. `db::rollups` says the same in SQL.
pub fn is_failure(code: &str, status_class: i32) -> bool {
    !matches!(code, "VALID" | "PREFLIGHT") || status_class == 5
}

impl RollupKey {
    /// The minute row an event belongs to.
    pub fn minute_of(f: &Fact) -> RollupKey {
        RollupKey {
            granularity: Granularity::Minute,
            bucket_start: Granularity::Minute.bucket_start(f.at_ms),
            key_id: f.key_id.unwrap_or(0),
            api_id: f.api_id.unwrap_or(0),
            owner_user_id: f.owner_user_id.unwrap_or(0),
            endpoint: route_of(f.endpoint),
            code: f.code.to_string(),
            status_class: status_class(f.status),
        }
    }

    /// The same row at a coarser granularity.
    pub fn at(&self, granularity: Granularity) -> RollupKey {
        RollupKey {
            granularity,
            bucket_start: granularity.bucket_start(self.bucket_start),
            ..self.clone()
        }
    }

    /// The smallest minute key starting at `bucket_start` (for splitting a map of minute rows).
    pub fn first_of_minute(bucket_start: i64) -> RollupKey {
        RollupKey {
            granularity: Granularity::Minute,
            bucket_start,
            key_id: i64::MIN,
            api_id: i64::MIN,
            owner_user_id: i64::MIN,
            endpoint: String::new(),
            code: String::new(),
            status_class: i32::MIN,
        }
    }
}

/// The dimensions of a client-IP row; absent ids are 0, an unknown address ''.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IpKey {
    pub granularity: Granularity,
    pub bucket_start: i64,
    pub owner_user_id: i64,
    pub key_id: i64,
    pub api_id: i64,
    pub ip: String,
}

impl IpKey {
    fn minute_of(f: &Fact) -> IpKey {
        IpKey {
            granularity: Granularity::Minute,
            bucket_start: Granularity::Minute.bucket_start(f.at_ms),
            owner_user_id: f.owner_user_id.unwrap_or(0),
            key_id: f.key_id.unwrap_or(0),
            api_id: f.api_id.unwrap_or(0),
            ip: f.ip.to_string(),
        }
    }

    /// The same row at a coarser granularity.
    pub fn at(&self, granularity: Granularity) -> IpKey {
        IpKey {
            granularity,
            bucket_start: granularity.bucket_start(self.bucket_start),
            ..self.clone()
        }
    }

    fn first_of_minute(bucket_start: i64) -> IpKey {
        IpKey {
            granularity: Granularity::Minute,
            bucket_start,
            owner_user_id: i64::MIN,
            key_id: i64::MIN,
            api_id: i64::MIN,
            ip: String::new(),
        }
    }
}

/// Requests of a client (or key) in a bucket, and how many of them failed ([`is_failure`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub requests: i64,
    pub errors: i64,
}

impl Counts {
    pub fn add(&mut self, other: &Counts) {
        self.requests += other.requests;
        self.errors += other.errors;
    }
}

pub type Rows = BTreeMap<RollupKey, RollupSums>;
pub type IpRows = BTreeMap<IpKey, Counts>;

/// The owner of `usage_totals` and `usage_ip_totals` rows that count every owner's keys.
pub const ALL_OWNERS: i64 = -1;

/// The dimensions of a `usage_totals` row: a rollup row without its key, for one owner or
/// [`ALL_OWNERS`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TotalKey {
    pub granularity: Granularity,
    pub owner_user_id: i64,
    pub bucket_start: i64,
    pub api_id: i64,
    pub endpoint: String,
    pub code: String,
    pub status_class: i32,
}

/// The dimensions of a `usage_outcome_totals` row: a `usage_totals` row without its route.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OutcomeKey {
    pub granularity: Granularity,
    pub owner_user_id: i64,
    pub bucket_start: i64,
    pub api_id: i64,
    pub code: String,
    pub status_class: i32,
}

impl From<&TotalKey> for OutcomeKey {
    fn from(k: &TotalKey) -> Self {
        OutcomeKey {
            granularity: k.granularity,
            owner_user_id: k.owner_user_id,
            bucket_start: k.bucket_start,
            api_id: k.api_id,
            code: k.code.clone(),
            status_class: k.status_class,
        }
    }
}

/// The dimensions of a `usage_key_totals` row (the owner rides along: a key has one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyTotalKey {
    pub granularity: Granularity,
    pub bucket_start: i64,
    pub key_id: i64,
    pub owner_user_id: i64,
}

/// The dimensions of a `usage_ip_totals` row, for one owner or [`ALL_OWNERS`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IpTotalKey {
    pub granularity: Granularity,
    pub owner_user_id: i64,
    pub bucket_start: i64,
    pub ip: String,
}

/// Adds every row of `from` to the same row of `into`.
fn add_all<K: Ord, V: Default>(
    into: &mut BTreeMap<K, V>,
    from: BTreeMap<K, V>,
    add: impl Fn(&mut V, &V),
) {
    for (k, v) in from {
        add(into.entry(k).or_default(), &v);
    }
}

/// Every row a store adds, per table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoreRows {
    /// `usage_rollups`: minute rows with the hour and day rows they add up to.
    pub usage: Rows,
    /// `usage_ip_rollups`: hours and days.
    pub ips: IpRows,
    /// `usage_totals`: all owners at every granularity, each owner by hour and day.
    pub totals: BTreeMap<TotalKey, RollupSums>,
    /// `usage_outcome_totals`: `totals` summed over routes.
    pub outcomes: BTreeMap<OutcomeKey, RollupSums>,
    /// `usage_key_totals`: hours and days.
    pub key_totals: BTreeMap<KeyTotalKey, Counts>,
    /// `usage_ip_totals`: all owners and each owner, hours and days.
    pub ip_totals: BTreeMap<IpTotalKey, Counts>,
}

impl StoreRows {
    /// Adds `other`'s rows to these.
    pub fn merge(&mut self, other: StoreRows) {
        add_all(&mut self.usage, other.usage, RollupSums::add);
        add_all(&mut self.ips, other.ips, Counts::add);
        add_all(&mut self.totals, other.totals, RollupSums::add);
        add_all(&mut self.outcomes, other.outcomes, RollupSums::add);
        add_all(&mut self.key_totals, other.key_totals, Counts::add);
        add_all(&mut self.ip_totals, other.ip_totals, Counts::add);
    }

    /// Adds the key-less totals of the usage and client rows already in `self`.
    fn with_totals(mut self) -> StoreRows {
        for (k, s) in &self.usage {
            let total = |owner_user_id| TotalKey {
                granularity: k.granularity,
                owner_user_id,
                bucket_start: k.bucket_start,
                api_id: k.api_id,
                endpoint: k.endpoint.clone(),
                code: k.code.clone(),
                status_class: k.status_class,
            };
            self.totals.entry(total(ALL_OWNERS)).or_default().add(s);
            if k.granularity == Granularity::Minute {
                continue;
            }
            self.totals
                .entry(total(k.owner_user_id))
                .or_default()
                .add(s);
            let counts = Counts {
                requests: s.requests,
                errors: if is_failure(&k.code, k.status_class) {
                    s.requests
                } else {
                    0
                },
            };
            let key = KeyTotalKey {
                granularity: k.granularity,
                bucket_start: k.bucket_start,
                key_id: k.key_id,
                owner_user_id: k.owner_user_id,
            };
            self.key_totals.entry(key).or_default().add(&counts);
        }
        for (k, s) in &self.ips {
            for owner_user_id in [ALL_OWNERS, k.owner_user_id] {
                let key = IpTotalKey {
                    granularity: k.granularity,
                    owner_user_id,
                    bucket_start: k.bucket_start,
                    ip: k.ip.clone(),
                };
                self.ip_totals.entry(key).or_default().add(s);
            }
        }
        for (k, s) in &self.totals {
            self.outcomes.entry(k.into()).or_default().add(s);
        }
        self
    }
}

/// Minute rows of both kinds, as the usage writer holds them until their minute is stored.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MinuteRows {
    pub usage: Rows,
    pub ips: IpRows,
}

impl MinuteRows {
    /// Adds facts to minute rows.
    pub fn add<'a>(&mut self, facts: impl IntoIterator<Item = Fact<'a>>) {
        for f in facts {
            self.usage
                .entry(RollupKey::minute_of(&f))
                .or_default()
                .record(&f);
            let ip = self.ips.entry(IpKey::minute_of(&f)).or_default();
            ip.requests += 1;
            ip.errors += i64::from(is_failure(f.code, status_class(f.status)));
        }
    }

    pub fn merge(&mut self, other: MinuteRows) {
        add_all(&mut self.usage, other.usage, RollupSums::add);
        add_all(&mut self.ips, other.ips, Counts::add);
    }

    pub fn is_empty(&self) -> bool {
        self.usage.is_empty() && self.ips.is_empty()
    }

    /// Takes out the rows of minutes that start before `before_ms`.
    pub fn take_before(&mut self, before_ms: i64) -> MinuteRows {
        let later = MinuteRows {
            usage: self.usage.split_off(&RollupKey::first_of_minute(before_ms)),
            ips: self.ips.split_off(&IpKey::first_of_minute(before_ms)),
        };
        std::mem::replace(self, later)
    }

    /// The rows to store when the minutes end: the minute rows and the all-owners minute
    /// totals. Their hour and day rows come later, from [`CoarseRows`].
    pub fn minute_store_rows(self) -> StoreRows {
        StoreRows {
            usage: self.usage,
            ..StoreRows::default()
        }
        .with_totals()
    }

    /// The rows to store: usage rows of every granularity (minute rows with the hour and day
    /// rows they add up to), client-IP rows by hour and day, and the key-less totals of both.
    pub fn with_coarser(self) -> StoreRows {
        let mut coarse = CoarseRows::default();
        coarse.absorb(&self);
        let mut rows = self.minute_store_rows();
        rows.merge(coarse.store_rows());
        rows
    }
}

/// Minute rows already stored as minutes, summed by hour, waiting to be added to the hour and
/// day rows (and the client-IP rows and key totals, which have no minutes).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CoarseRows {
    pub usage: Rows,
    pub ips: IpRows,
}

impl CoarseRows {
    /// Adds minute rows, by hour.
    pub fn absorb(&mut self, minutes: &MinuteRows) {
        for (k, s) in &minutes.usage {
            self.usage
                .entry(k.at(Granularity::Hour))
                .or_default()
                .add(s);
        }
        for (k, s) in &minutes.ips {
            self.ips.entry(k.at(Granularity::Hour)).or_default().add(s);
        }
    }

    pub fn merge(&mut self, other: CoarseRows) {
        add_all(&mut self.usage, other.usage, RollupSums::add);
        add_all(&mut self.ips, other.ips, Counts::add);
    }

    pub fn is_empty(&self) -> bool {
        self.usage.is_empty() && self.ips.is_empty()
    }

    /// The hour and day rows of every table and their key-less totals.
    pub fn store_rows(self) -> StoreRows {
        let mut usage = Rows::new();
        for (key, sums) in self.usage {
            usage
                .entry(key.at(Granularity::Day))
                .or_default()
                .add(&sums);
            usage.entry(key).or_default().add(&sums);
        }
        let mut ips = IpRows::new();
        for (key, sums) in self.ips {
            ips.entry(key.at(Granularity::Day)).or_default().add(&sums);
            ips.entry(key).or_default().add(&sums);
        }
        StoreRows {
            usage,
            ips,
            ..StoreRows::default()
        }
        .with_totals()
    }
}

/// Sums `events` into rows of every granularity and table.
pub fn aggregate(events: &[RawEvent]) -> StoreRows {
    let mut minutes = MinuteRows::default();
    minutes.add(events.iter().map(RawEvent::fact));
    minutes.with_coarser()
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn event(id: i64, at_ms: i64, key: i64, code: &str, latency_us: i64) -> RawEvent {
        RawEvent {
            id,
            at_ms,
            key_id: Some(key),
            owner_user_id: Some(1),
            api_id: None,
            endpoint: format!("GET /tickets/{id}"),
            code: code.into(),
            status: if code == "VALID" { 200 } else { 429 },
            latency_us,
            request_bytes: 10,
            response_bytes: 100,
            ip: format!("192.0.2.{}", id % 3),
        }
    }

    #[test]
    fn buckets_start_on_utc_boundaries() {
        let t = 1_795_428_672_345; // 2026-11-23 10:11:12.345 UTC
        assert_eq!(Granularity::Minute.bucket_start(t), 1_795_428_660_000);
        assert_eq!(Granularity::Hour.bucket_start(t), 1_795_428_000_000);
        assert_eq!(Granularity::Day.bucket_start(t), 1_795_392_000_000);
        assert_eq!(Granularity::Day.bucket_start(-1), -86_400_000);
    }

    #[test]
    fn routes_replace_ids() {
        assert_eq!(
            route_of("GET /tickets/123/comments?x=1"),
            "GET /tickets/{id}/comments"
        );
        assert_eq!(
            route_of("DELETE /u/3f2a8c1e-1b2c-4d5e-8f90-123456789abc"),
            "DELETE /u/{id}"
        );
        assert_eq!(route_of("GET /files/deadbeefdeadbeef1"), "GET /files/{id}");
        assert_eq!(
            route_of("GET /v2/face/feed"),
            "GET /v2/face/feed",
            "words stay"
        );
        assert_eq!(route_of("/plain/7"), "/plain/{id}");
        assert_eq!(route_of(""), "");
        assert_eq!(
            route_of(&format!("GET /{}", "a".repeat(300)))
                .chars()
                .count(),
            128
        );
    }

    #[test]
    fn every_granularity_counts_every_event() {
        let minute = 60_000;
        let events = vec![
            event(1, 10 * minute, 7, "VALID", 1_000),
            event(2, 10 * minute + 5, 7, "VALID", 3_000),
            event(3, 11 * minute, 7, "VALID", 2_000),
            event(4, 11 * minute, 7, "RATE_LIMIT_EXCEEDED", 100),
        ];
        let StoreRows {
            usage: rows, ips, ..
        } = aggregate(&events);
        for g in Granularity::ALL {
            let total: i64 = rows
                .iter()
                .filter(|(k, _)| k.granularity == g)
                .map(|(_, s)| s.requests)
                .sum();
            assert_eq!(total, 4, "{g:?}");
        }
        let minutes: Vec<_> = rows
            .iter()
            .filter(|(k, _)| k.granularity == Granularity::Minute && k.code == "VALID")
            .map(|(k, s)| {
                (
                    k.bucket_start,
                    s.requests,
                    s.latency_sum_us,
                    k.endpoint.as_str(),
                )
            })
            .collect();
        assert_eq!(
            minutes,
            vec![
                (10 * minute, 2, 4_000, "GET /tickets/{id}"),
                (11 * minute, 1, 2_000, "GET /tickets/{id}")
            ]
        );
        // Client IPs: hour and day rows only; event 4 (refused) is 192.0.2.1's error.
        assert!(ips.keys().all(|k| k.granularity != Granularity::Minute));
        let hourly: Vec<_> = ips
            .iter()
            .filter(|(k, _)| k.granularity == Granularity::Hour)
            .map(|(k, s)| (k.ip.as_str(), s.requests, s.errors))
            .collect();
        assert_eq!(
            hourly,
            [
                ("192.0.2.0", 1, 0),
                ("192.0.2.1", 2, 1),
                ("192.0.2.2", 1, 0)
            ]
        );
    }
}
