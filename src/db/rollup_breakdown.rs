//! Usage rollups broken down for charts: requests per bucket and outcome code, and the
//! busiest keys, routes and client IPs of a range.

use super::rollups::{
    Bind, RollupFilter, bind_all, bucket_source, failed_requests, filter_sql, source,
};
use super::{Db, with_pool};
use crate::domain::analytics::rollup::{ALL_OWNERS, Granularity};

/// The outcome of a call that passed every check and got a 5xx from its upstream.
pub const UPSTREAM_5XX: &str = "UPSTREAM_5XX";

/// Requests of one outcome code in one bucket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeCount {
    pub bucket_start: i64,
    pub code: String,
    pub requests: i64,
}

/// Requests per bucket of `granularity` in `[from_ms, to_ms)` and outcome code (a passed
/// call answered 5xx by its upstream is [`UPSTREAM_5XX`]).
pub async fn by_code(
    db: &Db,
    granularity: &str,
    from_ms: i64,
    to_ms: i64,
    filter: &RollupFilter,
) -> Result<Vec<CodeCount>, sqlx::Error> {
    let (table, filter) = bucket_source(filter, granularity);
    let mut sql = format!(
        "SELECT bucket_start, CASE WHEN status_class = 5 AND code IN ('VALID', 'PREFLIGHT') \
         THEN '{UPSTREAM_5XX}' ELSE code END AS outcome, CAST(SUM(requests) AS BIGINT) \
         FROM {table} WHERE granularity = $1 AND bucket_start >= $2 AND bucket_start < $3"
    );
    let binds = filter_sql(&filter, 3, &mut sql);
    sql.push_str(" GROUP BY bucket_start, outcome");
    with_pool!(db, |pool| async {
        let q = sqlx::query_as::<_, (i64, String, i64)>(&sql)
            .bind(granularity)
            .bind(from_ms)
            .bind(to_ms);
        let rows = bind_all!(q, &binds).fetch_all(pool).await?;
        Ok(rows
            .into_iter()
            .map(|(bucket_start, code, requests)| CodeCount {
                bucket_start,
                code,
                requests,
            })
            .collect())
    }
    .await)
}

/// What a top list ranks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TopBy {
    Key,
    Endpoint,
    /// Client IPs, from `usage_ip_rollups` (hour and day rows; no endpoint filter).
    Ip,
}

/// Where a top list is read: table, ranked column, failed requests, and the filter as the
/// table takes it. Without a key, API or route to single out, keys and clients are ranked
/// from their own totals (hour and day rows); otherwise from the rows split by key.
struct TopSource {
    table: &'static str,
    column: &'static str,
    failed: &'static str,
    filter: RollupFilter,
}

fn top_source(by: TopBy, filter: &RollupFilter, granularity: &str) -> TopSource {
    let coarse = granularity != Granularity::Minute.as_str();
    let unsplit = filter.key_id.is_none() && filter.api_id.is_none();
    match by {
        TopBy::Key if coarse && unsplit && filter.endpoint.is_none() => TopSource {
            table: "usage_key_totals",
            column: "key_id",
            failed: "errors",
            filter: filter.clone(),
        },
        TopBy::Key => TopSource {
            table: "usage_rollups",
            column: "key_id",
            failed: failed_requests!(),
            filter: filter.clone(),
        },
        TopBy::Endpoint => {
            let (table, filter) = source(filter, granularity);
            TopSource {
                table,
                column: "endpoint",
                failed: failed_requests!(),
                filter,
            }
        }
        // IP rows have no route: their callers leave the endpoint out (or show no IP list).
        TopBy::Ip if coarse && unsplit => TopSource {
            table: "usage_ip_totals",
            column: "ip",
            failed: "errors",
            filter: RollupFilter {
                endpoint: None,
                owner_user_id: Some(filter.owner_user_id.unwrap_or(ALL_OWNERS)),
                ..filter.clone()
            },
        },
        TopBy::Ip => TopSource {
            table: "usage_ip_rollups",
            column: "ip",
            failed: "errors",
            filter: RollupFilter {
                endpoint: None,
                ..filter.clone()
            },
        },
    }
}

/// One entry of a top list: a key (0: calls with no valid key), or a route or client IP.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TopTotals {
    pub key_id: i64,
    /// The route or client IP.
    pub name: String,
    pub requests: i64,
    pub errors: i64,
}

