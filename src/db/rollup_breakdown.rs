//! Usage rollups broken down for charts: requests per bucket and outcome code, and the
//! busiest keys, routes and client IPs of a range.

use super::rollups::{Bind, RollupFilter, bind_all, failed_requests, filter_sql, source};
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
    let (table, filter) = source(filter, granularity);
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

/// Whether [`top`] for `by` would add up the key or client totals of every owner: then the
/// list can also be found from each bucket's busiest ([`ranked_page`], [`exact_totals`]).
pub fn ranked_by_bucket(by: TopBy, filter: &RollupFilter, granularity: &str) -> bool {
    let table = top_source(by, filter, granularity).table;
    filter.owner_user_id.is_none() && matches!(table, "usage_key_totals" | "usage_ip_totals")
}

/// (table, ranked column, condition naming the all-owners rows) of a ranked top list.
fn ranked_table(by: TopBy) -> (&'static str, &'static str, &'static str) {
    match by {
        TopBy::Ip => ("usage_ip_totals", "ip", " AND owner_user_id = -1"),
        TopBy::Key | TopBy::Endpoint => ("usage_key_totals", "key_id", ""),
    }
}

/// Binds an entry's id: its key id, or its address.
fn bind_id(by: TopBy, t: &TopTotals) -> Bind {
    match by {
        TopBy::Ip => Bind::Text(t.name.clone()),
        TopBy::Key | TopBy::Endpoint => Bind::Int(t.key_id),
    }
}

/// Up to `limit` keys or clients of one bucket, busiest first (ties: greatest id first),
/// after the entry `after` of an earlier page. Only `requests` is filled in.
pub async fn ranked_page(
    db: &Db,
    by: TopBy,
    granularity: &str,
    bucket_start: i64,
    after: Option<&TopTotals>,
    limit: i64,
) -> Result<Vec<TopTotals>, sqlx::Error> {
    let (table, column, owners) = ranked_table(by);
    let mut sql = format!(
        "SELECT {column}, requests FROM {table} WHERE granularity = $1{owners} AND bucket_start = $2"
    );
    let mut binds = Vec::new();
    if let Some(a) = after {
        binds.push(Bind::Int(a.requests));
        binds.push(bind_id(by, a));
        sql.push_str(&format!(" AND (requests, {column}) < ($3, $4)"));
    }
    binds.push(Bind::Int(limit));
    sql.push_str(&format!(
        " ORDER BY requests DESC, {column} DESC LIMIT ${}",
        2 + binds.len()
    ));
    with_pool!(db, |pool| async {
        let q = sqlx::query(&sql).bind(granularity).bind(bucket_start);
        let rows = bind_all!(q, &binds).fetch_all(pool).await?;
        rows.iter().map(|row| entry(by, row, None)).collect()
    }
    .await)
}

/// The exact totals over `[from_ms, to_ms)` of the keys or clients `ids`.
pub async fn exact_totals(
    db: &Db,
    by: TopBy,
    granularity: &str,
    from_ms: i64,
    to_ms: i64,
    ids: &[TopTotals],
) -> Result<Vec<TopTotals>, sqlx::Error> {
    let (table, column, owners) = ranked_table(by);
    let mut out = Vec::with_capacity(ids.len());
    // Bind limits: SQLite takes 32,766 parameters, PostgreSQL 65,535.
    for chunk in ids.chunks(1_000) {
        let placeholders = (0..chunk.len())
            .map(|i| format!("${}", 4 + i))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {column}, CAST(SUM(requests) AS BIGINT), CAST(SUM(errors) AS BIGINT) FROM {table} \
             WHERE granularity = $1{owners} AND bucket_start >= $2 AND bucket_start < $3 \
             AND {column} IN ({placeholders}) GROUP BY {column}"
        );
        let binds: Vec<Bind> = chunk.iter().map(|t| bind_id(by, t)).collect();
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
