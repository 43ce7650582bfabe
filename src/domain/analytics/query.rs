//! Usage reports over a time range, answered from rollups (stored, and pending in this
//! process), never from raw events.

use super::pending::{PendingRollups, add_totals};
use super::rollup::{Granularity, RollupSums};
use crate::app::usage_types::{UsageBucket, UsageReport};
use crate::db::rollups::{BucketTotals, RollupFilter};
use crate::db::{self, Db};
use crate::domain::{Timestamp, db_failure, from_millis, to_millis};
use crate::error::{AppResult, Validator};
use serde::Deserialize;

/// `?from&to&granularity` of `GET /keys/{id}/usage`.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RangeQuery {
    /// RFC 3339; default: 24 hours before `to`.
    pub from: Option<String>,
    /// RFC 3339; default: now.
    pub to: Option<String>,
    /// minute, hour or day; default: minute up to 6 hours, hour up to 14 days, else day.
    pub granularity: Option<String>,
}

/// `?from&to&granularity&key_id&api_id&endpoint&owner_user_id` of `GET /analytics/usage`.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsageQuery {
    /// RFC 3339; default: 24 hours before `to`.
    pub from: Option<String>,
    /// RFC 3339; default: now.
    pub to: Option<String>,
    /// minute, hour or day; default: minute up to 6 hours, hour up to 14 days, else day.
    pub granularity: Option<String>,
    /// Only this key's traffic (a key you may see).
    pub key_id: Option<i64>,
    /// Only calls to this API through the gateway.
    pub api_id: Option<i64>,
    /// Only this route, as reports name it (`GET /tickets/{id}`).
    pub endpoint: Option<String>,
    /// Only keys of this owner (admins; others may give only their own id).
    pub owner_user_id: Option<i64>,
}

/// `?format&from&to&granularity` of `GET /keys/{id}/usage/export`.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KeyExportQuery {
    /// csv (default) or json.
    pub format: Option<String>,
    /// RFC 3339; default: 24 hours before `to`.
    pub from: Option<String>,
    /// RFC 3339; default: now.
    pub to: Option<String>,
    /// minute, hour or day; default: minute up to 6 hours, hour up to 14 days, else day.
    pub granularity: Option<String>,
}

/// `?format&from&to&granularity&key_id&api_id&endpoint&owner_user_id` of
/// `GET /analytics/usage/export`.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsageExportQuery {
    /// csv (default) or json.
    pub format: Option<String>,
    /// RFC 3339; default: 24 hours before `to`.
    pub from: Option<String>,
    /// RFC 3339; default: now.
    pub to: Option<String>,
    /// minute, hour or day; default: minute up to 6 hours, hour up to 14 days, else day.
    pub granularity: Option<String>,
    /// Only this key's traffic (a key you may see).
    pub key_id: Option<i64>,
    /// Only calls to this API through the gateway.
    pub api_id: Option<i64>,
    /// Only this route, as reports name it (`GET /tickets/{id}`).
    pub endpoint: Option<String>,
    /// Only keys of this owner (admins; others may give only their own id).
    pub owner_user_id: Option<i64>,
}

impl KeyExportQuery {
    pub fn range(&self) -> RangeQuery {
        RangeQuery {
            from: self.from.clone(),
            to: self.to.clone(),
            granularity: self.granularity.clone(),
        }
    }
}

impl UsageExportQuery {
    pub fn usage(&self) -> UsageQuery {
        UsageQuery {
            from: self.from.clone(),
            to: self.to.clone(),
            granularity: self.granularity.clone(),
            key_id: self.key_id,
            api_id: self.api_id,
            endpoint: self.endpoint.clone(),
            owner_user_id: self.owner_user_id,
        }
    }
}

impl UsageQuery {
    pub fn range(&self) -> RangeQuery {
        RangeQuery {
            from: self.from.clone(),
            to: self.to.clone(),
            granularity: self.granularity.clone(),
        }
    }
}

pub const MAX_BUCKETS: i64 = 1_500;
const DAY_MS: i64 = 86_400_000;
pub const MAX_RANGE_MS: i64 = 400 * DAY_MS;

