//! A report's breakdown for the usage page's charts: requests per bucket by outcome code, and
//! the busiest keys and routes, from stored rollups plus this process's pending ones.

use super::pending::PendingRollups;
use super::query::Range;
use super::rollup::is_failure;
use crate::app::usage_types::{NO_ROUTE, OutcomeSeries, TopEntry, UsageBreakdown};
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
    let id = |t: &TopTotals| (t.key_id, t.endpoint.clone());
    let mut all: HashMap<(i64, String), TopTotals> =
        stored.into_iter().map(|t| (id(&t), t)).collect();
    for p in pending {
        let e = all.entry(id(&p)).or_insert_with(|| TopTotals {
            key_id: p.key_id,
            endpoint: p.endpoint.clone(),
            ..TopTotals::default()
        });
        e.requests += p.requests;
        e.errors += p.errors;
    }
    let mut list: Vec<TopTotals> = all.into_values().collect();
    list.sort_by(|a, b| {
        b.requests.cmp(&a.requests).then_with(|| match by {
            TopBy::Key => a.key_id.cmp(&b.key_id),
            TopBy::Endpoint => a.endpoint.cmp(&b.endpoint),
        })
    });
    list.truncate(TOP);
    list
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
    let (codes, keys, endpoints) = {
        let _reading = pending.reading().await;
        let live = pending.rows(g, from, to, filter);
        let mut codes: Vec<CodeCount> = Vec::new();
        let mut live_keys: BTreeMap<i64, TopTotals> = BTreeMap::new();
        let mut live_routes: BTreeMap<String, TopTotals> = BTreeMap::new();
        for (k, s) in &live {
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
            for t in [
                live_keys.entry(k.key_id).or_insert_with(|| TopTotals {
                    key_id: k.key_id,
                    ..TopTotals::default()
                }),
                live_routes
                    .entry(k.endpoint.clone())
                    .or_insert_with(|| TopTotals {
                        endpoint: k.endpoint.clone(),
                        ..TopTotals::default()
                    }),
            ] {
                t.requests += s.requests;
                t.errors += errors;
            }
        }
        let stored_codes = store::by_code(db, g.as_str(), from, to, filter)
            .await
            .map_err(db_failure)?;
        codes.extend(stored_codes);
        let read_top = |by: TopBy, extra: usize| {
            store::top(db, g.as_str(), from, to, filter, by, (TOP + extra) as i64)
        };
        let keys = read_top(TopBy::Key, live_keys.len())
            .await
            .map_err(db_failure)?;
        let routes = read_top(TopBy::Endpoint, live_routes.len())
            .await
            .map_err(db_failure)?;
        (
            codes,
            merge_top(keys, live_keys.into_values().collect(), TopBy::Key),
            merge_top(routes, live_routes.into_values().collect(), TopBy::Endpoint),
        )
    };
    Ok(UsageBreakdown {
        outcomes: outcome_series(range, codes),
        top_keys: key_entries(db, keys).await?,
        top_endpoints: endpoints
            .into_iter()
            .map(|t| TopEntry {
                label: if t.endpoint.is_empty() {
                    NO_ROUTE.to_string()
                } else {
                    t.endpoint
                },
                key_id: None,
                requests: t.requests,
                errors: t.errors,
            })
            .collect(),
    })
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