/// The `limit` keys, routes or client IPs with the most requests in `[from_ms, to_ms)`,
/// busiest first (ties by id, route or address).
pub async fn top(
    db: &Db,
    granularity: &str,
    from_ms: i64,
    to_ms: i64,
    filter: &RollupFilter,
    by: TopBy,
    limit: i64,
) -> Result<Vec<TopTotals>, sqlx::Error> {
    let TopSource {
        table,
        column,
        failed,
        filter,
    } = top_source(by, filter, granularity);
    let mut sql = format!(
        "SELECT {column}, CAST(SUM(requests) AS BIGINT), CAST(SUM({failed}) AS BIGINT) \
         FROM {table} WHERE granularity = $1 AND bucket_start >= $2 AND bucket_start < $3"
    );
    let mut binds = filter_sql(&filter, 3, &mut sql);
    binds.push(Bind::Int(limit));
    sql.push_str(&format!(
        " GROUP BY {column} ORDER BY 2 DESC, {column} LIMIT ${}",
        3 + binds.len()
    ));
    with_pool!(db, |pool| async {
        let q = sqlx::query(&sql)
            .bind(granularity)
            .bind(from_ms)
            .bind(to_ms);
        let rows = bind_all!(q, &binds).fetch_all(pool).await?;
        rows.iter()
            .map(|row| {
                use sqlx::Row;
                let mut t = TopTotals {
                    requests: row.try_get(1)?,
                    errors: row.try_get(2)?,
                    ..TopTotals::default()
                };
                match by {
                    TopBy::Key => t.key_id = row.try_get(0)?,
                    TopBy::Endpoint | TopBy::Ip => t.name = row.try_get(0)?,
                }
                Ok(t)
            })
            .collect()
    }
    .await)
}

/// Whether [`top`] for `by` could also be answered from each bucket's busiest
/// ([`ranked_pages`], [`exact_totals`]): client IPs from their totals (every owner's or
/// one owner's rows), keys from their totals across every owner (key totals are ranked by
/// bucket, not by owner and bucket).
pub fn ranked_by_bucket(by: TopBy, filter: &RollupFilter, granularity: &str) -> bool {
    match top_source(by, filter, granularity).table {
        "usage_ip_totals" => true,
        "usage_key_totals" => filter.owner_user_id.is_none(),
        _ => false,
    }
}

/// (table, ranked column, owner whose rows are read) of a ranked top list; keys have no
/// owner condition (see [`ranked_by_bucket`]).
fn ranked_table(by: TopBy, filter: &RollupFilter) -> (&'static str, &'static str, Option<i64>) {
    match by {
        TopBy::Ip => (
            "usage_ip_totals",
            "ip",
            Some(filter.owner_user_id.unwrap_or(ALL_OWNERS)),
        ),
        TopBy::Key | TopBy::Endpoint => ("usage_key_totals", "key_id", None),
    }
}

/// Binds an entry's id: its key id, or its address.
fn bind_id(by: TopBy, t: &TopTotals) -> Bind {
    match by {
        TopBy::Ip => Bind::Text(t.name.clone()),
        TopBy::Key | TopBy::Endpoint => Bind::Int(t.key_id),
    }
}

/// Where one bucket's busiest-first list is read on: after the entry `after` (none: from
/// the top).
#[derive(Clone, Copy, Debug)]
pub struct PageStart<'a> {
    pub bucket_start: i64,
    pub after: Option<&'a TopTotals>,
}

/// Buckets read per statement by [`ranked_pages`]: at most 4 values bound each.
const PAGES_PER_STATEMENT: usize = 200;

