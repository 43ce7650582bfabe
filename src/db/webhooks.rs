//! Webhook endpoints, their deliveries and each delivery's attempts. Every change to an
//! endpoint is written with its audit record; an attempt's record, the delivery's new state
//! and the endpoint's health (failing since, disabled, the owner's notice) are one transaction.

use super::audit::{AuditEntry, write_audit};
use super::jobs::{NewJob, insert_job};
use super::{Db, with_pool};

/// The job kind that sends a delivery (registered in `crate::jobs::handlers`).
pub const DELIVER_JOB_KIND: &str = "webhook.deliver";
/// Tries of a delivery's job: the 8 attempts of the schedule, with room for runs that find
/// nothing to do or hit a database error (delivery itself stops after 8 attempts).
pub const DELIVER_JOB_TRIES: i64 = 12;

/// The job that sends delivery `id`, due at `at_ms`; one queued per delivery.
fn deliver_job(id: i64, at_ms: i64) -> NewJob {
    NewJob::new(
        DELIVER_JOB_KIND,
        serde_json::json!({ "delivery_id": id }),
        at_ms,
    )
    .deduped(format!("{DELIVER_JOB_KIND}:{id}"))
    .attempts(DELIVER_JOB_TRIES)
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct EndpointRow {
    pub id: i64,
    pub user_id: i64,
    pub org_id: Option<i64>,
    pub url: String,
    pub description: String,
    pub event_types: String,
    pub secret_sealed: String,
    pub previous_secret_sealed: Option<String>,
    pub previous_secret_expires_at: Option<i64>,
    pub headers: String,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub failing_since: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

const ENDPOINT_COLUMNS: &str = "id, user_id, org_id, url, description, event_types, secret_sealed, \
     previous_secret_sealed, previous_secret_expires_at, headers, enabled, disabled_reason, \
     failing_since, created_at, updated_at";

/// Inserts `row` (its id is ignored) with the audit record; returns the new id.
pub async fn insert_endpoint(
    db: &Db,
    row: &EndpointRow,
    audit: &AuditEntry<'_>,
) -> Result<i64, sqlx::Error> {
    with_pool!(db, |pool| async {
        let mut tx = pool.begin().await?;
        let id = sqlx::query_scalar::<_, i64>(
            "INSERT INTO webhook_endpoints (user_id, org_id, url, description, event_types, \
             secret_sealed, headers, enabled, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
        )
        .bind(row.user_id)
        .bind(row.org_id)
        .bind(&row.url)
        .bind(&row.description)
        .bind(&row.event_types)
        .bind(&row.secret_sealed)
        .bind(&row.headers)
        .bind(row.enabled)
        .bind(row.created_at)
        .fetch_one(&mut *tx)
        .await?;
        write_audit!(tx, audit, "webhook", id)?;
        tx.commit().await?;
        Ok(id)
    }
    .await)
}

pub async fn get_endpoint(db: &Db, id: i64) -> Result<Option<EndpointRow>, sqlx::Error> {
    let sql = format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1");
    with_pool!(db, |pool| sqlx::query_as::<_, EndpointRow>(&sql)
        .bind(id)
        .fetch_optional(pool)
        .await)
}

/// A page of `user_id`'s endpoints, oldest first, and how many there are.
pub async fn list_endpoints(
    db: &Db,
    user_id: i64,
    limit: i64,
    offset: i64,
) -> Result<(Vec<EndpointRow>, i64), sqlx::Error> {
    let sql = format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE user_id = $1 \
         ORDER BY id LIMIT $2 OFFSET $3"
    );
    with_pool!(db, |pool| async {
        let rows = sqlx::query_as::<_, EndpointRow>(&sql)
            .bind(user_id)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?;
        let total = sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM webhook_endpoints WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_one(pool)
        .await?;
        Ok((rows, total))
    }
    .await)
}

/// The enabled endpoints of `user_id` (for fanning an event out).
pub async fn enabled_endpoints(db: &Db, user_id: i64) -> Result<Vec<EndpointRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE user_id = $1 AND enabled ORDER BY id"
    );
    with_pool!(db, |pool| sqlx::query_as::<_, EndpointRow>(&sql)
        .bind(user_id)
        .fetch_all(pool)
        .await)
}

