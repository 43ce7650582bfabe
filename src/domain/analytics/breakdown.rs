//! A report's breakdown for the usage page's charts: requests per bucket by outcome code, and
//! the busiest keys, routes and client IPs, from stored rollups plus this process's pending
//! ones.

use super::pending::PendingRollups;
use super::query::Range;
use super::rollup::{Granularity, is_failure};
use crate::app::usage_types::{NO_ROUTE, OutcomeSeries, TopEntry, UNKNOWN_IP, UsageBreakdown};
use crate::db::rollup_breakdown::{self as store, CodeCount, TopBy, TopTotals, UPSTREAM_5XX};
use crate::db::{self, Db, rollups::RollupFilter};
use crate::domain::db_failure;
use crate::error::AppResult;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Entries per top list.
pub const TOP: usize = 10;

/// The outcome a pending row counts as (as `store::by_code` names it).
fn outcome(code: &str, status_class: i32) -> &str {
    if status_class == 5 && matches!(code, "VALID" | "PREFLIGHT") {
        UPSTREAM_5XX
    } else {
        code
    }
}

/// Adds pending entries to a stored top list and keeps the `TOP` busiest. The stored list
/// was read `TOP` + (pending entries) long, so whatever pending adds cannot push an entry
/// into the top that the stored list left out.
fn merge_top(stored: Vec<TopTotals>, pending: Vec<TopTotals>, by: TopBy) -> Vec<TopTotals> {
    let id = |t: &TopTotals| (t.key_id, t.name.clone());
    let mut all: HashMap<(i64, String), TopTotals> =
        stored.into_iter().map(|t| (id(&t), t)).collect();
    for p in pending {
        let e = all.entry(id(&p)).or_insert_with(|| TopTotals {
            key_id: p.key_id,
            name: p.name.clone(),
            ..TopTotals::default()
        });
        e.requests += p.requests;
        e.errors += p.errors;
    }
    let mut list: Vec<TopTotals> = all.into_values().collect();
    list.sort_by(|a, b| {
        b.requests.cmp(&a.requests).then_with(|| match by {
            TopBy::Key => a.key_id.cmp(&b.key_id),
            TopBy::Endpoint | TopBy::Ip => a.name.cmp(&b.name),
        })
    });
    list.truncate(TOP);
    list
}

/// Where a range's client-IP list comes from: IP rows are hourly at the finest, so a range of
/// minutes is widened to the whole hours it touches.
fn ip_range(range: Range) -> Range {
    let granularity = range.granularity.max(Granularity::Hour);
    Range {
        from_ms: granularity.bucket_start(range.from_ms),
        to_ms: range.to_ms,
        granularity,
    }
}

/// Sums pending rows into a top list's entries, by name or key.
fn add_live(
    into: &mut BTreeMap<(i64, String), TopTotals>,
    key_id: i64,
    name: &str,
    requests: i64,
    errors: i64,
) {
    let t = into
        .entry((key_id, name.to_string()))
        .or_insert_with(|| TopTotals {
            key_id,
            name: name.to_string(),
            ..TopTotals::default()
        });
    t.requests += requests;
    t.errors += errors;
}

/// The breakdown of `range` over the rows `filter` selects; `buckets` are the report's
/// bucket starts, which the outcome series follow.
pub async fn breakdown(
    db: &Db,
    pending: &PendingRollups,
    range: Range,
    filter: &RollupFilter,
) -> AppResult<UsageBreakdown> {
    let g = range.granularity;
    let (from, to) = (range.from_ms, range.to_ms);
    // IP rows carry no route: with a route filter there is no honest IP list to show.
    let ips = filter.endpoint.is_none().then(|| ip_range(range));
    let (codes, keys, endpoints, top_ips) = {
        let _reading = pending.reading().await;
        let mut codes: Vec<CodeCount> = Vec::new();
        let mut live_keys = BTreeMap::new();
        let mut live_routes = BTreeMap::new();
        for (k, s) in &pending.rows(g, from, to, filter) {
            codes.push(CodeCount {
                bucket_start: k.bucket_start,
                code: outcome(&k.code, k.status_class).to_string(),
                requests: s.requests,
            });
            let errors = if is_failure(&k.code, k.status_class) {
                s.requests
            } else {
                0
            };
            add_live(&mut live_keys, k.key_id, "", s.requests, errors);
            add_live(&mut live_routes, 0, &k.endpoint, s.requests, errors);
        }
        let mut live_ips = BTreeMap::new();
        if let Some(r) = ips {
            for (k, s) in pending.ip_rows(r.granularity, r.from_ms, r.to_ms, filter) {
                add_live(&mut live_ips, 0, &k.ip, s.requests, s.errors);
            }
        }
        // Each stored list is read TOP + (pending entries) long: see `merge_top`.
        let top = |r: Range, by: TopBy, live: BTreeMap<(i64, String), TopTotals>| async move {
            let limit = TOP + live.len();
            let g = r.granularity.as_str();
            let stored = if store::ranked_by_bucket(by, filter, g) {
                let buckets = (r.from_ms, r.to_ms, r.granularity.millis());
                super::top::busiest(db, by, filter, g, buckets, limit).await
            } else {
                store::top(db, g, r.from_ms, r.to_ms, filter, by, limit as i64).await
            }
            .map_err(db_failure)?;
            AppResult::Ok(merge_top(stored, live.into_values().collect(), by))
        };
        // Side by side, each on its own pooled connection: the page waits for the slowest
        // read, not for all of them in turn.
        let (stored_codes, keys, routes, top_ips) = tokio::try_join!(
            async {
                store::by_code(db, g.as_str(), from, to, filter)
                    .await
                    .map_err(db_failure)
            },
            top(range, TopBy::Key, live_keys),
            top(range, TopBy::Endpoint, live_routes),
            async {
                match ips {
                    Some(r) => top(r, TopBy::Ip, live_ips).await,
                    None => Ok(Vec::new()),
                }
            },
        )?;
        codes.extend(stored_codes);
        (codes, keys, routes, top_ips)
    };
    let named = |list: Vec<TopTotals>, empty: &str| -> Vec<TopEntry> {
        list.into_iter()
            .map(|t| TopEntry {
                label: if t.name.is_empty() {
                    empty.to_string()
                } else {
                    t.name
                },
                key_id: None,
                requests: t.requests,
                errors: t.errors,
            })
            .collect()
    };
    Ok(UsageBreakdown {
        outcomes: outcome_series(range, codes),
        top_keys: key_entries(db, keys).await?,
        top_endpoints: named(endpoints, NO_ROUTE),
        top_ips: named(top_ips, UNKNOWN_IP),
        ips_note: ips_note(range, ips),
    })
}

