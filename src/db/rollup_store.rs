//! Storing usage rollups: adding minute, hour and day sums (every table's rows of a flush)
//! to the stored rows and moving the marks in one transaction, and purging minute rows past
//! their retention. Reading them back is `db::rollups`.

use super::rollups::{COARSE_PROGRESS, MINUTE_PROGRESS, hist_columns, sum_columns};
use super::{Db, with_pool};
use crate::domain::analytics::histogram::BINS;
use crate::domain::analytics::rollup::{Granularity, RollupSums, StoreRows};
use sqlx::QueryBuilder;
use std::sync::LazyLock;

/// 12 columns and the histogram's 30 bins a row: 512 rows stay under both backends' bind limits.
const ROWS_PER_STATEMENT: usize = 512;
const _: () = assert!(ROWS_PER_STATEMENT * (12 + BINS) <= 32_766);

static INSERT_HEAD: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO usage_rollups (granularity, bucket_start, key_id, api_id, owner_user_id, endpoint, code, \
         status_class, requests, request_bytes, response_bytes, latency_sum_us, {}) ",
        hist_columns().join(", ")
    )
});

/// ` ON CONFLICT (pk) DO UPDATE` adding every sum column of `table`.
fn sums_upsert(table: &str, pk: &str) -> String {
    let sums = sum_columns()
        .map(|c| format!("{c} = {table}.{c} + excluded.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(" ON CONFLICT ({pk}) DO UPDATE SET {sums}")
}

static UPSERT_TAIL: LazyLock<String> = LazyLock::new(|| {
    sums_upsert(
        "usage_rollups",
        "granularity, bucket_start, key_id, api_id, owner_user_id, endpoint, code, status_class",
    )
});

static TOTALS_HEAD: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO usage_totals (granularity, owner_user_id, bucket_start, api_id, endpoint, code, \
         status_class, {}) ",
        sum_columns().collect::<Vec<_>>().join(", ")
    )
});

static TOTALS_TAIL: LazyLock<String> = LazyLock::new(|| {
    sums_upsert(
        "usage_totals",
        "granularity, owner_user_id, bucket_start, api_id, endpoint, code, status_class",
    )
});

static OUTCOMES_HEAD: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO usage_outcome_totals (granularity, owner_user_id, bucket_start, api_id, code, \
         status_class, {}) ",
        sum_columns().collect::<Vec<_>>().join(", ")
    )
});

static OUTCOMES_TAIL: LazyLock<String> = LazyLock::new(|| {
    sums_upsert(
        "usage_outcome_totals",
        "granularity, owner_user_id, bucket_start, api_id, code, status_class",
    )
});

/// Which marks a store moves up to its instant (never down), with its rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkUp {
    /// Minute rows: the minute mark.
    Minute(i64),
    /// Every granularity: both marks.
    All(i64),
}