/// Writes every changeable field of `row` back with the audit record. `Ok(false)` if the
/// endpoint is gone.
pub async fn update_endpoint(
    db: &Db,
    row: &EndpointRow,
    audit: &AuditEntry<'_>,
) -> Result<bool, sqlx::Error> {
    with_pool!(db, |pool| async {
        let mut tx = pool.begin().await?;
        let n = sqlx::query(
            "UPDATE webhook_endpoints SET url = $1, description = $2, event_types = $3, \
             headers = $4, enabled = $5, disabled_reason = $6, failing_since = $7, \
             secret_sealed = $8, previous_secret_sealed = $9, previous_secret_expires_at = $10, \
             updated_at = $11 WHERE id = $12",
        )
        .bind(&row.url)
        .bind(&row.description)
        .bind(&row.event_types)
        .bind(&row.headers)
        .bind(row.enabled)
        .bind(row.disabled_reason.as_deref())
        .bind(row.failing_since)
        .bind(&row.secret_sealed)
        .bind(row.previous_secret_sealed.as_deref())
        .bind(row.previous_secret_expires_at)
        .bind(row.updated_at)
        .bind(row.id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        write_audit!(tx, audit, "webhook", row.id)?;
        tx.commit().await?;
        Ok(true)
    }
    .await)
}

pub async fn delete_endpoint(
    db: &Db,
    id: i64,
    audit: &AuditEntry<'_>,
) -> Result<bool, sqlx::Error> {
    super::audit::delete_audited(db, "webhook_endpoints", "webhook", id, audit).await
}

/// A message to queue for one endpoint.
pub struct NewDelivery<'a> {
    pub endpoint_id: i64,
    pub event_id: Option<i64>,
    pub event_type: &'a str,
    pub payload: &'a str,
    pub now_ms: i64,
}

/// Queues `deliveries` with the job that sends each, skipping any whose (endpoint, event) is
/// queued already, in one transaction; the first attempt is due at once. Returns the new
/// deliveries' ids (wake the job runner after).
pub async fn insert_deliveries(
    db: &Db,
    deliveries: &[NewDelivery<'_>],
) -> Result<Vec<i64>, sqlx::Error> {
    with_pool!(db, |pool| {
        async {
        let mut tx = pool.begin().await?;
        let mut ids = Vec::new();
        for d in deliveries {
            let id = sqlx::query_scalar::<_, i64>(
                "INSERT INTO webhook_deliveries (endpoint_id, event_id, msg_id, event_type, payload, \
                 status, next_attempt_at, created_at, updated_at) \
                 VALUES ($1, $2, '', $3, $4, 'pending', $5, $5, $5) \
                 ON CONFLICT (endpoint_id, event_id) DO NOTHING RETURNING id",
            )
            .bind(d.endpoint_id)
            .bind(d.event_id)
            .bind(d.event_type)
            .bind(d.payload)
            .bind(d.now_ms)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(id) = id else { continue };
            // The message id is the delivery's: stable across retries and redeliveries.
            sqlx::query("UPDATE webhook_deliveries SET msg_id = $1 WHERE id = $2")
                .bind(format!("msg_{id}"))
                .bind(id)
                .execute(&mut *tx)
                .await?;
            insert_job!(tx, &deliver_job(id, d.now_ms))?;
            ids.push(id);
        }
        tx.commit().await?;
        Ok(ids)
    }
    .await
    })
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: i64,
    pub endpoint_id: i64,
    pub event_id: Option<i64>,
    pub msg_id: String,
    pub event_type: String,
    pub payload: String,
    pub attempts: i64,
    pub status: String,
    pub next_attempt_at: Option<i64>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
}

const DELIVERY_COLUMNS: &str = "id, endpoint_id, event_id, msg_id, event_type, payload, attempts, \
     status, next_attempt_at, last_status, last_error, created_at";

pub async fn get_delivery(db: &Db, id: i64) -> Result<Option<DeliveryRow>, sqlx::Error> {
    let sql = format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = $1");
    with_pool!(db, |pool| sqlx::query_as::<_, DeliveryRow>(&sql)
        .bind(id)
        .fetch_optional(pool)
        .await)
}

/// A page of an endpoint's deliveries, newest first, and how many there are.
pub async fn list_deliveries(
    db: &Db,
    endpoint_id: i64,
    limit: i64,
    offset: i64,
) -> Result<(Vec<DeliveryRow>, i64), sqlx::Error> {
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE endpoint_id = $1 \
         ORDER BY id DESC LIMIT $2 OFFSET $3"
    );
    with_pool!(db, |pool| async {
        let rows = sqlx::query_as::<_, DeliveryRow>(&sql)
            .bind(endpoint_id)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?;
        let total = sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM webhook_deliveries WHERE endpoint_id = $1",
        )
        .bind(endpoint_id)
        .fetch_one(pool)
        .await?;
        Ok((rows, total))
    }
    .await)
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct AttemptRow {
    pub id: i64,
    pub delivery_id: i64,
    pub attempt: i64,
    pub request_headers: String,
    pub response_status: Option<i64>,
    pub response_body: String,
    pub error: Option<String>,
    pub duration_ms: i64,
    pub created_at: i64,
}