/// What the client-IP list covers, when that is not simply the report's range.
fn ips_note(range: Range, ips: Option<Range>) -> Option<String> {
    match ips {
        None => {
            Some("Client IPs are not counted per route: clear the route filter to see them.".into())
        }
        Some(r) if r.from_ms != range.from_ms => {
            let from =
                time::OffsetDateTime::from_unix_timestamp(r.from_ms.div_euclid(1000)).ok()?;
            Some(format!(
                "Client IPs are counted per whole hour: this list starts at {:02}:00 UTC.",
                from.hour()
            ))
        }
        Some(_) => None,
    }
}

/// One series per outcome over every bucket of `range`: VALID first, then by total.
fn outcome_series(range: Range, counts: Vec<CodeCount>) -> Vec<OutcomeSeries> {
    let step = range.granularity.millis();
    let n = usize::try_from((range.to_ms - range.from_ms) / step).unwrap_or(0);
    let mut by_code: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for c in counts {
        let Ok(i) = usize::try_from((c.bucket_start - range.from_ms) / step) else {
            continue;
        };
        if i < n {
            by_code.entry(c.code).or_insert_with(|| vec![0; n])[i] += c.requests;
        }
    }
    let mut series: Vec<OutcomeSeries> = by_code
        .into_iter()
        .map(|(code, requests)| OutcomeSeries {
            total: requests.iter().sum(),
            code,
            requests,
        })
        .collect();
    series.sort_by(|a, b| {
        (b.code == "VALID")
            .cmp(&(a.code == "VALID"))
            .then(b.total.cmp(&a.total))
            .then_with(|| a.code.cmp(&b.code))
    });
    series
}

/// Top keys with their names (a key deleted since is "Key #id").
async fn key_entries(db: &Db, keys: Vec<TopTotals>) -> AppResult<Vec<TopEntry>> {
    let ids: BTreeSet<i64> = keys.iter().map(|t| t.key_id).filter(|id| *id > 0).collect();
    let ids: Vec<i64> = ids.into_iter().collect();
    let names: HashMap<i64, String> = db::keys::names(db, &ids)
        .await
        .map_err(db_failure)?
        .into_iter()
        .collect();
    Ok(keys
        .into_iter()
        .map(|t| TopEntry {
            label: match (t.key_id, names.get(&t.key_id)) {
                (0, _) => "No valid key".to_string(),
                (_, Some(name)) => name.clone(),
                (id, None) => format!("Key #{id}"),
            },
            key_id: (t.key_id > 0).then_some(t.key_id),
            requests: t.requests,
            errors: t.errors,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::analytics::rollup::Granularity;

    #[test]
    fn outcomes_follow_the_buckets_with_valid_first() {
        let range = Range {
            from_ms: 0,
            to_ms: 180_000,
            granularity: Granularity::Minute,
        };
        let c = |b: i64, code: &str, n: i64| CodeCount {
            bucket_start: b,
            code: code.into(),
            requests: n,
        };
        let series = outcome_series(
            range,
            vec![
                c(0, "API_KEY_INVALID", 1),
                c(60_000, "RATE_LIMIT_EXCEEDED", 2),
                c(120_000, "VALID", 5),
                c(0, "VALID", 1),
                c(120_000, "RATE_LIMIT_EXCEEDED", 1),
                c(180_000, "VALID", 9), // past the range
            ],
        );
        let got: Vec<(&str, &[i64])> = series
            .iter()
            .map(|s| (s.code.as_str(), s.requests.as_slice()))
            .collect();
        assert_eq!(
            got,
            [
                ("VALID", &[1, 0, 5][..]),
                ("RATE_LIMIT_EXCEEDED", &[0, 2, 1][..]),
                ("API_KEY_INVALID", &[1, 0, 0][..]),
            ]
        );
    }

    #[test]
    fn pending_entries_join_the_stored_top_list() {
        let t = |key_id: i64, requests: i64| TopTotals {
            key_id,
            requests,
            ..TopTotals::default()
        };
        let stored = (1..=11).map(|id| t(id, 100 - id)).collect();
        let merged = merge_top(stored, vec![t(11, 50), t(12, 1)], TopBy::Key);
        assert_eq!(merged.len(), TOP);
        assert_eq!((merged[0].key_id, merged[0].requests), (11, 139));
        assert_eq!(merged[9].key_id, 9, "key 10 falls out, 12 never gets in");
    }
}
