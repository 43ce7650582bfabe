//! Usage rollups: the marks that say how far the stored rows go, raw events read back after a
//! crash, and summing rows for reports. Storing and purging them is `db::rollup_store`
//! (re-exported here).

use super::{Db, with_pool};
use crate::domain::analytics::histogram::BINS;
use crate::domain::analytics::rollup::{
    ALL_OWNERS, Granularity, IpKey, RawEvent, RollupKey, RollupSums,
};

#[cfg(test)]
pub use super::rollup_store::minute_rows_before;
pub use super::rollup_store::{MarkUp, delete_minutes_before, store};

/// `rollup_progress` rows: before the `usage` mark every stored raw event is in the minute
/// rows (and the minute totals); before the `usage_coarse` mark it is also in the hour and day
/// rows, the client-IP rows and the key totals. The coarse mark is never ahead of the other.
pub(super) const MINUTE_PROGRESS: &str = "usage";
pub(super) const COARSE_PROGRESS: &str = "usage_coarse";

/// How far the stored rows go.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Marks {
    pub minute: i64,
    pub coarse: i64,
}

pub(super) fn hist_columns() -> Vec<String> {
    (0..BINS).map(|i| format!("h{i:02}")).collect()
}

/// The columns that add up, in `RollupSums` order.
pub(super) fn sum_columns() -> impl Iterator<Item = String> {
    [
        "requests",
        "request_bytes",
        "response_bytes",
        "latency_sum_us",
    ]
    .into_iter()
    .map(String::from)
    .chain(hist_columns())
}

/// Every raw event before this instant (epoch ms) is counted in the stored rollups, except
/// stragglers still pending in a writer's memory.
pub async fn rolled_up_to(db: &Db) -> Result<Marks, sqlx::Error> {
    let rows: Vec<(String, i64)> = with_pool!(db, |pool| sqlx::query_as(
        "SELECT name, rolled_up_to FROM rollup_progress WHERE name IN ($1, $2)"
    )
    .bind(MINUTE_PROGRESS)
    .bind(COARSE_PROGRESS)
    .fetch_all(pool)
    .await)?;
    let mark = |name: &str| rows.iter().find(|(n, _)| n == name).map(|(_, m)| *m);
    match (mark(MINUTE_PROGRESS), mark(COARSE_PROGRESS)) {
        (Some(minute), Some(coarse)) => Ok(Marks { minute, coarse }),
        _ => Err(sqlx::Error::RowNotFound),
    }
}

#[derive(sqlx::FromRow)]
struct EventRow {
    id: i64,
    created_at: i64,
    key_id: Option<i64>,
    owner_user_id: Option<i64>,
    api_id: Option<i64>,
    endpoint: String,
    code: String,
    status: i32,
    latency_us: i64,
    request_bytes: i64,
    response_bytes: i64,
    ip: String,
}

/// Up to `limit` raw events with `from_ms <= created_at < to_ms`, in (created_at, id) order,
/// after the event `after` = (created_at, id) when given.
pub async fn events_between(
    db: &Db,
    from_ms: i64,
    to_ms: i64,
    after: Option<(i64, i64)>,
    limit: i64,
) -> Result<Vec<RawEvent>, sqlx::Error> {
    const SQL: &str = "SELECT id, created_at, key_id, owner_user_id, api_id, endpoint, code, status, latency_us, \
        request_bytes, response_bytes, ip FROM usage_events \
        WHERE created_at >= $1 AND created_at < $2 AND (created_at > $3 OR (created_at = $3 AND id > $4)) \
        ORDER BY created_at, id LIMIT $5";
    let (after_at, after_id) = after.unwrap_or((i64::MIN, i64::MIN));
    let rows: Vec<EventRow> = with_pool!(db, |pool| sqlx::query_as(SQL)
        .bind(from_ms)
        .bind(to_ms)
        .bind(after_at)
        .bind(after_id)
        .bind(limit)
        .fetch_all(pool)
        .await)?;
    Ok(rows
        .into_iter()
        .map(|r| RawEvent {
            id: r.id,
            at_ms: r.created_at,
            key_id: r.key_id,
            owner_user_id: r.owner_user_id,
            api_id: r.api_id,
            endpoint: r.endpoint,
            code: r.code,
            status: r.status,
            latency_us: r.latency_us,
            request_bytes: r.request_bytes,
            response_bytes: r.response_bytes,
            ip: r.ip,
        })
        .collect())
}