/// A checked range: whole buckets of `granularity` from `from_ms` to `to_ms`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Range {
    pub from_ms: i64,
    pub to_ms: i64,
    pub granularity: Granularity,
}

fn parse_time(v: &mut Validator, field: &str, text: Option<&str>) -> Option<i64> {
    let text = text.map(str::trim).filter(|t| !t.is_empty())?;
    match Timestamp::parse(text, &time::format_description::well_known::Rfc3339) {
        Ok(t) => Some(to_millis(t)),
        Err(_) => {
            v.check(
                false,
                field,
                "must be an RFC 3339 time such as 2026-11-23T00:00:00Z",
            );
            None
        }
    }
}

/// Checks a query's range at `now`; minute rows cover only `minutes_since_ms` onwards (the
/// retention of minute rows), so older ranges are answered by the hour or day.
pub fn range_of(
    v: &mut Validator,
    q: &RangeQuery,
    now: Timestamp,
    minutes_since_ms: i64,
) -> Option<Range> {
    let to = parse_time(v, "query.to", q.to.as_deref()).unwrap_or(to_millis(now));
    let from = parse_time(v, "query.from", q.from.as_deref()).unwrap_or(to - DAY_MS);
    let granularity = match q.granularity.as_deref().map(str::trim) {
        None | Some("") => {
            let span = to - from;
            Some(if span <= 6 * 3_600_000 && from >= minutes_since_ms {
                Granularity::Minute
            } else if span <= 14 * DAY_MS {
                Granularity::Hour
            } else {
                Granularity::Day
            })
        }
        Some(text) => {
            let g = Granularity::parse(text);
            v.check(
                g.is_some(),
                "query.granularity",
                "must be minute, hour or day",
            );
            g
        }
    };
    v.check(
        granularity != Some(Granularity::Minute) || from >= minutes_since_ms,
        "query.granularity",
        "minute rows are kept only for recent days (KEYPORT_MINUTE_ROLLUP_DAYS); choose hour or day for a range that starts earlier",
    );
    v.check(from < to, "query.from", "must be before `to`");
    v.check(
        to - from <= MAX_RANGE_MS,
        "query.from",
        "must be at most 400 days before `to`",
    );
    let g = granularity?;
    if from >= to || to - from > MAX_RANGE_MS {
        return None;
    }
    let from_ms = g.bucket_start(from);
    let to_ms = g.bucket_start(to - 1) + g.millis();
    v.check(
        (to_ms - from_ms) / g.millis() <= MAX_BUCKETS,
        "query.granularity",
        "gives more than 1500 buckets for this range; choose a coarser one",
    );
    Some(Range {
        from_ms,
        to_ms,
        granularity: g,
    })
}

fn ms(us: i64) -> f64 {
    (us as f64 / 1000.0 * 1000.0).round() / 1000.0
}

fn bucket(start_ms: i64, t: &BucketTotals) -> UsageBucket {
    let s = &t.sums;
    let pct = |q: f64| s.latency.quantile_us(q).map(ms);
    UsageBucket {
        start: from_millis(start_ms),
        requests: s.requests,
        errors: t.errors,
        rate_limited: t.rate_limited,
        request_bytes: s.request_bytes,
        response_bytes: s.response_bytes,
        mean_latency_ms: (s.requests > 0).then(|| ms(s.latency_sum_us / s.requests)),
        p50_latency_ms: pct(0.50),
        p95_latency_ms: pct(0.95),
        p99_latency_ms: pct(0.99),
    }
}

