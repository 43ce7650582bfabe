//! Quota and credit leases on a key's row: read the counters, then compare-and-set them, so
//! two writers (requests on several instances, an admin's edit) can never both spend the same
//! units. The grant rules themselves live in `domain::traffic::allowance`.

use super::{Db, with_pool};

/// A key's stored quota counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct QuotaCounters {
    pub quota_limit: Option<i64>,
    pub quota_used: i64,
    pub quota_period_start: Option<i64>,
}

/// A key's stored credit counters.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct CreditCounters {
    pub remaining: Option<i64>,
    pub refill_interval: Option<String>,
    pub refill_amount: Option<i64>,
    pub refilled_period_start: Option<i64>,
}

/// Stands in for NULL in comparisons, so one SQL text compares nullable columns on both
/// backends (period starts are never negative).
const NONE: i64 = -1;

pub async fn quota_counters(db: &Db, key_id: i64) -> Result<Option<QuotaCounters>, sqlx::Error> {
    with_pool!(db, |pool| sqlx::query_as::<_, QuotaCounters>(
        "SELECT quota_limit, quota_used, quota_period_start FROM api_keys WHERE id = $1"
    )
    .bind(key_id)
    .fetch_optional(pool)
    .await)
}

/// Sets the quota counters to `new_used` in the period starting `new_start`, only if they
/// still are `seen`. True when the row was changed.
pub async fn swap_quota(
    db: &Db,
    key_id: i64,
    seen: QuotaCounters,
    new_used: i64,
    new_start: i64,
) -> Result<bool, sqlx::Error> {
    with_pool!(db, |pool| async {
        let n = sqlx::query(
            "UPDATE api_keys SET quota_used = $1, quota_period_start = $2
             WHERE id = $3 AND quota_used = $4 AND COALESCE(quota_period_start, $5) = $6",
        )
        .bind(new_used)
        .bind(new_start)
        .bind(key_id)
        .bind(seen.quota_used)
        .bind(NONE)
        .bind(seen.quota_period_start.unwrap_or(NONE))
        .execute(pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }
    .await)
}

/// Hands back unspent quota units leased for the period starting `period_start` (a later
/// period has started from zero already, so units of an earlier one are simply void).
pub async fn return_quota(
    db: &Db,
    key_id: i64,
    period_start: i64,
    units: i64,
) -> Result<(), sqlx::Error> {
    with_pool!(db, |pool| sqlx::query(
        "UPDATE api_keys SET quota_used = CASE WHEN quota_used > $1 THEN quota_used - $1 ELSE 0 END
             WHERE id = $2 AND quota_period_start = $3"
    )
    .bind(units)
    .bind(key_id)
    .bind(period_start)
    .execute(pool)
    .await
    .map(|_| ()))
}

pub async fn credit_counters(db: &Db, key_id: i64) -> Result<Option<CreditCounters>, sqlx::Error> {
    with_pool!(db, |pool| {
        sqlx::query_as::<_, CreditCounters>(
        "SELECT remaining, refill_interval, refill_amount, refilled_period_start FROM api_keys WHERE id = $1"
    )
    .bind(key_id)
    .fetch_optional(pool)
    .await
    })
}

/// Sets the credit balance, only if the stored one is still `seen`. True when changed.
pub async fn swap_credits(
    db: &Db,
    key_id: i64,
    seen: &CreditCounters,
    new_remaining: i64,
    new_refilled_start: Option<i64>,
) -> Result<bool, sqlx::Error> {
    let Some(seen_remaining) = seen.remaining else {
        return Ok(false);
    };
    with_pool!(db, |pool| async {
        let n = sqlx::query(
            "UPDATE api_keys SET remaining = $1, refilled_period_start = $2
             WHERE id = $3 AND remaining = $4 AND COALESCE(refilled_period_start, $5) = $6",
        )
        .bind(new_remaining)
        .bind(new_refilled_start)
        .bind(key_id)
        .bind(seen_remaining)
        .bind(NONE)
        .bind(seen.refilled_period_start.unwrap_or(NONE))
        .execute(pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }
    .await)
}

/// Hands back unspent credits leased in the refill period starting `period_start` (0
/// without refills); after a refill they are void, as the balance was reset.
pub async fn return_credits(
    db: &Db,
    key_id: i64,
    period_start: i64,
    units: i64,
) -> Result<(), sqlx::Error> {
    with_pool!(db, |pool| sqlx::query(
        "UPDATE api_keys SET remaining = remaining + $1
             WHERE id = $2 AND remaining IS NOT NULL AND COALESCE(refilled_period_start, 0) = $3"
    )
    .bind(units)
    .bind(key_id)
    .bind(period_start)
    .execute(pool)
    .await
    .map(|_| ()))
}