/// Which rollup rows a query adds up.
#[derive(Clone, Debug, Default)]
pub struct RollupFilter {
    pub key_id: Option<i64>,
    pub api_id: Option<i64>,
    pub owner_user_id: Option<i64>,
    /// A route as rollups count it (`GET /tickets/{id}`).
    pub endpoint: Option<String>,
}

impl RollupFilter {
    /// Whether the row is one the query adds up (as its SQL says).
    pub fn admits(&self, k: &RollupKey) -> bool {
        self.admits_ids(k.key_id, k.api_id, k.owner_user_id)
            && self.endpoint.as_deref().is_none_or(|e| e == k.endpoint)
    }

    /// Whether a client-IP row is one the query adds up; IP rows have no route, so the
    /// endpoint filter is the caller's to handle.
    pub fn admits_ip(&self, k: &IpKey) -> bool {
        self.admits_ids(k.key_id, k.api_id, k.owner_user_id)
    }

    fn admits_ids(&self, key_id: i64, api_id: i64, owner_user_id: i64) -> bool {
        self.key_id.is_none_or(|id| id == key_id)
            && self.api_id.is_none_or(|id| id == api_id)
            && self.owner_user_id.is_none_or(|id| id == owner_user_id)
    }
}

/// One bucket's sums, with the failures among its requests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BucketTotals {
    pub bucket_start: i64,
    pub sums: RollupSums,
    /// Refused by any check (not VALID, not a CORS preflight), or an upstream 5xx.
    pub errors: i64,
    pub rate_limited: i64,
}

/// `rollup::is_failure` in SQL: a row's failed requests.
macro_rules! failed_requests {
    () => {
        "CASE WHEN code NOT IN ('VALID', 'PREFLIGHT') OR status_class = 5 THEN requests ELSE 0 END"
    };
}
pub(super) use failed_requests;

/// A bucket's failed and rate-limited requests.
const FAILURES: &str = concat!(
    "CAST(SUM(",
    failed_requests!(),
    ") AS BIGINT), \
    CAST(SUM(CASE WHEN code = 'RATE_LIMIT_EXCEEDED' THEN requests ELSE 0 END) AS BIGINT)"
);

/// A value a filter binds.
pub(super) enum Bind {
    Int(i64),
    Text(String),
}

/// Binds `binds` in order to a query (the query's type differs per backend).
macro_rules! bind_all {
    ($q:expr, $binds:expr) => {{
        let mut q = $q;
        for b in $binds {
            q = match b {
                $crate::db::rollups::Bind::Int(v) => q.bind(*v),
                $crate::db::rollups::Bind::Text(v) => q.bind(v.as_str()),
            };
        }
        q
    }};
}
pub(super) use bind_all;

/// The table a report over `filter` by `granularity` adds up, and the filter as that table
/// takes it: the key-less `usage_totals` unless a key is singled out or the owner's rows
/// are not kept at that granularity (minutes are kept for all owners together only).
pub(super) fn source(filter: &RollupFilter, granularity: &str) -> (&'static str, RollupFilter) {
    match (filter.key_id, filter.owner_user_id) {
        (None, None) => (
            "usage_totals",
            RollupFilter {
                owner_user_id: Some(ALL_OWNERS),
                ..filter.clone()
            },
        ),
        (None, Some(_)) if granularity != Granularity::Minute.as_str() => {
            ("usage_totals", filter.clone())
        }
        _ => ("usage_rollups", filter.clone()),
    }
}

/// The table a report's sums per bucket (and outcome) come from: [`source`], or the same
/// sums added up over routes when the report singles out no route.
pub(super) fn bucket_source(
    filter: &RollupFilter,
    granularity: &str,
) -> (&'static str, RollupFilter) {
    match source(filter, granularity) {
        ("usage_totals", f) if f.endpoint.is_none() => ("usage_outcome_totals", f),
        other => other,
    }
}

/// Appends the filter's conditions to `sql` (whose last placeholder is `$after`); returns the
/// values to bind, in order.
pub(super) fn filter_sql(filter: &RollupFilter, after: usize, sql: &mut String) -> Vec<Bind> {
    let mut binds = Vec::new();
    for (column, value) in [
        ("key_id", filter.key_id),
        ("api_id", filter.api_id),
        ("owner_user_id", filter.owner_user_id),
    ] {
        if let Some(v) = value {
            binds.push(Bind::Int(v));
            sql.push_str(&format!(" AND {column} = ${}", after + binds.len()));
        }
    }
    if let Some(endpoint) = &filter.endpoint {
        binds.push(Bind::Text(endpoint.clone()));
        sql.push_str(&format!(" AND endpoint = ${}", after + binds.len()));
    }
    binds
}

