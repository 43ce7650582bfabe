//! Alert rules, the figures alerts are judged on (from the rollups), and raising an alert
//! with its notifications and security event in one transaction, once per kind, subject and
//! period whoever evaluates.

use super::audit::{AuditEntry, write_audit};
use super::{Db, with_pool};

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct RuleRow {
    pub kind: String,
    pub enabled: bool,
    pub threshold: f64,
    pub window_minutes: i64,
    pub min_requests: i64,
    pub updated_at: i64,
}

pub async fn rules(db: &Db) -> Result<Vec<RuleRow>, sqlx::Error> {
    with_pool!(db, |pool| sqlx::query_as::<_, RuleRow>(
        "SELECT kind, enabled, threshold, window_minutes, min_requests, updated_at \
         FROM alert_rules ORDER BY kind"
    )
    .fetch_all(pool)
    .await)
}

/// Writes a rule's settings back with the audit record. `Ok(false)` if there is no such kind.
pub async fn update_rule(
    db: &Db,
    row: &RuleRow,
    audit: &AuditEntry<'_>,
) -> Result<bool, sqlx::Error> {
    with_pool!(db, |pool| async {
        let mut tx = pool.begin().await?;
        let n = sqlx::query(
            "UPDATE alert_rules SET enabled = $1, threshold = $2, window_minutes = $3, \
             min_requests = $4, updated_at = $5 WHERE kind = $6",
        )
        .bind(row.enabled)
        .bind(row.threshold)
        .bind(row.window_minutes)
        .bind(row.min_requests)
        .bind(row.updated_at)
        .bind(&row.kind)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        write_audit!(tx, audit, "alert_rule", None::<i64>)?;
        tx.commit().await?;
        Ok(true)
    }
    .await)
}

/// One key's calls in a window.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyWindow {
    pub key_id: i64,
    pub owner_user_id: i64,
    pub requests: i64,
    pub errors: i64,
    pub rate_limited: i64,
}

/// Every key's stored minute sums in `[from_ms, to_ms)` (calls without a valid key left out).
pub async fn key_windows(db: &Db, from_ms: i64, to_ms: i64) -> Result<Vec<KeyWindow>, sqlx::Error> {
    let sql = concat!(
        "SELECT key_id, owner_user_id, CAST(SUM(requests) AS BIGINT), CAST(SUM(",
        super::rollups::failed_requests!(),
        ") AS BIGINT), CAST(SUM(CASE WHEN code = 'RATE_LIMIT_EXCEEDED' THEN requests ELSE 0 END) AS BIGINT) \
         FROM usage_rollups WHERE granularity = 'minute' AND bucket_start >= $1 AND bucket_start < $2 \
         AND key_id > 0 GROUP BY key_id, owner_user_id"
    );
    let rows: Vec<(i64, i64, i64, i64, i64)> = with_pool!(db, |pool| sqlx::query_as(sql)
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(pool)
        .await)?;
    Ok(rows
        .into_iter()
        .map(
            |(key_id, owner_user_id, requests, errors, rate_limited)| KeyWindow {
                key_id,
                owner_user_id,
                requests,
                errors,
                rate_limited,
            },
        )
        .collect())
}

/// Each key's requests in the stored hour rows of `[from_ms, to_ms)`, for the keys in `keys`.
pub async fn key_hours(
    db: &Db,
    from_ms: i64,
    to_ms: i64,
    keys: &[i64],
) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    let mut out = Vec::new();
    // Bounded IN lists: both backends cap bind parameters.
    for chunk in keys.chunks(500) {
        let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 3)).collect();
        let sql = format!(
            "SELECT key_id, CAST(SUM(requests) AS BIGINT) FROM usage_rollups \
             WHERE granularity = 'hour' AND bucket_start >= $1 AND bucket_start < $2 \
             AND key_id IN ({}) GROUP BY key_id",
            marks.join(", ")
        );
        let rows: Vec<(i64, i64)> = with_pool!(db, |pool| {
            let mut q = sqlx::query_as(&sql).bind(from_ms).bind(to_ms);
            for id in chunk {
                q = q.bind(*id);
            }
            q.fetch_all(pool).await
        })?;
        out.extend(rows);
    }
    Ok(out)
}

/// Client IPs with at least `min_errors` refused or failed calls in the stored hour rows of
/// `[from_ms, to_ms)`, with those counts.
pub async fn failing_ips(
    db: &Db,
    from_ms: i64,
    to_ms: i64,
    min_errors: i64,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    with_pool!(db, |pool| sqlx::query_as::<_, (String, i64)>(
        "SELECT ip, CAST(SUM(errors) AS BIGINT) FROM usage_ip_rollups \
         WHERE granularity = 'hour' AND bucket_start >= $1 AND bucket_start < $2 AND ip <> '' \
         GROUP BY ip HAVING SUM(errors) >= $3"
    )
    .bind(from_ms)
    .bind(to_ms)
    .bind(min_errors)
    .fetch_all(pool)
    .await)
}