/// The attempts of the deliveries in `ids`, oldest first.
pub async fn attempts_of(db: &Db, ids: &[i64]) -> Result<Vec<AttemptRow>, sqlx::Error> {
    let mut out = Vec::new();
    // Bounded IN lists: both backends cap bind parameters (a page holds at most 200).
    for chunk in ids.chunks(200) {
        let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT id, delivery_id, attempt, request_headers, response_status, response_body, \
             error, duration_ms, created_at FROM webhook_attempts WHERE delivery_id IN ({}) \
             ORDER BY id",
            marks.join(", ")
        );
        let rows: Vec<AttemptRow> = with_pool!(db, |pool| {
            let mut q = sqlx::query_as::<_, AttemptRow>(&sql);
            for id in chunk {
                q = q.bind(*id);
            }
            q.fetch_all(pool).await
        })?;
        out.extend(rows);
    }
    Ok(out)
}

/// Claims a due delivery for one attempt until `lease_until`: `Ok(None)` if it is not pending,
/// not due, or claimed by another sender. Counts the attempt.
pub async fn claim(
    db: &Db,
    id: i64,
    now_ms: i64,
    lease_until: i64,
) -> Result<Option<DeliveryRow>, sqlx::Error> {
    let sql = format!(
        "UPDATE webhook_deliveries SET claimed_until = $1, attempts = attempts + 1 \
         WHERE id = $2 AND status = 'pending' AND next_attempt_at <= $3 \
         AND (claimed_until IS NULL OR claimed_until <= $3) RETURNING {DELIVERY_COLUMNS}"
    );
    with_pool!(db, |pool| sqlx::query_as::<_, DeliveryRow>(&sql)
        .bind(lease_until)
        .bind(id)
        .bind(now_ms)
        .fetch_optional(pool)
        .await)
}

/// One attempt's record and what follows from it.
pub struct AttemptRecord<'a> {
    pub delivery_id: i64,
    pub endpoint_id: i64,
    pub attempt: i64,
    pub request_headers: &'a str,
    pub response_status: Option<i64>,
    pub response_body: &'a str,
    pub error: Option<&'a str>,
    pub duration_ms: i64,
    pub now_ms: i64,
    /// `pending` (with `next_attempt_at`), `succeeded` or `failed`.
    pub status: &'a str,
    pub next_attempt_at: Option<i64>,
    pub endpoint: EndpointHealth<'a>,
}

/// What an attempt does to its endpoint.
pub enum EndpointHealth<'a> {
    /// Delivered: the endpoint is no longer failing.
    Healthy,
    /// Failed: the endpoint is failing since now, unless it was already.
    Failing,
    /// Turned off (410, or failing for too long), with a notice to its owner.
    Disable {
        reason: &'a str,
        owner: i64,
        title: &'a str,
        body: &'a str,
        link: &'a str,
    },
}

