//! Usage rollups broken down for charts: requests per bucket and outcome code, and the
//! busiest keys, routes and client IPs of a range.

use super::rollups::{Bind, RollupFilter, bind_all, failed_requests, filter_sql};
use super::{Db, with_pool};

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
    let mut sql = format!(
        "SELECT bucket_start, CASE WHEN status_class = 5 AND code IN ('VALID', 'PREFLIGHT') \
         THEN '{UPSTREAM_5XX}' ELSE code END AS outcome, CAST(SUM(requests) AS BIGINT) \
         FROM usage_rollups WHERE granularity = $1 AND bucket_start >= $2 AND bucket_start < $3"
    );
    let binds = filter_sql(filter, 3, &mut sql);
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

impl TopBy {
    /// The ranked column, the table and its failed requests.
    fn source(self) -> (&'static str, &'static str, &'static str) {
        match self {
            TopBy::Key => ("key_id", "usage_rollups", failed_requests!()),
            TopBy::Endpoint => ("endpoint", "usage_rollups", failed_requests!()),
            TopBy::Ip => ("ip", "usage_ip_rollups", "errors"),
        }
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
    let (column, table, failed) = by.source();
    let mut sql = format!(
        "SELECT {column}, CAST(SUM(requests) AS BIGINT), CAST(SUM({failed}) AS BIGINT) \
         FROM {table} WHERE granularity = $1 AND bucket_start >= $2 AND bucket_start < $3"
    );
    // IP rows have no route: their callers leave the endpoint out (or show no IP list).
    let ip_filter;
    let filter = if by == TopBy::Ip {
        ip_filter = RollupFilter {
            endpoint: None,
            ..filter.clone()
        };
        &ip_filter
    } else {
        filter
    };
    let mut binds = filter_sql(filter, 3, &mut sql);
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