/// Adds `rows` (every table's) to the stored rollups and moves the marks `mark` names, in one
/// transaction.
pub async fn store(db: &Db, rows: &StoreRows, mark: MarkUp) -> Result<(), sqlx::Error> {
    with_pool!(db, |pool| {
        async {
        let mut tx = pool.begin().await?;
        let usage: Vec<_> = rows.usage.iter().collect();
        for chunk in usage.chunks(ROWS_PER_STATEMENT) {
            let mut q = QueryBuilder::new(INSERT_HEAD.as_str());
            q.push_values(chunk, |mut b, (k, s)| {
                b.push_bind(k.granularity.as_str())
                    .push_bind(k.bucket_start)
                    .push_bind(k.key_id)
                    .push_bind(k.api_id)
                    .push_bind(k.owner_user_id)
                    .push_bind(k.endpoint.as_str())
                    .push_bind(k.code.as_str())
                    .push_bind(k.status_class);
                push_sums(&mut b, s);
            });
            q.push(UPSERT_TAIL.as_str());
            q.build().execute(&mut *tx).await?;
        }
        let totals: Vec<_> = rows.totals.iter().collect();
        for chunk in totals.chunks(ROWS_PER_STATEMENT) {
            let mut q = QueryBuilder::new(TOTALS_HEAD.as_str());
            q.push_values(chunk, |mut b, (k, s)| {
                b.push_bind(k.granularity.as_str())
                    .push_bind(k.owner_user_id)
                    .push_bind(k.bucket_start)
                    .push_bind(k.api_id)
                    .push_bind(k.endpoint.as_str())
                    .push_bind(k.code.as_str())
                    .push_bind(k.status_class);
                push_sums(&mut b, s);
            });
            q.push(TOTALS_TAIL.as_str());
            q.build().execute(&mut *tx).await?;
        }
        let outcomes: Vec<_> = rows.outcomes.iter().collect();
        for chunk in outcomes.chunks(ROWS_PER_STATEMENT) {
            let mut q = QueryBuilder::new(OUTCOMES_HEAD.as_str());
            q.push_values(chunk, |mut b, (k, s)| {
                b.push_bind(k.granularity.as_str())
                    .push_bind(k.owner_user_id)
                    .push_bind(k.bucket_start)
                    .push_bind(k.api_id)
                    .push_bind(k.code.as_str())
                    .push_bind(k.status_class);
                push_sums(&mut b, s);
            });
            q.push(OUTCOMES_TAIL.as_str());
            q.build().execute(&mut *tx).await?;
        }
        let ips: Vec<_> = rows.ips.iter().collect();
        for chunk in ips.chunks(ROWS_PER_STATEMENT) {
            let mut q = QueryBuilder::new(
                "INSERT INTO usage_ip_rollups (granularity, bucket_start, owner_user_id, key_id, \
                 api_id, ip, requests, errors) ",
            );
            q.push_values(chunk, |mut b, (k, s)| {
                b.push_bind(k.granularity.as_str())
                    .push_bind(k.bucket_start)
                    .push_bind(k.owner_user_id)
                    .push_bind(k.key_id)
                    .push_bind(k.api_id)
                    .push_bind(k.ip.as_str())
                    .push_bind(s.requests)
                    .push_bind(s.errors);
            });
            q.push(counts_upsert(
                "usage_ip_rollups",
                "granularity, bucket_start, owner_user_id, key_id, api_id, ip",
            ));
            q.build().execute(&mut *tx).await?;
        }
        let keys: Vec<_> = rows.key_totals.iter().collect();
        for chunk in keys.chunks(ROWS_PER_STATEMENT) {
            let mut q = QueryBuilder::new(
                "INSERT INTO usage_key_totals (granularity, bucket_start, key_id, owner_user_id, \
                 requests, errors) ",
            );
            q.push_values(chunk, |mut b, (k, s)| {
                b.push_bind(k.granularity.as_str())
                    .push_bind(k.bucket_start)
                    .push_bind(k.key_id)
                    .push_bind(k.owner_user_id)
                    .push_bind(s.requests)
                    .push_bind(s.errors);
            });
            q.push(counts_upsert(
                "usage_key_totals",
                "granularity, bucket_start, key_id",
            ));
            q.build().execute(&mut *tx).await?;
        }
        let ip_totals: Vec<_> = rows.ip_totals.iter().collect();
        for chunk in ip_totals.chunks(ROWS_PER_STATEMENT) {
            let mut q = QueryBuilder::new(
                "INSERT INTO usage_ip_totals (granularity, owner_user_id, bucket_start, ip, \
                 requests, errors) ",
            );
            q.push_values(chunk, |mut b, (k, s)| {
                b.push_bind(k.granularity.as_str())
                    .push_bind(k.owner_user_id)
                    .push_bind(k.bucket_start)
                    .push_bind(k.ip.as_str())
                    .push_bind(s.requests)
                    .push_bind(s.errors);
            });
            q.push(counts_upsert(
                "usage_ip_totals",
                "granularity, owner_user_id, bucket_start, ip",
            ));
            q.build().execute(&mut *tx).await?;
        }
        let (mark_ms, names): (i64, &[&str]) = match mark {
            MarkUp::Minute(ms) => (ms, &[MINUTE_PROGRESS]),
            MarkUp::All(ms) => (ms, &[MINUTE_PROGRESS, COARSE_PROGRESS]),
        };
        for name in names {
            sqlx::query(
                "UPDATE rollup_progress SET rolled_up_to = $1 WHERE name = $2 AND rolled_up_to < $1",
            )
            .bind(mark_ms)
            .bind(*name)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }
    .await
    })
}

/// Binds a row's sums in `sum_columns` order.
fn push_sums<'q, DB>(
    b: &mut sqlx::query_builder::Separated<'_, 'q, DB, &'static str>,
    s: &RollupSums,
) where
    DB: sqlx::Database,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    b.push_bind(s.requests)
        .push_bind(s.request_bytes)
        .push_bind(s.response_bytes)
        .push_bind(s.latency_sum_us);
    for n in s.latency.0 {
        b.push_bind(n);
    }
}

/// The upsert tail of a (requests, errors) table with primary key `pk`.
fn counts_upsert(table: &str, pk: &str) -> String {
    format!(
        " ON CONFLICT ({pk}) DO UPDATE SET requests = {table}.requests + excluded.requests, \
         errors = {table}.errors + excluded.errors"
    )
}

/// Tables with minute rows, and the condition that reaches them by their primary key (the
/// totals keep minutes for all owners together only).
const MINUTE_TABLES: [(&str, &str); 3] = [
    ("usage_rollups", ""),
    ("usage_totals", " AND owner_user_id = -1"),
    ("usage_outcome_totals", " AND owner_user_id = -1"),
];