pub async fn record_attempt(db: &Db, r: &AttemptRecord<'_>) -> Result<(), sqlx::Error> {
    with_pool!(db, |pool| {
        async {
        let mut tx = pool.begin().await?;
        sqlx::query(
            "INSERT INTO webhook_attempts (delivery_id, attempt, request_headers, response_status, \
             response_body, error, duration_ms, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(r.delivery_id)
        .bind(r.attempt)
        .bind(r.request_headers)
        .bind(r.response_status)
        .bind(r.response_body)
        .bind(r.error)
        .bind(r.duration_ms)
        .bind(r.now_ms)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE webhook_deliveries SET status = $1, next_attempt_at = $2, claimed_until = NULL, \
             last_attempt_at = $3, last_status = $4, last_error = $5, updated_at = $3 WHERE id = $6",
        )
        .bind(r.status)
        .bind(r.next_attempt_at)
        .bind(r.now_ms)
        .bind(r.response_status)
        .bind(r.error)
        .bind(r.delivery_id)
        .execute(&mut *tx)
        .await?;
        match &r.endpoint {
            EndpointHealth::Healthy => {
                sqlx::query("UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1")
                    .bind(r.endpoint_id)
                    .execute(&mut *tx)
                    .await?;
            }
            EndpointHealth::Failing => {
                sqlx::query(
                    "UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, $1) \
                     WHERE id = $2",
                )
                .bind(r.now_ms)
                .bind(r.endpoint_id)
                .execute(&mut *tx)
                .await?;
            }
            EndpointHealth::Disable {
                reason,
                owner,
                title,
                body,
                link,
            } => {
                let n = sqlx::query(
                    "UPDATE webhook_endpoints SET enabled = FALSE, disabled_reason = $1, \
                     failing_since = COALESCE(failing_since, $2), updated_at = $2 \
                     WHERE id = $3 AND enabled",
                )
                .bind(*reason)
                .bind(r.now_ms)
                .bind(r.endpoint_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                // Only the attempt that turned it off tells the owner.
                if n == 1 {
                    sqlx::query(
                        "INSERT INTO notifications (user_id, kind, title, body, link, created_at) \
                         VALUES ($1, 'webhook.disabled', $2, $3, $4, $5)",
                    )
                    .bind(*owner)
                    .bind(*title)
                    .bind(*body)
                    .bind(*link)
                    .bind(r.now_ms)
                    .execute(&mut *tx)
                    .await?;
                    let audit = AuditEntry {
                        actor_user_id: None,
                        action: "webhook.auto_disabled",
                        old_values: None,
                        new_values: Some(serde_json::json!({ "disabled_reason": reason }).to_string()),
                        ip: "",
                        user_agent: "",
                        now_ms: r.now_ms,
                        event: None,
                    };
                    write_audit!(tx, audit, "webhook", r.endpoint_id)?;
                }
            }
        }
        tx.commit().await?;
        Ok(())
    }
    .await
    })
}

/// Gives up a claimed delivery without an attempt (its endpoint is disabled or gone).
pub async fn abandon(db: &Db, id: i64, now_ms: i64, error: &str) -> Result<(), sqlx::Error> {
    with_pool!(db, |pool| {
        sqlx::query(
        "UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL, \
         claimed_until = NULL, attempts = attempts - 1, last_error = $1, updated_at = $2 WHERE id = $3"
    )
    .bind(error)
    .bind(now_ms)
    .bind(id)
    .execute(pool)
    .await
    .map(|_| ())
    })
}

/// Queues a delivery again with a fresh retry budget (a redelivery) and the job that sends
/// it, with the audit record. `Ok(false)` if it is gone or an attempt is in flight.
pub async fn redeliver(
    db: &Db,
    id: i64,
    now_ms: i64,
    audit: &AuditEntry<'_>,
) -> Result<bool, sqlx::Error> {
    with_pool!(db, |pool| async {
        let mut tx = pool.begin().await?;
        let n = sqlx::query(
            "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = $1, \
             claimed_until = NULL, updated_at = $1 \
             WHERE id = $2 AND (claimed_until IS NULL OR claimed_until <= $1)",
        )
        .bind(now_ms)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        insert_job!(tx, &deliver_job(id, now_ms))?;
        write_audit!(tx, audit, "webhook_delivery", id)?;
        tx.commit().await?;
        Ok(true)
    }
    .await)
}

/// The number of attempts recorded for a delivery (the next attempt's number is one more).
pub async fn attempt_total(db: &Db, delivery_id: i64) -> Result<i64, sqlx::Error> {
    with_pool!(db, |pool| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM webhook_attempts WHERE delivery_id = $1"
    )
    .bind(delivery_id)
    .fetch_one(pool)
    .await)
}