/// Up to `limit` keys or clients of each bucket in `starts` (distinct buckets), busiest
/// first (ties: greatest id first), each after its page start; in the order of `starts`.
/// One statement reads many buckets: the reads are short and a round trip per bucket cost
/// more than the reads did. Only `requests` is filled in.
pub async fn ranked_pages(
    db: &Db,
    by: TopBy,
    filter: &RollupFilter,
    granularity: &str,
    starts: &[PageStart<'_>],
    limit: i64,
) -> Result<Vec<Vec<TopTotals>>, sqlx::Error> {
    let (table, column, owner) = ranked_table(by, filter);
    let slot: std::collections::HashMap<i64, usize> = starts
        .iter()
        .enumerate()
        .map(|(i, s)| (s.bucket_start, i))
        .collect();
    let mut pages = vec![Vec::new(); starts.len()];
    for chunk in starts.chunks(PAGES_PER_STATEMENT) {
        // $1 granularity, $2 limit, then the owner if any, then each bucket's values.
        let mut binds = vec![Bind::Int(limit)];
        let owners = match owner {
            Some(o) => {
                binds.push(Bind::Int(o));
                " AND owner_user_id = $3"
            }
            None => "",
        };
        let mut parts = Vec::with_capacity(chunk.len());
        for (i, s) in chunk.iter().enumerate() {
            binds.push(Bind::Int(s.bucket_start));
            let mut part = format!(
                "SELECT * FROM (SELECT {column}, requests, bucket_start FROM {table} \
                 WHERE granularity = $1{owners} AND bucket_start = ${}",
                1 + binds.len()
            );
            if let Some(a) = s.after {
                binds.push(Bind::Int(a.requests));
                binds.push(bind_id(by, a));
                part.push_str(&format!(
                    " AND (requests, {column}) < (${}, ${})",
                    binds.len(),
                    1 + binds.len()
                ));
            }
            part.push_str(&format!(
                " ORDER BY requests DESC, {column} DESC LIMIT $2) AS page{i}"
            ));
            parts.push(part);
        }
        // A UNION's rows come in no promised order: the database sorts them back into each
        // page's (by its own collation, which the next page's `<` compares by too).
        let sql = format!("{} ORDER BY 3, 2 DESC, 1 DESC", parts.join(" UNION ALL "));
        let rows: Vec<(i64, TopTotals)> = with_pool!(db, |pool| async {
            let q = sqlx::query(&sql).bind(granularity);
            let rows = bind_all!(q, &binds).fetch_all(pool).await?;
            rows.iter()
                .map(|row| {
                    use sqlx::Row;
                    Ok((row.try_get(2)?, entry(by, row, None)?))
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()
        }
        .await)?;
        for (bucket_start, t) in rows {
            if let Some(&i) = slot.get(&bucket_start) {
                pages[i].push(t);
            }
        }
    }
    Ok(pages)
}

/// The exact totals over `[from_ms, to_ms)` of the keys or clients `ids` (for clients: of
/// the filter's owner, or of every owner).
pub async fn exact_totals(
    db: &Db,
    by: TopBy,
    filter: &RollupFilter,
    granularity: &str,
    (from_ms, to_ms): (i64, i64),
    ids: &[TopTotals],
) -> Result<Vec<TopTotals>, sqlx::Error> {
    let (table, column, owner) = ranked_table(by, filter);
    let mut out = Vec::with_capacity(ids.len());
    // Bind limits: SQLite takes 32,766 parameters, PostgreSQL 65,535.
    for chunk in ids.chunks(1_000) {
        let mut binds: Vec<Bind> = owner.into_iter().map(Bind::Int).collect();
        let owners = if owner.is_some() {
            " AND owner_user_id = $4"
        } else {
            ""
        };
        let first = 4 + binds.len();
        binds.extend(chunk.iter().map(|t| bind_id(by, t)));
        let placeholders = (0..chunk.len())
            .map(|i| format!("${}", first + i))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {column}, CAST(SUM(requests) AS BIGINT), CAST(SUM(errors) AS BIGINT) FROM {table} \
             WHERE granularity = $1 AND bucket_start >= $2 AND bucket_start < $3{owners} \
             AND {column} IN ({placeholders}) GROUP BY {column}"
        );
        let rows: Vec<TopTotals> = with_pool!(db, |pool| async {
            let q = sqlx::query(&sql)
                .bind(granularity)
                .bind(from_ms)
                .bind(to_ms);
            let rows = bind_all!(q, &binds).fetch_all(pool).await?;
            rows.iter()
                .map(|row| {
                    use sqlx::Row;
                    entry(by, row, Some(row.try_get(2)?))
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()
        }
        .await)?;
        out.extend(rows);
    }
    Ok(out)
}

/// A (id, requests) row as a top-list entry, with `errors` when given.
fn entry<R>(by: TopBy, row: &R, errors: Option<i64>) -> Result<TopTotals, sqlx::Error>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let mut t = TopTotals {
        requests: row.try_get(1)?,
        errors: errors.unwrap_or(0),
        ..TopTotals::default()
    };
    match by {
        TopBy::Ip => t.name = row.try_get(0)?,
        TopBy::Key | TopBy::Endpoint => t.key_id = row.try_get(0)?,
    }
    Ok(t)
}