/// The report for `range` over the rollup rows `filter` selects; every bucket is present.
pub async fn report(
    db: &Db,
    pending: &PendingRollups,
    range: Range,
    filter: &RollupFilter,
) -> AppResult<UsageReport> {
    let g = range.granularity;
    let rows = {
        let _reading = pending.reading().await;
        let stored = db::rollups::totals(db, g.as_str(), range.from_ms, range.to_ms, filter)
            .await
            .map_err(db_failure)?;
        add_totals(
            stored,
            pending.totals(g, range.from_ms, range.to_ms, filter),
        )
    };
    let mut total = BucketTotals {
        bucket_start: range.from_ms,
        sums: RollupSums::default(),
        ..BucketTotals::default()
    };
    let mut found = rows.iter().peekable();
    let mut buckets = Vec::new();
    let mut at = range.from_ms;
    while at < range.to_ms {
        let empty = BucketTotals {
            bucket_start: at,
            ..BucketTotals::default()
        };
        let t = match found.peek() {
            Some(r) if r.bucket_start == at => found.next().unwrap_or(&empty),
            _ => &empty,
        };
        total.sums.add(&t.sums);
        total.errors += t.errors;
        total.rate_limited += t.rate_limited;
        buckets.push(bucket(at, t));
        at += g.millis();
    }
    Ok(UsageReport {
        from: from_millis(range.from_ms),
        to: from_millis(range.to_ms),
        granularity: g.as_str().to_string(),
        buckets,
        total: bucket(range.from_ms, &total),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(from: &str, to: &str, g: &str) -> RangeQuery {
        let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
        RangeQuery {
            from: some(from),
            to: some(to),
            granularity: some(g),
        }
    }

    fn fields(query: &RangeQuery) -> Vec<String> {
        let mut v = Validator::default();
        range_of(
            &mut v,
            query,
            time::macros::datetime!(2026-11-23 10:30 UTC),
            i64::MIN,
        );
        match v.finish() {
            Ok(()) => vec![],
            Err(e) => e.errors.into_iter().map(|e| e.field).collect(),
        }
    }

    #[test]
    fn ranges_default_and_align_to_whole_buckets() {
        let now = time::macros::datetime!(2026-11-23 10:30:15 UTC);
        let mut v = Validator::default();
        let r = range_of(&mut v, &RangeQuery::default(), now, i64::MIN).unwrap();
        assert_eq!(r.granularity, Granularity::Hour, "24 h: hours");
        assert_eq!(
            r.from_ms,
            to_millis(time::macros::datetime!(2026-11-22 10:00 UTC))
        );
        assert_eq!(
            r.to_ms,
            to_millis(time::macros::datetime!(2026-11-23 11:00 UTC))
        );
        let r = range_of(&mut v, &q("2026-11-23T09:30:00Z", "", ""), now, i64::MIN).unwrap();
        assert_eq!(r.granularity, Granularity::Minute);
        let r = range_of(&mut v, &q("2026-10-01T00:00:00Z", "", ""), now, i64::MIN).unwrap();
        assert_eq!(r.granularity, Granularity::Day);
        assert!(v.finish().is_ok());
    }

    #[test]
    fn bad_ranges_name_the_field() {
        assert_eq!(fields(&q("yesterday", "", "")), ["query.from"]);
        assert_eq!(fields(&q("", "", "week")), ["query.granularity"]);
        assert_eq!(
            fields(&q("2026-11-23T10:00:00Z", "2026-11-23T09:00:00Z", "")),
            ["query.from"]
        );
        assert_eq!(fields(&q("2024-01-01T00:00:00Z", "", "")), ["query.from"]);
        assert_eq!(
            fields(&q("2026-10-01T00:00:00Z", "", "minute")),
            ["query.granularity"],
            "too many buckets"
        );
    }

    #[test]
    fn minute_reports_stay_within_the_minute_rows_kept() {
        let now = time::macros::datetime!(2026-11-23 10:30 UTC);
        let since = to_millis(time::macros::datetime!(2026-11-16 10:30 UTC));
        let mut v = Validator::default();
        let recent = q("2026-11-23T09:30:00Z", "", "");
        let r = range_of(&mut v, &recent, now, since).unwrap();
        assert_eq!(r.granularity, Granularity::Minute);
        let old = q("2026-11-10T09:30:00Z", "2026-11-10T10:30:00Z", "");
        let r = range_of(&mut v, &old, now, since).unwrap();
        assert_eq!(
            r.granularity,
            Granularity::Hour,
            "chosen: hours, as minutes are gone"
        );
        assert!(v.finish().is_ok());
        let mut v = Validator::default();
        let old_by_minute = q("2026-11-10T09:30:00Z", "2026-11-10T10:30:00Z", "minute");
        range_of(&mut v, &old_by_minute, now, since);
        let fields: Vec<String> = v
            .finish()
            .unwrap_err()
            .errors
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["query.granularity"]);
    }
}
