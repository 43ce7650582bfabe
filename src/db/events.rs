//! Domain events: written in the transaction of the change they report, each with the
//! `event.dispatch` job that fans it out (so an event is never lost, and never sent without
//! its change).

use super::jobs::NewJob;
use super::{Db, with_pool};

/// The job kind that fans an event out to its recipients.
pub const DISPATCH_KIND: &str = "event.dispatch";
/// Tries of a dispatch (its backoff caps at an hour, so about half a day in all).
pub const DISPATCH_ATTEMPTS: i64 = 12;

#[derive(Clone, Debug, PartialEq)]
pub struct NewEvent {
    pub kind: &'static str,
    /// Whom it concerns (the recipient of notices); None for broadcasts.
    pub user_id: Option<i64>,
    pub org_id: Option<i64>,
    /// What it is about (`api_key`, `user`, …) and its id.
    pub subject_type: &'static str,
    pub subject_id: Option<i64>,
    pub data: serde_json::Value,
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct EventRow {
    pub id: i64,
    pub kind: String,
    pub user_id: Option<i64>,
    pub org_id: Option<i64>,
    pub subject_type: String,
    pub subject_id: Option<i64>,
    /// JSON.
    pub data: String,
    pub created_at: i64,
}

pub(crate) const INSERT_SQL: &str =
    "INSERT INTO events (kind, user_id, org_id, subject_type, subject_id, data, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";

/// The dispatch job of event `event_id`, due at `now_ms`.
pub fn dispatch_job(event_id: i64, now_ms: i64) -> NewJob {
    NewJob {
        kind: DISPATCH_KIND,
        payload: serde_json::json!({ "event_id": event_id }).to_string(),
        run_at: now_ms,
        dedupe_key: Some(format!("event:{event_id}")),
        max_attempts: DISPATCH_ATTEMPTS,
        now_ms,
    }
}

/// Writes `$event` (a [`NewEvent`]) and its dispatch job inside the transaction `$tx`; the
/// subject id falls back to `$subject_id` when the event names none. Evaluates to
/// `Result<i64, sqlx::Error>` (the event's id).
macro_rules! write_event {
    ($tx:expr, $event:expr, $subject_id:expr, $now_ms:expr) => {
        async {
            let event: &$crate::db::events::NewEvent = $event;
            let subject: Option<i64> = event.subject_id.or($subject_id);
            let id = sqlx::query_scalar::<_, i64>($crate::db::events::INSERT_SQL)
                .bind(event.kind)
                .bind(event.user_id)
                .bind(event.org_id)
                .bind(event.subject_type)
                .bind(subject)
                .bind(event.data.to_string())
                .bind($now_ms)
                .fetch_one(&mut *$tx)
                .await?;
            let job = $crate::db::events::dispatch_job(id, $now_ms);
            $crate::db::jobs::insert_job!($tx, &job)?;
            Ok::<i64, sqlx::Error>(id)
        }
    };
}
pub(crate) use write_event;

pub async fn insert(db: &Db, event: &NewEvent, now_ms: i64) -> Result<i64, sqlx::Error> {
    with_pool!(db, |pool| async {
        let mut tx = pool.begin().await?;
        let id = write_event!(tx, event, None, now_ms).await?;
        tx.commit().await?;
        Ok(id)
    }
    .await)
}

/// Writes `event` only if the marker statement (an `INSERT … ON CONFLICT DO NOTHING` of
/// integer parameters) inserts its row, in the same transaction: the marker makes a notice
/// idempotent across runs and instances. `Ok(None)` when the marker was there already.
pub async fn insert_once(
    db: &Db,
    marker_sql: &str,
    marker_params: &[i64],
    event: &NewEvent,
    now_ms: i64,
) -> Result<Option<i64>, sqlx::Error> {
    with_pool!(db, |pool| async {
        let mut tx = pool.begin().await?;
        let mut marker = sqlx::query(marker_sql);
        for p in marker_params {
            marker = marker.bind(*p);
        }
        if marker.execute(&mut *tx).await?.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(None);
        }
        let id = write_event!(tx, event, None, now_ms).await?;
        tx.commit().await?;
        Ok(Some(id))
    }
    .await)
}

pub async fn find(db: &Db, id: i64) -> Result<Option<EventRow>, sqlx::Error> {
    with_pool!(db, |pool| {
        sqlx::query_as::<_, EventRow>(
        "SELECT id, kind, user_id, org_id, subject_type, subject_id, data, created_at FROM events WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(pool)
    .await
    })
}

pub async fn delete_before(db: &Db, before_ms: i64) -> Result<u64, sqlx::Error> {
    super::execute_ints(db, "DELETE FROM events WHERE created_at < $1", &[before_ms]).await
}

/// An in-portal notification born of an event.
pub struct EventNotification<'a> {
    pub event_id: i64,
    pub user_id: i64,
    pub kind: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    pub link: &'a str,
    pub now_ms: i64,
}

/// Inserts the notification unless this event already gave this user one; `Ok(true)` when
/// it was new.
pub async fn insert_notification(db: &Db, n: &EventNotification<'_>) -> Result<bool, sqlx::Error> {
    with_pool!(db, |pool| sqlx::query(
        "INSERT INTO notifications (user_id, kind, title, body, link, created_at, event_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (event_id, user_id) WHERE event_id IS NOT NULL DO NOTHING"
    )
    .bind(n.user_id)
    .bind(n.kind)
    .bind(n.title)
    .bind(n.body)
    .bind(n.link)
    .bind(n.now_ms)
    .bind(n.event_id)
    .execute(pool)
    .await
    .map(|r| r.rows_affected() == 1))
}

/// Ids of active users (for broadcasts), optionally of one role, after `after_id`, in id order.
pub async fn recipients_page(
    db: &Db,
    role: Option<&str>,
    after_id: i64,
    limit: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    with_pool!(db, |pool| sqlx::query_scalar::<_, i64>(
        "SELECT id FROM users WHERE id > $1 AND ($2 IS NULL OR role = $2) ORDER BY id LIMIT $3"
    )
    .bind(after_id)
    .bind(role)
    .bind(limit)
    .fetch_all(pool)
    .await)
}