/// Deletes minute rows of buckets before `cutoff_ms` from every table that has them, at most
/// an hour of buckets per statement (short write transactions: the usage writer is never held
/// up for long); returns how many went.
pub async fn delete_minutes_before(db: &Db, cutoff_ms: i64) -> Result<u64, sqlx::Error> {
    let mut deleted = 0;
    for (table, owners) in MINUTE_TABLES {
        let oldest_sql =
            format!("SELECT MIN(bucket_start) FROM {table} WHERE granularity = 'minute'{owners}");
        let delete_sql = format!(
            "DELETE FROM {table} WHERE granularity = 'minute'{owners} \
             AND bucket_start >= $1 AND bucket_start < $2"
        );
        loop {
            let oldest: Option<i64> = with_pool!(db, |pool| sqlx::query_scalar(&oldest_sql)
                .fetch_one(pool)
                .await)?;
            let Some(from) = oldest.filter(|&t| t < cutoff_ms) else {
                break;
            };
            let to = (from + Granularity::Hour.millis()).min(cutoff_ms);
            deleted += with_pool!(db, |pool| sqlx::query(&delete_sql)
                .bind(from)
                .bind(to)
                .execute(pool)
                .await
                .map(|r| r.rows_affected()))?;
        }
    }
    Ok(deleted)
}

/// Minute rows before `cutoff_ms` per table that has them (for tests of the purge).
#[cfg(test)]
pub async fn minute_rows_before(
    db: &Db,
    cutoff_ms: i64,
) -> Result<Vec<(&'static str, i64)>, sqlx::Error> {
    let mut out = Vec::new();
    for (table, _) in MINUTE_TABLES {
        let sql = format!(
            "SELECT COUNT(*) FROM {table} WHERE granularity = 'minute' AND bucket_start < $1"
        );
        let n: i64 = with_pool!(db, |pool| sqlx::query_scalar(&sql)
            .bind(cutoff_ms)
            .fetch_one(pool)
            .await)?;
        out.push((table, n));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::temp::TempDb;
    use crate::domain::analytics::rollup::{RawEvent, aggregate};

    /// Every `usage_outcome_totals` row, in key order.
    async fn outcome_rows(db: &Db) -> Vec<Vec<i64>> {
        let sql = format!(
            "SELECT bucket_start, owner_user_id, api_id, CAST(status_class AS BIGINT), {} \
             FROM usage_outcome_totals \
             ORDER BY granularity, owner_user_id, bucket_start, api_id, code, status_class",
            sum_columns().collect::<Vec<_>>().join(", ")
        );
        with_pool!(db, |pool| async {
            let rows = sqlx::query(&sql).fetch_all(pool).await.unwrap();
            rows.iter()
                .map(|row| {
                    use sqlx::Row;
                    (0..row.len()).map(|i| row.get::<i64, _>(i)).collect()
                })
                .collect()
        }
        .await)
    }

    #[tokio::test]
    async fn the_migration_fills_the_outcome_totals_as_the_writer_does() {
        let t = TempDb::new().await;
        let events: Vec<RawEvent> = (0..400)
            .map(|i| RawEvent {
                id: i,
                at_ms: 1_800_000_000_000 + i * 97_000,
                key_id: Some(1 + i % 7),
                owner_user_id: Some(1 + i % 3),
                api_id: (i % 4 == 0).then_some(2),
                endpoint: format!("GET /r/{}", i % 5),
                code: ["VALID", "RATE_LIMIT_EXCEEDED", "API_KEY_INVALID"][(i % 3) as usize].into(),
                status: [200, 429, 401, 503][(i % 4) as usize],
                latency_us: i * 1_000,
                request_bytes: i,
                response_bytes: 2 * i,
                ip: format!("192.0.2.{}", i % 9),
            })
            .collect();
        store(&t.db, &aggregate(&events), MarkUp::All(0))
            .await
            .unwrap();
        let written = outcome_rows(&t.db).await;
        assert!(written.len() > 20, "{} rows", written.len());

        // What the migration does to a database that has usage_totals but no outcome rows.
        let migration = include_str!("../../migrations/sqlite/0010_usage_outcome_totals.sql");
        let fill = &migration[migration.find("INSERT INTO").unwrap()..];
        with_pool!(&t.db, |pool| async {
            sqlx::query("DELETE FROM usage_outcome_totals")
                .execute(pool)
                .await
                .unwrap();
            sqlx::query(fill).execute(pool).await.unwrap();
        }
        .await);
        assert_eq!(outcome_rows(&t.db).await, written);
    }
}
