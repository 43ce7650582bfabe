//! The mail outbox: messages waiting to go out, claimed with a lease so that of several
//! instances exactly one delivers each, and retried until sent or given up.

use super::{Db, with_pool};

pub struct NewMail<'a> {
    pub kind: &'a str,
    pub user_id: Option<i64>,
    pub recipient: &'a str,
    pub recipient_name: &'a str,
    pub subject: &'a str,
    pub body_sealed: &'a str,
    pub now_ms: i64,
    /// At most one message per key is ever queued (None: no such limit).
    pub dedupe_key: Option<&'a str>,
}

/// Queues a message, due at once; returns its id, or `None` when a message with the same
/// dedupe key was queued before (nothing is queued then).
pub async fn insert(db: &Db, new: &NewMail<'_>) -> Result<Option<i64>, sqlx::Error> {
    const SQL: &str =
        "INSERT INTO mail_outbox (kind, user_id, recipient, recipient_name, subject, body_sealed,
                                               created_at, next_attempt_at, dedupe_key)
                       VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)
                       ON CONFLICT (dedupe_key) DO NOTHING RETURNING id";
    with_pool!(db, |pool| {
        sqlx::query_scalar::<_, i64>(SQL)
            .bind(new.kind)
            .bind(new.user_id)
            .bind(new.recipient)
            .bind(new.recipient_name)
            .bind(new.subject)
            .bind(new.body_sealed)
            .bind(new.now_ms)
            .bind(new.dedupe_key)
            .fetch_optional(pool)
            .await
    })
}

/// A message claimed for one delivery attempt (`attempts` counts this one).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ClaimedMail {
    pub id: i64,
    pub kind: String,
    pub recipient: String,
    pub recipient_name: String,
    pub subject: String,
    pub body_sealed: String,
    pub created_at: i64,
    pub attempts: i64,
    pub claimed_until: i64,
}

/// Claims up to `limit` due messages until `lease_until_ms`, counting the attempt. The
/// condition is checked again on each row as it is updated (PostgreSQL re-reads a row another
/// transaction changed; SQLite writes one at a time), so two instances never claim the same
/// message while its lease runs.
pub async fn claim_due(
    db: &Db,
    now_ms: i64,
    lease_until_ms: i64,
    limit: i64,
) -> Result<Vec<ClaimedMail>, sqlx::Error> {
    const SQL: &str = "UPDATE mail_outbox SET claimed_until = $2, attempts = attempts + 1
                       WHERE id IN (SELECT id FROM mail_outbox
                                    WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $1
                                      AND (claimed_until IS NULL OR claimed_until <= $1)
                                    ORDER BY next_attempt_at, id LIMIT $3)
                         AND sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $1
                         AND (claimed_until IS NULL OR claimed_until <= $1)
                       RETURNING id, kind, recipient, recipient_name, subject, body_sealed, created_at,
                                 attempts, claimed_until";
    let mut rows = with_pool!(db, |pool| {
        sqlx::query_as::<_, ClaimedMail>(SQL)
            .bind(now_ms)
            .bind(lease_until_ms)
            .bind(limit)
            .fetch_all(pool)
            .await
    })?;
    rows.sort_by_key(|r| r.id);
    Ok(rows)
}

/// Records the outcome of a claimed attempt: `$1` a time, `$2` the error (or NULL); only while
/// the claim's lease is still this one's. `false` when it was lost to another instance.
async fn settle(
    db: &Db,
    claim: &ClaimedMail,
    sql: &str,
    at_ms: i64,
    error: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let n = with_pool!(db, |pool| {
        sqlx::query(sql)
            .bind(at_ms)
            .bind(error)
            .bind(claim.id)
            .bind(claim.claimed_until)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

/// Marks a claimed message sent and clears its body (it may hold a one-time link).
pub async fn mark_sent(db: &Db, claim: &ClaimedMail, now_ms: i64) -> Result<bool, sqlx::Error> {
    const SQL: &str = "UPDATE mail_outbox SET sent_at = $1, claimed_until = NULL, last_error = $2, body_sealed = ''
                       WHERE id = $3 AND claimed_until = $4";
    settle(db, claim, SQL, now_ms, None).await
}

/// A failed attempt: due again at `next_attempt_ms`.
pub async fn mark_retry(
    db: &Db,
    claim: &ClaimedMail,
    next_attempt_ms: i64,
    error: &str,
) -> Result<bool, sqlx::Error> {
    const SQL: &str =
        "UPDATE mail_outbox SET next_attempt_at = $1, claimed_until = NULL, last_error = $2
                       WHERE id = $3 AND claimed_until = $4";
    settle(db, claim, SQL, next_attempt_ms, Some(error)).await
}

/// Gives the message up for good; its body is cleared.
pub async fn mark_failed(
    db: &Db,
    claim: &ClaimedMail,
    now_ms: i64,
    error: &str,
) -> Result<bool, sqlx::Error> {
    const SQL: &str = "UPDATE mail_outbox SET failed_at = $1, claimed_until = NULL, last_error = $2, body_sealed = ''
                       WHERE id = $3 AND claimed_until = $4";
    settle(db, claim, SQL, now_ms, Some(error)).await
}

/// A message's delivery state, for tests and the admin views to come.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct MailState {
    pub id: i64,
    pub kind: String,
    pub user_id: Option<i64>,
    pub recipient: String,
    pub subject: String,
    pub created_at: i64,
    pub next_attempt_at: i64,
    pub attempts: i64,
    pub claimed_until: Option<i64>,
    pub sent_at: Option<i64>,
    pub failed_at: Option<i64>,
    pub last_error: Option<String>,
}

const STATE_COLUMNS: &str =
    "id, kind, user_id, recipient, subject, created_at, next_attempt_at, attempts,
                             claimed_until, sent_at, failed_at, last_error";

pub async fn get(db: &Db, id: i64) -> Result<Option<MailState>, sqlx::Error> {
    let sql = format!("SELECT {STATE_COLUMNS} FROM mail_outbox WHERE id = $1");
    with_pool!(db, |pool| {
        sqlx::query_as::<_, MailState>(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await
    })
}

/// Every message to `recipient`, oldest first.
pub async fn list_for_recipient(db: &Db, recipient: &str) -> Result<Vec<MailState>, sqlx::Error> {
    let sql = format!("SELECT {STATE_COLUMNS} FROM mail_outbox WHERE recipient = $1 ORDER BY id");
    with_pool!(db, |pool| {
        sqlx::query_as::<_, MailState>(&sql)
            .bind(recipient)
            .fetch_all(pool)
            .await
    })
}

/// Forgets messages sent or given up before `before_ms`.
pub async fn delete_finished_before(db: &Db, before_ms: i64) -> Result<u64, sqlx::Error> {
    with_pool!(db, |pool| {
        sqlx::query("DELETE FROM mail_outbox WHERE sent_at < $1 OR failed_at < $1")
            .bind(before_ms)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })
}