/// An alert to raise, and who hears of it.
pub struct NewAlert<'a> {
    pub kind: &'a str,
    pub subject_type: &'a str,
    pub subject: &'a str,
    pub key_id: Option<i64>,
    pub owner_user_id: Option<i64>,
    pub period_start: i64,
    pub value: f64,
    pub threshold: f64,
    /// JSON object with the figures.
    pub detail: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    pub link: &'a str,
    pub notify: &'a [i64],
    pub now_ms: i64,
}

/// Raises `alert` unless it was raised for its period already: the alert, an event per user in
/// `notify` (their notices) and a security event, in one transaction. Returns the alert's id, or
/// `None` when it was there before.
pub async fn raise(db: &Db, a: &NewAlert<'_>) -> Result<Option<i64>, sqlx::Error> {
    with_pool!(db, |pool| {
        async {
        let mut tx = pool.begin().await?;
        let id = sqlx::query_scalar::<_, i64>(
            "INSERT INTO alerts (kind, subject_type, subject, key_id, owner_user_id, period_start, \
             value, threshold, detail, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (kind, subject_type, subject, period_start) DO NOTHING RETURNING id",
        )
        .bind(a.kind)
        .bind(a.subject_type)
        .bind(a.subject)
        .bind(a.key_id)
        .bind(a.owner_user_id)
        .bind(a.period_start)
        .bind(a.value)
        .bind(a.threshold)
        .bind(a.detail)
        .bind(a.now_ms)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = id else {
            tx.rollback().await?;
            return Ok(None);
        };
        // An event per recipient, dispatched to their channels (in-app, mail, webhooks) by
        // the job queue; rate-limit refusals are their own type (`ratelimit.exceeded`).
        let kind = if a.kind == "rate_limited" {
            "ratelimit.exceeded"
        } else {
            "alert.triggered"
        };
        for user_id in a.notify {
            let event = super::events::NewEvent {
                kind,
                user_id: Some(*user_id),
                org_id: None,
                subject_type: if a.key_id.is_some() { "api_key" } else { "ip" },
                subject_id: a.key_id,
                data: serde_json::json!({
                    "title": a.title, "body": a.body, "link": a.link, "alert_id": id,
                    "rule": a.kind, "subject": a.subject, "value": a.value,
                    "threshold": a.threshold, "period_start": a.period_start,
                }),
            };
            super::events::write_event!(tx, &event, None, a.now_ms).await?;
        }
        sqlx::query(
            "INSERT INTO security_events (kind, subject_type, subject, user_id, detail, ip, user_agent, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, '', $7)",
        )
        .bind(format!("alert.{}", a.kind))
        .bind(a.subject_type)
        .bind(a.subject)
        .bind(a.owner_user_id)
        .bind(a.detail)
        .bind(if a.subject_type == "ip" { a.subject } else { "" })
        .bind(a.now_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(id))
    }
    .await
    })
}

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct AlertRow {
    pub id: i64,
    pub kind: String,
    pub subject_type: String,
    pub subject: String,
    pub key_id: Option<i64>,
    pub owner_user_id: Option<i64>,
    pub period_start: i64,
    pub value: f64,
    pub threshold: f64,
    pub detail: String,
    pub created_at: i64,
}

/// A page of alerts, newest first, and how many there are; `owner` limits them to one
/// user's keys.
pub async fn list(
    db: &Db,
    owner: Option<i64>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<AlertRow>, i64), sqlx::Error> {
    let filter = "WHERE ($1 IS NULL OR owner_user_id = $1)";
    let list_sql = format!(
        "SELECT id, kind, subject_type, subject, key_id, owner_user_id, period_start, value, \
         threshold, detail, created_at FROM alerts {filter} ORDER BY id DESC LIMIT $2 OFFSET $3"
    );
    let count_sql = format!("SELECT COUNT(*) FROM alerts {filter}");
    with_pool!(db, |pool| async {
        let rows = sqlx::query_as::<_, AlertRow>(&list_sql)
            .bind(owner)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?;
        let total = sqlx::query_scalar::<_, i64>(&count_sql)
            .bind(owner)
            .fetch_one(pool)
            .await?;
        Ok((rows, total))
    }
    .await)
}

/// The ids of everyone who hears of instance-wide alerts.
pub async fn admin_ids(db: &Db) -> Result<Vec<i64>, sqlx::Error> {
    with_pool!(db, |pool| sqlx::query_scalar::<_, i64>(
        "SELECT id FROM users WHERE role IN ('super_admin', 'admin') ORDER BY id"
    )
    .fetch_all(pool)
    .await)
}