/// Sums per bucket of `granularity` in `[from_ms, to_ms)`, oldest first; empty buckets are
/// absent.
pub async fn totals(
    db: &Db,
    granularity: &str,
    from_ms: i64,
    to_ms: i64,
    filter: &RollupFilter,
) -> Result<Vec<BucketTotals>, sqlx::Error> {
    let sums = sum_columns()
        .map(|c| format!("CAST(SUM({c}) AS BIGINT)"))
        .collect::<Vec<_>>()
        .join(", ");
    let (table, filter) = bucket_source(filter, granularity);
    let mut sql = format!(
        "SELECT bucket_start, {FAILURES}, {sums} FROM {table} \
         WHERE granularity = $1 AND bucket_start >= $2 AND bucket_start < $3"
    );
    let binds = filter_sql(&filter, 3, &mut sql);
    sql.push_str(" GROUP BY bucket_start ORDER BY bucket_start");
    with_pool!(db, |pool| async {
        let q = sqlx::query(&sql)
            .bind(granularity)
            .bind(from_ms)
            .bind(to_ms);
        let q = bind_all!(q, &binds);
        let rows = q.fetch_all(pool).await?;
        rows.iter()
            .map(|row| {
                use sqlx::Row;
                let mut s = RollupSums {
                    requests: row.try_get(3)?,
                    request_bytes: row.try_get(4)?,
                    response_bytes: row.try_get(5)?,
                    latency_sum_us: row.try_get(6)?,
                    ..RollupSums::default()
                };
                for i in 0..BINS {
                    s.latency.0[i] = row.try_get(7 + i)?;
                }
                Ok(BucketTotals {
                    bucket_start: row.try_get(0)?,
                    errors: row.try_get(1)?,
                    rate_limited: row.try_get(2)?,
                    sums: s,
                })
            })
            .collect()
    }
    .await)
}

/// Stored rows of `granularity` in `[from_ms, to_ms)` that `filter` admits, one at a time in
/// `RollupKey` order, into `out` (a closed receiver stops it). One statement, so it reads one
/// snapshot; rows stream from the database, never all in memory.
pub async fn export_rows(
    db: &Db,
    granularity: Granularity,
    from_ms: i64,
    to_ms: i64,
    filter: &RollupFilter,
    out: tokio::sync::mpsc::Sender<(RollupKey, RollupSums)>,
) -> Result<(), sqlx::Error> {
    use futures_util::TryStreamExt;
    // Byte order, as Rust compares strings: SQLite's default; PostgreSQL's "C" collation.
    let bytewise = match db {
        Db::Sqlite(_) => "",
        Db::Postgres(_) => " COLLATE \"C\"",
    };
    let mut sql = format!(
        "SELECT bucket_start, key_id, api_id, owner_user_id, endpoint, code, status_class, {} \
         FROM usage_rollups WHERE granularity = $1 AND bucket_start >= $2 AND bucket_start < $3",
        sum_columns().collect::<Vec<_>>().join(", ")
    );
    let binds = filter_sql(filter, 3, &mut sql);
    sql.push_str(&format!(
        " ORDER BY bucket_start, key_id, api_id, owner_user_id, endpoint{bytewise}, code{bytewise}, status_class"
    ));
    with_pool!(db, |pool| async {
        let q = sqlx::query(&sql)
            .bind(granularity.as_str())
            .bind(from_ms)
            .bind(to_ms);
        let q = bind_all!(q, &binds);
        let mut rows = q.fetch(pool);
        while let Some(row) = rows.try_next().await? {
            use sqlx::Row;
            let key = RollupKey {
                granularity,
                bucket_start: row.try_get(0)?,
                key_id: row.try_get(1)?,
                api_id: row.try_get(2)?,
                owner_user_id: row.try_get(3)?,
                endpoint: row.try_get(4)?,
                code: row.try_get(5)?,
                status_class: row.try_get(6)?,
            };
            let mut sums = RollupSums {
                requests: row.try_get(7)?,
                request_bytes: row.try_get(8)?,
                response_bytes: row.try_get(9)?,
                latency_sum_us: row.try_get(10)?,
                ..RollupSums::default()
            };
            for i in 0..BINS {
                sums.latency.0[i] = row.try_get(11 + i)?;
            }
            if out.send((key, sums)).await.is_err() {
                break;
            }
        }
        Ok(())
    }
    .await)
}
