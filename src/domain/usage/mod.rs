//! Usage events: one per verification or gateway request, queued in memory by a
//! [`UsageRecorder`] and written to `usage_events` in batches by its writer task; raw events
//! are purged after the retention setting.

mod recorder;
#[cfg(test)]
mod tests;

pub use recorder::{UsageRecorder, UsageSettings, UsageStats, UsageWriter};

use crate::db::{self, Db};

/// Which edge saw the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UsageSource {
    Verify,
    Gateway,
}

impl UsageSource {
    /// The stored spelling (`usage_events.source`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Verify => "verify",
            Self::Gateway => "gateway",
        }
    }
}

/// One request as usage reporting sees it. Built on the hot path, so it holds owned strings
/// and nothing that needs cleaning up front: [`sanitize`] runs on the writer task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageEvent {
    /// When the request arrived, epoch milliseconds.
    pub at_ms: i64,
    pub key_id: Option<i64>,
    pub owner_user_id: Option<i64>,
    pub api_id: Option<i64>,
    pub source: UsageSource,
    /// E.g. `GET /tickets`; truncated to [`ENDPOINT_MAX_BYTES`] when stored.
    pub endpoint: String,
    /// The outcome code, e.g. `VALID` or `RATE_LIMIT_EXCEEDED`.
    pub code: &'static str,
    pub status: u16,
    pub latency_us: i64,
    pub request_bytes: i64,
    pub response_bytes: i64,
    pub ip: String,
    /// Truncated to [`USER_AGENT_MAX_BYTES`] when stored.
    pub user_agent: String,
}

pub const ENDPOINT_MAX_BYTES: usize = 256;
pub const USER_AGENT_MAX_BYTES: usize = 512;
/// An IPv6 address with a zone fits in 64 bytes; anything longer is not an address.
pub const IP_MAX_BYTES: usize = 64;

/// Makes the client-supplied strings storable on both backends: PostgreSQL rejects NUL in
/// TEXT, so NULs become U+FFFD; long values are cut at a character boundary so one chatty
/// client cannot bloat the table.
pub fn sanitize(event: &mut UsageEvent) {
    clean_text(&mut event.endpoint, ENDPOINT_MAX_BYTES);
    clean_text(&mut event.ip, IP_MAX_BYTES);
    clean_text(&mut event.user_agent, USER_AGENT_MAX_BYTES);
}

fn clean_text(text: &mut String, max_bytes: usize) {
    if text.contains('\0') {
        *text = text.replace('\0', "\u{FFFD}");
    }
    if text.len() > max_bytes {
        let end = text.floor_char_boundary(max_bytes);
        text.truncate(end);
    }
}

const DAY_MS: i64 = 24 * 3600 * 1000;
/// Rows per DELETE: short write transactions, so the usage writer is never held up for long.
const PURGE_CHUNK: i64 = 10_000;

/// Deletes raw usage events older than `retention_days` before `now_ms`, a chunk at a time;
/// returns how many went.
pub async fn purge_older_than(
    db: &Db,
    now_ms: i64,
    retention_days: u32,
) -> Result<u64, sqlx::Error> {
    let cutoff = now_ms.saturating_sub(i64::from(retention_days) * DAY_MS);
    let mut total = 0;
    loop {
        let deleted = db::usage::delete_before(db, cutoff, PURGE_CHUNK).await?;
        total += deleted;
        if deleted < PURGE_CHUNK as u64 {
            return Ok(total);
        }
    }
}
